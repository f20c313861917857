//===- tmc-opt.cpp - TMC's optimizer driver ---------------------*- C++ -*-===//
//
// This file implements tmc-opt: mlir-opt with every upstream dialect, pass
// and extension plus TMC's dialect, passes and pipelines.
//
//===----------------------------------------------------------------------===//

#include "tmc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::tmc::registerAllDialects(registry);
  mlir::tmc::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "TMC optimizer driver: the tfm dialect, its passes and "
                  "every upstream dialect and pass\n",
      registry));
}
