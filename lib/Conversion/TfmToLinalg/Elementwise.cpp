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
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

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
          return buildActivation(b, l, kind, args[0]);
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
          Value gate = buildActivation(b, l, kind, args[0]);
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
