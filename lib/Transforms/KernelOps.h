//===- KernelOps.h - Building blocks of the GPU kernels ---------*- C++ -*-===//
//
// The index arithmetic, loads, stores and structured loops that TMC's GPU
// passes write their kernels with, and the type of a workgroup (shared)
// memory buffer.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_KERNELOPS_H
#define TMC_LIB_TRANSFORMS_KERNELOPS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>

namespace mlir {
namespace tmc {

/// Creates ops with `b` at `loc`: index and f32 constants, unsigned index
/// comparisons, loads and stores, and scf loops and conditionals whose
/// bodies the callbacks fill (the builder's insertion point is restored
/// after each).
struct KernelOps {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v);
  Value f32(double v);
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  /// x < y, unsigned.
  Value less(Value x, Value y);
  /// x and y (i1).
  Value both(Value x, Value y);
  Value load(Value memref, ValueRange indices);
  void store(Value v, Value memref, ValueRange indices);

  /// for (lb; ub; step) { body(iv) } with no results.
  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body);
  /// A loop over [lb, ub) carrying one value; returns its final value.
  Value reduce(Value lb, Value ub, Value init,
               function_ref<Value(Value, Value)> body);
  /// The same with a step.
  Value reduce(Value lb, Value ub, Value step, Value init,
               function_ref<Value(Value, Value)> body);
  /// if (condition) { body() } with no results.
  void ifThen(Value condition, function_ref<void()> body);
  /// A gpu.launch of gridX x gridY x gridZ blocks of blockX x blockY
  /// threads, with the given workgroup and private buffers; the builder
  /// stays before it.
  gpu::LaunchOp launch(Value gridX, Value gridY, Value gridZ, int64_t blockX,
                       int64_t blockY, TypeRange workgroup = {},
                       TypeRange privates = {});
  /// Combines the `size` values (a power of two) of the workgroup buffer
  /// `partials`, one per thread `tid`, into partials[0] with a tree: at
  /// each level the lower half combines the upper half's values into its
  /// own, then a barrier.
  void treeReduce(Value partials, Value tid, int64_t size,
                  function_ref<Value(Value, Value)> combine);
};

/// Checks a pass's integer option `option`, set to `value`: in [`min`,
/// `max`] (no upper bound when `max` is the largest int64_t), else an error
/// on `op` naming the pass, the option, the range and `meaning` (e.g. what
/// 0 means), which the pass then fails with.
LogicalResult checkOptionRange(Operation *op, StringRef pass, StringRef option,
                               int64_t value, int64_t min,
                               int64_t max = std::numeric_limits<int64_t>::max(),
                               StringRef meaning = "");

/// Checks a GPU pass's `threads` option, a block size: in [`min`, 1024]
/// (the CUDA limit), else an error on `op` naming the pass, the range and
/// `meaning` (e.g. what 0 means), which the pass then fails with.
LogicalResult checkThreadsOption(Operation *op, StringRef pass,
                                 int64_t threads, int64_t min = 1,
                                 StringRef meaning = "");

/// The type of a workgroup (shared) memory buffer.
MemRefType workgroupMemRefType(ArrayRef<int64_t> shape, Type element);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_KERNELOPS_H
