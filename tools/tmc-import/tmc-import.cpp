//===- tmc-import.cpp - Import a checkpoint as a tfm model ------*- C++ -*-===//
//
// This file implements tmc-import: it reads a Hugging Face-style checkpoint
// directory (config.json + safetensors) and writes the tfm model as MLIR text
// or, for a name ending in .mlirbc, bytecode.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Import/Import.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory importCategory("tmc-import options");

static cl::opt<std::string> checkpointDir(cl::Positional, cl::Required,
                                          cl::desc("<checkpoint directory>"),
                                          cl::cat(importCategory));

static cl::opt<std::string>
    outputFilename("o", cl::Required,
                   cl::desc("Output file: MLIR text, or bytecode when the name "
                            "ends in .mlirbc ('-' for standard output)"),
                   cl::value_desc("file"), cl::cat(importCategory));

static cl::opt<bool> inlineWeights(
    "inline-weights",
    cl::desc("Embed every parameter as a dense_resource blob (a "
             "self-contained model) instead of naming the safetensors file "
             "in the module's tfm.weights_file attribute"),
    cl::init(false), cl::cat(importCategory));

static constexpr const char *kOverview = R"(TMC checkpoint importer

Reads a Hugging Face-style checkpoint directory and writes its model as tfm
ops: one `func.func @forward(%input_ids: tensor<1x?xi64>)` returning `logits`
(gpt2, llama) or `last_hidden_state` (bert), with one `tfm.layer` per
transformer block and a dynamic sequence length.

The directory holds `config.json` (its `model_type` is gpt2, bert or llama)
and `model.safetensors` or a sharded `model.safetensors.index.json`. Every
tensor is checked for presence, shape and dtype (F32). Config fields that
would change the computation and are not supported are refused by name.

By default the parameters carry no data: the module's `tfm.weights_file`
attribute names the safetensors file (or index), so the model file stays
small. --inline-weights embeds the data instead.

Examples:
  tmc-import ckpt/ -o model.mlir
  tmc-import ckpt/ -o model.mlirbc --inline-weights
)";

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(importCategory);
  cl::ParseCommandLineOptions(argc, argv, kOverview);

  mlir::DialectRegistry registry;
  registry.insert<mlir::tfm::TfmDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  mlir::tmc::ImportOptions options;
  options.inlineWeights = inlineWeights;
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      mlir::tmc::importCheckpoint(context, checkpointDir, options);
  if (!module) {
    WithColor::error(errs(), "tmc-import")
        << toString(module.takeError()) << "\n";
    return 1;
  }
  if (failed(mlir::verify(**module)))
    return 1;

  std::string errorMessage;
  std::unique_ptr<ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    WithColor::error(errs(), "tmc-import")
        << outputFilename << ": " << errorMessage << "\n";
    return 1;
  }
  if (StringRef(outputFilename).ends_with(".mlirbc")) {
    mlir::BytecodeWriterConfig config("TMC");
    if (failed(mlir::writeBytecodeToFile(**module, output->os(), config))) {
      WithColor::error(errs(), "tmc-import")
          << outputFilename << ": cannot write bytecode\n";
      return 1;
    }
  } else {
    (*module)->print(output->os());
  }
  output->os().flush();
  if (output->os().has_error()) {
    WithColor::error(errs(), "tmc-import")
        << outputFilename << ": " << output->os().error().message() << "\n";
    output->os().clear_error();
    return 1;
  }
  output->keep();
  return 0;
}
