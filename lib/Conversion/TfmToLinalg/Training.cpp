//===- Training.cpp - Lower the tfm training ops ----------------*- C++ -*-===//
//
// This file lowers the training ops of the tfm dialect: the losses and their
// gradients (max-subtracted log-softmax rows), the weight gradient of a
// linear layer (a matmul with a transposed left-hand side, which
// tmc-linalg-to-kernels turns into a GEMM call), the backward ops of the
// norms and activations (reductions along the last dimension, then
// elementwise generics), the embedding gradient (a scatter-add loop),
// tfm.concat, and attention's backward, a call of the runtime's
// FlashAttention-style kernel tmc_rt_attention_grad, which recomputes the
// scores so that nothing of size seq x seq exists. The numerics are the op
// descriptions' in TfmOps.td.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

using MultiBodyFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// The type of a per-row value of `type`: all dimensions but the last.
static RankedTensorType rowsOf(RankedTensorType type) {
  return RankedTensorType::get(type.getShape().drop_back(),
                               type.getElementType());
}

/// The type of a per-feature value of `type`: its last dimension.
static RankedTensorType featuresOf(RankedTensorType type) {
  return RankedTensorType::get(type.getShape().back(), type.getElementType());
}

/// The number of rows of `type`: the product of all dimensions but the last.
static int64_t numRows(RankedTensorType type) {
  int64_t rows = 1;
  for (int64_t d : type.getShape().drop_back())
    rows *= d;
  return rows;
}

/// A linalg.generic with several outputs; `body` returns one value per init.
static SmallVector<Value>
buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
             ArrayRef<AffineMap> inputMaps, ValueRange inits,
             ArrayRef<AffineMap> initMaps,
             ArrayRef<utils::IteratorType> iterators, MultiBodyFn body) {
  SmallVector<AffineMap> maps(inputMaps);
  llvm::append_range(maps, initMaps);
  auto generic = linalg::GenericOp::create(
      b, loc, ValueRange(inits).getTypes(), inputs, inits, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  return SmallVector<Value>(generic.getResults());
}

/// Sums `body(inputs)` over every element of the rank-`rank` iteration space
/// into a one-element tensor<1xf32>.
static Value buildSum(OpBuilder &b, Location loc, ValueRange inputs,
                      ArrayRef<AffineMap> maps, unsigned rank, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  Value init =
      createFilled(b, loc, RankedTensorType::get({}, b.getF32Type()), 0.0);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  Value total = buildGeneric(
      b, loc, inputs, maps, init, AffineMap::get(rank, 0, {}, ctx), iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value term = body(nb, l, args.drop_back());
        return {arith::AddFOp::create(nb, l, args.back(), term)};
      })[0];
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({1}, b.getF32Type()), total,
      ArrayRef<ReassociationIndices>{});
}

/// Sums `body(inputs)` over every dimension but the last into `count`
/// per-feature vectors of `type`'s last dimension (the parameter gradients of
/// the norms).
static SmallVector<Value> buildColumnSums(OpBuilder &b, Location loc,
                                          RankedTensorType type,
                                          ValueRange inputs,
                                          ArrayRef<AffineMap> maps,
                                          unsigned count, MultiBodyFn body) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = type.getRank();
  SmallVector<Value> inits;
  for (unsigned i = 0; i < count; ++i)
    inits.push_back(createFilled(b, loc, featuresOf(type), 0.0));
  SmallVector<AffineMap> initMaps(count, lastDimMap(ctx, rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  iterators.back() = utils::IteratorType::parallel;
  return buildGeneric(
      b, loc, inputs, maps, inits, initMaps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        SmallVector<Value> terms = body(nb, l, args.drop_back(count));
        SmallVector<Value> sums;
        for (auto [term, acc] : llvm::zip(terms, args.take_back(count)))
          sums.push_back(arith::AddFOp::create(nb, l, acc, term));
        return sums;
      });
}

/// Sums `term(element, extras...)` over the last dimension of `x`.
static Value buildRowSum(OpBuilder &b, Location loc, Value x, ValueRange extra,
                         ArrayRef<AffineMap> extraMaps, BodyFn term) {
  auto type = cast<RankedTensorType>(x.getType());
  return buildLastDimReduction(
      b, loc, x, extra, extraMaps, createFilled(b, loc, rowsOf(type), 0.0),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        SmallVector<Value> operands = {args[0]};
        llvm::append_range(operands, args.drop_front(2));
        return arith::AddFOp::create(nb, l, args[1], term(nb, l, operands));
      });
}

/// The per-row log-sum-exp of `x * invTau` over the last dimension, with the
/// row maximum subtracted before exponentiating.
static Value buildRowLogSumExp(OpBuilder &b, Location loc, Value x,
                               double invTau) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  unsigned rank = type.getRank();
  auto scaled = [invTau](OpBuilder &nb, Location l, Value v) -> Value {
    return invTau == 1.0
               ? v
               : arith::MulFOp::create(nb, l, v, f32Const(nb, l, invTau));
  };
  Value max = buildLastDimReduction(
      b, loc, x, {}, {}, createFilled(b, loc, rowsOf(type), -INFINITY),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::MaximumFOp::create(nb, l, scaled(nb, l, args[0]),
                                         args[1]);
      });
  Value sum = buildRowSum(
      b, loc, x, {max}, {leadingDimsMap(ctx, rank)},
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return math::ExpOp::create(
            nb, l,
            arith::SubFOp::create(nb, l, scaled(nb, l, args[0]), args[1]));
      });
  AffineMap id = b.getMultiDimIdentityMap(rank - 1);
  return buildParallel(
      b, loc, {max, sum}, {id, id}, createEmpty(b, loc, rowsOf(type)),
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::AddFOp::create(nb, l, args[0],
                                     math::LogOp::create(nb, l, args[1]));
      });
}

/// `x * invTau - lse`: a log-softmax element from its row's log-sum-exp.
static Value logSoftmax(OpBuilder &b, Location loc, Value x, Value lse,
                        double invTau) {
  if (invTau != 1.0)
    x = arith::MulFOp::create(b, loc, x, f32Const(b, loc, invTau));
  return arith::SubFOp::create(b, loc, x, lse);
}

/// Whether the class id `id` (any integer type) lies in [0, classes).
static Value idInRange(OpBuilder &b, Location loc, Value id, int64_t classes) {
  Type type = id.getType();
  Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, 0));
  Value limit =
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, classes));
  return arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, id, zero),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, id, limit));
}

/// `act'(x)`, the exact derivative of buildActivation's formulas.
static Value buildActivationDerivative(OpBuilder &b, Location loc,
                                       ActivationKind kind, Value x) {
  Value half = f32Const(b, loc, 0.5), one = f32Const(b, loc, 1.0);
  auto mul = [&](Value l, Value r) -> Value {
    return arith::MulFOp::create(b, loc, l, r);
  };
  auto add = [&](Value l, Value r) -> Value {
    return arith::AddFOp::create(b, loc, l, r);
  };
  switch (kind) {
  case ActivationKind::gelu_erf: {
    // 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)
    Value cdf =
        mul(half, add(one, math::ErfOp::create(
                               b, loc, mul(x, f32Const(b, loc, M_SQRT1_2)))));
    Value pdf = mul(
        f32Const(b, loc, 0.5 * M_2_SQRTPI * M_SQRT1_2),
        math::ExpOp::create(b, loc, mul(f32Const(b, loc, -0.5), mul(x, x))));
    return add(cdf, mul(x, pdf));
  }
  case ActivationKind::gelu_tanh: {
    // u = c (x + a x^3): 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) c (1 + 3a x^2)
    constexpr double c = 0.7978845608028654, a = 0.044715;
    Value x2 = mul(x, x);
    Value u =
        mul(f32Const(b, loc, c), add(x, mul(f32Const(b, loc, a), mul(x, x2))));
    Value t = math::TanhOp::create(b, loc, u);
    Value sech2 = arith::SubFOp::create(b, loc, one, mul(t, t));
    Value du =
        mul(f32Const(b, loc, c), add(one, mul(f32Const(b, loc, 3 * a), x2)));
    return add(mul(half, add(one, t)), mul(mul(half, x), mul(sech2, du)));
  }
  case ActivationKind::relu: {
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                           f32Const(b, loc, 0.0));
    return arith::SelectOp::create(b, loc, positive, one,
                                   f32Const(b, loc, 0.0));
  }
  case ActivationKind::silu: {
    // s (1 + x (1 - s)) with s = sigmoid(x)
    Value s = arith::DivFOp::create(
        b, loc, one,
        add(one,
            math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x))));
    return mul(s, add(one, mul(x, arith::SubFOp::create(b, loc, one, s))));
  }
  }
  llvm_unreachable("unknown activation kind");
}

/// `x` as a rank-2 [rows, features] tensor.
static Value collapseRows(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() == 2)
    return x;
  ReassociationIndices rows =
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank() - 1));
  return tensor::CollapseShapeOp::create(
      b, loc, x, ArrayRef<ReassociationIndices>{rows, {type.getRank() - 1}});
}

namespace {

/// What a loss and its gradient start from: the prediction's type, 1 / T
/// over its T rows, the temperature, and the maps of an element and its row.
struct LossSetup {
  template <typename OpT>
  LossSetup(OpT op, OpBuilder &b)
      : loc(op.getLoc()),
        type(cast<RankedTensorType>(op.getPrediction().getType())),
        rank(type.getRank()), invRows(1.0 / static_cast<double>(numRows(type))),
        tau(op.getTemperature().convertToDouble()),
        id(b.getMultiDimIdentityMap(rank)),
        rows(leadingDimsMap(b.getContext(), rank)) {}

  Location loc;
  RankedTensorType type;
  unsigned rank;
  double invRows, tau;
  AffineMap id, rows;

  /// kl_div's row log-sum-exps of the prediction and the teacher's logits,
  /// both divided by the temperature.
  std::pair<Value, Value> teacherLogSumExps(OpBuilder &b, Value p,
                                            Value target) const {
    return {buildRowLogSumExp(b, loc, p, 1.0 / tau),
            buildRowLogSumExp(b, loc, target, 1.0 / tau)};
  }
};

/// tfm.loss. Cross-entropy target ids outside [0, C) contribute 0 to the
/// loss (and their rows 0 to tfm.loss_grad), like an ignored label; they
/// still count in the mean over T rows. The prediction is never read at
/// such an id (the gather index is clamped).
struct LossLowering : public OpRewritePattern<LossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LossOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    LossSetup n(op, rewriter);
    Location loc = n.loc;
    Value p = op.getPrediction(), target = op.getTarget();
    Value loss;
    switch (op.getKind()) {
    case LossKind::cross_entropy: {
      int64_t classes = n.type.getShape().back();
      Value lse = buildRowLogSumExp(rewriter, loc, p, 1.0);
      AffineMap rowId = rewriter.getMultiDimIdentityMap(n.rank - 1);
      loss = buildSum(rewriter, loc, {target, lse}, {rowId, rowId}, n.rank - 1,
                      [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                        SmallVector<Value> index;
                        for (unsigned d = 0; d + 1 < n.rank; ++d)
                          index.push_back(linalg::IndexOp::create(b, l, d));
                        index.push_back(clampedRow(b, l, args[0], classes));
                        Value picked =
                            tensor::ExtractOp::create(b, l, p, index);
                        Value term = arith::MulFOp::create(
                            b, l, arith::SubFOp::create(b, l, args[1], picked),
                            f32Const(b, l, n.invRows));
                        return arith::SelectOp::create(
                            b, l, idInRange(b, l, args[0], classes), term,
                            f32Const(b, l, 0.0));
                      });
      break;
    }
    case LossKind::mse: {
      double invNumel =
          n.invRows / static_cast<double>(n.type.getShape().back());
      loss = buildSum(rewriter, loc, {p, target}, {n.id, n.id}, n.rank,
                      [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                        Value diff =
                            arith::SubFOp::create(b, l, args[0], args[1]);
                        return arith::MulFOp::create(
                            b, l, arith::MulFOp::create(b, l, diff, diff),
                            f32Const(b, l, invNumel));
                      });
      break;
    }
    case LossKind::kl_div: {
      auto [lseP, lseT] = n.teacherLogSumExps(rewriter, p, target);
      loss = buildSum(
          rewriter, loc, {p, target, lseP, lseT}, {n.id, n.id, n.rows, n.rows},
          n.rank, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value logS = logSoftmax(b, l, args[0], args[2], 1.0 / n.tau);
            Value logT = logSoftmax(b, l, args[1], args[3], 1.0 / n.tau);
            Value term =
                arith::MulFOp::create(b, l, math::ExpOp::create(b, l, logT),
                                      arith::SubFOp::create(b, l, logT, logS));
            return arith::MulFOp::create(
                b, l, term, f32Const(b, l, n.tau * n.tau * n.invRows));
          });
      break;
    }
    }
    rewriter.replaceOp(op, loss);
    return success();
  }
};

/// tfm.loss_grad, with tfm.loss's treatment of out-of-range class ids.
struct LossGradLowering : public OpRewritePattern<LossGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LossGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    LossSetup n(op, rewriter);
    Location loc = n.loc;
    Value p = op.getPrediction(), target = op.getTarget();
    Value init = createEmpty(rewriter, loc, n.type);
    Value grad;
    switch (op.getKind()) {
    case LossKind::cross_entropy: {
      int64_t classes = n.type.getShape().back();
      Value lse = buildRowLogSumExp(rewriter, loc, p, 1.0);
      grad = buildParallel(
          rewriter, loc, {p, target, lse}, {n.id, n.rows, n.rows}, init,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value softmax = math::ExpOp::create(
                b, l, logSoftmax(b, l, args[0], args[2], 1));
            Value column = linalg::IndexOp::create(b, l, n.rank - 1);
            Value label =
                arith::IndexCastOp::create(b, l, b.getIndexType(), args[1]);
            Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              column, label);
            Value onehot = arith::SelectOp::create(
                b, l, hit, f32Const(b, l, 1.0), f32Const(b, l, 0.0));
            Value g = arith::MulFOp::create(
                b, l, arith::SubFOp::create(b, l, softmax, onehot),
                f32Const(b, l, n.invRows));
            return arith::SelectOp::create(b, l,
                                           idInRange(b, l, args[1], classes), g,
                                           f32Const(b, l, 0.0));
          });
      break;
    }
    case LossKind::mse: {
      double scale =
          2.0 * n.invRows / static_cast<double>(n.type.getShape().back());
      grad = buildParallel(
          rewriter, loc, {p, target}, {n.id, n.id}, init,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::MulFOp::create(
                b, l, arith::SubFOp::create(b, l, args[0], args[1]),
                f32Const(b, l, scale));
          });
      break;
    }
    case LossKind::kl_div: {
      auto [lseP, lseT] = n.teacherLogSumExps(rewriter, p, target);
      grad = buildParallel(
          rewriter, loc, {p, target, lseP, lseT}, {n.id, n.id, n.rows, n.rows},
          init, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value s = math::ExpOp::create(
                b, l, logSoftmax(b, l, args[0], args[2], 1.0 / n.tau));
            Value t = math::ExpOp::create(
                b, l, logSoftmax(b, l, args[1], args[3], 1.0 / n.tau));
            return arith::MulFOp::create(b, l,
                                         arith::SubFOp::create(b, l, s, t),
                                         f32Const(b, l, n.tau * n.invRows));
          });
      break;
    }
    }
    rewriter.replaceOp(op, grad);
    return success();
  }
};

/// tfm.linear_weight_grad: `dW = dy^T x` (out_in) or `x^T dy` (in_out) over
/// the collapsed [T, K] input and [T, N] output gradient, a linalg.matmul
/// whose left-hand side is read transposed (indexed (k, m)); the bias
/// gradient is a column sum of dy.
struct LinearWeightGradLowering : public OpRewritePattern<LinearWeightGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearWeightGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    if (cast<RankedTensorType>(op.getInput().getType()).getRank() < 2)
      return rewriter.notifyMatchFailure(op, "needs [..., features] inputs");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = collapseRows(rewriter, loc, op.getInput());
    Value dy = collapseRows(rewriter, loc, op.getGradOutput());
    auto dwType = cast<RankedTensorType>(op.getWeightGrad().getType());

    bool outIn = op.getLayout() == WeightLayout::out_in;
    Value lhs = outIn ? dy : x, rhs = outIn ? x : dy;
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {k, m}, ctx),
                                   AffineMap::get(3, 0, {k, n}, ctx),
                                   AffineMap::get(3, 0, {m, n}, ctx)};
    Value acc = createFilled(rewriter, loc, dwType, 0.0);
    Value dw = linalg::MatmulOp::create(
                   rewriter, loc, TypeRange{dwType}, ValueRange{lhs, rhs},
                   ValueRange{acc},
                   {rewriter.getNamedAttr(
                       "indexing_maps", rewriter.getAffineMapArrayAttr(maps))})
                   .getResult(0);
    SmallVector<Value> results = {dw};
    if (Value db = op.getBiasGrad()) {
      auto dyType = cast<RankedTensorType>(dy.getType());
      results.push_back(buildColumnSums(
          rewriter, loc, dyType, {dy}, {rewriter.getMultiDimIdentityMap(2)}, 1,
          [](OpBuilder &, Location, ValueRange args) -> SmallVector<Value> {
            return {args[0]};
          })[0]);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// What both norm gradients start from: the input's type, 1 / D, epsilon,
/// and the maps of an element, its row and its feature.
struct NormGradSetup {
  template <typename OpT>
  NormGradSetup(OpT op, OpBuilder &b)
      : loc(op.getLoc()), type(cast<RankedTensorType>(op.getInput().getType())),
        rank(type.getRank()),
        invD(1.0 / static_cast<double>(type.getShape().back())),
        eps(op.getEpsilon().convertToDouble()),
        id(b.getMultiDimIdentityMap(rank)),
        rows(leadingDimsMap(b.getContext(), rank)),
        feature(lastDimMap(b.getContext(), rank)) {}

  Location loc;
  RankedTensorType type;
  unsigned rank;
  double invD, eps;
  AffineMap id, rows, feature;

  /// 1 / sqrt(sum * invD + eps) for every row of a per-row `sum`.
  Value rowRsqrt(OpBuilder &b, Value sum) const {
    return buildParallel(
        b, loc, {sum}, {b.getMultiDimIdentityMap(rank - 1)},
        createEmpty(b, loc, rowsOf(type)),
        [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
          Value mean =
              arith::MulFOp::create(nb, l, args[0], f32Const(nb, l, invD));
          return arith::DivFOp::create(
              nb, l, f32Const(nb, l, 1.0),
              math::SqrtOp::create(
                  nb, l,
                  arith::AddFOp::create(nb, l, mean, f32Const(nb, l, eps))));
        });
  }
};

/// tfm.layer_norm_grad: the row statistics are recomputed (two-pass, as the
/// forward lowering), then `mean(g)` and `mean(g xhat)` per row.
struct LayerNormGradLowering : public OpRewritePattern<LayerNormGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    NormGradSetup n(op, rewriter);
    Location loc = n.loc;
    Value x = op.getInput(), gamma = op.getGamma(), dy = op.getGradOutput();
    AffineMap rowId = rewriter.getMultiDimIdentityMap(n.rank - 1);

    Value sum = buildRowSum(
        rewriter, loc, x, {}, {},
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    Value mean = buildParallel(
        rewriter, loc, {sum}, {rowId},
        createEmpty(rewriter, loc, rowsOf(n.type)),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::MulFOp::create(b, l, args[0], f32Const(b, l, n.invD));
        });
    Value sqSum =
        buildRowSum(rewriter, loc, x, {mean}, {n.rows},
                    [](OpBuilder &b, Location l, ValueRange args) -> Value {
                      Value centered =
                          arith::SubFOp::create(b, l, args[0], args[1]);
                      return arith::MulFOp::create(b, l, centered, centered);
                    });
    Value rstd = n.rowRsqrt(rewriter, sqSum);
    auto xhat = [](OpBuilder &b, Location l, Value v, Value mu,
                   Value r) -> Value {
      return arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, v, mu), r);
    };
    // sum(g) and sum(g xhat) with g = dy gamma.
    Value sumG =
        buildRowSum(rewriter, loc, dy, {gamma}, {n.feature},
                    [](OpBuilder &b, Location l, ValueRange args) -> Value {
                      return arith::MulFOp::create(b, l, args[0], args[1]);
                    });
    Value sumGX =
        buildRowSum(rewriter, loc, x, {dy, gamma, mean, rstd},
                    {n.id, n.feature, n.rows, n.rows},
                    [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                      Value g = arith::MulFOp::create(b, l, args[1], args[2]);
                      return arith::MulFOp::create(
                          b, l, g, xhat(b, l, args[0], args[3], args[4]));
                    });
    Value dx = buildParallel(
        rewriter, loc, {x, dy, gamma, mean, rstd, sumG, sumGX},
        {n.id, n.id, n.feature, n.rows, n.rows, n.rows, n.rows},
        createEmpty(rewriter, loc, n.type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value invDc = f32Const(b, l, n.invD);
          Value g = arith::MulFOp::create(b, l, args[1], args[2]);
          Value meanG = arith::MulFOp::create(b, l, args[5], invDc);
          Value meanGX = arith::MulFOp::create(b, l, args[6], invDc);
          Value centered = arith::SubFOp::create(
              b, l, arith::SubFOp::create(b, l, g, meanG),
              arith::MulFOp::create(b, l, xhat(b, l, args[0], args[3], args[4]),
                                    meanGX));
          return arith::MulFOp::create(b, l, args[4], centered);
        });
    SmallVector<Value> params = buildColumnSums(
        rewriter, loc, n.type, {x, dy, mean, rstd},
        {n.id, n.id, n.rows, n.rows}, 2,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::MulFOp::create(b, l, args[1],
                                        xhat(b, l, args[0], args[2], args[3])),
                  args[1]};
        });
    rewriter.replaceOp(op, {dx, params[0], params[1]});
    return success();
  }
};

/// tfm.rms_norm_grad: `r` is recomputed per row, then `mean(g x)`.
struct RMSNormGradLowering : public OpRewritePattern<RMSNormGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    NormGradSetup n(op, rewriter);
    Location loc = n.loc;
    Value x = op.getInput(), gamma = op.getGamma(), dy = op.getGradOutput();

    Value sqSum =
        buildRowSum(rewriter, loc, x, {}, {},
                    [](OpBuilder &b, Location l, ValueRange args) {
                      return arith::MulFOp::create(b, l, args[0], args[0]);
                    });
    Value r = n.rowRsqrt(rewriter, sqSum);
    Value sumGX = buildRowSum(
        rewriter, loc, x, {dy, gamma}, {n.id, n.feature},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[1], args[2]), args[0]);
        });
    Value dx = buildParallel(
        rewriter, loc, {x, dy, gamma, r, sumGX},
        {n.id, n.id, n.feature, n.rows, n.rows},
        createEmpty(rewriter, loc, n.type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value g = arith::MulFOp::create(b, l, args[1], args[2]);
          Value r2 = arith::MulFOp::create(b, l, args[3], args[3]);
          Value meanGX =
              arith::MulFOp::create(b, l, args[4], f32Const(b, l, n.invD));
          Value correction = arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], r2), meanGX);
          return arith::MulFOp::create(
              b, l, args[3], arith::SubFOp::create(b, l, g, correction));
        });
    Value dgamma = buildColumnSums(
        rewriter, loc, n.type, {x, dy, r}, {n.id, n.id, n.rows}, 1,
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[1], args[0]), args[2])};
        })[0];
    rewriter.replaceOp(op, {dx, dgamma});
    return success();
  }
};

struct ActivationGradLowering : public OpRewritePattern<ActivationGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    ActivationKind kind = op.getKind();
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = buildParallel(
        rewriter, op.getLoc(), {op.getInput(), op.getGradOutput()}, {id, id},
        createEmpty(rewriter, op.getLoc(), type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::MulFOp::create(
              b, l, args[1], buildActivationDerivative(b, l, kind, args[0]));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatedActivationGradLowering
    : public OpRewritePattern<GatedActivationGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedActivationGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getGate().getType());
    unsigned rank = type.getRank();
    ActivationKind kind = op.getKind();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    SmallVector<Value> grads = buildGeneric(
        rewriter, loc, {op.getGate(), op.getUp(), op.getGradOutput()},
        {id, id, id},
        {createEmpty(rewriter, loc, type), createEmpty(rewriter, loc, type)},
        {id, id}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value gate = args[0], up = args[1], dy = args[2];
          Value dGate = arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, dy, up),
              buildActivationDerivative(b, l, kind, gate));
          Value dUp = arith::MulFOp::create(b, l, dy,
                                            buildActivation(b, l, kind, gate));
          return {dGate, dUp};
        });
    rewriter.replaceOp(op, grads);
    return success();
  }
};

/// tfm.embedding_grad: a loop over the tokens adding each gradient row into
/// its table row; ids outside the table are skipped.
struct EmbeddingGradLowering : public OpRewritePattern<EmbeddingGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto tableType = cast<RankedTensorType>(op.getType());
    int64_t vocab = tableType.getDimSize(0), dim = tableType.getDimSize(1);
    Value ids = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getIds(), ArrayRef<ReassociationIndices>{{0, 1}});
    Value dy = collapseRows(rewriter, loc, op.getGradOutput());
    int64_t tokens = cast<RankedTensorType>(ids.getType()).getDimSize(0);
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, v);
    };
    Value zero = index(0), one = index(1);
    Value table = createFilled(rewriter, loc, tableType, 0.0);
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, index(tokens), one, ValueRange{table},
        [&](OpBuilder &b, Location l, Value t, ValueRange acc) {
          Value id = tensor::ExtractOp::create(b, l, ids, ValueRange{t});
          auto add = scf::IfOp::create(
              b, l, idInRange(b, l, id, vocab),
              [&](OpBuilder &tb, Location tl) {
                Value row =
                    arith::IndexCastOp::create(tb, tl, tb.getIndexType(), id);
                auto inner = scf::ForOp::create(
                    tb, tl, zero, arith::ConstantIndexOp::create(tb, tl, dim),
                    one, ValueRange{acc[0]},
                    [&](OpBuilder &ib, Location il, Value d, ValueRange cur) {
                      Value old = tensor::ExtractOp::create(ib, il, cur[0],
                                                            ValueRange{row, d});
                      Value g = tensor::ExtractOp::create(ib, il, dy,
                                                          ValueRange{t, d});
                      Value updated = tensor::InsertOp::create(
                          ib, il, arith::AddFOp::create(ib, il, old, g), cur[0],
                          ValueRange{row, d});
                      scf::YieldOp::create(ib, il, updated);
                    });
                scf::YieldOp::create(tb, tl, inner.getResults());
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, acc[0]);
              });
          scf::YieldOp::create(b, l, add.getResults());
        });
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

/// tfm.concat: each input inserted at its offset along the last dimension.
struct ConcatLowering : public OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    Value result = createEmpty(rewriter, loc, type);
    int64_t offset = 0;
    for (Value input : op.getInputs()) {
      auto inputType = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets.back() = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes;
      for (int64_t d : inputType.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, input, result,
                                             offsets, sizes, strides);
      offset += inputType.getShape().back();
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The runtime kernel behind tfm.attention_grad (docs/Runtime.md).
constexpr StringLiteral kAttentionGradKernel = "tmc_rt_attention_grad";

/// tfm.attention_grad as a call of tmc_rt_attention_grad on the [batch *
/// seq, features] views of its operands; the kernel writes the three
/// gradients into fresh buffers.
struct AttentionGradLowering : public OpRewritePattern<AttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    int64_t window = 0;
    if (auto sparsity = op.getSparsityAttr()) {
      auto windowAttr = dyn_cast<WindowAttr>(sparsity);
      if (!windowAttr)
        return op.emitOpError(
            "attention_grad supports dense, causal and window attention");
      window = windowAttr.getSize();
    }
    Location loc = op.getLoc();
    MemRefType operandType = stridedF32MemRef(rewriter.getContext());
    // (q, k, v, dout, dq, dk, dv, batch, num_heads, num_kv_heads, causal,
    // window, scale).
    SmallVector<Type> inputs(7, operandType);
    inputs.append(5, rewriter.getI64Type());
    inputs.push_back(rewriter.getF32Type());
    func::FuncOp kernel =
        getOrDeclareKernel(rewriter, op, kAttentionGradKernel, inputs);

    SmallVector<Value> args;
    for (Value operand :
         {op.getQuery(), op.getKey(), op.getValue(), op.getGradOutput()})
      args.push_back(asKernelOperand(rewriter, loc, operand));
    SmallVector<Value> outs;
    for (Value result : op.getResults()) {
      auto type = cast<RankedTensorType>(result.getType());
      auto flatType = MemRefType::get(
          {type.getDimSize(0) * type.getDimSize(1), type.getDimSize(2)},
          type.getElementType());
      outs.push_back(memref::AllocOp::create(rewriter, loc, flatType));
      args.push_back(
          memref::CastOp::create(rewriter, loc, operandType, outs.back()));
    }
    auto constant = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getI64IntegerAttr(value));
    };
    auto queryType = cast<RankedTensorType>(op.getQuery().getType());
    args.append(
        {constant(queryType.getDimSize(0)), constant(op.getNumHeads()),
         constant(op.getNumKvHeads()), constant(op.getCausal() ? 1 : 0),
         constant(window),
         arith::ConstantOp::create(rewriter, loc,
                                   rewriter.getF32FloatAttr(static_cast<float>(
                                       op.getScaleOrDefault())))});
    func::CallOp::create(rewriter, loc, kernel, args);

    SmallVector<Value> results;
    for (auto [out, result] : llvm::zip(outs, op.getResults())) {
      Value flat = asWrittenTensor(rewriter, loc, out);
      results.push_back(tensor::ExpandShapeOp::create(
          rewriter, loc, result.getType(), flat,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}}));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmTrainingToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LossLowering, LossGradLowering, LinearWeightGradLowering,
               LayerNormGradLowering, RMSNormGradLowering,
               ActivationGradLowering, GatedActivationGradLowering,
               EmbeddingGradLowering, ConcatLowering, AttentionGradLowering>(
      patterns.getContext());
}
