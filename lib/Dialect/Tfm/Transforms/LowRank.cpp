//===- LowRank.cpp - Factorize linear layers by truncated SVD ---*- C++ -*-===//
//
// This file implements `tfm-low-rank`, which replaces a tfm.linear on an
// N x K weight by two tfm.linear ops on factors of N x R and R x K computed
// by a truncated SVD at compile time, plain or whitened by the layer's input
// statistics on a calibration input (activation-aware).
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Analysis/Evaluator.h"
#include "tmc/Dialect/Tfm/Analysis/ParamValues.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cmath>
#include <queue>

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMLOWRANK
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

/// A parsed `scheme` of tfm-low-rank.
struct RankSpec {
  enum class Kind { None, Rank, Energy, Params } kind = Kind::None;
  int64_t rank = 0;
  double fraction = 0;
};

/// Parses `none`, `rank:R`, `energy:E` or `params:F`.
static FailureOr<RankSpec> parseRankSpec(StringRef spec, std::string &error) {
  RankSpec result;
  if (spec == "none" || spec.empty())
    return result;
  auto [kind, value] = spec.split(':');
  if (kind == "rank") {
    result.kind = RankSpec::Kind::Rank;
    if (value.getAsInteger(10, result.rank) || result.rank < 1) {
      error = "rank must be a positive integer, got '" + value.str() + "'";
      return failure();
    }
    return result;
  }
  if (kind == "energy" || kind == "params") {
    result.kind =
        kind == "energy" ? RankSpec::Kind::Energy : RankSpec::Kind::Params;
    if (value.getAsDouble(result.fraction) || !(result.fraction > 0) ||
        result.fraction > 1) {
      error = kind.str() + " must be a fraction in (0, 1], got '" +
              value.str() + "'";
      return failure();
    }
    return result;
  }
  error = "unknown scheme '" + spec.str() +
          "' (expected rank:R, energy:E, params:F or none)";
  return failure();
}

/// One linear layer that may be factorized.
struct Layer {
  LinearOp op;
  ParamOp param;
  int64_t n = 0, k = 0;
  /// The weight has users other than this layer: its bytes stay.
  bool shared = false;
  /// Activation-aware: the lower Cholesky factor S of the damped input Gram
  /// matrix (G + eps I = S S^T) and G itself.
  Matrix whitener, gram;
  /// Singular values of W (plain) or W S (activation-aware), descending.
  Vector sigma;
  int64_t rank = 0;
  /// Largest rank whose factors are smaller than the weight.
  int64_t maxSavingRank() const { return (n * k - 1) / (n + k); }
};

/// Reads a layer's weight as N x K in double.
static FailureOr<Matrix> readWeight(ParamValues &values, Layer &layer) {
  FailureOr<ArrayRef<float>> data = values.read(layer.param);
  if (failed(data))
    return failure();
  auto type = cast<RankedTensorType>(layer.param.getType());
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                 Eigen::RowMajor>>
      stored(data->data(), rows, cols);
  Matrix w = stored.cast<double>();
  if (layer.op.getLayout() == WeightLayout::in_out)
    w.transposeInPlace();
  return w;
}

/// The smallest rank that keeps `fraction` of the squared singular values.
static int64_t rankForEnergy(const Vector &sigma, double fraction) {
  double total = sigma.squaredNorm(), kept = 0;
  for (int64_t r = 0; r < sigma.size(); ++r) {
    kept += sigma[r] * sigma[r];
    if (kept >= fraction * total * (1 - 1e-12))
      return r + 1;
  }
  return sigma.size();
}

/// Relative output error of the weight error `e` (N x K) under the input
/// Gram matrix `g`: sqrt(tr(E G E^T) / tr(W G W^T)).
static double outputError(const Matrix &e, const Matrix &w, const Matrix &g) {
  double num = (e * g).cwiseProduct(e).sum();
  double den = (w * g).cwiseProduct(w).sum();
  return den > 0 ? std::sqrt(std::max(num, 0.0) / den) : 0.0;
}

/// The singular values of a matrix A (N x K), descending, and its singular
/// vectors on the smaller side, from the eigendecomposition of the smaller
/// Gram matrix (A^T A or A A^T) in double precision: several times faster
/// than a bidiagonal SVD at the sizes of transformer weights, and accurate
/// to about 1e-8 of the largest singular value, far below fp32 storage.
struct Spectrum {
  Vector sigma;
  /// K x min(N, K) right singular vectors when K <= N, else N x N left ones.
  Matrix basis;
  bool right = true;
};

static Spectrum spectrum(const Matrix &a, bool vectors) {
  Spectrum result;
  result.right = a.cols() <= a.rows();
  int64_t m = std::min(a.rows(), a.cols());
  Matrix gram = Matrix::Zero(m, m);
  if (result.right)
    gram.selfadjointView<Eigen::Lower>().rankUpdate(a.transpose());
  else
    gram.selfadjointView<Eigen::Lower>().rankUpdate(a);
  Eigen::SelfAdjointEigenSolver<Matrix> eig(
      gram, vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  // Ascending eigenvalues: reverse them, and their vectors.
  result.sigma = eig.eigenvalues().reverse().cwiseMax(0.0).cwiseSqrt();
  if (vectors)
    result.basis = eig.eigenvectors().rowwise().reverse();
  return result;
}

/// Splits the rank-r truncation of `a` (= W, or W S) into U (N x R) and
/// V (R x K) with W ~ U V, the singular values shared as square roots;
/// `whitener` (S, lower triangular) is undone on V when given. With right
/// singular vectors V_r, U = A V_r s^-1/2 and V = s^1/2 V_r^T, so that
/// U V = A V_r V_r^T, the projection of A on its top-r subspace.
static void factorsAtRank(const Matrix &a, const Spectrum &spec, int64_t r,
                          const Matrix *whitener, Matrix &u, Matrix &v) {
  Vector root(r), inverseRoot(r);
  for (int64_t i = 0; i < r; ++i) {
    root[i] = std::sqrt(spec.sigma[i]);
    inverseRoot[i] = spec.sigma[i] > 1e-300 ? 1.0 / root[i] : 0.0;
  }
  Matrix basis = spec.basis.leftCols(r);
  Matrix vt; // K x R
  if (spec.right) {
    u = a * basis * inverseRoot.asDiagonal();
    vt = basis * root.asDiagonal();
  } else {
    u = basis * root.asDiagonal();
    vt = a.transpose() * basis * inverseRoot.asDiagonal();
  }
  if (whitener)
    // V = V_a S^-1, i.e. V^T = S^-T V_a^T.
    vt = whitener->transpose().triangularView<Eigen::Upper>().solve(vt);
  v = vt.transpose();
}

/// Allocates ranks under a budget of `budget` weights in all: starting from
/// rank 1, repeatedly gives one more rank to the layer whose next singular
/// value removes the most relative squared error per added weight. A layer
/// past its largest saving rank may instead go back to dense (rank
/// min(N, K), every weight) when the budget allows.
static void allocateRanks(MutableArrayRef<Layer> layers, double budget,
                          bool force) {
  struct Step {
    double gain;
    size_t layer;
    bool operator<(const Step &other) const { return gain < other.gain; }
  };
  std::priority_queue<Step> queue;
  double used = 0;
  auto limit = [&](const Layer &l) {
    return force ? std::min(l.n, l.k) : std::max<int64_t>(1, l.maxSavingRank());
  };
  auto relative = [](const Layer &l, int64_t index) {
    double total = l.sigma.squaredNorm();
    return total > 0 ? l.sigma[index] * l.sigma[index] / total : 0.0;
  };
  auto push = [&](size_t i) {
    Layer &l = layers[i];
    if (l.rank < limit(l)) {
      queue.push({relative(l, l.rank) / double(l.n + l.k), i});
    } else if (!force && l.rank < std::min(l.n, l.k)) {
      // Dense: the remaining error for the remaining weights.
      double rest = 0;
      for (int64_t j = l.rank; j < l.sigma.size(); ++j)
        rest += relative(l, j);
      double cost = double(l.n * l.k - l.rank * (l.n + l.k));
      queue.push({rest / std::max(cost, 1.0), i});
    }
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].rank = 1;
    used += layers[i].n + layers[i].k;
  }
  for (size_t i = 0; i < layers.size(); ++i)
    push(i);
  while (!queue.empty()) {
    Step step = queue.top();
    queue.pop();
    Layer &l = layers[step.layer];
    bool toDense = l.rank >= limit(l);
    double cost =
        toDense ? double(l.n * l.k - l.rank * (l.n + l.k)) : double(l.n + l.k);
    if (used + cost > budget)
      continue;
    used += cost;
    l.rank = toDense ? std::min(l.n, l.k) : l.rank + 1;
    push(step.layer);
  }
}

struct TfmLowRankPass : public tfm::impl::TfmLowRankBase<TfmLowRankPass> {
  using Base::Base;

  void runOnOperation() override;

  /// Evaluates the model on the calibration input and stores each layer's
  /// input Gram matrix and its whitener. Random calibration ids number
  /// `calibration-tokens`, at most the model's positions, or exactly the
  /// length that Linformer projections expect.
  LogicalResult calibrate(MutableArrayRef<Layer> layers, ParamValues &values);
};

LogicalResult TfmLowRankPass::calibrate(MutableArrayRef<Layer> layers,
                                        ParamValues &values) {
  ModuleOp module = getOperation();
  func::FuncOp forward;
  int64_t vocab = 0;
  module.walk([&](func::FuncOp func) {
    if (!forward && !func.isExternal())
      forward = func;
  });
  if (!forward)
    return module.emitError("tfm-low-rank: activation-aware mode needs a "
                            "forward function to calibrate on");
  forward.walk([&](EmbeddingOp op) {
    if (!vocab)
      vocab = cast<RankedTensorType>(op.getTable().getType()).getDimSize(0);
  });
  if (!vocab)
    return module.emitError("tfm-low-rank: activation-aware mode needs a "
                            "model with a token embedding");
  // Random calibration ids stay within the model's positions.
  int64_t tokens = calibrationTokens;
  if (auto maxPositions =
          forward->getAttrOfType<IntegerAttr>("tfm.max_positions"))
    tokens = std::min<int64_t>(tokens, maxPositions.getInt());
  // Linformer projections fix the sequence length.
  forward.walk([&](LinformerAttentionOp op) {
    tokens =
        cast<RankedTensorType>(op.getKeyProjection().getType()).getDimSize(1);
  });
  if (tokens < 1)
    return module.emitError("tfm-low-rank: calibration-tokens must be "
                            "positive");
  FailureOr<std::vector<int64_t>> ids =
      readCalibrationIds(module, "tfm-low-rank", calibration, tokens,
                         calibrationSeed, vocab);
  if (failed(ids))
    return failure();

  llvm::DenseMap<Operation *, Layer *> byOp;
  for (Layer &layer : layers) {
    byOp[layer.op] = &layer;
    layer.gram = Matrix::Zero(layer.k, layer.k);
  }
  auto collect = [&](LinearOp op, const EvalTensor &input) {
    Layer *layer = byOp.lookup(op);
    if (!layer)
      return;
    int64_t k = input.shape.back(), rows = input.getNumElements() / k;
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                   Eigen::RowMajor>>
        x(input.data.data(), rows, k);
    Matrix xd = x.cast<double>();
    layer->gram.selfadjointView<Eigen::Lower>().rankUpdate(xd.transpose());
  };
  FailureOr<SmallVector<EvalTensor>> results =
      evaluateForward(forward, *ids, values, collect);
  if (failed(results))
    return failure();
  // The evaluation read every parameter; keep none of them.
  values.clear();
  for (Layer &layer : layers) {
    layer.gram = layer.gram.selfadjointView<Eigen::Lower>();
    // Damping keeps the Cholesky factor defined when the calibration input
    // spans fewer than K directions; it cannot make the factors worse than
    // plain SVD on the calibration input (docs/LowRank.md).
    double mean = layer.gram.diagonal().mean();
    double eps = 1e-6 * (mean > 0 ? mean : 1.0);
    Matrix damped = layer.gram;
    damped.diagonal().array() += eps;
    Eigen::LLT<Matrix> llt(damped);
    if (llt.info() != Eigen::Success)
      return layer.op.emitError("tfm-low-rank: the input Gram matrix of this "
                                "layer is not positive definite");
    layer.whitener = llt.matrixL();
  }
  return success();
}

void TfmLowRankPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  std::string error;
  FailureOr<RankSpec> spec = parseRankSpec(scheme, error);
  if (failed(spec)) {
    module.emitError("tfm-low-rank: ") << error;
    return signalPassFailure();
  }
  if (!activationAware && !calibration.empty()) {
    module.emitError("tfm-low-rank: a calibration input ('")
        << calibration << "') is only used with activation-aware=true";
    return signalPassFailure();
  }
  if (spec->kind == RankSpec::Kind::None)
    return;

  // The candidates: fp32 linear layers on a parameter, not quantized or
  // pruned.
  SmallVector<Layer> layers;
  module.walk([&](LinearOp op) {
    auto param = op.getWeight().getDefiningOp<ParamOp>();
    if (!param || param.getQuant() || param.getPrune() || op.getQuant() ||
        op.getPrune() ||
        !cast<RankedTensorType>(param.getType()).getElementType().isF32())
      return;
    Layer layer;
    layer.op = op;
    layer.param = param;
    layer.n = op.getOutFeatures();
    layer.k = op.getInFeatures();
    layer.shared = !param->hasOneUse();
    layers.push_back(std::move(layer));
  });
  if (!force) {
    // A weight with other users stays, so its factors only add bytes.
    llvm::erase_if(layers, [&](Layer &layer) {
      if (!layer.shared)
        return false;
      layer.op.emitRemark("left dense: its weight '")
          << layer.param.getName()
          << "' has other users, so factors would add bytes";
      return true;
    });
  }

  ParamValues values(module, weightsBaseDir);
  if (activationAware && failed(calibrate(layers, values)))
    return signalPassFailure();

  // Ranks. Budgets need every spectrum first (singular values only).
  if (spec->kind == RankSpec::Kind::Params) {
    double total = 0;
    for (Layer &layer : layers) {
      FailureOr<Matrix> w = readWeight(values, layer);
      if (failed(w))
        return signalPassFailure();
      Matrix a = activationAware ? Matrix(*w * layer.whitener) : *w;
      layer.sigma = spectrum(a, /*vectors=*/false).sigma;
      values.drop(layer.param.getName());
      total += double(layer.n * layer.k);
    }
    allocateRanks(layers, spec->fraction * total, force);
  }

  IRRewriter rewriter(ctx);
  Builder b(ctx);
  SmallVector<Attribute> records;
  int64_t count = 0, before = 0, after = 0;
  llvm::SetVector<Operation *> touched;
  for (Layer &layer : layers) {
    int64_t n = layer.n, k = layer.k, full = std::min(n, k);
    FailureOr<Matrix> w = readWeight(values, layer);
    if (failed(w))
      return signalPassFailure();
    Matrix a = activationAware ? Matrix(*w * layer.whitener) : *w;
    Spectrum svd = spectrum(a, /*vectors=*/true);
    switch (spec->kind) {
    case RankSpec::Kind::Rank:
      layer.rank = std::min(spec->rank, full);
      break;
    case RankSpec::Kind::Energy:
      layer.rank = rankForEnergy(svd.sigma, spec->fraction);
      break;
    case RankSpec::Kind::Params:
    case RankSpec::Kind::None:
      break;
    }
    int64_t r = layer.rank;
    if (!force && r * (n + k) >= n * k) {
      layer.op.emitRemark("left dense: rank ")
          << r << " of a " << n << " x " << k << " weight keeps " << r * (n + k)
          << " weights, not fewer than " << n * k;
      values.drop(layer.param.getName());
      layer.gram = Matrix();
      layer.whitener = Matrix();
      continue;
    }

    Matrix u, v;
    factorsAtRank(a, svd, r, activationAware ? &layer.whitener : nullptr, u, v);
    // The factors as stored (fp32), and their own errors.
    Eigen::MatrixXf uf = u.cast<float>(), vf = v.cast<float>();
    Matrix approx = uf.cast<double>() * vf.cast<double>();
    double norm = w->norm();
    double relError = norm > 0 ? (*w - approx).norm() / norm : 0.0;
    SmallVector<NamedAttribute> record = {
        b.getNamedAttr("name", b.getStringAttr(layer.param.getName())),
        b.getNamedAttr("shape", b.getI64ArrayAttr({n, k})),
        b.getNamedAttr("rank", b.getI64IntegerAttr(r)),
        b.getNamedAttr("bytes_before", b.getI64IntegerAttr(n * k * 4)),
        b.getNamedAttr("bytes_after", b.getI64IntegerAttr(r * (n + k) * 4)),
        b.getNamedAttr("rel_error", b.getF64FloatAttr(relError)),
    };
    if (activationAware) {
      // The plain SVD at the same rank, on the same calibration input.
      Matrix pu, pv;
      factorsAtRank(*w, spectrum(*w, /*vectors=*/true), r, nullptr, pu, pv);
      Matrix plainApprox =
          pu.cast<float>().cast<double>() * pv.cast<float>().cast<double>();
      record.push_back(b.getNamedAttr(
          "output_error",
          b.getF64FloatAttr(outputError(*w - approx, *w, layer.gram))));
      record.push_back(b.getNamedAttr(
          "output_error_plain",
          b.getF64FloatAttr(outputError(*w - plainApprox, *w, layer.gram))));
      record.push_back(b.getNamedAttr(
          "rel_error_plain",
          b.getF64FloatAttr(norm > 0 ? (*w - plainApprox).norm() / norm
                                     : 0.0)));
    }
    records.push_back(b.getDictionaryAttr(record));
    values.drop(layer.param.getName());
    layer.gram = Matrix();
    layer.whitener = Matrix();

    // The factors as inline parameters and the two linear layers.
    LinearOp op = layer.op;
    ParamOp param = layer.param;
    rewriter.setInsertionPoint(op);
    auto factor = [&](StringRef part, const Eigen::MatrixXf &m) -> Value {
      // Eigen is column-major: store the row-major transpose's data.
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>
          rowMajor = m;
      auto type =
          RankedTensorType::get({m.rows(), m.cols()}, rewriter.getF32Type());
      std::string name = (param.getName() + ":lowrank:" + part).str();
      ArrayRef<char> bytes(reinterpret_cast<const char *>(rowMajor.data()),
                           rowMajor.size() * sizeof(float));
      auto value = DenseResourceElementsAttr::get(
          type, name,
          HeapAsmResourceBlob::allocateAndCopyWithAlign(
              bytes, alignof(float), /*dataIsMutable=*/false));
      return ParamOp::create(rewriter, param.getLoc(), type,
                             rewriter.getStringAttr(name), value,
                             /*source=*/nullptr, /*quant=*/nullptr,
                             /*prune=*/nullptr, /*part=*/nullptr,
                             /*source_layout=*/nullptr);
    };
    Value second = factor("v", vf);
    Value first = factor("u", uf);
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<int64_t> midShape(inputType.getShape());
    midShape.back() = r;
    auto midType = RankedTensorType::get(midShape, inputType.getElementType());
    auto outLayout = WeightLayoutAttr::get(ctx, WeightLayout::out_in);
    auto inner = LinearOp::create(rewriter, op.getLoc(), midType, op.getInput(),
                                  second, /*bias=*/Value(), outLayout,
                                  QuantSchemeAttr(), PruneSchemeAttr());
    auto outer = LinearOp::create(rewriter, op.getLoc(), op.getType(), inner,
                                  first, op.getBias(), outLayout,
                                  QuantSchemeAttr(), PruneSchemeAttr());
    rewriter.replaceOp(op, outer.getResult());
    ++count;
    after += r * (n + k) * 4;
    // A weight's bytes are saved once its last user is factorized.
    if (touched.insert(param))
      before += n * k * 4;
    if (param->use_empty()) {
      touched.remove(param);
      rewriter.eraseOp(param);
    }
  }
  // Weights that other users keep stay in the model.
  for (Operation *param : touched)
    if (!param->use_empty())
      after += cast<ParamOp>(param).getType().getNumElements() * 4;

  appendTransformRecord(
      module,
      {
          b.getNamedAttr("pass", b.getStringAttr("tfm-low-rank")),
          b.getNamedAttr("scheme", b.getStringAttr(scheme)),
          b.getNamedAttr("activation_aware", b.getBoolAttr(activationAware)),
          b.getNamedAttr("linear_layers", b.getI64IntegerAttr(count)),
          b.getNamedAttr("weight_bytes_before", b.getI64IntegerAttr(before)),
          b.getNamedAttr("weight_bytes_after", b.getI64IntegerAttr(after)),
          b.getNamedAttr("layers", b.getArrayAttr(records)),
      });
}

} // namespace
