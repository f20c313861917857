//===- GpuLaunchToLoops.cpp - gpu.launch as host loops ---------*- C++ -*-===//
//
// This file implements `tmc-gpu-launch-to-loops`, which turns gpu.launch ops
// into nested scf.for loops over blocks and threads so that GPU-mapped code
// can be run and checked on a CPU.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPULAUNCHTOLOOPS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Whether every block of `launch` has exactly one thread (then barriers
/// are no-ops and workgroup memory is that thread's own).
static bool singleThreadBlocks(gpu::LaunchOp launch) {
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  return llvm::all_of(ValueRange{block.x, block.y, block.z}, [](Value v) {
    return getConstantIntValue(v) == std::optional<int64_t>(1);
  });
}

/// Whether the threads of `launch` may communicate (then a sequential
/// emulation would be wrong).
static bool threadsCommunicate(gpu::LaunchOp launch) {
  if (singleThreadBlocks(launch))
    return false;
  if (!launch.getWorkgroupAttributions().empty() ||
      !launch.getPrivateAttributions().empty())
    return true;
  return launch.getBody()
      .walk([](gpu::BarrierOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

struct LaunchToLoops : public OpRewritePattern<gpu::LaunchOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(gpu::LaunchOp launch,
                                PatternRewriter &rewriter) const override {
    if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
        !launch.getBody().hasOneBlock() || threadsCommunicate(launch))
      return rewriter.notifyMatchFailure(launch, "not a sequential kernel");
    Location loc = launch.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    // Blocks z, y, x, then threads z, y, x.
    Value bounds[6] = {grid.z, grid.y, grid.x, block.z, block.y, block.x};
    Value ivs[6];
    OpBuilder::InsertionGuard guard(rewriter);
    for (int i = 0; i < 6; ++i) {
      auto loop = scf::ForOp::create(rewriter, loc, zero, bounds[i], one);
      ivs[i] = loop.getInductionVar();
      rewriter.setInsertionPointToStart(loop.getBody());
    }
    gpu::KernelDim3 blockIds = launch.getBlockIds();
    gpu::KernelDim3 threadIds = launch.getThreadIds();
    gpu::KernelDim3 gridSize = launch.getGridSize();
    gpu::KernelDim3 blockSize = launch.getBlockSize();
    IRMapping mapping;
    mapping.map(blockIds.z, ivs[0]);
    mapping.map(blockIds.y, ivs[1]);
    mapping.map(blockIds.x, ivs[2]);
    mapping.map(threadIds.z, ivs[3]);
    mapping.map(threadIds.y, ivs[4]);
    mapping.map(threadIds.x, ivs[5]);
    mapping.map(gridSize.x, grid.x);
    mapping.map(gridSize.y, grid.y);
    mapping.map(gridSize.z, grid.z);
    mapping.map(blockSize.x, block.x);
    mapping.map(blockSize.y, block.y);
    mapping.map(blockSize.z, block.z);
    // One thread per block: its workgroup memory is a fresh buffer per
    // block and its barriers are no-ops.
    for (BlockArgument buffer : launch.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(buffer.getType());
      auto hostType = MemRefType::get(type.getShape(), type.getElementType());
      mapping.map(
          buffer,
          memref::AllocaOp::create(rewriter, loc, hostType).getResult());
    }
    for (BlockArgument buffer : launch.getPrivateAttributions()) {
      auto type = cast<MemRefType>(buffer.getType());
      auto hostType = MemRefType::get(type.getShape(), type.getElementType());
      mapping.map(
          buffer,
          memref::AllocaOp::create(rewriter, loc, hostType).getResult());
    }
    for (Operation &op : launch.getBody().front().without_terminator())
      rewriter.clone(op, mapping);
    SmallVector<gpu::BarrierOp> barriers;
    rewriter.getInsertionBlock()->getParentOp()->walk(
        [&](gpu::BarrierOp barrier) { barriers.push_back(barrier); });
    for (gpu::BarrierOp barrier : barriers)
      rewriter.eraseOp(barrier);
    rewriter.eraseOp(launch);
    return success();
  }
};

struct TmcGpuLaunchToLoopsPass
    : public tmc::impl::TmcGpuLaunchToLoopsBase<TmcGpuLaunchToLoopsPass> {
  void runOnOperation() override {
    bool refused = false;
    getOperation().walk([&](gpu::LaunchOp launch) {
      if (threadsCommunicate(launch)) {
        launch.emitError("tmc-gpu-launch-to-loops: the threads of this "
                         "launch share memory or synchronize; running them "
                         "one after another would not be exact");
        refused = true;
      }
    });
    if (refused)
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LaunchToLoops>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
