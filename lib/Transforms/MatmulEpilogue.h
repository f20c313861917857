//===- MatmulEpilogue.h - Elementwise ops folded into matmuls ---*- C++ -*-===//
//
// The elementwise ops that follow a contraction on buffers and rewrite its
// output in place (a residual add, a bias, an activation, a gate), which a
// matmul kernel can apply to each output element before storing it.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H
#define TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tmc {

/// The `linalg.generic` ops right after a contraction whose output C is a
/// contiguous [M][N] buffer that each rewrite C in place, element by
/// element: all loops parallel, one output that is C or a reshape of it
/// (identity map), reading C's element only at the position it writes
/// (through the output's block argument or an input that is C or a reshape
/// of it, identity map), any other input through any projected permutation
/// from a buffer that does not overlap C, and a payload without side
/// effects. Only view ops without effects (reshapes) may come between the
/// ops. Buffers of different function arguments or allocations are taken
/// not to overlap, as the compiled-model ABI guarantees; two views of one
/// buffer must have constant, disjoint byte ranges.
class MatmulEpilogue {
public:
  /// The epilogue of `contraction`, whose output (its only init) is
  /// indexed (m, n); empty if none.
  static MatmulEpilogue after(linalg::LinalgOp contraction);

  bool empty() const { return ops.empty(); }

  /// The op before which a kernel that applies the epilogue must be
  /// created (its inputs are defined by then): the last epilogue op, or
  /// the contraction when there is none.
  Operation *insertionPoint() const;

  /// The value to store at C[m][n] when the contraction's result there is
  /// `acc`: `acc` through every epilogue op. Loads the ops' other inputs at
  /// that element, so must be built where (m, n) is in bounds.
  Value apply(OpBuilder &b, Location loc, Value m, Value n, Value acc) const;

  /// Marks the epilogue ops with `attribute`; the caller erases them once
  /// its walk is done.
  void markFolded(RewriterBase &rewriter, StringRef attribute) const;

private:
  Operation *contraction = nullptr;
  int64_t sizeM = 0, sizeN = 0;
  SmallVector<linalg::GenericOp> ops;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H
