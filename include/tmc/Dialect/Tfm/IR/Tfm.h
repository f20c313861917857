//===- Tfm.h - The tfm dialect ----------------------------------*- C++ -*-===//
//
// This file declares the tfm dialect, its attributes, enums and operations.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_TFM_H
#define TMC_DIALECT_TFM_IR_TFM_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tmc/Dialect/Tfm/IR/TfmDialect.h.inc"
#include "tmc/Dialect/Tfm/IR/TfmEnums.h.inc"

#include "tmc/Dialect/Tfm/IR/TfmAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tmc/Dialect/Tfm/IR/TfmAttrs.h.inc"

#define GET_OP_CLASSES
#include "tmc/Dialect/Tfm/IR/TfmOps.h.inc"

#endif // TMC_DIALECT_TFM_IR_TFM_H
