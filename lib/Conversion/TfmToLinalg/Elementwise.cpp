//===- Elementwise.cpp - Lower elementwise tfm ops --------------*- C++ -*-===//
//
// This file lowers tfm.add, tfm.activation, tfm.gated_activation and
// tfm.split to linalg and tensor ops.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

/// Applies an activation function to the scalar `x` (formulas in TfmOps.td).
static Value applyActivation(OpBuilder &b, Location loc, ActivationKind kind,
                             Value x) {
  Value half = f32Const(b, loc, 0.5), one = f32Const(b, loc, 1.0);
  switch (kind) {
  case ActivationKind::gelu_erf: {
    Value scaled = arith::MulFOp::create(b, loc, x,
                                         f32Const(b, loc, M_SQRT1_2));
    Value erf = math::ErfOp::create(b, loc, scaled);
    Value sum = arith::AddFOp::create(b, loc, one, erf);
    return arith::MulFOp::create(
        b, loc, arith::MulFOp::create(b, loc, half, x), sum);
  }
  case ActivationKind::gelu_tanh: {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, loc, x,
                                     arith::MulFOp::create(b, loc, x, x));
    Value inner = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, f32Const(b, loc, 0.044715), x3));
    Value scaled = arith::MulFOp::create(
        b, loc, f32Const(b, loc, 0.7978845608028654), inner);
    Value sum =
        arith::AddFOp::create(b, loc, one, math::TanhOp::create(b, loc, scaled));
    return arith::MulFOp::create(
        b, loc, arith::MulFOp::create(b, loc, half, x), sum);
  }
  case ActivationKind::relu:
    return arith::MaximumFOp::create(b, loc, x, f32Const(b, loc, 0.0));
  case ActivationKind::silu: {
    Value negExp =
        math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, x,
                                 arith::AddFOp::create(b, loc, one, negExp));
  }
  }
  llvm_unreachable("unknown activation kind");
}

namespace {

struct AddLowering : public OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = buildParallel(
        rewriter, loc, {op.getLhs(), op.getRhs()}, {id, id},
        createEmpty(rewriter, loc, type),
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::AddFOp::create(b, l, args[0], args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ActivationLowering : public OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    ActivationKind kind = op.getKind();
    Value result = buildParallel(
        rewriter, loc, {op.getInput()},
        {rewriter.getMultiDimIdentityMap(type.getRank())},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) {
          return applyActivation(b, l, kind, args[0]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatedActivationLowering : public OpRewritePattern<GatedActivationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedActivationOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    ActivationKind kind = op.getKind();
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = buildParallel(
        rewriter, loc, {op.getGate(), op.getUp()}, {id, id},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value gate = applyActivation(b, l, kind, args[0]);
          return arith::MulFOp::create(b, l, gate, args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SplitLowering : public OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = type.getRank();
    SmallVector<Value> parts;
    int64_t offset = 0;
    for (auto [result, size] : llvm::zip(op.getResults(), op.getSizes())) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets.back() = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes;
      for (int64_t d : cast<RankedTensorType>(result.getType()).getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      parts.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, cast<RankedTensorType>(result.getType()),
          op.getInput(), offsets, sizes, strides));
      offset += size;
    }
    rewriter.replaceOp(op, parts);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmElementwiseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AddLowering, ActivationLowering, GatedActivationLowering,
               SplitLowering>(patterns.getContext());
}
