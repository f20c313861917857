//===- QMatmul.h - Weight-quantized matmul internals ------------*- C++ -*-===//
//
// This file declares the internal interface of the weight-quantized matmul
// kernels: C[M, N] += A[M, K] * W^T, where W is an N x K weight stored packed
// (int8, int4, ternary, binary, fp16 or bf16) and dequantized in registers or
// in a small L1-resident tile, never expanded to an fp32 copy in full.
//
// The C entry points in QMatmul.cpp translate memref descriptors into a
// QMatmulArgs and dispatch to the implementation of the matmul ISA in use
// (tmc_rt_matmul_isa).
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_RUNTIME_QMATMUL_H
#define TMC_LIB_RUNTIME_QMATMUL_H

#include <cstdint>
#include <cstring>

namespace tmc::rt {

/// How the weights are stored.
enum class QFormat {
  /// One int8 per weight; w = q * S[n, 0].
  Int8,
  /// Two weights per byte (low nibble first), groups of `group` along K with
  /// a scale (and, when `zero` is set, a zero point) per row and group.
  Int4,
  /// Four 2-bit codes per byte (0, +1, -1); w = code * S[0, 0].
  Ternary,
  /// Eight sign bits per byte (1 is +1, 0 is -1); w = sign * S[n, 0].
  Binary,
  /// IEEE half-precision bit patterns.
  F16,
  /// bfloat16 bit patterns.
  BF16,
};

/// One quantized product. Element (i, j) of A and C is at x[i * rsX + j * csX];
/// row n of W starts at w + n * rsW (bytes), with its weights contiguous.
/// Scales and zero points are read at s[n * rsS + g * csS] (z likewise), as
/// floats or, when `halfScales`, as fp16 bit patterns.
struct QMatmulArgs {
  QFormat format = QFormat::Int8;
  int64_t m = 0, n = 0, k = 0;
  const float *a = nullptr;
  int64_t rsA = 0, csA = 0;
  float *c = nullptr;
  int64_t rsC = 0, csC = 0;
  const uint8_t *w = nullptr;
  int64_t rsW = 0;
  const void *s = nullptr;
  int64_t rsS = 0, csS = 0;
  const void *z = nullptr;
  int64_t rsZ = 0, csZ = 0;
  /// Int4: the group size along K, and whether zero points are given (else
  /// the nibbles are signed).
  int64_t group = 0;
  bool asymmetric = false;
  bool halfScales = false;
};

/// Portable implementation.
void qmatmulGeneric(const QMatmulArgs &args);

/// AVX2 + FMA + F16C implementation.
void qmatmulAvx2(const QMatmulArgs &args);

/// AVX-512F (+ F16C) implementation of the int4 matrix-vector product (one
/// row of A, groups a multiple of 32 weights). Returns false, doing nothing,
/// for any other product.
bool qmatmulAvx512(const QMatmulArgs &args);

// The helpers below are compiled into each kernel file with that file's target
// flags; internal linkage keeps code built for one instruction set from being
// merged into another's.
namespace {

/// Converts an IEEE half-precision bit pattern to float.
inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal: normalize the mantissa.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400));
    bits = sign | (uint32_t(112 - e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// Converts a bfloat16 bit pattern to float.
inline float bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// Scale (or zero point) `g` of row `n` of a scale operand.
inline float loadScale(const void *p, int64_t rs, int64_t cs, bool half,
                       int64_t n, int64_t g) {
  int64_t at = n * rs + g * cs;
  return half ? halfToFloat(static_cast<const uint16_t *>(p)[at])
              : static_cast<const float *>(p)[at];
}

/// Dequantizes weight (n, k) the slow, obvious way; the reference of every
/// implementation and the path for the odd ends of rows.
inline float dequantize(const QMatmulArgs &q, int64_t n, int64_t k) {
  const uint8_t *row = q.w + n * q.rsW;
  switch (q.format) {
  case QFormat::Int8:
    return float(int8_t(row[k])) * loadScale(q.s, q.rsS, q.csS, false, n, 0);
  case QFormat::Int4: {
    int nibble = (row[k / 2] >> (4 * (k & 1))) & 0xf;
    int64_t g = k / q.group;
    float scale = loadScale(q.s, q.rsS, q.csS, q.halfScales, n, g);
    if (q.asymmetric)
      return (float(nibble) -
              loadScale(q.z, q.rsZ, q.csZ, q.halfScales, n, g)) *
             scale;
    return float((nibble ^ 8) - 8) * scale;
  }
  case QFormat::Ternary: {
    int code = (row[k / 4] >> (2 * (k & 3))) & 3;
    float scale = loadScale(q.s, 0, 0, false, 0, 0);
    return code == 1 ? scale : code == 2 ? -scale : 0.0f;
  }
  case QFormat::Binary: {
    float scale = loadScale(q.s, q.rsS, q.csS, false, n, 0);
    return (row[k / 8] >> (k & 7)) & 1 ? scale : -scale;
  }
  case QFormat::F16: {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, sizeof(h));
    return halfToFloat(h);
  }
  case QFormat::BF16: {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, sizeof(h));
    return bf16ToFloat(h);
  }
  }
  return 0.0f;
}

} // namespace
} // namespace tmc::rt

#endif // TMC_LIB_RUNTIME_QMATMUL_H
