//===- QMatmulAvx512.cpp - Weight-quantized matmul, AVX-512 -----*- C++ -*-===//
//
// This file implements the int4 matrix-vector product (one row of A, the
// decoding case) with AVX-512F; every other case goes to the AVX2 kernels.
//
// Sixteen bytes of a row of W (32 weights) are widened to 32-bit lanes
// (vpmovzxbd) and each nibble is turned into its float value by a lookup in
// a 16-entry table held in a register (vpermps reads only the low four bits
// of each index, so the low nibble needs no mask, and the table gives signed
// nibbles their value directly): four vector instructions and two FMAs per
// 32 weights. Lane j of the low-nibble vector holds weight 2j of the block
// and lane j of the high-nibble vector weight 2j + 1, so A is copied once per
// call into that order (even weights of each 32-block, then odd ones). The
// weights are multiplied into A as floats: the products are fp32 exact up to
// rounding, as in the other kernels. Scales are applied once per group and
// row (and zero points, for asymmetric weights, through the sum of A over
// the group: s * (sum a q - z sum a)).
//
//===----------------------------------------------------------------------===//

#include "QMatmul.h"
#include "ThreadPool.h"

#include <immintrin.h>

#include <cstdlib>

using namespace tmc::rt;

namespace {

/// Weights decoded per 16-byte load, and the span of A permuted as one.
constexpr int64_t kBlock = 32;
/// Rows of W decoded together (sharing the loads of A).
constexpr int kRows = 8;

/// A per-thread buffer of floats that grows on demand.
struct FloatBuffer {
  float *data = nullptr;
  int64_t capacity = 0;
  ~FloatBuffer() { std::free(data); }
  float *get(int64_t count) {
    if (count > capacity) {
      std::free(data);
      size_t bytes = (size_t(count) * sizeof(float) + 63) & ~size_t(63);
      data = static_cast<float *>(std::aligned_alloc(64, bytes));
      capacity = data ? count : 0;
    }
    return data;
  }
};
thread_local FloatBuffer tlsPermutedA;

/// Scale (or zero point) g of row n, converting fp16 with F16C.
inline float scaleAt(const void *p, int64_t rs, int64_t cs, bool half,
                     int64_t n, int64_t g) {
  int64_t at = n * rs + g * cs;
  return half ? _cvtsh_ss(static_cast<const uint16_t *>(p)[at])
              : static_cast<const float *>(p)[at];
}

/// out[r] = sum_k A[0, k] * w[n + r, k] for r < R, A permuted in `a`.
template <int R, bool Asymmetric>
void dotRows(const QMatmulArgs &q, const float *a, int64_t n, float *out) {
  // Nibble u stands for u - z with zero points, else for (u ^ 8) - 8.
  const __m512 nibbles =
      Asymmetric ? _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                  13, 14, 15)
                 : _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4,
                                  -3, -2, -1);
  const uint8_t *w[R];
  for (int r = 0; r < R; ++r)
    w[r] = q.w + (n + r) * q.rsW;
  // Two chains per row (low and high nibbles).
  __m512 acc[R], acc2[R];
  for (int r = 0; r < R; ++r)
    acc[r] = acc2[r] = _mm512_setzero_ps();
  int64_t groups = q.k / q.group;
  for (int64_t g = 0; g < groups; ++g) {
    // The dequantized value of each nibble in this group of each row.
    __m512 table[R];
    for (int r = 0; r < R; ++r) {
      float s = scaleAt(q.s, q.rsS, q.csS, q.halfScales, n + r, g);
      if constexpr (Asymmetric) {
        float z = scaleAt(q.z, q.rsZ, q.csZ, q.halfScales, n + r, g);
        table[r] = _mm512_fmsub_ps(nibbles, _mm512_set1_ps(s),
                                   _mm512_set1_ps(z * s));
      } else {
        table[r] = _mm512_mul_ps(nibbles, _mm512_set1_ps(s));
      }
    }
    for (int64_t k = g * q.group, e = k + q.group; k < e; k += kBlock) {
      __m512 a0 = _mm512_load_ps(a + k), a1 = _mm512_load_ps(a + k + 16);
      for (int r = 0; r < R; ++r) {
        __m512i v = _mm512_cvtepu8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(w[r] + k / 2)));
        __m512 lo = _mm512_permutexvar_ps(v, table[r]);
        __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table[r]);
        acc[r] = _mm512_fmadd_ps(a0, lo, acc[r]);
        acc2[r] = _mm512_fmadd_ps(a1, hi, acc2[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], acc2[r]));
}

template <bool Asymmetric>
void vectorRange(const QMatmulArgs &q, const float *a, int64_t n0,
                 int64_t n1) {
  float out[kRows];
  int64_t n = n0;
  for (; n + kRows <= n1; n += kRows) {
    dotRows<kRows, Asymmetric>(q, a, n, out);
    for (int r = 0; r < kRows; ++r)
      q.c[(n + r) * q.csC] += out[r];
  }
  for (; n < n1; ++n) {
    dotRows<1, Asymmetric>(q, a, n, out);
    q.c[n * q.csC] += out[0];
  }
}

} // namespace

bool tmc::rt::qmatmulAvx512(const QMatmulArgs &q) {
  if (q.format != QFormat::Int4 || q.m != 1 || q.group % kBlock != 0 ||
      q.k % q.group != 0)
    return false;
  float *buffer = tlsPermutedA.get(q.k);
  if (!buffer)
    return false;
  // Even weights of each 32-block first, then odd ones.
  for (int64_t base = 0; base < q.k; base += kBlock)
    for (int64_t j = 0; j < kBlock / 2; ++j) {
      buffer[base + j] = q.a[(base + 2 * j) * q.csA];
      buffer[base + kBlock / 2 + j] = q.a[(base + 2 * j + 1) * q.csA];
    }
  auto range = [&](int64_t n0, int64_t n1) {
    if (q.asymmetric)
      vectorRange<true>(q, buffer, n0, n1);
    else
      vectorRange<false>(q, buffer, n0, n1);
  };
  int64_t units = (q.n + kRows - 1) / kRows;
  int threads = getNumThreads();
  double work = double(q.n) * double(q.k);
  if (threads == 1 || units < 2 || work < double(1 << 17)) {
    range(0, q.n);
    return true;
  }
  int64_t parts = units < int64_t(threads) * 4 ? units : int64_t(threads) * 4;
  parallelFor(parts, [&](int64_t part) {
    int64_t u0 = units * part / parts, u1 = units * (part + 1) / parts;
    range(u0 * kRows, u1 * kRows < q.n ? u1 * kRows : q.n);
  });
  return true;
}
