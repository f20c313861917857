//===- Rotary.cpp - The value of a rotary position embedding ---------------===//

#include "tmc/Dialect/Tfm/IR/Rotary.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfm;

std::pair<Value, Value>
Rotary::buildCosSin(OpBuilder &b, Location loc, Value j,
                    function_ref<Value()> position) const {
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  // inv_freq[j] = theta^(-2j / head_dim), computed in f32 as Hugging Face
  // does: exp2(-(2j / head_dim) * log2(theta)).
  Value jf = arith::UIToFPOp::create(
      b, loc, f32, arith::IndexCastUIOp::create(b, loc, i64, j));
  Value exponent = arith::MulFOp::create(
      b, loc, jf,
      arith::ConstantOp::create(
          b, loc,
          b.getF32FloatAttr(-2.0 * std::log2(theta) /
                            static_cast<double>(headDim))));
  Value invFreq = math::Exp2Op::create(b, loc, exponent);
  Value posF = arith::UIToFPOp::create(
      b, loc, f32, arith::IndexCastUIOp::create(b, loc, i64, position()));
  Value angle = arith::MulFOp::create(b, loc, posF, invFreq);
  Value cos = math::CosOp::create(b, loc, angle);
  Value sin = math::SinOp::create(b, loc, angle);
  if (inverse)
    sin = arith::NegFOp::create(b, loc, sin);
  return {cos, sin};
}

Value Rotary::combine(OpBuilder &b, Location loc, Value x, Value partner,
                      Value isLow, Value cos, Value sin) {
  Value rotated = arith::SelectOp::create(
      b, loc, isLow, arith::NegFOp::create(b, loc, partner), partner);
  return arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, x, cos),
                               arith::MulFOp::create(b, loc, rotated, sin));
}

Value Rotary::buildElement(OpBuilder &b, Location loc, Value feature,
                           Value seq, Value start, Value x,
                           function_ref<Value(Value)> loadAt) const {
  int64_t half = headDim / 2;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value i = arith::RemUIOp::create(b, loc, feature, idx(headDim));
  Value isLow =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i, idx(half));
  Value partner = arith::SelectOp::create(
      b, loc, isLow, arith::AddIOp::create(b, loc, feature, idx(half)),
      arith::SubIOp::create(b, loc, feature, idx(half)));
  Value xp = loadAt(partner);
  Value j = arith::RemUIOp::create(b, loc, i, idx(half));
  auto [cos, sin] = buildCosSin(b, loc, j, [&] {
    Value pos = arith::AddIOp::create(b, loc, seq, idx(offset));
    if (start)
      pos = arith::AddIOp::create(
          b, loc, pos,
          arith::IndexCastUIOp::create(b, loc, b.getIndexType(), start));
    return pos;
  });
  return combine(b, loc, x, xp, isLow, cos, sin);
}

SmallVector<Value> Rotary::buildHead(OpBuilder &b, Location loc, ValueRange x,
                                     Value position) const {
  int64_t half = headDim / 2;
  Value pos = arith::AddIOp::create(
      b, loc, position, arith::ConstantIndexOp::create(b, loc, offset));
  Value low = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value high = arith::ConstantIntOp::create(b, loc, 0, 1);
  SmallVector<Value> rotated(x.size());
  for (int64_t j = 0; j < half; ++j) {
    auto [cos, sin] = buildCosSin(
        b, loc, arith::ConstantIndexOp::create(b, loc, j), [&] { return pos; });
    rotated[j] = combine(b, loc, x[j], x[j + half], low, cos, sin);
    rotated[j + half] = combine(b, loc, x[j + half], x[j], high, cos, sin);
  }
  return rotated;
}
