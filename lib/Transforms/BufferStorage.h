//===- BufferStorage.h - Which bytes a memref view reads --------*- C++ -*-===//
//
// What the GPU passes that fold ops into one kernel ask of the buffers on
// the way: the buffer behind a chain of reshapes, whether a memref is
// contiguous, and whether two views may share bytes.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_BUFFERSTORAGE_H
#define TMC_LIB_TRANSFORMS_BUFFERSTORAGE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <limits>

namespace mlir {
namespace tmc {

/// `v` through any chain of expand_shape and collapse_shape ops.
Value reshapeRoot(Value v);

/// The views of `v` by reshapes (expand_shape, collapse_shape), transitively,
/// and every other use of `v` or of them: what reads or writes `v`'s
/// buffer through `v`.
struct ReshapeFamily {
  /// Depth first, each after the reshape it reshapes.
  SmallVector<Operation *> reshapes;
  /// The uses by ops other than those reshapes.
  SmallVector<OpOperand *> uses;

  static ReshapeFamily of(Value v);
};

/// `v`'s type if it is a statically shaped memref with the identity
/// (row-major, contiguous) layout, else null.
MemRefType contiguousType(Value v);

/// The buffer a memref view reads, and the byte range of it when known.
struct BufferStorage {
  Value root;
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();

  /// Follows view ops to a `memref.view` (whose range is its constant byte
  /// shift and its type's size: any view of it but a reinterpret_cast lies
  /// within) or to a value that is no view (all of it).
  static BufferStorage of(Value v);

  /// A buffer of its own: a function's argument, an allocation, a global,
  /// or a kernel's workgroup or private buffer.
  static bool isBuffer(Value root);

  /// Whether the two cannot share a byte: disjoint ranges of one buffer,
  /// or distinct buffers of their own (distinct function arguments and
  /// allocations are taken not to overlap, as the compiled-model ABI
  /// guarantees).
  bool isDisjointFrom(const BufferStorage &other) const;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_BUFFERSTORAGE_H
