//===- GpuSinkGlobals.cpp - Constant globals into GPU launches --*- C++ -*-===//
//
// This file implements `tmc-gpu-sink-globals`, which clones constant
// memref.get_global ops into the gpu.launch bodies that read them, so that
// kernel outlining moves those globals into device code.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/GPU/Utils/GPUUtils.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUSINKGLOBALS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

struct TmcGpuSinkGlobalsPass
    : public tmc::impl::TmcGpuSinkGlobalsBase<TmcGpuSinkGlobalsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto module = func->getParentOfType<ModuleOp>();
    auto isConstantGlobal = [&](Operation *op) {
      auto get = dyn_cast<memref::GetGlobalOp>(op);
      if (!get || !module)
        return false;
      auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
          get, get.getNameAttr());
      return global && global.getConstant();
    };
    SmallVector<gpu::LaunchOp> launches;
    func.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches)
      if (failed(sinkOperationsIntoLaunchOp(launch, isConstantGlobal))) {
        launch.emitError("tmc-gpu-sink-globals: cannot move the constant "
                         "globals this launch reads into its body");
        return signalPassFailure();
      }
  }
};

} // namespace
