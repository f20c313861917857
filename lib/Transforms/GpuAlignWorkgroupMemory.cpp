//===- GpuAlignWorkgroupMemory.cpp - Align workgroup buffers ----*- C++ -*-===//
//
// This file implements `tmc-gpu-align-workgroup-memory`, which gives every
// workgroup attribution of the kernels an alignment (`llvm.align`), which
// the NVVM lowering puts on the shared-memory global.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCGPUALIGNWORKGROUPMEMORY
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

struct TmcGpuAlignWorkgroupMemoryPass
    : public tmc::impl::TmcGpuAlignWorkgroupMemoryBase<
          TmcGpuAlignWorkgroupMemoryPass> {
  using TmcGpuAlignWorkgroupMemoryBase::TmcGpuAlignWorkgroupMemoryBase;

  void runOnOperation() override {
    if (alignment <= 0 || !llvm::isPowerOf2_64(alignment)) {
      getOperation().emitError("tmc-gpu-align-workgroup-memory: alignment "
                               "must be a power of two, got ")
          << static_cast<int64_t>(alignment);
      return signalPassFailure();
    }
    Builder b(&getContext());
    StringAttr name = b.getStringAttr(LLVM::LLVMDialect::getAlignAttrName());
    getOperation().walk([&](gpu::GPUFuncOp func) {
      for (unsigned i = 0, e = func.getNumWorkgroupAttributions(); i < e; ++i) {
        auto current = dyn_cast_or_null<IntegerAttr>(
            func.getWorkgroupAttributionAttr(i, name));
        if (!current || current.getInt() < alignment)
          func.setWorkgroupAttributionAttr(i, name,
                                           b.getI64IntegerAttr(alignment));
      }
    });
  }
};

} // namespace
