//===- NormPrologue.h - Norms computed by the matmuls that read them -*- C++ -*-===//
//
// A layer or RMS norm (`tfm.fused_norm`) whose output only contractions
// read, as their (m, k) input, need not run as a kernel of its own: each of
// those contractions' kernels can normalize the rows of the norm's input
// itself as it stages its input tiles.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_NORMPROLOGUE_H
#define TMC_LIB_TRANSFORMS_NORMPROLOGUE_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace tmc {

/// A `tfm.fused_norm` applied by a contraction's kernel to its (m, k) input
/// as it reads it (the kernel's prologue). Its conditions:
///   - the norm's output is an allocation or an arena buffer (a
///     `memref.view` of the function's `arena` argument) defined in the
///     norm's block, not overlapping the norm's input;
///   - the norm's input, through casts, is a contiguous memref of rank 2 or
///     more whose last dimension K is the normalized one;
///   - every reader of the output, through reshapes, is a contraction later
///     in the block that becomes a kernel applying prologues, reading it
///     only as its input indexed (m, k), a contiguous [M][K] reshape of it;
///   - nothing from the norm up to the last of those kernels (including
///     their epilogues) writes over the norm's input, scale or shift.
/// Every such kernel computes the mean and the inverse standard deviation
/// of its block's rows itself, at its start, as the norm's kernel would
/// (the sum over the row, then that of the squared deviations, each times
/// 1/K), and reads (x - mean) * rstd * gamma (+ beta) in place of the
/// norm's output, which is then never written: the norm is erased.
class NormPrologue {
public:
  /// The norms under `root` whose readers' kernels can apply them, by
  /// reader. `foldableInput(op)` is the (m, k) input operand of a
  /// contraction whose kernel applies a prologue (null for any other op);
  /// `kernelPoint(op)` the op before which its kernel will be created.
  static llvm::DenseMap<Operation *, NormPrologue>
  find(Operation *root,
       function_ref<OpOperand *(linalg::LinalgOp)> foldableInput,
       function_ref<Operation *(linalg::LinalgOp)> kernelPoint);

  NormPrologue() = default;
  explicit NormPrologue(tfm::FusedNormOp norm) : norm(norm) {}

  tfm::FusedNormOp getNorm() const { return norm; }

  /// The op before which the reader's kernel was to be created when the
  /// norm was found foldable into it.
  Operation *getKernelPoint() const { return kernelPoint; }

  /// The workgroup buffers a kernel of `threads` threads with `rows` rows
  /// per block adds to its own: each row's mean and inverse standard
  /// deviation, and one partial sum per thread.
  static SmallVector<Type, 3> workgroupTypes(MLIRContext *ctx, int64_t rows,
                                             int64_t threads);

  /// Builds, before the kernel's launch, the view of the norm's input as
  /// its [M][K] rows.
  void prepare(OpBuilder &b, Location loc);

  /// Builds, in the kernel, run by all its `threads` threads (`tid`), the
  /// statistics of the block's rows m0, ..., m0 + rows - 1 (those below M)
  /// into `buffers` (as `workgroupTypes`), ending with a barrier: groups of
  /// threads sum strided parts of a row, one thread of each adds the
  /// group's sums.
  void computeStatistics(OpBuilder &b, Location loc, ValueRange buffers,
                         Value tid, int64_t threads, Value m0, int64_t rows);

  /// The norm's output at (m, k), for a row m of the block and k < K.
  Value load(OpBuilder &b, Location loc, Value m, Value k) const;

private:
  tfm::FusedNormOp norm;
  Operation *kernelPoint = nullptr;
  /// Set by `prepare` and `computeStatistics`.
  Value rowsView, mean, rstd, m0;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_NORMPROLOGUE_H
