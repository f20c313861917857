//===- Passes.h - tfm-level transformation passes ---------------*- C++ -*-===//
//
// This file declares the passes that work on the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_TRANSFORMS_PASSES_H
#define TMC_DIALECT_TFM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tfm {

#define GEN_PASS_DECL
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"

class QuantSchemeAttr;

/// The discardable attribute that records an op's transformer layer
/// (tfm-inline-layers{tag}), kept on backward and recomputed ops.
constexpr llvm::StringLiteral kLayerIndexAttrName = "tfm.layer_index";

/// Appends a record of what a transform did (`fields`, which name the pass)
/// to the module's `tmc.transforms` array, which the memory report lists.
void appendTransformRecord(ModuleOp module, ArrayRef<NamedAttribute> fields);
class PruneSchemeAttr;

/// The number of weights magnitude pruning under `prune` keeps in a row of
/// `k` (the packer and tfm-prune agree through this function).
int64_t keptPerRow(PruneSchemeAttr prune, int64_t k);

/// Parses a quantization scheme spec of tfm-quantize (`int8`,
/// `int4:g64:asym:f16`, ...). Returns a null attribute for `none`; fails
/// with `error` set otherwise.
FailureOr<QuantSchemeAttr> parseQuantScheme(MLIRContext *ctx, StringRef spec,
                                            std::string &error);

/// Gives every dynamic dimension of `func`'s arguments the size `seqLen`,
/// re-infers the result types of its ops (and of `tfm.layer` bodies) and
/// verifies the function (tfm-set-seq-len on one function).
LogicalResult setStaticSequenceLength(func::FuncOp func, int64_t seqLen);

#define GEN_PASS_REGISTRATION
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"

} // namespace tfm
} // namespace mlir

#endif // TMC_DIALECT_TFM_TRANSFORMS_PASSES_H
