//===- Rematerialize.cpp - Keep or recompute a training step's activations ===//
//
// This file implements `tfm-rematerialize`. The training step from
// tfm-autodiff reads forward activations in its backward ops; storing all of
// them is what makes training memory-hungry. The pass chooses, per segment
// of layers, to store the activations, to store them but recompute the
// cheap ones (norms, activation functions), or to store only the segment's
// boundary and recompute the rest just before the segment's backward. For
// a budget it picks the schedule of least recomputation by dynamic
// programming over the chain of layers.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMREMATERIALIZE
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

constexpr llvm::StringLiteral kRecomputeAttrName = "tfm.recompute";

static int64_t bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return 0;
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// Floating-point operations of one forward op (multiply-adds count two).
static int64_t flopsOf(Operation *op) {
  if (auto linear = dyn_cast<LinearOp>(op)) {
    auto in = cast<RankedTensorType>(linear.getInput().getType());
    auto out = cast<RankedTensorType>(linear.getType());
    return 2 * in.getNumElements() * out.getShape().back();
  }
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    auto q = attention.getQuery().getType();
    auto k = attention.getKey().getType();
    int64_t flops = 4 * q.getNumElements() * k.getDimSize(1);
    return attention.getCausal() ? flops / 2 : flops;
  }
  if (isa<ParamOp, SplitOp, PositionsOp>(op) || op->getNumResults() == 0)
    return 0;
  int64_t elements = 0;
  for (Value result : op->getResults())
    if (auto type = dyn_cast<RankedTensorType>(result.getType()))
      elements += type.getNumElements();
  // Norms and activation functions: a handful of operations per element.
  return isa<AddOp>(op) ? elements : 8 * elements;
}

/// Ops cheap enough to recompute inside an otherwise stored layer.
static bool isCheap(Operation *op) {
  return isa<ActivationOp, GatedActivationOp, LayerNormOp, RMSNormOp, AddOp>(
      op);
}

/// One layer of the chain as the schedule sees it.
struct Layer {
  int64_t index = 0;
  SmallVector<Operation *> forward;  // in program order, params excluded
  SmallVector<Operation *> backward; // in program order
  /// Values of this layer's forward ops read by any backward op.
  llvm::SetVector<Value> saved;
  /// Saved values that can be recomputed from other stored values.
  llvm::SetVector<Value> cheap;
  int64_t savedBytes = 0, cheapBytes = 0, cheapFlops = 0, flops = 0;
  /// Bytes of the largest value: the gradient flowing through the layer.
  int64_t largest = 0;
};

enum class Choice { Store, Selective, Recompute };

struct Segment {
  int64_t first, last; // layer positions, inclusive
  Choice choice;
};

/// The chain of layers and what storing or recomputing each costs.
struct Chain {
  SmallVector<Layer> layers;
  /// Saved bytes outside layers (embeddings, the head's activations).
  int64_t baseBytes = 0;
  /// The head's transient working set (logits and their gradient).
  int64_t headBytes = 0;
  int64_t forwardFlops = 0;

  /// Bytes a segment keeps from its forward pass to its backward.
  int64_t keptBytes(const Segment &s) const {
    if (s.choice == Choice::Store)
      return layers[s.first].savedBytes;
    if (s.choice == Choice::Selective)
      return layers[s.first].savedBytes - layers[s.first].cheapBytes;
    // Recomputed: only what later segments' backward ops read (its output).
    return boundaryBytes(s.first, s.last);
  }
  /// Saved values of layers [first, last] read by backward ops of layers
  /// outside the range.
  int64_t boundaryBytes(int64_t first, int64_t last) const;
  /// Bytes live while the segment's backward runs, beyond earlier segments.
  int64_t workingBytes(const Segment &s) const {
    int64_t bytes = 0, largest = 0;
    for (int64_t i = s.first; i <= s.last; ++i) {
      bytes += layers[i].savedBytes;
      largest = std::max(largest, layers[i].largest);
    }
    return bytes + 2 * largest;
  }
  int64_t recomputeFlops(const Segment &s) const {
    if (s.choice == Choice::Store)
      return 0;
    if (s.choice == Choice::Selective)
      return layers[s.first].cheapFlops;
    int64_t flops = 0;
    for (int64_t i = s.first; i <= s.last; ++i)
      flops += layers[i].flops;
    return flops;
  }
  /// The estimated bytes live while segment `s` runs its backward, after
  /// earlier segments kept `prefix` bytes.
  int64_t segmentPeak(int64_t prefix, const Segment &s) const {
    return baseBytes + prefix + workingBytes(s);
  }
  /// The estimated bytes live while the head runs, with `kept` bytes kept by
  /// every segment.
  int64_t headPeak(int64_t kept) const { return baseBytes + kept + headBytes; }
  /// The estimated peak of a schedule.
  int64_t peak(ArrayRef<Segment> schedule) const {
    int64_t prefix = 0, peakBytes = 0;
    for (const Segment &s : schedule) {
      peakBytes = std::max(peakBytes, segmentPeak(prefix, s));
      prefix += keptBytes(s);
    }
    return std::max(peakBytes, headPeak(prefix));
  }
  /// The schedule of least recomputation whose estimated peak fits
  /// `budget`, or failure.
  FailureOr<SmallVector<Segment>> optimal(int64_t budget) const;

  /// Which layer each saved value belongs to.
  llvm::DenseMap<Value, int64_t> owner;
  /// Layer positions whose backward ops read each saved value.
  llvm::DenseMap<Value, SmallVector<int64_t>> readers;
};

int64_t Chain::boundaryBytes(int64_t first, int64_t last) const {
  int64_t bytes = 0;
  for (int64_t i = first; i <= last; ++i)
    for (Value v : layers[i].saved) {
      auto it = readers.find(v);
      if (it == readers.end())
        continue;
      if (llvm::any_of(it->second,
                       [&](int64_t r) { return r < first || r > last; }))
        bytes += bytesOf(v);
    }
  return bytes;
}

FailureOr<SmallVector<Segment>> Chain::optimal(int64_t budget) const {
  // A Pareto front per layer boundary of (bytes kept so far, recomputed
  // flops), each with the schedule that reaches it. Kept bytes only grow
  // along the chain and each segment's constraint depends only on what
  // earlier segments keep, so extending the non-dominated states is exact.
  struct State {
    int64_t kept, flops;
    SmallVector<Segment> schedule;
  };
  int64_t n = layers.size();
  std::vector<std::vector<State>> fronts(n + 1);
  fronts[0].push_back({0, 0, {}});
  auto insert = [](std::vector<State> &front, State state) {
    for (const State &s : front)
      if (s.kept <= state.kept && s.flops <= state.flops)
        return;
    llvm::erase_if(front, [&](const State &s) {
      return state.kept <= s.kept && state.flops <= s.flops;
    });
    front.push_back(std::move(state));
  };
  for (int64_t i = 0; i < n; ++i) {
    for (const State &state : fronts[i]) {
      auto extend = [&](Segment segment) {
        if (segmentPeak(state.kept, segment) > budget)
          return;
        State next = state;
        next.kept += keptBytes(segment);
        next.flops += recomputeFlops(segment);
        next.schedule.push_back(segment);
        insert(fronts[segment.last + 1], std::move(next));
      };
      extend({i, i, Choice::Store});
      if (!layers[i].cheap.empty())
        extend({i, i, Choice::Selective});
      for (int64_t last = i; last < n; ++last)
        extend({i, last, Choice::Recompute});
    }
  }
  const State *best = nullptr;
  for (const State &state : fronts[n]) {
    if (headPeak(state.kept) > budget)
      continue;
    if (!best || state.flops < best->flops ||
        (state.flops == best->flops && state.kept < best->kept))
      best = &state;
  }
  if (!best)
    return failure();
  return best->schedule;
}

struct TfmRematerializePass
    : public tfm::impl::TfmRematerializeBase<TfmRematerializePass> {
  using Base::Base;

  void runOnOperation() override;

  /// Builds the chain of `func`, whose forward ops come before `loss`.
  Chain analyze(func::FuncOp func, LossOp loss);
  /// Rewrites the backward ops of `segment` to read recomputed values.
  void apply(const Chain &chain, const Segment &segment);
};

Chain TfmRematerializePass::analyze(func::FuncOp func, LossOp loss) {
  Chain chain;
  Block &body = func.getBody().front();
  llvm::DenseMap<int64_t, int64_t> position; // layer index -> position
  llvm::DenseSet<Operation *> backwardOps;
  bool inBackward = false;
  auto layerOf = [&](Operation *op) -> std::optional<int64_t> {
    auto attr = op->getAttrOfType<IntegerAttr>(kLayerIndexAttrName);
    if (!attr)
      return std::nullopt;
    auto it = position.find(attr.getInt());
    if (it == position.end())
      return std::nullopt;
    return it->second;
  };
  for (Operation &op : body.without_terminator()) {
    if (&op == loss.getOperation()) {
      inBackward = true;
      continue;
    }
    if (inBackward) {
      backwardOps.insert(&op);
      if (std::optional<int64_t> layer = layerOf(&op))
        chain.layers[*layer].backward.push_back(&op);
      continue;
    }
    if (isa<ParamOp>(op))
      continue;
    chain.forwardFlops += flopsOf(&op);
    auto attr = op.getAttrOfType<IntegerAttr>(kLayerIndexAttrName);
    if (!attr)
      continue;
    auto [it, inserted] =
        position.try_emplace(attr.getInt(), chain.layers.size());
    if (inserted) {
      chain.layers.emplace_back();
      chain.layers.back().index = attr.getInt();
    }
    Layer &layer = chain.layers[it->second];
    layer.forward.push_back(&op);
    layer.flops += flopsOf(&op);
    for (Value result : op.getResults())
      layer.largest = std::max(layer.largest, bytesOf(result));
  }

  // Saved values: forward results that backward ops read.
  int64_t headLargest = 0;
  for (Operation &op : body.without_terminator()) {
    if (backwardOps.contains(&op) || &op == loss.getOperation() ||
        isa<ParamOp>(op))
      continue;
    std::optional<int64_t> layer = layerOf(&op);
    for (Value result : op.getResults()) {
      SmallVector<int64_t> readers;
      bool read = false;
      for (Operation *user : result.getUsers()) {
        if (!backwardOps.contains(user))
          continue;
        read = true;
        if (std::optional<int64_t> r = layerOf(user))
          readers.push_back(*r);
        else
          readers.push_back(-1);
      }
      if (!layer) {
        headLargest = std::max(headLargest, bytesOf(result));
        if (read)
          chain.baseBytes += bytesOf(result);
        continue;
      }
      if (!read)
        continue;
      chain.layers[*layer].saved.insert(result);
      chain.layers[*layer].savedBytes += bytesOf(result);
      chain.owner[result] = *layer;
      chain.readers[result] = std::move(readers);
    }
  }
  // The head keeps the logits and their gradient at once.
  chain.headBytes = 2 * headLargest;

  // Cheap values: recomputable by one op from values that stay stored.
  for (Layer &layer : chain.layers) {
    for (Value v : layer.saved) {
      Operation *def = v.getDefiningOp();
      if (!isCheap(def) || def->getNumResults() != 1)
        continue;
      bool fromStored = llvm::all_of(def->getOperands(), [&](Value operand) {
        if (operand.getDefiningOp<ParamOp>())
          return true;
        auto it = chain.owner.find(operand);
        // Another layer's value or a value outside layers stays stored only
        // when some backward op reads it anyway.
        if (it == chain.owner.end())
          return llvm::any_of(operand.getUsers(), [&](Operation *user) {
            return backwardOps.contains(user);
          });
        return !isCheap(operand.getDefiningOp()) ||
               it->second != chain.owner.lookup(v);
      });
      // A value read by another layer's backward stays stored regardless.
      bool localOnly = llvm::all_of(chain.readers.lookup(v), [&](int64_t r) {
        return r == chain.owner.lookup(v);
      });
      if (!fromStored || !localOnly)
        continue;
      layer.cheap.insert(v);
      layer.cheapBytes += bytesOf(v);
      layer.cheapFlops += flopsOf(def);
    }
  }
  return chain;
}

void TfmRematerializePass::apply(const Chain &chain, const Segment &segment) {
  if (segment.choice == Choice::Store)
    return;
  // The values to recompute and the backward ops that read them.
  llvm::DenseSet<Operation *> readers;
  Operation *firstBackward = nullptr;
  for (int64_t i = segment.first; i <= segment.last; ++i)
    for (Operation *op : chain.layers[i].backward) {
      readers.insert(op);
      if (!firstBackward || op->isBeforeInBlock(firstBackward))
        firstBackward = op;
    }
  if (!firstBackward)
    return;
  llvm::SetVector<Value> targets;
  for (int64_t i = segment.first; i <= segment.last; ++i) {
    const Layer &layer = chain.layers[i];
    for (Value v : segment.choice == Choice::Selective ? layer.cheap
                                                       : layer.saved)
      if (llvm::any_of(v.getUsers(),
                       [&](Operation *user) { return readers.contains(user); }))
        targets.insert(v);
  }
  // The forward ops of the segment that the targets need.
  llvm::DenseSet<Operation *> inSegment;
  for (int64_t i = segment.first; i <= segment.last; ++i)
    inSegment.insert(chain.layers[i].forward.begin(),
                     chain.layers[i].forward.end());
  llvm::DenseSet<Operation *> needed;
  SmallVector<Operation *> worklist;
  for (Value v : targets)
    worklist.push_back(v.getDefiningOp());
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!needed.insert(op).second)
      continue;
    // Selective recomputation clones the cheap op alone.
    if (segment.choice == Choice::Selective)
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (inSegment.contains(def))
          worklist.push_back(def);
  }
  OpBuilder b(firstBackward);
  IRMapping mapping;
  for (int64_t i = segment.first; i <= segment.last; ++i)
    for (Operation *op : chain.layers[i].forward) {
      if (!needed.contains(op))
        continue;
      Operation *clone = b.clone(*op, mapping);
      clone->setAttr(kRecomputeAttrName, b.getUnitAttr());
    }
  for (Value v : targets) {
    Value recomputed = mapping.lookup(v);
    v.replaceUsesWithIf(recomputed, [&](OpOperand &use) {
      return readers.contains(use.getOwner());
    });
  }
}

static StringRef choiceName(Choice choice) {
  switch (choice) {
  case Choice::Store:
    return "store";
  case Choice::Selective:
    return "store-selective";
  case Choice::Recompute:
    return "recompute";
  }
  llvm_unreachable("unknown choice");
}

void TfmRematerializePass::runOnOperation() {
  ModuleOp module = getOperation();
  auto func = module.lookupSymbol<func::FuncOp>("forward");
  LossOp loss;
  if (func)
    func.walk([&](LossOp op) { loss = op; });
  if (!loss) {
    module.emitError("tfm-rematerialize needs a training step from "
                     "tfm-autodiff");
    return signalPassFailure();
  }
  Chain chain = analyze(func, loss);
  int64_t n = chain.layers.size();

  SmallVector<Segment> schedule;
  bool overBudget = false;
  if (mode == "none" || n == 0) {
    for (int64_t i = 0; i < n; ++i)
      schedule.push_back({i, i, Choice::Store});
  } else if (mode == "all") {
    for (int64_t i = 0; i < n; ++i)
      schedule.push_back({i, i, Choice::Recompute});
  } else if (mode == "sqrt") {
    int64_t size = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(std::sqrt(double(n)))));
    for (int64_t i = 0; i < n; i += size)
      schedule.push_back({i, std::min(n, i + size) - 1, Choice::Recompute});
  } else if (mode == "optimal") {
    if (budget <= 0) {
      module.emitError("--remat=optimal needs a memory budget");
      return signalPassFailure();
    }
    FailureOr<SmallVector<Segment>> best = chain.optimal(budget);
    if (failed(best)) {
      // The smallest budget any schedule fits, by bisection on the
      // monotone feasibility of the schedule search.
      int64_t lo = 0, hi = budget;
      while (failed(chain.optimal(hi)))
        hi *= 2;
      while (hi - lo > std::max<int64_t>(1, hi / 1000)) {
        int64_t mid = lo + (hi - lo) / 2;
        (succeeded(chain.optimal(mid)) ? hi : lo) = mid;
      }
      if (!minimize) {
        module.emitError("no rematerialization schedule fits the activation "
                         "budget of ")
            << static_cast<int64_t>(budget) << " bytes: the smallest estimated peak is " << hi
            << " bytes";
        return signalPassFailure();
      }
      overBudget = true;
      best = chain.optimal(hi);
    }
    schedule = std::move(*best);
  } else {
    module.emitError("unknown rematerialization mode '")
        << mode << "': expected none, all, sqrt or optimal";
    return signalPassFailure();
  }

  for (const Segment &segment : schedule)
    apply(chain, segment);

  Builder b(&getContext());
  SmallVector<Attribute> layers;
  int64_t recomputed = 0;
  for (const Segment &segment : schedule) {
    recomputed += chain.recomputeFlops(segment);
    for (int64_t i = segment.first; i <= segment.last; ++i)
      layers.push_back(b.getDictionaryAttr({
          b.getNamedAttr("index", b.getI64IntegerAttr(chain.layers[i].index)),
          b.getNamedAttr("decision", b.getStringAttr(choiceName(
                                         segment.choice))),
          b.getNamedAttr("segment",
                         b.getI64ArrayAttr(
                             {chain.layers[segment.first].index,
                              chain.layers[segment.last].index})),
          b.getNamedAttr("saved_bytes",
                         b.getI64IntegerAttr(chain.layers[i].savedBytes)),
      }));
  }
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("pass", b.getStringAttr("tfm-rematerialize")),
      b.getNamedAttr("mode", b.getStringAttr(mode)),
      b.getNamedAttr("estimated_peak_bytes",
                     b.getI64IntegerAttr(chain.peak(schedule))),
      b.getNamedAttr("forward_flops", b.getI64IntegerAttr(chain.forwardFlops)),
      b.getNamedAttr("recompute_flops", b.getI64IntegerAttr(recomputed)),
      b.getNamedAttr("layers", b.getArrayAttr(layers))};
  if (budget > 0)
    fields.push_back(
        b.getNamedAttr("budget_bytes", b.getI64IntegerAttr(budget)));
  if (overBudget)
    fields.push_back(b.getNamedAttr("over_budget", b.getBoolAttr(true)));
  appendTransformRecord(module, fields);
}

} // namespace
