//===- DialectPlugin.cpp - tfm dialect plugin for mlir-opt ------*- C++ -*-===//
//
// This file implements the dialect plugin that upstream mlir-opt loads with
// `--load-dialect-plugin`: it registers the tfm dialect. The library also
// holds TMC's passes and pipelines, which the pass plugin registers.
//
//===----------------------------------------------------------------------===//

#include "Plugins.h"

#include "tmc/Conversion/Passes.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"
#include "tmc/Pipelines/Pipelines.h"
#include "tmc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"

#include <mutex>

void mlir::tmc::registerPluginPasses() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    mlir::tfm::registerTfmPasses();
    registerTmcConversionPasses();
    registerTmcTransformsPasses();
    registerTmcPipelines();
  });
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "TMCDialect", "1.0",
          [](mlir::DialectRegistry *registry) {
            registry->insert<mlir::tfm::TfmDialect>();
          }};
}
