//===- AttentionBlockTable.h - Key blocks of a sparse pattern ---*- C++ -*-===//
//
// This file declares the enumeration of the key blocks each query block of a
// tiled attention visits under a sparsity pattern, shared by the attention
// lowerings (the tiled loop nest and the fused GPU kernel).
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_ATTENTIONBLOCKTABLE_H
#define TMC_DIALECT_TFM_IR_ATTENTIONBLOCKTABLE_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir {
namespace tfm {

/// The key blocks each query block visits under a sparsity pattern, and the
/// element masks of the blocks it keeps only in part.
struct AttentionBlockTable {
  /// For query block qb, entries [offsets[qb], offsets[qb + 1]).
  SmallVector<int32_t> offsets;
  /// Key block of each entry (the tail block, if any, is the last).
  SmallVector<int32_t> keyBlocks;
  /// Index into `masks` of each entry, or -1 when the block is kept whole.
  SmallVector<int32_t> maskIndex;
  /// Element masks, blockQ x blockK bytes each (1: kept), row-major.
  SmallVector<int8_t> masks;
  int64_t numMasks = 0;
};

/// Enumerates the blocks `pattern` keeps (intersected with the causal mask
/// when `causal`) for queries tiled by `blockQ` and keys by `blockK`. The
/// queries are the last `seqQ` of `seqK` positions. Blocks with no kept
/// element are left out; blocks kept whole have no mask.
AttentionBlockTable buildAttentionBlockTable(
    SparsityPatternAttrInterface pattern, bool causal, int64_t seqQ,
    int64_t seqK, int64_t blockQ, int64_t blockK);

} // namespace tfm
} // namespace mlir

#endif // TMC_DIALECT_TFM_IR_ATTENTIONBLOCKTABLE_H
