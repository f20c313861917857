//===- SafeTensors.h - Reader of safetensors checkpoints --------*- C++ -*-===//
//
// This file declares a validating, zero-copy reader of the safetensors
// format (one file, or a sharded checkpoint described by a
// `model.safetensors.index.json`). The importer uses it to read shapes and,
// with inline weights, data; the compiler uses it to pack weights.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON header `{name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {str: str}}`, then the data section; offsets are relative
// to the start of the data section.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_IMPORT_SAFETENSORS_H
#define TMC_IMPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace tmc {

/// Element types of the safetensors format.
enum class SafeTensorsDType {
  BOOL,
  U8,
  I8,
  F8_E4M3,
  F8_E5M2,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  I64,
  U64,
  F64,
};

/// Returns the spelling of `dtype` in a safetensors header ("F32", ...).
llvm::StringRef stringifySafeTensorsDType(SafeTensorsDType dtype);

/// Parses a header spelling ("F32", "BF16", ...); std::nullopt if unknown.
std::optional<SafeTensorsDType> parseSafeTensorsDType(llvm::StringRef name);

/// Returns the size in bytes of one element of `dtype`.
unsigned getSafeTensorsDTypeSize(SafeTensorsDType dtype);

/// Formats a shape as `[768, 2304]` for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// One tensor of a safetensors file: its header entry and a view of its
/// bytes in the mapped file. The bytes are little-endian and carry no
/// alignment guarantee: copy them (memcpy) before reading them as numbers.
struct SafeTensorsTensor {
  /// The tensor's name as written in the header.
  std::string name;
  SafeTensorsDType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Byte range [begin, end) relative to the start of the data section.
  uint64_t begin = 0, end = 0;
  /// The tensor's bytes (`end - begin` of them) in the mapped file.
  llvm::ArrayRef<char> data;
  /// The file that holds the tensor.
  std::string file;

  /// Returns the number of elements (the product of the shape).
  int64_t getNumElements() const;
};

/// One safetensors file, mapped read-only and validated when opened.
class SafeTensorsFile {
public:
  /// Maps and validates the file at `path`. Fails with a one-line message
  /// naming the file when it is too small, its header length runs past its
  /// end, its header is not valid JSON or not of the expected form, a dtype
  /// is unknown, or a tensor's byte range lies outside the data section,
  /// disagrees with its shape and dtype, or overlaps another tensor's.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  open(llvm::StringRef path);

  /// Returns the path the file was opened with.
  llvm::StringRef getPath() const { return path; }

  /// Returns the tensors, ordered by name.
  llvm::ArrayRef<SafeTensorsTensor> getTensors() const { return tensors; }

  /// Returns the tensor called `name`, or nullptr.
  const SafeTensorsTensor *lookup(llvm::StringRef name) const;

  /// Returns the `__metadata__` entries of the header (string to string).
  const std::map<std::string, std::string> &getMetadata() const {
    return metadata;
  }

  /// Returns the size of the data section in bytes.
  uint64_t getDataSize() const { return dataSize; }

private:
  SafeTensorsFile() = default;

  std::string path;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::vector<SafeTensorsTensor> tensors;
  llvm::StringMap<size_t> index;
  std::map<std::string, std::string> metadata;
  uint64_t dataSize = 0;
};

/// A checkpoint's tensors by name: one safetensors file, or every shard named
/// by a `*.safetensors.index.json` (its `weight_map` maps tensor names to
/// shard files relative to the index's directory).
class SafeTensorsCheckpoint {
public:
  /// Opens a safetensors file, or, when `path` ends in `.json`, a sharded
  /// checkpoint's index and every shard it names. Fails with a message
  /// naming the offending file: an unreadable or invalid index, a shard that
  /// cannot be opened or is invalid, or a tensor of the `weight_map` that its
  /// shard does not hold.
  static llvm::Expected<std::unique_ptr<SafeTensorsCheckpoint>>
  open(llvm::StringRef path);

  /// Finds the weights of a checkpoint directory: `model.safetensors`, else
  /// `model.safetensors.index.json`, and opens them. Fails naming the
  /// directory when neither exists.
  static llvm::Expected<std::unique_ptr<SafeTensorsCheckpoint>>
  openDirectory(llvm::StringRef directory);

  /// Returns the path it was opened with (the file, or the index).
  llvm::StringRef getPath() const { return path; }

  /// Returns true when the checkpoint is sharded (opened from an index).
  bool isSharded() const { return sharded; }

  /// Returns the tensor called `name`, or nullptr.
  const SafeTensorsTensor *lookup(llvm::StringRef name) const;

  /// Returns every tensor, ordered by name.
  std::vector<const SafeTensorsTensor *> getTensors() const;

  /// Returns the opened files (one, or one per shard).
  llvm::ArrayRef<std::unique_ptr<SafeTensorsFile>> getFiles() const {
    return files;
  }

private:
  SafeTensorsCheckpoint() = default;

  std::string path;
  bool sharded = false;
  std::vector<std::unique_ptr<SafeTensorsFile>> files;
  llvm::StringMap<const SafeTensorsTensor *> tensors;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_IMPORT_SAFETENSORS_H
