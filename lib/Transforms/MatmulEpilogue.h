//===- MatmulEpilogue.h - Elementwise ops folded into matmuls ---*- C++ -*-===//
//
// The elementwise ops that follow a contraction on buffers (a residual add,
// an activation, a gate, a copy to the output), which a matmul kernel can
// apply to each output element before storing it.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H
#define TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tmc {

/// The elementwise ops right after a contraction on buffers that a matmul
/// kernel can apply to each of its results before storing it (a residual
/// add, an activation, a gated unit's product, a copy to the model's
/// output). The contraction's output C is a contiguous [M][N] buffer; each
/// op is a `linalg.generic` or `linalg.copy`, all loops parallel, whose
/// one output (identity map) is a contiguous buffer of M * N elements whose
/// leading dimensions index the rows and the others the columns: C or a
/// reshape of it (in place), a buffer an earlier op of the epilogue wrote,
/// or a new one that neither the contraction nor an earlier op reads or
/// writes. An op reads the buffers the epilogue writes, and its own
/// output, only at the element it writes (identity map, same shape), and
/// any other input through a projected permutation from a buffer that the
/// epilogue does not write; its payload has no side effects; at least one
/// of its reads is of a buffer the epilogue writes. Only reshapes may come
/// between the ops.
///
/// Buffers of different function arguments or allocations are taken not to
/// overlap, as the compiled-model ABI guarantees; two `memref.view`s of one
/// buffer must have constant, disjoint byte ranges.
class MatmulEpilogue {
public:
  /// The epilogue of `contraction`, whose output (its only init) is
  /// indexed (m, n); empty if none or if not `search`. A kernel that
  /// applies it reads the contraction's inputs (for the result of a
  /// `tfm.lazy_norm`, the norm's input, scale and shift) and `alsoRead`
  /// (e.g. a bias its accumulators start from), which the epilogue must
  /// then not write.
  static MatmulEpilogue after(linalg::LinalgOp contraction,
                              bool search = true, ValueRange alsoRead = {});

  bool empty() const { return ops.empty(); }

  /// The op before which a kernel that applies the epilogue must be
  /// created (its inputs are defined by then): the last epilogue op, or
  /// the contraction when there is none.
  Operation *insertionPoint() const;

  /// Stores what the contraction and its epilogue leave at output element
  /// (m, n) when the contraction's result there is `acc`: C[m][n] (unless
  /// C is an allocation or an arena buffer, a `memref.view` of the
  /// function's `arena` argument, that nothing reads after the epilogue)
  /// and
  /// the element of every other buffer the epilogue writes. Loads the
  /// ops' other inputs at that element, so must be built where (m, n) is
  /// in bounds.
  void store(OpBuilder &b, Location loc, Value m, Value n, Value acc) const;

  /// Marks the epilogue ops with `attribute`; the caller erases them once
  /// its walk is done.
  void markFolded(RewriterBase &rewriter, StringRef attribute) const;

private:
  Operation *contraction = nullptr;
  int64_t sizeM = 0, sizeN = 0;
  SmallVector<linalg::LinalgOp> ops;
  /// Whether C is stored (it is read after the epilogue).
  bool storesOutput = true;
};

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_MATMULEPILOGUE_H
