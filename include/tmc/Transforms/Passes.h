//===- Passes.h - TMC memref- and LLVM-level passes -------------*- C++ -*-===//
//
// This file declares the passes that work below the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TRANSFORMS_PASSES_H
#define TMC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tmc {

#define GEN_PASS_DECL
#include "tmc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tmc/Transforms/Passes.h.inc"

} // namespace tmc
} // namespace mlir

#endif // TMC_TRANSFORMS_PASSES_H
