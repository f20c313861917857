//===- InlineLayers.cpp - Inline tfm.layer bodies ---------------*- C++ -*-===//
//
// This file implements `tfm-inline-layers`, which replaces every tfm.layer
// by its body.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMINLINELAYERS
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Replaces a tfm.layer by the ops of its body.
struct InlineLayer : public OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerOp layer,
                                PatternRewriter &rewriter) const override {
    Block &body = layer.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    // Inline first: a yielded body argument then reads as the layer's input.
    rewriter.inlineBlockBefore(&body, layer, layer.getInputs());
    rewriter.replaceOp(layer, yield.getOperands());
    rewriter.eraseOp(yield);
    return success();
  }
};

struct TfmInlineLayersPass
    : public tfm::impl::TfmInlineLayersBase<TfmInlineLayersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<InlineLayer>(&getContext());
    // Inlining only: no folding. (The driver still erases ops left dead,
    // such as a layer whose results are unused.)
    GreedyRewriteConfig config;
    config.enableFolding(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};

} // namespace
