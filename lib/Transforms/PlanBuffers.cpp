//===- PlanBuffers.cpp - Place buffers in one arena -------------*- C++ -*-===//
//
// This file implements `tmc-plan-buffers`, the static buffer planner, and
// `tmc-check-buffer-plan`, its independent checker.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "tmc/Transforms/BufferLiveness.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCPLANBUFFERS
#define GEN_PASS_DEF_TMCCHECKBUFFERPLAN
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

/// Bytes of a statically shaped memref.
static int64_t byteSize(MemRefType type) {
  return type.getNumElements() *
         static_cast<int64_t>(
             llvm::divideCeil(type.getElementTypeBitWidth(), 8));
}

/// A readable name for a buffer: the name or file:line of its location.
static std::string bufferName(Operation *op, unsigned index) {
  std::string name;
  llvm::raw_string_ostream os(name);
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    loc = fused.getLocations().front();
  if (auto named = dyn_cast<NameLoc>(loc))
    os << named.getName().getValue();
  else if (auto file = dyn_cast<FileLineColLoc>(loc))
    os << llvm::sys::path::filename(file.getFilename().getValue()) << ":"
       << file.getLine();
  else
    os << "buffer";
  os << "#" << index;
  return name;
}

/// Whether `alloc` can live at one fixed place of `arena`: a statically
/// shaped, identity-layout buffer of a byte-addressable element type in the
/// arena's memory space, nested only in sequential control flow. An
/// allocation in a parallel loop's body exists once per concurrent
/// iteration, so it stays a heap allocation.
static bool isPlannable(memref::AllocOp alloc, Value arena) {
  MemRefType type = alloc.getType();
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat() ||
      type.getMemorySpace() !=
          cast<MemRefType>(arena.getType()).getMemorySpace())
    return false;
  for (Operation *parent = alloc->getParentOp(); !isa<func::FuncOp>(parent);
       parent = parent->getParentOp())
    if (!isa<scf::ForOp, scf::WhileOp, scf::IfOp, scf::ExecuteRegionOp>(
            parent))
      return false;
  return true;
}

namespace {

/// Places buffers in `order`, each at the best (smallest fitting) or first
/// gap among the buffers already placed that are live at the same time.
/// Returns the arena size.
static int64_t placeBuffers(MutableArrayRef<PlannedBuffer> buffers,
                            ArrayRef<unsigned> order, int64_t alignment,
                            bool bestFit) {
  SmallVector<unsigned> placed;
  int64_t arena = 0;
  for (unsigned id : order) {
    PlannedBuffer &buffer = buffers[id];
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (unsigned other : placed)
      if (buffers[other].range.overlaps(buffer.range))
        taken.push_back({buffers[other].offset,
                         buffers[other].offset + buffers[other].size});
    llvm::sort(taken);
    int64_t cursor = 0, best = -1, bestGap = INT64_MAX;
    for (auto [begin, end] : taken) {
      int64_t gap = begin - cursor;
      if (gap >= buffer.size && gap < bestGap) {
        best = cursor;
        bestGap = gap;
        if (!bestFit)
          break;
      }
      cursor = std::max(cursor, static_cast<int64_t>(llvm::alignTo(end, alignment)));
    }
    buffer.offset = best >= 0 ? best : cursor;
    arena = std::max(arena, buffer.offset + buffer.size);
    placed.push_back(id);
  }
  return llvm::alignTo(arena, alignment);
}

struct TmcPlanBuffersPass
    : public tmc::impl::TmcPlanBuffersBase<TmcPlanBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t align = alignment;
    if (align <= 0 || (align & (align - 1)) != 0) {
      module.emitError("tmc-plan-buffers: alignment must be a power of two, "
                       "got ")
          << align;
      return signalPassFailure();
    }
    Builder b(&getContext());
    int64_t arenaBytes = 0, lowerBound = 0, total = 0;
    SmallVector<Attribute> planAttrs;
    // Program points of the report are numbered across the module: each
    // function's follow the previous one's (they never run at once).
    int64_t pointBase = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      Value arena = getArenaArgument(func);
      if (!arena || func.isExternal())
        continue;
      auto arenaType = dyn_cast<MemRefType>(arena.getType());
      if (!arenaType || arenaType.getRank() != 1 ||
          !arenaType.getElementType().isInteger(8) ||
          !arenaType.getLayout().isIdentity()) {
        func.emitError("tmc-plan-buffers: the arena argument must be a 1-D "
                       "memref of i8, got ")
            << arena.getType();
        return signalPassFailure();
      }
      BufferLiveness liveness(func);
      SmallVector<memref::AllocOp> allocs;
      SmallVector<PlannedBuffer> buffers;
      func.walk([&](memref::AllocOp alloc) {
        if (!isPlannable(alloc, arena))
          return;
        MemRefType type = alloc.getType();
        FailureOr<LiveRange> range = liveness.getLiveRange(alloc);
        if (failed(range))
          return;
        PlannedBuffer buffer;
        buffer.name = bufferName(alloc, buffers.size());
        buffer.size = byteSize(type);
        buffer.range = *range;
        buffers.push_back(buffer);
        allocs.push_back(alloc);
      });
      if (buffers.empty())
        continue;

      // Try each strategy; keep the smallest arena.
      SmallVector<unsigned> bySize(buffers.size()), byStart(buffers.size());
      for (unsigned i = 0; i < buffers.size(); ++i)
        bySize[i] = byStart[i] = i;
      std::stable_sort(bySize.begin(), bySize.end(), [&](unsigned x, unsigned y) {
        return buffers[x].size > buffers[y].size;
      });
      std::stable_sort(byStart.begin(), byStart.end(),
                       [&](unsigned x, unsigned y) {
                         return buffers[x].range.first < buffers[y].range.first;
                       });
      struct Strategy {
        ArrayRef<unsigned> order;
        bool bestFit;
      };
      Strategy strategies[] = {{bySize, true}, {bySize, false}, {byStart, false}};
      int64_t best = INT64_MAX;
      SmallVector<PlannedBuffer> bestPlan;
      for (const Strategy &strategy : strategies) {
        SmallVector<PlannedBuffer> trial(buffers);
        int64_t size = placeBuffers(trial, strategy.order, align,
                                    strategy.bestFit);
        if (size < best) {
          best = size;
          bestPlan = std::move(trial);
        }
      }
      std::string message;
      if (!verifyBufferPlan(bestPlan, best, message)) {
        func.emitError("tmc-plan-buffers produced an invalid plan: ")
            << message;
        return signalPassFailure();
      }

      // Rewrite the allocations into views of the arena.
      OpBuilder builder(&getContext());
      for (auto [alloc, planned] : llvm::zip(allocs, bestPlan)) {
        builder.setInsertionPoint(alloc);
        Value offset = arith::ConstantIndexOp::create(builder, alloc.getLoc(),
                                                      planned.offset);
        Value view = memref::ViewOp::create(builder, alloc.getLoc(),
                                            alloc.getType(), arena, offset,
                                            ValueRange{});
        for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
          if (isa<memref::DeallocOp>(user))
            user->erase();
        alloc.getResult().replaceAllUsesWith(view);
        alloc.erase();
      }
      for (const PlannedBuffer &p : bestPlan) {
        planAttrs.push_back(b.getDictionaryAttr({
            b.getNamedAttr("name", b.getStringAttr(p.name)),
            b.getNamedAttr("size", b.getI64IntegerAttr(p.size)),
            b.getNamedAttr("offset", b.getI64IntegerAttr(p.offset)),
            b.getNamedAttr("first_use",
                           b.getI64IntegerAttr(pointBase + p.range.first)),
            b.getNamedAttr("last_use",
                           b.getI64IntegerAttr(pointBase + p.range.last)),
        }));
        total += p.size;
      }
      int64_t lastPoint = 0;
      for (const PlannedBuffer &p : bestPlan)
        lastPoint = std::max(lastPoint, p.range.last);
      pointBase += lastPoint + 1;
      arenaBytes = std::max(arenaBytes, best);
      lowerBound = std::max(lowerBound, computeLiveBytesLowerBound(bestPlan));
    }
    module->setAttr("tmc.arena_bytes", b.getI64IntegerAttr(arenaBytes));
    module->setAttr("tmc.lower_bound_bytes", b.getI64IntegerAttr(lowerBound));
    module->setAttr("tmc.buffers_total_bytes", b.getI64IntegerAttr(total));
    module->setAttr("tmc.buffer_plan", b.getArrayAttr(planAttrs));
  }
};

struct TmcCheckBufferPlanPass
    : public tmc::impl::TmcCheckBufferPlanBase<TmcCheckBufferPlanPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t arenaBytes = INT64_MAX;
    if (auto attr = module->getAttrOfType<IntegerAttr>("tmc.arena_bytes"))
      arenaBytes = attr.getInt();
    for (auto func : module.getOps<func::FuncOp>()) {
      Value arena = getArenaArgument(func);
      if (!arena || func.isExternal())
        continue;
      BufferLiveness liveness(func);
      SmallVector<PlannedBuffer> views;
      // Views in program order, so that their names number them in order.
      SmallVector<memref::ViewOp> arenaViews;
      func.walk([&](memref::ViewOp view) {
        if (view.getSource() == arena)
          arenaViews.push_back(view);
      });
      for (memref::ViewOp view : arenaViews) {
        std::optional<int64_t> offset =
            getConstantIntValue(view.getByteShift());
        MemRefType type = view.getType();
        if (!offset || !type.hasStaticShape() ||
            !type.getElementType().isIntOrFloat()) {
          view.emitOpError("arena view with a dynamic offset or shape, or "
                           "elements without a byte size, cannot be checked");
          return signalPassFailure();
        }
        FailureOr<LiveRange> range = liveness.getLiveRange(view);
        if (failed(range)) {
          view.emitOpError("arena view escapes the function or is carried "
                           "across loop iterations");
          return signalPassFailure();
        }
        PlannedBuffer buffer;
        buffer.name = bufferName(view, views.size());
        buffer.size = byteSize(type);
        buffer.offset = *offset;
        buffer.range = *range;
        views.push_back(buffer);
      }
      std::string message;
      if (!verifyBufferPlan(views, arenaBytes, message)) {
        func.emitError("buffer plan check failed: ") << message;
        return signalPassFailure();
      }
    }
  }
};

} // namespace
