//===- ForwardOutParams.cpp - Results straight into out-params --*- C++ -*-===//
//
// This file implements `tmc-forward-out-params`, which removes the final
// copy from a local allocation into an out-parameter by computing into the
// out-parameter directly.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCFORWARDOUTPARAMS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Returns the value whose buffer `value` is, looking through the results
/// of loops that carry a buffer unchanged (bufferized in place: the body
/// yields, possibly through inner loops of the same kind, the iteration
/// argument itself).
static Value traceCarriedBuffer(Value value) {
  while (auto result = dyn_cast<OpResult>(value)) {
    auto forOp = dyn_cast<scf::ForOp>(result.getOwner());
    if (!forOp)
      break;
    unsigned n = result.getResultNumber();
    auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
    if (traceCarriedBuffer(yield.getOperand(n)) != forOp.getRegionIterArgs()[n])
      break;
    value = forOp.getInitArgs()[n];
  }
  return value;
}

struct TmcForwardOutParamsPass
    : public tmc::impl::TmcForwardOutParamsBase<TmcForwardOutParamsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &entry = func.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
    if (!ret)
      return;
    // Walk back over the copies that end the entry block.
    SmallVector<memref::CopyOp> copies;
    for (Operation *op = ret->getPrevNode(); op; op = op->getPrevNode()) {
      auto copy = dyn_cast<memref::CopyOp>(op);
      if (!copy)
        break;
      copies.push_back(copy);
    }
    for (memref::CopyOp copy : copies) {
      auto target = dyn_cast<BlockArgument>(copy.getTarget());
      auto alloc =
          traceCarriedBuffer(copy.getSource()).getDefiningOp<memref::AllocOp>();
      if (!target || target.getOwner() != &entry || !alloc ||
          alloc->getBlock() != &entry || alloc.getType() != target.getType())
        continue;
      // The out-parameter must be written only by this copy, and the copy
      // must be the allocation's last use.
      if (!target.hasOneUse())
        continue;
      auto beforeCopy = [&](Operation *user) {
        if (user == copy || isa<memref::DeallocOp>(user))
          return true;
        Operation *ancestor = entry.findAncestorOpInBlock(*user);
        return ancestor && ancestor->isBeforeInBlock(copy);
      };
      if (!llvm::all_of(alloc->getUsers(), beforeCopy) ||
          !llvm::all_of(copy.getSource().getUsers(), beforeCopy))
        continue;
      // Every use of the allocation must come after the out-parameter is
      // available: it is a function argument, so it always is.
      copy.erase();
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.getResult().replaceAllUsesWith(target);
      alloc.erase();
    }
  }
};

} // namespace
