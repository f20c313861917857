//===- Rotary.h - The value of a rotary position embedding -------*- C++ -*-===//
//
// This file declares how one element of `tfm.rope` is computed, shared by
// its linalg lowering and by the GPU attention kernels that rotate their
// queries and keys as they load them.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_ROTARY_H
#define TMC_DIALECT_TFM_IR_ROTARY_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace tfm {

/// The parameters of a rotation: those of `tfm.rope`.
struct Rotary {
  int64_t headDim;
  double theta;
  int64_t offset = 0;
  bool inverse = false;

  /// The rotation that a fused attention op (`tfm.fused_attention`,
  /// `tfm.fused_cached_attention`) with `rope_query` or `rope_key` applies
  /// to those operands.
  template <typename FusedAttentionOp>
  static Rotary ofFolded(FusedAttentionOp op) {
    return {op.getHeadDim(), op.getRopeTheta()->convertToDouble(),
            static_cast<int64_t>(op.getRopeOffset())};
  }

  /// Builds `tfm.rope`'s value at feature `feature` (an index; the
  /// feature within the head is `feature % headDim`) of the row at sequence
  /// index `seq` (an index; its position is `seq + offset`, plus `start`
  /// if given, an i64), where the input is `x`; `loadAt(partner)` loads the
  /// input at the partner feature of the same row (`feature + headDim / 2`
  /// in the first half of the head, `feature - headDim / 2` in the second).
  /// The angle is computed in f32 as Hugging Face does:
  /// `(seq + offset) * exp2(-(2 j / headDim) * log2(theta))`.
  Value buildElement(OpBuilder &b, Location loc, Value feature, Value seq,
                     Value start, Value x,
                     function_ref<Value(Value)> loadAt) const;

  /// Builds the rotation of one head's values `x` (`headDim` f32 values)
  /// at position `position` (an index, offset not yet added): the same
  /// values as `buildElement` gives, one angle per pair.
  SmallVector<Value> buildHead(OpBuilder &b, Location loc, ValueRange x,
                               Value position) const;

private:
  /// The cosine and sine of pair `j`'s angle (j an index) at the position
  /// `position()` builds (an index, offset added), sine negated when
  /// `inverse`.
  std::pair<Value, Value> buildCosSin(OpBuilder &b, Location loc, Value j,
                                      function_ref<Value()> position) const;

  /// x * cos + partner * sin, `partner` negated in the first half.
  static Value combine(OpBuilder &b, Location loc, Value x, Value partner,
                       Value isLow, Value cos, Value sin);
};

} // namespace tfm
} // namespace mlir

#endif // TMC_DIALECT_TFM_IR_ROTARY_H
