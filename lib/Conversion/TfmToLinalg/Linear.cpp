//===- Linear.cpp - Lower tfm.linear ----------------------------*- C++ -*-===//
//
// This file lowers tfm.linear to a linalg.matmul on the input flattened to
// rows, accumulating into the bias broadcast over the rows.
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

struct LinearLowering : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    if (op.getQuantAttr() || op.getPruneAttr())
      return rewriter.notifyMatchFailure(
          op, "quantization/pruning requests must be applied first");
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inputType.getRank();
    int64_t k = inputType.getShape().back(), n = op.getOutFeatures();
    int64_t rows = inputType.getNumElements() / k;

    // Flatten the leading dimensions into rows: [..., K] -> [M, K].
    Value lhs = op.getInput();
    SmallVector<ReassociationIndices> reassoc;
    if (rank != 2) {
      ReassociationIndices leading;
      for (int64_t i = 0; i + 1 < rank; ++i)
        leading.push_back(i);
      reassoc = {leading, {rank - 1}};
      if (rank == 1)
        reassoc = {{0}};
      auto flatType = RankedTensorType::get({rows, k}, inputType.getElementType());
      if (rank == 1)
        lhs = tensor::ExpandShapeOp::create(rewriter, loc, flatType, lhs,
                                            ArrayRef<ReassociationIndices>{{0, 1}});
      else
        lhs = tensor::CollapseShapeOp::create(rewriter, loc, flatType, lhs,
                                              reassoc);
    }

    // The accumulator starts as the bias broadcast over rows, or zeros.
    auto accType = RankedTensorType::get({rows, n}, resultType.getElementType());
    Value acc;
    if (Value bias = op.getBias()) {
      acc = buildParallel(
          rewriter, loc, {bias}, {lastDimMap(rewriter.getContext(), 2)},
          createEmpty(rewriter, loc, accType),
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    } else {
      acc = createFilled(rewriter, loc, accType, 0.0);
    }
    Value product = buildMatmul(rewriter, loc, lhs, op.getWeight(), acc,
                                op.getLayout() == WeightLayout::out_in);

    Value result = product;
    if (rank == 1)
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, resultType, product,
          ArrayRef<ReassociationIndices>{{0, 1}});
    else if (rank != 2)
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType,
                                             product, reassoc);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmLinearToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearLowering>(patterns.getContext());
}
