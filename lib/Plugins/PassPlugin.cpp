//===- PassPlugin.cpp - TMC pass plugin for mlir-opt ------------*- C++ -*-===//
//
// This file implements the pass plugin that upstream mlir-opt loads with
// `--load-pass-plugin`: it registers TMC's passes and pipeline, which live
// in the dialect plugin's library that this one links.
//
//===----------------------------------------------------------------------===//

#include "Plugins.h"

#include "mlir/Tools/Plugins/PassPlugin.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "TMCPasses", "1.0",
          [] { mlir::tmc::registerPluginPasses(); }};
}
