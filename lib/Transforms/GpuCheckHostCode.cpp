//===- GpuCheckHostCode.cpp - No device memory on the host -----*- C++ -*-===//
//
// This file implements `tmc-gpu-check-host-code`, which rejects host
// operations that would read or write a device buffer.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUCHECKHOSTCODE
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Whether `value` is (a view of) a constant global: host data.
static bool isConstantGlobal(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto get = dyn_cast<memref::GetGlobalOp>(def)) {
      auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
          get, get.getNameAttr());
      return global && global.getConstant();
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    value = view.getViewSource();
  }
  return false;
}

/// Whether `value` is an argument the runtime passes in host memory
/// (`tfm.host`).
static bool isHostArgument(Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg)
    return false;
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  return func && arg.getOwner()->isEntryBlock() &&
         func.getArgAttr(arg.getArgNumber(),
                         tfm::TfmDialect::getHostArgAttrName());
}

/// Whether `op` reads or writes the contents of one of its memref operands
/// (views, casts and descriptor queries do not; reads of constant globals
/// and of host arguments are host data).
static bool accessesMemRefContents(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return !isConstantGlobal(load.getMemRef()) &&
           !isHostArgument(load.getMemRef());
  if (isa<linalg::LinalgOp, memref::CopyOp>(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  for (const MemoryEffects::EffectInstance &effect : instances) {
    if (!isa<MemoryEffects::Read, MemoryEffects::Write>(effect.getEffect()))
      continue;
    Value value = effect.getValue();
    if (value && isa<BaseMemRefType>(value.getType()))
      return true;
  }
  return false;
}

struct TmcGpuCheckHostCodePass
    : public tmc::impl::TmcGpuCheckHostCodeBase<TmcGpuCheckHostCodePass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (accessesMemRefContents(op)) {
        op->emitError("'")
            << op->getName()
            << "' reads or writes a buffer on the host, but every buffer of "
               "a GPU model is in device memory; it was not mapped to a GPU "
               "kernel";
        failed = true;
      }
      return WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
