//===- Attention.cpp - Lower tfm.attention ----------------------*- C++ -*-===//
//
// This file lowers tfm.attention to a loop over batch and heads; each head's
// scores are computed with a matmul against the transposed keys, masked,
// put through a max-subtracted softmax and multiplied by the values.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

namespace {

/// Extracts the [len, headDim] slice of head `head` of batch `batch` from a
/// [B, len, heads * headDim] tensor.
static Value extractHead(OpBuilder &b, Location loc, Value source, Value batch,
                         Value featureOffset, int64_t len, int64_t headDim) {
  auto type = RankedTensorType::get(
      {len, headDim},
      cast<RankedTensorType>(source.getType()).getElementType());
  SmallVector<OpFoldResult> offsets = {batch, b.getIndexAttr(0),
                                       featureOffset};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(len),
                                     b.getIndexAttr(headDim)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes,
                                        strides);
}

struct AttentionLowering : public OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType qType = op.getQuery().getType();
    RankedTensorType kType = op.getKey().getType();
    int64_t batch = qType.getDimSize(0), seqQ = qType.getDimSize(1);
    int64_t seqK = kType.getDimSize(1);
    int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    int64_t headDim = op.getHeadDim(), group = heads / kvHeads;
    double scale = op.getScaleOrDefault();
    bool causal = op.getCausal();
    // Queries are the last seqQ positions of the seqK keys.
    int64_t queryShift = seqK - seqQ;

    // A sparsity pattern becomes a constant [seqQ, seqK] keep-mask.
    Value patternMask;
    if (std::optional<SparsityPatternAttrInterface> pattern = op.getSparsity()) {
      SmallVector<int8_t> keep(seqQ * seqK);
      for (int64_t i = 0; i < seqQ; ++i)
        for (int64_t j = 0; j < seqK; ++j)
          keep[i * seqK + j] = pattern->isKept(i + queryShift, j, seqK);
      auto maskType =
          RankedTensorType::get({seqQ, seqK}, rewriter.getIntegerType(8));
      patternMask = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(maskType, ArrayRef<int8_t>(keep)));
    }

    auto idx = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    auto scoresType = RankedTensorType::get({seqQ, seqK}, rewriter.getF32Type());
    auto rowType = RankedTensorType::get({seqQ}, rewriter.getF32Type());
    auto headType = RankedTensorType::get({seqQ, headDim}, rewriter.getF32Type());
    AffineMap id2 = rewriter.getMultiDimIdentityMap(2);
    AffineMap rows = leadingDimsMap(ctx, 2);

    // Returns the masked, scaled score of element (i, j), -inf when masked.
    auto maskedScore = [&](OpBuilder &b, Location l, Value score,
                           Value keepByte) -> std::pair<Value, Value> {
      Value scaled = arith::MulFOp::create(b, l, score, f32Const(b, l, scale));
      Value keep = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
      if (causal) {
        Value i = linalg::IndexOp::create(b, l, 0);
        Value j = linalg::IndexOp::create(b, l, 1);
        Value limit = arith::AddIOp::create(b, l, i, idx(b, l, queryShift));
        keep = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ule, j, limit);
      }
      if (keepByte) {
        Value kept = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::ne, keepByte,
            arith::ConstantOp::create(b, l, b.getI8IntegerAttr(0)));
        keep = arith::AndIOp::create(b, l, keep, kept);
      }
      return {keep, scaled};
    };

    Value init = createEmpty(rewriter, loc, cast<RankedTensorType>(op.getType()));
    auto batchLoop = scf::ForOp::create(
        rewriter, loc, idx(rewriter, loc, 0), idx(rewriter, loc, batch),
        idx(rewriter, loc, 1), ValueRange{init},
        [&](OpBuilder &bb, Location bl, Value bIdx, ValueRange bArgs) {
          auto headLoop = scf::ForOp::create(
              bb, bl, idx(bb, bl, 0), idx(bb, bl, heads), idx(bb, bl, 1),
              ValueRange{bArgs[0]},
              [&](OpBuilder &b, Location l, Value h, ValueRange hArgs) {
                Value kvHead = arith::DivUIOp::create(b, l, h, idx(b, l, group));
                Value qOffset =
                    arith::MulIOp::create(b, l, h, idx(b, l, headDim));
                Value kvOffset =
                    arith::MulIOp::create(b, l, kvHead, idx(b, l, headDim));
                Value qh = extractHead(b, l, op.getQuery(), bIdx, qOffset, seqQ,
                                       headDim);
                Value kh = extractHead(b, l, op.getKey(), bIdx, kvOffset, seqK,
                                       headDim);
                Value vh = extractHead(b, l, op.getValue(), bIdx, kvOffset,
                                       seqK, headDim);

                // scores = q k^T
                Value scores =
                    buildMatmul(b, l, qh, kh, createFilled(b, l, scoresType, 0),
                                /*transposeB=*/true);
                SmallVector<Value> extra;
                SmallVector<AffineMap> extraMaps;
                if (patternMask) {
                  extra.push_back(patternMask);
                  extraMaps.push_back(id2);
                }
                // Row maximum of the masked, scaled scores.
                Value rowMax = buildLastDimReduction(
                    b, l, scores, extra, extraMaps,
                    createFilled(b, l, rowType,
                                 -std::numeric_limits<double>::infinity()),
                    [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                      auto [keep, scaled] = maskedScore(
                          nb, nl, args[0], patternMask ? args[2] : Value());
                      Value candidate = arith::SelectOp::create(
                          nb, nl, keep, scaled,
                          f32Const(nb, nl,
                                   -std::numeric_limits<double>::infinity()));
                      return arith::MaximumFOp::create(nb, nl, candidate,
                                                       args[1]);
                    });
                // p = exp(score - max) where kept, 0 elsewhere.
                SmallVector<Value> pInputs = {scores, rowMax};
                SmallVector<AffineMap> pMaps = {id2, rows};
                if (patternMask) {
                  pInputs.push_back(patternMask);
                  pMaps.push_back(id2);
                }
                Value probs = buildParallel(
                    b, l, pInputs, pMaps, createEmpty(b, l, scoresType),
                    [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                      auto [keep, scaled] = maskedScore(
                          nb, nl, args[0], patternMask ? args[2] : Value());
                      Value e = math::ExpOp::create(
                          nb, nl, arith::SubFOp::create(nb, nl, scaled, args[1]));
                      return arith::SelectOp::create(nb, nl, keep, e,
                                                     f32Const(nb, nl, 0.0));
                    });
                Value rowSum = buildLastDimReduction(
                    b, l, probs, {}, {}, createFilled(b, l, rowType, 0.0),
                    [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                      return arith::AddFOp::create(nb, nl, args[0], args[1]);
                    });
                // out = (p v) / sum
                Value unnormalized =
                    buildMatmul(b, l, probs, vh, createFilled(b, l, headType, 0),
                                /*transposeB=*/false);
                // Normalize straight into the result's slice (destination
                // passing: no temporary, no copy after bufferization).
                SmallVector<OpFoldResult> offsets = {bIdx, b.getIndexAttr(0),
                                                     qOffset};
                SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                                   b.getIndexAttr(seqQ),
                                                   b.getIndexAttr(headDim)};
                SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
                Value dest = tensor::ExtractSliceOp::create(
                    b, l, headType, hArgs[0], offsets, sizes, strides);
                Value out = buildParallel(
                    b, l, {unnormalized, rowSum}, {id2, rows}, dest,
                    [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                      return arith::DivFOp::create(nb, nl, args[0], args[1]);
                    });
                Value updated = tensor::InsertSliceOp::create(
                    b, l, out, hArgs[0], offsets, sizes, strides);
                scf::YieldOp::create(b, l, updated);
              });
          scf::YieldOp::create(bb, bl, headLoop.getResult(0));
        });
    rewriter.replaceOp(op, batchLoop.getResult(0));
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmAttentionToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AttentionLowering>(patterns.getContext());
}
