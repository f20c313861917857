//===- InitAll.cpp - Register everything TMC's tools know -------*- C++ -*-===//
//
// This file implements the registration helpers shared by tmc-opt,
// tmc-compile and embedders.
//
//===----------------------------------------------------------------------===//

#include "tmc/InitAll.h"

#include "tmc/Conversion/Passes.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"
#include "tmc/Pipelines/Pipelines.h"
#include "tmc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::tmc::registerAllDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::tfm::TfmDialect>();
}

void mlir::tmc::registerAllPasses() {
  mlir::registerAllPasses();
  mlir::tfm::registerTfmPasses();
  mlir::tmc::registerTmcConversionPasses();
  mlir::tmc::registerTmcTransformsPasses();
  mlir::tmc::registerTmcPipelines();
}
