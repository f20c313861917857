//===- Evaluator.h - Reference evaluator of tfm models ----------*- C++ -*-===//
//
// This file declares TMC's reference evaluator: a direct, unoptimized
// evaluation of a tfm model's forward function in fp32 (double accumulation),
// used at compile time by transforms that need activations (calibration of
// tfm-low-rank) and for their error reports.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_ANALYSIS_EVALUATOR_H
#define TMC_DIALECT_TFM_ANALYSIS_EVALUATOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <vector>

namespace mlir {
namespace tfm {
class LinearOp;
class ParamValues;

/// A dense row-major fp32 tensor of the evaluator.
struct EvalTensor {
  SmallVector<int64_t> shape;
  std::vector<float> data;
  /// Token ids (integer tensors) are held here instead of `data`.
  std::vector<int64_t> ids;
  int64_t getNumElements() const;
};

/// Called with each tfm.linear op and its input (flattened to
/// [tokens, in_features]) as the evaluator meets them.
using LinearInputCallback =
    llvm::function_ref<void(LinearOp op, const EvalTensor &input)>;

/// Evaluates `func` (a tfm model's forward function: one int64 `[1, S]`
/// token-id argument) on `ids`, reading parameters through `params`, and
/// returns its results. Calls `onLinearInput` for each tfm.linear. Fails
/// with a diagnostic on an op it does not evaluate (quantized or sparse
/// linear layers, sparse attention patterns) or on a shape it cannot
/// resolve.
FailureOr<SmallVector<EvalTensor>>
evaluateForward(func::FuncOp func, ArrayRef<int64_t> ids, ParamValues &params,
                LinearInputCallback onLinearInput = nullptr);

/// The calibration token ids of a transform: the int64 `[1, S]` array
/// (S >= 1) of the .npy file `path`, or, when `path` is empty, `tokens`
/// random ids below `vocab` drawn with `seed`. Diagnostics go to `where`
/// and name the transform `pass`.
FailureOr<std::vector<int64_t>> readCalibrationIds(Operation *where,
                                                   StringRef pass,
                                                   StringRef path,
                                                   int64_t tokens, int64_t seed,
                                                   int64_t vocab);

} // namespace tfm
} // namespace mlir

#endif // TMC_DIALECT_TFM_ANALYSIS_EVALUATOR_H
