//===- GpuMergeModules.cpp - One gpu.module for all kernels -----*- C++ -*-===//
//
// This file implements `tmc-gpu-merge-modules`, which moves the kernels of
// every gpu.module into one and retargets the launches.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUMERGEMODULES
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

struct TmcGpuMergeModulesPass
    : public tmc::impl::TmcGpuMergeModulesBase<TmcGpuMergeModulesPass> {
  using TmcGpuMergeModulesBase::TmcGpuMergeModulesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources =
        llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (sources.empty())
      return;
    for (gpu::GPUModuleOp source : sources) {
      if (source.getSymName() == moduleName) {
        source.emitError("tmc-gpu-merge-modules: a gpu.module is already "
                         "named '")
            << moduleName << "'";
        return signalPassFailure();
      }
      bool onlyKernels =
          llvm::all_of(source.getBody()->getOperations(), [](Operation &op) {
            return isa<gpu::GPUFuncOp, memref::GlobalOp>(op);
          });
      if (source.getTargetsAttr() || !onlyKernels) {
        source.emitError("tmc-gpu-merge-modules: only modules that hold "
                         "nothing but kernels and the globals they read (as "
                         "gpu-kernel-outlining creates them, before a target "
                         "is attached) can be merged");
        return signalPassFailure();
      }
    }

    OpBuilder builder(sources.front());
    auto merged =
        gpu::GPUModuleOp::create(builder, module.getLoc(), moduleName);
    SymbolTable mergedSymbols(merged);
    // Old reference (module, kernel) -> new kernel name.
    DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp source : sources) {
      StringAttr moduleSym = source.getSymNameAttr();
      // Outlining copies the host globals a kernel reads, under their host
      // names: the copies in several modules are the same global.
      for (auto global : llvm::to_vector(source.getOps<memref::GlobalOp>())) {
        auto existing =
            mergedSymbols.lookup<memref::GlobalOp>(global.getSymName());
        if (!existing) {
          global->moveBefore(merged.getBody(), merged.getBody()->end());
          mergedSymbols.insert(global);
          continue;
        }
        if (existing.getType() != global.getType() ||
            existing.getInitialValueAttr() != global.getInitialValueAttr() ||
            existing.getConstant() != global.getConstant()) {
          global.emitError("tmc-gpu-merge-modules: two kernel modules hold "
                           "different globals named '")
              << global.getSymName() << "'";
          return signalPassFailure();
        }
      }
      auto kernels = llvm::to_vector(source.getOps<gpu::GPUFuncOp>());
      for (gpu::GPUFuncOp kernel : kernels) {
        StringAttr oldName = SymbolTable::getSymbolName(kernel);
        // One kernel per outlined module: it takes the module's (unique)
        // name; several keep theirs, prefixed by it.
        std::string name =
            kernels.size() == 1
                ? moduleSym.str()
                : (moduleSym.strref() + "_" + oldName.strref()).str();
        kernel->moveBefore(merged.getBody(), merged.getBody()->end());
        SymbolTable::setSymbolName(kernel, name);
        // The symbol table renames on a collision.
        StringAttr newName = mergedSymbols.insert(kernel);
        renamed[{moduleSym, oldName}] = newName;
      }
      source.erase();
    }

    StringAttr mergedName = merged.getSymNameAttr();
    WalkResult result = module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr ref = launch.getKernel();
      auto it = renamed.find({ref.getRootReference(), ref.getLeafReference()});
      if (it == renamed.end()) {
        launch.emitError("tmc-gpu-merge-modules: the launched kernel ")
            << ref << " is not in any gpu.module";
        return WalkResult::interrupt();
      }
      launch.setKernelAttr(
          SymbolRefAttr::get(mergedName, {FlatSymbolRefAttr::get(it->second)}));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
