//===- Import.h - Import Hugging Face checkpoints as tfm models -*- C++ -*-===//
//
// This file declares the checkpoint importer: it reads a Hugging Face-style
// checkpoint directory (`config.json` plus `model.safetensors` or a sharded
// `model.safetensors.index.json`) of a GPT-2, BERT or LLaMA model and builds
// a module of tfm ops with one `func.func @forward`. docs/Import.md describes
// the tensor names, the config fields used and refused, and the IR produced.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_IMPORT_IMPORT_H
#define TMC_IMPORT_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace mlir {
namespace tmc {

class SafeTensorsCheckpoint;

/// Options of the importer.
struct ImportOptions {
  /// Embed every parameter as a `dense_resource` blob so that the module is
  /// self-contained. Otherwise parameters carry no value and the module's
  /// `tfm.weights_file` attribute names the safetensors file (or index).
  bool inlineWeights = false;
};

/// Returns the `model_type` values the importer supports.
llvm::ArrayRef<llvm::StringLiteral> getSupportedModelTypes();

/// Imports the checkpoint in `checkpointDir`: reads `config.json` and the
/// weights, checks every tensor's presence, shape and dtype, and builds a
/// verified module. Loads the tfm and func dialects into `context`. Fails
/// with a one-line message naming the file (and the field or tensor) on a
/// missing file, an unknown model type, a config field that the importer
/// does not support, or a missing or mismatching tensor.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, llvm::StringRef checkpointDir,
                 const ImportOptions &options = {});

/// Imports a model from an already parsed `config` (read from `configPath`,
/// which diagnostics name) and opened `weights`. `importCheckpoint` is this
/// after reading the directory.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const llvm::json::Object &config,
            llvm::StringRef configPath, const SafeTensorsCheckpoint &weights,
            const ImportOptions &options = {});

} // namespace tmc
} // namespace mlir

#endif // TMC_IMPORT_IMPORT_H
