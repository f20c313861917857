//===- Linear.cpp - Lower tfm.linear ----------------------------*- C++ -*-===//
//
// This file lowers tfm.linear to a linalg.matmul on the input flattened to
// rows, accumulating into the bias broadcast over the rows.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

/// Flattens an input [..., K] into rows [M, K] (the identity for rank 2).
static Value flattenRows(OpBuilder &b, Location loc, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank(), k = type.getShape().back();
  if (rank == 2)
    return input;
  auto flatType = RankedTensorType::get({type.getNumElements() / k, k},
                                        type.getElementType());
  if (rank == 1)
    return tensor::ExpandShapeOp::create(
        b, loc, flatType, input, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices leading;
  for (int64_t i = 0; i + 1 < rank; ++i)
    leading.push_back(i);
  return tensor::CollapseShapeOp::create(
      b, loc, flatType, input,
      ArrayRef<ReassociationIndices>{leading, {rank - 1}});
}

/// Restores the leading dimensions of `resultType` on rows [M, N].
static Value unflattenRows(OpBuilder &b, Location loc, Value rows,
                           RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  if (rank == 2)
    return rows;
  if (rank == 1)
    return tensor::CollapseShapeOp::create(
        b, loc, resultType, rows, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices leading;
  for (int64_t i = 0; i + 1 < rank; ++i)
    leading.push_back(i);
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, rows,
      ArrayRef<ReassociationIndices>{leading, {rank - 1}});
}

/// The accumulator [M, N] of a linear layer: the bias broadcast over the
/// rows, or zeros.
static Value initAccumulator(OpBuilder &b, Location loc, Value bias,
                             int64_t rows, int64_t n) {
  auto type = RankedTensorType::get({rows, n}, b.getF32Type());
  if (!bias)
    return createFilled(b, loc, type, 0.0);
  return buildParallel(
      b, loc, {bias}, {lastDimMap(b.getContext(), 2)},
      createEmpty(b, loc, type),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

namespace {

struct LinearLowering : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    if (op.getQuantAttr())
      return rewriter.notifyMatchFailure(
          op, "quantization requests must be applied first");
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t k = inputType.getShape().back(), n = op.getOutFeatures();
    int64_t rows = inputType.getNumElements() / k;
    Value lhs = flattenRows(rewriter, loc, op.getInput());
    Value acc = initAccumulator(rewriter, loc, op.getBias(), rows, n);
    Value product = buildMatmul(rewriter, loc, lhs, op.getWeight(), acc,
                                op.getLayout() == WeightLayout::out_in);
    Value result = unflattenRows(rewriter, loc, product, resultType);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmLinearToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearLowering>(patterns.getContext());
}

//===----------------------------------------------------------------------===//
// tfm.quantized_linear
//===----------------------------------------------------------------------===//

namespace {

/// The runtime kernel that computes a quantized matmul of `quant`.
static StringRef quantizedKernelName(QuantSchemeAttr quant) {
  switch (quant.getKind()) {
  case QuantKind::int8:
    return "tmc_rt_qmatmul_int8_f32";
  case QuantKind::int4:
    return quant.getScaleType().isF16() ? "tmc_rt_qmatmul_int4h_f32"
                                        : "tmc_rt_qmatmul_int4_f32";
  case QuantKind::ternary:
    return "tmc_rt_qmatmul_ternary_f32";
  case QuantKind::binary:
    return "tmc_rt_qmatmul_binary_f32";
  case QuantKind::fp16:
    return "tmc_rt_qmatmul_f16_f32";
  case QuantKind::bf16:
    return "tmc_rt_qmatmul_bf16_f32";
  case QuantKind::w8a8:
    break;
  }
  return "";
}

/// W8A8: quantizes each row of `lhs` [M, K] to int8 with its own scale
/// (max |a| / 127, round to nearest even), multiplies with the int8 weight
/// [N, K] in int32, and adds `acc + float(dot) * rowScale * weightScale`.
static Value buildW8A8(OpBuilder &b, Location loc, Value lhs, Value weight,
                       Value weightScales, Value acc) {
  MLIRContext *ctx = b.getContext();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t m = lhsType.getDimSize(0), k = lhsType.getDimSize(1);
  int64_t n = accType.getDimSize(1);
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  auto rowType = RankedTensorType::get({m}, f32);
  AffineMap id2 = b.getMultiDimIdentityMap(2), rows = leadingDimsMap(ctx, 2);
  Value rowMax = buildLastDimReduction(
      b, loc, lhs, {}, {}, createFilled(b, loc, rowType, 0.0),
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        return arith::MaximumFOp::create(
            nb, nl, math::AbsFOp::create(nb, nl, args[0]), args[1]);
      });
  Value rowScale = buildParallel(
      b, loc, {rowMax}, {b.getMultiDimIdentityMap(1)},
      createEmpty(b, loc, rowType),
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value s = arith::DivFOp::create(nb, nl, args[0], f32Const(nb, nl, 127));
        Value zero = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                           s, f32Const(nb, nl, 0));
        return arith::SelectOp::create(nb, nl, zero, f32Const(nb, nl, 1), s);
      });
  Value quantized = buildParallel(
      b, loc, {lhs, rowScale}, {id2, rows},
      createEmpty(b, loc, RankedTensorType::get({m, k}, i8)),
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value q = math::RoundEvenOp::create(
            nb, nl, arith::DivFOp::create(nb, nl, args[0], args[1]));
        q = arith::MaximumFOp::create(nb, nl, q, f32Const(nb, nl, -127));
        q = arith::MinimumFOp::create(nb, nl, q, f32Const(nb, nl, 127));
        return arith::FPToSIOp::create(nb, nl, i8, q);
      });
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value dots = linalg::FillOp::create(
                   b, loc, zero,
                   tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, n}, i32)
                       .getResult())
                   .getResult(0);
  AffineExpr dm = getAffineDimExpr(0, ctx), dn = getAffineDimExpr(1, ctx),
             dk = getAffineDimExpr(2, ctx);
  dots = linalg::GenericOp::create(
             b, loc, TypeRange{dots.getType()}, ValueRange{quantized, weight},
             ValueRange{dots},
             ArrayRef<AffineMap>{AffineMap::get(3, 0, {dm, dk}, ctx),
                                 AffineMap::get(3, 0, {dn, dk}, ctx),
                                 AffineMap::get(3, 0, {dm, dn}, ctx)},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel,
                                           utils::IteratorType::reduction},
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value a = arith::ExtSIOp::create(nb, nl, i32, args[0]);
               Value w = arith::ExtSIOp::create(nb, nl, i32, args[1]);
               Value sum = arith::AddIOp::create(
                   nb, nl, args[2], arith::MulIOp::create(nb, nl, a, w));
               linalg::YieldOp::create(nb, nl, sum);
             })
             .getResult(0);
  AffineMap weightScaleMap = AffineMap::get(
      2, 0, {getAffineDimExpr(1, ctx), getAffineConstantExpr(0, ctx)}, ctx);
  return buildParallel(
      b, loc, {dots, rowScale, weightScales}, {id2, rows, weightScaleMap}, acc,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value dot = arith::SIToFPOp::create(nb, nl, f32, args[0]);
        Value scaled = arith::MulFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, dot, args[1]), args[2]);
        return arith::AddFOp::create(nb, nl, args[3], scaled);
      });
}

/// Lowers tfm.quantized_linear to a linalg.generic that dequantizes each
/// packed weight element in its body (the exact semantics; with
/// `--no-kernels` it becomes loops) and is tagged `tmc.qmatmul` with the
/// runtime kernel that computes the same thing faster.
struct QuantizedLinearLowering : public OpRewritePattern<QuantizedLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizedLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!inputType.hasStaticShape() || !inputType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static f32 input");
    QuantSchemeAttr quant = op.getQuant();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t k = op.getInFeatures(), n = op.getOutFeatures();
    int64_t rows = inputType.getNumElements() / k;
    Value lhs = flattenRows(rewriter, loc, op.getInput());
    Value acc = initAccumulator(rewriter, loc, op.getBias(), rows, n);
    auto accType = cast<RankedTensorType>(acc.getType());
    if (quant.getKind() == QuantKind::w8a8) {
      Value out = buildW8A8(rewriter, loc, lhs, op.getWeight(), op.getScales(),
                            acc);
      rewriter.replaceOp(op, unflattenRows(rewriter, loc, out, resultType));
      return success();
    }

    AffineExpr m = getAffineDimExpr(0, ctx), nd = getAffineDimExpr(1, ctx),
               kd = getAffineDimExpr(2, ctx);
    AffineExpr zero = getAffineConstantExpr(0, ctx);
    int64_t perByte = quant.getWeightsPerByte();
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    SmallVector<Value> inputs = {lhs, op.getWeight()};
    SmallVector<AffineMap> maps = {map(m, kd),
                                   map(nd, perByte == 1 ? kd
                                                        : kd.floorDiv(perByte))};
    Value scales = op.getScales(), zeros = op.getZeros();
    AffineMap scaleMap;
    if (scales) {
      if (quant.getKind() == QuantKind::int4)
        scaleMap = map(nd, kd.floorDiv(quant.getGroupSize()));
      else if (quant.getKind() == QuantKind::ternary)
        scaleMap = map(zero, zero);
      else
        scaleMap = map(nd, zero);
      inputs.push_back(scales);
      maps.push_back(scaleMap);
    }
    if (zeros) {
      inputs.push_back(zeros);
      maps.push_back(scaleMap);
    }
    maps.push_back(map(m, nd));
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{accType}, inputs, ValueRange{acc}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value a = args[0];
          Value weight = buildDequantizedWeight(
              b, l, quant, args[1], scales ? args[2] : Value(),
              zeros ? args[3] : Value(), linalg::IndexOp::create(b, l, 2));
          Value c = args.back();
          Value sum = arith::AddFOp::create(
              b, l, c, arith::MulFOp::create(b, l, a, weight));
          linalg::YieldOp::create(b, l, sum);
        });
    generic->setAttr("tmc.qmatmul",
                     rewriter.getStringAttr(quantizedKernelName(quant)));
    rewriter.replaceOp(
        op, unflattenRows(rewriter, loc, generic.getResult(0), resultType));
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmQuantizedLinearToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<QuantizedLinearLowering>(patterns.getContext());
}

//===----------------------------------------------------------------------===//
// tfm.sparse_linear
//===----------------------------------------------------------------------===//

namespace {

/// Lowers tfm.sparse_linear to a linalg.generic over (row, output, kept
/// weight) that reads each kept weight and its position from the
/// compressed form and gathers the matching input element: the pruned
/// weights are never expanded.
struct SparseLinearLowering : public OpRewritePattern<SparseLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseLinearOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t k = inputType.getShape().back();
    int64_t n = resultType.getShape().back();
    int64_t rows = inputType.getNumElements() / k;
    Value lhs = flattenRows(rewriter, loc, op.getInput());
    Value acc = initAccumulator(rewriter, loc, op.getBias(), rows, n);
    bool twoFour = op.getPrune().getKind() == PruneKind::two_four;

    AffineExpr m = getAffineDimExpr(0, ctx), nd = getAffineDimExpr(1, ctx),
               j = getAffineDimExpr(2, ctx);
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    SmallVector<AffineMap> maps = {map(nd, j),
                                   map(nd, twoFour ? j.floorDiv(4) : j),
                                   map(m, nd)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{acc.getType()},
        ValueRange{op.getValues(), op.getIndices()}, ValueRange{acc}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value column;
          if (twoFour) {
            // Kept weight j sits at 4 (j / 2) + (2-bit position).
            Value jIdx = linalg::IndexOp::create(b, l, 2);
            auto idx = [&](int64_t v) -> Value {
              return arith::ConstantIndexOp::create(b, l, v);
            };
            Value shift = arith::MulIOp::create(
                b, l, arith::RemUIOp::create(b, l, jIdx, idx(4)), idx(2));
            Value byte = arith::IndexCastUIOp::create(
                b, l, b.getIndexType(),
                arith::ExtUIOp::create(b, l, b.getI32Type(), args[1]));
            Value position = arith::AndIOp::create(
                b, l, arith::ShRUIOp::create(b, l, byte, shift), idx(3));
            Value base = arith::MulIOp::create(
                b, l, arith::DivUIOp::create(b, l, jIdx, idx(2)), idx(4));
            column = arith::AddIOp::create(b, l, base, position);
          } else {
            column = arith::IndexCastUIOp::create(
                b, l, b.getIndexType(),
                arith::ExtUIOp::create(b, l, b.getI32Type(), args[1]));
          }
          Value row = linalg::IndexOp::create(b, l, 0);
          Value a = tensor::ExtractOp::create(b, l, lhs, ValueRange{row, column});
          Value sum = arith::AddFOp::create(
              b, l, args[2], arith::MulFOp::create(b, l, a, args[0]));
          linalg::YieldOp::create(b, l, sum);
        });
    rewriter.replaceOp(
        op, unflattenRows(rewriter, loc, generic.getResult(0), resultType));
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmSparseLinearToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<SparseLinearLowering>(patterns.getContext());
}
