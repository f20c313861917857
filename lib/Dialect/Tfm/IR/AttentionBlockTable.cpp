//===- AttentionBlockTable.cpp - Key blocks of a sparse pattern -*- C++ -*-===//
//
// This file implements the enumeration of the key blocks a sparse attention
// pattern keeps, per query block.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/AttentionBlockTable.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tfm;

AttentionBlockTable mlir::tfm::buildAttentionBlockTable(
    SparsityPatternAttrInterface pattern, bool causal, int64_t seqQ,
    int64_t seqK, int64_t blockQ, int64_t blockK) {
  AttentionBlockTable table;
  int64_t shift = seqK - seqQ;
  int64_t numQ = llvm::divideCeil(seqQ, blockQ);
  int64_t numK = llvm::divideCeil(seqK, blockK);
  SmallVector<int8_t> mask(blockQ * blockK);
  table.offsets.push_back(0);
  for (int64_t qb = 0; qb < numQ; ++qb) {
    int64_t q0 = qb * blockQ, q1 = std::min(seqQ, q0 + blockQ);
    for (int64_t kb = 0; kb < numK; ++kb) {
      int64_t k0 = kb * blockK, k1 = std::min(seqK, k0 + blockK);
      if (causal && k0 > q1 - 1 + shift)
        break;
      int kind = pattern.classifyBlock(q0 + shift, q1 + shift, k0, k1, seqK);
      if (kind == 0)
        continue;
      bool crossesDiagonal = causal && k1 - 1 > q0 + shift;
      if (kind == 1 && !crossesDiagonal) {
        table.keyBlocks.push_back(kb);
        table.maskIndex.push_back(-1);
        continue;
      }
      int64_t kept = 0, total = (q1 - q0) * (k1 - k0);
      std::fill(mask.begin(), mask.end(), 0);
      for (int64_t i = q0; i < q1; ++i)
        for (int64_t j = k0; j < k1; ++j) {
          bool keep = pattern.isKept(i + shift, j, seqK) &&
                      (!causal || j <= i + shift);
          mask[(i - q0) * blockK + (j - k0)] = keep;
          kept += keep;
        }
      if (kept == 0)
        continue;
      table.keyBlocks.push_back(kb);
      if (kept == total) {
        table.maskIndex.push_back(-1);
        continue;
      }
      table.maskIndex.push_back(table.numMasks++);
      table.masks.append(mask.begin(), mask.end());
    }
    table.offsets.push_back(table.keyBlocks.size());
  }
  return table;
}
