//===- GpuTileMatmuls.cpp - Shared-memory tiled matmul kernels --*- C++ -*-===//
//
// This file implements `tmc-gpu-tile-matmuls`, which turns matmul-like
// linalg ops on memrefs into gpu.launch ops that stage tiles of both inputs
// in workgroup memory.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "BufferStorage.h"
#include "KernelOps.h"
#include "MatmulEpilogue.h"
#include "MatmulKernels.h"
#include "NormPrologue.h"
#include "WarpMma.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUTILEMATMULS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// The loop dimensions of a plain contraction and the role of each input.
struct Contraction {
  unsigned m, n, k;
  /// Operand index (0 or 1) of the input indexed by M (the other by N).
  unsigned lhs;

  /// The loop values (by loop position) for m, n and k.
  SmallVector<Value> at(Value mValue, Value nValue, Value kValue) const {
    SmallVector<Value> values(3);
    values[m] = mValue;
    values[n] = nValue;
    values[k] = kValue;
    return values;
  }
};

/// Recognizes a plain contraction (see the pass description).
static FailureOr<Contraction> matchContraction(linalg::LinalgOp op,
                                               PatternRewriter &rewriter) {
  if (op->getParentOfType<gpu::LaunchOp>())
    return rewriter.notifyMatchFailure(op, "already in a kernel");
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 3 ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return rewriter.notifyMatchFailure(op,
                                       "not a 2-input 3-loop op on buffers");
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape() || type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "operand not a static 2-D memref");
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return rewriter.notifyMatchFailure(op, "not one reduction loop");
  Contraction c;
  c.k =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.getNumResults() != 2)
    return rewriter.notifyMatchFailure(op, "output map not (m, n)");
  c.m = outMap.getDimPosition(0);
  c.n = outMap.getDimPosition(1);
  if (c.m == c.k || c.n == c.k)
    return rewriter.notifyMatchFailure(op, "output indexed by the reduction");
  bool sawM = false, sawN = false;
  for (unsigned i = 0; i < 2; ++i) {
    AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(i));
    if (!map.isProjectedPermutation() || map.getNumResults() != 2)
      return rewriter.notifyMatchFailure(op, "input map not a permutation");
    bool hasK = map.isFunctionOfDim(c.k), hasM = map.isFunctionOfDim(c.m),
         hasN = map.isFunctionOfDim(c.n);
    if (!hasK || hasM == hasN)
      return rewriter.notifyMatchFailure(op, "input not indexed by K and M|N");
    if (hasM) {
      sawM = true;
      c.lhs = i;
    } else {
      sawN = true;
    }
  }
  if (!sawM || !sawN)
    return rewriter.notifyMatchFailure(op, "inputs do not cover M and N");
  for (Operation &nested : op->getRegion(0).front().without_terminator())
    if (isa<linalg::IndexOp>(nested) || !isMemoryEffectFree(&nested))
      return rewriter.notifyMatchFailure(op, "payload not a pure function");
  return c;
}

/// The indices of `operand` for loop values `dims` (by loop position).
static SmallVector<Value> indicesFor(linalg::LinalgOp op, OpOperand *operand,
                                     ArrayRef<Value> dims) {
  AffineMap map = op.getMatchingIndexingMap(operand);
  SmallVector<Value> indices;
  for (unsigned i = 0, e = map.getNumResults(); i < e; ++i)
    indices.push_back(dims[map.getDimPosition(i)]);
  return indices;
}

/// The attribute that marks a fill or broadcast whose values a contraction
/// kernel now starts from; the pass erases such ops after its walk.
static constexpr llvm::StringLiteral kFoldedInit = "tmc.folded_into_contraction";

/// Where a contraction's accumulators start: its output's values, or, when
/// the op right before it only fills that output with a scalar (a linear
/// layer without bias) or broadcasts a vector into it (a linear layer's
/// bias), that scalar or that vector's values, so that the fill or
/// broadcast need not run.
struct OutputStart {
  linalg::LinalgOp op;
  OpOperand *out;
  /// The input of the folded broadcast, or null.
  OpOperand *source = nullptr;
  /// The scalar of the folded fill, and the fill, or null.
  Value fillValue = {};
  Operation *fill = nullptr;

  /// Finds the fill or broadcast right before `op` into its output: a
  /// linalg.fill of the output's element type, or a linalg.generic on
  /// buffers, all parallel, that yields its one input, writes the same
  /// buffer with an identity map and reads the input with a projection.
  static OutputStart of(linalg::LinalgOp op) {
    OutputStart start{op, op.getDpsInitOperand(0)};
    if (!op->getPrevNode() || op->getPrevNode()->hasAttr(kFoldedInit))
      return start;
    if (auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode())) {
      if (fill.hasPureBufferSemantics() &&
          fill.getDpsInitOperand(0)->get() == start.out->get() &&
          fill.value().getType() ==
              getElementTypeOrSelf(start.out->get().getType())) {
        start.fillValue = fill.value();
        start.fill = fill;
      }
      return start;
    }
    auto broadcast = dyn_cast_or_null<linalg::GenericOp>(op->getPrevNode());
    if (!broadcast || !broadcast.hasPureBufferSemantics() ||
        broadcast.getNumDpsInputs() != 1 || broadcast.getNumDpsInits() != 1 ||
        broadcast.getDpsInitOperand(0)->get() != start.out->get() ||
        broadcast.getNumReductionLoops() != 0)
      return start;
    OpOperand *input = broadcast.getDpsInputOperand(0);
    Block &body = broadcast.getRegion().front();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    if (yield.getNumOperands() != 1 ||
        yield.getOperand(0) != body.getArgument(0) ||
        !broadcast.getMatchingIndexingMap(broadcast.getDpsInitOperand(0))
             .isIdentity() ||
        !broadcast.getMatchingIndexingMap(input).isProjectedPermutation() ||
        !isa<MemRefType>(input->get().getType()))
      return start;
    start.source = input;
    return start;
  }

  /// The buffer and indices of the initial value of the output element at
  /// the contraction's loop values `dims`.
  std::pair<Value, SmallVector<Value>> at(ArrayRef<Value> dims) const {
    SmallVector<Value> outIndices = indicesFor(op, out, dims);
    if (!source)
      return {out->get(), outIndices};
    // The broadcast's loops are the output's indices.
    auto broadcast = cast<linalg::LinalgOp>(source->getOwner());
    return {source->get(), indicesFor(broadcast, source, outIndices)};
  }

  /// The initial value, as `type`, of the output element at the
  /// contraction's loop values `dims` where `inBounds` holds, else zero.
  Value initial(OpBuilder &b, Location loc, Value inBounds,
                ArrayRef<Value> dims, Type type) const {
    if (fillValue)
      return tmc::roundedOrZero(b, loc, inBounds, type,
                                [&] { return fillValue; });
    auto [buffer, indices] = at(dims);
    return tmc::loadRoundedOrZero(b, loc, inBounds, buffer, indices, type);
  }

  /// Marks the folded fill or broadcast for erasure.
  void markFolded(RewriterBase &rewriter) const {
    Operation *folded = fill ? fill : source ? source->getOwner() : nullptr;
    if (folded)
      rewriter.modifyOpInPlace(folded, [&] {
        folded->setAttr(kFoldedInit, rewriter.getUnitAttr());
      });
  }
};

/// Where a contraction's results go: its output, through the elementwise
/// ops right after it that rewrite the output in place (its epilogue, when
/// folded), so that those ops need not run.
struct OutputEnd {
  MatmulEpilogue epilogue;

  /// The end of `op`, whose accumulators start at `start`.
  static OutputEnd of(linalg::LinalgOp op, const OutputStart &start,
                      bool foldEpilogue) {
    SmallVector<Value, 1> startReads;
    if (start.source)
      startReads.push_back(start.source->get());
    return {MatmulEpilogue::after(op, foldEpilogue, startReads)};
  }

  /// Moves `rewriter` to where the kernel goes: before the last op of the
  /// epilogue, where every buffer it reads is defined.
  void setInsertionPoint(RewriterBase &rewriter) const {
    rewriter.setInsertionPoint(epilogue.insertionPoint());
  }

  /// Stores `acc`, the contraction's value of output element (m, n), where
  /// `inBounds` holds.
  void store(OpBuilder &b, Location loc, Value inBounds, Value m, Value n,
             Value acc) const {
    auto ifOp = scf::IfOp::create(b, loc, inBounds);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    epilogue.store(b, loc, m, n, acc);
  }

  /// Marks the epilogue's ops for erasure.
  void markFolded(RewriterBase &rewriter) const {
    epilogue.markFolded(rewriter, kFoldedInit);
  }
};

/// The workgroup buffers of a kernel: its own, then its prologue's for
/// `rows` rows per block and `threads` threads (NormPrologue).
static SmallVector<Type> withPrologue(const std::optional<NormPrologue> &prologue,
                                      ArrayRef<Type> own, int64_t rows,
                                      int64_t threads) {
  SmallVector<Type> types(own);
  if (prologue)
    llvm::append_range(types, NormPrologue::workgroupTypes(
                                  own.front().getContext(), rows, threads));
  return types;
}

/// A launch of `gridX` x `gridY` blocks of `threadsX` x `threadsY` threads
/// with the given workgroup buffers.
static gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, int64_t gridX,
                                  int64_t gridY, int64_t threadsX,
                                  int64_t threadsY, TypeRange workgroup) {
  KernelOps math{b, loc};
  return math.launch(math.idx(gridX), math.idx(gridY), math.idx(1), threadsX,
                     threadsY, workgroup);
}

/// Stores what `build` makes, built where `condition` holds, to
/// `memref[indices]` there.
static void storeIf(OpBuilder &b, Location loc, Value condition,
                    function_ref<Value()> build, Value memref,
                    ValueRange indices) {
  auto ifOp = scf::IfOp::create(b, loc, condition);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  memref::StoreOp::create(b, loc, build(), memref, indices);
}

/// Whether `operand`'s memref has a unit innermost stride and its innermost
/// index is a function of loop dimension `dim` alone or with constants
/// (`k`, or `k floordiv 2` for packed values): then consecutive values of
/// `dim` read adjacent (or the same) elements.
static bool isInnermost(linalg::LinalgOp op, OpOperand *operand,
                        unsigned dim) {
  auto type = cast<MemRefType>(operand->get().getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty() ||
      strides.back() != 1)
    return false;
  return op.getMatchingIndexingMap(operand).getResults().back().isFunctionOfDim(
      dim);
}

/// Plain contractions with shared-memory tiles and register blocking: a
/// block of `tile` x `tile` threads computes a (`tile` * `regs`)-square
/// output tile, each thread `regs` x `regs` outputs (rows `ty + i * tile`,
/// columns `tx + j * tile`) held in registers across the K loop; `regs` is
/// `maxRegs`, halved (down to 2) while the grid has fewer than `minBlocks`
/// blocks.
struct TileContraction : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  TileContraction(MLIRContext *ctx, int64_t tile, int64_t maxRegs,
                  int64_t minBlocks, bool foldEpilogues)
      : OpInterfaceRewritePattern(ctx), tile(tile), maxRegs(maxRegs),
        minBlocks(minBlocks), foldEpilogues(foldEpilogues) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Contraction> match = matchContraction(op, rewriter);
    if (failed(match))
      return failure();
    Contraction c = *match;
    // Before any op is created in front of `op`.
    OutputStart start = OutputStart::of(op);
    std::optional<NormPrologue> prologue =
        NormPrologue::of(op, op.getDpsInputOperand(c.lhs));
    OutputEnd end = OutputEnd::of(op, start, foldEpilogues);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t sizeM = ranges[c.m], sizeN = ranges[c.n], sizeK = ranges[c.k];
    // Half as many outputs per thread (down to 2 x 2) while the grid would
    // have fewer than minBlocks blocks: more blocks to spread over the
    // multiprocessors, at the cost of less reuse of each staged element.
    int64_t regs = maxRegs;
    auto blocks = [&](int64_t r) -> int64_t {
      return llvm::divideCeilSigned(sizeM, tile * r) *
             llvm::divideCeilSigned(sizeN, tile * r);
    };
    while (regs > 2 && blocks(regs) < minBlocks)
      regs = std::max<int64_t>(2, regs / 2);
    int64_t span = tile * regs; // output rows and columns per block

    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    end.setInsertionPoint(rewriter);
    OpBuilder &b = rewriter;
    KernelOps math{b, loc};
    OpOperand *lhs = op.getDpsInputOperand(c.lhs);
    OpOperand *rhs = op.getDpsInputOperand(1 - c.lhs);
    OpOperand *out = op.getDpsInitOperand(0);
    Type lhsType = cast<MemRefType>(lhs->get().getType()).getElementType();
    Type rhsType = cast<MemRefType>(rhs->get().getType()).getElementType();
    Type accType = cast<MemRefType>(out->get().getType()).getElementType();
    int64_t threads = tile * tile;
    if (prologue)
      prologue->prepare(b, loc);
    // lhs tile [m][k], rhs tile [k][n], each row padded by one element so
    // that transposing copies do not hit one shared-memory bank.
    auto launch = createLaunch(
        b, loc, llvm::divideCeil(sizeN, span), llvm::divideCeil(sizeM, span),
        tile, tile,
        withPrologue(prologue,
                     {workgroupMemRefType({span, tile + 1}, lhsType),
                      workgroupMemRefType({tile, span + 1}, rhsType)},
                     span, threads));
    rewriter.setInsertionPointToStart(&launch.getBody().front());
    Value one = math.idx(1), t = math.idx(tile);
    Value lhsTile = launch.getWorkgroupAttributions()[0];
    Value rhsTile = launch.getWorkgroupAttributions()[1];
    Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
    Value linear = math.add(math.mul(ty, t), tx);
    Value c0 = math.idx(0);
    Value cM = math.idx(sizeM), cN = math.idx(sizeN),
          cK = math.idx(sizeK);
    Value m0 = math.mul(launch.getBlockIds().y, math.idx(span));
    Value n0 = math.mul(launch.getBlockIds().x, math.idx(span));
    if (prologue)
      prologue->computeStatistics(
          b, loc, launch.getWorkgroupAttributions().drop_front(2), linear,
          threads, m0, span);
    // Thread (ty, tx)'s rows and columns in the block's tile.
    SmallVector<Value> tileRows, tileCols, rows, cols;
    for (int64_t i = 0; i < regs; ++i) {
      tileRows.push_back(i == 0 ? ty : math.add(ty, math.idx(i * tile)));
      tileCols.push_back(i == 0 ? tx : math.add(tx, math.idx(i * tile)));
      rows.push_back(math.add(m0, tileRows.back()));
      cols.push_back(math.add(n0, tileCols.back()));
    }
    auto inBounds = [&](int64_t i, int64_t j) {
      return math.both(math.less(rows[i], cM), math.less(cols[j], cN));
    };

    // The initial accumulators: the output's values, or the bias they
    // were about to be set to (zero off the edge).
    SmallVector<Value> init;
    for (int64_t i = 0; i < regs; ++i)
      for (int64_t j = 0; j < regs; ++j)
        init.push_back(start.initial(b, loc, inBounds(i, j),
                                     c.at(rows[i], cols[j], c0), accType));

    auto kLoop = scf::ForOp::create(
        b, loc, c0, math.idx(llvm::divideCeil(sizeK, tile)), one, init);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = math.mul(kLoop.getInductionVar(), t);
      // Copies a `extent` x `tile` slice (`extent` along m or n from `base`,
      // `tile` along k from k0) of `operand` into `tileBuffer`, the threads
      // walking the operand's innermost dimension fastest (coalesced).
      auto copy = [&](OpOperand *operand, unsigned dim, Value base,
                      Value bound, Value tileBuffer, bool kFirst) {
        bool kInnermost = isInnermost(op, operand, c.k);
        int64_t elements = span * tile;
        auto loop = scf::ForOp::create(b, loc, linear, math.idx(elements),
                                       math.idx(threads));
        OpBuilder::InsertionGuard gc(b);
        b.setInsertionPointToStart(loop.getBody());
        Value e = loop.getInductionVar();
        Value kk = kInnermost
                       ? arith::RemUIOp::create(b, loc, e, t).getResult()
                       : arith::DivUIOp::create(b, loc, e, math.idx(span))
                             .getResult();
        Value xx = kInnermost
                       ? arith::DivUIOp::create(b, loc, e, t).getResult()
                       : arith::RemUIOp::create(b, loc, e, math.idx(span))
                             .getResult();
        Value k = math.add(k0, kk), x = math.add(base, xx);
        SmallVector<Value> dims = c.at(c0, c0, k);
        dims[dim] = x;
        SmallVector<Value, 2> at = {xx, kk};
        if (kFirst)
          std::swap(at[0], at[1]);
        storeIf(
            b, loc, math.both(math.less(x, bound), math.less(k, cK)),
            [&]() -> Value {
              if (prologue && operand == lhs)
                return prologue->load(b, loc, x, k);
              return memref::LoadOp::create(b, loc, operand->get(),
                                            indicesFor(op, operand, dims));
            },
            tileBuffer, at);
      };
      copy(lhs, c.m, m0, cM, lhsTile, /*kFirst=*/false);
      copy(rhs, c.n, n0, cN, rhsTile, /*kFirst=*/true);
      gpu::BarrierOp::create(b, loc);

      // Only the valid part of the last K tile.
      Value kLimit = arith::MinUIOp::create(
          b, loc, t, arith::SubIOp::create(b, loc, cK, k0));
      auto inner = scf::ForOp::create(b, loc, c0, kLimit, one,
                                      kLoop.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard gi(b);
        b.setInsertionPointToStart(inner.getBody());
        Value kk = inner.getInductionVar();
        SmallVector<Value> as, bs;
        for (int64_t i = 0; i < regs; ++i) {
          as.push_back(memref::LoadOp::create(b, loc, lhsTile,
                                              ValueRange{tileRows[i], kk}));
          bs.push_back(memref::LoadOp::create(b, loc, rhsTile,
                                              ValueRange{kk, tileCols[i]}));
        }
        Block &payload = op->getRegion(0).front();
        SmallVector<Value> next;
        for (int64_t i = 0; i < regs; ++i)
          for (int64_t j = 0; j < regs; ++j) {
            IRMapping mapping;
            mapping.map(payload.getArgument(lhs->getOperandNumber()), as[i]);
            mapping.map(payload.getArgument(rhs->getOperandNumber()), bs[j]);
            mapping.map(payload.getArgument(out->getOperandNumber()),
                        inner.getRegionIterArgs()[i * regs + j]);
            for (Operation &nested : payload.without_terminator())
              b.clone(nested, mapping);
            next.push_back(mapping.lookupOrDefault(
                payload.getTerminator()->getOperand(0)));
          }
        scf::YieldOp::create(b, loc, next);
      }
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, inner.getResults());
    }

    for (int64_t i = 0; i < regs; ++i)
      for (int64_t j = 0; j < regs; ++j)
        end.store(b, loc, inBounds(i, j), rows[i], cols[j],
                  kLoop.getResult(i * regs + j));
    gpu::TerminatorOp::create(b, loc);
    start.markFolded(rewriter);
    end.markFolded(rewriter);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t tile, maxRegs, minBlocks;
  bool foldEpilogues;
};

/// The input (0 or 1) that `v` is, directly or through an `arith.extf`, in
/// the payload `body`; -1 otherwise.
static int payloadInput(Block &body, Value v) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    v = ext.getIn();
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &body || arg.getArgNumber() > 1)
    return -1;
  return arg.getArgNumber();
}

/// Whether `op` computes `out += f32(lhs) * f32(rhs)` with `half` (f16 or
/// bf16) or f32 inputs, one at least `half`, and an f32 output: what a
/// tensor core does with 16-bit operands and f32 accumulation.
static bool isHalfMultiplyAccumulate(linalg::LinalgOp op, Type half) {
  Type outType = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType())
                     .getElementType();
  if (!outType.isF32())
    return false;
  bool anyHalf = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Type t = cast<MemRefType>(input->get().getType()).getElementType();
    if (t != half && !t.isF32())
      return false;
    anyHalf |= t == half;
  }
  if (!anyHalf)
    return false;
  Block &body = op->getRegion(0).front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto addOp = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!addOp)
    return false;
  Value acc = body.getArgument(2);
  Value product = addOp.getLhs() == acc   ? addOp.getRhs()
                  : addOp.getRhs() == acc ? addOp.getLhs()
                                          : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  int x = payloadInput(body, mul.getLhs()), y = payloadInput(body, mul.getRhs());
  return x >= 0 && y >= 0 && x != y;
}

/// Runs `body(row, col)` for the elements tid, tid + threads, ... of a
/// `size` x `size` square (row = i / size, col = i % size): how the threads
/// of a tensor-core kernel share the staging of a tile.
static void forSquareElements(OpBuilder &b, Location loc, Value tid,
                              int64_t size, int64_t threads,
                              function_ref<void(Value, Value)> body) {
  KernelOps math{b, loc};
  auto loop = scf::ForOp::create(b, loc, tid, math.idx(size * size),
                                 math.idx(threads));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(loop.getBody());
  Value i = loop.getInductionVar();
  body(arith::DivUIOp::create(b, loc, i, math.idx(size)),
       arith::RemUIOp::create(b, loc, i, math.idx(size)));
}

/// `operand` at loop values `at`, truncated to `type`, where `inBounds`;
/// else zero.
static Value loadConverted(OpBuilder &b, Location loc, linalg::LinalgOp op,
                           OpOperand *operand, ArrayRef<Value> at,
                           Value inBounds, Type type) {
  return tmc::loadRoundedOrZero(b, loc, inBounds, operand->get(),
                                indicesFor(op, operand, at), type);
}

/// What the tensor-core kernels share: a contraction accumulating 16-bit
/// `half` inputs into f32, computed by blocks of 4 warps (128 threads), each
/// block the 32 x 32 output tile at (m0, n0) and warp w the 16 x 16 quarter
/// at rows warpM = 16 (w / 2), columns warpN = 16 (w % 2) of it; per step of
/// 32 along K the block stages both inputs as `half`.
struct TensorCoreTiling {
  static constexpr int64_t kTile = 32, kThreads = 128;

  linalg::LinalgOp op;
  Contraction c;
  Type half;
  OpOperand *lhs, *rhs, *out;
  /// Builds the B value at (n, k) when B is computed rather than loaded
  /// (a dequantized weight; `rhs` is then null).
  std::function<Value(OpBuilder &, Location, Value, Value)> weight;
  /// Where the accumulators start and where the results go.
  OutputStart start;
  OutputEnd end;
  /// The norm applied to the lhs as it is staged, if any.
  std::optional<NormPrologue> prologue;
  int64_t sizeM, sizeN, sizeK;
  /// Set by `build`, in the launch body.
  gpu::LaunchOp launch;
  Value tid, m0, n0, warpM, warpN, cM, cN, cK, c0;

  static FailureOr<TensorCoreTiling> match(linalg::LinalgOp op,
                                           PatternRewriter &rewriter,
                                           Type half, bool foldEpilogues) {
    FailureOr<Contraction> contraction = matchContraction(op, rewriter);
    if (failed(contraction))
      return failure();
    if (!isHalfMultiplyAccumulate(op, half))
      return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
        diag << "not a multiply-accumulate of " << half << " inputs";
      });
    return of(op, *contraction, half, op.getDpsInputOperand(contraction->lhs),
              op.getDpsInputOperand(1 - contraction->lhs), foldEpilogues);
  }

  /// The tiling of `op`, the contraction `c` of `lhs` by `rhs` (null when
  /// `weight` is to build B) with `half` operands.
  static TensorCoreTiling of(linalg::LinalgOp op, const Contraction &c,
                             Type half, OpOperand *lhs, OpOperand *rhs,
                             bool foldEpilogues) {
    TensorCoreTiling t;
    t.op = op;
    t.c = c;
    t.half = half;
    t.lhs = lhs;
    t.rhs = rhs;
    t.out = op.getDpsInitOperand(0);
    t.start = OutputStart::of(op);
    t.prologue = NormPrologue::of(op, lhs);
    t.end = OutputEnd::of(op, t.start, foldEpilogues);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    t.sizeM = ranges[c.m];
    t.sizeN = ranges[c.n];
    t.sizeK = ranges[c.k];
    return t;
  }

  /// Creates the launch with `workgroup` buffers (and the prologue's),
  /// moves `b` to the start of its body and returns the buffers.
  ValueRange build(OpBuilder &b, Location loc, ArrayRef<Type> workgroup) {
    KernelOps math{b, loc};
    if (prologue)
      prologue->prepare(b, loc);
    launch = createLaunch(b, loc, llvm::divideCeil(sizeN, kTile),
                          llvm::divideCeil(sizeM, kTile), kThreads, 1,
                          withPrologue(prologue, workgroup, kTile, kThreads));
    b.setInsertionPointToStart(&launch.getBody().front());
    tid = launch.getThreadIds().x;
    m0 = math.mul(launch.getBlockIds().y, math.idx(kTile));
    n0 = math.mul(launch.getBlockIds().x, math.idx(kTile));
    Value warp = arith::DivUIOp::create(b, loc, tid, math.idx(32));
    warpM = math.mul(arith::DivUIOp::create(b, loc, warp, math.idx(2)),
                     math.idx(16));
    warpN = math.mul(arith::RemUIOp::create(b, loc, warp, math.idx(2)),
                     math.idx(16));
    cM = math.idx(sizeM);
    cN = math.idx(sizeN);
    cK = math.idx(sizeK);
    c0 = math.idx(0);
    ValueRange buffers = launch.getWorkgroupAttributions();
    if (prologue)
      prologue->computeStatistics(b, loc, buffers.drop_front(workgroup.size()),
                                  tid, kThreads, m0, kTile);
    return buffers.take_front(workgroup.size());
  }

  /// A thread's place in the `mma.sync` fragments of its warp (lane =
  /// 4 * group + quad) and the output elements of its eight accumulators:
  /// accumulator i of half h is row group + 8 (i / 2), column
  /// 8 h + 2 quad + i % 2 of the warp's quarter (m16n8k16 and m16n8k8 lay
  /// their accumulators out alike).
  struct MmaSyncLanes {
    Value group, quad;
    SmallVector<Value> rows, cols;
  };

  MmaSyncLanes mmaSyncLanes(OpBuilder &b, Location loc) const {
    KernelOps math{b, loc};
    MmaSyncLanes lanes;
    Value lane = arith::RemUIOp::create(b, loc, tid, math.idx(32));
    lanes.group = arith::DivUIOp::create(b, loc, lane, math.idx(4));
    lanes.quad = arith::RemUIOp::create(b, loc, lane, math.idx(4));
    Value pair = math.mul(lanes.quad, math.idx(2));
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 4; ++i) {
        lanes.rows.push_back(math.add(
            m0, math.add(warpM, math.add(lanes.group, math.idx(8 * (i / 2))))));
        lanes.cols.push_back(math.add(
            n0, math.add(warpN, math.add(pair, math.idx(8 * h + i % 2)))));
      }
    return lanes;
  }

  Value inBounds(OpBuilder &b, Location loc, const MmaSyncLanes &lanes,
                 int64_t i) const {
    KernelOps math{b, loc};
    return math.both(math.less(lanes.rows[i], cM),
                     math.less(lanes.cols[i], cN));
  }

  /// The initial values of the eight accumulators.
  SmallVector<Value> initialAccumulators(OpBuilder &b, Location loc,
                                         const MmaSyncLanes &lanes) const {
    SmallVector<Value> init;
    for (int64_t i = 0; i < 8; ++i)
      init.push_back(start.initial(b, loc, inBounds(b, loc, lanes, i),
                                   c.at(lanes.rows[i], lanes.cols[i], c0),
                                   b.getF32Type()));
    return init;
  }

  /// Stores the eight accumulators' final values.
  void storeAccumulators(OpBuilder &b, Location loc, const MmaSyncLanes &lanes,
                         ValueRange results) const {
    for (int64_t i = 0; i < 8; ++i)
      end.store(b, loc, inBounds(b, loc, lanes, i), lanes.rows[i],
                lanes.cols[i], results[i]);
  }

  /// A loop over the K steps, carrying `init`.
  scf::ForOp kLoop(OpBuilder &b, Location loc, ValueRange init = {}) {
    KernelOps math{b, loc};
    return scf::ForOp::create(b, loc, c0,
                              math.idx(llvm::divideCeil(sizeK, kTile)),
                              math.idx(1), init);
  }

  /// Stages the K step at `k0`: lhs into aTile[m][k], rhs into bTile[k][n]
  /// or, with `bByN`, bTile[n][k]; as `half` (f32 is rounded to TF32),
  /// zero off the edges.
  /// Consecutive threads take consecutive k: contiguous reads of a
  /// row-major lhs and of out_in weights.
  void stage(OpBuilder &b, Location loc, Value k0, Value aTile, Value bTile,
             bool bByN) {
    KernelOps math{b, loc};
    forSquareElements(b, loc, tid, kTile, kThreads, [&](Value r, Value kk) {
      Value k = math.add(k0, kk);
      Value kIn = math.less(k, cK);
      Value m = math.add(m0, r), n = math.add(n0, r);
      // TF32 values are f32 values with 13 mantissa bits cleared.
      auto staged = [&](Value v) {
        return half.isF32() ? tmc::roundToTf32(b, loc, v) : v;
      };
      Value mIn = math.both(math.less(m, cM), kIn);
      Value a = staged(
          prologue ? tmc::roundedOrZero(b, loc, mIn, half,
                                        [&] {
                                          return prologue->load(b, loc, m, k);
                                        })
                   : loadConverted(b, loc, op, lhs, c.at(m, c0, k), mIn, half));
      memref::StoreOp::create(b, loc, a, aTile, ValueRange{r, kk});
      Value nIn = math.both(math.less(n, cN), kIn);
      Value bv = staged(
          weight ? tmc::roundedOrZero(b, loc, nIn, half,
                                      [&] { return weight(b, loc, n, k); })
                 : loadConverted(b, loc, op, rhs, c.at(c0, n, k), nIn, half));
      memref::StoreOp::create(b, loc, bv, bTile,
                              bByN ? ValueRange{r, kk} : ValueRange{kk, r});
    });
  }
};

/// A tensor-core kernel: `Derived::emit(tiling, builder, loc)` builds the
/// launch (`TensorCoreTiling::build`) for the contractions of
/// `Derived::half(context)` inputs.
template <typename Derived>
struct TensorCorePattern : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  TensorCorePattern(MLIRContext *ctx, bool foldEpilogues)
      : OpInterfaceRewritePattern(ctx, /*benefit=*/2),
        foldEpilogues(foldEpilogues) {}

  /// The tiling of `op` if this pattern applies to it; by default, plain
  /// contractions multiply-accumulating `Derived::half` inputs.
  static FailureOr<TensorCoreTiling>
  matchTiling(linalg::LinalgOp op, PatternRewriter &rewriter,
              bool foldEpilogues) {
    return TensorCoreTiling::match(op, rewriter, Derived::half(op->getContext()),
                                   foldEpilogues);
  }

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<TensorCoreTiling> tiling =
        Derived::matchTiling(op, rewriter, foldEpilogues);
    if (failed(tiling))
      return failure();
    OpBuilder::InsertionGuard guard(rewriter);
    tiling->end.setInsertionPoint(rewriter);
    static_cast<const Derived *>(this)->emit(*tiling, rewriter, op.getLoc());
    gpu::TerminatorOp::create(rewriter, op.getLoc());
    tiling->start.markFolded(rewriter);
    tiling->end.markFolded(rewriter);
    rewriter.eraseOp(op);
    return success();
  }

  bool foldEpilogues;
};

/// f16 contractions as warp-level matrix multiply-accumulate (WMMA): each
/// warp accumulates its 16 x 16 quarter with two 16 x 16 x 16 MMAs per K
/// step, its accumulator kept in a shared f32 tile between steps.
struct MmaContraction : public TensorCorePattern<MmaContraction> {
  using TensorCorePattern::TensorCorePattern;

  static constexpr int64_t kTile = TensorCoreTiling::kTile, kFragment = 16;

  static Type half(MLIRContext *ctx) { return Float16Type::get(ctx); }

  void emit(TensorCoreTiling &t, OpBuilder &b, Location loc) const {
    Contraction c = t.c;
    KernelOps math{b, loc};
    Type f16 = b.getF16Type(), f32 = b.getF32Type();
    // aTile[m][k], bTile[k][n] (f16) and cTile[m][n] (f32).
    ValueRange tiles = t.build(b, loc,
                               {workgroupMemRefType({kTile, kTile}, f16),
                                workgroupMemRefType({kTile, kTile}, f16),
                                workgroupMemRefType({kTile, kTile}, f32)});
    Value aTile = tiles[0], bTile = tiles[1], cTile = tiles[2];
    auto forTileElements = [&](function_ref<void(Value, Value)> body) {
      forSquareElements(b, loc, t.tid, kTile, TensorCoreTiling::kThreads,
                        body);
    };

    // The initial accumulator: the output's tile, or the bias it was about
    // to be set to (zero off the edge).
    forTileElements([&](Value r, Value col) {
      Value m = math.add(t.m0, r), n = math.add(t.n0, col);
      Value v = t.start.initial(
          b, loc, math.both(math.less(m, t.cM), math.less(n, t.cN)),
          c.at(m, n, t.c0), f32);
      memref::StoreOp::create(b, loc, v, cTile, ValueRange{r, col});
    });
    gpu::BarrierOp::create(b, loc);
    auto leadDim = b.getIndexAttr(kTile);
    auto fragment = [&](Type element, StringRef operand) {
      return gpu::MMAMatrixType::get({kFragment, kFragment}, element, operand);
    };
    // The accumulator lives in cTile between steps (each warp its own
    // quarter): MMA fragments cannot be loop-carried through the NVVM
    // lowering's structural type conversion.
    auto kLoop = t.kLoop(b, loc);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = math.mul(kLoop.getInductionVar(), math.idx(kTile));
      t.stage(b, loc, k0, aTile, bTile, /*bByN=*/false);
      gpu::BarrierOp::create(b, loc);
      Value sum = gpu::SubgroupMmaLoadMatrixOp::create(
          b, loc, fragment(f32, "COp"), cTile, ValueRange{t.warpM, t.warpN},
          leadDim, /*transpose=*/nullptr);
      for (int64_t ks = 0; ks < kTile; ks += kFragment) {
        Value a = gpu::SubgroupMmaLoadMatrixOp::create(
            b, loc, fragment(f16, "AOp"), aTile,
            ValueRange{t.warpM, math.idx(ks)}, leadDim,
            /*transpose=*/nullptr);
        Value bv = gpu::SubgroupMmaLoadMatrixOp::create(
            b, loc, fragment(f16, "BOp"), bTile,
            ValueRange{math.idx(ks), t.warpN}, leadDim,
            /*transpose=*/nullptr);
        sum = gpu::SubgroupMmaComputeOp::create(b, loc, sum.getType(), a, bv,
                                                sum, /*a_transpose=*/nullptr,
                                                /*b_transpose=*/nullptr);
      }
      gpu::SubgroupMmaStoreMatrixOp::create(b, loc, sum, cTile,
                                            ValueRange{t.warpM, t.warpN},
                                            leadDim, /*transpose=*/nullptr);
      gpu::BarrierOp::create(b, loc);
    }
    // The K loop's last barrier (or, without K steps, the one after the
    // initial copy) orders the stores to cTile before these reads.
    forTileElements([&](Value r, Value col) {
      Value m = math.add(t.m0, r), n = math.add(t.n0, col);
      Value v = memref::LoadOp::create(b, loc, cTile, ValueRange{r, col});
      t.end.store(b, loc, math.both(math.less(m, t.cM), math.less(n, t.cN)),
                  m, n, v);
    });
  }
};

/// The `mma.sync` kernels, for bf16 operands (m16n8k16; upstream's WMMA
/// fragment types have no bf16) and for f32 ones as TF32 (m16n8k8), sm_80
/// and later: each warp gathers its fragments from workgroup tiles into
/// registers itself, in the layout the PTX ISA gives (lane = 4 * group +
/// quad; WarpMma.h), and issues `nvvm.mma.sync` with f32 accumulators.
/// Each warp's quarter is two 16 x 8 halves whose accumulators (8 f32 per
/// thread) stay in registers across the K loop; the block stages A as
/// [m][k] and B as [n][k], so a bf16 register is two consecutive elements
/// of a tile row (rows padded to keep 16-byte alignment) and a TF32
/// register one element (rows padded by 4, so that a warp's 32 fragment
/// loads hit 32 banks). TF32 operands are the inputs rounded to TF32 (10
/// mantissa bits, to nearest, ties away from zero, as `cvt.rna.tf32.f32`
/// does); products of TF32 values are exact in f32, so the error is that
/// of the rounded inputs (about 2^-11 relative each).
template <typename Derived>
struct MmaSyncPattern : public TensorCorePattern<Derived> {
  using TensorCorePattern<Derived>::TensorCorePattern;

  static constexpr int64_t kTile = TensorCoreTiling::kTile;

  void emit(TensorCoreTiling &t, OpBuilder &b, Location loc) const {
    KernelOps math{b, loc};
    Type type = t.half;
    ValueRange tiles =
        t.build(b, loc,
                {workgroupMemRefType({kTile, kTile + padding(type)}, type),
                 workgroupMemRefType({kTile, kTile + padding(type)}, type)});
    Value aTile = tiles[0], bTile = tiles[1];
    TensorCoreTiling::MmaSyncLanes lanes = t.mmaSyncLanes(b, loc);
    // The lane's fragment column: its quad for TF32, twice that for 16-bit
    // types (two elements per register).
    Value col = type.isF32() ? lanes.quad : math.mul(lanes.quad, math.idx(2));
    auto kLoop = t.kLoop(b, loc, t.initialAccumulators(b, loc, lanes));
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = math.mul(kLoop.getInductionVar(), math.idx(kTile));
      t.stage(b, loc, k0, aTile, bTile, /*bByN=*/true);
      gpu::BarrierOp::create(b, loc);
      // The warp's A fragments, per 16 along the K step.
      SmallVector<SmallVector<Value, 8>> aRegs;
      for (int64_t ks = 0; ks < kTile; ks += 16)
        aRegs.push_back(tmc::loadMmaA(b, loc, aTile,
                                      math.add(t.warpM, lanes.group),
                                      math.add(col, math.idx(ks))));
      SmallVector<Value> acc(kLoop.getRegionIterArgs());
      for (int64_t h = 0; h < 2; ++h) {
        Value n = math.add(t.warpN, math.add(lanes.group, math.idx(8 * h)));
        SmallVector<Value, 4> sums = tmc::accumulateMmaSync(
            b, loc, type, aRegs, bTile, n, col,
            ArrayRef<Value>(acc).slice(4 * h, 4));
        llvm::copy(sums, acc.begin() + 4 * h);
      }
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, acc);
    }
    t.storeAccumulators(b, loc, lanes, kLoop.getResults());
  }

private:
  /// Tile rows padded to keep 16-byte alignment (16-bit types), or by 4
  /// floats, so that a warp's 32 TF32 fragment loads hit 32 banks.
  static int64_t padding(Type type) { return type.isF32() ? 4 : 8; }
};

/// bf16 contractions on tensor cores with `mma.sync` m16n8k16.
struct MmaSyncContraction : public MmaSyncPattern<MmaSyncContraction> {
  using MmaSyncPattern::MmaSyncPattern;

  static Type half(MLIRContext *ctx) { return BFloat16Type::get(ctx); }
};

/// f32 contractions on tensor cores as TF32 (`tf32`) with `mma.sync`
/// m16n8k8.
struct MmaSyncTf32Contraction : public MmaSyncPattern<MmaSyncTf32Contraction> {
  using MmaSyncPattern::MmaSyncPattern;

  static Type half(MLIRContext *ctx) { return Float32Type::get(ctx); }
};

/// A weight-only quantized contraction: `out += x * D` where `x` is the
/// first input, indexed by (m, k), and `D`, the dequantized weight, is
/// computed in the payload from the other inputs (packed weights, scales,
/// zero points: indexed by n and k only, through any affine map) and from
/// `linalg.index` of n and k.
struct DequantMatch {
  Contraction c;
  /// The payload value of D, and whether the product is `D * x`.
  Value dequantized;
  bool productOperandsSwapped, sumOperandsSwapped;
  /// The payload ops D is computed by.
  SetVector<Operation *> slice;

  /// `acc + x * w` (w a dequantized weight), in the payload's operand
  /// orders.
  Value accumulate(OpBuilder &b, Location loc, Value acc, Value x,
                   Value w) const {
    Value product = productOperandsSwapped ? arith::MulFOp::create(b, loc, w, x)
                                           : arith::MulFOp::create(b, loc, x, w);
    return sumOperandsSwapped ? arith::AddFOp::create(b, loc, product, acc)
                              : arith::AddFOp::create(b, loc, acc, product);
  }
};

static FailureOr<DequantMatch> matchDequantContraction(linalg::LinalgOp op) {
  if (op->getParentOfType<gpu::LaunchOp>() || !op.hasPureBufferSemantics() ||
      op.getNumLoops() != 3 || op.getNumDpsInputs() < 2 ||
      op.getNumDpsInits() != 1)
    return failure();
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape())
      return failure();
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return failure();
  DequantMatch match;
  Contraction &c = match.c;
  c.lhs = 0;
  c.k =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.getNumResults() != 2)
    return failure();
  c.m = outMap.getDimPosition(0);
  c.n = outMap.getDimPosition(1);
  if (c.m == c.k || c.n == c.k)
    return failure();
  AffineMap xMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  if (!xMap.isProjectedPermutation() || xMap.getNumResults() != 2 ||
      !xMap.isFunctionOfDim(c.m) || !xMap.isFunctionOfDim(c.k))
    return failure();
  for (unsigned i = 1, e = op.getNumDpsInputs(); i < e; ++i)
    if (op.getMatchingIndexingMap(op.getDpsInputOperand(i))
            .isFunctionOfDim(c.m))
      return failure();
  Block &body = op->getRegion(0).front();
  Type f32 = Float32Type::get(op->getContext());
  if (body.getArgument(0).getType() != f32 ||
      body.getArguments().back().getType() != f32)
    return failure();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  Value acc = body.getArguments().back(), x = body.getArgument(0);
  if (!add || (add.getLhs() != acc && add.getRhs() != acc))
    return failure();
  match.sumOperandsSwapped = add.getRhs() == acc;
  Value product = match.sumOperandsSwapped ? add.getLhs() : add.getRhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || (mul.getLhs() != x && mul.getRhs() != x))
    return failure();
  match.productOperandsSwapped = mul.getRhs() == x;
  match.dequantized = match.productOperandsSwapped ? mul.getLhs() : mul.getRhs();
  if (match.dequantized == x || match.dequantized == acc)
    return failure();
  // D must not depend on x, the accumulator or m.
  BackwardSliceOptions options;
  options.filter = [&](Operation *o) { return o->getBlock() == &body; };
  options.inclusive = true;
  (void)getBackwardSlice(match.dequantized, &match.slice, options);
  for (Operation *def : match.slice) {
    if (!isMemoryEffectFree(def) || def->getNumRegions() != 0 ||
        llvm::is_contained(def->getOperands(), x) ||
        llvm::is_contained(def->getOperands(), acc))
      return failure();
    if (auto index = dyn_cast<linalg::IndexOp>(def))
      if (index.getDim() == c.m)
        return failure();
  }
  if (!product.hasOneUse())
    return failure();
  return match;
}

/// The dequantized weight D at (n, k) of the contraction `op` that `match`
/// describes: its other inputs loaded there and the payload's ops D
/// depends on cloned, in payload order (`linalg.index` of n or k becomes
/// that index).
static Value dequantizedWeight(OpBuilder &b, Location loc, linalg::LinalgOp op,
                               const DequantMatch &match, Value n, Value k) {
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> dims = match.c.at(c0, n, k);
  Block &payload = op->getRegion(0).front();
  IRMapping mapping;
  for (unsigned i = 1, e = op.getNumDpsInputs(); i < e; ++i) {
    OpOperand *input = op.getDpsInputOperand(i);
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(
          affine::expandAffineExpr(b, loc, expr, dims, ValueRange{}));
    mapping.map(payload.getArgument(input->getOperandNumber()),
                memref::LoadOp::create(b, loc, input->get(), indices));
  }
  for (Operation &nested : payload.without_terminator()) {
    if (!match.slice.contains(&nested))
      continue;
    if (auto indexOp = dyn_cast<linalg::IndexOp>(nested)) {
      mapping.map(indexOp.getResult(), dims[indexOp.getDim()]);
      continue;
    }
    b.clone(nested, mapping);
  }
  return mapping.lookupOrDefault(match.dequantized);
}

/// Weight-only quantized contractions with shared-memory tiles: a block of
/// `tile` x `tile` threads computes a `tile` x `tile` output tile; per step
/// of `tile` along K it stages the activations and the *dequantized*
/// weights (the payload's dequantization, cloned) in workgroup memory, so
/// each packed weight is read and dequantized once per block instead of
/// once per output row.
struct DequantContraction
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  DequantContraction(MLIRContext *ctx, int64_t tile, bool foldEpilogues)
      : OpInterfaceRewritePattern(ctx), tile(tile),
        foldEpilogues(foldEpilogues) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<DequantMatch> matched = matchDequantContraction(op);
    if (failed(matched))
      return rewriter.notifyMatchFailure(op, "not a dequantizing contraction");
    DequantMatch match = *matched;
    Contraction c = match.c;
    OutputStart start = OutputStart::of(op);
    std::optional<NormPrologue> prologue =
        NormPrologue::of(op, op.getDpsInputOperand(0));
    OutputEnd end = OutputEnd::of(op, start, foldEpilogues);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t sizeM = ranges[c.m], sizeN = ranges[c.n], sizeK = ranges[c.k];
    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    end.setInsertionPoint(rewriter);
    OpBuilder &b = rewriter;
    KernelOps math{b, loc};
    Type f32 = b.getF32Type();
    Type wType = match.dequantized.getType();
    if (prologue)
      prologue->prepare(b, loc);
    auto launch = createLaunch(
        b, loc, llvm::divideCeil(sizeN, tile), llvm::divideCeil(sizeM, tile),
        tile, tile,
        withPrologue(prologue,
                     {workgroupMemRefType({tile, tile}, f32),
                      workgroupMemRefType({tile, tile}, wType)},
                     tile, tile * tile));
    rewriter.setInsertionPointToStart(&launch.getBody().front());
    Value one = math.idx(1), t = math.idx(tile);
    // xTile[m][k] and wTile[k][n] (dequantized).
    Value xTile = launch.getWorkgroupAttributions()[0];
    Value wTile = launch.getWorkgroupAttributions()[1];
    Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
    Value m0 = math.mul(launch.getBlockIds().y, t);
    Value n0 = math.mul(launch.getBlockIds().x, t);
    Value linear = math.add(math.mul(ty, t), tx);
    if (prologue)
      prologue->computeStatistics(
          b, loc, launch.getWorkgroupAttributions().drop_front(2), linear,
          tile * tile, m0, tile);
    Value row = math.add(m0, ty), col = math.add(n0, tx);
    Value cM = math.idx(sizeM), cN = math.idx(sizeN), cK = math.idx(sizeK);
    Value c0 = math.idx(0);
    Value inBounds = math.both(math.less(row, cM), math.less(col, cN));
    OpOperand *xOperand = op.getDpsInputOperand(0);
    Value init = start.initial(b, loc, inBounds, c.at(row, col, c0), f32);

    auto kLoop = scf::ForOp::create(b, loc, c0,
                                    math.idx(llvm::divideCeil(sizeK, tile)), one,
                                    ValueRange{init});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = math.mul(kLoop.getInductionVar(), t);
      // Activations: thread (ty, tx) copies x(row, k0 + tx).
      Value xk = math.add(k0, tx);
      Value xv = tmc::roundedOrZero(
          b, loc, math.both(math.less(row, cM), math.less(xk, cK)), f32,
          [&]() -> Value {
            if (prologue)
              return prologue->load(b, loc, row, xk);
            return memref::LoadOp::create(
                b, loc, xOperand->get(),
                indicesFor(op, xOperand, c.at(row, c0, xk)));
          });
      memref::StoreOp::create(b, loc, xv, xTile, ValueRange{ty, tx});
      // Weights: linear thread i dequantizes (n0 + i / tile, k0 + i % tile),
      // consecutive threads along k (contiguous packed rows).
      Value kk = arith::RemUIOp::create(b, loc, linear, t);
      Value nn = arith::DivUIOp::create(b, loc, linear, t);
      Value n = math.add(n0, nn), k = math.add(k0, kk);
      Value wv = tmc::roundedOrZero(
          b, loc, math.both(math.less(n, cN), math.less(k, cK)), wType,
          [&]() { return dequantizedWeight(b, loc, op, match, n, k); });
      memref::StoreOp::create(b, loc, wv, wTile, ValueRange{kk, nn});
      gpu::BarrierOp::create(b, loc);

      Value kLimit =
          arith::MinUIOp::create(b, loc, t, arith::SubIOp::create(b, loc, cK, k0));
      auto inner = scf::ForOp::create(b, loc, c0, kLimit, one,
                                      ValueRange{kLoop.getRegionIterArgs()[0]});
      {
        OpBuilder::InsertionGuard gi(b);
        b.setInsertionPointToStart(inner.getBody());
        Value j = inner.getInductionVar();
        Value xj = memref::LoadOp::create(b, loc, xTile, ValueRange{ty, j});
        Value wj = memref::LoadOp::create(b, loc, wTile, ValueRange{j, tx});
        scf::YieldOp::create(
            b, loc,
            match.accumulate(b, loc, inner.getRegionIterArgs()[0], xj, wj));
      }
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, inner.getResult(0));
    }
    end.store(b, loc, inBounds, row, col, kLoop.getResult(0));
    gpu::TerminatorOp::create(b, loc);
    start.markFolded(rewriter);
    end.markFolded(rewriter);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t tile;
  bool foldEpilogues;
};

/// Weight-only quantized contractions (`DequantMatch`, f32 dequantized
/// weights) on tensor cores as TF32 (`tf32`): the TF32 kernel, its B tile
/// the dequantized weights (each packed weight dequantized once per block,
/// as in the scalar kernel), rounded to TF32 like the activations.
struct DequantTf32Contraction : public MmaSyncPattern<DequantTf32Contraction> {
  using MmaSyncPattern::MmaSyncPattern;

  static FailureOr<TensorCoreTiling>
  matchTiling(linalg::LinalgOp op, PatternRewriter &rewriter,
              bool foldEpilogues) {
    // Plain contractions (two inputs loaded as they are) are the other
    // tensor-core kernels' or the scalar kernel's.
    if (succeeded(matchContraction(op, rewriter)))
      return failure();
    FailureOr<DequantMatch> matched = matchDequantContraction(op);
    if (failed(matched) || !matched->dequantized.getType().isF32())
      return rewriter.notifyMatchFailure(
          op, "not a contraction with f32 dequantized weights");
    TensorCoreTiling t = TensorCoreTiling::of(
        op, matched->c, rewriter.getF32Type(), op.getDpsInputOperand(0),
        /*rhs=*/nullptr, foldEpilogues);
    t.weight = [op, match = *matched](OpBuilder &b, Location loc, Value n,
                                      Value k) {
      return dequantizedWeight(b, loc, op, match, n, k);
    };
    return t;
  }
};


/// Whether `op`'s payload yields `out + g(...)` (either order) in a float
/// type, `out` read by that addition alone: a sum over K that may be
/// split into partial sums.
static bool isAdditivePayload(linalg::LinalgOp op) {
  Block &body = op->getRegion(0).front();
  Value acc = body.getArguments().back();
  if (!isa<FloatType>(acc.getType()) || !acc.hasOneUse())
    return false;
  auto add = cast<linalg::YieldOp>(body.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<arith::AddFOp>();
  return add && add->getBlock() == &body &&
         (add.getLhs() == acc || add.getRhs() == acc);
}

/// Contractions with few rows (M <= `maxRows`: a decoding step's token),
/// plain ones whose payload adds to the output (`isAdditivePayload`) and
/// weight-only quantized ones: such a product reads each weight once, so
/// it is bound by the weights' bytes, and the tiled kernels, whose blocks
/// span 16 or more rows, would leave most of their threads idle and few
/// blocks reading. Here a block of kThreads threads owns numColumns output
/// columns (8, or fewer while that leaves fewer than `minBlocks` blocks),
/// numSlices = kThreads / numColumns threads per column: each thread sums
/// the products of every row over one numSlices-th of K (k = slice,
/// slice + numSlices, ...; kUnroll steps per iteration, their loads
/// issued together), the partial sums meet in a tree in workgroup memory,
/// and one thread per output adds the total to the output's start and
/// stores the result through the epilogue. Consecutive threads take
/// consecutive k where the weights are contiguous (or packed) along K (a
/// warp reads 128 contiguous bytes of one column), else consecutive
/// columns.
struct RowContraction : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  static constexpr int64_t kThreads = 256, kMaxColumns = 8, kUnroll = 4;

  RowContraction(MLIRContext *ctx, int64_t maxRows, int64_t minBlocks,
                 bool foldEpilogues)
      : OpInterfaceRewritePattern(ctx, /*benefit=*/2), maxRows(maxRows),
        minBlocks(minBlocks), foldEpilogues(foldEpilogues) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    Contraction c;
    std::optional<DequantMatch> dequant;
    if (FailureOr<Contraction> plain = matchContraction(op, rewriter);
        succeeded(plain)) {
      if (!isAdditivePayload(op))
        return rewriter.notifyMatchFailure(op, "payload not out + g(a, b)");
      c = *plain;
    } else if (FailureOr<DequantMatch> matched = matchDequantContraction(op);
               succeeded(matched)) {
      dequant = std::move(*matched);
      c = dequant->c;
    } else {
      return rewriter.notifyMatchFailure(op, "not a contraction");
    }
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t sizeM = ranges[c.m], sizeN = ranges[c.n], sizeK = ranges[c.k];
    if (sizeM > maxRows)
      return rewriter.notifyMatchFailure(op, "more rows than row kernels take");
    OpOperand *lhs = op.getDpsInputOperand(c.lhs);
    OpOperand *rhs = op.getDpsInputOperand(dequant ? 1 : 1 - c.lhs);
    OpOperand *out = op.getDpsInitOperand(0);
    // Whether the weights are contiguous (or packed) along K.
    bool kFastest = isInnermost(op, rhs, c.k);
    // Before any op is created in front of `op`.
    OutputStart start = OutputStart::of(op);
    std::optional<NormPrologue> prologue = NormPrologue::of(op, lhs);
    OutputEnd end = OutputEnd::of(op, start, foldEpilogues);

    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    end.setInsertionPoint(rewriter);
    OpBuilder &b = rewriter;
    KernelOps math{b, loc};
    Type accType = cast<MemRefType>(out->get().getType()).getElementType();
    // Fewer columns per block (down to one) while that leaves fewer than
    // minBlocks blocks: more threads per column, each with fewer loads
    // in sequence.
    int64_t numColumns = kMaxColumns;
    while (numColumns > 1 &&
           llvm::divideCeilSigned(sizeN, numColumns) < minBlocks)
      numColumns /= 2;
    int64_t numSlices = kThreads / numColumns;
    if (prologue)
      prologue->prepare(b, loc);
    // partials[slice][column * M + m].
    auto launch = createLaunch(
        b, loc, llvm::divideCeil(sizeN, numColumns), 1, kThreads, 1,
        withPrologue(prologue,
                     {workgroupMemRefType({numSlices, numColumns * sizeM},
                                          accType)},
                     sizeM, kThreads));
    rewriter.setInsertionPointToStart(&launch.getBody().front());
    Value tid = launch.getThreadIds().x;
    Value partials = launch.getWorkgroupAttributions()[0];
    Value c0 = math.idx(0), cK = math.idx(sizeK);
    Value slices = math.idx(numSlices), columns = math.idx(numColumns);
    Value slice =
        kFastest ? arith::RemUIOp::create(b, loc, tid, slices).getResult()
                 : arith::DivUIOp::create(b, loc, tid, columns).getResult();
    Value column =
        kFastest ? arith::DivUIOp::create(b, loc, tid, slices).getResult()
                 : arith::RemUIOp::create(b, loc, tid, columns).getResult();
    Value n0 = math.mul(launch.getBlockIds().x, columns);
    // Columns past N compute column N - 1 again and store nothing, so the
    // loads need no guard.
    Value n = arith::MinUIOp::create(b, loc, math.add(n0, column),
                                     math.idx(sizeN - 1));
    if (prologue)
      prologue->computeStatistics(
          b, loc, launch.getWorkgroupAttributions().drop_front(1), tid,
          kThreads, c0, sizeM);

    // Adds the products at `ks` (all below K) to `accs` (one per row).
    Block &payload = op->getRegion(0).front();
    auto accumulate = [&](ValueRange accs, ArrayRef<Value> ks) {
      SmallVector<Value> weights, rows;
      for (Value k : ks)
        weights.push_back(
            dequant ? dequantizedWeight(b, loc, op, *dequant, n, k)
                    : memref::LoadOp::create(b, loc, rhs->get(),
                                             indicesFor(op, rhs,
                                                        c.at(c0, n, k))));
      for (Value k : ks)
        for (int64_t m = 0; m < sizeM; ++m)
          rows.push_back(prologue ? prologue->load(b, loc, math.idx(m), k)
                                  : memref::LoadOp::create(
                                        b, loc, lhs->get(),
                                        indicesFor(op, lhs,
                                                   c.at(math.idx(m), c0, k))));
      SmallVector<Value> next(accs);
      for (auto [i, w] : llvm::enumerate(weights))
        for (int64_t m = 0; m < sizeM; ++m) {
          Value x = rows[i * sizeM + m];
          if (dequant) {
            next[m] = dequant->accumulate(b, loc, next[m], x, w);
            continue;
          }
          IRMapping mapping;
          mapping.map(payload.getArgument(lhs->getOperandNumber()), x);
          mapping.map(payload.getArgument(rhs->getOperandNumber()), w);
          mapping.map(payload.getArgument(out->getOperandNumber()), next[m]);
          for (Operation &nested : payload.without_terminator())
            b.clone(nested, mapping);
          next[m] =
              mapping.lookupOrDefault(payload.getTerminator()->getOperand(0));
        }
      return next;
    };
    auto kLoop = [&](Value lb, Value ub, int64_t unroll, ValueRange init) {
      auto loop = scf::ForOp::create(b, loc, lb, ub,
                                     math.idx(numSlices * unroll), init);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> ks;
      for (int64_t u = 0; u < unroll; ++u)
        ks.push_back(u == 0 ? loop.getInductionVar()
                            : math.add(loop.getInductionVar(),
                                       math.idx(u * numSlices)));
      scf::YieldOp::create(b, loc, accumulate(loop.getRegionIterArgs(), ks));
      return SmallVector<Value>(loop.getResults());
    };
    // Whole iterations of kUnroll steps, then the rest one step at a time.
    SmallVector<Value> accs(
        sizeM, arith::ConstantOp::create(b, loc, b.getZeroAttr(accType)));
    int64_t unrolledEnd = sizeK / (numSlices * kUnroll) * (numSlices * kUnroll);
    if (unrolledEnd > 0)
      accs = kLoop(slice, math.idx(unrolledEnd), kUnroll, accs);
    if (unrolledEnd < sizeK)
      accs = kLoop(math.add(slice, math.idx(unrolledEnd)), cK, 1, accs);
    Value sizeMValue = math.idx(sizeM);
    Value base = math.mul(column, sizeMValue);
    for (int64_t m = 0; m < sizeM; ++m)
      math.store(accs[m], partials, {slice, math.add(base, math.idx(m))});
    gpu::BarrierOp::create(b, loc);

    // The partial sums of each output meet in a tree over the slices: at
    // each level the lower half of the slices adds the upper half's sums
    // to its own.
    for (int64_t half = numSlices / 2; half >= 1; half /= 2) {
      Value h = math.idx(half);
      math.ifThen(math.less(slice, h), [&] {
        for (int64_t m = 0; m < sizeM; ++m) {
          Value at = math.add(base, math.idx(m));
          math.store(arith::AddFOp::create(
                         b, loc, math.load(partials, {slice, at}),
                         math.load(partials, {math.add(slice, h), at})),
                     partials, {slice, at});
        }
      });
      gpu::BarrierOp::create(b, loc);
    }
    // Thread t < numColumns * M: the output at row t % M, column n0 + t / M.
    math.ifThen(math.less(tid, math.idx(numColumns * sizeM)), [&] {
      Value row = arith::RemUIOp::create(b, loc, tid, sizeMValue);
      Value col =
          math.add(n0, arith::DivUIOp::create(b, loc, tid, sizeMValue));
      Value inBounds = math.less(col, math.idx(sizeN));
      Value init = start.initial(b, loc, inBounds, c.at(row, col, c0), accType);
      Value sum = arith::AddFOp::create(b, loc, init,
                                        math.load(partials, {c0, tid}));
      end.store(b, loc, inBounds, row, col, sum);
    });
    gpu::TerminatorOp::create(b, loc);
    start.markFolded(rewriter);
    end.markFolded(rewriter);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t maxRows, minBlocks;
  bool foldEpilogues;
};

} // namespace

OpOperand *tmc::getMatmulKernelInput(linalg::LinalgOp op) {
  PatternRewriter probe(op->getContext());
  if (FailureOr<Contraction> c = matchContraction(op, probe); succeeded(c))
    return op.getDpsInputOperand(c->lhs);
  if (succeeded(matchDequantContraction(op)))
    return op.getDpsInputOperand(0);
  return nullptr;
}

namespace {

struct TmcGpuTileMatmulsPass
    : public tmc::impl::TmcGpuTileMatmulsBase<TmcGpuTileMatmulsPass> {
  using TmcGpuTileMatmulsBase::TmcGpuTileMatmulsBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(checkOptionRange(root, getArgument(), "register-tile",
                                registerTile, 1, 8)))
      return signalPassFailure();
    if (tile < 1 || tile * tile > 1024) {
      root->emitError("tmc-gpu-tile-matmuls: tile * tile must be a "
                               "block size in [1, 1024], got tile = ")
          << static_cast<int64_t>(tile);
      return signalPassFailure();
    }
    if (failed(checkOptionRange(root, getArgument(), "min-blocks", minBlocks,
                                0)) ||
        failed(checkOptionRange(root, getArgument(), "row-kernel-rows",
                                rowKernelRows, 0, 16)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<TileContraction>(&getContext(), tile, registerTile,
                                  minBlocks, epilogues);
    patterns.add<DequantContraction>(&getContext(), tile, epilogues);
    if (rowKernelRows > 0)
      patterns.add<RowContraction>(&getContext(), rowKernelRows, minBlocks,
                                   epilogues);
    if (tensorCores)
      patterns.add<MmaContraction, MmaSyncContraction>(&getContext(),
                                                       epilogues);
    if (tf32)
      patterns.add<MmaSyncTf32Contraction, DequantTf32Contraction>(
          &getContext(), epilogues);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    // The fills and broadcasts whose values the kernels now start from, and
    // the elementwise ops they now apply before their stores.
    getOperation().walk([](linalg::LinalgOp folded) {
      if (folded->hasAttr(kFoldedInit))
        folded->erase();
    });
    // The norms the kernels now apply, with the reshapes of their results
    // the kernels read through; any other reader has no buffer to read.
    SmallVector<tfm::LazyNormOp> norms;
    getOperation().walk([&](tfm::LazyNormOp norm) { norms.push_back(norm); });
    for (tfm::LazyNormOp norm : norms) {
      ReshapeFamily family = ReshapeFamily::of(norm.getResult());
      if (!family.uses.empty()) {
        InFlightDiagnostic diag = family.uses.front()->getOwner()->emitError(
            "reads the result of a tfm.lazy_norm, which only the (m, k) "
            "input of a matmul kernel may read");
        diag.attachNote(norm.getLoc()) << "the norm";
        return signalPassFailure();
      }
      for (Operation *view : llvm::reverse(family.reshapes))
        view->erase();
      norm->erase();
    }
  }
};

} // namespace
