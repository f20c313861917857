//===- Quantize.cpp - Quantize linear layers' weights -----------*- C++ -*-===//
//
// This file implements `tfm-quantize`, which turns tfm.linear ops into
// tfm.quantized_linear ops on packed, derived parameters.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "llvm/ADT/StringSet.h"

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

    // The scheme of the parameter `param`, used by `op` (null: keep fp32).
    auto schemeFor = [&](ParamOp param, Operation *op) -> QuantSchemeAttr {
      QuantSchemeAttr quant = *defaultScheme;
      for (auto &[pattern, attr] : rules)
        if (pattern.match(param.getName()))
          quant = attr;
      if (keepFirstLast) {
        auto layer = op->getParentOfType<LayerOp>();
        if (!layer || static_cast<int64_t>(layer.getIndex()) == firstLayer ||
            static_cast<int64_t>(layer.getIndex()) == lastLayer)
          return QuantSchemeAttr();
      }
      return quant;
    };

    // Packed parts of `param` ([n, k] as `layout` says) under `quant`,
    // created before `op`; the names are shared by every user of one
    // parameter (a tied embedding table and LM head share one copy).
    IRRewriter rewriter(ctx);
    int64_t count = 0, tables = 0, before = 0, after = 0;
    llvm::StringSet<> counted;
    Builder b(ctx);
    SmallVector<Attribute> records;
    struct Packed {
      Value values, scales, zeros;
    };
    auto pack = [&](Operation *op, ParamOp param, QuantSchemeAttr quant,
                    int64_t n, int64_t k,
                    WeightLayout layout) -> std::optional<Packed> {
      RankedTensorType valuesType, scalesType, zerosType;
      if (failed(quant.getPackedShapes(n, k, valuesType, scalesType,
                                       zerosType)) ||
          !cast<RankedTensorType>(param.getType()).getElementType().isF32()) {
        op->emitRemark("left in fp32: ")
            << stringifyQuantKind(quant.getKind())
            << " cannot pack a weight of " << n << " x " << k;
        return std::nullopt;
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
            WeightLayoutAttr::get(ctx, layout));
      };
      Packed packed{derived("values", valuesType),
                    derived("scales", scalesType),
                    derived("zeros", zerosType)};
      if (counted.insert(param.getName()).second) {
        int64_t bytesBefore = bytesOf(cast<RankedTensorType>(param.getType()));
        int64_t bytesAfter =
            bytesOf(valuesType) + bytesOf(scalesType) + bytesOf(zerosType);
        before += bytesBefore;
        after += bytesAfter;
        records.push_back(b.getDictionaryAttr({
            b.getNamedAttr("name", param.getNameAttr()),
            b.getNamedAttr("scheme", b.getStringAttr(stringifyQuantKind(
                                         quant.getKind()))),
            b.getNamedAttr("bytes_before", b.getI64IntegerAttr(bytesBefore)),
            b.getNamedAttr("bytes_after", b.getI64IntegerAttr(bytesAfter)),
        }));
      }
      return packed;
    };

    SmallVector<LinearOp> linears;
    module.walk([&](LinearOp op) { linears.push_back(op); });
    for (LinearOp op : linears) {
      auto param = op.getWeight().getDefiningOp<ParamOp>();
      if (!param || param.getQuant())
        continue;
      QuantSchemeAttr quant = schemeFor(param, op);
      if (!quant)
        continue;
      std::optional<Packed> packed =
          pack(op, param, quant, op.getOutFeatures(), op.getInFeatures(),
               op.getLayout());
      if (!packed)
        continue;
      auto quantized = QuantizedLinearOp::create(
          rewriter, op.getLoc(), op.getType(), op.getInput(), packed->values,
          packed->scales, packed->zeros, op.getBias(), quant);
      rewriter.replaceOp(op, quantized.getResult());
      ++count;
      if (param->use_empty())
        rewriter.eraseOp(param);
    }

    // Embedding tables: stored as a weight of `vocab` outputs and `dim`
    // inputs, so that a tied LM head reads the same packed table. W8A8
    // quantizes activations; its tables are int8 weight-only.
    SmallVector<EmbeddingOp> embeddings;
    module.walk([&](EmbeddingOp op) { embeddings.push_back(op); });
    for (EmbeddingOp op : embeddings) {
      auto param = op.getTable().getDefiningOp<ParamOp>();
      if (!param || param.getQuant())
        continue;
      QuantSchemeAttr quant = schemeFor(param, op);
      if (!quant)
        continue;
      if (quant.getKind() == QuantKind::w8a8)
        quant = QuantSchemeAttr::get(ctx, QuantKind::int8, 0, true,
                                     quant.getScaleType());
      auto table = cast<RankedTensorType>(param.getType());
      std::optional<Packed> packed =
          pack(op, param, quant, table.getDimSize(0), table.getDimSize(1),
               WeightLayout::out_in);
      if (!packed)
        continue;
      auto quantized = QuantizedEmbeddingOp::create(
          rewriter, op.getLoc(), op.getType(), packed->values, op.getIds(),
          packed->scales, packed->zeros, quant);
      rewriter.replaceOp(op, quantized.getResult());
      ++tables;
      if (param->use_empty())
        rewriter.eraseOp(param);
    }

    appendTransformRecord(module, {
        b.getNamedAttr("pass", b.getStringAttr("tfm-quantize")),
        b.getNamedAttr("scheme", b.getStringAttr(scheme)),
        b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
        b.getNamedAttr("embedding_lookups", b.getI64IntegerAttr(tables)),
        b.getNamedAttr("parameters", b.getArrayAttr(records)),
        b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
    });
  }
};

} // namespace
