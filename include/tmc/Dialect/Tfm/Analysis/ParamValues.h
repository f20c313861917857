//===- ParamValues.h - Read the data of tfm parameters ----------*- C++ -*-===//
//
// This file declares ParamValues, which reads the fp32 data of tfm.param ops
// at compile time, whether inline or in the module's safetensors file, for
// the transforms that look at weights (tfm-low-rank) and for the reference
// evaluator.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_ANALYSIS_PARAMVALUES_H
#define TMC_DIALECT_TFM_ANALYSIS_PARAMVALUES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace tmc {
class SafeTensorsCheckpoint;
} // namespace tmc

namespace tfm {
class ParamOp;

/// Reads the fp32 values of a module's parameters: an inline value
/// (`dense_resource` blob or dense attribute) or the tensor of the same name
/// in the safetensors file that the module's `tfm.weights_file` names
/// (resolved against `baseDir` when relative). Values are cached by name.
class ParamValues {
public:
  ParamValues(ModuleOp module, StringRef baseDir);
  ~ParamValues();

  /// Returns the row-major values of `param` in its own shape, or fails with
  /// a diagnostic at `param` (not f32, missing data, shape mismatch).
  FailureOr<ArrayRef<float>> read(ParamOp param);

  /// Makes `read` return `values` for the parameter `name` (row-major, in
  /// its own shape) instead of its data, e.g. to evaluate a model on
  /// transformed weights.
  void set(StringRef name, std::vector<float> values) {
    cache[name] = std::move(values);
  }

  /// Forgets the cached values of `name`.
  void drop(StringRef name) { cache.erase(name); }

  /// Forgets every cached value.
  void clear() { cache.clear(); }

private:
  LogicalResult openCheckpoint(Operation *at);

  ModuleOp module;
  std::string baseDir;
  std::unique_ptr<tmc::SafeTensorsCheckpoint> checkpoint;
  llvm::StringMap<std::vector<float>> cache;
};

} // namespace tfm
} // namespace mlir

#endif // TMC_DIALECT_TFM_ANALYSIS_PARAMVALUES_H
