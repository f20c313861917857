//===- Autodiff.cpp - Training steps by reverse-mode differentiation -----===//
//
// This file implements `tfm-autodiff`: the forward function becomes a
// training step that returns the loss and the gradient of every parameter.
// Backward ops are tfm ops (tfm.linear_weight_grad, tfm.attention_grad, ...)
// so that later passes (rematerialization, buffer planning) see them with
// their meaning, and lower them like any other op.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMAUTODIFF
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

/// A zero tensor of `type` (the gradient of a value nothing reached).
static Value zerosOf(OpBuilder &b, Location loc, RankedTensorType type) {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

namespace {

/// The reverse pass over one function: gradients of values and parameters.
class GradientBuilder {
public:
  explicit GradientBuilder(OpBuilder &builder) : b(builder) {}

  /// Adds `grad` to the gradient of `value`, which must be active.
  void accumulate(Value value, Value grad, Operation *from) {
    if (!grad || !active.contains(value))
      return;
    if (auto param = value.getDefiningOp<ParamOp>()) {
      Value &slot = paramGrads[param.getName()];
      slot = slot ? sum(slot, grad, from) : grad;
      return;
    }
    Value &slot = grads[value];
    slot = slot ? sum(slot, grad, from) : grad;
  }

  /// Emits the backward ops of `op` given the gradients of its results.
  LogicalResult differentiate(Operation *op);

  /// Forward values that depend on a parameter.
  llvm::DenseSet<Value> active;
  /// Gradients of activations.
  llvm::DenseMap<Value, Value> grads;
  /// Gradients of parameters, by name.
  llvm::StringMap<Value> paramGrads;

private:
  /// Creates an op that belongs to `from`'s layer.
  template <typename OpT, typename... Args>
  OpT create(Operation *from, Args &&...args) {
    auto op = OpT::create(b, from->getLoc(), std::forward<Args>(args)...);
    inheritLayer(op, from);
    return op;
  }

  /// Puts `op` in `from`'s layer.
  static void inheritLayer(Operation *op, Operation *from) {
    if (Attribute layer = from->getAttr(kLayerIndexAttrName))
      op->setAttr(kLayerIndexAttrName, layer);
  }

  Value sum(Value a, Value c, Operation *from) {
    return create<AddOp>(from, a, c);
  }

  /// The gradient of `value`, or zeros when nothing reached it.
  Value gradOrZero(Value value, Operation *from) {
    if (Value grad = grads.lookup(value))
      return grad;
    Value zeros =
        zerosOf(b, from->getLoc(), cast<RankedTensorType>(value.getType()));
    inheritLayer(zeros.getDefiningOp(), from);
    return zeros;
  }

  OpBuilder &b;
};

LogicalResult GradientBuilder::differentiate(Operation *op) {
  // Ops none of whose results reached the loss need no backward.
  if (llvm::none_of(op->getResults(),
                    [&](Value r) { return grads.contains(r); }))
    return success();
  auto dy = [&]() { return grads.lookup(op->getResult(0)); };

  if (auto add = dyn_cast<AddOp>(op)) {
    accumulate(add.getLhs(), dy(), op);
    accumulate(add.getRhs(), dy(), op);
    return success();
  }
  if (auto linear = dyn_cast<LinearOp>(op)) {
    if (linear.getQuant() || linear.getPrune())
      return op->emitOpError("cannot be trained with a quantization or "
                             "pruning scheme: train first, compress after");
    Value x = linear.getInput(), w = linear.getWeight();
    WeightLayout layout = linear.getLayout();
    if (active.contains(x)) {
      // dx = dy W for [out, in] weights and dy W^T for [in, out]: a linear
      // layer that reads the same weight in the other layout.
      WeightLayout flipped = layout == WeightLayout::out_in
                                 ? WeightLayout::in_out
                                 : WeightLayout::out_in;
      Value dx = create<LinearOp>(
          op, x.getType(), dy(), w, Value(),
          WeightLayoutAttr::get(b.getContext(), flipped), QuantSchemeAttr(),
          PruneSchemeAttr());
      accumulate(x, dx, op);
    }
    Type biasType = linear.getBias() ? linear.getBias().getType() : Type();
    auto grad = create<LinearWeightGradOp>(
        op, w.getType(), biasType, x, dy(),
        WeightLayoutAttr::get(b.getContext(), layout));
    accumulate(w, grad.getWeightGrad(), op);
    if (Value bias = linear.getBias())
      accumulate(bias, grad.getBiasGrad(), op);
    return success();
  }
  if (auto norm = dyn_cast<LayerNormOp>(op)) {
    auto grad = create<LayerNormGradOp>(op, norm.getInput(), norm.getGamma(),
                                        dy(), norm.getEpsilonAttr());
    accumulate(norm.getInput(), grad.getInputGrad(), op);
    accumulate(norm.getGamma(), grad.getGammaGrad(), op);
    accumulate(norm.getBeta(), grad.getBetaGrad(), op);
    return success();
  }
  if (auto norm = dyn_cast<RMSNormOp>(op)) {
    auto grad = create<RMSNormGradOp>(op, norm.getInput(), norm.getGamma(),
                                      dy(), norm.getEpsilonAttr());
    accumulate(norm.getInput(), grad.getInputGrad(), op);
    accumulate(norm.getGamma(), grad.getGammaGrad(), op);
    return success();
  }
  if (auto act = dyn_cast<ActivationOp>(op)) {
    accumulate(act.getInput(),
               create<ActivationGradOp>(op, act.getKindAttr(), act.getInput(),
                                        dy()),
               op);
    return success();
  }
  if (auto gated = dyn_cast<GatedActivationOp>(op)) {
    auto grad = create<GatedActivationGradOp>(
        op, gated.getKindAttr(), gated.getGate(), gated.getUp(), dy());
    accumulate(gated.getGate(), grad.getGateGrad(), op);
    accumulate(gated.getUp(), grad.getUpGrad(), op);
    return success();
  }
  if (auto rope = dyn_cast<RotaryOp>(op)) {
    auto inverse = create<RotaryOp>(op, rope.getType(), dy(), rope.getStart(),
                                    rope.getHeadDimAttr(), rope.getThetaAttr(),
                                    rope.getOffsetAttr(), b.getUnitAttr());
    accumulate(rope.getInput(), inverse, op);
    return success();
  }
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    auto grad = create<AttentionGradOp>(
        op, attention.getQuery(), attention.getKey(), attention.getValue(),
        dy(), attention.getNumHeadsAttr(), attention.getNumKvHeadsAttr(),
        attention.getCausalAttr(), attention.getScaleAttr(),
        attention.getSparsityAttr());
    accumulate(attention.getQuery(), grad.getQueryGrad(), op);
    accumulate(attention.getKey(), grad.getKeyGrad(), op);
    accumulate(attention.getValue(), grad.getValueGrad(), op);
    return success();
  }
  if (auto split = dyn_cast<SplitOp>(op)) {
    SmallVector<Value> parts;
    for (Value result : split.getResults())
      parts.push_back(gradOrZero(result, op));
    accumulate(split.getInput(),
               create<ConcatOp>(op, split.getInput().getType(), parts), op);
    return success();
  }
  if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
    accumulate(embedding.getTable(),
               create<EmbeddingGradOp>(op, embedding.getTable().getType(),
                                       embedding.getIds(), dy()),
               op);
    return success();
  }
  if (isa<QuantizedLinearOp, SparseLinearOp, QuantizedEmbeddingOp>(op))
    return op->emitOpError("has no gradient: quantize or prune after "
                           "training, not before");
  if (isa<LinformerAttentionOp, CachedAttentionOp>(op))
    return op->emitOpError("has no gradient rule; train with tfm.attention");
  return op->emitOpError("has no gradient rule");
}

/// The default loss for a model whose single result is named `name`.
static LossKind defaultLoss(StringRef name) {
  return name == "logits" ? LossKind::cross_entropy : LossKind::mse;
}

struct TfmAutodiffPass
    : public tfm::impl::TfmAutodiffBase<TfmAutodiffPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("forward");
    if (!func) {
      module.emitError("tfm-autodiff needs a function named 'forward'");
      return signalPassFailure();
    }
    if (failed(run(func)))
      signalPassFailure();
  }

  LogicalResult run(func::FuncOp func);
};

LogicalResult TfmAutodiffPass::run(func::FuncOp func) {
  MLIRContext *ctx = &getContext();
  if (func.getNumResults() != 1)
    return func.emitError("a training step needs a model with one output, "
                          "'@forward' has ")
           << func.getNumResults();
  auto outType = dyn_cast<RankedTensorType>(func.getResultTypes()[0]);
  if (!outType || outType.getRank() != 3 || !outType.hasStaticShape() ||
      !outType.getElementType().isF32())
    return func.emitError("a training step needs a static f32 output "
                          "[batch, seq, features] (compile with a fixed "
                          "sequence length), got ")
           << func.getResultTypes()[0];
  auto outName = func.getResultAttrOfType<StringAttr>(0, "tfm.name");
  StringRef outputName = outName ? outName.getValue() : "";

  LossKind kind = defaultLoss(outputName);
  double temperature = 1.0;
  if (!loss.empty()) {
    auto [name, temp] = StringRef(loss).split(':');
    std::optional<LossKind> parsed = symbolizeLossKind(name);
    if (!parsed)
      return func.emitError("unknown loss '")
             << loss << "': expected cross_entropy, mse or kl_div[:T]";
    kind = *parsed;
    if (!temp.empty() &&
        (kind != LossKind::kl_div || temp.getAsDouble(temperature)))
      return func.emitError("malformed loss '")
             << loss << "': only kl_div takes a temperature, as kl_div:T";
  }
  if (kind == LossKind::cross_entropy && outputName != "logits")
    return func.emitError("cross_entropy needs a model that outputs logits; "
                          "'@forward' returns '")
           << outputName << "' (use mse, or kl_div against a teacher)";
  if (!(temperature > 0.0))
    return func.emitError("the distillation temperature must be positive");

  Block &body = func.getBody().front();
  if (!llvm::hasSingleElement(func.getBody()))
    return func.emitError("tfm-autodiff needs a single-block function");
  for (Operation &op : body)
    if (isa<LayerOp>(op))
      return op.emitError("tfm-autodiff runs after tfm-inline-layers");
  auto ret = cast<func::ReturnOp>(body.getTerminator());

  // The target argument.
  Type targetType = outType;
  StringRef targetName = kind == LossKind::cross_entropy ? "labels"
                         : kind == LossKind::mse         ? "target"
                                                         : "teacher_logits";
  if (kind == LossKind::cross_entropy)
    targetType = RankedTensorType::get(outType.getShape().drop_back(),
                                       IntegerType::get(ctx, 64));
  unsigned targetIndex = func.getNumArguments();
  if (failed(func.insertArgument(
          targetIndex, targetType,
          DictionaryAttr::get(ctx, {NamedAttribute(
                                       StringAttr::get(ctx, "tfm.name"),
                                       StringAttr::get(ctx, targetName))}),
          func.getLoc())))
    return failure();
  Value target = func.getArgument(targetIndex);

  // Which values depend on a parameter, and the parameters in order.
  OpBuilder b(ret);
  GradientBuilder grad(b);
  llvm::MapVector<StringRef, ParamOp> paramsByName;
  SmallVector<Operation *> forwardOps;
  for (Operation &op : body.without_terminator()) {
    forwardOps.push_back(&op);
    if (auto param = dyn_cast<ParamOp>(op)) {
      paramsByName.insert({param.getName(), param});
      grad.active.insert(param.getResult());
      continue;
    }
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return grad.active.contains(v); }))
      for (Value result : op.getResults())
        if (isa<FloatType>(getElementTypeOrSelf(result.getType())))
          grad.active.insert(result);
  }

  Value output = ret.getOperand(0);
  if (!grad.active.contains(output))
    return func.emitError("the model's output does not depend on any "
                          "parameter");
  Location loc = ret.getLoc();
  auto lossOp = LossOp::create(b, loc, kind, output, target, temperature);
  grad.grads[output] = LossGradOp::create(
      b, loc, output.getType(), LossKindAttr::get(ctx, kind), output, target,
      b.getF64FloatAttr(temperature));
  for (Operation *op : llvm::reverse(forwardOps))
    if (failed(grad.differentiate(op)))
      return failure();

  // Results: the loss, then one gradient per parameter.
  SmallVector<Value> results = {lossOp.getResult()};
  SmallVector<Attribute> resultAttrs = {DictionaryAttr::get(
      ctx, {NamedAttribute(StringAttr::get(ctx, "tfm.name"),
                           StringAttr::get(ctx, "loss"))})};
  for (auto &[name, param] : paramsByName) {
    Value g = grad.paramGrads.lookup(name);
    if (!g)
      g = zerosOf(b, loc, cast<RankedTensorType>(param.getType()));
    results.push_back(g);
    resultAttrs.push_back(DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, "tfm.name"),
                             StringAttr::get(ctx, "grad." + name.str()))}));
  }
  int64_t gradientBytes = 0;
  for (Value g : ArrayRef(results).drop_front()) {
    auto type = cast<RankedTensorType>(g.getType());
    gradientBytes +=
        type.getNumElements() * (type.getElementTypeBitWidth() / 8);
  }
  appendTransformRecord(
      func->getParentOfType<ModuleOp>(),
      {b.getNamedAttr("pass", b.getStringAttr("tfm-autodiff")),
       b.getNamedAttr("loss", b.getStringAttr(stringifyLossKind(kind))),
       b.getNamedAttr("temperature", b.getF64FloatAttr(temperature)),
       b.getNamedAttr("parameters",
                      b.getI64IntegerAttr(paramsByName.size())),
       b.getNamedAttr("gradient_bytes", b.getI64IntegerAttr(gradientBytes))});
  func::ReturnOp::create(b, loc, results);
  ret.erase();
  func.setType(FunctionType::get(ctx, func.getArgumentTypes(),
                                 ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  return success();
}

} // namespace
