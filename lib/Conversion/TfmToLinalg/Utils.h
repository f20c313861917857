//===- Utils.h - Helpers shared by the tfm lowerings ------------*- C++ -*-===//
//
// This file declares small builders shared by the tfm-to-linalg patterns.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_CONVERSION_TFMTOLINALG_UTILS_H
#define TMC_LIB_CONVERSION_TFMTOLINALG_UTILS_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tmc {

/// Builds the body of a linalg.generic from its block arguments.
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A `tensor.empty` of `type`.
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type);

/// A tensor of `type` filled with the float `value`.
Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   double value);

/// The map from the loops of a rank-`rank` iteration space to its last
/// dimension (a per-feature vector) or to all but the last (a per-row
/// value).
AffineMap lastDimMap(MLIRContext *ctx, unsigned rank);
AffineMap leadingDimsMap(MLIRContext *ctx, unsigned rank);

/// A linalg.generic over the iteration space of `init` (all dimensions
/// parallel, `init` indexed by the identity) reading `inputs` through
/// `inputMaps`; returns its result.
Value buildParallel(OpBuilder &b, Location loc, ValueRange inputs,
                    ArrayRef<AffineMap> inputMaps, Value init, BodyFn body);

/// Reduces `input` (rank r) over its last dimension into `init` (rank r - 1)
/// with `combine(element, accumulator)`; `inputs` beyond the first are read
/// through `extraMaps` and passed to `combine` after the accumulator.
Value buildLastDimReduction(OpBuilder &b, Location loc, Value input,
                            ValueRange extra, ArrayRef<AffineMap> extraMaps,
                            Value init, BodyFn combine);

/// The map (b, s, d) -> (b, s) through which a lookup reads its ids.
AffineMap idsMap(MLIRContext *ctx);

/// `id` as an index clamped to [0, rows): a lookup never reads outside its
/// table (the runtime validates ids before the call).
Value clampedRow(OpBuilder &b, Location loc, Value id, int64_t rows);

/// Fails the match unless every operand and result of `op` is a statically
/// shaped tensor of f32 (integer id tensors excepted).
LogicalResult checkStaticF32(PatternRewriter &rewriter, Operation *op);

/// Builds `acc + lhs * rhs` as a linalg.matmul where `rhs` is [K, N], or
/// [N, K] when `transposeB` (read through a transposed indexing map, never
/// copied).
Value buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc,
                  bool transposeB);

/// Applies the activation `kind` to the scalar `x` (formulas in TfmOps.td).
Value buildActivation(OpBuilder &b, Location loc, tfm::ActivationKind kind,
                      Value x);

/// The fully dynamic strided 2-D f32 memref type the runtime kernels take.
MemRefType stridedF32MemRef(MLIRContext *ctx);

/// The private declaration of the runtime kernel `name` (with its C
/// interface) in `op`'s module, created on first use.
func::FuncOp getOrDeclareKernel(OpBuilder &b, Operation *op, StringRef name,
                                TypeRange inputs);

/// A rank-3 [batch, seq, features] tensor as a read-only [batch * seq,
/// features] buffer of stridedF32MemRef's type, for a kernel call.
Value asKernelOperand(OpBuilder &b, Location loc, Value tensor);

/// `tensor` as a read-only buffer of its shape with a fully dynamic strided
/// layout (an operand of the buffer forms of attention).
Value asReadOnlyBuffer(OpBuilder &b, Location loc, Value tensor);

/// The tensor of `buffer`, a fresh allocation that a runtime call or a
/// buffer op has just written: restrict and writable, so that
/// bufferization takes the buffer itself.
Value asWrittenTensor(OpBuilder &b, Location loc, Value buffer);

/// An f32 constant.
Value f32Const(OpBuilder &b, Location loc, double value);

/// Dequantizes one packed weight: `packed` is the byte (or int8, f16, bf16
/// value) holding the weight in column `column` of its row, `scale` and
/// `zero` (null when the scheme has none) its group's scale and zero-point.
/// The exact semantics of tfm.quantized_linear's weights (Rationale.md),
/// shared by the quantized matmul and embedding lowerings.
Value buildDequantizedWeight(OpBuilder &b, Location loc,
                             tfm::QuantSchemeAttr quant, Value packed,
                             Value scale, Value zero, Value column);

/// The rotations of an attention's queries and keys that its fused form
/// applies as it loads them (`tfm.fused_attention` and
/// `tfm.fused_cached_attention`'s `rope_query`/`rope_key`, `rope_theta`,
/// `rope_offset`): a `tfm.rope` that only the attention reads, as its
/// query or key, over heads of the attention's size, not `inverse`, whose
/// run-time start is the attention's (none for `tfm.attention`); when both
/// are rotated, by the same theta and offset (else neither is taken in).
struct FoldedRopes {
  tfm::RotaryOp query, key;
  /// What the fused op reads as its query and key: the rotations' inputs
  /// where they are folded, else the operands themselves.
  Value queryInput, keyInput;

  static FoldedRopes of(Value query, Value key, int64_t headDim, Value start);

  /// Sets the rotation attributes on `fused`, the attention's buffer form
  /// (`tfm.fused_attention` or `tfm.fused_cached_attention`).
  template <typename FusedOp> void setOn(FusedOp fused) const {
    tfm::RotaryOp rope = query ? query : key;
    if (!rope)
      return;
    fused.setRopeQuery(static_cast<bool>(query));
    fused.setRopeKey(static_cast<bool>(key));
    fused.setRopeThetaAttr(rope.getThetaAttr());
    fused.setRopeOffsetAttr(rope.getOffsetAttr());
  }

  /// Erases the rotations, read by nothing now.
  void erase(RewriterBase &rewriter) const;
};

/// The per-head size of an attention (`tfm.attention` or
/// `tfm.cached_attention`).
int64_t headDimOf(Operation *attention);

/// Whether the fused lowering of the attention that reads `rope` rotates
/// that operand itself (FoldedRopes), so that `rope` is erased rather than
/// lowered: with `fusedAttention` for `tfm.attention`, with
/// `fusedCachedAttention` for `tfm.cached_attention`.
bool isRopeFoldedIntoFusedAttention(tfm::RotaryOp rope, bool fusedAttention,
                                    bool fusedCachedAttention);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_CONVERSION_TFMTOLINALG_UTILS_H
