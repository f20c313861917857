//===- Plugins.h - Shared code of TMC's mlir-opt plugins --------*- C++ -*-===//
//
// This file declares what the pass plugin calls in the dialect plugin, which
// holds TMC's compiler code.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_PLUGINS_PLUGINS_H
#define TMC_LIB_PLUGINS_PLUGINS_H

namespace mlir {
namespace tmc {

/// Registers TMC's passes (`tfm-…`, `tmc-…`) and the `tmc-cpu-pipeline`
/// pipeline with the global registry, without the upstream passes that the
/// host tool already registered. Idempotent.
void registerPluginPasses();

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_PLUGINS_PLUGINS_H
