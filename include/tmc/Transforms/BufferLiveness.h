//===- BufferLiveness.h - Live ranges of buffers ----------------*- C++ -*-===//
//
// This file declares the liveness analysis of memref buffers that the
// buffer planner, its checker and the memory report share.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TRANSFORMS_BUFFERLIVENESS_H
#define TMC_TRANSFORMS_BUFFERLIVENESS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <string>

namespace mlir {
namespace tmc {

/// A buffer's live range in program points: the ops of a function numbered
/// in pre-order, an op with regions spanning the points of its body.
struct LiveRange {
  int64_t first = 0;
  int64_t last = 0;
  bool overlaps(const LiveRange &other) const {
    return first <= other.last && other.first <= last;
  }
};

/// Program points of one function and the live ranges of its buffers.
///
/// A buffer is live from its definition to its last use, where uses are
/// followed through aliases: view-like ops (subview, view, reinterpret and
/// ordinary casts, expand/collapse shape), region control flow (a buffer
/// yielded by `scf.yield` aliases the loop's block argument and result) and
/// the memref results of any other op that uses it (a call, a select, an
/// `scf.while`). A use nested in an op keeps the buffer live through that
/// whole op when the buffer was defined outside of it (a buffer used in a
/// loop is live for the whole loop); a buffer defined inside a loop and
/// used only there is live for part of one iteration, which is safe for
/// sequential loops. A buffer defined inside a loop and yielded to the loop
/// (carried to the next iteration) has no live range: each iteration needs
/// its own.
class BufferLiveness {
public:
  explicit BufferLiveness(func::FuncOp func);

  /// Returns the live range of `buffer`, or failure when it escapes the
  /// function (returned) or is carried across the iterations of a loop
  /// that defines it.
  FailureOr<LiveRange> getLiveRange(Value buffer) const;

  /// Returns the program point of `op`.
  int64_t getIndex(Operation *op) const { return index.lookup(op); }

  /// Returns the number of program points.
  int64_t getNumPoints() const { return numPoints; }

private:
  llvm::DenseMap<Operation *, int64_t> index, end;
  int64_t numPoints = 0;
};

/// One buffer of a plan: size and offset in bytes, live range in points.
struct PlannedBuffer {
  std::string name;
  int64_t size = 0;
  int64_t offset = 0;
  LiveRange range;
};

/// Returns the maximum over program points of the bytes live there.
int64_t computeLiveBytesLowerBound(ArrayRef<PlannedBuffer> buffers);

/// Checks a plan: no two buffers live at the same time overlap in
/// [offset, offset + size), and every buffer fits in `arenaBytes`. On
/// failure, `message` names the first conflict.
bool verifyBufferPlan(ArrayRef<PlannedBuffer> buffers, int64_t arenaBytes,
                      std::string &message);

/// The function's arena argument (named `arena` by its `tfm.name`), where
/// the buffer plan places every buffer, or null.
Value getArenaArgument(func::FuncOp func);

/// Whether `v` is the arena argument of its function.
bool isArenaArgument(Value v);

} // namespace tmc
} // namespace mlir

#endif // TMC_TRANSFORMS_BUFFERLIVENESS_H
