//===- Prune.cpp - Prune linear layers' weights -----------------*- C++ -*-===//
//
// This file implements `tfm-prune`, which turns tfm.linear ops into
// tfm.sparse_linear ops on compressed, derived parameters.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMPRUNE
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

/// The number of weights magnitude pruning keeps in a row of `k`.
int64_t mlir::tfm::keptPerRow(PruneSchemeAttr prune, int64_t k) {
  double density = 1.0 - prune.getSparsity().convertToDouble();
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(density * k)));
}

namespace {

struct TfmPrunePass : public tfm::impl::TfmPruneBase<TfmPrunePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (scheme == "none")
      return;
    PruneSchemeAttr prune;
    auto emitError = [&]() { return mlir::emitError(module.getLoc()); };
    if (scheme == "2:4") {
      prune = PruneSchemeAttr::getChecked(emitError, ctx, PruneKind::two_four,
                                          APFloat(0.5));
    } else if (StringRef(scheme).starts_with("magnitude:")) {
      double fraction;
      if (StringRef(scheme).drop_front(10).getAsDouble(fraction)) {
        module.emitError("tfm-prune: bad sparsity in '") << scheme << "'";
        return signalPassFailure();
      }
      prune = PruneSchemeAttr::getChecked(emitError, ctx, PruneKind::magnitude,
                                          APFloat(fraction));
    } else {
      module.emitError("tfm-prune: unknown scheme '")
          << scheme << "' (expected 2:4, magnitude:F or none)";
      return signalPassFailure();
    }
    if (!prune)
      return signalPassFailure();

    SmallVector<LinearOp> linears;
    module.walk([&](LinearOp op) { linears.push_back(op); });
    IRRewriter rewriter(ctx);
    int64_t count = 0, before = 0, after = 0;
    for (LinearOp op : linears) {
      auto param = op.getWeight().getDefiningOp<ParamOp>();
      if (!param || param.getQuant() || param.getPrune() ||
          !cast<RankedTensorType>(param.getType()).getElementType().isF32())
        continue;
      int64_t n = op.getOutFeatures(), k = op.getInFeatures();
      Type f32 = rewriter.getF32Type();
      RankedTensorType valuesType, indicesType;
      bool compressed = true;
      if (prune.getKind() == PruneKind::two_four) {
        if (k % 8 != 0) {
          op.emitRemark("left dense: 2:4 needs input features divisible by "
                        "8, got ")
              << k;
          continue;
        }
        valuesType = RankedTensorType::get({n, k / 2}, f32);
        indicesType = RankedTensorType::get({n, k / 8}, rewriter.getI8Type());
      } else {
        int64_t kept = keptPerRow(prune, k);
        // Values and i16 columns take 6 bytes per kept weight against 4
        // per weight dense: compress only when that is smaller.
        compressed = 6 * kept < 4 * k;
        valuesType = compressed ? RankedTensorType::get({n, kept}, f32)
                                : RankedTensorType::get({n, k}, f32);
        indicesType = RankedTensorType::get({n, kept}, rewriter.getI16Type());
      }
      rewriter.setInsertionPoint(op);
      auto derived = [&](StringRef part, RankedTensorType type) -> Value {
        std::string name =
            (param.getName() + ":" + stringifyPruneKind(prune.getKind()) +
             ":" + part)
                .str();
        return ParamOp::create(rewriter, param.getLoc(), type,
                               rewriter.getStringAttr(name),
                               param.getValueAttr(), param.getNameAttr(),
                               /*quant=*/QuantSchemeAttr(), prune,
                               rewriter.getStringAttr(part),
                               WeightLayoutAttr::get(ctx, op.getLayout()));
      };
      before += n * k * 4;
      if (!compressed) {
        // Dense with zeros: the same linear on a pruned copy, [out, in].
        Value dense = derived("values", valuesType);
        auto linear = LinearOp::create(
            rewriter, op.getLoc(), op.getType(), op.getInput(), dense,
            op.getBias(),
            WeightLayoutAttr::get(ctx, WeightLayout::out_in),
            op.getQuantAttr(), prune);
        rewriter.replaceOp(op, linear.getResult());
        after += n * k * 4;
      } else {
        Value values = derived("values", valuesType);
        Value indices = derived("indices", indicesType);
        auto sparse = SparseLinearOp::create(rewriter, op.getLoc(),
                                             op.getType(), op.getInput(),
                                             values, indices, op.getBias(),
                                             prune);
        rewriter.replaceOp(op, sparse.getResult());
        after += valuesType.getNumElements() * 4 +
                 indicesType.getNumElements() *
                     (indicesType.getElementTypeBitWidth() / 8);
      }
      ++count;
      if (param->use_empty())
        rewriter.eraseOp(param);
    }
    Builder b(ctx);
    appendTransformRecord(module, {
        b.getNamedAttr("pass", b.getStringAttr("tfm-prune")),
        b.getNamedAttr("scheme", b.getStringAttr(scheme)),
        b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
        b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
    });
  }
};

} // namespace
