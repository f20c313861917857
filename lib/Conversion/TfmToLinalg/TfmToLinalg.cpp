//===- TfmToLinalg.cpp - The convert-tfm-to-linalg pass ---------*- C++ -*-===//
//
// This file implements the pass that lowers the tfm dialect to linalg and
// friends on tensors; the patterns live in one file per topic.
//
//===----------------------------------------------------------------------===//

#include "tmc/Conversion/Passes.h"

#include "Utils.h"

#include "tmc/Conversion/TfmToLinalg/TfmToLinalg.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_CONVERTTFMTOLINALG
#include "tmc/Conversion/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

void mlir::tmc::populateTfmToLinalgPatterns(RewritePatternSet &patterns,
                                            int64_t blockQ, int64_t blockK,
                                            bool fusedAttention,
                                            bool fusedCachedAttention,
                                            int64_t cachedAttentionSplit,
                                            bool fusedNorms) {
  populateTfmElementwiseToLinalgPatterns(patterns);
  populateTfmLinearToLinalgPatterns(patterns);
  populateTfmQuantizedLinearToLinalgPatterns(patterns);
  populateTfmSparseLinearToLinalgPatterns(patterns);
  populateTfmNormalizationToLinalgPatterns(patterns, fusedNorms);
  populateTfmEmbeddingToLinalgPatterns(patterns);
  populateTfmAttentionToLinalgPatterns(patterns, blockQ, blockK,
                                       fusedAttention);
  populateTfmCachedAttentionToLinalgPatterns(patterns, fusedCachedAttention,
                                             cachedAttentionSplit);
  populateTfmLinformerAttentionToLinalgPatterns(patterns);
  populateTfmTrainingToLinalgPatterns(patterns);
}

namespace {

struct ConvertTfmToLinalgPass
    : public tmc::impl::ConvertTfmToLinalgBase<ConvertTfmToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blockQ <= 0 || blockK <= 0) {
      getOperation().emitError("convert-tfm-to-linalg: attention block sizes "
                               "must be positive, got ")
          << static_cast<int64_t>(blockQ) << " x "
          << static_cast<int64_t>(blockK);
      return signalPassFailure();
    }
    ModuleOp module = getOperation();
    // Preconditions that a pattern failure would only report vaguely.
    WalkResult check = module.walk([](Operation *op) -> WalkResult {
      if (!isa<tfm::TfmDialect>(op->getDialect()))
        return WalkResult::advance();
      if (isa<tfm::ParamOp>(op))
        return op->emitOpError("must be bound to the weights buffer before "
                               "lowering (run tfm-bind-weights)");
      if (isa<tfm::LayerOp>(op))
        return op->emitOpError(
            "must be inlined before lowering (run tfm-inline-layers)");
      for (Type type : llvm::concat<Type>(op->getOperandTypes(),
                                          op->getResultTypes())) {
        auto tensor = dyn_cast<RankedTensorType>(type);
        if (tensor && !tensor.hasStaticShape())
          return op->emitOpError("has dynamic shape ")
                 << tensor << "; fix the sequence length first "
                 << "(tfm-set-seq-len or tmc-compile --seq-len)";
        if (tensor && !tensor.getElementType().isF32() &&
            !tensor.getElementType().isInteger() &&
            !isa<tfm::QuantizedLinearOp, tfm::QuantizedEmbeddingOp>(op))
          return op->emitOpError("element type ")
                 << tensor.getElementType()
                 << " is not lowered yet; only f32 models are";
      }
      return WalkResult::advance();
    });
    if (check.wasInterrupted())
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateTfmToLinalgPatterns(patterns, blockQ, blockK, fusedAttention,
                                fusedCachedAttention, cachedAttentionSplit,
                                fusedNorms);
    ConversionTarget target(getContext());
    target.addIllegalDialect<tfm::TfmDialect>();
    target.addLegalOp<tfm::FusedAttentionOp, tfm::FusedCachedAttentionOp,
                      tfm::FusedNormOp>();
    // A rotation the fused attention applies itself stays until that
    // attention's lowering erases it.
    if (fusedAttention || fusedCachedAttention)
      target.addDynamicallyLegalOp<tfm::RotaryOp>([&](tfm::RotaryOp rope) {
        return isRopeFoldedIntoFusedAttention(rope, fusedAttention,
                                              fusedCachedAttention);
      });
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect, affine::AffineDialect,
                           bufferization::BufferizationDialect,
                           memref::MemRefDialect, func::FuncDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
