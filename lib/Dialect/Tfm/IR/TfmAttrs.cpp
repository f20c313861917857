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

/// The smallest and largest |i - j| over queries [q0, q1) and keys [k0, k1).
static std::pair<int64_t, int64_t> distanceRange(int64_t q0, int64_t q1,
                                                 int64_t k0, int64_t k1) {
  int64_t lo = 0;
  if (k0 > q1 - 1)
    lo = k0 - (q1 - 1);
  else if (q0 > k1 - 1)
    lo = q0 - (k1 - 1);
  int64_t hi = std::max(std::abs(q0 - (k1 - 1)), std::abs((q1 - 1) - k0));
  return {lo, hi};
}

int WindowAttr::classifyBlock(int64_t q0, int64_t q1, int64_t k0, int64_t k1,
                              int64_t) const {
  auto [lo, hi] = distanceRange(q0, q1, k0, k1);
  if (lo >= getSize())
    return 0;
  return hi < getSize() ? 1 : 2;
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

int DilatedWindowAttr::classifyBlock(int64_t q0, int64_t q1, int64_t k0,
                                     int64_t k1, int64_t) const {
  auto [lo, hi] = distanceRange(q0, q1, k0, k1);
  int64_t span = getSize() * getDilation();
  if (lo >= span)
    return 0;
  if (getDilation() == 1 && hi < span)
    return 1;
  return 2;
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

int StridedAttr::classifyBlock(int64_t q0, int64_t q1, int64_t k0, int64_t k1,
                               int64_t) const {
  int64_t stride = getStride(), summary = getSummary();
  bool sameStrideBlockPossible =
      q0 / stride <= (k1 - 1) / stride && k0 / stride <= (q1 - 1) / stride;
  // Is some key in [k0, k1) a summary column (j mod stride >= stride - C)?
  bool hasSummary = false;
  if (summary > 0) {
    if (k1 - k0 >= stride)
      hasSummary = true;
    else
      for (int64_t j = k0; j < k1 && !hasSummary; ++j)
        hasSummary = j % stride >= stride - summary;
  }
  if (!sameStrideBlockPossible && !hasSummary)
    return 0;
  if (summary == stride)
    return 1;
  if (q0 / stride == (q1 - 1) / stride && k0 / stride == (k1 - 1) / stride &&
      q0 / stride == k0 / stride)
    return 1;
  return 2;
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

SmallVector<int64_t> BlockSparseAttr::getRandomBlocks(int64_t queryBlock,
                                                     int64_t numBlocks) const {
  int64_t count = std::min<int64_t>(getRandom(), numBlocks);
  SmallVector<int64_t> drawn;
  for (uint64_t t = 0; static_cast<int64_t>(drawn.size()) < count; ++t) {
    uint64_t x = splitMix64(static_cast<uint64_t>(getSeed()) * 1000003ULL +
                            static_cast<uint64_t>(queryBlock) * 7919ULL + t);
    int64_t block = static_cast<int64_t>(x % static_cast<uint64_t>(numBlocks));
    if (!llvm::is_contained(drawn, block))
      drawn.push_back(block);
  }
  return drawn;
}

bool BlockSparseAttr::isRandomBlock(int64_t queryBlock, int64_t keyBlock,
                                    int64_t numBlocks) const {
  return llvm::is_contained(getRandomBlocks(queryBlock, numBlocks), keyBlock);
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

int BlockSparseAttr::classifyBlock(int64_t q0, int64_t q1, int64_t k0,
                                   int64_t k1, int64_t seqLen) const {
  int64_t global = getGlobal(), block = getBlock();
  // Rows and columns of global tokens are kept whole.
  if (q1 <= global || k1 <= global)
    return 1;
  bool touchesGlobal = q0 < global || k0 < global;
  int64_t numBlocks = (seqLen + block - 1) / block;
  int64_t kept = 0, pairs = 0;
  for (int64_t qb = q0 / block; qb <= (q1 - 1) / block; ++qb) {
    SmallVector<int64_t> random;
    if (getRandom() > 0)
      random = getRandomBlocks(qb, numBlocks);
    for (int64_t kb = k0 / block; kb <= (k1 - 1) / block; ++kb) {
      ++pairs;
      kept += std::abs(qb - kb) <= getWindow() / 2 ||
              llvm::is_contained(random, kb);
    }
  }
  if (kept == 0 && !touchesGlobal)
    return 0;
  if (kept == pairs)
    return 1;
  return 2;
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

LogicalResult QuantSchemeAttr::getPackedShapes(int64_t n, int64_t k,
                                               RankedTensorType &values,
                                               RankedTensorType &scales,
                                               RankedTensorType &zeros) const {
  MLIRContext *ctx = getContext();
  Type i8 = IntegerType::get(ctx, 8);
  Type scale = getScaleType();
  values = scales = zeros = RankedTensorType();
  switch (getKind()) {
  case QuantKind::int8:
  case QuantKind::w8a8:
    values = RankedTensorType::get({n, k}, i8);
    scales = RankedTensorType::get({n, 1}, scale);
    return success();
  case QuantKind::int4: {
    int64_t g = getGroupSize();
    if (k % g != 0 || k % 2 != 0)
      return failure();
    values = RankedTensorType::get({n, k / 2}, i8);
    scales = RankedTensorType::get({n, k / g}, scale);
    if (!getSymmetric())
      zeros = RankedTensorType::get({n, k / g}, scale);
    return success();
  }
  case QuantKind::ternary:
    if (k % 4 != 0)
      return failure();
    values = RankedTensorType::get({n, k / 4}, i8);
    scales = RankedTensorType::get({1, 1}, scale);
    return success();
  case QuantKind::binary:
    if (k % 8 != 0)
      return failure();
    values = RankedTensorType::get({n, k / 8}, i8);
    scales = RankedTensorType::get({n, 1}, scale);
    return success();
  case QuantKind::fp16:
    values = RankedTensorType::get({n, k}, Float16Type::get(ctx));
    return success();
  case QuantKind::bf16:
    values = RankedTensorType::get({n, k}, BFloat16Type::get(ctx));
    return success();
  }
  llvm_unreachable("unknown quantization kind");
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

int64_t QuantSchemeAttr::getWeightsPerByte() const {
  switch (getKind()) {
  case QuantKind::int4:
    return 2;
  case QuantKind::ternary:
    return 4;
  case QuantKind::binary:
    return 8;
  default:
    return 1;
  }
}
