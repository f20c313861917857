//===- main.cpp - A compiler that embeds TMC --------------------*- C++ -*-===//
//
// This file is an out-of-tree program built against TMC's installed CMake
// package: it registers the dialects, parses a tfm model, runs one TMC pass
// and then TMC's whole CPU pipeline, and prints what each produced.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Transforms/Passes.h"
#include "tmc/InitAll.h"
#include "tmc/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: tmc-consumer MODEL.mlir\n";
    return 2;
  }

  // Every upstream dialect plus tfm, as TMC's own tools register them.
  mlir::DialectRegistry registry;
  mlir::tmc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  if (!module)
    return 1; // The parser has reported the error.

  // One TMC pass: give the dynamic sequence length a static size.
  mlir::PassManager fixLength(&context);
  mlir::tfm::TfmSetSeqLenOptions seqLen;
  seqLen.seqLen = 16;
  fixLength.addPass(mlir::tfm::createTfmSetSeqLen(seqLen));
  if (mlir::failed(fixLength.run(*module)))
    return 1;
  auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
  if (!forward) {
    llvm::errs() << argv[1] << ": no function @forward\n";
    return 1;
  }
  llvm::outs() << "forward: " << forward.getFunctionType() << "\n";

  // The whole CPU pipeline, built by the function tmc-compile calls.
  mlir::PassManager pm(&context);
  mlir::tmc::TmcCpuPipelineOptions options;
  options.seqLen = 16;
  mlir::tmc::buildTmcCpuPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return 1;
  if (auto signature =
          (*module)->getAttrOfType<mlir::StringAttr>("tmc.signature"))
    llvm::outs() << "signature:\n" << signature.getValue() << "\n";
  return 0;
}
