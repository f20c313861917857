//===- CachedAttention.cpp - Lower tfm.cached_attention ---------*- C++ -*-===//
//
// This file lowers tfm.cached_attention to a call of the runtime's KV-cache
// attention kernel (tmc_rt_cached_attention in libtmcrt), which writes the
// chunk's keys and values into the cache buffer (quantizing them for int8
// and int4 caches) and attends over the cached positions. The cache lives
// outside the tensor program: it is a byte buffer the runtime owns, read
// and written only by the kernel, so the tensors around the call are just
// its inputs (read-only buffers) and its output (a fresh buffer the planner
// places in the arena). For targets whose cache lives in device memory,
// it becomes tfm.fused_cached_attention on the same buffers instead, which
// the target lowers to kernels (tmc-gpu-cached-attention).
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::tmc;
using namespace mlir::tfm;

namespace {

/// The runtime kernel's name (docs/Runtime.md).
constexpr StringLiteral kKernel = "tmc_rt_cached_attention";

struct CachedAttentionLowering : public OpRewritePattern<CachedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CachedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    MemRefType operandType = stridedF32MemRef(ctx);
    Type i64 = rewriter.getI64Type();
    auto cacheType =
        MemRefType::get({ShapedType::kDynamic}, rewriter.getI8Type());

    // The kernel's declaration: (q, k, v, cache, out, start, num_heads,
    // num_kv_heads, k_offset, v_offset, capacity, window, sinks, cache_bits,
    // scale).
    SmallVector<Type> inputs = {operandType, operandType, operandType,
                                cacheType, operandType};
    inputs.append(9, i64);
    inputs.push_back(rewriter.getF32Type());
    func::FuncOp kernel = getOrDeclareKernel(rewriter, op, kKernel, inputs);

    // [1, seq, features] tensors as read-only [seq, features] buffers.
    SmallVector<ReassociationIndices> collapse = {{0, 1}, {2}};
    Value q = asKernelOperand(rewriter, loc, op.getQuery());
    Value k = asKernelOperand(rewriter, loc, op.getKey());
    Value v = asKernelOperand(rewriter, loc, op.getValue());

    auto resultType = cast<RankedTensorType>(op.getType());
    auto flatType = MemRefType::get(
        {resultType.getDimSize(1), resultType.getDimSize(2)},
        resultType.getElementType());
    Value out = memref::AllocOp::create(rewriter, loc, flatType);
    Value cache = op.getCache();
    if (cache.getType() != cacheType)
      cache = memref::CastOp::create(rewriter, loc, cacheType, cache);

    auto constant = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getI64IntegerAttr(value));
    };
    SmallVector<Value> args = {
        q, k, v, cache,
        memref::CastOp::create(rewriter, loc, operandType, out),
        op.getStart(), constant(op.getNumHeads()),
        constant(op.getNumKvHeads()), constant(op.getKOffset()),
        constant(op.getVOffset()), constant(op.getCapacity()),
        constant(op.getWindow()), constant(op.getSinks()),
        constant(op.getCacheBits()),
        arith::ConstantOp::create(
            rewriter, loc,
            rewriter.getF32FloatAttr(
                static_cast<float>(op.getScaleOrDefault())))};
    func::CallOp::create(rewriter, loc, kernel, args);

    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, resultType, asWrittenTensor(rewriter, loc, out), collapse);
    return success();
  }
};

/// tfm.cached_attention as tfm.fused_cached_attention: the read-only
/// buffers of its operands, a fresh output buffer and the op.
struct FusedCachedAttentionLowering
    : public OpRewritePattern<CachedAttentionOp> {
  FusedCachedAttentionLowering(MLIRContext *ctx, int64_t split)
      : OpRewritePattern(ctx), split(split) {}

  LogicalResult matchAndRewrite(CachedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto asBuffer = [&](Value tensor) {
      return asReadOnlyBuffer(rewriter, loc, tensor);
    };
    auto resultType = cast<RankedTensorType>(op.getType());
    Value out = memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));
    // A split only where a query can see more positions than a piece.
    int64_t visible = FusedCachedAttentionOp::getMaxVisible(
        op.getCapacity(), op.getWindow(), op.getSinks());
    int64_t pieceSize = visible > split ? split : 0;
    Value scratch;
    if (pieceSize > 0)
      scratch = memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get(FusedCachedAttentionOp::getScratchShape(
                              resultType.getDimSize(1), op.getNumHeads(),
                              visible, op.getHeadDim(), pieceSize),
                          rewriter.getF32Type()));
    FoldedRopes ropes = FoldedRopes::of(op.getQuery(), op.getKey(),
                                        op.getHeadDim(), op.getStart());
    auto fused = FusedCachedAttentionOp::create(
        rewriter, loc,
        asBuffer(ropes.queryInput), asBuffer(ropes.keyInput),
        asBuffer(op.getValue()), op.getCache(), op.getStart(), scratch, out,
        op.getNumHeadsAttr(), op.getNumKvHeadsAttr(),
        rewriter.getF64FloatAttr(op.getScaleOrDefault()), op.getKOffsetAttr(),
        op.getVOffsetAttr(), op.getCapacityAttr(), op.getWindowAttr(),
        op.getSinksAttr(), op.getCacheBitsAttr(),
        rewriter.getI64IntegerAttr(pieceSize), /*rope_query=*/nullptr,
        /*rope_key=*/nullptr, /*rope_theta=*/nullptr);
    fused->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    ropes.setOn(fused);
    rewriter.replaceOp(op, asWrittenTensor(rewriter, loc, out));
    ropes.erase(rewriter);
    return success();
  }

  int64_t split;
};

} // namespace

void mlir::tmc::populateTfmCachedAttentionToLinalgPatterns(
    RewritePatternSet &patterns, bool fused, int64_t split) {
  if (fused)
    patterns.add<FusedCachedAttentionLowering>(patterns.getContext(), split);
  else
    patterns.add<CachedAttentionLowering>(patterns.getContext());
}
