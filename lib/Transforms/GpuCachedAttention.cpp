//===- GpuCachedAttention.cpp - KV-cache attention as GPU kernels -*- C++ -*-=//
//
// This file implements `tmc-gpu-cached-attention`, which rewrites each
// tfm.fused_cached_attention into gpu.launch ops: one appends the chunk's
// keys and values to the cache (quantizing int8 and int4 rows), the next
// computes each (query, head)'s attention over the cached positions with an
// online softmax, a chunk of positions at a time. With a split, that kernel
// has a block per piece of the positions too and leaves each piece's
// partial result in the scratch buffer, and a third kernel combines them
// (flash-decoding).
//
// The cache layout is tfm.cached_attention's (and the CPU runtime's,
// lib/Runtime/CachedAttention.cpp): a layer's keys at byte k_offset, its
// values at v_offset, each `capacity` rows of [kv_heads][head_dim] values:
//   f32:  float values[rows][kv_heads][head_dim]
//   int8: int8 values[rows][kv_heads][head_dim], float scale[rows][kv_heads]
//   int4: uint8 values[rows][kv_heads][head_dim / 2] (low nibble first,
//         stored as q + 8), float scale[rows][kv_heads][head_dim / 32]
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "KernelOps.h"

#include "tmc/Dialect/Tfm/IR/Rotary.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <limits>

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUCACHEDATTENTION
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// One layer's keys or values in the cache, as typed views of the cache
/// buffer: `values` [capacity, kv_heads, head_dim] f32 or i8 (int4:
/// [.., head_dim / 2] bytes) and, when quantized, `scales` [capacity,
/// kv_heads] (int8) or [capacity, kv_heads, head_dim / 32] (int4) f32.
struct CacheRegion {
  Value values, scales;
};

/// Builds the two kernels of one tfm.fused_cached_attention.
class CachedAttentionBuilder : KernelOps {
public:
  CachedAttentionBuilder(RewriterBase &rewriter,
                         tfm::FusedCachedAttentionOp op, int64_t threads)
      : KernelOps{rewriter, op.getLoc()}, op(op), threads(threads) {
    MemRefType qType = op.getQuery().getType();
    seq = qType.getDimSize(1);
    heads = op.getNumHeads();
    kvHeads = op.getNumKvHeads();
    group = heads / kvHeads;
    headDim = op.getHeadDim();
    bits = op.getCacheBits();
    capacity = op.getCapacity();
    window = op.getWindow();
    sinks = op.getSinks();
    split = op.getSplit();
    maxVisible = tfm::FusedCachedAttentionOp::getMaxVisible(capacity, window,
                                                            sinks);
  }

  /// Bytes of one region's values, before its scales.
  int64_t valueBytes() const {
    return tfm::CachedAttentionOp::getValueBytes(capacity, kvHeads, headDim,
                                                 bits);
  }

  /// Checks what the kernels need: views of the cache aligned for their
  /// types, the attention kernel's shared memory within the 48 KiB a
  /// kernel gets without opting in, and the pieces of a split within the
  /// grid's z limit.
  LogicalResult check() {
    if (failed(checkAlignment()))
      return failure();
    int64_t bytes = 4 * (group * headDim + 2 * group * threads + threads +
                         threads * keyTileStride());
    if (bytes > kMaxSharedBytes)
      return op.emitOpError("needs ")
             << bytes << " bytes of shared memory per attention block with "
             << threads << " threads, more than the " << kMaxSharedBytes
             << " a kernel gets: use fewer threads (cached-attention-threads)";
    if (split > 0 && int64_t(llvm::divideCeil(maxVisible, split)) > kMaxGridZ)
      return op.emitOpError("splits ")
             << maxVisible << " positions into pieces of " << split
             << ", more than the " << kMaxGridZ
             << " blocks a grid has along z: use longer pieces "
                "(--gpu-decode-split)";
    return success();
  }

  /// Checks that the views of the cache are aligned for their types.
  LogicalResult checkAlignment() {
    for (int64_t offset : {op.getKOffset(), op.getVOffset()}) {
      int64_t f32Offset = bits == 32 ? offset : offset + valueBytes();
      if (f32Offset % 4 != 0)
        return op.emitOpError("places f32 cache data at byte ")
               << f32Offset
               << ", which is not 4-byte aligned as GPU loads need";
    }
    return success();
  }

  /// Replaces the op with its kernels.
  void build() {
    start = arith::IndexCastOp::create(b, loc, b.getIndexType(), op.getStart());
    keys = region(op.getKOffset());
    values = region(op.getVOffset());
    emitAppend();
    emitAttention();
    if (split > 0)
      emitCombine();
  }

private:
  /// Iterations per trip of `unrolledLoop`.
  static constexpr int64_t kUnroll = 8;

  /// A loop over [0, ub) carrying `init`: state = step(state, load(i), i)
  /// for i = 0, 1, ..., in that order, kUnroll iterations per trip whose
  /// loads are all built before their steps, so that they are in flight
  /// together (a thread's loads otherwise wait, one after the other, for
  /// the step before), then the rest one at a time.
  SmallVector<Value>
  unrolledLoop(Value ub, ValueRange init,
               function_ref<SmallVector<Value>(Value)> load,
               function_ref<SmallVector<Value>(ValueRange, ArrayRef<Value>,
                                               Value)>
                   step) {
    auto trips = [&](Value lb, Value end, int64_t unroll, ValueRange state) {
      auto forOp = scf::ForOp::create(b, loc, lb, end, idx(unroll), state);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forOp.getBody());
      SmallVector<Value> is;
      SmallVector<SmallVector<Value>> loaded;
      for (int64_t u = 0; u < unroll; ++u) {
        is.push_back(u == 0 ? forOp.getInductionVar()
                            : add(forOp.getInductionVar(), idx(u)));
        loaded.push_back(load(is.back()));
      }
      SmallVector<Value> current(forOp.getRegionIterArgs());
      for (int64_t u = 0; u < unroll; ++u)
        current = step(current, loaded[u], is[u]);
      scf::YieldOp::create(b, loc, current);
      return SmallVector<Value>(forOp.getResults());
    };
    Value whole = sub(ub, arith::RemUIOp::create(b, loc, ub, idx(kUnroll)));
    SmallVector<Value> state = trips(idx(0), whole, kUnroll, init);
    return trips(whole, ub, 1, state);
  }

  /// A loop over [0, ub) carrying an f32 per head j of the group:
  /// acc_j = fma(weight(j, i), x, acc_j) with x = shared(i) loaded once
  /// per iteration (a cached key or value the heads share).
  SmallVector<Value> fmaPerHead(Value ub, ValueRange init,
                                function_ref<Value(Value)> shared,
                                function_ref<Value(int64_t, Value)> weight) {
    return unrolledLoop(
        ub, init,
        [&](Value i) {
          SmallVector<Value> operands = {shared(i)};
          for (int64_t j = 0; j < group; ++j)
            operands.push_back(weight(j, i));
          return operands;
        },
        [&](ValueRange accs, ArrayRef<Value> operands, Value) {
          SmallVector<Value> next;
          for (int64_t j = 0; j < group; ++j)
            next.push_back(math::FmaOp::create(b, loc, operands[1 + j],
                                               operands[0], accs[j]));
          return next;
        });
  }
  /// A launch of `gridX` x `gridY` x `gridZ` blocks of `blockSize` threads
  /// with the given workgroup buffers; the builder is left inside its body.
  gpu::LaunchOp launch(int64_t gridX, int64_t gridY, Value gridZ,
                       int64_t blockSize, TypeRange workgroup = {}) {
    gpu::LaunchOp launchOp = KernelOps::launch(idx(gridX), idx(gridY), gridZ,
                                               blockSize, 1, workgroup);
    b.setInsertionPointToStart(&launchOp.getBody().front());
    return launchOp;
  }

  /// The dimensions of a key slice staged in shared memory: the largest
  /// divisor of head_dim up to 32 (a warp reads a row's slice at once).
  int64_t keySliceDims() const {
    int64_t dims = std::min<int64_t>(headDim, 32);
    while (headDim % dims != 0)
      --dims;
    return dims;
  }
  /// The row stride of the staged keys: odd, so that the threads reading
  /// rows k, k + 1, ... at one dimension hit different banks.
  int64_t keyTileStride() const { return keySliceDims() | 1; }

  /// The typed views of the region at byte `offset` of the cache.
  CacheRegion region(int64_t offset) {
    Type f32Type = b.getF32Type(), i8 = b.getI8Type();
    auto view = [&](int64_t byteOffset, ArrayRef<int64_t> shape,
                    Type element) -> Value {
      return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                    op.getCache(), idx(byteOffset),
                                    ValueRange{});
    };
    if (bits == 32)
      return {view(offset, {capacity, kvHeads, headDim}, f32Type), {}};
    int64_t rowBytes = bits == 8 ? headDim : headDim / 2;
    SmallVector<int64_t> scaleShape = {capacity, kvHeads};
    if (bits == 4)
      scaleShape.push_back(headDim / kInt4Group);
    return {view(offset, {capacity, kvHeads, rowBytes}, i8),
            view(offset + valueBytes(), scaleShape, f32Type)};
  }

  /// The cache row of absolute position `p`: itself without a window; with
  /// one, the sinks keep their rows and the others share a ring.
  Value rowOf(Value p) {
    if (window == 0)
      return p;
    Value wrapped = add(idx(sinks), arith::RemUIOp::create(
                                        b, loc, sub(p, idx(sinks)),
                                        idx(capacity - sinks)));
    return arith::SelectOp::create(b, loc, less(p, idx(sinks)), p, wrapped);
  }
  /// Whether position `p` has a row: always with a window; without one,
  /// the padding of a last chunk may run past the cache.
  Value isStored(Value p) {
    if (window > 0)
      return arith::ConstantIntOp::create(b, loc, 1, 1);
    return less(p, idx(capacity));
  }

  /// The positions the query at position `p` sees, numbered [0, count):
  /// the sinks below `lo` (numSinks of them), then [lo, p]. A query past
  /// the cache (padding) sees none.
  struct Visible {
    Value lo, numSinks, count;
  };
  Visible visible(Value p) {
    Value zero = idx(0);
    Value lo = zero, numSinks = zero;
    if (window > 0) {
      Value end = add(p, idx(1));
      lo = arith::SelectOp::create(
          b, loc, less(end, idx(window)), zero, sub(end, idx(window)));
      numSinks = arith::MinUIOp::create(b, loc, idx(sinks), lo);
    }
    Value count = arith::SelectOp::create(
        b, loc, isStored(p), add(numSinks, sub(add(p, idx(1)), lo)), zero);
    return {lo, numSinks, count};
  }
  /// The position of visible position `i`.
  Value positionOf(const Visible &v, Value i) {
    return arith::SelectOp::create(b, loc, less(i, v.numSinks), i,
                                   add(v.lo, sub(i, v.numSinks)));
  }

  /// Value `d` of head `g` in cache row `row`, dequantized to f32.
  Value loadCached(const CacheRegion &r, Value row, Value g, Value d) {
    if (bits == 32)
      return load(r.values, {row, g, d});
    Type f32Type = b.getF32Type(), i32 = b.getI32Type();
    if (bits == 8) {
      Value q = arith::SIToFPOp::create(b, loc, f32Type, load(r.values, {row, g, d}));
      return arith::MulFOp::create(b, loc, q, load(r.scales, {row, g}));
    }
    Value byte = arith::ExtUIOp::create(
        b, loc, i32, load(r.values, {row, g, arith::DivUIOp::create(b, loc, d, idx(2))}));
    Value shift = arith::IndexCastOp::create(
        b, loc, i32, mul(arith::RemUIOp::create(b, loc, d, idx(2)), idx(4)));
    Value nibble = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
        arith::ConstantIntOp::create(b, loc, i32, 15));
    Value q = arith::SIToFPOp::create(
        b, loc, f32Type,
        arith::SubIOp::create(b, loc, nibble, arith::ConstantIntOp::create(b, loc, i32, 8)));
    Value scale =
        load(r.scales, {row, g, arith::DivUIOp::create(b, loc, d, idx(kInt4Group))});
    return arith::MulFOp::create(b, loc, q, scale);
  }

  /// `source`, the op's queries, keys or values, at feature `feature` of
  /// the chunk's token `t`; with `rotate`, rotated as the op says, at
  /// position start + t (+ rope_offset). (The flag says which operand
  /// `source` is: two operands may be one buffer.)
  Value loadToken(Value source, bool rotate, Value t, Value feature) {
    Value zero = idx(0);
    Value x = load(source, {zero, t, feature});
    if (!rotate)
      return x;
    return tfm::Rotary::ofFolded(op).buildElement(
        b, loc, feature, add(start, t), /*start=*/Value(), x,
        [&](Value partner) { return load(source, {zero, t, partner}); });
  }

  /// Quantizes group `unit` of row `x` (feature `feature0` on of token `t`
  /// in `source`, rotated with `rotate`) into cache row `row`, head `g` of
  /// `r`: the scale maps the group's largest magnitude to the largest
  /// level, values round to even.
  void storeQuantized(Value source, bool rotate, Value t, Value feature0,
                      const CacheRegion &r, Value row, Value g, Value unit) {
    int64_t groupSize = bits == 8 ? headDim : kInt4Group;
    double qmax = bits == 8 ? 127.0 : 7.0;
    Value d0 = mul(unit, idx(groupSize));
    auto element = [&](Value d) {
      return loadToken(source, rotate, t, add(feature0, d));
    };
    Value amax = reduce(d0, add(d0, idx(groupSize)), f32(0.0),
                        [&](Value d, Value acc) -> Value {
                          Value magnitude = math::AbsFOp::create(b, loc, element(d));
                          return arith::MaximumFOp::create(b, loc, acc, magnitude);
                        });
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, amax, f32(0.0));
    Value scale = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, amax, f32(qmax)), f32(1.0));
    if (bits == 8)
      store(scale, r.scales, {row, g});
    else
      store(scale, r.scales, {row, g, unit});
    Value inverse = arith::DivFOp::create(b, loc, f32(1.0), scale);
    // The level of value d: round(x / scale) clamped to [-qmax, qmax].
    Type i32 = b.getI32Type(), i8 = b.getI8Type();
    auto level = [&](Value d) -> Value {
      Value q = math::RoundEvenOp::create(
          b, loc, arith::MulFOp::create(b, loc, element(d), inverse));
      q = arith::MinimumFOp::create(
          b, loc, arith::MaximumFOp::create(b, loc, q, f32(-qmax)), f32(qmax));
      return arith::FPToSIOp::create(b, loc, i32, q);
    };
    if (bits == 8) {
      loop(d0, add(d0, idx(groupSize)), idx(1), [&](Value d) {
        store(arith::TruncIOp::create(b, loc, i8, level(d)), r.values, {row, g, d});
      });
      return;
    }
    // int4: two values per byte, the even one in the low nibble, as q + 8.
    Value eight = arith::ConstantIntOp::create(b, loc, i32, 8);
    loop(d0, add(d0, idx(groupSize)), idx(2), [&](Value d) {
      Value low = arith::AddIOp::create(b, loc, level(d), eight);
      Value high = arith::AddIOp::create(b, loc, level(add(d, idx(1))), eight);
      Value packed = arith::OrIOp::create(
          b, loc, low,
          arith::ShLIOp::create(b, loc, high,
                                arith::ConstantIntOp::create(b, loc, i32, 4)));
      store(arith::TruncIOp::create(b, loc, i8, packed), r.values,
            {row, g, arith::DivUIOp::create(b, loc, d, idx(2))});
    });
  }

  /// The append kernel: a block per (token, key/value head); a thread per
  /// value (f32) or per quantization group.
  void emitAppend() {
    OpBuilder::InsertionGuard guard(b);
    int64_t units = bits == 32   ? headDim
                    : bits == 8 ? 1
                                : headDim / kInt4Group;
    int64_t blockSize = std::min<int64_t>(units, 128);
    gpu::LaunchOp launchOp = launch(seq, kvHeads, idx(1), blockSize);
    Value t = launchOp.getBlockIds().x, g = launchOp.getBlockIds().y;
    Value tid = launchOp.getThreadIds().x;
    Value p = add(start, t);
    Value feature0 = mul(g, idx(headDim));
    ifThen(isStored(p), [&] {
      Value row = rowOf(p);
      loop(tid, idx(units), idx(blockSize), [&](Value u) {
        for (auto [source, rotate, r] :
             {std::tuple(op.getKey(), op.getRopeKey(), keys),
              std::tuple(op.getValue(), false, values)}) {
          if (bits == 32)
            store(loadToken(source, rotate, t, add(feature0, u)), r.values,
                  {row, g, u});
          else
            storeQuantized(source, rotate, t, feature0, r, row, g, u);
        }
      });
    });
    gpu::TerminatorOp::create(b, loc);
  }

  /// The attention kernel: a block per (query, key/value head) serves the
  /// `group` query heads that share the cached keys and values, so each
  /// cached value is read once per group. Chunks of `threads` positions: a
  /// position per thread (its `group` scores), the output dimensions spread
  /// over the threads, each with an accumulator per head in registers.
  /// With a split, a block per piece of `split` visible positions too
  /// (as many pieces as the chunk's last query may see: the host knows
  /// `start`), writing its maxima, sums and unnormalized outputs to the
  /// scratch buffer instead of the output.
  void emitAttention() {
    OpBuilder::InsertionGuard guard(b);
    Type f32Type = b.getF32Type(), i32 = b.getI32Type();
    Value pieces = idx(1);
    if (split > 0)
      pieces = arith::CeilDivUIOp::create(
          b, loc,
          arith::MinUIOp::create(b, loc, add(start, idx(seq)), idx(maxVisible)),
          idx(split));
    // The chunk's keys are staged a slice of `sliceDims` dimensions at a
    // time, in rows of an odd stride: thread k then reads row k without
    // bank conflicts.
    int64_t sliceDims = keySliceDims();
    gpu::LaunchOp launchOp =
        launch(seq, kvHeads, pieces, threads,
               {workgroupMemRefType({group, headDim}, f32Type),
                workgroupMemRefType({group, threads}, f32Type),
                workgroupMemRefType({group, threads}, f32Type),
                workgroupMemRefType({threads}, i32),
                workgroupMemRefType({threads, keyTileStride()}, f32Type)});
    ValueRange buffers = launchOp.getWorkgroupAttributions();
    Value query = buffers[0], scores = buffers[1], probs = buffers[2],
          rows = buffers[3], keyTile = buffers[4];
    Value t = launchOp.getBlockIds().x, g = launchOp.getBlockIds().y;
    Value tid = launchOp.getThreadIds().x;
    Value zero = idx(0), step = idx(threads);
    Value p = add(start, t);
    Value stored = isStored(p);
    Visible seen = visible(p);
    // This block's visible positions [begin, end).
    Value piece = launchOp.getBlockIds().z;
    Value begin = zero, end = seen.count;
    if (split > 0) {
      begin = mul(piece, idx(split));
      end = arith::MinUIOp::create(b, loc, seen.count, add(begin, idx(split)));
    }

    // The group's scaled queries (heads g * group ..), shared by the block.
    Value qFeature0 = mul(g, idx(group * headDim));
    Value scale = f32(op.getScale().convertToDouble());
    loop(tid, idx(group * headDim), step, [&](Value e) {
      Value x = loadToken(op.getQuery(), op.getRopeQuery(), t,
                          add(qFeature0, e));
      Value j = arith::DivUIOp::create(b, loc, e, idx(headDim));
      Value d = arith::RemUIOp::create(b, loc, e, idx(headDim));
      store(arith::MulFOp::create(b, loc, x, scale), query, {j, d});
    });
    gpu::BarrierOp::create(b, loc);

    // Carried per head j: the running maximum and sum; per head and slot
    // k: the accumulator of dimension tid + k * threads.
    int64_t slots = llvm::divideCeil(headDim, threads);
    Value negInf = f32(-std::numeric_limits<double>::infinity());
    SmallVector<Value> init(group, negInf);
    init.append(group, f32(0.0));
    init.append(group * slots, f32(0.0));
    auto maxOf = [&](ValueRange state, int64_t j) { return state[j]; };
    auto sumOf = [&](ValueRange state, int64_t j) { return state[group + j]; };
    auto accOf = [&](ValueRange state, int64_t j, int64_t k) {
      return state[2 * group + j * slots + k];
    };
    // An empty piece (past what its query sees) runs no chunk.
    auto chunks = scf::ForOp::create(b, loc, begin, end, step, init);
    {
      OpBuilder::InsertionGuard inChunk(b);
      b.setInsertionPointToStart(chunks.getBody());
      Value c0 = chunks.getInductionVar();
      ValueRange carried = chunks.getRegionIterArgs();

      // The cache rows of the chunk's positions, a position per thread.
      Value i = add(c0, tid);
      Value valid = less(i, end);
      ifThen(valid, [&] {
        store(arith::IndexCastOp::create(b, loc, i32, rowOf(positionOf(seen, i))),
              rows, {tid});
      });
      gpu::BarrierOp::create(b, loc);
      Value chunkLen = arith::MinUIOp::create(b, loc, step, sub(end, c0));

      // Scores: a position per thread, each cached key read once for the
      // group's heads. The block stages the chunk's keys (dequantized) a
      // slice of dimensions at a time, consecutive threads reading
      // consecutive values of a row; each thread then takes its row's dot
      // products from shared memory.
      auto slices = scf::ForOp::create(b, loc, zero, idx(headDim),
                                       idx(sliceDims),
                                       SmallVector<Value>(group, f32(0.0)));
      {
        OpBuilder::InsertionGuard inSlice(b);
        b.setInsertionPointToStart(slices.getBody());
        Value d0 = slices.getInductionVar();
        loop(tid, mul(chunkLen, idx(sliceDims)), step, [&](Value e) {
          Value k = arith::DivUIOp::create(b, loc, e, idx(sliceDims));
          Value dd = arith::RemUIOp::create(b, loc, e, idx(sliceDims));
          Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                 load(rows, {k}));
          store(loadCached(keys, row, g, add(d0, dd)), keyTile, {k, dd});
        });
        gpu::BarrierOp::create(b, loc);
        SmallVector<Value> dots = fmaPerHead(
            idx(sliceDims), slices.getRegionIterArgs(),
            [&](Value dd) { return load(keyTile, {tid, dd}); },
            [&](int64_t j, Value dd) {
              return load(query, {idx(j), add(d0, dd)});
            });
        // The next slice overwrites the tile.
        gpu::BarrierOp::create(b, loc);
        scf::YieldOp::create(b, loc, dots);
      }
      for (int64_t j = 0; j < group; ++j)
        store(arith::SelectOp::create(b, loc, valid, slices.getResult(j), negInf),
              scores, {idx(j), tid});
      gpu::BarrierOp::create(b, loc);

      // combine(...combine(init, buffer[j][0])..., buffer[j][chunkLen - 1]).
      auto overChunk = [&](Value buffer, int64_t j, Value init,
                           function_ref<Value(Value, Value)> combine) {
        return unrolledLoop(
                   chunkLen, {init},
                   [&](Value k) -> SmallVector<Value> {
                     return {load(buffer, {idx(j), k})};
                   },
                   [&](ValueRange acc, ArrayRef<Value> x,
                       Value) -> SmallVector<Value> {
                     return {combine(acc[0], x[0])};
                   })
            .front();
      };
      // Per head, the chunk's maximum (every thread) and rescale factor,
      // then a probability per thread.
      SmallVector<Value> newMax, alpha;
      for (int64_t j = 0; j < group; ++j) {
        Value chunkMax = overChunk(scores, j, negInf, [&](Value x, Value y) {
          return arith::MaximumFOp::create(b, loc, x, y);
        });
        newMax.push_back(
            arith::MaximumFOp::create(b, loc, maxOf(carried, j), chunkMax));
        alpha.push_back(math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, maxOf(carried, j), newMax[j])));
      }
      ifThen(less(tid, chunkLen), [&] {
        for (int64_t j = 0; j < group; ++j) {
          Value s = load(scores, {idx(j), tid});
          store(math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, newMax[j])),
                probs, {idx(j), tid});
        }
      });
      gpu::BarrierOp::create(b, loc);

      // The sums, and this thread's output dimensions of every head, each
      // cached value read once for the group.
      SmallVector<Value> next(newMax);
      for (int64_t j = 0; j < group; ++j) {
        Value chunkSum = overChunk(probs, j, f32(0.0), [&](Value x, Value y) {
          return arith::AddFOp::create(b, loc, x, y);
        });
        next.push_back(arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, sumOf(carried, j), alpha[j]),
            chunkSum));
      }
      for (int64_t k = 0; k < slots; ++k) {
        Value d = add(tid, idx(k * threads));
        SmallVector<Value> accs, rescaled;
        for (int64_t j = 0; j < group; ++j) {
          accs.push_back(accOf(carried, j, k));
          rescaled.push_back(arith::MulFOp::create(b, loc, accs[j], alpha[j]));
        }
        auto inRange = scf::IfOp::create(
            b, loc, SmallVector<Type>(group, f32Type), less(d, idx(headDim)),
            /*withElse=*/true);
        OpBuilder::InsertionGuard inIf(b);
        b.setInsertionPointToStart(inRange.thenBlock());
        SmallVector<Value> sums = fmaPerHead(
            chunkLen, rescaled,
            [&](Value c) {
              Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                     load(rows, {c}));
              return loadCached(values, row, g, d);
            },
            [&](int64_t j, Value c) { return load(probs, {idx(j), c}); });
        scf::YieldOp::create(b, loc, sums);
        b.setInsertionPointToStart(inRange.elseBlock());
        scf::YieldOp::create(b, loc, accs);
        b.setInsertionPointAfter(inRange);
        llvm::append_range(next, inRange.getResults());
      }
      // Reorder the accumulators from [slot][head] to [head][slot].
      SmallVector<Value> ordered(next.begin(), next.begin() + 2 * group);
      for (int64_t j = 0; j < group; ++j)
        for (int64_t k = 0; k < slots; ++k)
          ordered.push_back(next[2 * group + k * group + j]);
      // The next chunk overwrites the scores, probabilities and rows.
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, ordered);
    }

    ValueRange results = chunks.getResults();
    if (split > 0) {
      // The piece's partial result: per head, [max, sum, outputs...].
      ifThen(less(begin, end), [&] {
        Value h0 = mul(g, idx(group));
        ifThen(less(tid, idx(1)), [&] {
          for (int64_t j = 0; j < group; ++j) {
            Value h = add(h0, idx(j));
            store(maxOf(results, j), op.getScratch(), {t, h, piece, zero});
            store(sumOf(results, j), op.getScratch(), {t, h, piece, idx(1)});
          }
        });
        for (int64_t k = 0; k < slots; ++k) {
          Value d = add(tid, idx(k * threads));
          ifThen(less(d, idx(headDim)), [&] {
            for (int64_t j = 0; j < group; ++j)
              store(accOf(results, j, k), op.getScratch(),
                    {t, add(h0, idx(j)), piece, add(d, idx(2))});
          });
        }
      });
      gpu::TerminatorOp::create(b, loc);
      return;
    }
    // Normalize; a query past the cache (padding) gets zeros.
    for (int64_t k = 0; k < slots; ++k) {
      Value d = add(tid, idx(k * threads));
      ifThen(less(d, idx(headDim)), [&] {
        for (int64_t j = 0; j < group; ++j) {
          Value result = arith::SelectOp::create(
              b, loc, stored,
              arith::DivFOp::create(b, loc, accOf(results, j, k), sumOf(results, j)),
              f32(0.0));
          store(result, op.getOutput(),
                {zero, t, add(qFeature0, add(idx(j * headDim), d))});
        }
      });
    }
    gpu::TerminatorOp::create(b, loc);
  }

  /// The combining kernel of a split: a block per (query, head), a thread
  /// per output dimension, weighing each piece by exp(its max - the
  /// overall max).
  void emitCombine() {
    OpBuilder::InsertionGuard guard(b);
    int64_t blockSize = std::min(headDim, threads);
    gpu::LaunchOp launchOp = launch(seq, heads, idx(1), blockSize);
    Value t = launchOp.getBlockIds().x, h = launchOp.getBlockIds().y;
    Value tid = launchOp.getThreadIds().x;
    Value zero = idx(0), one = idx(1);
    Value scratch = op.getScratch();
    Value count = visible(add(start, t)).count;
    Value pieces = arith::CeilDivUIOp::create(b, loc, count, idx(split));
    auto partial = [&](Value piece, Value e) {
      return load(scratch, {t, h, piece, e});
    };
    Value overallMax = reduce(
        zero, pieces, f32(-std::numeric_limits<double>::infinity()),
        [&](Value s, Value acc) -> Value {
          return arith::MaximumFOp::create(b, loc, acc, partial(s, zero));
        });
    // Sum over the pieces of exp(max_s - max) * x_s, x_s = partial(s, e).
    auto weighted = [&](Value e) {
      return reduce(zero, pieces, f32(0.0), [&](Value s, Value acc) -> Value {
        Value weight = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, partial(s, zero), overallMax));
        return math::FmaOp::create(b, loc, weight, partial(s, e), acc);
      });
    };
    Value sum = weighted(one);
    Value nonEmpty = less(zero, count);
    loop(tid, idx(headDim), idx(blockSize), [&](Value d) {
      Value result = arith::SelectOp::create(
          b, loc, nonEmpty,
          arith::DivFOp::create(b, loc, weighted(add(d, idx(2))), sum),
          f32(0.0));
      store(result, op.getOutput(),
            {zero, t, add(mul(h, idx(headDim)), d)});
    });
    gpu::TerminatorOp::create(b, loc);
  }

  static constexpr int64_t kInt4Group = tfm::CachedAttentionOp::kInt4Group;
  static constexpr int64_t kMaxSharedBytes = 48 * 1024, kMaxGridZ = 65535;

  tfm::FusedCachedAttentionOp op;
  int64_t threads;
  int64_t seq, heads, kvHeads, group, headDim, bits, capacity, window, sinks,
      split, maxVisible;
  Value start;
  CacheRegion keys, values;
};

struct LowerFusedCachedAttention
    : public OpRewritePattern<tfm::FusedCachedAttentionOp> {
  LowerFusedCachedAttention(MLIRContext *ctx, int64_t threads)
      : OpRewritePattern(ctx), threads(threads) {}

  LogicalResult matchAndRewrite(tfm::FusedCachedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    CachedAttentionBuilder kernels(rewriter, op, threads);
    kernels.build();
    rewriter.eraseOp(op);
    return success();
  }

  int64_t threads;
};

struct TmcGpuCachedAttentionPass
    : public tmc::impl::TmcGpuCachedAttentionBase<TmcGpuCachedAttentionPass> {
  using TmcGpuCachedAttentionBase::TmcGpuCachedAttentionBase;

  void runOnOperation() override {
    if (failed(tmc::checkThreadsOption(getOperation(), getArgument(),
                                       threads)))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    WalkResult check =
        getOperation().walk([&](tfm::FusedCachedAttentionOp op) {
          CachedAttentionBuilder kernels(rewriter, op, threads);
          return failed(kernels.check()) ? WalkResult::interrupt()
                                         : WalkResult::advance();
        });
    if (check.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerFusedCachedAttention>(&getContext(), threads);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
