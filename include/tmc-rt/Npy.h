//===- tmc-rt/Npy.h - NumPy .npy files --------------------------*- C++ -*-===//
//
// This file declares a reader and a writer for NumPy's .npy format (versions
// 1 to 3, little-endian, C order) for the element types that compiled models
// take and produce. tmc-run and the tests use it; it is not part of the
// runtime library's C API.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_RT_NPY_H
#define TMC_RT_NPY_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tmc::rt {

/// The element types the reader and the writer support, with their NumPy
/// `descr` spellings.
enum class NpyType {
  F32,  ///< '<f4'
  F16,  ///< '<f2'
  I64,  ///< '<i8'
  I32,  ///< '<i4'
  I8,   ///< '|i1'
  U8,   ///< '|u1'
  U16,  ///< '<u2' (also used to carry bf16 bit patterns)
  Bool, ///< '|b1'
};

/// The NumPy `descr` of `type`, e.g. "<f4".
const char *getNpyDescr(NpyType type);

/// The size in bytes of one element of `type`.
size_t getNpyTypeSize(NpyType type);

/// Formats a shape as "[d0, d1, ...]".
std::string formatShape(const std::vector<int64_t> &shape);

/// A dense, C-order array with a 64-byte aligned buffer.
class NpyArray {
public:
  NpyType getType() const { return type; }
  const std::vector<int64_t> &getShape() const { return shape; }
  int64_t getNumElements() const { return numElements; }
  size_t getNumBytes() const { return numBytes; }
  void *getData() { return buffer.get(); }
  const void *getData() const { return buffer.get(); }

  /// Allocates a zero-filled array. Returns false when the shape is invalid
  /// (a negative or overflowing extent) or memory runs out.
  bool allocate(NpyType type, const std::vector<int64_t> &shape);

private:
  struct FreeDeleter {
    void operator()(void *p) const;
  };
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  int64_t numElements = 0;
  size_t numBytes = 0;
  std::unique_ptr<void, FreeDeleter> buffer;
};

/// Reads the .npy file at `path` into `array`. On failure returns false and
/// sets `error` to a one-line message that starts with the path.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);

/// Writes a version-1 .npy file (version 2 when the header needs it). The
/// file is written under a temporary name and renamed, so a failed write
/// never leaves a partial file at `path`. On failure returns false and sets
/// `error` to a one-line message that starts with the path.
bool writeNpy(const std::string &path, NpyType type,
              const std::vector<int64_t> &shape, const void *data,
              std::string &error);

} // namespace tmc::rt

#endif // TMC_RT_NPY_H
