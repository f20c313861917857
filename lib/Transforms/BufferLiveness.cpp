//===- BufferLiveness.cpp - Live ranges of buffers --------------*- C++ -*-===//
//
// This file implements the buffer liveness analysis shared by the planner,
// its checker and the memory report.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/BufferLiveness.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tmc;

BufferLiveness::BufferLiveness(func::FuncOp func) {
  std::function<void(Operation *)> number = [&](Operation *op) {
    index[op] = numPoints++;
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Operation &nested : block)
          number(&nested);
    end[op] = numPoints - 1;
  };
  for (Block &block : func.getBody())
    for (Operation &op : block)
      number(&op);
}

/// Adds to `aliases` every value that may refer to the memory of `root`.
/// Fails when `root` escapes the function or is defined in a loop and
/// carried to a later iteration: one fixed place cannot hold the buffers of
/// two iterations at once.
static LogicalResult collectAliases(Value root,
                                    llvm::SetVector<Value> &aliases) {
  Operation *rootDef = root.getDefiningOp();
  SmallVector<Value> worklist = {root};
  aliases.insert(root);
  auto add = [&](Value v) {
    if (aliases.insert(v))
      worklist.push_back(v);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (auto view = dyn_cast<ViewLikeOpInterface>(user)) {
        if (view.getViewSource() == value)
          for (Value result : user->getResults())
            add(result);
        continue;
      }
      if (isa<memref::CastOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
              memref::ReinterpretCastOp>(user)) {
        add(user->getResult(0));
        continue;
      }
      if (isa<func::ReturnOp>(user))
        return failure();
      // Yielded to the parent: the parent's result and, for loops, the
      // region's block argument alias the buffer.
      if (user->hasTrait<OpTrait::IsTerminator>()) {
        Operation *parent = user->getParentOp();
        unsigned n = use.getOperandNumber();
        if (rootDef && isa<LoopLikeOpInterface>(parent) &&
            parent->isProperAncestor(rootDef))
          return failure();
        if (auto forOp = dyn_cast<scf::ForOp>(parent)) {
          add(forOp.getResult(n));
          add(forOp.getRegionIterArgs()[n]);
        } else if (isa<scf::IfOp, scf::ExecuteRegionOp>(parent)) {
          add(parent->getResult(n));
        } else if (!isa<func::FuncOp>(parent) && parent->getNumResults()) {
          // Unknown region op: every result may alias.
          for (Value result : parent->getResults())
            add(result);
        }
        continue;
      }
      // Passed into a loop as an initial iteration value.
      if (auto forOp = dyn_cast<scf::ForOp>(user)) {
        if (use.getOperandNumber() >= forOp.getNumControlOperands()) {
          unsigned n = use.getOperandNumber() - forOp.getNumControlOperands();
          add(forOp.getRegionIterArgs()[n]);
          add(forOp.getResult(n));
        }
        continue;
      }
      // Any other op may return the buffer (a call, a select, a while
      // loop): its memref results alias it. Uses inside the op's regions
      // are covered by the op itself being a use.
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()))
          add(result);
    }
  }
  return success();
}

FailureOr<LiveRange> BufferLiveness::getLiveRange(Value buffer) const {
  llvm::SetVector<Value> aliases;
  if (failed(collectAliases(buffer, aliases)))
    return failure();
  Operation *def = buffer.getDefiningOp();
  Block *defBlock = def ? def->getBlock()
                        : cast<BlockArgument>(buffer).getOwner();
  // Find the innermost block that holds the definition and every use.
  SmallVector<Operation *> users;
  for (Value alias : aliases)
    for (Operation *user : alias.getUsers())
      users.push_back(user);
  Block *scope = defBlock;
  auto contains = [&](Block *block, Operation *op) {
    return block->findAncestorOpInBlock(*op) != nullptr;
  };
  while (scope->getParentOp() &&
         !llvm::all_of(users, [&](Operation *u) { return contains(scope, u); })) {
    Operation *parent = scope->getParentOp();
    if (!parent->getBlock())
      break;
    scope = parent->getBlock();
  }
  LiveRange range;
  if (def) {
    Operation *defAncestor = scope->findAncestorOpInBlock(*def);
    range.first = defAncestor == def ? index.lookup(def)
                                     : index.lookup(defAncestor);
  } else {
    range.first = 0;
  }
  range.last = range.first;
  for (Operation *user : users)
    if (Operation *ancestor = scope->findAncestorOpInBlock(*user))
      range.last = std::max(range.last, end.lookup(ancestor));
  return range;
}

int64_t mlir::tmc::computeLiveBytesLowerBound(ArrayRef<PlannedBuffer> buffers) {
  std::vector<std::pair<int64_t, int64_t>> events;
  for (const PlannedBuffer &b : buffers) {
    events.push_back({b.range.first, b.size});
    events.push_back({b.range.last + 1, -b.size});
  }
  // At one point, frees (negative) apply before allocations.
  std::sort(events.begin(), events.end());
  int64_t live = 0, peak = 0;
  for (auto [point, delta] : events) {
    live += delta;
    peak = std::max(peak, live);
  }
  return peak;
}

bool mlir::tmc::verifyBufferPlan(ArrayRef<PlannedBuffer> buffers,
                                 int64_t arenaBytes, std::string &message) {
  for (const PlannedBuffer &b : buffers) {
    if (b.offset < 0 || b.offset + b.size > arenaBytes) {
      message = "buffer '" + b.name + "' [" + std::to_string(b.offset) + ", " +
                std::to_string(b.offset + b.size) +
                ") does not fit in the arena of " + std::to_string(arenaBytes) +
                " bytes";
      return false;
    }
  }
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const PlannedBuffer &a = buffers[i], &b = buffers[j];
      if (!a.range.overlaps(b.range))
        continue;
      if (a.offset < b.offset + b.size && b.offset < a.offset + a.size) {
        message = "buffers '" + a.name + "' and '" + b.name +
                  "' are live at the same time (points [" +
                  std::to_string(a.range.first) + ", " +
                  std::to_string(a.range.last) + "] and [" +
                  std::to_string(b.range.first) + ", " +
                  std::to_string(b.range.last) + "]) and overlap in the arena";
        return false;
      }
    }
  return true;
}

Value mlir::tmc::getArenaArgument(func::FuncOp func) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (auto name = func.getArgAttrOfType<StringAttr>(i, "tfm.name"))
      if (name.getValue() == "arena")
        return func.getArgument(i);
  return {};
}

bool mlir::tmc::isArenaArgument(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto func =
      arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()) : nullptr;
  return func && arg.getOwner()->isEntryBlock() &&
         getArenaArgument(func) == arg;
}
