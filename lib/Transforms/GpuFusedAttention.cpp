//===- GpuFusedAttention.cpp - One GPU kernel per attention op --*- C++ -*-===//
//
// This file implements `tmc-gpu-fused-attention`, which rewrites each
// tfm.fused_attention into one gpu.launch: a block per (query tile, head,
// batch) runs the online softmax over the key blocks the mask leaves, with
// keys and values staged in workgroup memory.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "tmc/Dialect/Tfm/IR/AttentionBlockTable.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <limits>
#include <map>
#include <tuple>

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUFUSEDATTENTION
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Shared-memory budget of one key/value chunk, in f32 elements (keys and
/// values together: 32 KiB, below the 48 KiB of static shared memory).
constexpr int64_t kChunkElements = 8192;

/// The constant globals of a sparsity pattern's block table.
struct TableGlobals {
  memref::GlobalOp offsets, keyBlocks, maskIndex, masks;
};

/// What a block table depends on: the pattern, causal, the sequence lengths
/// and the tile sizes. Attention ops with the same key share one table.
using TableKey =
    std::tuple<const void *, bool, int64_t, int64_t, int64_t, int64_t>;
using TableCache = std::map<TableKey, TableGlobals>;

/// Builds the body of one fused attention kernel.
class KernelBuilder {
public:
  KernelBuilder(PatternRewriter &b, tfm::FusedAttentionOp op, int64_t threads)
      : b(b), op(op), loc(op.getLoc()) {
    MemRefType qType = op.getQuery().getType();
    batch = qType.getDimSize(0);
    seqQ = qType.getDimSize(1);
    seqK = op.getKey().getType().getDimSize(1);
    heads = op.getNumHeads();
    group = heads / op.getNumKvHeads();
    headDim = op.getHeadDim();
    scale = op.getScale().convertToDouble();
    causal = op.getCausal();
    blockQ = std::min<int64_t>(op.getBlockQ(), seqQ);
    blockK = std::min<int64_t>(op.getBlockK(), seqK);
    shift = seqK - seqQ;
    this->threads = threads > 0 ? threads : blockQ;
    rowsPerThread = llvm::divideCeil(blockQ, this->threads);
    chunk = std::clamp<int64_t>(kChunkElements / (2 * headDim), 1, blockK);
  }

  /// Whether the op has a sparsity pattern (then a block table), and
  /// element masks for partially kept blocks.
  bool isSparse() const { return static_cast<bool>(tables.offsets); }
  bool hasMasks() const { return static_cast<bool>(tables.masks); }

  /// Creates the block table's globals (sparse patterns only), or finds
  /// those of an identical table in `cache`.
  void createTables(SymbolTable &symbols, TableCache &cache, ModuleOp module) {
    std::optional<tfm::SparsityPatternAttrInterface> pattern =
        op.getSparsity();
    if (!pattern)
      return;
    TableKey key(pattern->getAsOpaquePointer(), causal, seqQ, seqK, blockQ,
                 blockK);
    if (auto it = cache.find(key); it != cache.end()) {
      tables = it->second;
      return;
    }
    tfm::AttentionBlockTable table = tfm::buildAttentionBlockTable(
        *pattern, causal, seqQ, seqK, blockQ, blockK);
    createTableGlobals(symbols, module, table);
    cache[key] = tables;
  }

  void createTableGlobals(SymbolTable &symbols, ModuleOp module,
                          const tfm::AttentionBlockTable &table) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto global = [&](StringRef name, Type elementType,
                      DenseElementsAttr values) {
      auto type = MemRefType::get(values.getType().getShape(), elementType);
      auto op = memref::GlobalOp::create(
          b, loc, name, b.getStringAttr("private"), type, values,
          /*constant=*/true, /*alignment=*/b.getI64IntegerAttr(64));
      symbols.insert(op);
      return op;
    };
    auto i32Values = [&](ArrayRef<int32_t> values) {
      auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                        b.getI32Type());
      return DenseElementsAttr::get(type, values);
    };
    Type i32 = b.getI32Type();
    tables.offsets = global("__tmc_attention_offsets", i32,
                            i32Values(table.offsets));
    tables.keyBlocks =
        global("__tmc_attention_key_blocks", i32,
               i32Values(table.keyBlocks.empty()
                             ? ArrayRef<int32_t>{0}
                             : ArrayRef<int32_t>(table.keyBlocks)));
    tables.maskIndex =
        global("__tmc_attention_mask_index", i32,
               i32Values(table.maskIndex.empty()
                             ? ArrayRef<int32_t>{-1}
                             : ArrayRef<int32_t>(table.maskIndex)));
    if (table.numMasks > 0) {
      auto type = RankedTensorType::get(
          {static_cast<int64_t>(table.masks.size())}, b.getIntegerType(8));
      tables.masks = global(
          "__tmc_attention_masks", b.getIntegerType(8),
          DenseElementsAttr::get(type, ArrayRef<int8_t>(table.masks)));
    }
  }

  /// Replaces the op with its kernel.
  void build() {
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    auto workgroup =
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto privateSpace =
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Private);
    auto wgType = [&](ArrayRef<int64_t> shape) {
      return MemRefType::get(shape, f32, MemRefLayoutAttrInterface(),
                             workgroup);
    };
    auto privType = [&](ArrayRef<int64_t> shape) {
      return MemRefType::get(shape, f32, MemRefLayoutAttrInterface(),
                             privateSpace);
    };
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, idx(llvm::divideCeil(seqQ, blockQ)), idx(heads), idx(batch),
        idx(threads), one, one, /*dynamicSharedMemorySize=*/nullptr,
        /*asyncTokenType=*/nullptr, /*asyncDependencies=*/ValueRange{},
        /*workgroupAttributions=*/
        TypeRange{wgType({chunk, headDim}), wgType({chunk, headDim})},
        /*privateAttributions=*/
        TypeRange{privType({rowsPerThread, headDim}),
                  privType({rowsPerThread, headDim}),
                  privType({rowsPerThread}), privType({rowsPerThread}),
                  privType({chunk})});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    keys = launch.getWorkgroupAttributions()[0];
    values = launch.getWorkgroupAttributions()[1];
    ValueRange priv = launch.getPrivateAttributions();
    qRows = priv[0];
    acc = priv[1];
    rowMax = priv[2];
    rowSum = priv[3];
    scores = priv[4];
    tid = launch.getThreadIds().x;
    qb = launch.getBlockIds().x;
    head = launch.getBlockIds().y;
    bIdx = launch.getBlockIds().z;

    q0 = mul(qb, idx(blockQ));
    qLen = arith::MinUIOp::create(b, loc, idx(blockQ), sub(idx(seqQ), q0));
    qFeature = mul(head, idx(headDim));
    kvFeature =
        mul(arith::DivUIOp::create(b, loc, head, idx(group)), idx(headDim));

    emitInit();
    emitKeyLoop();
    emitStore();
    gpu::TerminatorOp::create(b, loc);
  }

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value less(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value v, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, v, memref, indices);
  }
  Value readTable(memref::GlobalOp global, Value i) {
    Value table = memref::GetGlobalOp::create(b, loc, global.getType(),
                                              global.getSymName());
    Value v = load(table, i);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  /// for (lb; ub; step) { body(iv) } with no results.
  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  /// A loop carrying one f32 value; returns its final value.
  Value reduce(Value lb, Value ub, Value init,
               function_ref<Value(Value, Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1), ValueRange{init});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    Value next = body(forOp.getInductionVar(), forOp.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, next);
    return forOp.getResult(0);
  }
  /// For each query row this thread owns: body(r, row), r the private slot.
  void forOwnRows(function_ref<void(Value, Value)> body) {
    loop(idx(0), idx(rowsPerThread), idx(1), [&](Value r) {
      Value row = add(tid, mul(r, idx(threads)));
      auto ifOp = scf::IfOp::create(b, loc, less(row, qLen));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      body(r, row);
    });
  }

  /// Loads each own query row; zeroes the accumulators.
  void emitInit() {
    double negInf = -std::numeric_limits<double>::infinity();
    forOwnRows([&](Value r, Value row) {
      Value qRow = add(q0, row);
      loop(idx(0), idx(headDim), idx(1), [&](Value d) {
        Value v = load(op.getQuery(), {bIdx, qRow, add(qFeature, d)});
        store(v, qRows, {r, d});
        store(f32(0.0), acc, {r, d});
      });
      store(f32(negInf), rowMax, {r});
      store(f32(0.0), rowSum, {r});
    });
  }

  /// Whether key `key` (absolute) is kept for query `row` of the tile, in
  /// key block entry with mask `maskIdx`; `keyInBlock` is its offset in the
  /// key block.
  Value isKept(Value row, Value key, Value keyInBlock, Value maskIdx) {
    if (hasMasks()) {
      Value partial = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                            maskIdx, idx(0));
      Value safe = arith::MaxSIOp::create(b, loc, maskIdx, idx(0));
      Value at = add(mul(add(mul(safe, idx(blockQ)), row), idx(blockK)),
                     keyInBlock);
      Value masks = memref::GetGlobalOp::create(
          b, loc, tables.masks.getType(), tables.masks.getSymName());
      Value byte = load(masks, at);
      Value kept = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, byte,
          arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0)));
      Value whole = arith::XOrIOp::create(
          b, loc, partial,
          arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
      return arith::OrIOp::create(b, loc, whole, kept);
    }
    if (causal && !isSparse()) {
      Value limit = add(add(q0, row), idx(shift));
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, key,
                                   limit);
    }
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  }

  /// The key blocks of this block's queries, one chunk of keys at a time.
  void emitKeyLoop() {
    Value begin = idx(0), end;
    int64_t numKeyBlocks = llvm::divideCeil(seqK, blockK);
    if (isSparse()) {
      begin = readTable(tables.offsets, qb);
      end = readTable(tables.offsets, add(qb, idx(1)));
    } else if (causal) {
      Value keyEnd = arith::MinUIOp::create(b, loc, add(q0, add(qLen, idx(shift))),
                                            idx(seqK));
      end = arith::CeilDivUIOp::create(b, loc, keyEnd, idx(blockK));
    } else {
      end = idx(numKeyBlocks);
    }
    loop(begin, end, idx(1), [&](Value entry) {
      Value kb = isSparse() ? readTable(tables.keyBlocks, entry) : entry;
      Value maskIdx =
          hasMasks() ? readTable(tables.maskIndex, entry) : Value();
      Value k0 = mul(kb, idx(blockK));
      Value kLen = arith::MinUIOp::create(b, loc, idx(blockK), sub(idx(seqK), k0));
      loop(idx(0), kLen, idx(chunk), [&](Value c0) {
        Value cLen = arith::MinUIOp::create(b, loc, idx(chunk), sub(kLen, c0));
        emitChunk(k0, c0, cLen, maskIdx);
      });
    });
  }

  /// Stages keys [k0 + c0, k0 + c0 + cLen) and runs the online softmax
  /// over them for every own query row.
  void emitChunk(Value k0, Value c0, Value cLen, Value maskIdx) {
    double negInf = -std::numeric_limits<double>::infinity();
    Value first = add(k0, c0);
    // Every thread is done with the previous chunk before it is replaced.
    gpu::BarrierOp::create(b, loc);
    loop(tid, mul(cLen, idx(headDim)), idx(threads), [&](Value i) {
      Value j = arith::DivUIOp::create(b, loc, i, idx(headDim));
      Value d = arith::RemUIOp::create(b, loc, i, idx(headDim));
      Value key = add(first, j), feature = add(kvFeature, d);
      store(load(op.getKey(), {bIdx, key, feature}), keys, {j, d});
      store(load(op.getValue(), {bIdx, key, feature}), values, {j, d});
    });
    gpu::BarrierOp::create(b, loc);

    forOwnRows([&](Value r, Value row) {
      // Scaled, masked scores of the chunk and their maximum.
      Value chunkMax = reduce(idx(0), cLen, f32(negInf), [&](Value j,
                                                            Value max) {
        Value dot = reduce(idx(0), idx(headDim), f32(0.0),
                           [&](Value d, Value sum) -> Value {
                             Value x = load(qRows, {r, d});
                             Value y = load(keys, {j, d});
                             return arith::AddFOp::create(
                                 b, loc, sum,
                                 arith::MulFOp::create(b, loc, x, y));
                           });
        Value s = arith::MulFOp::create(b, loc, dot, f32(scale));
        Value keep = isKept(row, add(first, j), add(c0, j), maskIdx);
        Value masked = arith::SelectOp::create(b, loc, keep, s, f32(negInf));
        store(masked, scores, {j});
        return arith::MaximumFOp::create(b, loc, masked, max);
      });
      Value oldMax = load(rowMax, {r});
      Value newMax = arith::MaximumFOp::create(b, loc, oldMax, chunkMax);
      // alpha = exp(oldMax - newMax), 0 while the row has seen no key.
      Value seen = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                         oldMax, f32(negInf));
      Value alpha = arith::SelectOp::create(
          b, loc, seen,
          math::ExpOp::create(b, loc,
                              arith::SubFOp::create(b, loc, oldMax, newMax)),
          f32(0.0));
      // p = exp(score - newMax) where kept, 0 elsewhere.
      Value chunkSum = reduce(idx(0), cLen, f32(0.0), [&](Value j, Value sum) {
        Value s = load(scores, {j});
        Value kept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                           s, f32(negInf));
        Value p = arith::SelectOp::create(
            b, loc, kept,
            math::ExpOp::create(b, loc,
                                arith::SubFOp::create(b, loc, s, newMax)),
            f32(0.0));
        store(p, scores, {j});
        return arith::AddFOp::create(b, loc, sum, p);
      });
      Value oldSum = load(rowSum, {r});
      store(arith::AddFOp::create(
                b, loc, arith::MulFOp::create(b, loc, oldSum, alpha), chunkSum),
            rowSum, {r});
      store(newMax, rowMax, {r});
      // acc = acc * alpha + p v
      loop(idx(0), idx(headDim), idx(1), [&](Value d) {
        Value init =
            arith::MulFOp::create(b, loc, load(acc, {r, d}), alpha);
        Value sum = reduce(idx(0), cLen, init, [&](Value j, Value a) -> Value {
          Value p = load(scores, {j});
          Value v = load(values, {j, d});
          return arith::AddFOp::create(b, loc, a,
                                       arith::MulFOp::create(b, loc, p, v));
        });
        store(sum, acc, {r, d});
      });
    });
  }

  /// out = acc / rowSum for each own query row.
  void emitStore() {
    forOwnRows([&](Value r, Value row) {
      Value sum = load(rowSum, {r});
      Value qRow = add(q0, row);
      loop(idx(0), idx(headDim), idx(1), [&](Value d) {
        Value v = arith::DivFOp::create(b, loc, load(acc, {r, d}), sum);
        store(v, op.getOutput(), {bIdx, qRow, add(qFeature, d)});
      });
    });
  }

  PatternRewriter &b;
  tfm::FusedAttentionOp op;
  Location loc;
  int64_t batch, seqQ, seqK, heads, group, headDim, blockQ, blockK, shift;
  int64_t threads, rowsPerThread, chunk;
  double scale;
  bool causal;
  TableGlobals tables;
  Value keys, values, qRows, acc, rowMax, rowSum, scores;
  Value tid, qb, head, bIdx, q0, qLen, qFeature, kvFeature;
};

struct LowerFusedAttention : public OpRewritePattern<tfm::FusedAttentionOp> {
  LowerFusedAttention(MLIRContext *ctx, SymbolTable &symbols,
                      TableCache &cache, int64_t threads)
      : OpRewritePattern(ctx), symbols(symbols), cache(cache),
        threads(threads) {}

  LogicalResult matchAndRewrite(tfm::FusedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not in a module");
    KernelBuilder kernel(rewriter, op, threads);
    kernel.createTables(symbols, cache, module);
    kernel.build();
    rewriter.eraseOp(op);
    return success();
  }

  SymbolTable &symbols;
  TableCache &cache;
  int64_t threads;
};

struct TmcGpuFusedAttentionPass
    : public tmc::impl::TmcGpuFusedAttentionBase<TmcGpuFusedAttentionPass> {
  using TmcGpuFusedAttentionBase::TmcGpuFusedAttentionBase;

  void runOnOperation() override {
    if (threads < 0 || threads > 1024) {
      getOperation().emitError("tmc-gpu-fused-attention: threads must be in "
                               "[0, 1024] (0: one per query of the tile), "
                               "got ")
          << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    WalkResult check = getOperation().walk([&](tfm::FusedAttentionOp op) {
      int64_t blockQ = std::min<int64_t>(
          op.getBlockQ(), op.getQuery().getType().getDimSize(1));
      if (threads == 0 && blockQ > 1024)
        return WalkResult(op.emitOpError("has ")
                          << blockQ
                          << " queries per tile: one thread each would "
                             "exceed 1024 threads per block; use smaller "
                             "tiles or set the kernel's threads");
      return WalkResult::advance();
    });
    if (check.wasInterrupted())
      return signalPassFailure();
    SymbolTable symbols(getOperation());
    TableCache cache;
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerFusedAttention>(&getContext(), symbols, cache, threads);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
