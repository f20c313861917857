//===- Prune.cpp - Prune linear layers' weights -----------------*- C++ -*-===//
//
// This file implements `tfm-prune`, which turns tfm.linear ops into
// tfm.sparse_linear ops on compressed, derived parameters. Global magnitude
// pruning reads the weights to choose each layer's sparsity from one
// threshold over all of them.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Analysis/ParamValues.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/MapVector.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

/// A parsed `scheme`: the attribute of per-layer pruning (null: none), and
/// whether magnitude sparsity is global.
struct PruneSpec {
  PruneSchemeAttr prune;
  bool global = false;
};

/// Parses `none`, `2:4`, `magnitude:F` or `magnitude:F:global`, with
/// diagnostics at `module`.
static FailureOr<PruneSpec> parsePruneSpec(ModuleOp module, StringRef scheme) {
  MLIRContext *ctx = module.getContext();
  PruneSpec spec;
  auto emitError = [&]() { return mlir::emitError(module.getLoc()); };
  if (scheme == "none")
    return spec;
  if (scheme == "2:4") {
    spec.prune = PruneSchemeAttr::getChecked(emitError, ctx,
                                             PruneKind::two_four, APFloat(0.5));
    if (!spec.prune)
      return failure();
    return spec;
  }
  StringRef rest = scheme;
  if (!rest.consume_front("magnitude:"))
    return module.emitError("tfm-prune: unknown scheme '")
           << scheme
           << "' (expected 2:4, magnitude:F, magnitude:F:global or none)";
  auto [value, mode] = rest.split(':');
  if (!mode.empty() && mode != "global")
    return module.emitError("tfm-prune: unknown option '")
           << mode << "' in '" << scheme << "' (expected magnitude:F[:global])";
  spec.global = mode == "global";
  double fraction;
  if (value.getAsDouble(fraction))
    return module.emitError("tfm-prune: bad sparsity in '") << scheme << "'";
  spec.prune = PruneSchemeAttr::getChecked(emitError, ctx, PruneKind::magnitude,
                                           APFloat(fraction));
  if (!spec.prune)
    return failure();
  return spec;
}

struct TfmPrunePass : public tfm::impl::TfmPruneBase<TfmPrunePass> {
  using Base::Base;

  void runOnOperation() override;

  /// Global magnitude pruning: sets each parameter's sparsity in
  /// `sparsities` from one threshold over all their weights (`fraction` of
  /// them below it) and returns that threshold.
  FailureOr<double>
  chooseGlobalSparsities(double fraction,
                         llvm::MapVector<ParamOp, double> &sparsities);
};

FailureOr<double> TfmPrunePass::chooseGlobalSparsities(
    double fraction, llvm::MapVector<ParamOp, double> &sparsities) {
  ParamValues values(getOperation(), weightsBaseDir);
  // All magnitudes, each parameter once.
  std::vector<float> magnitudes;
  for (auto &entry : sparsities) {
    FailureOr<ArrayRef<float>> data = values.read(entry.first);
    if (failed(data))
      return failure();
    for (float w : *data)
      magnitudes.push_back(std::fabs(w));
    values.drop(entry.first.getName());
  }
  // t = a[m] with m = round(F T): exactly m magnitudes sort before it, and
  // those strictly below it are pruned.
  auto total = static_cast<int64_t>(magnitudes.size());
  int64_t m = std::llround(fraction * double(total));
  double threshold = std::numeric_limits<double>::infinity();
  if (m < total) {
    std::nth_element(magnitudes.begin(), magnitudes.begin() + m,
                     magnitudes.end());
    threshold = magnitudes[m];
  }
  magnitudes = {};
  for (auto &entry : sparsities) {
    FailureOr<ArrayRef<float>> data = values.read(entry.first);
    if (failed(data))
      return failure();
    auto size = static_cast<int64_t>(data->size());
    int64_t below = llvm::count_if(
        *data, [&](float w) { return double(std::fabs(w)) < threshold; });
    // Sparsity stays below 1: every row keeps at least one weight.
    entry.second = double(std::min(below, size - 1)) / double(size);
    values.drop(entry.first.getName());
  }
  return threshold;
}

void TfmPrunePass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  FailureOr<PruneSpec> spec = parsePruneSpec(module, scheme);
  if (failed(spec))
    return signalPassFailure();
  if (!spec->prune)
    return;

  // The candidates: fp32 linear layers on a parameter not yet quantized or
  // pruned.
  SmallVector<LinearOp> linears;
  llvm::MapVector<ParamOp, double> sparsities;
  module.walk([&](LinearOp op) {
    auto param = op.getWeight().getDefiningOp<ParamOp>();
    if (!param || param.getQuant() || param.getPrune() ||
        !cast<RankedTensorType>(param.getType()).getElementType().isF32())
      return;
    linears.push_back(op);
    sparsities.insert({param, spec->prune.getSparsity().convertToDouble()});
  });
  std::optional<double> threshold;
  if (spec->global) {
    FailureOr<double> chosen = chooseGlobalSparsities(
        spec->prune.getSparsity().convertToDouble(), sparsities);
    if (failed(chosen))
      return signalPassFailure();
    threshold = *chosen;
  }

  IRRewriter rewriter(ctx);
  Builder b(ctx);
  SmallVector<Attribute> records;
  int64_t count = 0, before = 0, after = 0;
  for (LinearOp op : linears) {
    auto param = op.getWeight().getDefiningOp<ParamOp>();
    PruneSchemeAttr prune = spec->prune;
    if (spec->global)
      prune = PruneSchemeAttr::get(ctx, PruneKind::magnitude,
                                   APFloat(sparsities.lookup(param)));
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
      std::string name = (param.getName() + ":" +
                          stringifyPruneKind(prune.getKind()) + ":" + part)
                             .str();
      return ParamOp::create(
          rewriter, param.getLoc(), type, rewriter.getStringAttr(name),
          param.getValueAttr(), param.getNameAttr(),
          /*quant=*/QuantSchemeAttr(), prune, rewriter.getStringAttr(part),
          WeightLayoutAttr::get(ctx, op.getLayout()));
    };
    int64_t bytesBefore = n * k * 4, bytesAfter;
    if (!compressed) {
      // Dense with zeros: the same linear on a pruned copy, [out, in].
      Value dense = derived("values", valuesType);
      auto linear = LinearOp::create(
          rewriter, op.getLoc(), op.getType(), op.getInput(), dense,
          op.getBias(), WeightLayoutAttr::get(ctx, WeightLayout::out_in),
          op.getQuantAttr(), prune);
      rewriter.replaceOp(op, linear.getResult());
      bytesAfter = n * k * 4;
    } else {
      Value values = derived("values", valuesType);
      Value indices = derived("indices", indicesType);
      auto sparse = SparseLinearOp::create(rewriter, op.getLoc(), op.getType(),
                                           op.getInput(), values, indices,
                                           op.getBias(), prune);
      rewriter.replaceOp(op, sparse.getResult());
      bytesAfter = valuesType.getNumElements() * 4 +
                   indicesType.getNumElements() *
                       (indicesType.getElementTypeBitWidth() / 8);
    }
    before += bytesBefore;
    after += bytesAfter;
    records.push_back(b.getDictionaryAttr({
        b.getNamedAttr("name", param.getNameAttr()),
        b.getNamedAttr("sparsity", b.getF64FloatAttr(
                                       prune.getSparsity().convertToDouble())),
        b.getNamedAttr("compressed", b.getBoolAttr(compressed)),
        b.getNamedAttr("bytes_before", b.getI64IntegerAttr(bytesBefore)),
        b.getNamedAttr("bytes_after", b.getI64IntegerAttr(bytesAfter)),
    }));
    ++count;
    if (param->use_empty())
      rewriter.eraseOp(param);
  }
  SmallVector<NamedAttribute> record = {
      b.getNamedAttr("pass", b.getStringAttr("tfm-prune")),
      b.getNamedAttr("scheme", b.getStringAttr(scheme)),
      b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
      b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
      b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
      b.getNamedAttr("layers", b.getArrayAttr(records)),
  };
  if (threshold && std::isfinite(*threshold))
    record.push_back(
        b.getNamedAttr("threshold", b.getF64FloatAttr(*threshold)));
  appendTransformRecord(module, record);
}

} // namespace
