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
/// With `tag`, the inlined ops keep the layer's index.
struct InlineLayer : public OpRewritePattern<LayerOp> {
  InlineLayer(MLIRContext *ctx, bool tag)
      : OpRewritePattern<LayerOp>(ctx), tag(tag) {}

  LogicalResult matchAndRewrite(LayerOp layer,
                                PatternRewriter &rewriter) const override {
    Block &body = layer.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    if (tag) {
      IntegerAttr index = rewriter.getI64IntegerAttr(layer.getIndex());
      for (Operation &op : body.without_terminator())
        rewriter.modifyOpInPlace(
            &op, [&] { op.setAttr(kLayerIndexAttrName, index); });
    }
    // Inline first: a yielded body argument then reads as the layer's input.
    rewriter.inlineBlockBefore(&body, layer, layer.getInputs());
    rewriter.replaceOp(layer, yield.getOperands());
    rewriter.eraseOp(yield);
    return success();
  }

  bool tag;
};

struct TfmInlineLayersPass
    : public tfm::impl::TfmInlineLayersBase<TfmInlineLayersPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<InlineLayer>(&getContext(), tag);
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
