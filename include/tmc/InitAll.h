//===- InitAll.h - Register everything TMC's tools know ---------*- C++ -*-===//
//
// This file declares the one place where TMC's tools and embedders register
// the upstream dialects, extensions, passes and translations together with
// TMC's own.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_INITALL_H
#define TMC_INITALL_H

namespace mlir {
class DialectRegistry;

namespace tmc {

/// Adds every upstream dialect and extension, the LLVM IR translations and
/// the tfm dialect to `registry`.
void registerAllDialects(DialectRegistry &registry);

/// Registers every upstream pass and TMC's passes and pipelines with the
/// global pass registry (for command-line tools).
void registerAllPasses();

} // namespace tmc
} // namespace mlir

#endif // TMC_INITALL_H
