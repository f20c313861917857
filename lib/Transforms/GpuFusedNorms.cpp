//===- GpuFusedNorms.cpp - One GPU kernel per norm --------------*- C++ -*-===//
//
// This file implements `tmc-gpu-fused-norms`, which rewrites each
// tfm.fused_norm (a layer or RMS normalization on buffers) into one
// gpu.launch: a block per row, whose threads reduce the row with a tree in
// workgroup memory and then write it normalized.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "KernelOps.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUFUSEDNORMS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// Builds the kernel of one tfm.fused_norm.
class NormBuilder : KernelOps {
public:
  NormBuilder(RewriterBase &rewriter, tfm::FusedNormOp op, int64_t threads)
      : KernelOps{rewriter, op.getLoc()}, op(op) {
    shape = llvm::to_vector(op.getInput().getType().getShape());
    features = shape.back();
    // A power of two for the tree, no larger than the row.
    blockSize = 1;
    while (blockSize * 2 <= std::min(threads, features))
      blockSize *= 2;
  }

  void build() {
    int64_t rows = 1;
    for (int64_t size : ArrayRef<int64_t>(shape).drop_back())
      rows *= size;
    Value one = idx(1);
    gpu::LaunchOp launch =
        KernelOps::launch(idx(rows), one, one, blockSize, 1,
                          {workgroupMemRefType({blockSize}, b.getF32Type())});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    partials = launch.getWorkgroupAttributions()[0];
    tid = launch.getThreadIds().x;

    // The row's indices, from the block id (row-major).
    row.assign(shape.size() - 1, Value());
    Value rest = launch.getBlockIds().x;
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) {
      row[i] = arith::RemUIOp::create(b, loc, rest, idx(shape[i]));
      rest = arith::DivUIOp::create(b, loc, rest, idx(shape[i]));
    }

    bool layer = static_cast<bool>(op.getBeta());
    Value invD = f32(1.0 / static_cast<double>(features));
    auto x = [&](Value d) { return load(op.getInput(), at(d)); };
    auto times = [&](Value u, Value v) -> Value {
      return arith::MulFOp::create(b, loc, u, v);
    };
    // A layer norm centers the row on its mean first (two passes, as the
    // linalg form); an RMS norm does not.
    Value mean;
    if (layer)
      mean = times(rowSum(x), invD);
    auto centered = [&](Value d) -> Value {
      return layer ? arith::SubFOp::create(b, loc, x(d), mean) : x(d);
    };
    Value variance = times(rowSum([&](Value d) {
                             Value c = centered(d);
                             return times(c, c);
                           }),
                           invD);
    // 1 / sqrt(variance + epsilon), as the linalg form computes it.
    Value rstd = arith::DivFOp::create(
        b, loc, f32(1.0),
        math::SqrtOp::create(
            b, loc,
            arith::AddFOp::create(b, loc, variance,
                                  f32(op.getEpsilon().convertToDouble()))));
    loop(tid, idx(features), idx(blockSize), [&](Value d) {
      Value y = times(times(centered(d), rstd), load(op.getGamma(), {d}));
      if (layer)
        y = arith::AddFOp::create(b, loc, y, load(op.getBeta(), {d}));
      store(y, op.getOutput(), at(d));
    });
    gpu::TerminatorOp::create(b, loc);
  }

private:
  /// The indices of feature `d` of the block's row.
  SmallVector<Value> at(Value d) {
    SmallVector<Value> indices(row);
    indices.push_back(d);
    return indices;
  }

  /// The sum over the row of `term(d)`, known to every thread: each thread
  /// sums the features tid, tid + blockSize, ..., then a tree in workgroup
  /// memory adds the threads' sums.
  Value rowSum(function_ref<Value(Value)> term) {
    Value mine = reduce(tid, idx(features), idx(blockSize), f32(0.0),
                        [&](Value d, Value acc) -> Value {
                          return arith::AddFOp::create(b, loc, acc, term(d));
                        });
    store(mine, partials, {tid});
    gpu::BarrierOp::create(b, loc);
    treeReduce(partials, tid, blockSize, [&](Value x, Value y) -> Value {
      return arith::AddFOp::create(b, loc, x, y);
    });
    Value total = load(partials, {idx(0)});
    // Every thread has read the total before the buffer is reused.
    gpu::BarrierOp::create(b, loc);
    return total;
  }

  tfm::FusedNormOp op;
  SmallVector<int64_t> shape;
  int64_t features, blockSize;
  Value partials, tid;
  SmallVector<Value> row;
};

struct LowerFusedNorm : public OpRewritePattern<tfm::FusedNormOp> {
  LowerFusedNorm(MLIRContext *ctx, int64_t threads)
      : OpRewritePattern(ctx), threads(threads) {}

  LogicalResult matchAndRewrite(tfm::FusedNormOp op,
                                PatternRewriter &rewriter) const override {
    NormBuilder(rewriter, op, threads).build();
    rewriter.eraseOp(op);
    return success();
  }

  int64_t threads;
};

struct TmcGpuFusedNormsPass
    : public tmc::impl::TmcGpuFusedNormsBase<TmcGpuFusedNormsPass> {
  using TmcGpuFusedNormsBase::TmcGpuFusedNormsBase;

  void runOnOperation() override {
    if (failed(tmc::checkThreadsOption(getOperation(), getArgument(),
                                       threads)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerFusedNorm>(&getContext(), threads);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
