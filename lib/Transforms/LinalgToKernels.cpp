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

/// Returns the kernel declaration `name`, creating it in `module` if needed.
static func::FuncOp getOrCreateKernel(ModuleOp module, StringRef name,
                                      PatternRewriter &rewriter) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  Type operand = kernelOperandType(rewriter.getContext());
  auto func = func::FuncOp::create(
      rewriter, module.getLoc(), name,
      rewriter.getFunctionType({operand, operand, operand}, {}));
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
    if (maps[0] != map(m, k) || maps[2] != map(m, n))
      return rewriter.notifyMatchFailure(op, "unsupported A or C map");
    StringRef kernel;
    if (maps[1] == map(k, n))
      kernel = "tmc_rt_matmul_nn_f32";
    else if (maps[1] == map(n, k))
      kernel = "tmc_rt_matmul_nt_f32";
    else
      return rewriter.notifyMatchFailure(op, "unsupported B map");

    auto module = op->getParentOfType<ModuleOp>();
    func::FuncOp callee = getOrCreateKernel(module, kernel, rewriter);
    Type operandType = kernelOperandType(ctx);
    SmallVector<Value> args;
    for (Value operand : op->getOperands())
      args.push_back(
          memref::CastOp::create(rewriter, op.getLoc(), operandType, operand));
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
      patterns.add<MatmulToKernelCall>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
