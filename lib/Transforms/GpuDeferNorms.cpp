//===- GpuDeferNorms.cpp - Norms left to the matmul kernels -----*- C++ -*-===//
//
// This file implements `tmc-gpu-defer-norms`, which turns each
// tfm.fused_norm that only matmul kernels read into a tfm.lazy_norm, before
// the buffer plan, so that the norm needs neither a kernel nor a buffer.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "BufferStorage.h"
#include "MatmulKernels.h"
#include "NormPrologue.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUDEFERNORMS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

struct DeferNorm : public OpRewritePattern<tfm::FusedNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tfm::FusedNormOp norm,
                                PatternRewriter &rewriter) const override {
    if (!NormPrologue::canDefer(norm, getMatmulKernelInput))
      return rewriter.notifyMatchFailure(norm, "not read by matmuls only");
    Value output = norm.getOutput();
    auto lazy = tfm::LazyNormOp::create(
        rewriter, norm.getLoc(), output.getType(),
        NormPrologue::getRowsSource(norm), norm.getGamma(), norm.getBeta(),
        norm.getEpsilonAttr());
    rewriter.eraseOp(norm);
    // The reshapes of the output made before the norm come after it now.
    // (A reshape is moved after the one it reshapes.)
    Operation *last = lazy;
    for (Operation *reshape : ReshapeFamily::of(output).reshapes)
      if (reshape->getBlock() == lazy->getBlock() &&
          reshape->isBeforeInBlock(last)) {
        rewriter.moveOpAfter(reshape, last);
        last = reshape;
      }
    rewriter.replaceAllUsesWith(output, lazy.getResult());
    // The output's allocation, read by nothing now.
    if (auto alloc = output.getDefiningOp<memref::AllocOp>())
      rewriter.eraseOp(alloc);
    return success();
  }
};

struct TmcGpuDeferNormsPass
    : public tmc::impl::TmcGpuDeferNormsBase<TmcGpuDeferNormsPass> {
  using TmcGpuDeferNormsBase::TmcGpuDeferNormsBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DeferNorm>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
