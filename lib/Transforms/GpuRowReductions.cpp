//===- GpuRowReductions.cpp - One block per reduced row ---------*- C++ -*-===//
//
// This file implements `tmc-gpu-row-reductions`, which turns linalg ops that
// reduce their innermost loop (norms' means and variances, softmax maxima
// and sums) into gpu.launch ops where a block of threads reduces each row
// in parallel, with a tree in workgroup memory.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "KernelOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <limits>

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUROWREDUCTIONS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// `acc` combined with `v` by the reduction's operation; the identity of
/// that operation.
struct Combiner {
  Operation *op;
  /// The payload value combined with the accumulator, and the payload ops
  /// it is computed by.
  Value contribution;
  SetVector<Operation *> slice;
  TypedAttr identity;
};

/// Recognizes `yield combine(out, v)` (either operand order) where combine
/// is an associative, commutative f32 operation and `v` does not depend on
/// the accumulator.
static FailureOr<Combiner> matchCombiner(linalg::LinalgOp op) {
  Block &body = op->getRegion(0).front();
  Value acc = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *combine = yield.getOperand(0).getDefiningOp();
  if (!combine || combine->getBlock() != &body ||
      combine->getNumOperands() != 2 || !combine->getResult(0).getType().isF32())
    return failure();
  Builder b(op->getContext());
  float inf = std::numeric_limits<float>::infinity();
  TypedAttr identity;
  if (isa<arith::AddFOp>(combine))
    identity = b.getF32FloatAttr(0.0f);
  else if (isa<arith::MulFOp>(combine))
    identity = b.getF32FloatAttr(1.0f);
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combine))
    identity = b.getF32FloatAttr(-inf);
  else if (isa<arith::MinimumFOp, arith::MinNumFOp>(combine))
    identity = b.getF32FloatAttr(inf);
  else
    return failure();
  Value lhs = combine->getOperand(0), rhs = combine->getOperand(1);
  if ((lhs == acc) == (rhs == acc))
    return failure();
  Value contribution = lhs == acc ? rhs : lhs;
  // The contribution must not read the accumulator.
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.filter = [&](Operation *o) { return o->getBlock() == &body; };
  options.inclusive = true;
  (void)getBackwardSlice(contribution, &slice, options);
  for (Operation *o : slice) {
    if (!isMemoryEffectFree(o) || o->getNumRegions() != 0)
      return failure();
    if (llvm::is_contained(o->getOperands(), acc))
      return failure();
  }
  return Combiner{combine, contribution, slice, identity};
}

struct ReduceRows : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  ReduceRows(MLIRContext *ctx, int64_t threads)
      : OpInterfaceRewritePattern(ctx), threads(threads) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getParentOfType<gpu::LaunchOp>() || !op.hasPureBufferSemantics() ||
        op.getNumDpsInits() != 1)
      return rewriter.notifyMatchFailure(op, "not a linalg op on buffers");
    unsigned loops = op.getNumLoops();
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    if (loops < 2 ||
        llvm::count(iterators, utils::IteratorType::reduction) != 1 ||
        iterators.back() != utils::IteratorType::reduction)
      return rewriter.notifyMatchFailure(op, "not a reduction of the last loop");
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type || !type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "operand not a static memref");
    }
    OpOperand *out = op.getDpsInitOperand(0);
    AffineMap outMap = op.getMatchingIndexingMap(out);
    if (outMap.getNumResults() != loops - 1)
      return rewriter.notifyMatchFailure(op, "output not indexed by the rows");
    for (unsigned i = 0; i + 1 < loops; ++i)
      if (outMap.getResult(i) != getAffineDimExpr(i, getContext()))
        return rewriter.notifyMatchFailure(op, "output not indexed by the rows");
    FailureOr<Combiner> combiner = matchCombiner(op);
    if (failed(combiner))
      return rewriter.notifyMatchFailure(op, "not an associative reduction");

    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t rows = 1;
    for (unsigned i = 0; i + 1 < loops; ++i)
      rows *= ranges[i];
    int64_t length = ranges.back();
    // A power of two for the tree, no larger than the row.
    int64_t blockSize = 1;
    while (blockSize * 2 <= std::min(threads, length))
      blockSize *= 2;

    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Type f32 = b.getF32Type();
    MemRefType partialsType = tmc::workgroupMemRefType({blockSize}, f32);
    Value one = index(1);
    gpu::LaunchOp launch = tmc::KernelOps{b, loc}.launch(
        index(rows), one, one, blockSize, 1, {partialsType});
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(&launch.getBody().front());
    Value partials = launch.getWorkgroupAttributions()[0];
    Value tid = launch.getThreadIds().x;

    // The row's indices, from the block id (row-major over the parallel
    // loops).
    SmallVector<Value> dims(loops);
    Value rest = launch.getBlockIds().x;
    for (int i = static_cast<int>(loops) - 2; i >= 0; --i) {
      Value size = index(ranges[i]);
      dims[i] = arith::RemUIOp::create(b, loc, rest, size);
      rest = arith::DivUIOp::create(b, loc, rest, size);
    }
    auto indicesFor = [&](OpOperand *operand) {
      AffineMap map = op.getMatchingIndexingMap(operand);
      SmallVector<Value> indices;
      for (unsigned i = 0, e = map.getNumResults(); i < e; ++i)
        indices.push_back(dims[map.getDimPosition(i)]);
      return indices;
    };
    Block &payload = op->getRegion(0).front();
    Operation *combine = combiner->op;
    auto combineValues = [&](Value x, Value y) -> Value {
      IRMapping mapping;
      mapping.map(combine->getOperand(0), x);
      mapping.map(combine->getOperand(1), y);
      return b.clone(*combine, mapping)->getResult(0);
    };

    // Each thread folds elements tid, tid + blockSize, ... of the row.
    Value identity = arith::ConstantOp::create(b, loc, combiner->identity);
    auto strided = scf::ForOp::create(b, loc, tid, index(length),
                                      index(blockSize), ValueRange{identity});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(strided.getBody());
      dims[loops - 1] = strided.getInductionVar();
      IRMapping mapping;
      for (OpOperand *input : op.getDpsInputOperands())
        mapping.map(payload.getArgument(input->getOperandNumber()),
                    memref::LoadOp::create(b, loc, input->get(),
                                           indicesFor(input)));
      for (Operation &nested : payload.without_terminator()) {
        if (!combiner->slice.contains(&nested))
          continue;
        if (auto indexOp = dyn_cast<linalg::IndexOp>(nested)) {
          mapping.map(indexOp.getResult(), dims[indexOp.getDim()]);
          continue;
        }
        b.clone(nested, mapping);
      }
      Value v = mapping.lookupOrDefault(combiner->contribution);
      scf::YieldOp::create(
          b, loc, combineValues(strided.getRegionIterArgs()[0], v));
    }
    memref::StoreOp::create(b, loc, strided.getResult(0), partials, tid);
    gpu::BarrierOp::create(b, loc);
    // A tree over the block's partial results.
    tmc::KernelOps{b, loc}.treeReduce(partials, tid, blockSize, combineValues);
    // Thread 0 folds the row's total into the output.
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                        index(0));
    auto ifOp = scf::IfOp::create(b, loc, first);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      SmallVector<Value> at = indicesFor(out);
      Value old = memref::LoadOp::create(b, loc, out->get(), at);
      Value total = memref::LoadOp::create(b, loc, partials, index(0));
      memref::StoreOp::create(b, loc, combineValues(old, total), out->get(),
                              at);
    }
    gpu::TerminatorOp::create(b, loc);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t threads;
};

struct TmcGpuRowReductionsPass
    : public tmc::impl::TmcGpuRowReductionsBase<TmcGpuRowReductionsPass> {
  using TmcGpuRowReductionsBase::TmcGpuRowReductionsBase;

  void runOnOperation() override {
    if (failed(tmc::checkThreadsOption(getOperation(), getArgument(),
                                       threads)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<ReduceRows>(&getContext(), threads);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
