//===- NormPrologue.h - Norms computed by the matmuls that read them -*- C++ -*-===//
//
// A layer or RMS norm (`tfm.fused_norm`) whose output only contractions
// read, as their (m, k) input, need not run as a kernel of its own, nor
// its output take memory: each of those contractions' kernels can
// normalize the rows of the norm's input itself as it stages its input
// tiles.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_NORMPROLOGUE_H
#define TMC_LIB_TRANSFORMS_NORMPROLOGUE_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"


namespace mlir {
namespace tmc {

/// A layer or RMS norm that the kernel of a contraction applies to its
/// (m, k) input as it stages it (its prologue): the input is a reshape of
/// a `tfm.lazy_norm`'s result, and the kernel reads the norm's input
/// instead. Every such kernel computes the mean and the inverse standard
/// deviation of its block's rows itself, at its start, with the norm
/// kernel's formulas (the sum over the row, then that of the squared
/// deviations, each times 1/K; the sums in another order), and stages
/// (x - mean) * rstd * gamma (+ beta).
class NormPrologue {
public:
  /// Whether `norm` can be left to the kernels of the contractions that
  /// read its output (and become a `tfm.lazy_norm`):
  ///   - its output is an allocation or an arena buffer (a `memref.view`
  ///     of the function's `arena` argument) defined in its block, not
  ///     overlapping its input;
  ///   - its input, through casts, is a contiguous memref of rank 2 or more
  ///     whose last dimension K is the normalized one;
  ///   - every use of the output (through reshapes in its block) is the
  ///     norm's or the `kernelInput` of a contraction later in the block,
  ///     a contiguous [M][K] reshape of the output indexed (m, k), and no
  ///     other op from the norm to the last of them reads or writes the
  ///     output's bytes;
  ///   - nothing from the norm up to the last of those contractions writes
  ///     the norm's input, scale or shift.
  /// `kernelInput(op)` is the (m, k) input operand of a contraction that
  /// becomes a matmul kernel, null for any other op.
  static bool canDefer(tfm::FusedNormOp norm,
                       function_ref<OpOperand *(linalg::LinalgOp)> kernelInput);

  /// `norm`'s input through any casts: what a `tfm.lazy_norm` reads.
  static Value getRowsSource(tfm::FusedNormOp norm);

  /// The prologue of `reader`, a contraction whose (m, k) input is
  /// `input`: the norm if `input` is a reshape of a `tfm.lazy_norm`'s
  /// result, a contiguous [M][K] matrix indexed (m, k) whose K is the
  /// norm's last dimension (else a reader the kernels cannot serve).
  static std::optional<NormPrologue> of(linalg::LinalgOp reader,
                                        OpOperand *input);

  tfm::LazyNormOp getNorm() const { return norm; }

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
  /// threads (a power of two each) sum strided parts of a row, and each
  /// group's sums meet in a tree.
  void computeStatistics(OpBuilder &b, Location loc, ValueRange buffers,
                         Value tid, int64_t threads, Value m0, int64_t rows);

  /// The norm's output at (m, k), for a row m of the block and k < K.
  Value load(OpBuilder &b, Location loc, Value m, Value k) const;

private:
  explicit NormPrologue(tfm::LazyNormOp norm) : norm(norm) {}

  tfm::LazyNormOp norm;
  /// Set by `prepare` and `computeStatistics`.
  Value rowsView, mean, rstd, m0;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_NORMPROLOGUE_H
