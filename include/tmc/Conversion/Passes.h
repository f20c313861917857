//===- Passes.h - TMC conversion passes -------------------------*- C++ -*-===//
//
// This file declares the passes that lower out of the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_CONVERSION_PASSES_H
#define TMC_CONVERSION_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tmc {

#define GEN_PASS_DECL
#include "tmc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tmc/Conversion/Passes.h.inc"

} // namespace tmc
} // namespace mlir

#endif // TMC_CONVERSION_PASSES_H
