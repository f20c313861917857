//===- Utils.cpp - Helpers shared by the tfm lowerings ----------*- C++ -*-===//
//
// This file implements small builders shared by the tfm-to-linalg patterns.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::tmc;

Value mlir::tmc::createEmpty(OpBuilder &b, Location loc,
                             RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType());
}

MemRefType mlir::tmc::stridedF32MemRef(MLIRContext *ctx) {
  int64_t dyn = ShapedType::kDynamic;
  return MemRefType::get({dyn, dyn}, Float32Type::get(ctx),
                         StridedLayoutAttr::get(ctx, dyn, {dyn, dyn}));
}

func::FuncOp mlir::tmc::getOrDeclareKernel(OpBuilder &b, Operation *op,
                                           StringRef name, TypeRange inputs) {
  auto module = op->getParentOfType<ModuleOp>();
  if (auto kernel = module.lookupSymbol<func::FuncOp>(name))
    return kernel;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto kernel = func::FuncOp::create(b, module.getLoc(), name,
                                     b.getFunctionType(inputs, {}));
  kernel.setPrivate();
  kernel->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return kernel;
}

Value mlir::tmc::asReadOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> strides(type.getRank(), dyn);
  auto bufferType = MemRefType::get(
      type.getShape(), type.getElementType(),
      StridedLayoutAttr::get(b.getContext(), dyn, strides));
  return bufferization::ToBufferOp::create(b, loc, bufferType, tensor,
                                           /*read_only=*/true);
}

Value mlir::tmc::asWrittenTensor(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(type.getShape(), type.getElementType()),
      buffer, /*restrict=*/true, /*writable=*/true);
}

Value mlir::tmc::asKernelOperand(OpBuilder &b, Location loc, Value tensor) {
  MLIRContext *ctx = b.getContext();
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, tensor, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  auto flatType = cast<RankedTensorType>(flat.getType());
  int64_t dyn = ShapedType::kDynamic;
  auto bufferType =
      MemRefType::get(flatType.getShape(), flatType.getElementType(),
                      StridedLayoutAttr::get(ctx, dyn, {dyn, dyn}));
  Value buffer = bufferization::ToBufferOp::create(b, loc, bufferType, flat,
                                                   /*read_only=*/true);
  return memref::CastOp::create(b, loc, stridedF32MemRef(ctx), buffer);
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

Value mlir::tmc::buildActivation(OpBuilder &b, Location loc,
                                 tfm::ActivationKind kind, Value x) {
  using tfm::ActivationKind;
  Value half = f32Const(b, loc, 0.5), one = f32Const(b, loc, 1.0);
  switch (kind) {
  case ActivationKind::gelu_erf: {
    Value scaled = arith::MulFOp::create(b, loc, x,
                                         f32Const(b, loc, M_SQRT1_2));
    Value erf = math::ErfOp::create(b, loc, scaled);
    Value sum = arith::AddFOp::create(b, loc, one, erf);
    return arith::MulFOp::create(
        b, loc, arith::MulFOp::create(b, loc, half, x), sum);
  }
  case ActivationKind::gelu_tanh: {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, loc, x,
                                     arith::MulFOp::create(b, loc, x, x));
    Value inner = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, f32Const(b, loc, 0.044715), x3));
    Value scaled = arith::MulFOp::create(
        b, loc, f32Const(b, loc, 0.7978845608028654), inner);
    Value sum =
        arith::AddFOp::create(b, loc, one, math::TanhOp::create(b, loc, scaled));
    return arith::MulFOp::create(
        b, loc, arith::MulFOp::create(b, loc, half, x), sum);
  }
  case ActivationKind::relu:
    return arith::MaximumFOp::create(b, loc, x, f32Const(b, loc, 0.0));
  case ActivationKind::silu: {
    Value negExp =
        math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, x,
                                 arith::AddFOp::create(b, loc, one, negExp));
  }
  }
  llvm_unreachable("unknown activation kind");
}

AffineMap mlir::tmc::idsMap(MLIRContext *ctx) {
  return AffineMap::get(3, 0,
                        {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)},
                        ctx);
}

Value mlir::tmc::clampedRow(OpBuilder &b, Location l, Value id, int64_t rows) {
  Value row = arith::IndexCastOp::create(b, l, b.getIndexType(), id);
  row = arith::MaxSIOp::create(b, l, row,
                               arith::ConstantIndexOp::create(b, l, 0));
  return arith::MinSIOp::create(b, l, row,
                                arith::ConstantIndexOp::create(b, l, rows - 1));
}

Value mlir::tmc::buildDequantizedWeight(OpBuilder &b, Location l,
                                        tfm::QuantSchemeAttr quant,
                                        Value packed, Value scale, Value zero,
                                        Value column) {
  using tfm::QuantKind;
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  int64_t perByte = quant.getWeightsPerByte();
  auto toF32 = [&](Value v) -> Value {
    return !v || v.getType().isF32() ? v : arith::ExtFOp::create(b, l, f32, v);
  };
  scale = toF32(scale);
  zero = toF32(zero);
  // The element's bits within its byte.
  auto field = [&](int64_t bitsPerElement) -> Value {
    Value within = arith::RemUIOp::create(
        b, l, column, arith::ConstantIndexOp::create(b, l, perByte));
    Value shift = arith::MulIOp::create(
        b, l, within, arith::ConstantIndexOp::create(b, l, bitsPerElement));
    Value shift32 = arith::IndexCastUIOp::create(b, l, i32, shift);
    Value byte = arith::ExtUIOp::create(b, l, i32, packed);
    Value mask = arith::ConstantOp::create(
        b, l, b.getI32IntegerAttr((1 << bitsPerElement) - 1));
    return arith::AndIOp::create(
        b, l, arith::ShRUIOp::create(b, l, byte, shift32), mask);
  };
  auto i32c = [&](int32_t v) -> Value {
    return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(v));
  };
  switch (quant.getKind()) {
  case QuantKind::int8:
  case QuantKind::w8a8:
    return arith::MulFOp::create(
        b, l, arith::SIToFPOp::create(b, l, f32, packed), scale);
  case QuantKind::int4: {
    Value nibble = field(4);
    if (quant.getSymmetric()) {
      Value isNegative = arith::CmpIOp::create(
          b, l, arith::CmpIPredicate::uge, nibble, i32c(8));
      Value value = arith::SelectOp::create(
          b, l, isNegative, arith::SubIOp::create(b, l, nibble, i32c(16)),
          nibble);
      return arith::MulFOp::create(
          b, l, arith::SIToFPOp::create(b, l, f32, value), scale);
    }
    Value q = arith::UIToFPOp::create(b, l, f32, nibble);
    return arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, q, zero),
                                 scale);
  }
  case QuantKind::ternary: {
    Value code = field(2);
    Value isPlus = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, code,
                                         i32c(1));
    Value isMinus = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                          code, i32c(2));
    Value sign = arith::SelectOp::create(
        b, l, isPlus, f32Const(b, l, 1.0),
        arith::SelectOp::create(b, l, isMinus, f32Const(b, l, -1.0),
                                f32Const(b, l, 0.0)));
    return arith::MulFOp::create(b, l, sign, scale);
  }
  case QuantKind::binary: {
    Value isOne = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                        field(1), i32c(1));
    return arith::SelectOp::create(b, l, isOne, scale,
                                   arith::NegFOp::create(b, l, scale));
  }
  case QuantKind::fp16:
  case QuantKind::bf16:
    return arith::ExtFOp::create(b, l, f32, packed);
  }
  llvm_unreachable("unknown quantization kind");
}

FoldedRopes FoldedRopes::of(Value query, Value key, int64_t headDim,
                            Value start) {
  auto rotation = [&](Value operand) -> tfm::RotaryOp {
    auto rope = operand.getDefiningOp<tfm::RotaryOp>();
    if (!rope || !rope->hasOneUse() || rope.getStart() != start ||
        rope.getInverse() ||
        static_cast<int64_t>(rope.getHeadDim()) != headDim)
      return {};
    return rope;
  };
  FoldedRopes ropes;
  ropes.query = rotation(query);
  ropes.key = rotation(key);
  if (ropes.query && ropes.key &&
      (ropes.query.getTheta() != ropes.key.getTheta() ||
       ropes.query.getOffset() != ropes.key.getOffset()))
    ropes = {};
  ropes.queryInput = ropes.query ? ropes.query.getInput() : query;
  ropes.keyInput = ropes.key ? ropes.key.getInput() : key;
  return ropes;
}

void FoldedRopes::erase(RewriterBase &rewriter) const {
  for (tfm::RotaryOp rope : {query, key})
    if (rope)
      rewriter.eraseOp(rope);
}

int64_t mlir::tmc::headDimOf(Operation *attention) {
  if (auto op = dyn_cast<tfm::AttentionOp>(attention))
    return op.getQuery().getType().getDimSize(2) / op.getNumHeads();
  return cast<tfm::CachedAttentionOp>(attention).getHeadDim();
}

bool mlir::tmc::isRopeFoldedIntoFusedAttention(tfm::RotaryOp rope,
                                               bool fusedAttention,
                                               bool fusedCachedAttention) {
  if (!rope->hasOneUse())
    return false;
  Operation *user = *rope->user_begin();
  FoldedRopes ropes;
  if (auto attention = dyn_cast<tfm::AttentionOp>(user); attention &&
                                                          fusedAttention)
    ropes = FoldedRopes::of(attention.getQuery(), attention.getKey(),
                            headDimOf(attention), Value());
  else if (auto cached = dyn_cast<tfm::CachedAttentionOp>(user);
           cached && fusedCachedAttention)
    ropes = FoldedRopes::of(cached.getQuery(), cached.getKey(),
                            headDimOf(cached), cached.getStart());
  return ropes.query == rope || ropes.key == rope;
}
