//===- ReuseDyingOperands.cpp - In-place elementwise ops --------*- C++ -*-===//
//
// This file implements `tmc-reuse-dying-operands`: elementwise generics
// write their result over an input that dies with them.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCREUSEDYINGOPERANDS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

struct ReuseDyingInput : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
        op.getNumParallelLoops() != op.getNumLoops())
      return rewriter.notifyMatchFailure(op, "not elementwise on tensors");
    OpOperand *init = op.getDpsInitOperand(0);
    if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
        !op.getMatchingIndexingMap(init).isIdentity() ||
        op.payloadUsesValueFromOperand(init))
      return rewriter.notifyMatchFailure(op, "output is not a fresh buffer");
    Type resultType = op.getResult(0).getType();
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value value = input->get();
      Operation *def = value.getDefiningOp();
      // Arguments and weights belong to the caller; constants are read-only.
      if (!def || isa<bufferization::ToTensorOp, arith::ConstantOp>(def))
        continue;
      if (value.getType() != resultType || !value.hasOneUse() ||
          !op.getMatchingIndexingMap(input).isIdentity())
        continue;
      rewriter.modifyOpInPlace(op, [&] { init->set(value); });
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no input dies here");
  }
};

struct TmcReuseDyingOperandsPass
    : public tmc::impl::TmcReuseDyingOperandsBase<TmcReuseDyingOperandsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ReuseDyingInput>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
