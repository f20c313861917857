//===- QuantizeWeights.h - Pack quantized weights ---------------*- C++ -*-===//
//
// This file declares the compile-time quantization and packing of weights
// into the layouts that tfm.quantized_linear and TMC's kernels read
// (docs/Quantization.md).
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_TRANSFORMS_QUANTIZEWEIGHTS_H
#define TMC_DIALECT_TFM_TRANSFORMS_QUANTIZEWEIGHTS_H

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include <vector>

namespace mlir {
namespace tmc {

/// Returns the bytes of `part` ("values", "scales" or "zeros") of the packed
/// form of the fp32 weight `source`, which holds n x k elements stored
/// [n, k] (or [k, n] when `transposed`).
std::vector<char> packQuantizedPart(tfm::QuantSchemeAttr quant, StringRef part,
                                    ArrayRef<float> source, int64_t n,
                                    int64_t k, bool transposed);

/// Returns the bytes of `part` ("values" or "indices") of the pruned form of
/// the fp32 weight `source` (n x k elements, [n, k] or [k, n] when
/// `transposed`). With `dense`, the values are the whole [n, k] matrix with
/// the pruned weights zeroed.
std::vector<char> packPrunedPart(tfm::PruneSchemeAttr prune, StringRef part,
                                 ArrayRef<float> source, int64_t n, int64_t k,
                                 bool transposed, bool dense);

/// Returns the n x k weight, row-major [n, k], that the kernels compute from
/// the packed `values`, `scales` and `zeros` of a weight under `quant` (the
/// bytes of packQuantizedPart's parts; unused parts may be empty).
std::vector<float> dequantizePacked(tfm::QuantSchemeAttr quant,
                                    ArrayRef<char> values,
                                    ArrayRef<char> scales, ArrayRef<char> zeros,
                                    int64_t n, int64_t k);

/// Packs the fp32 weight `source` (as packQuantizedPart) and dequantizes it
/// again: the weight a quantized layer computes with, [n, k] row-major.
std::vector<float> quantizeDequantize(tfm::QuantSchemeAttr quant,
                                      ArrayRef<float> source, int64_t n,
                                      int64_t k, bool transposed);

/// IEEE binary16 and bfloat16 bits of `value`, rounded to nearest even.
uint16_t floatToHalfBits(float value);
uint16_t floatToBFloat16Bits(float value);
float halfBitsToFloat(uint16_t bits);

} // namespace tmc
} // namespace mlir

#endif // TMC_DIALECT_TFM_TRANSFORMS_QUANTIZEWEIGHTS_H
