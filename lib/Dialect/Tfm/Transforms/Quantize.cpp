//===- Quantize.cpp - Quantize linear layers' weights -----------*- C++ -*-===//
//
// This file implements `tfm-quantize`, which turns tfm.linear ops into
// tfm.quantized_linear ops on packed, derived parameters, and measures the
// output error that quantization introduces on a calibration input.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Analysis/Evaluator.h"
#include "tmc/Dialect/Tfm/Analysis/ParamValues.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"
#include "tmc/Dialect/Tfm/Transforms/QuantizeWeights.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/GlobPattern.h"

#include <Eigen/Core>

#include <cmath>

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

using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One op whose weight (or table) is to be quantized.
struct Planned {
  Operation *op;
  ParamOp param;
  /// The parameter's name.
  StringRef name;
  QuantSchemeAttr quant;
  /// The weight as n x k, stored [n, k] or ([k, n]) `layout`.
  int64_t n, k;
  WeightLayout layout;
};

/// The output errors of one quantization plan on the calibration input.
struct OutputErrors {
  double model = 0;
  /// Per parameter: the relative L2 of its linear layers' output error.
  llvm::StringMap<double> layers;
  /// Why nothing was measured (empty when measured).
  std::string skipped;
};

/// Evaluates `forward` on `ids` with fp32 weights (`reference`) and with
/// the weights of `plan` dequantized (`quantized`), and stores in `errors`
/// each planned linear layer's own output error on its fp32 input.
static LogicalResult
evaluatePlan(ArrayRef<Planned> plan, ArrayRef<int64_t> ids,
             func::FuncOp forward, ParamValues &values, OutputErrors &errors,
             FailureOr<SmallVector<EvalTensor>> &reference,
             FailureOr<SmallVector<EvalTensor>> &quantized) {
  // The dequantized weights, in each parameter's own stored shape.
  llvm::StringMap<std::vector<float>> dequantized;
  llvm::DenseMap<Operation *, const Planned *> byOp;
  for (const Planned &item : plan) {
    byOp[item.op] = &item;
    if (dequantized.count(item.name))
      continue;
    FailureOr<ArrayRef<float>> w = values.read(item.param);
    if (failed(w))
      return failure();
    bool transposed = item.layout == WeightLayout::in_out;
    std::vector<float> q = mlir::tmc::quantizeDequantize(item.quant, *w, item.n,
                                                         item.k, transposed);
    if (transposed) {
      // Back to the stored [k, n].
      std::vector<float> stored(q.size());
      for (int64_t r = 0; r < item.n; ++r)
        for (int64_t c = 0; c < item.k; ++c)
          stored[c * item.n + r] = q[r * item.k + c];
      q = std::move(stored);
    }
    dequantized[item.name] = std::move(q);
  }

  // fp32, with each quantized linear layer's own error on its input:
  // sums of squares of X (W - W_q)^T and of X W^T per parameter.
  llvm::StringMap<std::pair<double, double>> layerSums;
  auto onLinear = [&](LinearOp op, const EvalTensor &input) {
    const Planned *item = byOp.lookup(op);
    if (!item)
      return;
    FailureOr<ArrayRef<float>> w = values.read(item->param);
    if (failed(w))
      return;
    const std::vector<float> &q = dequantized[item->name];
    int64_t k = item->k, n = item->n, rows = input.getNumElements() / k;
    Eigen::Map<const RowMatrix> x(input.data.data(), rows, k);
    bool inOut = item->layout == WeightLayout::in_out;
    int64_t storedRows = inOut ? k : n, storedCols = inOut ? n : k;
    Eigen::Map<const RowMatrix> wm(w->data(), storedRows, storedCols);
    Eigen::Map<const RowMatrix> qm(q.data(), storedRows, storedCols);
    RowMatrix diff = wm - qm;
    RowMatrix y = inOut ? RowMatrix(x * wm) : RowMatrix(x * wm.transpose());
    RowMatrix e = inOut ? RowMatrix(x * diff) : RowMatrix(x * diff.transpose());
    auto &sums = layerSums[item->name];
    sums.first += e.cast<double>().squaredNorm();
    sums.second += y.cast<double>().squaredNorm();
  };
  reference = evaluateForward(forward, ids, values, onLinear);
  if (failed(reference))
    return failure();
  for (auto &entry : dequantized)
    values.set(entry.getKey(), std::move(entry.getValue()));
  quantized = evaluateForward(forward, ids, values);
  if (failed(quantized))
    return failure();
  for (auto &entry : layerSums)
    errors.layers[entry.getKey()] =
        entry.getValue().second > 0
            ? std::sqrt(entry.getValue().first / entry.getValue().second)
            : 0.0;
  return success();
}

struct TfmQuantizePass : public tfm::impl::TfmQuantizeBase<TfmQuantizePass> {
  using Base::Base;

  void runOnOperation() override;

  /// Measures the output errors of `plan` on the calibration input. Fails
  /// with a diagnostic on a bad calibration input; says in `skipped` why
  /// nothing was measured when the evaluator cannot run the model.
  FailureOr<OutputErrors> measureOutputErrors(ArrayRef<Planned> plan);
};

FailureOr<OutputErrors>
TfmQuantizePass::measureOutputErrors(ArrayRef<Planned> plan) {
  ModuleOp module = getOperation();
  func::FuncOp forward;
  module.walk([&](func::FuncOp func) {
    if (!forward && !func.isExternal())
      forward = func;
  });
  int64_t vocab = 0;
  if (forward)
    forward.walk([&](EmbeddingOp op) {
      if (!vocab)
        vocab = cast<RankedTensorType>(op.getTable().getType()).getDimSize(0);
    });
  OutputErrors errors;
  if (!forward || !vocab) {
    errors.skipped = "no forward function with a token embedding";
    return errors;
  }
  int64_t tokens = calibrationTokens;
  if (auto maxPositions =
          forward->getAttrOfType<IntegerAttr>("tfm.max_positions"))
    tokens = std::min<int64_t>(tokens, maxPositions.getInt());
  if (tokens < 1)
    return module.emitError("tfm-quantize: calibration-tokens must be "
                            "positive");
  FailureOr<std::vector<int64_t>> ids =
      readCalibrationIds(module, "tfm-quantize", calibration, tokens,
                         calibrationSeed, vocab);
  if (failed(ids))
    return failure();

  // The evaluator's own errors (an op it does not evaluate, unreadable
  // data) only mean that no error is measured: they become one remark.
  std::string why;
  bool measured = false;
  ParamValues values(module, weightsBaseDir);
  FailureOr<SmallVector<EvalTensor>> reference = failure(),
                                     quantized = failure();
  {
    ScopedDiagnosticHandler capture(&getContext(), [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (why.empty())
        why = diag.str();
      return success();
    });
    measured = succeeded(evaluatePlan(plan, *ids, forward, values, errors,
                                      reference, quantized));
  }
  if (!measured) {
    errors.skipped = why;
    return errors;
  }

  double num = 0, den = 0;
  for (auto [ref, got] : llvm::zip(*reference, *quantized))
    for (size_t i = 0; i < ref.data.size(); ++i) {
      double d = double(got.data[i]) - double(ref.data[i]);
      num += d * d;
      den += double(ref.data[i]) * double(ref.data[i]);
    }
  errors.model = den > 0 ? std::sqrt(num / den) : 0.0;
  return errors;
}

void TfmQuantizePass::runOnOperation() {
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

  // The plan: every op whose weight is packed, and how. A weight the scheme
  // cannot pack stays fp32 with a remark.
  SmallVector<Planned> plan;
  auto planOp = [&](Operation *op, ParamOp param, QuantSchemeAttr quant,
                    int64_t n, int64_t k, WeightLayout layout) {
    RankedTensorType valuesType, scalesType, zerosType;
    if (failed(
            quant.getPackedShapes(n, k, valuesType, scalesType, zerosType)) ||
        !cast<RankedTensorType>(param.getType()).getElementType().isF32()) {
      op->emitRemark("left in fp32: ")
          << stringifyQuantKind(quant.getKind()) << " cannot pack a weight of "
          << n << " x " << k;
      return;
    }
    plan.push_back({op, param, param.getName(), quant, n, k, layout});
  };
  module.walk([&](LinearOp op) {
    auto param = op.getWeight().getDefiningOp<ParamOp>();
    if (!param || param.getQuant())
      return;
    if (QuantSchemeAttr quant = schemeFor(param, op))
      planOp(op, param, quant, op.getOutFeatures(), op.getInFeatures(),
             op.getLayout());
  });
  // Embedding tables: stored as a weight of `vocab` outputs and `dim`
  // inputs, so that a tied LM head reads the same packed table. W8A8
  // quantizes activations; its tables are int8 weight-only.
  module.walk([&](EmbeddingOp op) {
    auto param = op.getTable().getDefiningOp<ParamOp>();
    if (!param || param.getQuant())
      return;
    QuantSchemeAttr quant = schemeFor(param, op);
    if (!quant)
      return;
    if (quant.getKind() == QuantKind::w8a8)
      quant = QuantSchemeAttr::get(ctx, QuantKind::int8, 0, true,
                                   quant.getScaleType());
    auto table = cast<RankedTensorType>(param.getType());
    planOp(op, param, quant, table.getDimSize(0), table.getDimSize(1),
           WeightLayout::out_in);
  });

  std::optional<OutputErrors> errors;
  if (outputError && !plan.empty()) {
    FailureOr<OutputErrors> measured = measureOutputErrors(plan);
    if (failed(measured))
      return signalPassFailure();
    errors = std::move(*measured);
  }

  // Packed parts of a planned op's parameter, created before the op; the
  // names are shared by every user of one parameter (a tied embedding
  // table and LM head share one copy).
  IRRewriter rewriter(ctx);
  int64_t count = 0, tables = 0, before = 0, after = 0;
  bool weightsOnly = false;
  llvm::StringSet<> counted;
  Builder b(ctx);
  SmallVector<Attribute> records;
  struct Packed {
    Value values, scales, zeros;
  };
  auto pack = [&](const Planned &item) -> Packed {
    RankedTensorType valuesType, scalesType, zerosType;
    (void)item.quant.getPackedShapes(item.n, item.k, valuesType, scalesType,
                                     zerosType);
    ParamOp param = item.param;
    rewriter.setInsertionPoint(item.op);
    auto derived = [&](StringRef part, RankedTensorType type) -> Value {
      if (!type)
        return Value();
      std::string name = (param.getName() + ":" +
                          stringifyQuantKind(item.quant.getKind()) + ":" + part)
                             .str();
      return ParamOp::create(
          rewriter, param.getLoc(), type, rewriter.getStringAttr(name),
          param.getValueAttr(), param.getNameAttr(), item.quant,
          /*prune=*/PruneSchemeAttr(), rewriter.getStringAttr(part),
          WeightLayoutAttr::get(ctx, item.layout));
    };
    Packed packed{derived("values", valuesType), derived("scales", scalesType),
                  derived("zeros", zerosType)};
    if (counted.insert(param.getName()).second) {
      int64_t bytesBefore = bytesOf(cast<RankedTensorType>(param.getType()));
      int64_t bytesAfter =
          bytesOf(valuesType) + bytesOf(scalesType) + bytesOf(zerosType);
      before += bytesBefore;
      after += bytesAfter;
      SmallVector<NamedAttribute> record = {
          b.getNamedAttr("name", param.getNameAttr()),
          b.getNamedAttr("scheme", b.getStringAttr(stringifyQuantKind(
                                       item.quant.getKind()))),
          b.getNamedAttr("bytes_before", b.getI64IntegerAttr(bytesBefore)),
          b.getNamedAttr("bytes_after", b.getI64IntegerAttr(bytesAfter)),
      };
      if (errors && errors->skipped.empty()) {
        auto it = errors->layers.find(param.getName());
        if (it != errors->layers.end())
          record.push_back(b.getNamedAttr("layer_output_rel_l2",
                                          b.getF64FloatAttr(it->second)));
      }
      records.push_back(b.getDictionaryAttr(record));
    }
    return packed;
  };

  for (const Planned &item : plan) {
    ParamOp param = item.param;
    Packed packed = pack(item);
    if (auto op = dyn_cast<LinearOp>(item.op)) {
      weightsOnly |= item.quant.getKind() == QuantKind::w8a8;
      auto quantized = QuantizedLinearOp::create(
          rewriter, op.getLoc(), op.getType(), op.getInput(), packed.values,
          packed.scales, packed.zeros, op.getBias(), item.quant);
      rewriter.replaceOp(op, quantized.getResult());
      ++count;
    } else {
      auto embedding = cast<EmbeddingOp>(item.op);
      auto quantized = QuantizedEmbeddingOp::create(
          rewriter, embedding.getLoc(), embedding.getType(), packed.values,
          embedding.getIds(), packed.scales, packed.zeros, item.quant);
      rewriter.replaceOp(embedding, quantized.getResult());
      ++tables;
    }
    if (param->use_empty())
      rewriter.eraseOp(param);
  }

  SmallVector<NamedAttribute> record = {
      b.getNamedAttr("pass", b.getStringAttr("tfm-quantize")),
      b.getNamedAttr("scheme", b.getStringAttr(scheme)),
      b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
      b.getNamedAttr("embedding_lookups", b.getI64IntegerAttr(tables)),
      b.getNamedAttr("parameters", b.getArrayAttr(records)),
      b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
      b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
  };
  if (errors && !errors->skipped.empty()) {
    record.push_back(b.getNamedAttr("output_error_skipped",
                                    b.getStringAttr(errors->skipped)));
  } else if (errors) {
    record.push_back(
        b.getNamedAttr("output_rel_l2", b.getF64FloatAttr(errors->model)));
    if (weightsOnly)
      record.push_back(
          b.getNamedAttr("output_error_weights_only", b.getBoolAttr(true)));
  }
  appendTransformRecord(module, record);
}

} // namespace
