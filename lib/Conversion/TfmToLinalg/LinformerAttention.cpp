//===- LinformerAttention.cpp - Lower Linformer attention -------*- C++ -*-===//
//
// This file lowers tfm.linformer_attention to linalg: the sequence
// projections of keys and values (k x n by n x features), then a softmax
// attention of every query over the k projected keys. The largest
// intermediate is the [batch, heads, seq_q, k] score tensor: O(n k), never
// n x n.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

namespace {

/// A linalg.generic with `loops` loops, the last `reductions` of them
/// reductions, reading `inputs` through `maps` and accumulating into `init`
/// (read through `outMap`).
static Value buildGeneric(OpBuilder &b, Location loc, unsigned loops,
                          unsigned reductions, ValueRange inputs,
                          ArrayRef<AffineMap> maps, Value init,
                          AffineMap outMap, BodyFn body) {
  SmallVector<AffineMap> all(maps);
  all.push_back(outMap);
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  for (unsigned i = loops - reductions; i < loops; ++i)
    iterators[i] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, all,
             iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
             })
      .getResult(0);
}

struct LinformerAttentionLowering
    : public OpRewritePattern<LinformerAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinformerAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    auto eType = cast<RankedTensorType>(op.getKeyProjection().getType());
    int64_t batch = qType.getDimSize(0), seqQ = qType.getDimSize(1);
    int64_t kvFeatures = kType.getDimSize(2), proj = eType.getDimSize(0);
    int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    int64_t group = heads / kvHeads, dim = op.getHeadDim();
    double scale = op.getScaleOrDefault();
    Type f32 = rewriter.getF32Type();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto map = [&](unsigned loops, ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    auto add = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return arith::AddFOp::create(b, l, x, y);
    };
    auto mul = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return arith::MulFOp::create(b, l, x, y);
    };

    // K' = E K and V' = F V: loops (b, j, c, s).
    auto projType = RankedTensorType::get({batch, proj, kvFeatures}, f32);
    auto project = [&](Value projection, Value x) {
      return buildGeneric(rewriter, loc, 4, 1, {projection, x},
                          {map(4, {d(1), d(3)}), map(4, {d(0), d(3), d(2)})},
                          createFilled(rewriter, loc, projType, 0.0),
                          map(4, {d(0), d(1), d(2)}),
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            return add(b, l, a[2], mul(b, l, a[0], a[1]));
                          });
    };
    // Heads as dimensions of their own, so that every indexing map is a
    // projection: queries [b, i, kh, g, dd], keys and values [b, j, kh, dd].
    SmallVector<ReassociationIndices> heads4 = {{0}, {1}, {2, 3}};
    SmallVector<ReassociationIndices> heads5 = {{0}, {1}, {2, 3, 4}};
    auto kvType = RankedTensorType::get({batch, proj, kvHeads, dim}, f32);
    Value keys = tensor::ExpandShapeOp::create(
        rewriter, loc, kvType, project(op.getKeyProjection(), op.getKey()),
        heads4);
    Value values = tensor::ExpandShapeOp::create(
        rewriter, loc, kvType, project(op.getValueProjection(), op.getValue()),
        heads4);
    Value queries = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({batch, seqQ, kvHeads, group, dim}, f32),
        op.getQuery(), heads5);

    // Scores S[b, kh, g, i, j] = sum_dd q[b, i, h dd] k'[b, j, kh dd] with
    // h = kh group + g: loops (b, kh, g, i, j, dd).
    auto scoresType =
        RankedTensorType::get({batch, kvHeads, group, seqQ, proj}, f32);
    Value scores = buildGeneric(rewriter, loc, 6, 1, {queries, keys},
                                {map(6, {d(0), d(3), d(1), d(2), d(5)}),
                                 map(6, {d(0), d(4), d(1), d(5)})},
                                createFilled(rewriter, loc, scoresType, 0.0),
                                map(6, {d(0), d(1), d(2), d(3), d(4)}),
                                [&](OpBuilder &b, Location l, ValueRange a) {
                                  return add(b, l, a[2], mul(b, l, a[0], a[1]));
                                });

    // Row maxima and sums of the scaled scores: loops (b, kh, g, i, j).
    auto rowType = RankedTensorType::get({batch, kvHeads, group, seqQ}, f32);
    AffineMap all5 = rewriter.getMultiDimIdentityMap(5);
    AffineMap row5 = map(5, {d(0), d(1), d(2), d(3)});
    Value maxima = buildGeneric(
        rewriter, loc, 5, 1, {scores}, {all5},
        createFilled(rewriter, loc, rowType,
                     -std::numeric_limits<double>::infinity()),
        row5, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::MaximumFOp::create(
              b, l, a[1], mul(b, l, a[0], f32Const(b, l, scale)));
        });
    auto weight = [&](OpBuilder &b, Location l, Value s, Value m) -> Value {
      Value shifted =
          arith::SubFOp::create(b, l, mul(b, l, s, f32Const(b, l, scale)), m);
      return math::ExpOp::create(b, l, shifted);
    };
    Value sums =
        buildGeneric(rewriter, loc, 5, 1, {scores, maxima}, {all5, row5},
                     createFilled(rewriter, loc, rowType, 0.0), row5,
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       return add(b, l, a[2], weight(b, l, a[0], a[1]));
                     });

    // O[b, i, kh, g, dd] = sum_j p[b, kh, g, i, j] v'[b, j, kh dd] / sum:
    // loops (b, i, kh, g, dd, j).
    auto outType =
        RankedTensorType::get({batch, seqQ, kvHeads, group, dim}, f32);
    Value weighted = buildGeneric(
        rewriter, loc, 6, 1, {scores, maxima, values},
        {map(6, {d(0), d(2), d(3), d(1), d(5)}),
         map(6, {d(0), d(2), d(3), d(1)}), map(6, {d(0), d(5), d(2), d(4)})},
        createFilled(rewriter, loc, outType, 0.0),
        map(6, {d(0), d(1), d(2), d(3), d(4)}),
        [&](OpBuilder &b, Location l, ValueRange a) {
          return add(b, l, a[3], mul(b, l, weight(b, l, a[0], a[1]), a[2]));
        });
    Value normalized = buildParallel(
        rewriter, loc, {weighted, sums},
        {rewriter.getMultiDimIdentityMap(5), map(5, {d(0), d(2), d(3), d(1)})},
        createEmpty(rewriter, loc, outType),
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::DivFOp::create(b, l, a[0], a[1]);
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, qType, normalized,
                                                         heads5);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmLinformerAttentionToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LinformerAttentionLowering>(patterns.getContext());
}
