//===- Import.cpp - Import Hugging Face checkpoints -------------*- C++ -*-===//
//
// This file implements the importer's entry points: it reads config.json,
// opens the weights and dispatches on `model_type` to the importer of the
// architecture.
//
//===----------------------------------------------------------------------===//

#include "tmc/Import/Import.h"

#include "ModelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tmc;
using llvm::Expected;

static constexpr llvm::StringLiteral kModelTypes[] = {"gpt2", "bert", "llama"};

ArrayRef<llvm::StringLiteral> mlir::tmc::getSupportedModelTypes() {
  return kModelTypes;
}

/// Returns an error whose one-line message starts with the file's name.
static llvm::Error fileError(StringRef file, const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (file + ": " + message).str());
}

/// Imports a model; `owner`, when set, owns `weights` and lets inline
/// parameters reference the mapped files instead of copying them.
static Expected<OwningOpRef<ModuleOp>>
importModelImpl(MLIRContext &context, const llvm::json::Object &config,
                StringRef configPath, const SafeTensorsCheckpoint &weights,
                std::shared_ptr<const SafeTensorsCheckpoint> owner,
                const ImportOptions &options) {
  context.loadDialect<tfm::TfmDialect, func::FuncDialect>();

  std::string supported = llvm::join(
      llvm::map_range(kModelTypes, [](StringRef t) { return t.str(); }), ", ");
  const llvm::json::Value *modelType = config.get("model_type");
  if (!modelType)
    return fileError(configPath, "missing field 'model_type' (supported: " +
                                     supported + ")");
  std::optional<StringRef> type = modelType->getAsString();
  if (!type || !llvm::is_contained(kModelTypes, *type))
    return fileError(configPath,
                     llvm::formatv("unknown model_type {0} (supported: {1})",
                                   *modelType, supported));

  importer::ConfigReader reader(config, configPath);
  importer::ModelBuilder builder(context, weights, options, configPath,
                                 std::move(owner));
  if (*type == "gpt2")
    return importer::importGPT2(reader, builder);
  if (*type == "bert")
    return importer::importBert(reader, builder);
  return importer::importLlama(reader, builder);
}

Expected<OwningOpRef<ModuleOp>>
mlir::tmc::importModel(MLIRContext &context, const llvm::json::Object &config,
                 StringRef configPath, const SafeTensorsCheckpoint &weights,
                 const ImportOptions &options) {
  return importModelImpl(context, config, configPath, weights,
                         /*owner=*/nullptr, options);
}

Expected<OwningOpRef<ModuleOp>>
mlir::tmc::importCheckpoint(MLIRContext &context, StringRef checkpointDir,
                      const ImportOptions &options) {
  if (!llvm::sys::fs::is_directory(checkpointDir))
    return fileError(checkpointDir, "not a checkpoint directory");

  // The weights file is recorded in the module: make its path absolute so
  // that the model can be compiled from any working directory.
  llvm::SmallString<256> directory(checkpointDir);
  if (std::error_code ec = llvm::sys::fs::make_absolute(directory))
    return fileError(checkpointDir,
                     "cannot make the path absolute: " + ec.message());
  llvm::sys::path::remove_dots(directory, /*remove_dot_dot=*/true);

  llvm::SmallString<256> configPath(directory);
  llvm::sys::path::append(configPath, "config.json");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(configPath, /*IsText=*/true);
  if (!buffer)
    return fileError(configPath, "cannot open: " + buffer.getError().message());
  Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fileError(configPath,
                     "invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *config = json->getAsObject();
  if (!config)
    return fileError(configPath, "the config is not a JSON object");

  Expected<std::unique_ptr<SafeTensorsCheckpoint>> weights =
      SafeTensorsCheckpoint::openDirectory(directory);
  if (!weights)
    return weights.takeError();
  std::shared_ptr<const SafeTensorsCheckpoint> owner = std::move(*weights);
  return importModelImpl(context, *config, configPath, *owner, owner, options);
}
