//===- CopyToLinalg.cpp - memref.copy to linalg.copy ------------*- C++ -*-===//
//
// This file implements `tmc-copy-to-linalg`, which rewrites memref.copy into
// linalg.copy so that GPU lowering turns copies into kernels.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCCOPYTOLINALG
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Rewrites `memref.copy %src, %dst` into `linalg.copy ins(%src) outs(%dst)`
/// when both are ranked (linalg needs ranked operands).
struct CopyToLinalgPattern : public OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::CopyOp copy,
                                PatternRewriter &rewriter) const override {
    if (!isa<MemRefType>(copy.getSource().getType()) ||
        !isa<MemRefType>(copy.getTarget().getType()))
      return rewriter.notifyMatchFailure(copy, "unranked memref operand");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
    return success();
  }
};

struct TmcCopyToLinalgPass
    : public tmc::impl::TmcCopyToLinalgBase<TmcCopyToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<CopyToLinalgPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
