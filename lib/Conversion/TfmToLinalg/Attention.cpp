//===- Attention.cpp - Lower tfm.attention ----------------------*- C++ -*-===//
//
// This file lowers tfm.attention to a tiled loop nest with an online softmax
// (FlashAttention's schedule): for each batch, head and block of queries, a
// running row maximum, a running row sum and an output accumulator are
// updated one block of keys at a time. Only a block_q x block_k tile of
// scores is ever live, whatever the sequence length.
//
// Causal attention visits only the key blocks at or below the diagonal.
// With a sparsity pattern, the key blocks each query block keeps are
// enumerated at compile time (the shapes are static) into constant tables:
// the loop visits only those blocks, blocks the pattern keeps entirely need
// no mask, and partially kept blocks read a constant element mask.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/AttentionBlockTable.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

namespace {

/// Emits the loop nest of one tfm.attention op.
class AttentionEmitter {
public:
  AttentionEmitter(AttentionOp op, int64_t blockQ, int64_t blockK)
      : op(op), loc(op.getLoc()) {
    RankedTensorType qType = op.getQuery().getType();
    batch = qType.getDimSize(0);
    seqQ = qType.getDimSize(1);
    seqK = op.getKey().getType().getDimSize(1);
    heads = op.getNumHeads();
    group = heads / op.getNumKvHeads();
    headDim = op.getHeadDim();
    scale = op.getScaleOrDefault();
    causal = op.getCausal();
    shift = seqK - seqQ;
    this->blockQ = std::min(blockQ, seqQ);
    this->blockK = std::min(blockK, seqK);
    numFullQ = seqQ / this->blockQ;
    tailQ = seqQ % this->blockQ;
    numFullK = seqK / this->blockK;
    tailK = seqK % this->blockK;
  }

  Value emit(PatternRewriter &rewriter) {
    if (std::optional<SparsityPatternAttrInterface> pattern =
            op.getSparsity()) {
      table = buildAttentionBlockTable(*pattern, causal, seqQ, seqK, blockQ,
                                       blockK);
      createTableConstants(rewriter);
    }
    Value init = createEmpty(rewriter, loc,
                             cast<RankedTensorType>(op.getType()));
    auto batchLoop = scf::ForOp::create(
        rewriter, loc, idx(rewriter, 0), idx(rewriter, batch),
        idx(rewriter, 1), ValueRange{init},
        [&](OpBuilder &b, Location, Value bIdx, ValueRange bArgs) {
          auto headLoop = scf::ForOp::create(
              b, loc, idx(b, 0), idx(b, heads), idx(b, 1), ValueRange{bArgs[0]},
              [&](OpBuilder &hb, Location, Value h, ValueRange hArgs) {
                Value result = hArgs[0];
                if (numFullQ > 0) {
                  auto qLoop = scf::ForOp::create(
                      hb, loc, idx(hb, 0), idx(hb, numFullQ), idx(hb, 1),
                      ValueRange{result},
                      [&](OpBuilder &qbb, Location, Value qb, ValueRange qArgs) {
                        Value out = emitQueryBlock(qbb, bIdx, h, qb, blockQ,
                                                   qArgs[0]);
                        scf::YieldOp::create(qbb, loc, out);
                      });
                  result = qLoop.getResult(0);
                }
                if (tailQ > 0)
                  result = emitQueryBlock(hb, bIdx, h, idx(hb, numFullQ), tailQ,
                                          result);
                scf::YieldOp::create(hb, loc, result);
              });
          scf::YieldOp::create(b, loc, headLoop.getResult(0));
        });
    return batchLoop.getResult(0);
  }

private:
  static Value idx(OpBuilder &b, Location l, int64_t v) {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  Value idx(OpBuilder &b, int64_t v) const { return idx(b, loc, v); }

  RankedTensorType f32Type(OpBuilder &b, ArrayRef<int64_t> shape) const {
    return RankedTensorType::get(shape, b.getF32Type());
  }

  /// Extracts rows [row0, row0 + len) of head feature slice `feature0` of
  /// batch `bIdx` from a [B, len, heads * headDim] tensor as [len, headDim].
  Value extractRows(OpBuilder &b, Value source, Value bIdx, Value row0,
                    int64_t len, Value feature0) const {
    SmallVector<OpFoldResult> offsets = {bIdx, row0, feature0};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(len),
                                       b.getIndexAttr(headDim)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, f32Type(b, {len, headDim}),
                                          source, offsets, sizes, strides);
  }

  /// A parallel linalg.generic over `dest` that reads `dest` itself (the
  /// last body argument) and `inputs`, and writes `dest`.
  Value buildInPlace(OpBuilder &b, ValueRange inputs,
                     ArrayRef<AffineMap> inputMaps, Value dest,
                     BodyFn body) const {
    auto type = cast<RankedTensorType>(dest.getType());
    SmallVector<AffineMap> maps(inputMaps);
    maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, inputs, ValueRange{dest}, maps,
               iterators,
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 linalg::YieldOp::create(nb, nl, body(nb, nl, args));
               })
        .getResult(0);
  }

  void createTableConstants(OpBuilder &b) {
    auto i32Tensor = [&](ArrayRef<int32_t> values) -> Value {
      auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                        b.getI32Type());
      return arith::ConstantOp::create(b, loc,
                                       DenseElementsAttr::get(type, values));
    };
    offsetsTable = i32Tensor(table.offsets);
    keyBlockTable = i32Tensor(table.keyBlocks.empty()
                                  ? ArrayRef<int32_t>{0}
                                  : ArrayRef<int32_t>(table.keyBlocks));
    maskIndexTable = i32Tensor(table.maskIndex.empty()
                                   ? ArrayRef<int32_t>{-1}
                                   : ArrayRef<int32_t>(table.maskIndex));
    if (table.numMasks > 0) {
      auto type = RankedTensorType::get({table.numMasks, blockQ, blockK},
                                        b.getIntegerType(8));
      maskTable = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(table.masks)));
    }
  }

  /// Reads element `i` of an i32 table as an index.
  Value readTable(OpBuilder &b, Value table, Value i) const {
    Value v = tensor::ExtractOp::create(b, loc, table, ValueRange{i});
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  /// Processes one block of `qLen` queries starting at block `qb`; returns
  /// `result` with the block's output inserted.
  Value emitQueryBlock(OpBuilder &b, Value bIdx, Value h, Value qb,
                       int64_t qLen, Value result) {
    Value q0 = arith::MulIOp::create(b, loc, qb, idx(b, blockQ));
    Value qFeature = arith::MulIOp::create(b, loc, h, idx(b, headDim));
    Value kvHead = arith::DivUIOp::create(b, loc, h, idx(b, group));
    Value kvFeature = arith::MulIOp::create(b, loc, kvHead, idx(b, headDim));
    Value qBlock =
        extractRows(b, op.getQuery(), bIdx, q0, qLen, qFeature);

    double negInf = -std::numeric_limits<double>::infinity();
    SmallVector<Value> state = {
        createFilled(b, loc, f32Type(b, {qLen}), negInf),
        createFilled(b, loc, f32Type(b, {qLen}), 0.0),
        createFilled(b, loc, f32Type(b, {qLen, headDim}), 0.0)};

    auto keyBlock = [&](OpBuilder &kb, Value k0, int64_t kLen, Value maskIdx,
                        ValueRange carried) {
      return emitKeyBlock(kb, bIdx, kvFeature, qBlock, q0, qLen, k0, kLen,
                          maskIdx, carried);
    };

    if (!table.offsets.empty()) {
      // Sparse: visit the key blocks of this query block's table entries.
      Value begin = readTable(b, offsetsTable, qb);
      Value end = readTable(
          b, offsetsTable, arith::AddIOp::create(b, loc, qb, idx(b, 1)));
      auto loop = scf::ForOp::create(
          b, loc, begin, end, idx(b, 1), state,
          [&](OpBuilder &lb, Location, Value entry, ValueRange carried) {
            Value kbIdx = readTable(lb, keyBlockTable, entry);
            Value maskIdx = readTable(lb, maskIndexTable, entry);
            Value k0 = arith::MulIOp::create(lb, loc, kbIdx, idx(lb, blockK));
            SmallVector<Value> next;
            if (tailK == 0) {
              next = keyBlock(lb, k0, blockK, maskIdx, carried);
            } else {
              Value isFull = arith::CmpIOp::create(
                  lb, loc, arith::CmpIPredicate::ult, kbIdx, idx(lb, numFullK));
              auto ifOp = scf::IfOp::create(
                  lb, loc, isFull,
                  [&](OpBuilder &tb, Location) {
                    scf::YieldOp::create(
                        tb, loc, keyBlock(tb, k0, blockK, maskIdx, carried));
                  },
                  [&](OpBuilder &eb, Location) {
                    scf::YieldOp::create(
                        eb, loc, keyBlock(eb, k0, tailK, maskIdx, carried));
                  });
              next = SmallVector<Value>(ifOp.getResults().begin(), ifOp.getResults().end());
            }
            scf::YieldOp::create(lb, loc, next);
          });
      state = SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
    } else {
      // Dense: all key blocks, or with `causal` those that start at or
      // before the block's last query.
      Value numKeyBlocks = idx(b, numFullK);
      Value keyEnd = idx(b, seqK);
      if (causal) {
        Value last = arith::AddIOp::create(b, loc, q0,
                                           idx(b, qLen + shift));
        keyEnd = arith::MinUIOp::create(b, loc, last, idx(b, seqK));
        Value needed = arith::CeilDivUIOp::create(b, loc, keyEnd,
                                                  idx(b, blockK));
        numKeyBlocks =
            arith::MinUIOp::create(b, loc, needed, idx(b, numFullK));
      }
      Value noMask = idx(b, -1);
      auto loop = scf::ForOp::create(
          b, loc, idx(b, 0), numKeyBlocks, idx(b, 1), state,
          [&](OpBuilder &lb, Location, Value kbIdx, ValueRange carried) {
            Value k0 = arith::MulIOp::create(lb, loc, kbIdx, idx(lb, blockK));
            scf::YieldOp::create(lb, loc,
                                 keyBlock(lb, k0, blockK, noMask, carried));
          });
      state = SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
      if (tailK > 0) {
        Value k0 = idx(b, numFullK * blockK);
        Value visit = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                            keyEnd, k0);
        auto ifOp = scf::IfOp::create(
            b, loc, visit,
            [&](OpBuilder &tb, Location) {
              scf::YieldOp::create(tb, loc,
                                   keyBlock(tb, k0, tailK, noMask, state));
            },
            [&](OpBuilder &eb, Location) {
              scf::YieldOp::create(eb, loc, state);
            });
        state = SmallVector<Value>(ifOp.getResults().begin(), ifOp.getResults().end());
      }
    }

    // out = acc / rowSum, written straight into the result's slice.
    SmallVector<OpFoldResult> offsets = {bIdx, q0, qFeature};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(qLen),
                                       b.getIndexAttr(headDim)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto outType = f32Type(b, {qLen, headDim});
    Value dest = tensor::ExtractSliceOp::create(b, loc, outType, result,
                                                offsets, sizes, strides);
    AffineMap id2 = b.getMultiDimIdentityMap(2);
    AffineMap rows = leadingDimsMap(b.getContext(), 2);
    Value out = buildParallel(
        b, loc, {state[2], state[1]}, {id2, rows}, dest,
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::DivFOp::create(nb, nl, args[0], args[1]);
        });
    return tensor::InsertSliceOp::create(b, loc, out, result, offsets, sizes,
                                         strides);
  }

  /// One online-softmax step over `kLen` keys starting at `k0`; `carried`
  /// is (row max, row sum, accumulator); returns their updated values.
  SmallVector<Value> emitKeyBlock(OpBuilder &b, Value bIdx, Value kvFeature,
                                  Value qBlock, Value q0, int64_t qLen,
                                  Value k0, int64_t kLen, Value maskIdx,
                                  ValueRange carried) {
    MLIRContext *ctx = b.getContext();
    Value kBlock = extractRows(b, op.getKey(), bIdx, k0, kLen, kvFeature);
    Value vBlock = extractRows(b, op.getValue(), bIdx, k0, kLen, kvFeature);
    auto tileType = f32Type(b, {qLen, kLen});
    auto rowType = f32Type(b, {qLen});
    AffineMap id2 = b.getMultiDimIdentityMap(2);
    AffineMap rows = leadingDimsMap(ctx, 2);
    double negInf = -std::numeric_limits<double>::infinity();

    Value scores = buildMatmul(b, loc, qBlock, kBlock,
                               createFilled(b, loc, tileType, 0.0),
                               /*transposeB=*/true);

    // Whether element (i, j) of the tile is kept, and its scaled score.
    auto scaled = [&](OpBuilder &nb, Location nl,
                      Value score) -> std::pair<Value, Value> {
      Value s = arith::MulFOp::create(nb, nl, score, f32Const(nb, nl, scale));
      Value keep = arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true));
      Value i = linalg::IndexOp::create(nb, nl, 0);
      Value j = linalg::IndexOp::create(nb, nl, 1);
      if (maskTable) {
        Value isPartial = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::sge, maskIdx, idx(nb, nl, 0));
        Value safeIdx = arith::MaxSIOp::create(nb, nl, maskIdx, idx(nb, nl, 0));
        Value byte = tensor::ExtractOp::create(nb, nl, maskTable,
                                               ValueRange{safeIdx, i, j});
        Value kept = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::ne, byte,
            arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(0)));
        Value notPartial = arith::XOrIOp::create(
            nb, nl, isPartial,
            arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true)));
        keep = arith::OrIOp::create(nb, nl, notPartial, kept);
      } else if (causal && table.offsets.empty()) {
        Value qi = arith::AddIOp::create(nb, nl, q0, i);
        Value limit = arith::AddIOp::create(nb, nl, qi, idx(nb, nl, shift));
        Value kj = arith::AddIOp::create(nb, nl, k0, j);
        keep = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule, kj,
                                     limit);
      }
      return {keep, s};
    };

    // Block row maximum of the kept scaled scores, then the new maximum.
    Value blockMax = buildLastDimReduction(
        b, loc, scores, {}, {}, createFilled(b, loc, rowType, negInf),
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          auto [keep, s] = scaled(nb, nl, args[0]);
          Value candidate = arith::SelectOp::create(nb, nl, keep, s,
                                                    f32Const(nb, nl, negInf));
          return arith::MaximumFOp::create(nb, nl, candidate, args[1]);
        });
    // The carried state is updated in place (each generic writes into the
    // carried tensor it reads), so that the loop's iteration arguments
    // bufferize to the same buffers.
    AffineMap id1 = b.getMultiDimIdentityMap(1);
    // alpha = exp(oldMax - max(oldMax, blockMax)), 0 while the row has seen
    // no key.
    Value alpha = buildParallel(
        b, loc, {carried[0], blockMax}, {id1, id1},
        createEmpty(b, loc, rowType),
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value newMax = arith::MaximumFOp::create(nb, nl, args[0], args[1]);
          Value seen = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ONE,
                                             args[0], f32Const(nb, nl, negInf));
          Value e = math::ExpOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, args[0], newMax));
          return arith::SelectOp::create(nb, nl, seen, e,
                                         f32Const(nb, nl, 0.0));
        });
    Value newMax = buildInPlace(
        b, {blockMax}, {id1}, carried[0],
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::MaximumFOp::create(nb, nl, args[0], args[1]);
        });
    // p = exp(score - newMax) where kept.
    Value probs = buildParallel(
        b, loc, {scores, newMax}, {id2, rows}, createEmpty(b, loc, tileType),
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          auto [keep, s] = scaled(nb, nl, args[0]);
          Value e = math::ExpOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, s, args[1]));
          return arith::SelectOp::create(nb, nl, keep, e,
                                         f32Const(nb, nl, 0.0));
        });
    Value blockSum = buildLastDimReduction(
        b, loc, probs, {}, {}, createFilled(b, loc, rowType, 0.0),
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::AddFOp::create(nb, nl, args[0], args[1]);
        });
    // sum = sum * alpha + blockSum
    Value newSum = buildInPlace(
        b, {alpha, blockSum}, {id1, id1}, carried[1],
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::AddFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, args[2], args[0]),
              args[1]);
        });
    // acc = acc * alpha + p v
    Value rescaled = buildInPlace(
        b, {alpha}, {rows}, carried[2],
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::MulFOp::create(nb, nl, args[1], args[0]);
        });
    Value acc = buildMatmul(b, loc, probs, vBlock, rescaled,
                            /*transposeB=*/false);
    return {newMax, newSum, acc};
  }

  AttentionOp op;
  Location loc;
  int64_t batch, seqQ, seqK, heads, group, headDim, shift;
  int64_t blockQ, blockK, numFullQ, tailQ, numFullK, tailK;
  double scale;
  bool causal;
  AttentionBlockTable table;
  Value offsetsTable, keyBlockTable, maskIndexTable, maskTable;
};

struct AttentionLowering : public OpRewritePattern<AttentionOp> {
  AttentionLowering(MLIRContext *ctx, int64_t blockQ, int64_t blockK)
      : OpRewritePattern(ctx), blockQ(blockQ), blockK(blockK) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    AttentionEmitter emitter(op, blockQ, blockK);
    rewriter.replaceOp(op, emitter.emit(rewriter));
    return success();
  }

  int64_t blockQ, blockK;
};

/// tfm.attention as tfm.fused_attention on buffers: the read-only buffers
/// of its operands, a fresh output buffer (placed in the arena by the
/// planner), and the op, which a target lowers to one kernel. The
/// rotations of its queries and keys (FoldedRopes) become attributes of the
/// op, which reads their inputs instead.
struct FusedAttentionLowering : public OpRewritePattern<AttentionOp> {
  FusedAttentionLowering(MLIRContext *ctx, int64_t blockQ, int64_t blockK)
      : OpRewritePattern(ctx), blockQ(blockQ), blockK(blockK) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    FoldedRopes ropes = FoldedRopes::of(op.getQuery(), op.getKey(),
                                        headDimOf(op), /*start=*/Value());
    Value q = asReadOnlyBuffer(rewriter, loc, ropes.queryInput);
    Value k = asReadOnlyBuffer(rewriter, loc, ropes.keyInput);
    Value v = asReadOnlyBuffer(rewriter, loc, op.getValue());
    auto resultType = cast<RankedTensorType>(op.getType());
    auto outType =
        MemRefType::get(resultType.getShape(), resultType.getElementType());
    Value out = memref::AllocOp::create(rewriter, loc, outType);
    int64_t seqQ = resultType.getDimSize(1);
    int64_t seqK = op.getKey().getType().getDimSize(1);
    auto fused = FusedAttentionOp::create(
        rewriter, loc, q, k, v, out, op.getNumHeadsAttr(),
        op.getNumKvHeadsAttr(), op.getCausalAttr(),
        rewriter.getF64FloatAttr(op.getScaleOrDefault()),
        rewriter.getI64IntegerAttr(std::min(blockQ, seqQ)),
        rewriter.getI64IntegerAttr(std::min(blockK, seqK)),
        op.getSparsityAttr(), /*rope_query=*/nullptr, /*rope_key=*/nullptr,
        /*rope_theta=*/nullptr);
    fused->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    ropes.setOn(fused);
    rewriter.replaceOp(op, asWrittenTensor(rewriter, loc, out));
    ropes.erase(rewriter);
    return success();
  }

  int64_t blockQ, blockK;
};

} // namespace

void mlir::tmc::populateTfmAttentionToLinalgPatterns(
    RewritePatternSet &patterns, int64_t blockQ, int64_t blockK,
    bool fused) {
  if (fused)
    patterns.add<FusedAttentionLowering>(patterns.getContext(), blockQ,
                                         blockK);
  else
    patterns.add<AttentionLowering>(patterns.getContext(), blockQ, blockK);
}
