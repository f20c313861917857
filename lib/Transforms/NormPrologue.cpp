//===- NormPrologue.cpp - Norms computed by the matmuls that read them ----===//
//
// This file implements the search for the norms that the kernels of the
// contractions reading them can apply, and the code those kernels run.
//
//===----------------------------------------------------------------------===//

#include "NormPrologue.h"

#include "BufferStorage.h"
#include "KernelOps.h"

#include "tmc/Transforms/BufferLiveness.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::tmc;

/// `v` through any chain of `memref.cast` ops.
static Value castRoot(Value v) {
  while (auto cast = v.getDefiningOp<memref::CastOp>())
    v = cast.getSource();
  return v;
}

/// Whether `v` is an allocation or an arena buffer defined in `block`:
/// storage that nothing outside the function reads.
static bool isLocalBuffer(Value v, Block *block) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != block)
    return false;
  if (auto view = dyn_cast<memref::ViewOp>(def))
    return isArenaArgument(view.getSource());
  return isa<memref::AllocOp>(def);
}

/// The memory effects of `op` and of every op nested in it (a linalg
/// op's payload may load from buffers it does not take as operands, a
/// kernel's body accesses buffers from above), or none if some op's
/// effects are unknown.
static std::optional<SmallVector<MemoryEffects::EffectInstance>>
effectsOf(Operation *op) {
  SmallVector<MemoryEffects::EffectInstance> effects;
  WalkResult walk = op->walk([&](Operation *nested) {
    if (auto iface = dyn_cast<MemoryEffectOpInterface>(nested)) {
      iface.getEffects(effects);
      return WalkResult::advance();
    }
    // A barrier orders the threads' accesses but makes none; a warp's
    // matrix multiply-accumulate works on registers only.
    return isa<gpu::BarrierOp, NVVM::MmaOp>(nested) ||
                   nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
               ? WalkResult::advance()
               : WalkResult::interrupt();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  return effects;
}

/// Whether an effect of `effects` of a kind in `Kinds` may touch a byte of
/// `storage` (an effect on no particular value touches all).
template <typename... Kinds>
static bool touches(ArrayRef<MemoryEffects::EffectInstance> effects,
                    const BufferStorage &storage) {
  return llvm::any_of(effects, [&](const MemoryEffects::EffectInstance &e) {
    if (!isa<Kinds...>(e.getEffect()))
      return false;
    Value v = e.getValue();
    return !v || !BufferStorage::of(v).isDisjointFrom(storage);
  });
}

/// Whether `input`, an operand of `reader`, is a contiguous [M][K] matrix
/// indexed (m, k), K being `features`: what a matmul kernel can normalize
/// as it stages it.
static bool isRowsInput(linalg::LinalgOp reader, OpOperand *input,
                        int64_t features) {
  MemRefType type = contiguousType(input->get());
  AffineMap map = reader.getMatchingIndexingMap(input);
  SmallVector<utils::IteratorType> iterators = reader.getIteratorTypesArray();
  return type && type.getRank() == 2 && type.getShape()[1] == features &&
         map.getNumResults() == 2 && map.isProjectedPermutation() &&
         iterators[map.getDimPosition(0)] == utils::IteratorType::parallel &&
         iterators[map.getDimPosition(1)] == utils::IteratorType::reduction;
}

/// The contractions that read `norm`'s output, in block order, if every
/// use of the output (through reshapes in the norm's block) is the norm's
/// own or the foldable input of such a contraction later in the block, a
/// contiguous [M][K] matrix indexed (m, k) whose K is the normalized
/// dimension, and no other op from the norm to the last of them reads or
/// writes the output's bytes (through any other view); empty otherwise.
static SmallVector<linalg::LinalgOp>
findReaders(tfm::FusedNormOp norm,
            function_ref<OpOperand *(linalg::LinalgOp)> foldableInput) {
  MemRefType outType = contiguousType(norm.getOutput());
  if (!outType)
    return {};
  int64_t features = outType.getShape().back();
  Block *block = norm->getBlock();
  ReshapeFamily family = ReshapeFamily::of(norm.getOutput());
  for (Operation *reshape : family.reshapes)
    if (reshape->getBlock() != block)
      return {};
  // Each reader and the operand it reads the output through.
  llvm::DenseMap<Operation *, OpOperand *> readerInputs;
  for (OpOperand *use : family.uses) {
    Operation *user = use->getOwner();
    if (use == &norm.getOutputMutable())
      continue;
    auto reader = dyn_cast<linalg::LinalgOp>(user);
    if (!reader || user->getBlock() != block || !norm->isBeforeInBlock(user) ||
        foldableInput(reader) != use || !isRowsInput(reader, use, features))
      return {};
    readerInputs[user] = use;
  }
  if (readerInputs.empty())
    return {};

  // In block order; nothing else touches the output's bytes meanwhile.
  BufferStorage outStorage = BufferStorage::of(norm.getOutput());
  SmallVector<linalg::LinalgOp> readers;
  for (Operation *op = norm->getNextNode();
       op && readers.size() < readerInputs.size(); op = op->getNextNode()) {
    if (isMemoryEffectFree(op))
      continue;
    std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
        effectsOf(op);
    if (!effects || touches<MemoryEffects::Write, MemoryEffects::Free>(
                        *effects, outStorage))
      return {};
    if (!touches<MemoryEffects::Read>(*effects, outStorage))
      continue;
    OpOperand *input = readerInputs.lookup(op);
    if (!input)
      return {};
    auto reader = cast<linalg::LinalgOp>(op);
    // The output is read only through the foldable input: no other operand
    // and no load in the payload reaches its bytes.
    for (OpOperand &other : op->getOpOperands())
      if (&other != input && isa<MemRefType>(other.get().getType()) &&
          !BufferStorage::of(other.get()).isDisjointFrom(outStorage))
        return {};
    for (Operation &nested : reader->getRegion(0).front()) {
      std::optional<SmallVector<MemoryEffects::EffectInstance>> inner =
          effectsOf(&nested);
      if (!inner || touches<MemoryEffects::Read>(*inner, outStorage))
        return {};
    }
    readers.push_back(reader);
  }
  if (readers.size() != readerInputs.size())
    return {};
  return readers;
}

/// Whether an op from the one after `first` to `last` may write over or
/// free any byte of `kept`.
static bool mayWriteBetween(Operation *first, Operation *last,
                            ArrayRef<BufferStorage> kept) {
  for (Operation *op = first->getNextNode(); op; op = op->getNextNode()) {
    if (!isMemoryEffectFree(op)) {
      std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
          effectsOf(op);
      if (!effects)
        return true;
      for (const BufferStorage &storage : kept)
        if (touches<MemoryEffects::Write, MemoryEffects::Free>(*effects,
                                                               storage))
          return true;
    }
    if (op == last)
      return false;
  }
  return true;
}

/// The storage of what a norm reads: its input, scale and shift.
static SmallVector<BufferStorage, 3> keptStorage(Value input, Value gamma,
                                                 Value beta) {
  SmallVector<BufferStorage, 3> kept = {BufferStorage::of(input),
                                        BufferStorage::of(gamma)};
  if (beta)
    kept.push_back(BufferStorage::of(beta));
  return kept;
}

Value NormPrologue::getRowsSource(tfm::FusedNormOp norm) {
  return castRoot(norm.getInput());
}

bool NormPrologue::canDefer(
    tfm::FusedNormOp norm,
    function_ref<OpOperand *(linalg::LinalgOp)> kernelInput) {
  Value input = getRowsSource(norm);
  MemRefType inputType = contiguousType(input);
  if (!inputType || inputType.getRank() < 2 ||
      !isLocalBuffer(norm.getOutput(), norm->getBlock()))
    return false;
  SmallVector<BufferStorage, 3> kept =
      keptStorage(input, norm.getGamma(), norm.getBeta());
  if (!BufferStorage::of(norm.getOutput()).isDisjointFrom(kept.front()))
    return false;
  SmallVector<linalg::LinalgOp> readers = findReaders(norm, kernelInput);
  return !readers.empty() &&
         !mayWriteBetween(norm, readers.back(), kept);
}

std::optional<NormPrologue> NormPrologue::of(linalg::LinalgOp reader,
                                             OpOperand *input) {
  auto norm = reshapeRoot(input->get()).getDefiningOp<tfm::LazyNormOp>();
  if (!norm ||
      !isRowsInput(reader, input, norm.getInput().getType().getShape().back()))
    return std::nullopt;
  return NormPrologue(norm);
}

SmallVector<Type, 3> NormPrologue::workgroupTypes(MLIRContext *ctx,
                                                  int64_t rows,
                                                  int64_t threads) {
  Type f32 = Float32Type::get(ctx);
  return {workgroupMemRefType({rows}, f32), workgroupMemRefType({rows}, f32),
          workgroupMemRefType({threads}, f32)};
}

void NormPrologue::prepare(OpBuilder &b, Location loc) {
  Value input = norm.getInput();
  auto type = cast<MemRefType>(input.getType());
  if (type.getRank() == 2) {
    rowsView = input;
    return;
  }
  ReassociationIndices leading;
  for (int64_t i = 0, e = type.getRank() - 1; i < e; ++i)
    leading.push_back(i);
  rowsView = memref::CollapseShapeOp::create(
      b, loc, input,
      ArrayRef<ReassociationIndices>{leading, {type.getRank() - 1}});
}

void NormPrologue::computeStatistics(OpBuilder &b, Location loc,
                                     ValueRange buffers, Value tid,
                                     int64_t threads, Value m0,
                                     int64_t rows) {
  KernelOps math{b, loc};
  this->m0 = m0;
  mean = buffers[0];
  rstd = buffers[1];
  Value partials = buffers[2];
  auto shape = cast<MemRefType>(rowsView.getType()).getShape();
  int64_t sizeM = shape[0], features = shape[1];
  // Groups of `group` threads (a power of two) per row, `perPass` rows at
  // a time.
  int64_t group = 1;
  while (group * 2 * rows <= threads && group * 2 <= features)
    group *= 2;
  int64_t perPass = threads / group;
  Value cGroup = math.idx(group), cK = math.idx(features);
  Value lane = arith::RemUIOp::create(b, loc, tid, cGroup);
  Value groupIndex = arith::DivUIOp::create(b, loc, tid, cGroup);
  Value invK = math.f32(1.0 / static_cast<double>(features));
  bool layer = static_cast<bool>(norm.getBeta());
  auto times = [&](Value u, Value v) -> Value {
    return arith::MulFOp::create(b, loc, u, v);
  };

  // One statistic of every row: each thread of a row's group sums
  // term(m, r, k) over its strided part of the row, the group's sums are
  // added in a tree, and the group's first thread stores finish(sum) at r.
  auto rowStatistic = [&](function_ref<Value(Value, Value, Value)> term,
                          function_ref<Value(Value)> finish, Value into) {
    math.loop(math.idx(0), math.idx(llvm::divideCeil(rows, perPass)),
              math.idx(1), [&](Value pass) {
                Value r = math.add(math.mul(pass, math.idx(perPass)),
                                   groupIndex);
                Value m = math.add(m0, r);
                Value valid = math.both(
                    math.less(tid, math.idx(perPass * group)),
                    math.both(math.less(r, math.idx(rows)),
                              math.less(m, math.idx(sizeM))));
                Value zero = math.f32(0.0);
                auto ifOp = scf::IfOp::create(b, loc, TypeRange{b.getF32Type()},
                                              valid, /*withElseRegion=*/true);
                {
                  OpBuilder::InsertionGuard g(b);
                  b.setInsertionPointToStart(ifOp.thenBlock());
                  Value sum = math.reduce(
                      lane, cK, cGroup, zero, [&](Value k, Value acc) -> Value {
                        return arith::AddFOp::create(b, loc, acc,
                                                     term(m, r, k));
                      });
                  scf::YieldOp::create(b, loc, sum);
                  b.setInsertionPointToStart(ifOp.elseBlock());
                  scf::YieldOp::create(b, loc, zero);
                }
                math.store(ifOp.getResult(0), partials, {tid});
                gpu::BarrierOp::create(b, loc);
                // The group's sums meet in a tree: at each level the lower
                // half of the group adds the upper half's sums to its own.
                Value inGroup = math.less(tid, math.idx(perPass * group));
                for (int64_t half = group / 2; half >= 1; half /= 2) {
                  Value h = math.idx(half);
                  math.ifThen(math.both(inGroup, math.less(lane, h)), [&] {
                    math.store(arith::AddFOp::create(
                                   b, loc, math.load(partials, {tid}),
                                   math.load(partials, {math.add(tid, h)})),
                               partials, {tid});
                  });
                  gpu::BarrierOp::create(b, loc);
                }
                math.ifThen(
                    math.both(valid,
                              arith::CmpIOp::create(b, loc,
                                                    arith::CmpIPredicate::eq,
                                                    lane, math.idx(0))),
                    [&] {
                      math.store(finish(math.load(partials, {tid})), into,
                                 {r});
                    });
                // The partial sums are read before the next pass writes
                // them, and the statistic before anyone reads it.
                gpu::BarrierOp::create(b, loc);
              });
  };

  auto x = [&](Value m, Value k) { return math.load(rowsView, {m, k}); };
  // A layer norm centers the row on its mean first (two passes, as the
  // norm's kernel); an RMS norm does not.
  if (layer)
    rowStatistic([&](Value m, Value, Value k) { return x(m, k); },
                 [&](Value sum) { return times(sum, invK); }, mean);
  double epsilon = norm.getEpsilon().convertToDouble();
  rowStatistic(
      [&](Value m, Value r, Value k) {
        Value c = x(m, k);
        if (layer)
          c = arith::SubFOp::create(b, loc, c, math.load(mean, {r}));
        return times(c, c);
      },
      [&](Value sum) -> Value {
        // 1 / sqrt(variance + epsilon), as the norm's kernel computes it.
        return arith::DivFOp::create(
            b, loc, math.f32(1.0),
            math::SqrtOp::create(
                b, loc,
                arith::AddFOp::create(b, loc, times(sum, invK),
                                      math.f32(epsilon))));
      },
      rstd);
}

Value NormPrologue::load(OpBuilder &b, Location loc, Value m, Value k) const {
  KernelOps math{b, loc};
  tfm::LazyNormOp norm = this->norm;
  Value r = math.sub(m, m0);
  Value v = math.load(rowsView, {m, k});
  if (norm.getBeta())
    v = arith::SubFOp::create(b, loc, v, math.load(mean, {r}));
  v = arith::MulFOp::create(b, loc, v, math.load(rstd, {r}));
  v = arith::MulFOp::create(b, loc, v, math.load(norm.getGamma(), {k}));
  if (norm.getBeta())
    v = arith::AddFOp::create(b, loc, v, math.load(norm.getBeta(), {k}));
  return v;
}
