//===- GpuLaunchToLoops.cpp - gpu.launch as host loops ---------*- C++ -*-===//
//
// This file implements `tmc-gpu-launch-to-loops`, which turns gpu.launch ops
// into nested scf.for loops over blocks and threads so that GPU-mapped code
// can be run and checked on a CPU.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

#include <array>

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPULAUNCHTOLOOPS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Whether every block of `launch` has exactly one thread (then barriers
/// are no-ops and workgroup memory is that thread's own).
static bool singleThreadBlocks(gpu::LaunchOp launch) {
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  return llvm::all_of(ValueRange{block.x, block.y, block.z}, [](Value v) {
    return getConstantIntValue(v) == std::optional<int64_t>(1);
  });
}

/// Whether `op` is a warp-level matrix operation (all 32 threads of a warp
/// take part).
static bool isWarpMatrixOp(Operation *op) {
  return isa<gpu::SubgroupMmaLoadMatrixOp, gpu::SubgroupMmaComputeOp,
             gpu::SubgroupMmaStoreMatrixOp, gpu::SubgroupMmaConstantMatrixOp>(
      op);
}

/// Whether the threads of `launch` may communicate: shared or private
/// memory, barriers or warp-level operations (then they run in phases).
static bool threadsCommunicate(gpu::LaunchOp launch) {
  if (singleThreadBlocks(launch))
    return false;
  if (!launch.getWorkgroupAttributions().empty() ||
      !launch.getPrivateAttributions().empty())
    return true;
  return launch.getBody()
      .walk([](Operation *op) {
        return isa<gpu::BarrierOp, NVVM::MmaOp>(op) || isWarpMatrixOp(op)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// The static block size of `launch` (x, y, z), if constant.
static std::optional<std::array<int64_t, 3>> staticBlockSize(
    gpu::LaunchOp launch) {
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  std::array<int64_t, 3> sizes;
  Value dims[3] = {block.x, block.y, block.z};
  for (int i = 0; i < 3; ++i) {
    std::optional<int64_t> size = getConstantIntValue(dims[i]);
    if (!size || *size <= 0)
      return std::nullopt;
    sizes[i] = *size;
  }
  return sizes;
}

static bool containsBarrier(Operation *op) {
  return op->walk([](gpu::BarrierOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// Whether `op` is or contains an `nvvm.mma.sync`, which exchanges
/// registers between the threads of a warp.
static bool containsMmaSync(Operation *op) {
  return op->walk([](NVVM::MmaOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// Whether the emulation cuts phases at `op`: a barrier, an
/// `nvvm.mma.sync`, or an op containing one.
static bool synchronizes(Operation *op) {
  return containsBarrier(op) || containsMmaSync(op);
}

/// Whether `op` can be computed again wherever its operands are available:
/// no regions, and no memory effects except reading a constant global.
static bool isRematerializable(Operation *op) {
  if (op->getNumRegions() != 0)
    return false;
  if (isMemoryEffectFree(op))
    return true;
  auto load = dyn_cast<memref::LoadOp>(op);
  if (!load)
    return false;
  auto get = load.getMemRef().getDefiningOp<memref::GetGlobalOp>();
  if (!get)
    return false;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
      get, get.getNameAttr());
  return global && global.getConstant();
}

/// Emulates the threads of one block of a launch whose threads synchronize:
/// the body is cut at its barriers into phases, each run for every thread
/// in turn (loops over z, y, x), which is what a barrier guarantees. Loops
/// and conditionals that contain barriers must have bounds and conditions
/// that are the same for every thread; they run once per block around
/// their phases. A scalar a thread computes in one phase and uses in a later
/// one is kept per thread in a buffer (so are the iteration arguments of
/// loops with barriers); other values (views) are recomputed where they are
/// used. Private memory is one buffer per thread.
class BlockEmulator {
public:
  BlockEmulator(RewriterBase &rewriter, gpu::LaunchOp launch,
                std::array<int64_t, 3> blockSize, IRMapping &blockMapping,
                Operation *storageAnchor)
      : b(rewriter), launch(launch), loc(launch.getLoc()),
        blockSize(blockSize), blockMapping(blockMapping),
        storageAnchor(storageAnchor) {
    numThreads = blockSize[0] * blockSize[1] * blockSize[2];
  }

  /// Per-thread private buffers: one buffer of `numThreads` copies each.
  void allocatePrivate() {
    for (BlockArgument buffer : launch.getPrivateAttributions()) {
      auto type = cast<MemRefType>(buffer.getType());
      SmallVector<int64_t> shape = {numThreads};
      llvm::append_range(shape, type.getShape());
      privateBuffers[buffer] = allocate(shape, type.getElementType());
    }
  }

  /// Checks the block's accesses to workgroup memory for races (see the
  /// pass description): `hostBuffers` are the buffers the workgroup
  /// attributions became. Each element gets the last (epoch, thread) that
  /// wrote and that read it, as epoch * threads + thread, -1 at first; the
  /// epoch counts the barriers the emulation passed.
  void checkRaces(ArrayRef<Value> hostBuffers) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(storageAnchor);
    Type i64 = b.getI64Type();
    epoch = allocate({}, i64);
    memref::StoreOp::create(b, loc, constant(0), epoch, ValueRange{});
    for (Value buffer : hostBuffers) {
      ArrayRef<int64_t> shape = cast<MemRefType>(buffer.getType()).getShape();
      std::array<Value, 2> shadow;
      for (Value &s : shadow) {
        s = allocate(shape, i64);
        forAllElements(shape, [&](ValueRange indices) {
          memref::StoreOp::create(b, loc, constant(-1), s, indices);
        });
      }
      shadows[buffer] = shadow;
    }
  }

  LogicalResult emit() {
    Block &body = launch.getBody().front();
    // A new block: nothing of the previous block's accesses conflicts.
    nextEpoch();
    return emitOps(llvm::make_pointer_range(body.without_terminator()));
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// A buffer of `shape` x `element` allocated once, at the function's
  /// entry (before the storage anchor).
  Value allocate(ArrayRef<int64_t> shape, Type element) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(storageAnchor);
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, element));
  }
  Value constant(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }

  /// Loops over every index of `shape` around `body(indices)`.
  void forAllElements(ArrayRef<int64_t> shape,
                      function_ref<void(ValueRange)> body) {
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Value> indices;
    for (int64_t size : shape) {
      auto loop = scf::ForOp::create(b, loc, index(0), index(size), index(1));
      b.setInsertionPointToStart(loop.getBody());
      indices.push_back(loop.getInductionVar());
    }
    body(indices);
  }

  /// A barrier: the accesses before it are ordered before those after.
  void nextEpoch() {
    if (!epoch)
      return;
    Value current = memref::LoadOp::create(b, loc, epoch, ValueRange{});
    memref::StoreOp::create(
        b, loc, arith::AddIOp::create(b, loc, current, constant(1)), epoch,
        ValueRange{});
  }

  /// Inserts the race checks of thread `tid` before the workgroup accesses
  /// among `ops` and the ops nested in them.
  void instrumentAccesses(Block *block, Value tid) {
    struct Access {
      Operation *op;
      Value buffer;
      SmallVector<Value> indices;
      int64_t elements;
      bool write;
    };
    SmallVector<Access> accesses;
    block->walk([&](Operation *op) {
      auto add = [&](Value buffer, ValueRange indices, int64_t elements,
                     bool write) {
        if (shadows.contains(buffer))
          accesses.push_back({op, buffer, llvm::to_vector(indices), elements,
                              write});
      };
      if (auto load = dyn_cast<memref::LoadOp>(op))
        add(load.getMemRef(), load.getIndices(), 1, false);
      else if (auto store = dyn_cast<memref::StoreOp>(op))
        add(store.getMemRef(), store.getIndices(), 1, true);
      else if (auto load = dyn_cast<vector::LoadOp>(op))
        add(load.getBase(), load.getIndices(),
            load.getVectorType().getNumElements(), false);
      else if (auto store = dyn_cast<vector::StoreOp>(op))
        add(store.getBase(), store.getIndices(),
            store.getVectorType().getNumElements(), true);
    });
    OpBuilder::InsertionGuard guard(b);
    for (Access &access : accesses) {
      b.setInsertionPoint(access.op);
      std::string message;
      llvm::raw_string_ostream os(message);
      os << "tmc-gpu-launch-to-loops: race on workgroup memory: a "
         << (access.write ? "write" : "read") << " at " << access.op->getLoc()
         << " and another thread's "
         << (access.write ? "read or write" : "write")
         << " of the same element have no barrier between them";
      Value threads = constant(numThreads);
      Value now = memref::LoadOp::create(b, loc, epoch, ValueRange{});
      Value me = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, now, threads),
          arith::IndexCastOp::create(b, loc, b.getI64Type(), tid));
      auto [writers, readers] = shadows[access.buffer];
      // The readers of an element: one thread's access of this epoch
      // (epoch * threads + thread), or -(epoch + 2) once several threads
      // read it in this epoch.
      Value many = arith::SubIOp::create(b, loc, constant(-2), now);
      auto cmp = [&](arith::CmpIPredicate predicate, Value x, Value y) {
        return arith::CmpIOp::create(b, loc, predicate, x, y).getResult();
      };
      auto both = [&](Value x, Value y) {
        return arith::AndIOp::create(b, loc, x, y).getResult();
      };
      auto either = [&](Value x, Value y) {
        return arith::OrIOp::create(b, loc, x, y).getResult();
      };
      // `last` is another thread's access of this epoch.
      auto byOther = [&](Value last) {
        Value sameEpoch = both(
            cmp(arith::CmpIPredicate::sge, last, constant(0)),
            cmp(arith::CmpIPredicate::eq,
                arith::DivSIOp::create(b, loc, last, threads), now));
        return both(sameEpoch, cmp(arith::CmpIPredicate::ne, last, me));
      };
      for (int64_t e = 0; e < access.elements; ++e) {
        SmallVector<Value> at = access.indices;
        if (e > 0)
          at.back() = arith::AddIOp::create(b, loc, at.back(), index(e));
        Value writer = memref::LoadOp::create(b, loc, writers, at);
        Value reader = memref::LoadOp::create(b, loc, readers, at);
        Value othersRead = either(byOther(reader),
                                  cmp(arith::CmpIPredicate::eq, reader, many));
        Value race = byOther(writer);
        if (access.write)
          race = either(race, othersRead);
        Value ok = arith::XOrIOp::create(
            b, loc, race,
            arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
        cf::AssertOp::create(b, loc, ok, message);
        if (access.write) {
          memref::StoreOp::create(b, loc, me, writers, at);
        } else {
          Value next = arith::SelectOp::create(b, loc, othersRead, many, me);
          memref::StoreOp::create(b, loc, next, readers, at);
        }
      }
    }
  }

  /// Emits `ops` (of one block): runs without barriers as phases, the ops
  /// with barriers once per block.
  template <typename Range> LogicalResult emitOps(Range ops) {
    SmallVector<Operation *> run;
    // Phases are also cut at each mma.sync, which orders only the threads
    // of a warp: between two barriers around one, no workgroup buffer may
    // be both written and read, or the emulation, which runs each phase for
    // all warps in turn, could hide a race between warps.
    bool mmaSync = false;
    llvm::SmallDenseSet<Value> read, written;
    for (Operation *op : ops) {
      if (containsBarrier(op)) {
        mmaSync = false;
        read.clear();
        written.clear();
      } else {
        mmaSync |= containsMmaSync(op);
        collectWorkgroupEffects(op, read, written);
        if (mmaSync && llvm::any_of(written, [&](Value buffer) {
              return read.contains(buffer);
            }))
          return op->emitError(
              "tmc-gpu-launch-to-loops: a workgroup buffer is written and "
              "read between two barriers with an mma.sync: the emulation, "
              "which runs the phases around an mma.sync for all warps in "
              "turn, would hide a race between warps");
      }
      if (!synchronizes(op)) {
        run.push_back(op);
        continue;
      }
      if (failed(emitPhase(run)) || failed(emitSynchronizing(op)))
        return failure();
      run.clear();
    }
    return emitPhase(run);
  }

  /// A barrier, or a loop or conditional with barriers inside.
  LogicalResult emitSynchronizing(Operation *op) {
    if (isa<gpu::BarrierOp>(op)) {
      nextEpoch();
      return success();
    }
    if (auto mma = dyn_cast<NVVM::MmaOp>(op))
      return emitMmaSync(mma);
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return emitLoop(forOp);
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      if (ifOp.getNumResults() != 0)
        return op->emitError("tmc-gpu-launch-to-loops: a conditional with "
                             "barriers cannot yield values");
      Value condition = resolveUniform(ifOp.getCondition());
      if (!condition)
        return op->emitError("tmc-gpu-launch-to-loops: the condition of a "
                             "conditional with barriers differs per thread");
      auto newIf = scf::IfOp::create(b, loc, condition,
                                     /*withElseRegion=*/ifOp.elseBlock());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(newIf.thenBlock());
      if (failed(emitOps(llvm::make_pointer_range(
              ifOp.thenBlock()->without_terminator()))))
        return failure();
      if (ifOp.elseBlock()) {
        b.setInsertionPointToStart(newIf.elseBlock());
        return emitOps(llvm::make_pointer_range(
            ifOp.elseBlock()->without_terminator()));
      }
      return success();
    }
    return op->emitError("tmc-gpu-launch-to-loops: cannot emulate the "
                         "barriers inside this op");
  }

  /// Whether `op` or an op nested in it reads or writes workgroup memory.
  bool touchesWorkgroup(Operation *op) {
    auto workgroup = launch.getWorkgroupAttributions();
    return op
        ->walk([&](Operation *nested) {
          for (Value operand : nested->getOperands()) {
            while (auto view = operand.getDefiningOp<ViewLikeOpInterface>())
              operand = view.getViewSource();
            if (llvm::is_contained(workgroup, operand))
              return WalkResult::interrupt();
          }
          return WalkResult::advance();
        })
        .wasInterrupted();
  }

  /// Adds the workgroup buffers `op` or an op nested in it reads to
  /// `read`, those it writes to `written`.
  void collectWorkgroupEffects(Operation *op, llvm::SmallDenseSet<Value> &read,
                               llvm::SmallDenseSet<Value> &written) {
    auto workgroup = launch.getWorkgroupAttributions();
    op->walk([&](MemoryEffectOpInterface effecting) {
      SmallVector<MemoryEffects::EffectInstance> effects;
      effecting.getEffects(effects);
      for (MemoryEffects::EffectInstance &effect : effects) {
        Value target = effect.getValue();
        while (target)
          if (auto view = target.getDefiningOp<ViewLikeOpInterface>())
            target = view.getViewSource();
          else
            break;
        if (!target || !llvm::is_contained(workgroup, target))
          continue;
        if (isa<MemoryEffects::Read>(effect.getEffect()))
          read.insert(target);
        if (isa<MemoryEffects::Write>(effect.getEffect()))
          written.insert(target);
      }
    });
  }

  /// Emulating a loop with barriers runs every phase of an iteration before
  /// the next iteration starts, as if there were a barrier at the back
  /// edge. That is exact only when the GPU code needs none: the phase before
  /// the body's first barrier or the one after its last must not touch
  /// workgroup memory (else a barrier is missing, or the emulation would
  /// hide a race).
  LogicalResult checkBackEdge(scf::ForOp forOp) {
    auto ops = llvm::make_pointer_range(forOp.getBody()->without_terminator());
    bool firstTouches = false, lastTouches = false, seenBarrier = false;
    for (Operation *op : ops) {
      if (containsBarrier(op)) {
        seenBarrier = true;
        lastTouches = false;
        continue;
      }
      bool touches = touchesWorkgroup(op);
      if (!seenBarrier)
        firstTouches |= touches;
      lastTouches |= touches;
    }
    if (firstTouches && lastTouches)
      return forOp.emitError("tmc-gpu-launch-to-loops: this loop accesses "
                             "workgroup memory both before its first barrier "
                             "and after its last, with no barrier between "
                             "iterations: a race on the GPU");
    return success();
  }

  LogicalResult emitLoop(scf::ForOp forOp) {
    if (failed(checkBackEdge(forOp)))
      return failure();
    Value lb = resolveUniform(forOp.getLowerBound());
    Value ub = resolveUniform(forOp.getUpperBound());
    Value step = resolveUniform(forOp.getStep());
    if (!lb || !ub || !step)
      return forOp.emitError("tmc-gpu-launch-to-loops: the bounds of a loop "
                             "with barriers differ per thread");
    // Loop-carried values live in per-thread buffers.
    SmallVector<Value> storage;
    for (BlockArgument arg : forOp.getRegionIterArgs()) {
      Value buffer = allocateStorage(arg.getType(), forOp);
      if (!buffer)
        return failure();
      storage.push_back(buffer);
    }
    if (failed(storePerThread(forOp.getInitArgs(), storage)))
      return failure();
    for (auto [arg, buffer] : llvm::zip(forOp.getRegionIterArgs(), storage))
      stored[arg] = buffer;
    auto loop = scf::ForOp::create(b, loc, lb, ub, step);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      blockMapping.map(forOp.getInductionVar(), loop.getInductionVar());
      if (failed(emitOps(llvm::make_pointer_range(
              forOp.getBody()->without_terminator()))))
        return failure();
      auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
      if (failed(storePerThread(yield.getOperands(), storage)))
        return failure();
    }
    for (auto [result, buffer] : llvm::zip(forOp.getResults(), storage))
      stored[result] = buffer;
    return success();
  }

  /// Stores each thread's `values` into the per-thread `storage`.
  LogicalResult storePerThread(ValueRange values, ArrayRef<Value> storage) {
    if (storage.empty())
      return success();
    return forEachThread([&](IRMapping &mapping, Value tid) {
      for (auto [v, buffer] : llvm::zip(values, storage)) {
        Value current = resolveThread(v, mapping, tid);
        if (!current)
          return failure();
        storeForThread(current, buffer, tid);
      }
      return success();
    });
  }

  /// A per-thread buffer for values of `type`, allocated before the first
  /// phase of the block.
  Value allocateStorage(Type type, Operation *user) {
    SmallVector<int64_t> shape = {numThreads};
    Type element = type;
    if (auto vector = dyn_cast<VectorType>(type);
        vector && vector.hasStaticShape() && !vector.isScalable() &&
        vector.getElementType().isIntOrIndexOrFloat()) {
      llvm::append_range(shape, vector.getShape());
      element = vector.getElementType();
    } else if (!type.isIntOrIndexOrFloat()) {
      user->emitError("tmc-gpu-launch-to-loops: cannot keep a ")
          << type << " per thread across a barrier";
      return nullptr;
    }
    return allocate(shape, element);
  }

  /// Stores thread `tid`'s value `v` (a scalar or a vector) in `buffer`.
  void storeForThread(Value v, Value buffer, Value tid) {
    if (!isa<VectorType>(v.getType())) {
      memref::StoreOp::create(b, loc, v, buffer, tid);
      return;
    }
    SmallVector<Value> indices(cast<MemRefType>(buffer.getType()).getRank(),
                               index(0));
    indices[0] = tid;
    vector::StoreOp::create(b, loc, v, buffer, indices);
  }

  /// Thread `tid`'s value of `type` kept in `buffer`.
  Value loadForThread(Type type, Value buffer, Value tid) {
    auto vectorType = dyn_cast<VectorType>(type);
    if (!vectorType)
      return memref::LoadOp::create(b, loc, buffer, tid);
    SmallVector<Value> indices(cast<MemRefType>(buffer.getType()).getRank(),
                               index(0));
    indices[0] = tid;
    return vector::LoadOp::create(b, loc, vectorType, buffer, indices);
  }

  /// Emits loops over the block's threads around `body(mapping, tid)`, with
  /// the thread ids and private buffers mapped.
  LogicalResult
  forEachThread(function_ref<LogicalResult(IRMapping &, Value)> body) {
    Value zero = index(0), one = index(1);
    gpu::KernelDim3 threadIds = launch.getThreadIds();
    Value ids[3] = {threadIds.z, threadIds.y, threadIds.x};
    int64_t sizes[3] = {blockSize[2], blockSize[1], blockSize[0]};
    IRMapping mapping = blockMapping;
    OpBuilder::InsertionGuard guard(b);
    Value tid = zero;
    for (int i = 0; i < 3; ++i) {
      auto loop = scf::ForOp::create(b, loc, zero, index(sizes[i]), one);
      b.setInsertionPointToStart(loop.getBody());
      mapping.map(ids[i], loop.getInductionVar());
      tid = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, tid, index(sizes[i])),
          loop.getInductionVar());
    }
    for (auto [buffer, all] : privateBuffers) {
      auto type = cast<MemRefType>(buffer.getType());
      auto allType = cast<MemRefType>(all.getType());
      int64_t rank = allType.getRank();
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
          sizesFold, strides(rank, b.getIndexAttr(1));
      offsets[0] = tid;
      sizesFold.push_back(b.getIndexAttr(1));
      for (int64_t size : type.getShape())
        sizesFold.push_back(b.getIndexAttr(size));
      auto viewType = memref::SubViewOp::inferRankReducedResultType(
          type.getShape(), allType, offsets, sizesFold, strides);
      mapping.map(buffer,
                  memref::SubViewOp::create(b, loc, viewType, all, offsets,
                                            sizesFold, strides)
                      .getResult());
    }
    if (failed(body(mapping, tid)))
      return failure();
    if (epoch)
      instrumentAccesses(b.getInsertionBlock(), tid);
    return success();
  }

  /// One phase: `run` for every thread; the scalars it computes that later
  /// phases use are stored per thread. Other values (views, vectors) are
  /// recomputed where they are used, so what they are computed from in the
  /// phase is stored instead.
  LogicalResult emitPhase(ArrayRef<Operation *> ops) {
    // Ops whose results the emulation already keeps per thread (the
    // results of an emulated mma.sync) are not run again.
    SmallVector<Operation *> run;
    for (Operation *op : ops)
      if (op->getNumResults() == 0 ||
          !llvm::all_of(op->getResults(),
                        [&](Value v) { return stored.contains(v); }))
        run.push_back(op);
    if (run.empty())
      return success();
    llvm::SmallPtrSet<Operation *, 16> inRun(run.begin(), run.end());
    Block *block = run.front()->getBlock();
    auto definedInRun = [&](Value v) {
      Operation *def = v.getDefiningOp();
      return def && def->getBlock() == block && inRun.contains(def);
    };
    auto recomputed = [](Value v) {
      return !v.getType().isIntOrIndexOrFloat() &&
             isRematerializable(v.getDefiningOp());
    };
    llvm::SetVector<Value> needed;
    for (Operation *op : run)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              Operation *ancestor = block->findAncestorOpInBlock(*user);
              return !ancestor || !inRun.contains(ancestor);
            }))
          needed.insert(result);
    for (size_t i = 0; i < needed.size(); ++i)
      if (recomputed(needed[i]))
        for (Value operand : needed[i].getDefiningOp()->getOperands())
          if (definedInRun(operand))
            needed.insert(operand);
    SmallVector<std::pair<Value, Value>> escaping;
    for (Value value : needed) {
      if (recomputed(value))
        continue;
      Value buffer = allocateStorage(value.getType(), value.getDefiningOp());
      if (!buffer)
        return failure();
      escaping.emplace_back(value, buffer);
    }
    if (failed(forEachThread([&](IRMapping &mapping,
                                 Value tid) -> LogicalResult {
          for (Operation *op : run) {
            if (failed(mapOperands(op, mapping, tid)))
              return failure();
            if (isWarpMatrixOp(op)) {
              if (failed(emitWarpMatrixOp(op, mapping, tid)))
                return failure();
              continue;
            }
            if (op->walk([](Operation *nested) {
                    return isWarpMatrixOp(nested) ? WalkResult::interrupt()
                                                  : WalkResult::advance();
                  }).wasInterrupted())
              return LogicalResult(op->emitError(
                  "tmc-gpu-launch-to-loops: warp-level matrix operations "
                  "are emulated directly in the kernel body or in loops "
                  "with barriers only"));
            b.clone(*op, mapping);
          }
          for (auto [value, buffer] : escaping)
            storeForThread(mapping.lookup(value), buffer, tid);
          return success();
        })))
      return failure();
    for (auto [value, buffer] : escaping)
      stored[value] = buffer;
    return success();
  }

  /// A warp-level matrix operation, done whole by lane 0 of each warp (the
  /// warp's threads are consecutive linear thread ids): a fragment is a
  /// 16 x 16 buffer, which must be used in the phase that defines it.
  LogicalResult emitWarpMatrixOp(Operation *op, IRMapping &mapping,
                                 Value tid) {
    Value zero = index(0), one = index(1);
    Value lane = arith::RemUIOp::create(b, loc, tid, index(32));
    Value leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         lane, zero);
    Value fragment;
    int64_t rows = 0, cols = 0;
    if (op->getNumResults() == 1) {
      auto type = cast<gpu::MMAMatrixType>(op->getResult(0).getType());
      rows = type.getShape()[0];
      cols = type.getShape()[1];
      fragment = allocate(type.getShape(), type.getElementType());
      mapping.map(op->getResult(0), fragment);
    }
    // Source or destination element (i + r, j + c) of a 2-D memref whose
    // rows are `leadDimension` apart.
    auto checkTile = [&](Value memref, APInt leadDimension,
                         bool transpose) -> LogicalResult {
      auto type = cast<MemRefType>(memref.getType());
      SmallVector<int64_t> strides;
      int64_t offset;
      if (transpose || type.getRank() != 2 ||
          failed(type.getStridesAndOffset(strides, offset)) ||
          strides[1] != 1 || strides[0] != leadDimension.getSExtValue())
        return op->emitError("tmc-gpu-launch-to-loops: emulates warp-level "
                             "matrix loads and stores of row-major 2-D "
                             "memrefs whose row stride is the leading "
                             "dimension only");
      return success();
    };
    auto forTile = [&](int64_t r, int64_t c,
                       function_ref<void(Value, Value)> body) {
      forAllElements({r, c}, [&](ValueRange rc) { body(rc[0], rc[1]); });
    };
    if (auto load = dyn_cast<gpu::SubgroupMmaLoadMatrixOp>(op))
      if (failed(checkTile(load.getSrcMemref(), load.getLeadDimension(),
                           load.getTranspose().has_value())))
        return failure();
    if (auto store = dyn_cast<gpu::SubgroupMmaStoreMatrixOp>(op))
      if (failed(checkTile(store.getDstMemref(), store.getLeadDimension(),
                           store.getTranspose().has_value())))
        return failure();
    if (auto compute = dyn_cast<gpu::SubgroupMmaComputeOp>(op))
      if (compute.getATranspose() || compute.getBTranspose())
        return op->emitError("tmc-gpu-launch-to-loops: transposed warp-level "
                             "matrix operands are not emulated");

    auto ifOp = scf::IfOp::create(b, loc, leader);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    if (auto load = dyn_cast<gpu::SubgroupMmaLoadMatrixOp>(op)) {
      Value src = mapping.lookupOrDefault(load.getSrcMemref());
      Value i = mapping.lookupOrDefault(load.getIndices()[0]);
      Value j = mapping.lookupOrDefault(load.getIndices()[1]);
      forTile(rows, cols, [&](Value r, Value c) {
        Value v = memref::LoadOp::create(
            b, loc, src,
            ValueRange{arith::AddIOp::create(b, loc, i, r),
                       arith::AddIOp::create(b, loc, j, c)});
        memref::StoreOp::create(b, loc, v, fragment, ValueRange{r, c});
      });
    } else if (auto store = dyn_cast<gpu::SubgroupMmaStoreMatrixOp>(op)) {
      Value src = mapping.lookupOrDefault(store.getSrc());
      Value dst = mapping.lookupOrDefault(store.getDstMemref());
      Value i = mapping.lookupOrDefault(store.getIndices()[0]);
      Value j = mapping.lookupOrDefault(store.getIndices()[1]);
      auto type = cast<gpu::MMAMatrixType>(store.getSrc().getType());
      forTile(type.getShape()[0], type.getShape()[1], [&](Value r, Value c) {
        Value v = memref::LoadOp::create(b, loc, src, ValueRange{r, c});
        memref::StoreOp::create(
            b, loc, v, dst,
            ValueRange{arith::AddIOp::create(b, loc, i, r),
                       arith::AddIOp::create(b, loc, j, c)});
      });
    } else if (auto constant = dyn_cast<gpu::SubgroupMmaConstantMatrixOp>(op)) {
      Value v = mapping.lookupOrDefault(constant.getValue());
      forTile(rows, cols, [&](Value r, Value c) {
        memref::StoreOp::create(b, loc, v, fragment, ValueRange{r, c});
      });
    } else {
      auto compute = cast<gpu::SubgroupMmaComputeOp>(op);
      Value a = mapping.lookupOrDefault(compute.getOpA());
      Value bm = mapping.lookupOrDefault(compute.getOpB());
      Value c = mapping.lookupOrDefault(compute.getOpC());
      int64_t depth =
          cast<gpu::MMAMatrixType>(compute.getOpA().getType()).getShape()[1];
      Type accType = getElementTypeOrSelf(fragment.getType());
      forTile(rows, cols, [&](Value r, Value n) {
        Value init = memref::LoadOp::create(b, loc, c, ValueRange{r, n});
        auto kLoop = scf::ForOp::create(b, loc, zero, index(depth), one,
                                        ValueRange{init});
        {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(kLoop.getBody());
          Value k = kLoop.getInductionVar();
          auto widen = [&](Value v) -> Value {
            return v.getType() == accType
                       ? v
                       : arith::ExtFOp::create(b, loc, accType, v).getResult();
          };
          Value x = widen(memref::LoadOp::create(b, loc, a, ValueRange{r, k}));
          Value y =
              widen(memref::LoadOp::create(b, loc, bm, ValueRange{k, n}));
          Value sum = arith::AddFOp::create(
              b, loc, kLoop.getRegionIterArgs()[0],
              arith::MulFOp::create(b, loc, x, y));
          scf::YieldOp::create(b, loc, sum);
        }
        memref::StoreOp::create(b, loc, kLoop.getResult(0), fragment,
                                ValueRange{r, n});
      });
    }
    return success();
  }

  /// An `nvvm.mma.sync` m16n8k16 with f16 or bf16 multiplicands, or
  /// m16n8k8 with tf32 ones, and f32 accumulators, done between two phases,
  /// once per warp: each thread's registers are kept per thread, as their
  /// e elements (two 16-bit halves, or one tf32 value); every result
  /// element is computed from the registers of the warp's lanes that hold
  /// its row of A and column of B, as the PTX ISA lays the fragments out
  /// (with q = 4 e, the k of a register's column of lanes): A's element
  /// (row, k) is element k % e of register (row / 8) + 2 (k / q) of lane
  /// 4 (row % 8) + (k % q) / e, B's element (k, col) element k % e of
  /// register k / q of lane 4 col + (k % q) / e, and lane 4 group + quad
  /// holds accumulators (group + 8 (i / 2), 2 quad + i % 2), i = 0..3. The
  /// results, read with `llvm.extractvalue`, are kept per thread for the
  /// phases after.
  LogicalResult emitMmaSync(NVVM::MmaOp mma) {
    NVVM::MMAShapeAttr shape = mma.getShape();
    Type i32 = b.getI32Type(), f32 = b.getF32Type();
    std::optional<NVVM::MMATypes> ptxType = mma.getMultiplicandAPtxType();
    // The f16 types are implied by the operands (and not printed).
    if (!ptxType && !mma.getOperandA().empty() &&
        mma.getOperandA()[0].getType() ==
            VectorType::get({2}, b.getF16Type()))
      ptxType = NVVM::MMATypes::f16;
    Type half;
    if (ptxType == NVVM::MMATypes::bf16)
      half = b.getBF16Type();
    else if (ptxType == NVVM::MMATypes::f16)
      half = b.getF16Type();
    else if (ptxType == NVVM::MMATypes::tf32)
      half = f32;
    // Elements per register, and the k of the registers' shape.
    int64_t elements = half && half.isF32() ? 1 : 2, depth = 8 * elements;
    // The register types NVVM gives these multiplicands.
    Type reg = half && half.isF16() ? Type(VectorType::get({2}, half)) : i32;
    auto allOf = [](ValueRange values, Type type) {
      return llvm::all_of(values.getTypes(), [&](Type t) { return t == type; });
    };
    if (shape.getM() != 16 || shape.getN() != 8 || shape.getK() != depth ||
        !half ||
        mma.getMultiplicandBPtxType().value_or(*ptxType) != *ptxType ||
        mma.getLayoutA() != NVVM::MMALayout::row ||
        mma.getLayoutB() != NVVM::MMALayout::col ||
        mma.getOperandA().size() != 4 || mma.getOperandB().size() != 2 ||
        mma.getOperandC().size() != 4 || !allOf(mma.getOperandA(), reg) ||
        !allOf(mma.getOperandB(), reg) || !allOf(mma.getOperandC(), f32) ||
        numThreads % 32 != 0)
      return mma.emitError("tmc-gpu-launch-to-loops: emulates mma.sync "
                           "m16n8k16 with row-major f16 or bf16 A, or "
                           "m16n8k8 with row-major tf32 A, column-major B "
                           "of the same type and f32 accumulators, in blocks "
                           "of whole warps, only");
    SmallVector<LLVM::ExtractValueOp> extracts;
    for (Operation *user : mma->getUsers()) {
      auto extract = dyn_cast<LLVM::ExtractValueOp>(user);
      if (!extract || extract.getPosition().size() != 1 ||
          extract.getPosition()[0] < 0 || extract.getPosition()[0] > 3)
        return mma.emitError("tmc-gpu-launch-to-loops: the results of an "
                             "mma.sync must be read with llvm.extractvalue");
      extracts.push_back(extract);
    }
    // The registers of every thread: [thread][register][half] and
    // [thread][accumulator].
    Value aRegs = allocate({numThreads, 4, elements}, half),
          bRegs = allocate({numThreads, 2, elements}, half),
          cRegs = allocate({numThreads, 4}, f32);
    SmallVector<Value> results;
    for (int i = 0; i < 4; ++i)
      results.push_back(allocate({numThreads}, f32));
    // The two halves of a register, first element first.
    auto halves = [&](Value v) -> SmallVector<Value, 2> {
      if (isa<VectorType>(v.getType()))
        return {vector::ExtractOp::create(b, loc, v, 0),
                vector::ExtractOp::create(b, loc, v, 1)};
      if (half.isF32())
        return {arith::BitcastOp::create(b, loc, f32, v)};
      SmallVector<Value, 2> parts(2);
      for (int h = 0; h < 2; ++h) {
        Value bits = v;
        if (h == 1)
          bits = arith::ShRUIOp::create(
              b, loc, v, arith::ConstantIntOp::create(b, loc, i32, 16));
        bits = arith::TruncIOp::create(b, loc, b.getI16Type(), bits);
        parts[h] = arith::BitcastOp::create(b, loc, half, bits);
      }
      return parts;
    };
    if (failed(forEachThread([&](IRMapping &mapping, Value tid) {
          for (auto [operands, buffer] :
               {std::make_pair(mma.getOperandA(), aRegs),
                std::make_pair(mma.getOperandB(), bRegs)})
            for (auto [r, v] : llvm::enumerate(operands)) {
              Value current = resolveThread(v, mapping, tid);
              if (!current)
                return failure();
              for (auto [h, part] : llvm::enumerate(halves(current)))
                memref::StoreOp::create(b, loc, part, buffer,
                                        ValueRange{tid, index(r), index(h)});
            }
          for (auto [r, v] : llvm::enumerate(mma.getOperandC())) {
            Value current = resolveThread(v, mapping, tid);
            if (!current)
              return failure();
            memref::StoreOp::create(b, loc, current, cRegs,
                                    ValueRange{tid, index(r)});
          }
          return success();
        })))
      return failure();

    OpBuilder::InsertionGuard guard(b);
    Value zero = index(0), one = index(1);
    auto loopTo = [&](int64_t n) {
      auto loop = scf::ForOp::create(b, loc, zero, index(n), one);
      b.setInsertionPointToStart(loop.getBody());
      return loop.getInductionVar();
    };
    auto div = [&](Value x, int64_t d) -> Value {
      return arith::DivUIOp::create(b, loc, x, index(d));
    };
    auto rem = [&](Value x, int64_t d) -> Value {
      return arith::RemUIOp::create(b, loc, x, index(d));
    };
    auto add = [&](Value x, Value y) -> Value {
      return arith::AddIOp::create(b, loc, x, y);
    };
    auto mul = [&](Value x, int64_t c) -> Value {
      return arith::MulIOp::create(b, loc, x, index(c));
    };
    auto element = [&](Value buffer, Value lane, Value r, Value h) -> Value {
      Value v = memref::LoadOp::create(b, loc, buffer, ValueRange{lane, r, h});
      return v.getType() == f32 ? v : arith::ExtFOp::create(b, loc, f32, v);
    };
    Value warpBase = mul(loopTo(numThreads / 32), 32);
    Value lane = loopTo(32);
    Value tid = add(warpBase, lane);
    Value group = div(lane, 4), quad = rem(lane, 4);
    for (int64_t i = 0; i < 4; ++i) {
      Value col = add(mul(quad, 2), index(i % 2));
      Value init =
          memref::LoadOp::create(b, loc, cRegs, ValueRange{tid, index(i)});
      auto kLoop = scf::ForOp::create(b, loc, zero, index(depth), one,
                                      ValueRange{init});
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(kLoop.getBody());
        Value k = kLoop.getInductionVar();
        int64_t q = 4 * elements;
        Value kHigh = div(k, q), kPair = div(rem(k, q), elements),
              kHalf = rem(k, elements);
        // Row group + 8 (i / 2) of A: row % 8 = group, row / 8 = i / 2.
        Value aLane = add(warpBase, add(mul(group, 4), kPair));
        Value aReg = add(index(i / 2), mul(kHigh, 2));
        Value bLane = add(warpBase, add(mul(col, 4), kPair));
        Value a = element(aRegs, aLane, aReg, kHalf);
        Value bv = element(bRegs, bLane, kHigh, kHalf);
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::AddFOp::create(
                b, loc, kLoop.getRegionIterArgs()[0],
                arith::MulFOp::create(b, loc, a, bv))});
      }
      memref::StoreOp::create(b, loc, kLoop.getResult(0), results[i], tid);
    }
    for (LLVM::ExtractValueOp extract : extracts)
      stored[extract.getResult()] = results[extract.getPosition()[0]];
    return success();
  }

  /// Maps every value `op` (or an op nested in it) uses from outside it.
  LogicalResult mapOperands(Operation *op, IRMapping &mapping, Value tid) {
    WalkResult result = op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands()) {
        if (mapping.contains(operand))
          continue;
        Region *region = operand.getParentRegion();
        if (op->isAncestor(region->getParentOp()) &&
            region->getParentOp() != op->getParentOp())
          continue; // defined inside op
        if (!resolveThread(operand, mapping, tid)) {
          nested->emitError("tmc-gpu-launch-to-loops: a value computed "
                            "before a barrier is used after it and cannot "
                            "be kept per thread");
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  /// `v` for the thread `tid` at the current insertion point (in a phase).
  Value resolveThread(Value v, IRMapping &mapping, Value tid) {
    if (Value mapped = mapping.lookupOrNull(v))
      return mapped;
    if (!launch->isAncestor(v.getParentRegion()->getParentOp()))
      return v;
    if (auto it = stored.find(v); it != stored.end()) {
      Value loaded = loadForThread(v.getType(), it->second, tid);
      mapping.map(v, loaded);
      return loaded;
    }
    Operation *op = v.getDefiningOp();
    if (!op || !isRematerializable(op))
      return nullptr;
    for (Value operand : op->getOperands())
      if (!resolveThread(operand, mapping, tid))
        return nullptr;
    b.clone(*op, mapping);
    return mapping.lookup(v);
  }

  /// `v` as one value for the whole block, at the current insertion point
  /// (between phases); null if it differs per thread.
  Value resolveUniform(Value v) {
    if (Value mapped = blockMapping.lookupOrNull(v))
      return mapped;
    if (!launch->isAncestor(v.getParentRegion()->getParentOp()))
      return v;
    Operation *op = v.getDefiningOp();
    if (!op || !isRematerializable(op))
      return nullptr;
    for (Value operand : op->getOperands())
      if (!resolveUniform(operand))
        return nullptr;
    b.clone(*op, blockMapping);
    return blockMapping.lookup(v);
  }

  RewriterBase &b;
  gpu::LaunchOp launch;
  Location loc;
  std::array<int64_t, 3> blockSize;
  int64_t numThreads;
  IRMapping &blockMapping;
  Operation *storageAnchor;
  llvm::MapVector<Value, Value> privateBuffers;
  /// With race checks: the epoch counter, and each workgroup host buffer's
  /// last writers and readers.
  Value epoch;
  DenseMap<Value, std::array<Value, 2>> shadows;
  DenseMap<Value, Value> stored;
};

/// Replaces `launch` by loops over its blocks and threads.
static LogicalResult launchToLoops(RewriterBase &rewriter,
                                   gpu::LaunchOp launch, bool checkRaces) {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      !launch.getBody().hasOneBlock())
    return launch.emitError("tmc-gpu-launch-to-loops: expected a "
                            "synchronous launch with one block");
  bool phases = threadsCommunicate(launch);
  std::optional<std::array<int64_t, 3>> blockSize = staticBlockSize(launch);
  if (phases && !blockSize)
    return failure();
  Location loc = launch.getLoc();
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  // Blocks z, y, x, then (without phases) threads z, y, x.
  Value bounds[6] = {grid.z, grid.y, grid.x, block.z, block.y, block.x};
  Value ivs[6];
  OpBuilder::InsertionGuard guard(rewriter);
  for (int i = 0; i < (phases ? 3 : 6); ++i) {
    auto loop = scf::ForOp::create(rewriter, loc, zero, bounds[i], one);
    ivs[i] = loop.getInductionVar();
    rewriter.setInsertionPointToStart(loop.getBody());
  }
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  gpu::KernelDim3 gridSize = launch.getGridSize();
  gpu::KernelDim3 blockSizeArgs = launch.getBlockSize();
  IRMapping mapping;
  mapping.map(blockIds.z, ivs[0]);
  mapping.map(blockIds.y, ivs[1]);
  mapping.map(blockIds.x, ivs[2]);
  mapping.map(gridSize.x, grid.x);
  mapping.map(gridSize.y, grid.y);
  mapping.map(gridSize.z, grid.z);
  mapping.map(blockSizeArgs.x, block.x);
  mapping.map(blockSizeArgs.y, block.y);
  mapping.map(blockSizeArgs.z, block.z);
  // The buffers of the emulation (workgroup, private, per-thread values)
  // are allocated once, at the function's entry, before this anchor: a
  // launch inside host loops must not grow the stack per iteration. Each
  // block writes them before it reads them.
  Operation *anchor;
  {
    OpBuilder::InsertionGuard entry(rewriter);
    auto func = launch->getParentOfType<FunctionOpInterface>();
    rewriter.setInsertionPointToStart(&func.getFunctionBody().front());
    anchor = arith::ConstantIndexOp::create(rewriter, loc, 0);
  }
  auto mapToHostBuffer = [&](BlockArgument buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    auto hostType = MemRefType::get(type.getShape(), type.getElementType());
    OpBuilder::InsertionGuard entry(rewriter);
    rewriter.setInsertionPoint(anchor);
    mapping.map(buffer,
                memref::AllocaOp::create(rewriter, loc, hostType).getResult());
  };
  for (BlockArgument buffer : launch.getWorkgroupAttributions())
    mapToHostBuffer(buffer);
  if (phases) {
    BlockEmulator emulator(rewriter, launch, *blockSize, mapping, anchor);
    emulator.allocatePrivate();
    if (checkRaces)
      emulator.checkRaces(llvm::map_to_vector(
          launch.getWorkgroupAttributions(),
          [&](BlockArgument buffer) { return mapping.lookup(buffer); }));
    if (failed(emulator.emit()))
      return failure();
    rewriter.eraseOp(anchor);
    rewriter.eraseOp(launch);
    return success();
  }
  mapping.map(threadIds.z, ivs[3]);
  mapping.map(threadIds.y, ivs[4]);
  mapping.map(threadIds.x, ivs[5]);
  // One thread per block: its private memory is the block's and its
  // barriers are no-ops.
  for (BlockArgument buffer : launch.getPrivateAttributions())
    mapToHostBuffer(buffer);
  rewriter.eraseOp(anchor);
  for (Operation &op : launch.getBody().front().without_terminator())
    rewriter.clone(op, mapping);
  SmallVector<gpu::BarrierOp> barriers;
  rewriter.getInsertionBlock()->getParentOp()->walk(
      [&](gpu::BarrierOp barrier) { barriers.push_back(barrier); });
  for (gpu::BarrierOp barrier : barriers)
    rewriter.eraseOp(barrier);
  rewriter.eraseOp(launch);
  return success();
}

struct TmcGpuLaunchToLoopsPass
    : public tmc::impl::TmcGpuLaunchToLoopsBase<TmcGpuLaunchToLoopsPass> {
  using TmcGpuLaunchToLoopsBase::TmcGpuLaunchToLoopsBase;

  void runOnOperation() override {
    bool refused = false;
    getOperation().walk([&](gpu::LaunchOp launch) {
      if (threadsCommunicate(launch) && !staticBlockSize(launch)) {
        launch.emitError("tmc-gpu-launch-to-loops: the threads of this "
                         "launch share memory or synchronize and its block "
                         "size is not constant");
        refused = true;
      }
    });
    if (refused)
      return signalPassFailure();
    // Each launch is rewritten on its own: a launch whose barriers cannot
    // be emulated reports why.
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp launch) {
      launches.push_back(launch);
    });
    IRRewriter rewriter(&getContext());
    for (gpu::LaunchOp launch : launches) {
      rewriter.setInsertionPoint(launch);
      if (failed(launchToLoops(rewriter, launch, checkRaces)))
        return signalPassFailure();
    }
  }
};

} // namespace
