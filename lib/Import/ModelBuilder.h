//===- ModelBuilder.h - Shared pieces of the importers ----------*- C++ -*-===//
//
// This file declares the helpers that the per-architecture importers share:
// a reader of config.json fields that keeps the first error, and a builder
// of the tfm model that creates parameters (checking them against the
// checkpoint), transformer blocks and ops.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_IMPORT_MODELBUILDER_H
#define TMC_LIB_IMPORT_MODELBUILDER_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Import/Import.h"
#include "tmc/Import/SafeTensors.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/JSON.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
namespace tmc {
namespace importer {

/// Reads fields of a config.json. Each getter returns a usable value even on
/// error and records the first error; `takeError()` reports it.
class ConfigReader {
public:
  ConfigReader(const llvm::json::Object &config, llvm::StringRef path)
      : config(config), path(path.str()) {}

  /// Returns the field `key`, or nullptr when it is absent or null.
  const llvm::json::Value *get(llvm::StringRef key) const;

  /// Returns a required positive integer field.
  int64_t getPositiveInt(llvm::StringRef key);
  /// Returns a positive integer field, `defaultValue` when absent or null.
  int64_t getPositiveInt(llvm::StringRef key, int64_t defaultValue);
  /// Returns a positive number field, `defaultValue` when absent or null.
  double getPositiveNumber(llvm::StringRef key, double defaultValue);
  /// Returns a string field, `defaultValue` when absent or null.
  std::string getString(llvm::StringRef key, llvm::StringRef defaultValue);
  /// Returns a boolean field, `defaultValue` when absent or null.
  bool getBool(llvm::StringRef key, bool defaultValue);

  /// Refuses the field `key` when it is present (and not null) and
  /// `unsupported` holds for its value: the importer would otherwise build a
  /// different computation than the checkpoint's. `supported` says what is.
  void refuseIf(llvm::StringRef key,
                llvm::function_ref<bool(const llvm::json::Value &)> unsupported,
                llvm::StringRef supported);
  /// Refuses a boolean field that is present and equal to `value`.
  void refuseBool(llvm::StringRef key, bool value, llvm::StringRef supported);
  /// Refuses a string field that is present and not one of `accepted`.
  void refuseStringNotIn(llvm::StringRef key,
                         llvm::ArrayRef<llvm::StringRef> accepted,
                         llvm::StringRef supported);

  /// Records an error about the config (naming the file) unless one is
  /// already recorded.
  void fail(const llvm::Twine &message);
  /// Returns the first recorded error, or success.
  llvm::Error takeError();

private:
  const llvm::json::Object &config;
  std::string path;
  std::optional<std::string> error;
};

/// Builds the tfm module of one model: `func.func @forward` over the token
/// ids, with parameters checked against the checkpoint. Tensor errors
/// (missing, wrong shape, wrong dtype) are recorded, the first one is
/// reported by `finish`; parameters always get their expected type, so the
/// ops can be built regardless.
class ModelBuilder {
public:
  /// With inline weights and an `owner` of `weights`, suitably aligned
  /// tensors are referenced in the mapped files (which `owner` keeps alive
  /// for as long as the blobs live) instead of copied to the heap.
  ModelBuilder(mlir::MLIRContext &context, const SafeTensorsCheckpoint &weights,
               const ImportOptions &options, llvm::StringRef configPath,
               std::shared_ptr<const SafeTensorsCheckpoint> owner = nullptr);

  /// Creates the module and `@forward(%input_ids: tensor<1x?xi64>)` with its
  /// `tfm.model_type` and `tfm.max_positions` attributes, and moves the
  /// insertion point into its body.
  void beginForward(llvm::StringRef modelType, int64_t maxPositions);

  /// Returns `@forward`'s token ids argument.
  mlir::Value getInputIds() const { return inputIds; }

  /// Returns `forward`'s result `output` (named `outputName`), completes the
  /// function type and returns the verified module or the first error.
  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
  finish(mlir::Value output, llvm::StringRef outputName);

  /// Returns true if the checkpoint holds a tensor called `name`.
  bool hasTensor(llvm::StringRef name) const;

  /// Creates `tfm.param name : tensor<shape x f32>` at the insertion point
  /// and checks the checkpoint's tensor against it.
  mlir::Value param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);
  /// As `param`, with the first of `names` that the checkpoint holds (the
  /// first name when none is present, which is then reported missing).
  mlir::Value paramFirstOf(llvm::ArrayRef<std::string> names,
                           llvm::ArrayRef<int64_t> shape);

  /// Builds `tfm.layer name index index (input)` returning one value of the
  /// input's type: `body` receives the block argument, builds the block at
  /// the insertion point (its parameters included) and returns the result.
  mlir::Value layer(llvm::StringRef name, int64_t index, mlir::Value input,
                    llvm::function_ref<mlir::Value(mlir::Value)> body);

  // Op shorthands at the insertion point.
  mlir::Value positions(mlir::Value ids, int64_t stride);
  mlir::Value embedding(mlir::Value table, mlir::Value ids);
  mlir::Value linear(mlir::Value input, mlir::Value weight, mlir::Value bias,
                     mlir::tfm::WeightLayout layout);
  mlir::Value layerNorm(mlir::Value input, mlir::Value gamma, mlir::Value beta,
                        double epsilon);
  mlir::Value rmsNorm(mlir::Value input, mlir::Value gamma, double epsilon);
  mlir::Value rope(mlir::Value input, int64_t headDim, double theta);
  mlir::Value attention(mlir::Value query, mlir::Value key, mlir::Value value,
                        int64_t numHeads, int64_t numKvHeads, bool causal);
  mlir::Value activation(mlir::tfm::ActivationKind kind, mlir::Value input);
  mlir::Value gatedActivation(mlir::tfm::ActivationKind kind, mlir::Value gate,
                              mlir::Value up);
  mlir::Value add(mlir::Value lhs, mlir::Value rhs);
  llvm::SmallVector<mlir::Value> split(mlir::Value input,
                                       llvm::ArrayRef<int64_t> sizes);

private:
  /// Returns a resource blob of `tensor`'s bytes: a view of the mapped file
  /// when it can be shared and is aligned, else a heap copy.
  mlir::AsmResourceBlob makeBlob(const SafeTensorsTensor &tensor);

  /// Records a tensor error unless one is already recorded.
  void fail(const llvm::Twine &message);

  const SafeTensorsCheckpoint &weights;
  std::shared_ptr<const SafeTensorsCheckpoint> owner;
  ImportOptions options;
  mlir::OpBuilder builder;
  mlir::Location fileLoc;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp forward;
  mlir::Value inputIds;
  std::optional<std::string> error;
};

/// The per-architecture importers: read the config (refusing what they do
/// not support) and build the model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGPT2(ConfigReader &config, ModelBuilder &builder);
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importBert(ConfigReader &config, ModelBuilder &builder);
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importLlama(ConfigReader &config, ModelBuilder &builder);

} // namespace importer
} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_IMPORT_MODELBUILDER_H
