//===- Embedding.cpp - Lower position-dependent tfm ops ---------*- C++ -*-===//
//
// This file lowers tfm.embedding, tfm.positions and tfm.rope: ops whose
// elements depend on ids or positions, lowered as gathers inside
// linalg.generic bodies.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Rotary.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

namespace {

struct EmbeddingLowering : public OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value table = op.getTable();
    int64_t vocab = op.getTable().getType().getDimSize(0);
    Value result = buildParallel(
        rewriter, loc, {op.getIds()}, {idsMap(rewriter.getContext())},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value row = clampedRow(b, l, args[0], vocab);
          Value d = linalg::IndexOp::create(b, l, 2);
          return tensor::ExtractOp::create(b, l, table, ValueRange{row, d});
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Gathers rows of a packed table and dequantizes each element in the
/// generic's body: only the rows that are read are ever expanded.
struct QuantizedEmbeddingLowering
    : public OpRewritePattern<QuantizedEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizedEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape() ||
        !cast<ShapedType>(op.getIds().getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    Location loc = op.getLoc();
    QuantSchemeAttr quant = op.getQuant();
    int64_t vocab = op.getValues().getType().getDimSize(0);
    int64_t perByte = quant.getWeightsPerByte();
    QuantKind kind = quant.getKind();
    Value result = buildParallel(
        rewriter, loc, {op.getIds()}, {idsMap(rewriter.getContext())},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          auto idx = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          Value row = clampedRow(b, l, args[0], vocab);
          Value d = linalg::IndexOp::create(b, l, 2);
          Value column =
              perByte == 1
                  ? d
                  : arith::DivUIOp::create(b, l, d, idx(perByte)).getResult();
          Value packed = tensor::ExtractOp::create(b, l, op.getValues(),
                                                   ValueRange{row, column});
          // The group of (row, d): per row, per group of the row, or one.
          Value groupRow = row, groupColumn = idx(0);
          if (kind == QuantKind::int4)
            groupColumn = arith::DivUIOp::create(b, l, d,
                                                 idx(quant.getGroupSize()));
          if (kind == QuantKind::ternary)
            groupRow = idx(0);
          auto read = [&](Value v) -> Value {
            if (!v)
              return Value();
            return tensor::ExtractOp::create(b, l, v,
                                             ValueRange{groupRow, groupColumn});
          };
          return buildDequantizedWeight(b, l, quant, packed,
                                        read(op.getScales()),
                                        read(op.getZeros()), d);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct PositionsLowering : public OpRewritePattern<PositionsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PositionsOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t offset = op.getOffset(), stride = op.getStride();
    Value result = buildParallel(
        rewriter, loc, {}, {}, createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value s = linalg::IndexOp::create(b, l, 1);
          Value s64 = arith::IndexCastOp::create(b, l, type.getElementType(), s);
          Value strideV = arith::ConstantOp::create(
              b, l, b.getIntegerAttr(type.getElementType(), stride));
          Value offsetV = arith::ConstantOp::create(
              b, l, b.getIntegerAttr(type.getElementType(), offset));
          if (Value start = op.getStart()) {
            if (start.getType() != type.getElementType())
              start = arith::TruncIOp::create(b, l, type.getElementType(),
                                              start);
            offsetV = arith::AddIOp::create(b, l, offsetV, start);
          }
          return arith::AddIOp::create(
              b, l, offsetV, arith::MulIOp::create(b, l, strideV, s64));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RotaryLowering : public OpRewritePattern<RotaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RotaryOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkStaticF32(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    tfm::Rotary rotary{static_cast<int64_t>(op.getHeadDim()),
                       op.getTheta().convertToDouble(),
                       static_cast<int64_t>(op.getOffset()), op.getInverse()};
    Value input = op.getInput();
    Value result = buildParallel(
        rewriter, loc, {input}, {rewriter.getMultiDimIdentityMap(3)},
        createEmpty(rewriter, loc, type),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value bIdx = linalg::IndexOp::create(b, l, 0);
          Value s = linalg::IndexOp::create(b, l, 1);
          Value f = linalg::IndexOp::create(b, l, 2);
          return rotary.buildElement(
              b, l, f, s, op.getStart(), args[0], [&](Value partner) -> Value {
                return tensor::ExtractOp::create(b, l, input,
                                                 ValueRange{bIdx, s, partner});
              });
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tmc::populateTfmEmbeddingToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<EmbeddingLowering, QuantizedEmbeddingLowering,
               PositionsLowering, RotaryLowering>(patterns.getContext());
}
