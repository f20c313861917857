//===- Evaluator.cpp - Reference evaluator of tfm models --------*- C++ -*-===//
//
// This file implements TMC's reference evaluator: each tfm op evaluated as
// its definition in TfmOps.td says, on dense fp32 tensors, with Eigen for the
// matrix products. It is written for clarity, not speed, and checks the
// run-time shapes it meets.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Analysis/Evaluator.h"

#include "tmc/Dialect/Tfm/Analysis/ParamValues.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "tmc-rt/Npy.h"

#include "llvm/ADT/TypeSwitch.h"

#include <Eigen/Core>

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
using namespace mlir::tfm;

int64_t EvalTensor::getNumElements() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

namespace {

using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Evaluates the ops of one function body (and of the layers in it).
class Evaluator {
public:
  Evaluator(ParamValues &params, LinearInputCallback onLinearInput)
      : params(params), onLinearInput(onLinearInput) {}

  /// Evaluates the ops of `block` with its arguments bound to `args`;
  /// returns the operands of its terminator.
  FailureOr<SmallVector<EvalTensor>> run(Block &block,
                                         ArrayRef<EvalTensor> args);

private:
  LogicalResult eval(Operation *op);
  const EvalTensor &get(Value v) { return env.find(v)->second; }
  void set(Value v, EvalTensor t) { env[v] = std::move(t); }

  /// The values of the parameter `v`, or a diagnostic at `user`.
  FailureOr<ArrayRef<float>> param(Value v, Operation *user) {
    auto op = v.getDefiningOp<ParamOp>();
    if (!op)
      return user->emitError("evaluator: operand is not a tfm.param");
    return params.read(op);
  }

  LogicalResult evalLinear(LinearOp op);
  LogicalResult evalAttention(AttentionOp op);
  LogicalResult evalLinformer(LinformerAttentionOp op);
  LogicalResult evalRope(RotaryOp op);

  ParamValues &params;
  LinearInputCallback onLinearInput;
  llvm::DenseMap<Value, EvalTensor> env;
};

/// A tensor of `shape` filled with zeros.
static EvalTensor zeros(ArrayRef<int64_t> shape) {
  EvalTensor t;
  t.shape.assign(shape.begin(), shape.end());
  t.data.assign(t.getNumElements(), 0.0f);
  return t;
}

static double activate(ActivationKind kind, double x) {
  switch (kind) {
  case ActivationKind::gelu_erf:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case ActivationKind::gelu_tanh:
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case ActivationKind::relu:
    return x > 0 ? x : 0.0;
  case ActivationKind::silu:
    return x / (1.0 + std::exp(-x));
  }
  return x;
}

FailureOr<SmallVector<EvalTensor>> Evaluator::run(Block &block,
                                                  ArrayRef<EvalTensor> args) {
  for (auto [arg, value] : llvm::zip(block.getArguments(), args))
    set(arg, value);
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      SmallVector<EvalTensor> results;
      for (Value v : op.getOperands())
        results.push_back(get(v));
      return results;
    }
    if (failed(eval(&op)))
      return failure();
  }
  return block.getParentOp()->emitError("evaluator: block without terminator");
}

LogicalResult Evaluator::evalLinear(LinearOp op) {
  const EvalTensor &x = get(op.getInput());
  FailureOr<ArrayRef<float>> w = param(op.getWeight(), op);
  if (failed(w))
    return failure();
  int64_t n = op.getOutFeatures(), k = op.getInFeatures();
  if (x.shape.back() != k)
    return op.emitError("evaluator: input has ")
           << x.shape.back() << " features, expected " << k;
  if (onLinearInput)
    onLinearInput(op, x);
  int64_t rows = x.getNumElements() / k;
  SmallVector<int64_t> shape(x.shape);
  shape.back() = n;
  EvalTensor y = zeros(shape);
  Eigen::Map<const RowMatrix> xm(x.data.data(), rows, k);
  Eigen::Map<RowMatrix> ym(y.data.data(), rows, n);
  if (op.getLayout() == WeightLayout::in_out)
    ym.noalias() = xm * Eigen::Map<const RowMatrix>(w->data(), k, n);
  else
    ym.noalias() =
        xm * Eigen::Map<const RowMatrix>(w->data(), n, k).transpose();
  if (Value bias = op.getBias()) {
    FailureOr<ArrayRef<float>> b = param(bias, op);
    if (failed(b))
      return failure();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j)
        ym(r, j) += (*b)[j];
  }
  set(op.getResult(), std::move(y));
  return success();
}

/// Softmax attention of `q` over `k` and `v` (grouped-query heads), causal
/// when asked, as tfm.attention defines it.
static EvalTensor attend(const EvalTensor &q, const EvalTensor &k,
                         const EvalTensor &v, int64_t heads, int64_t kvHeads,
                         double scale, bool causal) {
  int64_t dh = q.shape[2] / heads, batch = q.shape[0];
  int64_t sq = q.shape[1], sk = k.shape[1];
  int64_t group = heads / kvHeads;
  EvalTensor out = zeros(q.shape);
  std::vector<double> scores(sk);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t kh = h / group;
      for (int64_t i = 0; i < sq; ++i) {
        const float *qi = &q.data[((b * sq + i) * heads + h) * dh];
        int64_t last = causal ? std::min(sk - 1, i + (sk - sq)) : sk - 1;
        double max = -INFINITY;
        for (int64_t j = 0; j <= last; ++j) {
          const float *kj = &k.data[((b * sk + j) * kvHeads + kh) * dh];
          double s = 0;
          for (int64_t d = 0; d < dh; ++d)
            s += double(qi[d]) * kj[d];
          scores[j] = s * scale;
          max = std::max(max, scores[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j <= last; ++j)
          sum += scores[j] = std::exp(scores[j] - max);
        float *oi = &out.data[((b * sq + i) * heads + h) * dh];
        for (int64_t d = 0; d < dh; ++d) {
          double acc = 0;
          for (int64_t j = 0; j <= last; ++j)
            acc += scores[j] * v.data[((b * sk + j) * kvHeads + kh) * dh + d];
          oi[d] = acc / sum;
        }
      }
    }
  return out;
}

LogicalResult Evaluator::evalAttention(AttentionOp op) {
  if (op.getSparsity())
    return op.emitError("evaluator: sparse attention patterns are not "
                        "evaluated");
  set(op.getResult(),
      attend(get(op.getQuery()), get(op.getKey()), get(op.getValue()),
             op.getNumHeads(), op.getNumKvHeads(), op.getScaleOrDefault(),
             op.getCausal()));
  return success();
}

LogicalResult Evaluator::evalLinformer(LinformerAttentionOp op) {
  FailureOr<ArrayRef<float>> e = param(op.getKeyProjection(), op);
  FailureOr<ArrayRef<float>> f = param(op.getValueProjection(), op);
  if (failed(e) || failed(f))
    return failure();
  const EvalTensor &k = get(op.getKey()), &v = get(op.getValue());
  auto type = cast<RankedTensorType>(op.getKeyProjection().getType());
  int64_t proj = type.getDimSize(0), n = type.getDimSize(1);
  if (k.shape[1] != n)
    return op.emitError("evaluator: ")
           << k.shape[1] << " keys, the projections expect " << n;
  // K' = E K and V' = F V, batch by batch.
  auto project = [&](ArrayRef<float> p, const EvalTensor &x) {
    int64_t features = x.shape[2];
    EvalTensor y = zeros({x.shape[0], proj, features});
    Eigen::Map<const RowMatrix> pm(p.data(), proj, n);
    for (int64_t b = 0; b < x.shape[0]; ++b)
      Eigen::Map<RowMatrix>(&y.data[b * proj * features], proj, features)
          .noalias() = pm * Eigen::Map<const RowMatrix>(
                                &x.data[b * n * features], n, features);
    return y;
  };
  set(op.getResult(),
      attend(get(op.getQuery()), project(*e, k), project(*f, v),
             op.getNumHeads(), op.getNumKvHeads(), op.getScaleOrDefault(),
             /*causal=*/false));
  return success();
}

LogicalResult Evaluator::evalRope(RotaryOp op) {
  const EvalTensor &x = get(op.getInput());
  int64_t dh = op.getHeadDim(), half = dh / 2;
  int64_t batch = x.shape[0], seq = x.shape[1], width = x.shape[2];
  EvalTensor y = x;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < seq; ++s)
      for (int64_t h = 0; h < width / dh; ++h) {
        const float *in = &x.data[(b * seq + s) * width + h * dh];
        float *out = &y.data[(b * seq + s) * width + h * dh];
        double p = double(op.getOffset() + s);
        for (int64_t i = 0; i < half; ++i) {
          double angle =
              p * std::pow(op.getTheta().convertToDouble(), -2.0 * i / dh);
          double c = std::cos(angle), sn = std::sin(angle);
          out[i] = in[i] * c - in[i + half] * sn;
          out[i + half] = in[i + half] * c + in[i] * sn;
        }
      }
  set(op.getResult(), std::move(y));
  return success();
}

LogicalResult Evaluator::eval(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ParamOp) { return success(); })
      .Case([&](PositionsOp pos) {
        const EvalTensor &ids = get(pos.getIds());
        EvalTensor t;
        t.shape = ids.shape;
        t.ids.resize(ids.ids.size());
        int64_t seq = ids.shape[1];
        for (size_t i = 0; i < t.ids.size(); ++i)
          t.ids[i] = pos.getOffset() + pos.getStride() * int64_t(i % seq);
        set(pos.getResult(), std::move(t));
        return success();
      })
      .Case([&](EmbeddingOp emb) -> LogicalResult {
        FailureOr<ArrayRef<float>> table = param(emb.getTable(), emb);
        if (failed(table))
          return failure();
        auto type = cast<RankedTensorType>(emb.getTable().getType());
        int64_t vocab = type.getDimSize(0), dim = type.getDimSize(1);
        const EvalTensor &ids = get(emb.getIds());
        SmallVector<int64_t> shape(ids.shape);
        shape.push_back(dim);
        EvalTensor t = zeros(shape);
        for (size_t i = 0; i < ids.ids.size(); ++i) {
          int64_t id = ids.ids[i];
          if (id < 0 || id >= vocab)
            return emb.emitError("evaluator: id ")
                   << id << " outside the table's " << vocab << " rows";
          std::copy_n(&(*table)[id * dim], dim, &t.data[i * dim]);
        }
        set(emb.getResult(), std::move(t));
        return success();
      })
      .Case([&](LinearOp linear) { return evalLinear(linear); })
      .Case([&](LayerNormOp norm) -> LogicalResult {
        FailureOr<ArrayRef<float>> g = param(norm.getGamma(), norm);
        FailureOr<ArrayRef<float>> bt = param(norm.getBeta(), norm);
        if (failed(g) || failed(bt))
          return failure();
        EvalTensor y = get(norm.getInput());
        int64_t d = y.shape.back();
        for (int64_t r = 0, e = y.getNumElements() / d; r < e; ++r) {
          float *row = &y.data[r * d];
          double mu = 0, var = 0;
          for (int64_t i = 0; i < d; ++i)
            mu += row[i];
          mu /= d;
          for (int64_t i = 0; i < d; ++i)
            var += (row[i] - mu) * (row[i] - mu);
          double inv =
              1.0 / std::sqrt(var / d + norm.getEpsilon().convertToDouble());
          for (int64_t i = 0; i < d; ++i)
            row[i] = (row[i] - mu) * inv * (*g)[i] + (*bt)[i];
        }
        set(norm.getResult(), std::move(y));
        return success();
      })
      .Case([&](RMSNormOp norm) -> LogicalResult {
        FailureOr<ArrayRef<float>> g = param(norm.getGamma(), norm);
        if (failed(g))
          return failure();
        EvalTensor y = get(norm.getInput());
        int64_t d = y.shape.back();
        for (int64_t r = 0, e = y.getNumElements() / d; r < e; ++r) {
          float *row = &y.data[r * d];
          double ms = 0;
          for (int64_t i = 0; i < d; ++i)
            ms += double(row[i]) * row[i];
          double inv =
              1.0 / std::sqrt(ms / d + norm.getEpsilon().convertToDouble());
          for (int64_t i = 0; i < d; ++i)
            row[i] = row[i] * inv * (*g)[i];
        }
        set(norm.getResult(), std::move(y));
        return success();
      })
      .Case([&](RotaryOp rope) { return evalRope(rope); })
      .Case([&](AttentionOp attn) { return evalAttention(attn); })
      .Case([&](LinformerAttentionOp attn) { return evalLinformer(attn); })
      .Case([&](ActivationOp act) {
        EvalTensor y = get(act.getInput());
        for (float &x : y.data)
          x = activate(act.getKind(), x);
        set(act.getResult(), std::move(y));
        return success();
      })
      .Case([&](GatedActivationOp act) {
        EvalTensor y = get(act.getGate());
        const EvalTensor &up = get(act.getUp());
        for (size_t i = 0; i < y.data.size(); ++i)
          y.data[i] = activate(act.getKind(), y.data[i]) * up.data[i];
        set(act.getResult(), std::move(y));
        return success();
      })
      .Case([&](AddOp add) {
        EvalTensor y = get(add.getLhs());
        const EvalTensor &rhs = get(add.getRhs());
        for (size_t i = 0; i < y.data.size(); ++i)
          y.data[i] += rhs.data[i];
        set(add.getResult(), std::move(y));
        return success();
      })
      .Case([&](SplitOp split) {
        const EvalTensor &x = get(split.getInput());
        int64_t d = x.shape.back(), rows = x.getNumElements() / d, start = 0;
        for (auto [result, size] :
             llvm::zip(split.getResults(), split.getSizes())) {
          SmallVector<int64_t> shape(x.shape);
          shape.back() = size;
          EvalTensor part = zeros(shape);
          for (int64_t r = 0; r < rows; ++r)
            std::copy_n(&x.data[r * d + start], size, &part.data[r * size]);
          set(result, std::move(part));
          start += size;
        }
        return success();
      })
      .Case([&](LayerOp layer) -> LogicalResult {
        SmallVector<EvalTensor> inputs;
        for (Value v : layer.getInputs())
          inputs.push_back(get(v));
        FailureOr<SmallVector<EvalTensor>> results =
            run(layer.getBody().front(), inputs);
        if (failed(results))
          return failure();
        for (auto [result, value] : llvm::zip(layer.getResults(), *results))
          set(result, std::move(value));
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitError("evaluator: '")
               << other->getName() << "' is not evaluated";
      });
}

} // namespace

FailureOr<SmallVector<EvalTensor>>
mlir::tfm::evaluateForward(func::FuncOp func, ArrayRef<int64_t> ids,
                           ParamValues &params,
                           LinearInputCallback onLinearInput) {
  if (func.getNumArguments() != 1 ||
      !cast<ShapedType>(func.getArgument(0).getType())
           .getElementType()
           .isInteger(64))
    return func.emitError("evaluator: expected one int64 token-id argument");
  EvalTensor input;
  input.shape = {1, static_cast<int64_t>(ids.size())};
  input.ids.assign(ids.begin(), ids.end());
  Evaluator evaluator(params, onLinearInput);
  return evaluator.run(func.getBody().front(), {input});
}

FailureOr<std::vector<int64_t>>
mlir::tfm::readCalibrationIds(Operation *where, StringRef pass, StringRef path,
                              int64_t tokens, int64_t seed, int64_t vocab) {
  if (path.empty()) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int64_t> dist(0, vocab - 1);
    std::vector<int64_t> ids(tokens);
    for (int64_t &id : ids)
      id = dist(rng);
    return ids;
  }
  ::tmc::rt::NpyArray array;
  std::string error;
  if (!::tmc::rt::readNpy(path.str(), array, error))
    return where->emitError(pass) << ": calibration input: " << error;
  if (array.getType() != ::tmc::rt::NpyType::I64 ||
      array.getShape().size() != 2 || array.getShape()[0] != 1 ||
      array.getShape()[1] < 1)
    return where->emitError(pass)
           << ": calibration input '" << path
           << "' must hold int64 token ids of shape [1, S]";
  std::vector<int64_t> ids(array.getShape()[1]);
  std::memcpy(ids.data(), array.getData(), ids.size() * sizeof(int64_t));
  for (int64_t id : ids)
    if (id < 0 || id >= vocab)
      return where->emitError(pass)
             << ": calibration input '" << path << "' holds token id " << id
             << " outside [0, " << vocab << ")";
  return ids;
}
