//===- ModelBuilder.cpp - Shared pieces of the importers --------*- C++ -*-===//
//
// This file implements the config reader and the model builder that the
// per-architecture importers share.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tfm;
using namespace mlir::tmc;
using namespace mlir::tmc::importer;
using llvm::Error;
using llvm::Expected;

//===----------------------------------------------------------------------===//
// ConfigReader
//===----------------------------------------------------------------------===//

const llvm::json::Value *ConfigReader::get(StringRef key) const {
  const llvm::json::Value *value = config.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return nullptr;
  return value;
}

void ConfigReader::fail(const Twine &message) {
  if (!error)
    error = (path + ": " + message).str();
}

Error ConfigReader::takeError() {
  if (!error)
    return Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(), *error);
}

int64_t ConfigReader::getPositiveInt(StringRef key) {
  if (!get(key)) {
    fail("missing field '" + key + "'");
    return 1;
  }
  return getPositiveInt(key, 1);
}

int64_t ConfigReader::getPositiveInt(StringRef key, int64_t defaultValue) {
  const llvm::json::Value *value = get(key);
  if (!value)
    return defaultValue;
  std::optional<int64_t> result = value->getAsInteger();
  if (!result || *result <= 0) {
    fail(llvm::formatv("field '{0}' must be a positive integer, got {1}", key,
                       *value));
    return defaultValue;
  }
  return *result;
}

double ConfigReader::getPositiveNumber(StringRef key, double defaultValue) {
  const llvm::json::Value *value = get(key);
  if (!value)
    return defaultValue;
  std::optional<double> result = value->getAsNumber();
  if (!result || !(*result > 0.0)) {
    fail(llvm::formatv("field '{0}' must be a positive number, got {1}", key,
                       *value));
    return defaultValue;
  }
  return *result;
}

std::string ConfigReader::getString(StringRef key, StringRef defaultValue) {
  const llvm::json::Value *value = get(key);
  if (!value)
    return defaultValue.str();
  std::optional<StringRef> result = value->getAsString();
  if (!result) {
    fail(llvm::formatv("field '{0}' must be a string, got {1}", key, *value));
    return defaultValue.str();
  }
  return result->str();
}

bool ConfigReader::getBool(StringRef key, bool defaultValue) {
  const llvm::json::Value *value = get(key);
  if (!value)
    return defaultValue;
  std::optional<bool> result = value->getAsBoolean();
  if (!result) {
    fail(llvm::formatv("field '{0}' must be true or false, got {1}", key,
                       *value));
    return defaultValue;
  }
  return *result;
}

void ConfigReader::refuseIf(
    StringRef key,
    llvm::function_ref<bool(const llvm::json::Value &)> unsupported,
    StringRef supported) {
  const llvm::json::Value *value = get(key);
  if (value && unsupported(*value))
    fail(llvm::formatv("unsupported config field '{0}' = {1} ({2})", key,
                       *value, supported));
}

void ConfigReader::refuseBool(StringRef key, bool refused,
                              StringRef supported) {
  refuseIf(
      key,
      [&](const llvm::json::Value &value) {
        std::optional<bool> b = value.getAsBoolean();
        return !b || *b == refused;
      },
      supported);
}

void ConfigReader::refuseStringNotIn(StringRef key,
                                     ArrayRef<StringRef> accepted,
                                     StringRef supported) {
  refuseIf(
      key,
      [&](const llvm::json::Value &value) {
        std::optional<StringRef> str = value.getAsString();
        return !str || !llvm::is_contained(accepted, *str);
      },
      supported);
}

//===----------------------------------------------------------------------===//
// ModelBuilder
//===----------------------------------------------------------------------===//

ModelBuilder::ModelBuilder(MLIRContext &context,
                           const SafeTensorsCheckpoint &weights,
                           const ImportOptions &options, StringRef configPath,
                           std::shared_ptr<const SafeTensorsCheckpoint> owner)
    : weights(weights), owner(std::move(owner)), options(options),
      builder(&context),
      fileLoc(FileLineColLoc::get(&context, configPath, 1, 1)), loc(fileLoc) {}

void ModelBuilder::fail(const Twine &message) {
  if (!error)
    error = message.str();
}

void ModelBuilder::beginForward(StringRef modelType, int64_t maxPositions) {
  module = ModuleOp::create(fileLoc);
  if (!options.inlineWeights)
    (*module)->setAttr(TfmDialect::getWeightsFileAttrName(),
                       builder.getStringAttr(weights.getPath()));
  builder.setInsertionPointToEnd(module->getBody());

  Type idsType =
      RankedTensorType::get({1, ShapedType::kDynamic}, builder.getI64Type());
  forward = func::FuncOp::create(builder, fileLoc, "forward",
                                 builder.getFunctionType({idsType}, {}));
  forward->setAttr("tfm.max_positions",
                   builder.getI64IntegerAttr(maxPositions));
  forward->setAttr("tfm.model_type", builder.getStringAttr(modelType));
  forward.setArgAttr(0, TfmDialect::getIONameAttrName(),
                     builder.getStringAttr("input_ids"));
  Block *entry = forward.addEntryBlock();
  inputIds = entry->getArgument(0);
  builder.setInsertionPointToEnd(entry);
}

Expected<OwningOpRef<ModuleOp>> ModelBuilder::finish(Value output,
                                                     StringRef outputName) {
  func::ReturnOp::create(builder, fileLoc, output);
  forward.setType(
      builder.getFunctionType(forward.getArgumentTypes(), {output.getType()}));
  forward.setResultAttr(0, TfmDialect::getIONameAttrName(),
                        builder.getStringAttr(outputName));
  if (error)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), *error);
  if (failed(mlir::verify(*module)))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "internal error: the imported module does not verify");
  return std::move(module);
}

bool ModelBuilder::hasTensor(StringRef name) const {
  return weights.lookup(name) != nullptr;
}

AsmResourceBlob ModelBuilder::makeBlob(const SafeTensorsTensor &tensor) {
  ArrayRef<char> data = tensor.data;
  if (!owner || reinterpret_cast<uintptr_t>(data.data()) % alignof(float))
    return HeapAsmResourceBlob::allocateAndCopyWithAlign(data, alignof(float),
                                                         /*dataIsMutable=*/
                                                         false);
  // Reference the mapped bytes; the deleter holds the mapping alive.
  return UnmanagedAsmResourceBlob::allocateWithAlign(
      data, alignof(float),
      [keepAlive = owner](void *, size_t, size_t) mutable {
        keepAlive.reset();
      });
}

Value ModelBuilder::param(StringRef name, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  ElementsAttr value;
  const SafeTensorsTensor *tensor = weights.lookup(name);
  if (!tensor) {
    fail(weights.getPath() + ": missing tensor '" + name + "' (expected " +
         formatShape(shape) + " F32)");
  } else if (tensor->dtype != SafeTensorsDType::F32) {
    fail(tensor->file + ": tensor '" + name + "' has dtype " +
         stringifySafeTensorsDType(tensor->dtype) +
         "; this version imports F32 weights only (convert the checkpoint "
         "to float32)");
  } else if (ArrayRef<int64_t>(tensor->shape) != shape) {
    fail(tensor->file + ": tensor '" + name + "' has shape " +
         formatShape(tensor->shape) + ", expected " + formatShape(shape));
  } else if (options.inlineWeights) {
    value = DenseResourceElementsAttr::get(type, name, makeBlob(*tensor));
  }
  Location paramLoc = NameLoc::get(builder.getStringAttr(name), fileLoc);
  return ParamOp::create(builder, paramLoc, type, builder.getStringAttr(name),
                         value, /*source=*/nullptr, /*quant=*/nullptr,
                         /*prune=*/nullptr, /*part=*/nullptr, /*source_layout=*/nullptr);
}

Value ModelBuilder::paramFirstOf(ArrayRef<std::string> names,
                                 ArrayRef<int64_t> shape) {
  for (const std::string &name : names)
    if (hasTensor(name))
      return param(name, shape);
  return param(names.front(), shape);
}

Value ModelBuilder::layer(StringRef name, int64_t index, Value input,
                          llvm::function_ref<Value(Value)> body) {
  Location layerLoc = NameLoc::get(builder.getStringAttr(name), fileLoc);
  auto op =
      LayerOp::create(builder, layerLoc, name, index, input, input.getType());
  OpBuilder::InsertionGuard guard(builder);
  Location outerLoc = loc;
  loc = layerLoc;
  Block &block = op.getBody().front();
  builder.setInsertionPointToEnd(&block);
  Value result = body(block.getArgument(0));
  YieldOp::create(builder, layerLoc, result);
  loc = outerLoc;
  return op.getResult(0);
}

Value ModelBuilder::positions(Value ids, int64_t stride) {
  return PositionsOp::create(builder, loc, ids, /*start=*/Value(), /*offset=*/0,
                             stride);
}

Value ModelBuilder::embedding(Value table, Value ids) {
  return EmbeddingOp::create(builder, loc, table, ids);
}

Value ModelBuilder::linear(Value input, Value weight, Value bias,
                           WeightLayout layout) {
  return LinearOp::create(builder, loc, input, weight, bias, layout,
                          /*quant=*/nullptr, /*prune=*/nullptr);
}

Value ModelBuilder::layerNorm(Value input, Value gamma, Value beta,
                              double epsilon) {
  return LayerNormOp::create(builder, loc, input, gamma, beta,
                             llvm::APFloat(epsilon));
}

Value ModelBuilder::rmsNorm(Value input, Value gamma, double epsilon) {
  return RMSNormOp::create(builder, loc, input, gamma, llvm::APFloat(epsilon));
}

Value ModelBuilder::rope(Value input, int64_t headDim, double theta) {
  return RotaryOp::create(builder, loc, input, /*start=*/Value(), headDim,
                          llvm::APFloat(theta),
                          /*offset=*/0);
}

Value ModelBuilder::attention(Value query, Value key, Value value,
                              int64_t numHeads, int64_t numKvHeads,
                              bool causal) {
  return AttentionOp::create(builder, loc, query, key, value, numHeads,
                             numKvHeads, causal, /*scale=*/nullptr,
                             /*sparsity=*/nullptr);
}

Value ModelBuilder::activation(ActivationKind kind, Value input) {
  return ActivationOp::create(builder, loc, kind, input);
}

Value ModelBuilder::gatedActivation(ActivationKind kind, Value gate, Value up) {
  return GatedActivationOp::create(builder, loc, kind, gate, up);
}

Value ModelBuilder::add(Value lhs, Value rhs) {
  return AddOp::create(builder, loc, lhs, rhs);
}

SmallVector<Value> ModelBuilder::split(Value input, ArrayRef<int64_t> sizes) {
  auto op = SplitOp::create(builder, loc, input, sizes);
  return SmallVector<Value>(op.getResults());
}
