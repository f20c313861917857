//===- SparsifyAttention.cpp - Attach attention sparsity --------*- C++ -*-===//
//
// This file implements `tfm-sparsify-attention`, which attaches a sparsity
// pattern attribute to selected tfm.attention ops.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMSPARSIFYATTENTION
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Parses a pattern spec (see the pass description). Returns a null
/// attribute for `dense`; fails with a message for anything else invalid.
static FailureOr<Attribute> parsePattern(MLIRContext *ctx, StringRef spec,
                                         std::string &error) {
  StringRef kind = spec.split(':').first;
  StringRef argText = spec.split(':').second;
  SmallVector<int64_t> args;
  if (!argText.empty()) {
    SmallVector<StringRef> parts;
    argText.split(parts, ',');
    for (StringRef part : parts) {
      int64_t value;
      if (part.trim().getAsInteger(10, value)) {
        error = "'" + part.str() + "' is not an integer";
        return failure();
      }
      args.push_back(value);
    }
  }
  auto expect = [&](size_t lo, size_t hi) {
    if (args.size() >= lo && args.size() <= hi)
      return true;
    error = "'" + kind.str() + "' takes " + std::to_string(lo) +
            (hi > lo ? " to " + std::to_string(hi) : "") + " arguments, got " +
            std::to_string(args.size());
    return false;
  };
  // The attribute verifiers report invalid values through this handler.
  auto emitError = [&]() {
    return mlir::emitError(UnknownLoc::get(ctx));
  };
  Attribute attr;
  if (kind == "dense") {
    if (!expect(0, 0))
      return failure();
    return Attribute();
  }
  if (kind == "window") {
    if (!expect(1, 1))
      return failure();
    attr = WindowAttr::getChecked(emitError, ctx, args[0]);
  } else if (kind == "dilated") {
    if (!expect(2, 2))
      return failure();
    attr = DilatedWindowAttr::getChecked(emitError, ctx, args[0], args[1]);
  } else if (kind == "strided") {
    if (!expect(1, 2))
      return failure();
    int64_t summary = args.size() > 1 ? args[1] : std::max<int64_t>(1, args[0] / 8);
    attr = StridedAttr::getChecked(emitError, ctx, args[0], summary);
  } else if (kind == "bigbird") {
    if (!expect(3, 5))
      return failure();
    int64_t block = args.size() > 3 ? args[3] : 64;
    int64_t seed = args.size() > 4 ? args[4] : 0;
    attr = BlockSparseAttr::getChecked(emitError, ctx, block, args[0], args[1],
                                       args[2], seed);
  } else {
    error = "unknown pattern '" + kind.str() +
            "' (expected window, dilated, strided, bigbird or dense)";
    return failure();
  }
  if (!attr) {
    error = "invalid pattern '" + spec.str() + "'";
    return failure();
  }
  return attr;
}

/// The fraction of a seqQ x seqK score matrix that `pattern` (and causality)
/// keeps, counted by 64 x 64 blocks.
static double keptFraction(SparsityPatternAttrInterface pattern, bool causal,
                           int64_t seqQ, int64_t seqK) {
  const int64_t block = 64;
  int64_t shift = seqK - seqQ;
  double kept = 0;
  for (int64_t q0 = 0; q0 < seqQ; q0 += block) {
    int64_t q1 = std::min(seqQ, q0 + block);
    for (int64_t k0 = 0; k0 < seqK; k0 += block) {
      int64_t k1 = std::min(seqK, k0 + block);
      if (causal && k0 > q1 - 1 + shift)
        break;
      int kind = pattern.classifyBlock(q0 + shift, q1 + shift, k0, k1, seqK);
      if (kind == 0)
        continue;
      if (kind == 1 && !(causal && k1 - 1 > q0 + shift)) {
        kept += double(q1 - q0) * (k1 - k0);
        continue;
      }
      for (int64_t i = q0; i < q1; ++i)
        for (int64_t j = k0; j < k1; ++j)
          kept += pattern.isKept(i + shift, j, seqK) &&
                  (!causal || j <= i + shift);
    }
  }
  return kept / (double(seqQ) * seqK);
}

/// The fraction of a seqQ x seqK score matrix that dense attention keeps.
static double denseFraction(bool causal, int64_t seqQ, int64_t seqK) {
  if (!causal)
    return 1.0;
  double kept = 0;
  for (int64_t i = 0; i < seqQ; ++i)
    kept += std::clamp<int64_t>(i + (seqK - seqQ) + 1, 0, seqK);
  return kept / (double(seqQ) * seqK);
}

struct TfmSparsifyAttentionPass
    : public tfm::impl::TfmSparsifyAttentionBase<TfmSparsifyAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (pattern.empty())
      return;
    std::string error;
    FailureOr<Attribute> attr = parsePattern(&getContext(), pattern, error);
    if (failed(attr)) {
      module.emitError("tfm-sparsify-attention: ") << error;
      return signalPassFailure();
    }
    auto selected = [&](AttentionOp op) {
      if (layers.empty() && names.empty())
        return true;
      auto layer = op->getParentOfType<LayerOp>();
      if (!layer)
        return false;
      return llvm::is_contained(layers, static_cast<int64_t>(layer.getIndex())) ||
             llvm::is_contained(names, layer.getName().str());
    };
    Builder b(&getContext());
    int64_t count = 0;
    double keptSum = 0;
    int64_t naiveBytes = 0;
    bool allStatic = true;
    WalkResult walk = module.walk([&](AttentionOp op) -> WalkResult {
      if (!selected(op))
        return WalkResult::advance();
      if (op.getSparsityAttr() && !overrideExisting)
        return WalkResult::advance();
      if (*attr)
        op.setSparsityAttr(cast<SparsityPatternAttrInterface>(*attr));
      else
        op.removeSparsityAttr();
      if (failed(op.verify()))
        return WalkResult::interrupt();
      ++count;
      int64_t seqQ = op.getQuery().getType().getDimSize(1);
      int64_t seqK = op.getKey().getType().getDimSize(1);
      if (ShapedType::isDynamic(seqQ) || ShapedType::isDynamic(seqK)) {
        allStatic = false;
        return WalkResult::advance();
      }
      naiveBytes = std::max<int64_t>(
          naiveBytes, static_cast<int64_t>(op.getNumHeads()) * seqQ * seqK * 4);
      keptSum += *attr ? keptFraction(cast<SparsityPatternAttrInterface>(*attr),
                                      op.getCausal(), seqQ, seqK)
                       : denseFraction(op.getCausal(), seqQ, seqK);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("pass", b.getStringAttr("tfm-sparsify-attention")),
        b.getNamedAttr("pattern", b.getStringAttr(pattern)),
        b.getNamedAttr("attention_ops", b.getI64IntegerAttr(count))};
    if (*attr) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << *attr;
      fields.push_back(b.getNamedAttr("attribute", b.getStringAttr(text)));
    }
    if (allStatic && count > 0) {
      fields.push_back(b.getNamedAttr(
          "kept_fraction", b.getF64FloatAttr(keptSum / double(count))));
      fields.push_back(b.getNamedAttr("naive_scores_bytes_per_op",
                                      b.getI64IntegerAttr(naiveBytes)));
    }
    appendTransformRecord(module, fields);
  }
};

} // namespace
