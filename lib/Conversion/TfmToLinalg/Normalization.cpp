//===- Normalization.cpp - Lower tfm norms ----------------------*- C++ -*-===//
//
// This file lowers tfm.layer_norm and tfm.rms_norm to linalg reductions
// over the last dimension followed by an elementwise normalization, or to
// tfm.fused_norm on buffers (one kernel each on a GPU).
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

/// The type of a per-row value of `type`: all dimensions but the last.
static RankedTensorType rowType(RankedTensorType type) {
  return RankedTensorType::get(type.getShape().drop_back(),
                               type.getElementType());
}

/// 1 / sqrt(x), correctly rounded sqrt then division (libm has no rsqrtf).
static Value reciprocalSqrt(OpBuilder &b, Location loc, Value x) {
  return arith::DivFOp::create(b, loc, f32Const(b, loc, 1.0),
                               math::SqrtOp::create(b, loc, x));
}

namespace {

struct LayerNormLowering : public OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    unsigned rank = type.getRank();
    double invD = 1.0 / static_cast<double>(type.getShape().back());
    double eps = op.getEpsilon().convertToDouble();
    Value x = op.getInput();

    // mean = sum(x) / D
    Value sum = buildLastDimReduction(
        rewriter, loc, x, {}, {}, createFilled(rewriter, loc, rowType(type), 0),
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::AddFOp::create(b, l, args[0], args[1]);
        });
    // var = sum((x - mean)^2) / D, two-pass for accuracy.
    AffineMap rows = leadingDimsMap(ctx, rank);
    Value sqSum = buildLastDimReduction(
        rewriter, loc, x, {sum}, {rows},
        createFilled(rewriter, loc, rowType(type), 0),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value mean = arith::MulFOp::create(b, l, args[2], f32Const(b, l, invD));
          Value centered = arith::SubFOp::create(b, l, args[0], mean);
          Value sq = arith::MulFOp::create(b, l, centered, centered);
          return arith::AddFOp::create(b, l, sq, args[1]);
        });
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap feature = lastDimMap(ctx, rank);
    Value result = buildParallel(
        rewriter, loc, {x, sum, sqSum, op.getGamma(), op.getBeta()},
        {id, rows, rows, feature, feature}, createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value scale = f32Const(b, l, invD);
          Value mean = arith::MulFOp::create(b, l, args[1], scale);
          Value var = arith::MulFOp::create(b, l, args[2], scale);
          Value rstd = reciprocalSqrt(
              b, l, arith::AddFOp::create(b, l, var, f32Const(b, l, eps)));
          Value normalized = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, args[0], mean), rstd);
          return arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, normalized, args[3]), args[4]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RMSNormLowering : public OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    unsigned rank = type.getRank();
    double invD = 1.0 / static_cast<double>(type.getShape().back());
    double eps = op.getEpsilon().convertToDouble();
    Value x = op.getInput();

    Value sqSum = buildLastDimReduction(
        rewriter, loc, x, {}, {}, createFilled(rewriter, loc, rowType(type), 0),
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value sq = arith::MulFOp::create(b, l, args[0], args[0]);
          return arith::AddFOp::create(b, l, sq, args[1]);
        });
    Value result = buildParallel(
        rewriter, loc, {x, sqSum, op.getGamma()},
        {rewriter.getMultiDimIdentityMap(rank), leadingDimsMap(ctx, rank),
         lastDimMap(ctx, rank)},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value meanSq = arith::MulFOp::create(b, l, args[1], f32Const(b, l, invD));
          Value rstd = reciprocalSqrt(
              b, l, arith::AddFOp::create(b, l, meanSq, f32Const(b, l, eps)));
          return arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], rstd), args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// tfm.layer_norm (with its beta) and tfm.rms_norm as tfm.fused_norm: the
/// read-only buffers of the operands, a fresh output buffer and the op.
template <typename NormOp>
struct FusedNormLowering : public OpRewritePattern<NormOp> {
  using OpRewritePattern<NormOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(NormOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value out = memref::AllocOp::create(
        rewriter, loc, MemRefType::get(type.getShape(), type.getElementType()));
    Value input = asReadOnlyBuffer(rewriter, loc, op.getInput());
    Value gamma = asReadOnlyBuffer(rewriter, loc, op.getGamma());
    Value beta;
    if constexpr (std::is_same_v<NormOp, LayerNormOp>)
      beta = asReadOnlyBuffer(rewriter, loc, op.getBeta());
    FusedNormOp::create(rewriter, loc, input, gamma, beta, out,
                        op.getEpsilonAttr());
    rewriter.replaceOp(op, asWrittenTensor(rewriter, loc, out));
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmNormalizationToLinalgPatterns(
    RewritePatternSet &patterns, bool fused) {
  if (fused)
    patterns.add<FusedNormLowering<LayerNormOp>, FusedNormLowering<RMSNormOp>>(
        patterns.getContext());
  else
    patterns.add<LayerNormLowering, RMSNormLowering>(patterns.getContext());
}
