//===- PackWeights.cpp - Write the packed weights file ----------*- C++ -*-===//
//
// This file implements `tmc-pack-weights`, which writes every bound
// parameter into one packed weights file and records the file's hash.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Import/SafeTensors.h"

#include "tmc/Dialect/Tfm/Transforms/QuantizeWeights.h"

#include <cstring>

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCPACKWEIGHTS
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// FNV-1a 64, the hash of docs/ABI.md.
class Fnv1a64 {
public:
  void update(ArrayRef<char> bytes) {
    for (char c : bytes) {
      state ^= static_cast<uint8_t>(c);
      state *= 0x100000001b3ULL;
    }
  }
  uint64_t get() const { return state; }

private:
  uint64_t state = 0xcbf29ce484222325ULL;
};

/// The safetensors dtype that stores elements of `type`, if any.
static std::optional<SafeTensorsDType> dtypeFor(Type type) {
  if (type.isF32())
    return SafeTensorsDType::F32;
  if (type.isF16())
    return SafeTensorsDType::F16;
  if (type.isBF16())
    return SafeTensorsDType::BF16;
  if (type.isInteger(64))
    return SafeTensorsDType::I64;
  if (type.isInteger(32))
    return SafeTensorsDType::I32;
  if (type.isInteger(8))
    return SafeTensorsDType::I8;
  return std::nullopt;
}

/// Returns the bytes of an inline parameter value, expanding splats, or
/// fails with a diagnostic.
static FailureOr<std::vector<char>> inlineBytes(ModuleOp module,
                                                StringRef name,
                                                ElementsAttr value,
                                                int64_t bytes) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return module.emitError("parameter '")
             << name << "': its dense_resource blob is missing";
    ArrayRef<char> data = blob->getData();
    if (static_cast<int64_t>(data.size()) != bytes)
      return module.emitError("parameter '")
             << name << "': its blob holds " << data.size()
             << " bytes, expected " << bytes;
    return std::vector<char>(data.begin(), data.end());
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (dense.getElementType().getIntOrFloatBitWidth() % 8 != 0)
      return module.emitError("parameter '")
             << name << "': sub-byte inline values are not packed";
    ArrayRef<char> raw = dense.getRawData();
    std::vector<char> out;
    out.reserve(bytes);
    if (dense.isSplat()) {
      int64_t elementBytes = dense.getElementType().getIntOrFloatBitWidth() / 8;
      for (int64_t i = 0; i < bytes / elementBytes; ++i)
        out.insert(out.end(), raw.begin(), raw.begin() + elementBytes);
    } else {
      out.assign(raw.begin(), raw.end());
    }
    if (static_cast<int64_t>(out.size()) != bytes)
      return module.emitError("parameter '")
             << name << "': inline value has " << out.size()
             << " bytes, expected " << bytes;
    return out;
  }
  return module.emitError("parameter '")
         << name << "': unsupported inline value kind";
}

struct TmcPackWeightsPass
    : public tmc::impl::TmcPackWeightsBase<TmcPackWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto layout = module->getAttrOfType<ArrayAttr>("tmc.weight_layout");
    if (!layout) {
      module.emitError("tmc-pack-weights: no 'tmc.weight_layout' on the "
                       "module (run tfm-bind-weights first)");
      return signalPassFailure();
    }

    // The external checkpoint, opened only when a parameter needs it.
    std::unique_ptr<SafeTensorsCheckpoint> checkpoint;
    auto openCheckpoint = [&]() -> LogicalResult {
      if (checkpoint)
        return success();
      auto file = module->getAttrOfType<StringAttr>(
          tfm::TfmDialect::getWeightsFileAttrName());
      if (!file)
        return module.emitError("parameters without inline values need a "
                                "'tfm.weights_file' on the module");
      SmallString<256> path(file.getValue());
      if (!llvm::sys::path::is_absolute(path) && !baseDir.empty()) {
        SmallString<256> joined(baseDir);
        llvm::sys::path::append(joined, path);
        path = joined;
      }
      auto opened = SafeTensorsCheckpoint::open(path);
      if (!opened)
        return module.emitError(llvm::toString(opened.takeError()));
      checkpoint = std::move(*opened);
      return success();
    };

    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!output.empty()) {
      std::error_code ec;
      os = std::make_unique<llvm::raw_fd_ostream>(output, ec);
      if (ec) {
        module.emitError("cannot write '") << output << "': " << ec.message();
        return signalPassFailure();
      }
    }

    // The fp32 source of derived (quantized) parameters; the parts of one
    // source are consecutive, so the last one is kept.
    std::string cachedSource;
    std::vector<float> cachedData;
    SmallVector<int64_t> cachedShape;
    auto loadSource = [&](DictionaryAttr entry,
                          StringRef source) -> LogicalResult {
      if (cachedSource == source)
        return success();
      cachedData.clear();
      cachedShape.clear();
      if (auto value = entry.getAs<ElementsAttr>("value")) {
        auto valueType = cast<ShapedType>(value.getType());
        if (!valueType.getElementType().isF32())
          return module.emitError("quantized parameter '")
                 << source << "': its source is not f32";
        FailureOr<std::vector<char>> raw = inlineBytes(
            module, source, value, valueType.getNumElements() * 4);
        if (failed(raw))
          return failure();
        cachedData.resize(valueType.getNumElements());
        std::memcpy(cachedData.data(), raw->data(), raw->size());
        cachedShape.assign(valueType.getShape().begin(),
                           valueType.getShape().end());
      } else {
        if (failed(openCheckpoint()))
          return failure();
        const SafeTensorsTensor *tensor = checkpoint->lookup(source);
        if (!tensor)
          return module.emitError("'") << checkpoint->getPath()
                                       << "': no tensor named '" << source
                                       << "'";
        if (tensor->dtype != SafeTensorsDType::F32)
          return module.emitError("'")
                 << tensor->file << "': tensor '" << source
                 << "' must be F32 to be quantized, got "
                 << stringifySafeTensorsDType(tensor->dtype);
        cachedData.resize(tensor->getNumElements());
        std::memcpy(cachedData.data(), tensor->data.data(),
                    tensor->data.size());
        cachedShape.assign(tensor->shape.begin(), tensor->shape.end());
      }
      if (cachedShape.size() != 2)
        return module.emitError("quantized parameter '")
               << source << "': its source must be a matrix";
      cachedSource = source.str();
      return success();
    };
    auto derivedBytes = [&](DictionaryAttr entry, RankedTensorType type,
                            StringRef name,
                            int64_t bytes) -> FailureOr<std::vector<char>> {
      auto source = entry.getAs<StringAttr>("source");
      auto part = entry.getAs<StringAttr>("part");
      if (!source || !part)
        return module.emitError("tmc.weight_layout: derived parameter '")
               << name << "' lacks its source or part";
      if (failed(loadSource(entry, source.getValue())))
        return failure();
      auto layoutAttr = entry.getAs<tfm::WeightLayoutAttr>("source_layout");
      bool transposed =
          layoutAttr && layoutAttr.getValue() == tfm::WeightLayout::in_out;
      int64_t n = transposed ? cachedShape[1] : cachedShape[0];
      int64_t k = transposed ? cachedShape[0] : cachedShape[1];
      std::vector<char> data;
      if (auto quant = entry.getAs<tfm::QuantSchemeAttr>("quant"))
        data = packQuantizedPart(quant, part.getValue(), cachedData, n, k,
                                 transposed);
      else if (auto prune = entry.getAs<tfm::PruneSchemeAttr>("prune"))
        data = packPrunedPart(prune, part.getValue(), cachedData, n, k,
                              transposed,
                              /*dense=*/type.getShape() ==
                                  ArrayRef<int64_t>{n, k});
      if (static_cast<int64_t>(data.size()) != bytes)
        return module.emitError("quantized parameter '")
               << name << "': packing gave " << data.size()
               << " bytes, its type needs " << bytes;
      return data;
    };

    Fnv1a64 hash;
    int64_t written = 0;
    auto emit = [&](ArrayRef<char> bytes) {
      hash.update(bytes);
      if (os)
        os->write(bytes.data(), bytes.size());
      written += bytes.size();
    };
    for (Attribute entryAttr : layout) {
      auto entry = dyn_cast<DictionaryAttr>(entryAttr);
      auto nameAttr = entry ? entry.getAs<StringAttr>("name") : StringAttr();
      auto offsetAttr =
          entry ? entry.getAs<IntegerAttr>("offset") : IntegerAttr();
      auto typeAttr = entry ? entry.getAs<TypeAttr>("type") : TypeAttr();
      auto type = typeAttr ? dyn_cast<RankedTensorType>(typeAttr.getValue())
                           : RankedTensorType();
      if (!nameAttr || !offsetAttr || offsetAttr.getInt() < 0 || !type ||
          !type.hasStaticShape() || !type.getElementType().isIntOrFloat()) {
        module.emitError("tmc.weight_layout: malformed entry ")
            << entryAttr
            << "; expected {name, offset, type[, value]} as tfm-bind-weights "
               "records them";
        return signalPassFailure();
      }
      StringRef name = nameAttr.getValue();
      int64_t offset = offsetAttr.getInt();
      int64_t bytes = type.getNumElements() *
                      (type.getElementTypeBitWidth() / 8);
      if (offset < written) {
        module.emitError("tmc.weight_layout: parameter '")
            << name << "' at offset " << offset << " overlaps the previous one";
        return signalPassFailure();
      }
      emit(std::vector<char>(offset - written, 0));

      if (entry.get("quant") || entry.get("prune")) {
        FailureOr<std::vector<char>> data =
            derivedBytes(entry, type, name, bytes);
        if (failed(data))
          return signalPassFailure();
        emit(*data);
        continue;
      }
      if (auto value = entry.getAs<ElementsAttr>("value")) {
        FailureOr<std::vector<char>> data =
            inlineBytes(module, name, value, bytes);
        if (failed(data))
          return signalPassFailure();
        emit(*data);
        continue;
      }
      if (failed(openCheckpoint()))
        return signalPassFailure();
      const SafeTensorsTensor *tensor = checkpoint->lookup(name);
      if (!tensor) {
        module.emitError("'") << checkpoint->getPath()
                              << "': no tensor named '" << name << "'";
        return signalPassFailure();
      }
      std::optional<SafeTensorsDType> dtype =
          dtypeFor(type.getElementType());
      if (!dtype || *dtype != tensor->dtype) {
        module.emitError("'")
            << tensor->file << "': tensor '" << name << "' has dtype "
            << stringifySafeTensorsDType(tensor->dtype)
            << " but the model expects " << type.getElementType();
        return signalPassFailure();
      }
      if (ArrayRef<int64_t>(tensor->shape) != type.getShape()) {
        module.emitError("'")
            << tensor->file << "': tensor '" << name << "' has shape "
            << formatShape(tensor->shape) << " but the model expects "
            << formatShape(type.getShape());
        return signalPassFailure();
      }
      emit(tensor->data);
    }
    if (os) {
      os->close();
      if (os->has_error()) {
        module.emitError("error writing '") << output << "'";
        os->clear_error();
        return signalPassFailure();
      }
    }
    Builder b(&getContext());
    module->setAttr("tmc.weights_hash",
                    b.getIntegerAttr(b.getIntegerType(64),
                                     APInt(64, hash.get())));
    module->setAttr("tmc.weights_bytes", b.getI64IntegerAttr(written));
  }
};

} // namespace
