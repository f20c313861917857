//===- GpuCheckHostCode.cpp - Host code must not touch device memory -*- C++ -*-===//
//
// This file implements `tmc-gpu-check-host-code`, which rejects host
// operations that would read or write a device buffer.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUCHECKHOSTCODE
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

/// Whether `op` reads or writes the contents of one of its memref operands
/// (views, casts and descriptor queries do not).
static bool accessesMemRefContents(Operation *op) {
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
