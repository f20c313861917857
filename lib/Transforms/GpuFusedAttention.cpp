//===- GpuFusedAttention.cpp - One GPU kernel per attention op --*- C++ -*-===//
//
// This file implements `tmc-gpu-fused-attention`, which rewrites each
// tfm.fused_attention into one gpu.launch: a block per (query tile, head,
// batch) runs the online softmax over the key blocks the mask leaves, with
// keys and values staged in workgroup memory.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "KernelOps.h"
#include "WarpMma.h"

#include "tmc/Dialect/Tfm/IR/AttentionBlockTable.h"
#include "tmc/Dialect/Tfm/IR/Rotary.h"
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
class KernelBuilder : protected tmc::KernelOps {
public:
  /// Heads up to this size keep a thread's query row and output
  /// accumulator in registers.
  static constexpr int64_t kRegisterHeadDim = 64;

  /// The scalar kernel with `threads` threads per block (0: one per query
  /// of the tile, or `keySplit` per query where `keyParts` allows).
  KernelBuilder(PatternRewriter &b, tfm::FusedAttentionOp op, int64_t threads,
                int64_t keySplit = 1)
      : KernelBuilder(b, op,
                      threads > 0 ? threads
                                  : tileQueries(op) *
                                        keyParts(op, threads, keySplit),
                      chunkKeys(op), keyParts(op, threads, keySplit)) {}

  /// Keys staged per chunk by the scalar kernel.
  static int64_t chunkKeys(tfm::FusedAttentionOp op) {
    return std::clamp<int64_t>(kChunkElements / (2 * op.getHeadDim()), 1,
                               tileKeys(op));
  }

  /// The threads that share each query of the scalar kernel with one
  /// query per thread (`threads` 0): `keySplit` where the query row and
  /// accumulator are registers (heads of up to kRegisterHeadDim), the
  /// tile's accumulators fit the staged keys' workgroup tile (block_q <=
  /// the chunk) for their merge, and the block has at most 1024 threads;
  /// else 1.
  static int64_t keyParts(tfm::FusedAttentionOp op, int64_t threads,
                          int64_t keySplit) {
    int64_t blockQ = tileQueries(op);
    if (threads > 0 || keySplit <= 1 || op.getHeadDim() > kRegisterHeadDim ||
        blockQ > chunkKeys(op) || blockQ * keySplit > 1024)
      return 1;
    return keySplit;
  }

  /// Queries and keys per tile of `op`.
  static int64_t tileQueries(tfm::FusedAttentionOp op) {
    return std::min<int64_t>(op.getBlockQ(),
                             op.getQuery().getType().getDimSize(1));
  }
  static int64_t tileKeys(tfm::FusedAttentionOp op) {
    return std::min<int64_t>(op.getBlockK(),
                             op.getKey().getType().getDimSize(1));
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
    auto privateSpace =
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Private);
    auto wgType = [&](ArrayRef<int64_t> shape) {
      return tmc::workgroupMemRefType(shape, f32);
    };
    auto privType = [&](ArrayRef<int64_t> shape) {
      return MemRefType::get(shape, f32, MemRefLayoutAttrInterface(),
                             privateSpace);
    };
    // One query per thread with heads of up to kRegisterHeadDim: the query
    // row and the output accumulator are registers; otherwise private
    // memory.
    bool inRegisters = rowsPerThread == 1 && headDim <= kRegisterHeadDim;
    SmallVector<Type> privateTypes = {privType({chunk})};
    if (!inRegisters)
      privateTypes = {privType({rowsPerThread, headDim}),
                      privType({rowsPerThread, headDim}),
                      privType({rowsPerThread}), privType({rowsPerThread}),
                      privType({chunk})};
    gpu::LaunchOp launch = KernelOps::launch(
        idx(llvm::divideCeil(seqQ, blockQ)), idx(heads), idx(batch), threads,
        1, {wgType({chunk, headDim}), wgType({chunk, headDim})},
        privateTypes);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    keys = launch.getWorkgroupAttributions()[0];
    values = launch.getWorkgroupAttributions()[1];
    ValueRange priv = launch.getPrivateAttributions();
    setUpTile(launch);
    if (inRegisters) {
      scores = priv[0];
      emitInRegisters();
    } else {
      qRows = priv[0];
      acc = priv[1];
      rowMax = priv[2];
      rowSum = priv[3];
      scores = priv[4];
      emitInit();
      emitKeyLoop();
      emitStore();
    }
    gpu::TerminatorOp::create(b, loc);
  }

protected:
  /// A kernel of `threads` threads per block staging `chunk` keys at a
  /// time, `parts` threads per query (keyParts).
  KernelBuilder(PatternRewriter &b, tfm::FusedAttentionOp op, int64_t threads,
                int64_t chunk, int64_t parts)
      : KernelOps{b, op.getLoc()}, op(op), threads(threads), chunk(chunk),
        parts(parts) {
    MemRefType qType = op.getQuery().getType();
    batch = qType.getDimSize(0);
    seqQ = qType.getDimSize(1);
    seqK = op.getKey().getType().getDimSize(1);
    heads = op.getNumHeads();
    group = heads / op.getNumKvHeads();
    headDim = op.getHeadDim();
    scale = op.getScale().convertToDouble();
    causal = op.getCausal();
    blockQ = tileQueries(op);
    blockK = tileKeys(op);
    shift = seqK - seqQ;
    rowsPerThread = llvm::divideCeil(blockQ, threads);
  }

  /// `memref` at (batch, `row`, `feature`), with `rotate` rotated as
  /// `tfm.rope` would rotate it (row `row` at position rope_offset + row):
  /// the other element of its pair is loaded too.
  Value loadRotated(Value memref, bool rotate, Value row, Value feature) {
    Value x = load(memref, {bIdx, row, feature});
    if (!rotate)
      return x;
    return rotary().buildElement(b, loc, feature, row, /*start=*/Value(), x,
                                 [&](Value partner) {
                                   return load(memref, {bIdx, row, partner});
                                 });
  }

  /// The op's rotation (with rope_query or rope_key).
  tfm::Rotary rotary() { return tfm::Rotary::ofFolded(op); }

  /// The block, head and batch of `launch`, and the geometry of its tile.
  void setUpTile(gpu::LaunchOp launch) {
    tid = launch.getThreadIds().x;
    qb = launch.getBlockIds().x;
    head = launch.getBlockIds().y;
    bIdx = launch.getBlockIds().z;
    q0 = mul(qb, idx(blockQ));
    qLen = arith::MinUIOp::create(b, loc, idx(blockQ), sub(idx(seqQ), q0));
    qFeature = mul(head, idx(headDim));
    kvFeature =
        mul(arith::DivUIOp::create(b, loc, head, idx(group)), idx(headDim));
  }

  /// The query at (batch, `row`, `feature`), rotated as the op says.
  Value loadQuery(Value row, Value feature) {
    return loadRotated(op.getQuery(), op.getRopeQuery(), row, feature);
  }

  /// The key at (batch, `row`, `feature`), rotated as the op says.
  Value loadKey(Value row, Value feature) {
    return loadRotated(op.getKey(), op.getRopeKey(), row, feature);
  }

  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value readTable(memref::GlobalOp global, Value i) {
    Value table = memref::GetGlobalOp::create(b, loc, global.getType(),
                                              global.getSymName());
    Value v = load(table, i);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
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
    forOwnRows([&](Value r, Value row) {
      Value qRow = add(q0, row);
      loop(idx(0), idx(headDim), idx(1), [&](Value d) {
        Value v = loadQuery(qRow, add(qFeature, d));
        store(v, qRows, {r, d});
        store(f32(0.0), acc, {r, d});
      });
      store(negInf(), rowMax, {r});
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

  /// The scaled score `dot` of query `row` and key `first + j` (offset
  /// `c0 + j` in its key block), or -inf where the mask drops the key.
  Value maskedScore(Value dot, Value row, Value first, Value c0, Value j,
                    Value maskIdx) {
    Value s = arith::MulFOp::create(b, loc, dot, f32(scale));
    Value keep = isKept(row, add(first, j), add(c0, j), maskIdx);
    return arith::SelectOp::create(b, loc, keep, s, negInf());
  }

  /// The new running maximum of a row given its chunk's maximum, and the
  /// factor exp(old - new) that rescales its earlier sum and output (0
  /// while the row has seen no key).
  std::pair<Value, Value> updateMax(Value maxBuffer, Value slot,
                                    Value chunkMax) {
    auto [newMax, alpha] = rescale(load(maxBuffer, {slot}), chunkMax);
    store(newMax, maxBuffer, {slot});
    return {newMax, alpha};
  }

  /// The new running maximum after `oldMax` and a chunk's `chunkMax`, and
  /// exp(oldMax - newMax) (0 while the row has seen no key).
  std::pair<Value, Value> rescale(Value oldMax, Value chunkMax) {
    Value newMax = arith::MaximumFOp::create(b, loc, oldMax, chunkMax);
    Value seen = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                       oldMax, negInf());
    Value alpha = arith::SelectOp::create(
        b, loc, seen,
        math::ExpOp::create(b, loc,
                            arith::SubFOp::create(b, loc, oldMax, newMax)),
        f32(0.0));
    return {newMax, alpha};
  }

  /// Stages keys and values [first, first + cLen) of the block's key/value
  /// head in the workgroup tiles, between two barriers.
  void stageChunk(Value first, Value cLen) {
    // Every thread is done with the previous chunk before it is replaced.
    gpu::BarrierOp::create(b, loc);
    loop(tid, mul(cLen, idx(headDim)), idx(threads), [&](Value i) {
      Value j = arith::DivUIOp::create(b, loc, i, idx(headDim));
      Value d = arith::RemUIOp::create(b, loc, i, idx(headDim));
      Value key = add(first, j), feature = add(kvFeature, d);
      store(loadKey(key, feature), keys, {j, d});
      store(load(op.getValue(), {bIdx, key, feature}), values, {j, d});
    });
    gpu::BarrierOp::create(b, loc);
  }

  /// exp(s - max) for a kept score, 0 for a masked one (-inf).
  Value probability(Value s, Value max) {
    Value kept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, s,
                                       negInf());
    return arith::SelectOp::create(
        b, loc, kept,
        math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, max)),
        f32(0.0));
  }

  /// sum = sum * alpha + chunkSum.
  void updateSum(Value sumBuffer, Value slot, Value alpha, Value chunkSum) {
    Value oldSum = load(sumBuffer, {slot});
    store(arith::AddFOp::create(
              b, loc, arith::MulFOp::create(b, loc, oldSum, alpha), chunkSum),
          sumBuffer, {slot});
  }

  /// Visits the key blocks of this block's queries (all, those up to the
  /// diagonal with `causal`, or the block table's entries), `chunkSize`
  /// keys at a time: `body(k0, c0, cLen, maskIdx, carried)` gets the key
  /// block's first key, the chunk's offset in it and length, the block's
  /// mask index (sparse patterns with masks) and the values carried from
  /// the previous chunk (`init` first), and returns the next ones.
  SmallVector<Value>
  forKeyChunks(int64_t chunkSize, ValueRange init,
               function_ref<SmallVector<Value>(Value, Value, Value, Value,
                                               ValueRange)>
                   body) {
    Value begin = idx(0), end;
    int64_t numKeyBlocks = llvm::divideCeil(seqK, blockK);
    if (isSparse()) {
      begin = readTable(tables.offsets, qb);
      end = readTable(tables.offsets, add(qb, idx(1)));
    } else if (causal) {
      Value keyEnd = arith::MinUIOp::create(
          b, loc, add(q0, add(qLen, idx(shift))), idx(seqK));
      end = arith::CeilDivUIOp::create(b, loc, keyEnd, idx(blockK));
    } else {
      end = idx(numKeyBlocks);
    }
    auto entries = scf::ForOp::create(b, loc, begin, end, idx(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(entries.getBody());
      Value entry = entries.getInductionVar();
      Value kb = isSparse() ? readTable(tables.keyBlocks, entry) : entry;
      Value maskIdx =
          hasMasks() ? readTable(tables.maskIndex, entry) : Value();
      Value k0 = mul(kb, idx(blockK));
      Value kLen =
          arith::MinUIOp::create(b, loc, idx(blockK), sub(idx(seqK), k0));
      auto chunks = scf::ForOp::create(b, loc, idx(0), kLen, idx(chunkSize),
                                       entries.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(chunks.getBody());
        Value c0 = chunks.getInductionVar();
        Value cLen =
            arith::MinUIOp::create(b, loc, idx(chunkSize), sub(kLen, c0));
        SmallVector<Value> next =
            body(k0, c0, cLen, maskIdx, chunks.getRegionIterArgs());
        // Without carried values the builder made the terminator.
        if (!init.empty())
          scf::YieldOp::create(b, loc, next);
      }
      if (!init.empty())
        scf::YieldOp::create(b, loc, chunks.getResults());
    }
    return entries.getResults();
  }

  /// The key blocks of this block's queries, one chunk of keys at a time.
  void emitKeyLoop() {
    forKeyChunks(chunk, {},
                 [&](Value k0, Value c0, Value cLen, Value maskIdx,
                     ValueRange) -> SmallVector<Value> {
                   emitChunk(k0, c0, cLen, maskIdx);
                   return {};
                 });
  }

  /// Stages keys [k0 + c0, k0 + c0 + cLen) and runs the online softmax
  /// over them for every own query row.
  void emitChunk(Value k0, Value c0, Value cLen, Value maskIdx) {
    Value first = add(k0, c0);
    stageChunk(first, cLen);

    forOwnRows([&](Value r, Value row) {
      // Scaled, masked scores of the chunk and their maximum.
      Value chunkMax = reduce(idx(0), cLen, negInf(), [&](Value j,
                                                            Value max) {
        Value dot = reduce(idx(0), idx(headDim), f32(0.0),
                           [&](Value d, Value sum) -> Value {
                             Value x = load(qRows, {r, d});
                             Value y = load(keys, {j, d});
                             return arith::AddFOp::create(
                                 b, loc, sum,
                                 arith::MulFOp::create(b, loc, x, y));
                           });
        Value masked = maskedScore(dot, row, first, c0, j, maskIdx);
        store(masked, scores, {j});
        return arith::MaximumFOp::create(b, loc, masked, max);
      });
      Value newMax, alpha;
      std::tie(newMax, alpha) = updateMax(rowMax, r, chunkMax);
      Value chunkSum = reduce(idx(0), cLen, f32(0.0), [&](Value j, Value sum) {
        Value p = probability(load(scores, {j}), newMax);
        store(p, scores, {j});
        return arith::AddFOp::create(b, loc, sum, p);
      });
      updateSum(rowSum, r, alpha, chunkSum);
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

  /// The kernel body with one query per thread (row `tid` of the tile), its
  /// query row, output accumulator, running maximum and sum carried in
  /// registers across the key loop.
  void emitInRegisters() {
    // With `parts` threads per query, thread tid serves row tid mod
    // block_q and the keys j = part, part + parts, ... of every chunk.
    Value row = tid;
    keyPart = idx(0);
    if (parts > 1) {
      row = arith::RemUIOp::create(b, loc, tid, idx(blockQ));
      keyPart = arith::DivUIOp::create(b, loc, tid, idx(blockQ));
    }
    Value owns = less(row, qLen);
    Value qRow = add(q0, row);
    Type f32Type = b.getF32Type();
    auto qIf = scf::IfOp::create(b, loc, SmallVector<Type>(headDim, f32Type),
                                 owns, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(qIf.thenBlock());
      SmallVector<Value> loaded;
      // The row as it is, then rotated in registers (each element's pair
      // is in the row: one angle per pair).
      for (int64_t d = 0; d < headDim; ++d)
        loaded.push_back(
            load(op.getQuery(), {bIdx, qRow, add(qFeature, idx(d))}));
      if (op.getRopeQuery())
        loaded = rotary().buildHead(b, loc, loaded, qRow);
      scf::YieldOp::create(b, loc, loaded);
      b.setInsertionPointToStart(qIf.elseBlock());
      scf::YieldOp::create(b, loc, SmallVector<Value>(headDim, f32(0.0)));
    }
    SmallVector<Value> q(qIf.getResults());
    // acc[0..headDim), max, sum.
    SmallVector<Value> init(headDim, f32(0.0));
    init.push_back(negInf());
    init.push_back(f32(0.0));
    SmallVector<Value> state = forKeyChunks(
        chunk, init,
        [&](Value k0, Value c0, Value cLen, Value maskIdx, ValueRange carried) {
          return emitChunkInRegisters(q, row, owns, k0, c0, cLen, maskIdx,
                                      carried);
        });
    if (parts > 1) {
      state = mergeParts(state, row, owns);
      owns = both(owns, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              keyPart, idx(0)));
    }
    ifThen(owns, [&] {
      for (int64_t d = 0; d < headDim; ++d)
        store(arith::DivFOp::create(b, loc, state[d], state[headDim + 1]),
              op.getOutput(), {bIdx, qRow, add(qFeature, idx(d))});
    });
  }

  /// Stages keys [k0 + c0, k0 + c0 + cLen) and runs this thread's online
  /// softmax over them: returns the carried state after the chunk.
  SmallVector<Value> emitChunkInRegisters(ArrayRef<Value> q, Value row,
                                          Value owns, Value k0, Value c0,
                                          Value cLen, Value maskIdx,
                                          ValueRange carried) {
    Value first = add(k0, c0);
    stageChunk(first, cLen);
    auto rowIf = scf::IfOp::create(b, loc, carried.getTypes(), owns,
                                   /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowIf.elseBlock());
    scf::YieldOp::create(b, loc, carried);
    b.setInsertionPointToStart(rowIf.thenBlock());
    // Scaled, masked scores of the chunk (this thread's part of its keys)
    // and their maximum.
    Value chunkMax = reduce(keyPart, cLen, idx(parts), negInf(),
                            [&](Value j, Value max) {
      Value dot = f32(0.0);
      for (int64_t d = 0; d < headDim; ++d)
        dot = arith::AddFOp::create(
            b, loc, dot,
            arith::MulFOp::create(b, loc, q[d], load(keys, {j, idx(d)})));
      Value masked = maskedScore(dot, row, first, c0, j, maskIdx);
      store(masked, scores, {j});
      return arith::MaximumFOp::create(b, loc, masked, max);
    });
    auto [newMax, alpha] = rescale(carried[headDim], chunkMax);
    // acc = acc * alpha + p v, and the chunk's sum of p.
    SmallVector<Value> init;
    for (int64_t d = 0; d < headDim; ++d)
      init.push_back(arith::MulFOp::create(b, loc, carried[d], alpha));
    init.push_back(f32(0.0));
    auto keysLoop =
        scf::ForOp::create(b, loc, keyPart, cLen, idx(parts), init);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(keysLoop.getBody());
      Value j = keysLoop.getInductionVar();
      ValueRange sums = keysLoop.getRegionIterArgs();
      Value p = probability(load(scores, {j}), newMax);
      SmallVector<Value> next;
      for (int64_t d = 0; d < headDim; ++d)
        next.push_back(arith::AddFOp::create(
            b, loc, sums[d],
            arith::MulFOp::create(b, loc, p, load(values, {j, idx(d)}))));
      next.push_back(arith::AddFOp::create(b, loc, sums[headDim], p));
      scf::YieldOp::create(b, loc, next);
    }
    SmallVector<Value> state(keysLoop.getResults().take_front(headDim));
    state.push_back(newMax);
    state.push_back(arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, carried[headDim + 1], alpha),
        keysLoop.getResult(headDim)));
    scf::YieldOp::create(b, loc, state);
    return rowIf.getResults();
  }

  /// Merges the states [acc..., max, sum] of a row's `parts` threads into
  /// part 0's: part p (1, 2, ...) in turn writes its accumulator to the
  /// keys' workgroup tile (row `row`) and its maximum and sum to the
  /// values' tile (flattened), and part 0 folds it in, each side rescaled
  /// to the larger maximum (as the online softmax combines chunks). Returns
  /// the merged state in part 0 (the others' as they were).
  SmallVector<Value> mergeParts(ArrayRef<Value> state, Value row,
                                Value owns) {
    SmallVector<Value> merged(state);
    // Element e of the values' tile, flattened: the maxima at [0, block_q),
    // the sums at [block_q, 2 block_q).
    auto flat = [&](int64_t offset) -> SmallVector<Value> {
      Value e = add(row, idx(offset));
      return {arith::DivUIOp::create(b, loc, e, idx(headDim)),
              arith::RemUIOp::create(b, loc, e, idx(headDim))};
    };
    Value isPart0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          keyPart, idx(0));
    // Every thread is done with the last chunk's tiles.
    gpu::BarrierOp::create(b, loc);
    for (int64_t p = 1; p < parts; ++p) {
      Value isP = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        keyPart, idx(p));
      ifThen(both(owns, isP), [&] {
        for (int64_t d = 0; d < headDim; ++d)
          store(merged[d], keys, {row, idx(d)});
        store(merged[headDim], values, flat(0));
        store(merged[headDim + 1], values, flat(blockQ));
      });
      gpu::BarrierOp::create(b, loc);
      auto fold = scf::IfOp::create(b, loc, ValueRange(merged).getTypes(),
                                    both(owns, isPart0),
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(fold.thenBlock());
        Value otherMax = load(values, flat(0));
        Value otherSum = load(values, flat(blockQ));
        auto [newMax, alpha] = rescale(merged[headDim], otherMax);
        Value beta = rescale(otherMax, merged[headDim]).second;
        SmallVector<Value> next;
        for (int64_t d = 0; d < headDim; ++d)
          next.push_back(arith::AddFOp::create(
              b, loc, arith::MulFOp::create(b, loc, merged[d], alpha),
              arith::MulFOp::create(b, loc, load(keys, {row, idx(d)}), beta)));
        next.push_back(newMax);
        next.push_back(arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, merged[headDim + 1], alpha),
            arith::MulFOp::create(b, loc, otherSum, beta)));
        scf::YieldOp::create(b, loc, next);
        b.setInsertionPointToStart(fold.elseBlock());
        scf::YieldOp::create(b, loc, merged);
      }
      merged.assign(fold.getResults().begin(), fold.getResults().end());
      // Part 0 has read the tiles before the next part writes them.
      gpu::BarrierOp::create(b, loc);
    }
    return merged;
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

  tfm::FusedAttentionOp op;
  int64_t batch, seqQ, seqK, heads, group, headDim, blockQ, blockK, shift;
  int64_t threads, rowsPerThread, chunk;
  /// Threads per query row (the register kernel's key split), and this
  /// thread's part.
  int64_t parts;
  Value keyPart;
  double scale;
  bool causal;
  TableGlobals tables;
  Value keys, values, qRows, acc, rowMax, rowSum, scores;
  Value tid, qb, head, bIdx, q0, qLen, qFeature, kvFeature;
};

/// The kernel on tensor cores, for 16-bit `half` (f16 or bf16) operands
/// (`mma.sync` m16n8k16) or f32 ones as TF32 (m16n8k8, a 16 of k as two
/// steps of 8; operands rounded to TF32, one per register):
/// warp w of the block owns query rows 16 w .. 16 w + 15 of the tile (a
/// block has ceil(block_q / 16) warps). Each thread loads its fragments of
/// the tile's queries into registers once. Per chunk of keys the block
/// stages keys ([key][d]) and values transposed ([d][key]) as `half`; each
/// warp computes its rows' scores Q K^T with `mma.sync` into a shared f32
/// tile; the thread owning each row (thread r owns row r) scales and masks
/// it, updates the row's running maximum and sum and writes
/// P = exp(S - max), as `half`, and the factor that rescales the row's
/// earlier output; each warp then rescales its output accumulators (f32
/// registers carried across the key loop) and adds P V with `mma.sync`. At
/// the end each row is divided by its sum. Scores, probabilities and
/// output accumulate in f32; the queries, keys, values and probabilities
/// are rounded to `half` as tensor-core operands.
class MmaKernelBuilder : public KernelBuilder {
public:
  /// Shared memory for `chunk` keys: keys, values, scores, probabilities,
  /// rescale factors and sums.
  static int64_t sharedBytes(int64_t rows, int64_t headDim, int64_t chunk,
                             int64_t elementBytes) {
    int64_t pad = padding(elementBytes);
    return rows * (chunk + kScorePad) * 4 +
           (rows * (chunk + pad) + chunk * (headDim + pad) +
            headDim * (chunk + pad)) *
               elementBytes +
           rows * 4 * 2;
  }

  /// The padding of the operand tiles' rows: 16-bit rows stay 16-byte
  /// aligned; f32 rows shift by 4 banks, so that a warp's TF32 fragment
  /// loads (8 rows x 4 columns) hit 32 banks.
  static int64_t padding(int64_t elementBytes) {
    return elementBytes == 4 ? 4 : 8;
  }

  /// The chunk of keys for tiles of `blockQ` x `blockK` with heads of
  /// `headDim`, or 0 if the kernel does not apply (head size not a multiple
  /// of 16, more than 32 warps, no chunk that fits the shared memory).
  static int64_t chooseChunk(int64_t blockQ, int64_t blockK, int64_t headDim,
                             Type half) {
    int64_t elementBytes = half.getIntOrFloatBitWidth() / 8;
    if (headDim % 16 != 0 || blockQ > 512)
      return 0;
    int64_t rows = 16 * llvm::divideCeil(blockQ, 16);
    int64_t keys = 16 * llvm::divideCeil(blockK, 16);
    for (int64_t chunk : {64, 32, 16})
      if (chunk <= std::max<int64_t>(keys, 16) &&
          sharedBytes(rows, headDim, chunk, elementBytes) <= kSharedBudget)
        return chunk;
    return 0;
  }

  /// A warp per 16 queries of the tile.
  MmaKernelBuilder(PatternRewriter &b, tfm::FusedAttentionOp op, Type half)
      : KernelBuilder(b, op, 32 * llvm::divideCeil(tileQueries(op), 16),
                      chooseChunk(tileQueries(op), tileKeys(op),
                                  op.getHeadDim(), half),
                      /*parts=*/1),
        half(half), kPad(padding(half.getIntOrFloatBitWidth() / 8)),
        warps(threads / 32), rows(16 * warps) {}

  void build() {
    Type f32Type = b.getF32Type();
    auto privType = MemRefType::get(
        {1}, f32Type, MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Private));
    auto wgType = [&](ArrayRef<int64_t> shape, Type element) {
      return tmc::workgroupMemRefType(shape, element);
    };
    gpu::LaunchOp launch = KernelOps::launch(
        idx(llvm::divideCeil(seqQ, blockQ)), idx(heads), idx(batch), threads,
        1,
        {wgType({chunk, headDim + kPad}, half),
         wgType({headDim, chunk + kPad}, half),
         wgType({rows, chunk + kScorePad}, f32Type),
         wgType({rows, chunk + kPad}, half), wgType({rows}, f32Type),
         wgType({rows}, f32Type)},
        {privType, privType});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    ValueRange shared = launch.getWorkgroupAttributions();
    keys = shared[0];
    values = shared[1];
    scores = shared[2];
    probs = shared[3];
    alphas = shared[4];
    inverses = shared[5];
    rowMax = launch.getPrivateAttributions()[0];
    rowSum = launch.getPrivateAttributions()[1];
    setUpTile(launch);
    Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
    group = arith::DivUIOp::create(b, loc, lane, idx(4));
    Value quad = arith::RemUIOp::create(b, loc, lane, idx(4));
    pair = mul(quad, idx(2));
    fragmentCol = half.isF32() ? quad : pair;
    warpRow = mul(arith::DivUIOp::create(b, loc, tid, idx(32)), idx(16));

    ifThen(less(tid, qLen), [&] {
      store(negInf(), rowMax, {idx(0)});
      store(f32(0.0), rowSum, {idx(0)});
    });
    // This thread's A fragments of the queries, per 16 of the head size,
    // laid out as tmc::mmaAOffsets says (zero past the tile's last query).
    SmallVector<SmallVector<Value, 8>> qRegs;
    for (int64_t ks = 0; ks < headDim / 16; ++ks) {
      qRegs.emplace_back();
      for (auto [dr, dc] : tmc::mmaAOffsets(half)) {
        Value row = add(warpRow, add(group, idx(dr)));
        Value col = add(fragmentCol, idx(16 * ks + dc));
        auto element = [&](Value c) {
          return operand(loadHalf(less(row, qLen), [&] {
            return loadQuery(add(q0, row), add(qFeature, c));
          }));
        };
        Value low = element(col);
        if (half.isF32()) {
          qRegs.back().push_back(
              arith::BitcastOp::create(b, loc, b.getI32Type(), low));
          continue;
        }
        Value high = element(add(col, idx(1)));
        qRegs.back().push_back(tmc::packMmaPair(b, loc, low, high));
      }
    }
    // The output accumulators: per 8 of the head size, this lane's four
    // (rows group and group + 8, columns 2 quad and the next).
    SmallVector<Value> init(headDim / 2, f32(0.0));
    SmallVector<Value> out = forKeyChunks(
        chunk, init,
        [&](Value k0, Value c0, Value cLen, Value maskIdx, ValueRange acc) {
          return emitMmaChunk(qRegs, k0, c0, cLen, maskIdx, acc);
        });

    ifThen(less(tid, qLen), [&] {
      store(arith::DivFOp::create(b, loc, f32(1.0), load(rowSum, {idx(0)})),
            inverses, {tid});
    });
    gpu::BarrierOp::create(b, loc);
    for (int64_t dt = 0; dt < headDim / 8; ++dt)
      for (int64_t i = 0; i < 4; ++i) {
        Value row = add(warpRow, add(group, idx(8 * (i / 2))));
        Value col = add(pair, idx(8 * dt + i % 2));
        ifThen(less(row, qLen), [&] {
          Value v = arith::MulFOp::create(b, loc, out[4 * dt + i],
                                          load(inverses, {row}));
          store(v, op.getOutput(), {bIdx, add(q0, row), add(qFeature, col)});
        });
      }
    gpu::TerminatorOp::create(b, loc);
  }

private:
  /// Padding of the score tile's rows.
  static constexpr int64_t kScorePad = 4;
  /// Static shared memory per block, below the 48 KiB limit.
  static constexpr int64_t kSharedBudget = 40 * 1024;

  /// What `load` loads as `half` where `condition` holds, else zero.
  Value loadHalf(Value condition, function_ref<Value()> load) {
    return tmc::roundedOrZero(b, loc, condition, half, load);
  }

  /// `v` (f32, or already `half`) as a tensor-core operand: rounded to
  /// `half`, or to TF32 when `half` is f32.
  Value operand(Value v) {
    if (half.isF32())
      return tmc::roundToTf32(b, loc, v);
    return v.getType() == half ? v : arith::TruncFOp::create(b, loc, half, v);
  }


  /// One chunk of keys [k0 + c0, k0 + c0 + cLen): returns the output
  /// accumulators after it.
  SmallVector<Value> emitMmaChunk(ArrayRef<SmallVector<Value, 8>> qRegs,
                               Value k0, Value c0, Value cLen, Value maskIdx,
                               ValueRange acc) {
    Value first = add(k0, c0);
    // Every warp is done with the previous chunk before it is replaced.
    gpu::BarrierOp::create(b, loc);
    loop(tid, idx(chunk * headDim), idx(threads), [&](Value i) {
      Value j = arith::DivUIOp::create(b, loc, i, idx(headDim));
      Value d = arith::RemUIOp::create(b, loc, i, idx(headDim));
      Value key = add(first, j), feature = add(kvFeature, d);
      Value inChunk = less(j, cLen);
      store(operand(loadHalf(inChunk, [&] { return loadKey(key, feature); })),
            keys, {j, d});
      store(operand(loadHalf(inChunk,
                             [&] {
                               return load(op.getValue(),
                                           {bIdx, key, feature});
                             })),
            values, {d, j});
    });
    gpu::BarrierOp::create(b, loc);

    // Scores: per 8 keys, the warp's 16 x 8 block of Q K^T; B register r
    // holds key group, dimensions 2 quad + 8 r and the next.
    Value zero = f32(0.0);
    for (int64_t nt = 0; nt < chunk / 8; ++nt) {
      SmallVector<Value, 4> sums = tmc::accumulateMmaSync(
          b, loc, half, qRegs, keys, add(group, idx(8 * nt)), fragmentCol,
          SmallVector<Value>(4, zero));
      for (int64_t i = 0; i < 4; ++i)
        store(sums[i], scores,
              {add(warpRow, add(group, idx(8 * (i / 2)))),
               add(pair, idx(8 * nt + i % 2))});
    }
    gpu::BarrierOp::create(b, loc);

    // The online softmax of row tid: scaled, masked scores, the running
    // maximum and sum, P as `half` (zero past the chunk and for masked
    // keys) and the factor that rescales the row's earlier output. Rows
    // past the tile's last query get P = 0.
    auto rowIf = scf::IfOp::create(b, loc, less(tid, idx(rows)));
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(rowIf.thenBlock());
      Value row = tid;
      auto owned = scf::IfOp::create(b, loc, less(row, qLen),
                                     /*withElseRegion=*/true);
      b.setInsertionPointToStart(owned.thenBlock());
      Value chunkMax = reduce(idx(0), cLen, negInf(), [&](Value j,
                                                            Value max) {
        Value masked = maskedScore(load(scores, {row, j}), row, first, c0, j,
                                   maskIdx);
        store(masked, scores, {row, j});
        return arith::MaximumFOp::create(b, loc, masked, max);
      });
      Value newMax, alpha;
      std::tie(newMax, alpha) = updateMax(rowMax, idx(0), chunkMax);
      Value chunkSum = reduce(idx(0), idx(chunk), f32(0.0), [&](Value j,
                                                               Value sum) {
        Value s = arith::SelectOp::create(b, loc, less(j, cLen),
                                          load(scores, {row, j}), negInf());
        Value p = probability(s, newMax);
        store(operand(p), probs, {row, j});
        return arith::AddFOp::create(b, loc, sum, p);
      });
      updateSum(rowSum, idx(0), alpha, chunkSum);
      store(alpha, alphas, {row});
      b.setInsertionPointToStart(owned.elseBlock());
      Value halfZero =
          arith::ConstantOp::create(b, loc, b.getZeroAttr(half));
      loop(idx(0), idx(chunk), idx(1),
           [&](Value j) { store(halfZero, probs, {row, j}); });
      store(f32(0.0), alphas, {row});
    }
    gpu::BarrierOp::create(b, loc);

    // out = out * alpha + P V: A register r of P holds row group + 8 (r %
    // 2), keys 2 quad + 8 (r / 2) and the next; B register r of V holds
    // dimension group, keys 2 quad + 8 r and the next.
    SmallVector<SmallVector<Value, 8>> pRegs;
    for (int64_t ks = 0; ks < chunk / 16; ++ks)
      pRegs.push_back(tmc::loadMmaA(b, loc, probs, add(warpRow, group),
                                    add(fragmentCol, idx(16 * ks))));
    Value alphaLow = load(alphas, {add(warpRow, group)});
    Value alphaHigh = load(alphas, {add(warpRow, add(group, idx(8)))});
    SmallVector<Value> next;
    for (int64_t dt = 0; dt < headDim / 8; ++dt) {
      SmallVector<Value, 4> sums;
      for (int64_t i = 0; i < 4; ++i)
        sums.push_back(arith::MulFOp::create(b, loc, acc[4 * dt + i],
                                             i < 2 ? alphaLow : alphaHigh));
      sums = tmc::accumulateMmaSync(b, loc, half, pRegs, values,
                                    add(group, idx(8 * dt)), fragmentCol, sums);
      llvm::append_range(next, sums);
    }
    return next;
  }

  Type half;
  int64_t kPad;
  int64_t warps, rows;
  /// The lane's accumulator column (twice its quad) and fragment column
  /// (that for 16-bit operands, its quad for TF32).
  Value probs, alphas, inverses, group, pair, fragmentCol, warpRow;
};

struct LowerFusedAttention : public OpRewritePattern<tfm::FusedAttentionOp> {
  LowerFusedAttention(MLIRContext *ctx, SymbolTable &symbols,
                      TableCache &cache, int64_t threads, int64_t keySplit,
                      Type half)
      : OpRewritePattern(ctx), symbols(symbols), cache(cache),
        threads(threads), keySplit(keySplit), half(half) {}

  LogicalResult matchAndRewrite(tfm::FusedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not in a module");
    if (half && MmaKernelBuilder::chooseChunk(
                    KernelBuilder::tileQueries(op),
                    KernelBuilder::tileKeys(op), op.getHeadDim(), half) > 0) {
      MmaKernelBuilder kernel(rewriter, op, half);
      kernel.createTables(symbols, cache, module);
      kernel.build();
    } else {
      KernelBuilder kernel(rewriter, op, threads, keySplit);
      kernel.createTables(symbols, cache, module);
      kernel.build();
    }
    rewriter.eraseOp(op);
    return success();
  }

  SymbolTable &symbols;
  TableCache &cache;
  int64_t threads, keySplit;
  /// The tensor cores' operand type (f16, bf16, or f32 as TF32), or null.
  Type half;
};

struct TmcGpuFusedAttentionPass
    : public tmc::impl::TmcGpuFusedAttentionBase<TmcGpuFusedAttentionPass> {
  using TmcGpuFusedAttentionBase::TmcGpuFusedAttentionBase;

  void runOnOperation() override {
    if (failed(tmc::checkThreadsOption(getOperation(), getArgument(),
                                       threads, /*min=*/0,
                                       "0: one per query of the tile")))
      return signalPassFailure();
    if (failed(tmc::checkOptionRange(getOperation(), getArgument(),
                                     "key-split", keySplit, 1, 32)))
      return signalPassFailure();
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
    Type half;
    if (tensorCores == "f16")
      half = Float16Type::get(&getContext());
    else if (tensorCores == "bf16")
      half = BFloat16Type::get(&getContext());
    else if (tensorCores == "tf32")
      half = Float32Type::get(&getContext());
    else if (!tensorCores.empty() && tensorCores != "none") {
      getOperation().emitError("tmc-gpu-fused-attention: tensor-cores must "
                               "be none, f16, bf16 or tf32, got '")
          << tensorCores << "'";
      return signalPassFailure();
    }
    SymbolTable symbols(getOperation());
    TableCache cache;
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerFusedAttention>(&getContext(), symbols, cache, threads,
                                      keySplit, half);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
