//===- Utils.cpp - Helpers shared by the tfm lowerings ----------*- C++ -*-===//
//
// This file implements small builders shared by the tfm-to-linalg patterns.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::tmc;

Value mlir::tmc::createEmpty(OpBuilder &b, Location loc,
                             RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType());
}

Value mlir::tmc::f32Const(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value mlir::tmc::createFilled(OpBuilder &b, Location loc,
                              RankedTensorType type, double value) {
  Value init = createEmpty(b, loc, type);
  Value scalar = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type.getElementType(), value));
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

AffineMap mlir::tmc::lastDimMap(MLIRContext *ctx, unsigned rank) {
  return AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
}

AffineMap mlir::tmc::leadingDimsMap(MLIRContext *ctx, unsigned rank) {
  SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i + 1 < rank; ++i)
    exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value mlir::tmc::buildParallel(OpBuilder &b, Location loc, ValueRange inputs,
                               ArrayRef<AffineMap> inputMaps, Value init,
                               BodyFn body) {
  auto initType = cast<RankedTensorType>(init.getType());
  unsigned rank = initType.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{initType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args);
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

Value mlir::tmc::buildLastDimReduction(OpBuilder &b, Location loc, Value input,
                                       ValueRange extra,
                                       ArrayRef<AffineMap> extraMaps,
                                       Value init, BodyFn combine) {
  auto inputType = cast<RankedTensorType>(input.getType());
  unsigned rank = inputType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  llvm::append_range(maps, extraMaps);
  maps.push_back(leadingDimsMap(ctx, rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  SmallVector<Value> inputs = {input};
  llvm::append_range(inputs, extra);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        // Arguments: element, extra inputs..., accumulator. Reorder to
        // element, accumulator, extra inputs... for the callback.
        SmallVector<Value> reordered = {args.front(), args.back()};
        for (Value v : args.drop_front().drop_back())
          reordered.push_back(v);
        Value result = combine(nb, nloc, reordered);
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

LogicalResult mlir::tmc::checkStaticF32(PatternRewriter &rewriter,
                                        Operation *op) {
  auto check = [&](Type type) -> LogicalResult {
    // Scalars (a run-time start position) need no checks.
    if (type.isIntOrIndex())
      return success();
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return rewriter.notifyMatchFailure(
          op, "needs statically shaped tensors (run tfm-set-seq-len)");
    Type element = tensor.getElementType();
    if (!element.isF32() && !element.isInteger())
      return rewriter.notifyMatchFailure(op, "only f32 is lowered");
    return success();
  };
  for (Type type : op->getOperandTypes())
    if (failed(check(type)))
      return failure();
  for (Type type : op->getResultTypes())
    if (failed(check(type)))
      return failure();
  return success();
}

Value mlir::tmc::buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc,
                  bool transposeB) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, ctx),
      transposeB ? AffineMap::get(3, 0, {n, k}, ctx)
                 : AffineMap::get(3, 0, {k, n}, ctx),
      AffineMap::get(3, 0, {m, n}, ctx)};
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("indexing_maps", b.getAffineMapArrayAttr(maps))};
  return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                  ValueRange{lhs, rhs}, ValueRange{acc}, attrs)
      .getResult(0);
}
