//===- TfmDialect.cpp - The tfm dialect -------------------------*- C++ -*-===//
//
// This file registers the tfm dialect's operations and attributes.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tfm;

#include "tmc/Dialect/Tfm/IR/TfmDialect.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tmc/Dialect/Tfm/IR/TfmOps.cpp.inc"
      >();
  registerAttributes();
}
