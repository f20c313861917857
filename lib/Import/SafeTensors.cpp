//===- SafeTensors.cpp - Reader of safetensors checkpoints ------*- C++ -*-===//
//
// This file implements the safetensors reader: it maps a file, parses and
// validates its JSON header, and presents one name-to-tensor view over one
// file or over the shards of an indexed checkpoint.
//
//===----------------------------------------------------------------------===//

#include "tmc/Import/SafeTensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace mlir::tmc;

/// Returns an error whose one-line message starts with the file's name.
static Error fileError(StringRef file, const Twine &message) {
  return createStringError(inconvertibleErrorCode(),
                           (file + ": " + message).str());
}

//===----------------------------------------------------------------------===//
// Data types
//===----------------------------------------------------------------------===//

namespace {
struct DTypeInfo {
  SafeTensorsDType dtype;
  StringLiteral name;
  unsigned size;
};
} // namespace

static constexpr DTypeInfo kDTypes[] = {
    {SafeTensorsDType::BOOL, "BOOL", 1},
    {SafeTensorsDType::U8, "U8", 1},
    {SafeTensorsDType::I8, "I8", 1},
    {SafeTensorsDType::F8_E4M3, "F8_E4M3", 1},
    {SafeTensorsDType::F8_E5M2, "F8_E5M2", 1},
    {SafeTensorsDType::I16, "I16", 2},
    {SafeTensorsDType::U16, "U16", 2},
    {SafeTensorsDType::F16, "F16", 2},
    {SafeTensorsDType::BF16, "BF16", 2},
    {SafeTensorsDType::I32, "I32", 4},
    {SafeTensorsDType::U32, "U32", 4},
    {SafeTensorsDType::F32, "F32", 4},
    {SafeTensorsDType::I64, "I64", 8},
    {SafeTensorsDType::U64, "U64", 8},
    {SafeTensorsDType::F64, "F64", 8},
};

static const DTypeInfo &getInfo(SafeTensorsDType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info;
  llvm_unreachable("every dtype has an entry");
}

StringRef mlir::tmc::stringifySafeTensorsDType(SafeTensorsDType dtype) {
  return getInfo(dtype).name;
}

std::optional<SafeTensorsDType> mlir::tmc::parseSafeTensorsDType(StringRef name) {
  for (const DTypeInfo &info : kDTypes)
    if (info.name == name)
      return info.dtype;
  return std::nullopt;
}

unsigned mlir::tmc::getSafeTensorsDTypeSize(SafeTensorsDType dtype) {
  return getInfo(dtype).size;
}

std::string mlir::tmc::formatShape(ArrayRef<int64_t> shape) {
  return "[" +
         join(map_range(shape, [](int64_t d) { return std::to_string(d); }),
              ", ") +
         "]";
}

int64_t SafeTensorsTensor::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// SafeTensorsFile
//===----------------------------------------------------------------------===//

/// Parses one header entry into `tensor` (all but the data view).
static Error parseEntry(StringRef file, StringRef name,
                        const json::Value &value, uint64_t dataSize,
                        SafeTensorsTensor &tensor) {
  auto entryError = [&](const Twine &message) {
    return fileError(file, "tensor '" + name + "': " + message);
  };
  const json::Object *entry = value.getAsObject();
  if (!entry)
    return entryError("header entry is not a JSON object");
  tensor.name = name.str();
  tensor.file = file.str();

  std::optional<StringRef> dtypeName = entry->getString("dtype");
  if (!dtypeName)
    return entryError("missing or non-string 'dtype'");
  std::optional<SafeTensorsDType> dtype = parseSafeTensorsDType(*dtypeName);
  if (!dtype)
    return entryError("unknown dtype '" + *dtypeName + "'");
  tensor.dtype = *dtype;

  const json::Array *shape = entry->getArray("shape");
  if (!shape)
    return entryError("missing or non-array 'shape'");
  uint64_t numBytes = getSafeTensorsDTypeSize(*dtype);
  bool overflow = false;
  for (const json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return entryError("'shape' must hold non-negative integers");
    tensor.shape.push_back(*size);
    numBytes = SaturatingMultiply<uint64_t>(numBytes, *size, &overflow);
  }
  if (overflow)
    return entryError("shape " + formatShape(tensor.shape) + " is too large");

  const json::Array *offsets = entry->getArray("data_offsets");
  if (!offsets || offsets->size() != 2)
    return entryError("'data_offsets' must be an array [begin, end]");
  std::optional<uint64_t> begin = (*offsets)[0].getAsUINT64();
  std::optional<uint64_t> end = (*offsets)[1].getAsUINT64();
  if (!begin || !end)
    return entryError("'data_offsets' must hold non-negative integers");
  if (*begin > *end)
    return entryError(
        formatv("data_offsets [{0}, {1}] are reversed", *begin, *end));
  if (*end > dataSize)
    return entryError(
        formatv("data_offsets [{0}, {1}] run past the end of the data section "
                "({2} bytes; is the file truncated?)",
                *begin, *end, dataSize));
  if (*end - *begin != numBytes)
    return entryError(formatv("data_offsets [{0}, {1}] hold {2} bytes but "
                              "shape {3} of {4} needs {5}",
                              *begin, *end, *end - *begin,
                              formatShape(tensor.shape),
                              stringifySafeTensorsDType(*dtype), numBytes));
  tensor.begin = *begin;
  tensor.end = *end;
  return Error::success();
}

Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> bufferOr =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false,
                            /*IsVolatile=*/false);
  if (!bufferOr)
    return fileError(path, "cannot open: " + bufferOr.getError().message());

  std::unique_ptr<SafeTensorsFile> result(new SafeTensorsFile());
  result->path = path.str();
  result->buffer = std::move(*bufferOr);
  StringRef bytes = result->buffer->getBuffer();

  if (bytes.size() < 8)
    return fileError(path, formatv("file of {0} bytes is too small for a "
                                   "safetensors header",
                                   bytes.size()));
  uint64_t headerSize =
      support::endian::read64le(reinterpret_cast<const void *>(bytes.data()));
  if (headerSize > bytes.size() - 8)
    return fileError(path, formatv("header length {0} runs past the end of "
                                   "the file ({1} bytes; is the file "
                                   "truncated or not safetensors?)",
                                   headerSize, bytes.size()));
  StringRef header = bytes.substr(8, headerSize);
  StringRef data = bytes.substr(8 + headerSize);
  result->dataSize = data.size();

  Expected<json::Value> json = json::parse(header);
  if (!json)
    return fileError(path,
                     "invalid JSON header: " + toString(json.takeError()));
  const json::Object *object = json->getAsObject();
  if (!object)
    return fileError(path, "the JSON header is not an object");

  // Header order is not preserved by json::Object: sort names so that
  // getTensors() and diagnostics are deterministic.
  SmallVector<StringRef> names;
  for (const auto &entry : *object)
    names.push_back(entry.first);
  llvm::sort(names);

  for (StringRef name : names) {
    const json::Value &value = *object->get(name);
    if (name == "__metadata__") {
      const json::Object *meta = value.getAsObject();
      if (!meta)
        return fileError(path, "'__metadata__' is not a JSON object");
      for (const auto &[key, item] : *meta) {
        std::optional<StringRef> str = item.getAsString();
        if (!str)
          return fileError(path, "'__metadata__' entry '" + StringRef(key) +
                                     "' is not a string");
        result->metadata[key.str()] = str->str();
      }
      continue;
    }
    SafeTensorsTensor tensor;
    if (Error error = parseEntry(path, name, value, result->dataSize, tensor))
      return std::move(error);
    tensor.data =
        ArrayRef<char>(data.data() + tensor.begin, tensor.end - tensor.begin);
    result->tensors.push_back(std::move(tensor));
  }

  // Byte ranges must not overlap (empty tensors occupy no bytes).
  SmallVector<const SafeTensorsTensor *> byOffset;
  for (const SafeTensorsTensor &tensor : result->tensors)
    if (tensor.end > tensor.begin)
      byOffset.push_back(&tensor);
  llvm::sort(byOffset,
             [](const SafeTensorsTensor *a, const SafeTensorsTensor *b) {
               return a->begin < b->begin;
             });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const SafeTensorsTensor *prev = byOffset[i - 1], *next = byOffset[i];
    if (next->begin < prev->end)
      return fileError(path, formatv("tensor '{0}' (bytes [{1}, {2}]) "
                                     "overlaps tensor '{3}' (bytes [{4}, {5}])",
                                     next->name, next->begin, next->end,
                                     prev->name, prev->begin, prev->end));
  }

  for (auto [i, tensor] : llvm::enumerate(result->tensors))
    result->index[tensor.name] = i;
  return std::move(result);
}

const SafeTensorsTensor *SafeTensorsFile::lookup(StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

//===----------------------------------------------------------------------===//
// SafeTensorsCheckpoint
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<SafeTensorsCheckpoint>>
SafeTensorsCheckpoint::open(StringRef path) {
  std::unique_ptr<SafeTensorsCheckpoint> result(new SafeTensorsCheckpoint());
  result->path = path.str();

  if (!path.ends_with(".json")) {
    Expected<std::unique_ptr<SafeTensorsFile>> file =
        SafeTensorsFile::open(path);
    if (!file)
      return file.takeError();
    for (const SafeTensorsTensor &tensor : (*file)->getTensors())
      result->tensors[tensor.name] = &tensor;
    result->files.push_back(std::move(*file));
    return std::move(result);
  }

  result->sharded = true;
  ErrorOr<std::unique_ptr<MemoryBuffer>> bufferOr =
      MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!bufferOr)
    return fileError(path, "cannot open: " + bufferOr.getError().message());
  Expected<json::Value> json = json::parse((*bufferOr)->getBuffer());
  if (!json)
    return fileError(path, "invalid JSON: " + toString(json.takeError()));
  const json::Object *object = json->getAsObject();
  const json::Object *weightMap =
      object ? object->getObject("weight_map") : nullptr;
  if (!weightMap)
    return fileError(path, "missing 'weight_map' object");

  SmallVector<StringRef> names;
  for (const auto &entry : *weightMap)
    names.push_back(entry.first);
  llvm::sort(names);

  StringRef directory = sys::path::parent_path(path);
  StringMap<SafeTensorsFile *> shards;
  for (StringRef name : names) {
    std::optional<StringRef> shardName = weightMap->getString(name);
    if (!shardName)
      return fileError(path,
                       "'weight_map' entry '" + name + "' is not a string");
    SafeTensorsFile *&shard = shards[*shardName];
    if (!shard) {
      SmallString<256> shardPath(*shardName);
      if (!sys::path::is_absolute(shardPath)) {
        shardPath = directory;
        sys::path::append(shardPath, *shardName);
      }
      Expected<std::unique_ptr<SafeTensorsFile>> file =
          SafeTensorsFile::open(shardPath);
      if (!file)
        return file.takeError();
      shard = file->get();
      result->files.push_back(std::move(*file));
    }
    const SafeTensorsTensor *tensor = shard->lookup(name);
    if (!tensor)
      return fileError(path, "'weight_map' puts tensor '" + name +
                                 "' in shard '" + *shardName +
                                 "', which does not hold it");
    result->tensors[name] = tensor;
  }
  return std::move(result);
}

Expected<std::unique_ptr<SafeTensorsCheckpoint>>
SafeTensorsCheckpoint::openDirectory(StringRef directory) {
  SmallString<256> single(directory);
  sys::path::append(single, "model.safetensors");
  if (sys::fs::exists(single))
    return open(single);
  SmallString<256> index(directory);
  sys::path::append(index, "model.safetensors.index.json");
  if (sys::fs::exists(index))
    return open(index);
  return fileError(directory, "no model.safetensors or "
                              "model.safetensors.index.json in the "
                              "checkpoint directory");
}

const SafeTensorsTensor *SafeTensorsCheckpoint::lookup(StringRef name) const {
  return tensors.lookup(name);
}

std::vector<const SafeTensorsTensor *>
SafeTensorsCheckpoint::getTensors() const {
  std::vector<const SafeTensorsTensor *> result;
  for (const auto &entry : tensors)
    result.push_back(entry.second);
  llvm::sort(result,
             [](const SafeTensorsTensor *a, const SafeTensorsTensor *b) {
               return a->name < b->name;
             });
  return result;
}
