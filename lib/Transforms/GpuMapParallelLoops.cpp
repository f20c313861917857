//===- GpuMapParallelLoops.cpp - scf.parallel to blocks/threads -*- C++ -*-===//
//
// This file implements `tmc-gpu-map-parallel-loops`, which tiles outermost
// scf.parallel loops into a grid loop and a block loop and records the
// processor mapping that convert-parallel-loops-to-gpu reads.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "KernelOps.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUMAPPARALLELLOOPS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// The number of threads to give the innermost dimension of `loop`:
/// `threads`, or the trip count rounded up to a warp when it is a smaller
/// constant.
static int64_t threadsFor(scf::ParallelOp loop, int64_t threads) {
  unsigned last = loop.getNumLoops() - 1;
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()[last]);
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound()[last]);
  std::optional<int64_t> step = getConstantIntValue(loop.getStep()[last]);
  if (!lb || !ub || !step || *step <= 0)
    return threads;
  int64_t trips = llvm::divideCeil(std::max<int64_t>(*ub - *lb, 1), *step);
  return std::min<int64_t>(threads, llvm::alignTo(trips, 32));
}

/// The mapping of a loop of `rank` dimensions whose dimension `rank - 1` is
/// the tiled one: last to `x`, the two before it to `y` and `z`, the rest
/// sequential; `inner` selects thread (inner loop) or block (outer loop)
/// processors, and only the last dimension of the inner loop is a thread.
static SmallVector<gpu::ParallelLoopDimMappingAttr>
mappingFor(MLIRContext *ctx, unsigned rank, bool inner) {
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
  for (unsigned dim = 0; dim < rank; ++dim) {
    unsigned fromLast = rank - 1 - dim;
    gpu::Processor processor = gpu::Processor::Sequential;
    if (inner) {
      if (fromLast == 0)
        processor = gpu::Processor::ThreadX;
    } else if (fromLast == 0) {
      processor = gpu::Processor::BlockX;
    } else if (fromLast == 1) {
      processor = gpu::Processor::BlockY;
    } else if (fromLast == 2) {
      processor = gpu::Processor::BlockZ;
    }
    mapping.push_back(
        gpu::ParallelLoopDimMappingAttr::get(ctx, processor, id, id));
  }
  return mapping;
}

struct TmcGpuMapParallelLoopsPass
    : public tmc::impl::TmcGpuMapParallelLoopsBase<TmcGpuMapParallelLoopsPass> {
  using TmcGpuMapParallelLoopsBase::TmcGpuMapParallelLoopsBase;

  void runOnOperation() override {
    if (failed(tmc::checkThreadsOption(getOperation(), getArgument(),
                                       threads)))
      return signalPassFailure();
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          !loop->hasAttr(gpu::getMappingAttrName()))
        outermost.push_back(loop);
    });
    MLIRContext *ctx = &getContext();
    for (scf::ParallelOp loop : outermost) {
      unsigned rank = loop.getNumLoops();
      SmallVector<int64_t> tileSizes(rank, 1);
      tileSizes.back() = threadsFor(loop, threads);
      auto [outer, inner] =
          scf::tileParallelLoop(loop, tileSizes, /*noMinMaxBounds=*/true);
      // The tiling computes steps and bounds as products of constants;
      // convert-parallel-loops-to-gpu needs the block size as constants.
      SmallVector<Operation *> products;
      for (Value value :
           llvm::concat<Value>(outer.getStep(), inner.getUpperBound()))
        if (Operation *def = value.getDefiningOp())
          products.push_back(def);
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingOps);
      (void)applyOpPatternsGreedily(products, FrozenRewritePatternSet(),
                                    config);
      if (failed(gpu::setMappingAttr(outer, mappingFor(ctx, rank, false))) ||
          failed(gpu::setMappingAttr(inner, mappingFor(ctx, rank, true)))) {
        outer.emitError("tmc-gpu-map-parallel-loops: cannot map the loop to "
                        "GPU processors");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
