//===- ParamValues.cpp - Read the data of tfm parameters --------*- C++ -*-===//
//
// This file implements ParamValues: the fp32 data of tfm.param ops, inline or
// from the module's safetensors file.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/Analysis/ParamValues.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Import/SafeTensors.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tfm;

ParamValues::ParamValues(ModuleOp module, StringRef baseDir)
    : module(module), baseDir(baseDir.str()) {}

ParamValues::~ParamValues() = default;

LogicalResult ParamValues::openCheckpoint(Operation *at) {
  if (checkpoint)
    return success();
  auto file =
      module->getAttrOfType<StringAttr>(TfmDialect::getWeightsFileAttrName());
  if (!file)
    return at->emitError("parameter without an inline value, and the module "
                         "names no '")
           << TfmDialect::getWeightsFileAttrName() << "'";
  SmallString<256> path(file.getValue());
  if (!llvm::sys::path::is_absolute(path) && !baseDir.empty()) {
    SmallString<256> joined(baseDir);
    llvm::sys::path::append(joined, path);
    path = joined;
  }
  auto opened = tmc::SafeTensorsCheckpoint::open(path);
  if (!opened)
    return at->emitError(llvm::toString(opened.takeError()));
  checkpoint = std::move(*opened);
  return success();
}

FailureOr<ArrayRef<float>> ParamValues::read(ParamOp param) {
  StringRef name = param.getName();
  auto it = cache.find(name);
  if (it != cache.end())
    return ArrayRef<float>(it->second);
  auto type = cast<RankedTensorType>(param.getType());
  if (!type.getElementType().isF32() || param.getQuant() || param.getPrune())
    return param.emitError("parameter '")
           << name << "' is not an fp32 parameter";
  int64_t count = type.getNumElements();
  std::vector<float> values(count);
  if (std::optional<ElementsAttr> value = param.getValue()) {
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(*value)) {
      AsmResourceBlob *blob = resource.getRawHandle().getBlob();
      if (!blob)
        return param.emitError("parameter '")
               << name << "': its dense_resource blob is missing";
      ArrayRef<char> data = blob->getData();
      if (static_cast<int64_t>(data.size()) != count * 4)
        return param.emitError("parameter '")
               << name << "': its blob holds " << data.size()
               << " bytes, expected " << count * 4;
      std::memcpy(values.data(), data.data(), data.size());
    } else if (auto dense = dyn_cast<DenseFPElementsAttr>(*value)) {
      int64_t i = 0;
      for (APFloat v : dense.getValues<APFloat>())
        values[i++] = v.convertToFloat();
    } else {
      return param.emitError("parameter '")
             << name << "': unsupported inline value kind";
    }
  } else {
    if (failed(openCheckpoint(param)))
      return failure();
    const tmc::SafeTensorsTensor *tensor = checkpoint->lookup(name);
    if (!tensor)
      return param.emitError("'")
             << checkpoint->getPath() << "': no tensor named '" << name << "'";
    if (tensor->dtype != tmc::SafeTensorsDType::F32 ||
        ArrayRef<int64_t>(tensor->shape) != type.getShape())
      return param.emitError("'")
             << tensor->file << "': tensor '" << name << "' is "
             << tmc::stringifySafeTensorsDType(tensor->dtype) << " "
             << tmc::formatShape(tensor->shape) << ", the model expects F32 "
             << tmc::formatShape(type.getShape());
    std::memcpy(values.data(), tensor->data.data(), count * 4);
  }
  auto &slot = cache[name];
  slot = std::move(values);
  return ArrayRef<float>(slot);
}
