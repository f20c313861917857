//===- Linformer.cpp - Project attention along the sequence -----*- C++ -*-===//
//
// This file implements `tfm-linformer`, which turns non-causal tfm.attention
// ops into tfm.linformer_attention ops on random sequence projections.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <random>

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMLINFORMER
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

struct TfmLinformerPass : public tfm::impl::TfmLinformerBase<TfmLinformerPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (projected == 0)
      return;
    if (projected < 0) {
      module.emitError("tfm-linformer: k must be positive, got ")
          << static_cast<int64_t>(projected);
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    module.walk([&](AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    std::mt19937_64 rng(seed);
    int64_t count = 0, scoresBefore = 0, scoresAfter = 0, bytes = 0;
    for (auto [index, op] : llvm::enumerate(ops)) {
      if (op.getCausal()) {
        op.emitError("tfm-linformer: causal attention cannot use Linformer "
                     "projections: each projected key mixes every position, "
                     "later ones included");
        return signalPassFailure();
      }
      if (op.getSparsity()) {
        op.emitRemark("left as is: the attention has a sparsity pattern");
        continue;
      }
      int64_t n = op.getKey().getType().getDimSize(1);
      if (ShapedType::isDynamic(n)) {
        op.emitError("tfm-linformer: needs a static key length (run "
                     "tfm-set-seq-len first)");
        return signalPassFailure();
      }
      int64_t k = projected;
      if (n <= k) {
        op.emitRemark("left as is: ")
            << n << " keys are not more than k = " << k;
        continue;
      }
      std::string prefix = "attention." + std::to_string(index);
      if (auto layer = op->getParentOfType<LayerOp>())
        prefix = layer.getName().str();
      rewriter.setInsertionPoint(op);
      auto type = RankedTensorType::get({k, n}, rewriter.getF32Type());
      std::normal_distribution<float> normal(0.0f, 1.0f / std::sqrt(float(k)));
      auto projection = [&](StringRef which) -> Value {
        std::vector<float> data(k * n);
        for (float &x : data)
          x = normal(rng);
        std::string name = prefix + ".linformer." + which.str();
        ArrayRef<char> raw(reinterpret_cast<const char *>(data.data()),
                           data.size() * sizeof(float));
        auto value = DenseResourceElementsAttr::get(
            type, name,
            HeapAsmResourceBlob::allocateAndCopyWithAlign(
                raw, alignof(float), /*dataIsMutable=*/false));
        return ParamOp::create(rewriter, op.getLoc(), type,
                               rewriter.getStringAttr(name), value,
                               /*source=*/nullptr, /*quant=*/nullptr,
                               /*prune=*/nullptr, /*part=*/nullptr,
                               /*source_layout=*/nullptr);
      };
      Value e = projection("E"), f = projection("F");
      auto linformer = LinformerAttentionOp::create(
          rewriter, op.getLoc(), op.getType(), op.getQuery(), op.getKey(),
          op.getValue(), e, f, op.getNumHeadsAttr(), op.getNumKvHeadsAttr(),
          op.getScaleAttr());
      rewriter.replaceOp(op, linformer.getResult());
      int64_t seqQ = op.getQuery().getType().getDimSize(1);
      if (ShapedType::isDynamic(seqQ))
        seqQ = n;
      ++count;
      scoresBefore += op.getNumHeads() * seqQ * n;
      scoresAfter += op.getNumHeads() * seqQ * k;
      bytes += 2 * k * n * 4;
    }
    Builder b(&getContext());
    appendTransformRecord(
        module,
        {
            b.getNamedAttr("pass", b.getStringAttr("tfm-linformer")),
            b.getNamedAttr("k", b.getI64IntegerAttr(projected)),
            b.getNamedAttr("attention_ops", b.getI64IntegerAttr(count)),
            b.getNamedAttr("score_elements_before",
                           b.getI64IntegerAttr(scoresBefore)),
            b.getNamedAttr("score_elements_after",
                           b.getI64IntegerAttr(scoresAfter)),
            b.getNamedAttr("projection_bytes", b.getI64IntegerAttr(bytes)),
        });
  }
};

} // namespace
