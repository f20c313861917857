//===- Quantize.cpp - Quantize linear layers' weights -----------*- C++ -*-===//
//
// This file implements `tfm-quantize`, which turns tfm.linear ops into
// tfm.quantized_linear ops on packed, derived parameters.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/GlobPattern.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMQUANTIZE
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

/// Parses a scheme spec; a null attribute means `none`.
FailureOr<QuantSchemeAttr> mlir::tfm::parseQuantScheme(MLIRContext *ctx,
                                                       StringRef spec,
                                                       std::string &error) {
  SmallVector<StringRef> parts;
  spec.split(parts, ':');
  StringRef kind = parts.front();
  if (kind == "none")
    return QuantSchemeAttr();
  std::optional<QuantKind> parsed = symbolizeQuantKind(kind);
  if (!parsed) {
    error = "unknown quantization scheme '" + kind.str() +
            "' (expected int8, w8a8, int4[:gN][:asym][:f16], ternary, binary, "
            "fp16, bf16 or none)";
    return failure();
  }
  int64_t group = *parsed == QuantKind::int4 ? 128 : 0;
  bool symmetric = true;
  Type scaleType = Float32Type::get(ctx);
  for (StringRef option : ArrayRef<StringRef>(parts).drop_front()) {
    if (*parsed == QuantKind::int4 && option.consume_front("g")) {
      if (option.getAsInteger(10, group)) {
        error = "bad group size in '" + spec.str() + "'";
        return failure();
      }
    } else if (*parsed == QuantKind::int4 && option == "asym") {
      symmetric = false;
    } else if (*parsed == QuantKind::int4 && option == "f16") {
      scaleType = Float16Type::get(ctx);
    } else {
      error = "unknown option '" + option.str() + "' in '" + spec.str() + "'";
      return failure();
    }
  }
  std::string message;
  auto attr = QuantSchemeAttr::getChecked(
      [&]() {
        return mlir::emitError(UnknownLoc::get(ctx));
      },
      ctx, *parsed, group, symmetric, scaleType);
  if (!attr) {
    error = "invalid scheme '" + spec.str() + "'";
    return failure();
  }
  return attr;
}

namespace {

/// The packed shapes of a [n, k] weight under `quant`: values, scales (or
/// empty), zero-points (or empty).
struct PackedShapes {
  RankedTensorType values, scales, zeros;
};

static FailureOr<PackedShapes> packedShapes(QuantSchemeAttr quant, int64_t n,
                                            int64_t k, Type f32) {
  MLIRContext *ctx = quant.getContext();
  Type i8 = IntegerType::get(ctx, 8);
  Type scale = quant.getScaleType();
  PackedShapes shapes;
  switch (quant.getKind()) {
  case QuantKind::int8:
  case QuantKind::w8a8:
    shapes.values = RankedTensorType::get({n, k}, i8);
    shapes.scales = RankedTensorType::get({n, 1}, scale);
    break;
  case QuantKind::int4: {
    int64_t g = quant.getGroupSize();
    if (k % g != 0 || k % 2 != 0)
      return failure();
    shapes.values = RankedTensorType::get({n, k / 2}, i8);
    shapes.scales = RankedTensorType::get({n, k / g}, scale);
    if (!quant.getSymmetric())
      shapes.zeros = RankedTensorType::get({n, k / g}, scale);
    break;
  }
  case QuantKind::ternary:
    if (k % 4 != 0)
      return failure();
    shapes.values = RankedTensorType::get({n, k / 4}, i8);
    shapes.scales = RankedTensorType::get({1, 1}, scale);
    break;
  case QuantKind::binary:
    if (k % 8 != 0)
      return failure();
    shapes.values = RankedTensorType::get({n, k / 8}, i8);
    shapes.scales = RankedTensorType::get({n, 1}, scale);
    break;
  case QuantKind::fp16:
    shapes.values = RankedTensorType::get({n, k}, Float16Type::get(ctx));
    break;
  case QuantKind::bf16:
    shapes.values = RankedTensorType::get({n, k}, BFloat16Type::get(ctx));
    break;
  }
  return shapes;
}

static int64_t bytesOf(RankedTensorType type) {
  if (!type)
    return 0;
  return type.getNumElements() * (type.getElementTypeBitWidth() / 8);
}

struct TfmQuantizePass : public tfm::impl::TfmQuantizeBase<TfmQuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    std::string error;
    FailureOr<QuantSchemeAttr> defaultScheme =
        parseQuantScheme(ctx, scheme, error);
    if (failed(defaultScheme)) {
      module.emitError("tfm-quantize: ") << error;
      return signalPassFailure();
    }
    SmallVector<std::pair<llvm::GlobPattern, QuantSchemeAttr>> rules;
    for (const std::string &entry : overrides) {
      auto [glob, spec] = StringRef(entry).rsplit('=');
      if (spec.empty()) {
        module.emitError("tfm-quantize: override '")
            << entry << "' is not GLOB=SCHEME";
        return signalPassFailure();
      }
      auto pattern = llvm::GlobPattern::create(glob);
      FailureOr<QuantSchemeAttr> attr = parseQuantScheme(ctx, spec, error);
      if (!pattern || failed(attr)) {
        if (!pattern)
          llvm::consumeError(pattern.takeError());
        module.emitError("tfm-quantize: override '")
            << entry << "': " << (failed(attr) ? error : "bad glob");
        return signalPassFailure();
      }
      rules.push_back({std::move(*pattern), *attr});
    }
    // The first and last layer indices, for keep-first-last.
    int64_t firstLayer = INT64_MAX, lastLayer = -1;
    module.walk([&](LayerOp layer) {
      firstLayer = std::min<int64_t>(firstLayer, layer.getIndex());
      lastLayer = std::max<int64_t>(lastLayer, layer.getIndex());
    });

    int64_t count = 0, before = 0, after = 0;
    SmallVector<LinearOp> linears;
    module.walk([&](LinearOp op) { linears.push_back(op); });
    IRRewriter rewriter(ctx);
    for (LinearOp op : linears) {
      auto param = op.getWeight().getDefiningOp<ParamOp>();
      if (!param || param.getQuant())
        continue;
      QuantSchemeAttr quant = *defaultScheme;
      for (auto &[pattern, attr] : rules)
        if (pattern.match(param.getName()))
          quant = attr;
      if (keepFirstLast) {
        auto layer = op->getParentOfType<LayerOp>();
        if (!layer || static_cast<int64_t>(layer.getIndex()) == firstLayer ||
            static_cast<int64_t>(layer.getIndex()) == lastLayer)
          continue;
      }
      if (!quant)
        continue;
      int64_t n = op.getOutFeatures(), k = op.getInFeatures();
      Type f32 = rewriter.getF32Type();
      FailureOr<PackedShapes> shapes = packedShapes(quant, n, k, f32);
      if (failed(shapes) ||
          !cast<RankedTensorType>(param.getType()).getElementType().isF32()) {
        op.emitRemark("left in fp32: ")
            << stringifyQuantKind(quant.getKind())
            << " cannot pack a weight of " << n << " x " << k;
        continue;
      }
      rewriter.setInsertionPoint(op);
      auto derived = [&](StringRef part, RankedTensorType type) -> Value {
        if (!type)
          return Value();
        std::string name = (param.getName() + ":" +
                            stringifyQuantKind(quant.getKind()) + ":" + part)
                               .str();
        return ParamOp::create(
            rewriter, param.getLoc(), type, rewriter.getStringAttr(name),
            param.getValueAttr(), param.getNameAttr(), quant,
            /*prune=*/PruneSchemeAttr(), rewriter.getStringAttr(part),
            WeightLayoutAttr::get(ctx, op.getLayout()));
      };
      Value values = derived("values", shapes->values);
      Value scales = derived("scales", shapes->scales);
      Value zeros = derived("zeros", shapes->zeros);
      auto quantized = QuantizedLinearOp::create(
          rewriter, op.getLoc(), op.getType(), op.getInput(), values, scales,
          zeros, op.getBias(), quant);
      rewriter.replaceOp(op, quantized.getResult());
      ++count;
      before += bytesOf(cast<RankedTensorType>(param.getType()));
      if (param->use_empty())
        rewriter.eraseOp(param);
      after += bytesOf(shapes->values) + bytesOf(shapes->scales) +
               bytesOf(shapes->zeros);
    }

    Builder b(ctx);
    appendTransformRecord(module, {
        b.getNamedAttr("pass", b.getStringAttr("tfm-quantize")),
        b.getNamedAttr("scheme", b.getStringAttr(scheme)),
        b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
        b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
    });
  }
};

} // namespace
