//===- TfmAttrs.cpp - tfm attributes ----------------------------*- C++ -*-===//
//
// This file implements the tfm attributes: their verifiers and the
// sparsity-pattern interface of the attention patterns.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tfm;

#include "tmc/Dialect/Tfm/IR/TfmAttrInterfaces.cpp.inc"
#include "tmc/Dialect/Tfm/IR/TfmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tmc/Dialect/Tfm/IR/TfmAttrs.cpp.inc"

void TfmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tmc/Dialect/Tfm/IR/TfmAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// WindowAttr
//===----------------------------------------------------------------------===//

LogicalResult WindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t size) {
  if (size <= 0)
    return emitError() << "window size must be positive, got " << size;
  return success();
}

bool WindowAttr::isKept(int64_t query, int64_t key, int64_t) const {
  return std::abs(query - key) < getSize();
}

LogicalResult
WindowAttr::verifyForSequence(function_ref<InFlightDiagnostic()> emitError,
                              int64_t seqLen) const {
  if (getSize() > seqLen)
    return emitError() << "window size " << getSize()
                       << " is larger than the sequence length " << seqLen;
  return success();
}

//===----------------------------------------------------------------------===//
// DilatedWindowAttr
//===----------------------------------------------------------------------===//

LogicalResult
DilatedWindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t size, int64_t dilation) {
  if (size <= 0)
    return emitError() << "window size must be positive, got " << size;
  if (dilation <= 0)
    return emitError() << "dilation must be positive, got " << dilation;
  return success();
}

bool DilatedWindowAttr::isKept(int64_t query, int64_t key, int64_t) const {
  int64_t distance = std::abs(query - key);
  return distance % getDilation() == 0 &&
         distance < getSize() * getDilation();
}

LogicalResult DilatedWindowAttr::verifyForSequence(
    function_ref<InFlightDiagnostic()> emitError, int64_t seqLen) const {
  if (getSize() * getDilation() > seqLen)
    return emitError() << "dilated window span " << getSize() * getDilation()
                       << " (size " << getSize() << " x dilation "
                       << getDilation() << ") is larger than the sequence length "
                       << seqLen;
  return success();
}

//===----------------------------------------------------------------------===//
// StridedAttr
//===----------------------------------------------------------------------===//

LogicalResult StridedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t stride, int64_t summary) {
  if (stride <= 0)
    return emitError() << "stride must be positive, got " << stride;
  if (summary < 0 || summary > stride)
    return emitError() << "summary columns must be in [0, stride = " << stride
                       << "], got " << summary;
  return success();
}

bool StridedAttr::isKept(int64_t query, int64_t key, int64_t) const {
  int64_t stride = getStride();
  return query / stride == key / stride ||
         key % stride >= stride - getSummary();
}

LogicalResult
StridedAttr::verifyForSequence(function_ref<InFlightDiagnostic()> emitError,
                               int64_t seqLen) const {
  if (getStride() > seqLen)
    return emitError() << "stride " << getStride()
                       << " is larger than the sequence length " << seqLen;
  return success();
}

//===----------------------------------------------------------------------===//
// BlockSparseAttr
//===----------------------------------------------------------------------===//

LogicalResult
BlockSparseAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t block, int64_t window, int64_t global,
                        int64_t random, int64_t seed) {
  if (block <= 0)
    return emitError() << "block size must be positive, got " << block;
  if (window <= 0 || window % 2 == 0)
    return emitError() << "window must be a positive odd number of blocks, got "
                       << window;
  if (global < 0)
    return emitError() << "global token count must be non-negative, got "
                       << global;
  if (random < 0)
    return emitError() << "random block count must be non-negative, got "
                       << random;
  if (seed < 0)
    return emitError() << "seed must be non-negative, got " << seed;
  return success();
}

/// A small deterministic hash (splitmix64) so that the random blocks depend
/// only on the attribute, never on the host's random number generator.
static uint64_t splitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool BlockSparseAttr::isRandomBlock(int64_t queryBlock, int64_t keyBlock,
                                    int64_t numBlocks) const {
  int64_t random = std::min<int64_t>(getRandom(), numBlocks);
  // Draw `random` distinct blocks for this query block: a partial
  // Fisher-Yates shuffle of [0, numBlocks) driven by the hash.
  SmallVector<int64_t> order(numBlocks);
  for (int64_t i = 0; i < numBlocks; ++i)
    order[i] = i;
  uint64_t state = splitMix64(static_cast<uint64_t>(getSeed()) * 1000003ULL +
                              static_cast<uint64_t>(queryBlock));
  for (int64_t i = 0; i < random; ++i) {
    state = splitMix64(state);
    int64_t j = i + static_cast<int64_t>(state % (numBlocks - i));
    std::swap(order[i], order[j]);
    if (order[i] == keyBlock)
      return true;
  }
  return false;
}

bool BlockSparseAttr::isKept(int64_t query, int64_t key, int64_t seqLen) const {
  if (query < getGlobal() || key < getGlobal())
    return true;
  int64_t qb = query / getBlock(), kb = key / getBlock();
  if (std::abs(qb - kb) <= getWindow() / 2)
    return true;
  int64_t numBlocks = (seqLen + getBlock() - 1) / getBlock();
  return getRandom() > 0 && isRandomBlock(qb, kb, numBlocks);
}

LogicalResult
BlockSparseAttr::verifyForSequence(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t seqLen) const {
  if (getBlock() > seqLen)
    return emitError() << "block size " << getBlock()
                       << " is larger than the sequence length " << seqLen;
  if (getGlobal() > seqLen)
    return emitError() << "global token count " << getGlobal()
                       << " is out of range for the sequence length " << seqLen;
  return success();
}

//===----------------------------------------------------------------------===//
// QuantSchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
QuantSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        QuantKind kind, int64_t groupSize, bool symmetric,
                        Type scaleType) {
  if (!scaleType.isF32() && !scaleType.isF16())
    return emitError() << "quantization scale type must be f16 or f32, got "
                       << scaleType;
  if (kind == QuantKind::int4) {
    if (groupSize != 32 && groupSize != 64 && groupSize != 128)
      return emitError() << "int4 group size must be 32, 64 or 128, got "
                         << groupSize;
    return success();
  }
  if (groupSize != 0)
    return emitError() << "group size applies only to int4, not to "
                       << stringifyQuantKind(kind);
  if (!symmetric)
    return emitError() << "zero-points (symmetric = false) apply only to int4, "
                          "not to "
                       << stringifyQuantKind(kind);
  if ((kind == QuantKind::fp16 || kind == QuantKind::bf16) &&
      !scaleType.isF32())
    return emitError() << stringifyQuantKind(kind) << " storage has no scales";
  return success();
}

//===----------------------------------------------------------------------===//
// PruneSchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
PruneSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        PruneKind kind, APFloat sparsityValue) {
  double sparsity = sparsityValue.convertToDouble();
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    return emitError() << "pruning sparsity must be in [0, 1), got "
                       << sparsity;
  if (kind == PruneKind::two_four && sparsity != 0.5)
    return emitError() << "2:4 pruning has sparsity 0.5 by construction, got "
                       << sparsity;
  return success();
}
