//===- LinalgToKernels.cpp - Matmuls to TMC's GEMM kernels ------*- C++ -*-===//
//
// This file implements `tmc-linalg-to-kernels`, which replaces f32
// linalg.matmul ops on memrefs by calls to the runtime's GEMM kernels.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCLINALGTOKERNELS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// The fully dynamic strided 2-D f32 memref type the kernels take.
static MemRefType kernelOperandType(MLIRContext *ctx) {
  int64_t dyn = ShapedType::kDynamic;
  return MemRefType::get({dyn, dyn}, Float32Type::get(ctx),
                         StridedLayoutAttr::get(ctx, dyn, {dyn, dyn}));
}

/// The fully dynamic strided 2-D memref type of `element`.
static MemRefType stridedType(Type element) {
  MLIRContext *ctx = element.getContext();
  int64_t dyn = ShapedType::kDynamic;
  return MemRefType::get({dyn, dyn}, element,
                         StridedLayoutAttr::get(ctx, dyn, {dyn, dyn}));
}

/// Returns the kernel declaration `name` taking `operands`, creating it in
/// `module` if needed.
static func::FuncOp getOrCreateKernel(ModuleOp module, StringRef name,
                                      TypeRange operands,
                                      PatternRewriter &rewriter) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto func = func::FuncOp::create(rewriter, module.getLoc(), name,
                                   rewriter.getFunctionType(operands, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", rewriter.getUnitAttr());
  return func;
}

struct MatmulToKernelCall : public OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not bufferized");
    for (Value operand : op->getOperands()) {
      auto type = dyn_cast<MemRefType>(operand.getType());
      if (!type || !type.getElementType().isF32() || type.getRank() != 2)
        return rewriter.notifyMatchFailure(op, "not a 2-D f32 matmul");
    }
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    // A indexed (k, m) (a transposed left-hand side, as in weight
    // gradients) is passed as a transposed view: the kernels take any
    // strides.
    bool transposeA = maps[0] == map(k, m);
    if ((!transposeA && maps[0] != map(m, k)) || maps[2] != map(m, n))
      return rewriter.notifyMatchFailure(op, "unsupported A or C map");
    StringRef kernel;
    if (maps[1] == map(k, n))
      kernel = "tmc_rt_matmul_nn_f32";
    else if (maps[1] == map(n, k))
      kernel = "tmc_rt_matmul_nt_f32";
    else
      return rewriter.notifyMatchFailure(op, "unsupported B map");

    auto module = op->getParentOfType<ModuleOp>();
    Type operandType = kernelOperandType(ctx);
    func::FuncOp callee = getOrCreateKernel(
        module, kernel, {operandType, operandType, operandType}, rewriter);
    SmallVector<Value> args;
    for (Value operand : op->getOperands()) {
      if (transposeA && args.empty())
        operand = memref::TransposeOp::create(
            rewriter, op.getLoc(), operand,
            AffineMapAttr::get(AffineMap::getPermutationMap(
                ArrayRef<unsigned>{1, 0}, ctx)));
      args.push_back(
          memref::CastOp::create(rewriter, op.getLoc(), operandType, operand));
    }
    rewriter.replaceOpWithNewOp<func::CallOp>(op, callee, args);
    return success();
  }
};

/// Rewrites a linalg.generic that tfm.quantized_linear's lowering tagged
/// `tmc.qmatmul = "<kernel>"` into a call to that runtime kernel, which
/// takes (A, packed W, scales, zero-points, C) as strided memrefs; absent
/// scales or zero-points are passed as a 1 x 1 placeholder.
struct QuantizedMatmulToKernelCall
    : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    auto kernel = op->getAttrOfType<StringAttr>("tmc.qmatmul");
    if (!kernel)
      return rewriter.notifyMatchFailure(op, "not a quantized matmul");
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not bufferized");
    Location loc = op.getLoc();
    SmallVector<Value> inputs(op.getDpsInputs());
    Value c = op.getDpsInits()[0];
    if (inputs.size() < 2 || inputs.size() > 4)
      return rewriter.notifyMatchFailure(op, "unexpected operands");
    // Scales and zero-points have the scale type (f32, or f16 for int4h).
    Type scaleElement = rewriter.getF32Type();
    if (inputs.size() > 2)
      scaleElement = cast<MemRefType>(inputs[2].getType()).getElementType();
    Value placeholder;
    auto operand = [&](unsigned i) -> Value {
      if (i < inputs.size())
        return memref::CastOp::create(
            rewriter, loc,
            stridedType(cast<MemRefType>(inputs[i].getType()).getElementType()),
            inputs[i]);
      if (!placeholder) {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(
            &op->getParentOfType<func::FuncOp>().getBody().front());
        placeholder = memref::AllocaOp::create(
            rewriter, loc, MemRefType::get({1, 1}, scaleElement));
      }
      return memref::CastOp::create(rewriter, loc, stridedType(scaleElement),
                                    placeholder);
    };
    SmallVector<Value> args = {operand(0), operand(1), operand(2), operand(3),
                               memref::CastOp::create(
                                   rewriter, loc,
                                   stridedType(rewriter.getF32Type()), c)};
    auto module = op->getParentOfType<ModuleOp>();
    func::FuncOp callee = getOrCreateKernel(
        module, kernel.getValue(), ValueRange(args).getTypes(), rewriter);
    rewriter.replaceOpWithNewOp<func::CallOp>(op, callee, args);
    return success();
  }
};

/// Rewrites a memref.copy that MemRefToLLVM would turn into a call to
/// MLIR's `memrefCopy` runtime function (any non-contiguous copy) into a
/// linalg.copy, which becomes loops: compiled models need no MLIR runtime.
struct StridedCopyToLinalg : public OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto isPlain = [](Value v) {
      auto type = cast<MemRefType>(v.getType());
      return type.getLayout().isIdentity() && type.hasStaticShape();
    };
    if (isPlain(op.getSource()) && isPlain(op.getTarget()))
      return rewriter.notifyMatchFailure(op, "lowers to a plain memcpy");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct TmcLinalgToKernelsPass
    : public tmc::impl::TmcLinalgToKernelsBase<TmcLinalgToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StridedCopyToLinalg>(&getContext());
    if (matmuls)
      patterns.add<MatmulToKernelCall, QuantizedMatmulToKernelCall>(
          &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
