//===- QMatmulAvx2.cpp - Weight-quantized matmul, AVX2 ----------*- C++ -*-===//
//
// This file implements the weight-quantized matmul with AVX2, FMA and F16C.
//
// Packed weights are decoded eight bytes at a time, widened to 32-bit lanes
// (vpmovzxbd) and split into one vector per bit field. The fields of a byte
// hold weights k, k+1, ... (two for int4, four for ternary, eight for binary),
// so the vector of field f holds weights f, f+P, f+2P, ... of the block; rather
// than shuffle them back into order, A is copied once per call into the same
// permuted order (the dot product does not care about the order of its
// terms). The ends of rows that fill no whole block stay in natural order.
//
// For one row of A (decoding: a matrix-vector product, bound by the bytes of
// W) each group of four rows of W is decoded in registers and multiplied into
// A directly, scales applied once per group (int4: s * (sum a q - z sum a)).
// For more rows, each 16 x 256 tile of W is dequantized into an L1-resident
// buffer, transposed into a k-major panel of 16-wide vectors and reused by
// every row of A through a 6 x 16 register-blocked kernel (A broadcast, as in
// the f32 GEMM). Both split N over the thread pool.
//
//===----------------------------------------------------------------------===//

#include "Avx2Transpose.h"
#include "QMatmul.h"
#include "ThreadPool.h"

#include <immintrin.h>

#include <cstdlib>

using namespace tmc::rt;

namespace {

/// Rows and depth of the dequantized weight tile of the blocked path. The
/// depth is a multiple of every format's block and of every int4 group.
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileDepth = 256;
/// Rows of W per task unit of the matrix-vector path.
constexpr int64_t kVecRows = 4;

/// Weights decoded from one 8-byte load (and the span of A permuted as one).
int64_t blockWeights(QFormat f) {
  switch (f) {
  case QFormat::Int4:
    return 16;
  case QFormat::Ternary:
    return 32;
  case QFormat::Binary:
    return 64;
  default:
    return 8;
  }
}

/// Weights per byte.
int64_t fieldsPerByte(QFormat f) { return blockWeights(f) / 8; }

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

/// Everything the kernels share for one call.
struct Context {
  const QMatmulArgs &q;
  /// A permuted, row i at ap + i * lda, zero-padded to lda.
  const float *ap;
  int64_t lda;
  /// The first k of the natural-order tail.
  int64_t kMain;
  /// Int4, one row of A: the sum of A over each group.
  const float *groupSums;
};

/// Scale (or zero point) g of row n, converting fp16 with F16C.
inline float scaleAt(const void *p, int64_t rs, int64_t cs, bool half,
                     int64_t n, int64_t g) {
  int64_t at = n * rs + g * cs;
  return half ? _cvtsh_ss(static_cast<const uint16_t *>(p)[at])
              : static_cast<const float *>(p)[at];
}

inline float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
  return _mm_cvtss_f32(x);
}

/// Eight bytes widened to 32-bit lanes.
inline __m256i load8Bytes(const uint8_t *p) {
  return _mm256_cvtepu8_epi32(
      _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
}

/// Ternary codes (low two bits of each lane, higher bits ignored) to values.
inline __m256 ternaryValues(__m256 table, __m256i codes) {
  return _mm256_permutevar_ps(table, codes);
}

/// Bit f of each lane as +1 / -1 times `negScale`'s magnitude: the sign bit
/// of -scale is flipped where the bit is set.
inline __m256 binaryValues(__m256i bits, __m256i shift, __m256 negScale) {
  __m256i sign = _mm256_and_si256(_mm256_sllv_epi32(bits, shift),
                                  _mm256_set1_epi32(int(0x80000000u)));
  return _mm256_xor_ps(_mm256_castsi256_ps(sign), negScale);
}

inline __m256 load8F16(const uint8_t *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

inline __m256 load8BF16(const uint8_t *p) {
  __m256i v = _mm256_cvtepu16_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

//===----------------------------------------------------------------------===//
// Preparation of A
//===----------------------------------------------------------------------===//

/// Copies A into ctx's permuted layout (see the file comment).
void permuteA(const QMatmulArgs &q, int64_t kMain, float *ap, int64_t lda) {
  int64_t block = blockWeights(q.format), fields = fieldsPerByte(q.format);
  for (int64_t i = 0; i < q.m; ++i) {
    const float *a = q.a + i * q.rsA;
    float *dst = ap + i * lda;
    if (fields == 1 || kMain == 0) {
      if (q.csA == 1)
        std::memcpy(dst, a, size_t(kMain) * sizeof(float));
      else
        for (int64_t k = 0; k < kMain; ++k)
          dst[k] = a[k * q.csA];
    } else {
      for (int64_t base = 0; base < kMain; base += block)
        for (int64_t j = 0; j < 8; ++j)
          for (int64_t f = 0; f < fields; ++f)
            dst[base + f * 8 + j] = a[(base + j * fields + f) * q.csA];
    }
    for (int64_t k = kMain; k < q.k; ++k)
      dst[k] = a[k * q.csA];
    for (int64_t k = q.k; k < lda; ++k)
      dst[k] = 0.0f;
  }
}

//===----------------------------------------------------------------------===//
// One row of A: decode in registers
//===----------------------------------------------------------------------===//

/// out[r] = sum_k A[0, k] * w[n + r, k] for r < R. `Asymmetric` is int4's.
template <QFormat F, int R, bool Asymmetric = false>
void dotRows(const Context &ctx, int64_t n, float *out) {
  const QMatmulArgs &q = ctx.q;
  const float *a = ctx.ap;
  const uint8_t *w[R];
  for (int r = 0; r < R; ++r)
    w[r] = q.w + (n + r) * q.rsW;
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  float tail[R] = {};
  float scale[R];

  if constexpr (F == QFormat::Int8 || F == QFormat::F16 ||
                F == QFormat::BF16) {
    auto load8 = [&](int r, int64_t k) {
      if constexpr (F == QFormat::Int8)
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i *>(w[r] + k))));
      else if constexpr (F == QFormat::F16)
        return load8F16(w[r] + 2 * k);
      else
        return load8BF16(w[r] + 2 * k);
    };
    // Two chains per row, as for int4.
    __m256 acc2[R];
    for (int r = 0; r < R; ++r)
      acc2[r] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= ctx.kMain; k += 16) {
      __m256 a0 = _mm256_loadu_ps(a + k), a1 = _mm256_loadu_ps(a + k + 8);
      for (int r = 0; r < R; ++r) {
        acc[r] = _mm256_fmadd_ps(a0, load8(r, k), acc[r]);
        acc2[r] = _mm256_fmadd_ps(a1, load8(r, k + 8), acc2[r]);
      }
    }
    for (; k < ctx.kMain; k += 8) {
      __m256 av = _mm256_loadu_ps(a + k);
      for (int r = 0; r < R; ++r)
        acc[r] = _mm256_fmadd_ps(av, load8(r, k), acc[r]);
    }
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_add_ps(acc[r], acc2[r]);
    for (int r = 0; r < R; ++r)
      scale[r] = F == QFormat::Int8
                     ? loadScale(q.s, q.rsS, q.csS, false, n + r, 0)
                     : 1.0f;
  } else if constexpr (F == QFormat::Int4) {
    // Signed nibbles are (u ^ 8) - 8: flip bit 3 and use a zero point of 8.
    const __m256i xorMask = _mm256_set1_epi32(0x88);
    const __m256i low = _mm256_set1_epi32(0x0f);
    int64_t groups = q.k / q.group;
    for (int64_t g = 0; g < groups; ++g) {
      // Two chains per row (low and high nibbles) halve the FMA latency
      // each group waits on.
      __m256 gacc[R], gacc2[R];
      for (int r = 0; r < R; ++r)
        gacc[r] = gacc2[r] = _mm256_setzero_ps();
      for (int64_t k = g * q.group, e = k + q.group; k < e; k += 16) {
        __m256 a0 = _mm256_loadu_ps(a + k), a1 = _mm256_loadu_ps(a + k + 8);
        for (int r = 0; r < R; ++r) {
          __m256i v = load8Bytes(w[r] + k / 2);
          if constexpr (!Asymmetric)
            v = _mm256_xor_si256(v, xorMask);
          __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, low));
          __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
          gacc[r] = _mm256_fmadd_ps(a0, lo, gacc[r]);
          gacc2[r] = _mm256_fmadd_ps(a1, hi, gacc2[r]);
        }
      }
      for (int r = 0; r < R; ++r)
        gacc[r] = _mm256_add_ps(gacc[r], gacc2[r]);
      for (int r = 0; r < R; ++r) {
        float s = scaleAt(q.s, q.rsS, q.csS, q.halfScales, n + r, g);
        float z = Asymmetric
                      ? scaleAt(q.z, q.rsZ, q.csZ, q.halfScales, n + r, g)
                      : 8.0f;
        acc[r] = _mm256_fmadd_ps(gacc[r], _mm256_set1_ps(s), acc[r]);
        tail[r] -= z * s * ctx.groupSums[g];
      }
    }
    for (int r = 0; r < R; ++r)
      scale[r] = 1.0f;
  } else if constexpr (F == QFormat::Ternary) {
    const __m256 table = _mm256_setr_ps(0, 1, -1, 0, 0, 1, -1, 0);
    for (int64_t k = 0; k < ctx.kMain; k += 32) {
      __m256 a0 = _mm256_loadu_ps(a + k), a1 = _mm256_loadu_ps(a + k + 8);
      __m256 a2 = _mm256_loadu_ps(a + k + 16),
             a3 = _mm256_loadu_ps(a + k + 24);
      for (int r = 0; r < R; ++r) {
        __m256i v = load8Bytes(w[r] + k / 4);
        acc[r] = _mm256_fmadd_ps(a0, ternaryValues(table, v), acc[r]);
        v = _mm256_srli_epi32(v, 2);
        acc[r] = _mm256_fmadd_ps(a1, ternaryValues(table, v), acc[r]);
        v = _mm256_srli_epi32(v, 2);
        acc[r] = _mm256_fmadd_ps(a2, ternaryValues(table, v), acc[r]);
        v = _mm256_srli_epi32(v, 2);
        acc[r] = _mm256_fmadd_ps(a3, ternaryValues(table, v), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r)
      scale[r] = loadScale(q.s, 0, 0, false, 0, 0);
  } else {
    static_assert(F == QFormat::Binary, "unhandled format");
    const __m256 minusOne = _mm256_set1_ps(-1.0f);
    for (int64_t k = 0; k < ctx.kMain; k += 64) {
      __m256i v[R];
      for (int r = 0; r < R; ++r)
        v[r] = load8Bytes(w[r] + k / 8);
      for (int f = 0; f < 8; ++f) {
        __m256 av = _mm256_loadu_ps(a + k + 8 * f);
        __m256i shift = _mm256_set1_epi32(31 - f);
        for (int r = 0; r < R; ++r)
          acc[r] = _mm256_fmadd_ps(av, binaryValues(v[r], shift, minusOne),
                                   acc[r]);
      }
    }
    for (int r = 0; r < R; ++r)
      scale[r] = loadScale(q.s, q.rsS, q.csS, false, n + r, 0);
  }

  for (int r = 0; r < R; ++r) {
    float sum = hsum(acc[r]);
    // The natural-order tail, dequantized one weight at a time (it includes
    // the scale, which the vector part applies below).
    float rest = 0.0f;
    for (int64_t k = ctx.kMain; k < q.k; ++k)
      rest += a[k] * dequantize(q, n + r, k);
    out[r] = (sum * scale[r] + tail[r]) + rest;
  }
}

template <QFormat F>
void vectorRange(const Context &ctx, int64_t n0, int64_t n1) {
  const QMatmulArgs &q = ctx.q;
  float out[kVecRows];
  int64_t n = n0;
  for (; n + kVecRows <= n1; n += kVecRows) {
    if (F == QFormat::Int4 && q.asymmetric)
      dotRows<F, kVecRows, true>(ctx, n, out);
    else
      dotRows<F, kVecRows>(ctx, n, out);
    for (int64_t r = 0; r < kVecRows; ++r)
      q.c[(n + r) * q.csC] += out[r];
  }
  for (; n < n1; ++n) {
    if (F == QFormat::Int4 && q.asymmetric)
      dotRows<F, 1, true>(ctx, n, out);
    else
      dotRows<F, 1>(ctx, n, out);
    q.c[n * q.csC] += out[0];
  }
}

//===----------------------------------------------------------------------===//
// Several rows of A: dequantize a tile, reuse it across A
//===----------------------------------------------------------------------===//

/// Writes the dequantized weights [k0, k0 + kc) of row n to dst in the
/// permuted order of A, zero-padded to a multiple of 8.
template <QFormat F>
void decodeRow(const Context &ctx, int64_t n, int64_t k0, int64_t kc,
               float *dst) {
  const QMatmulArgs &q = ctx.q;
  const uint8_t *w = q.w + n * q.rsW;
  int64_t kEnd = k0 + kc;
  int64_t vecEnd = kEnd < ctx.kMain ? kEnd : ctx.kMain;
  int64_t k = k0;
  if constexpr (F == QFormat::Int8) {
    __m256 s = _mm256_set1_ps(loadScale(q.s, q.rsS, q.csS, false, n, 0));
    for (; k < vecEnd; k += 8)
      _mm256_storeu_ps(
          dst + (k - k0),
          _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                            reinterpret_cast<const __m128i *>(w + k)))),
                        s));
  } else if constexpr (F == QFormat::F16) {
    for (; k < vecEnd; k += 8)
      _mm256_storeu_ps(dst + (k - k0), load8F16(w + 2 * k));
  } else if constexpr (F == QFormat::BF16) {
    for (; k < vecEnd; k += 8)
      _mm256_storeu_ps(dst + (k - k0), load8BF16(w + 2 * k));
  } else if constexpr (F == QFormat::Int4) {
    const __m256i xorMask = _mm256_set1_epi32(q.asymmetric ? 0 : 0x88);
    const __m256i low = _mm256_set1_epi32(0x0f);
    // Groups are whole 16-weight blocks: reload the scale when one starts.
    int64_t group = -1;
    __m256 s = _mm256_setzero_ps(), zs = _mm256_setzero_ps();
    for (; k < vecEnd; k += 16) {
      if (k / q.group != group) {
        group = k / q.group;
        float sf = scaleAt(q.s, q.rsS, q.csS, q.halfScales, n, group);
        float zf = q.asymmetric
                       ? scaleAt(q.z, q.rsZ, q.csZ, q.halfScales, n, group)
                       : 8.0f;
        s = _mm256_set1_ps(sf);
        zs = _mm256_set1_ps(zf * sf);
      }
      __m256i v = _mm256_xor_si256(load8Bytes(w + k / 2), xorMask);
      __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, low));
      __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
      _mm256_storeu_ps(dst + (k - k0), _mm256_fmsub_ps(lo, s, zs));
      _mm256_storeu_ps(dst + (k - k0) + 8, _mm256_fmsub_ps(hi, s, zs));
    }
  } else if constexpr (F == QFormat::Ternary) {
    float sf = loadScale(q.s, 0, 0, false, 0, 0);
    const __m256 table = _mm256_setr_ps(0, sf, -sf, 0, 0, sf, -sf, 0);
    for (; k < vecEnd; k += 32) {
      __m256i v = load8Bytes(w + k / 4);
      float *d = dst + (k - k0);
      for (int f = 0; f < 4; ++f) {
        _mm256_storeu_ps(d + 8 * f, ternaryValues(table, v));
        v = _mm256_srli_epi32(v, 2);
      }
    }
  } else {
    static_assert(F == QFormat::Binary, "unhandled format");
    __m256 negScale =
        _mm256_set1_ps(-loadScale(q.s, q.rsS, q.csS, false, n, 0));
    for (; k < vecEnd; k += 64) {
      __m256i v = load8Bytes(w + k / 8);
      float *d = dst + (k - k0);
      for (int f = 0; f < 8; ++f)
        _mm256_storeu_ps(d + 8 * f, binaryValues(v, _mm256_set1_epi32(31 - f),
                                                 negScale));
    }
  }
  for (; k < kEnd; ++k)
    dst[k - k0] = dequantize(q, n, k);
  for (int64_t kk = kc; kk % 8; ++kk)
    dst[kk] = 0.0f;
}

/// C[i0 + i, n + j] += sum_k a[i * lda + k] * panel[k * kTileRows + j] for
/// i < MR and j < nr: MR rows of A broadcast against the 16-wide panel.
template <int MR>
void tileKernel(const QMatmulArgs &q, const float *a, int64_t lda,
                const float *panel, int64_t kc, int64_t i0, int64_t n,
                int64_t nr) {
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i)
    acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(panel + k * kTileRows);
    __m256 b1 = _mm256_load_ps(panel + k * kTileRows + 8);
    for (int i = 0; i < MR; ++i) {
      __m256 av = _mm256_broadcast_ss(a + i * lda + k);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    float *c = q.c + (i0 + i) * q.rsC + n * q.csC;
    if (nr == kTileRows && q.csC == 1) {
      _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc[i][0]));
      _mm256_storeu_ps(c + 8,
                       _mm256_add_ps(_mm256_loadu_ps(c + 8), acc[i][1]));
      continue;
    }
    alignas(32) float sums[kTileRows];
    _mm256_store_ps(sums, acc[i][0]);
    _mm256_store_ps(sums + 8, acc[i][1]);
    for (int64_t j = 0; j < nr; ++j)
      c[j * q.csC] += sums[j];
  }
}

/// Rows of A per register block of tileKernel.
constexpr int64_t kTileMR = 6;

template <QFormat F>
void tileRange(const Context &ctx, int64_t n0, int64_t n1) {
  const QMatmulArgs &q = ctx.q;
  // Row r of the tile dequantized (rows), then transposed into a panel of
  // k-major 16-wide vectors.
  alignas(64) float rows[kTileRows * kTileDepth];
  alignas(64) float panel[kTileDepth * kTileRows];
  for (int64_t nb = n0; nb < n1; nb += kTileRows) {
    int64_t nr = n1 - nb < kTileRows ? n1 - nb : kTileRows;
    for (int64_t k0 = 0; k0 < q.k; k0 += kTileDepth) {
      int64_t kc = q.k - k0 < kTileDepth ? q.k - k0 : kTileDepth;
      int64_t kc8 = (kc + 7) / 8 * 8;
      for (int64_t r = 0; r < nr; ++r)
        decodeRow<F>(ctx, nb + r, k0, kc, rows + r * kTileDepth);
      for (int64_t r = nr; r < kTileRows; ++r)
        std::memset(rows + r * kTileDepth, 0, size_t(kc8) * sizeof(float));
      for (int64_t k = 0; k < kc8; k += 8)
        for (int64_t half = 0; half < kTileRows / 8; ++half) {
          __m256 r8[8];
          for (int i = 0; i < 8; ++i)
            r8[i] = _mm256_load_ps(rows + (half * 8 + i) * kTileDepth + k);
          transpose8x8(r8);
          for (int i = 0; i < 8; ++i)
            _mm256_store_ps(panel + (k + i) * kTileRows + half * 8, r8[i]);
        }
      const float *a = ctx.ap + k0;
      int64_t i = 0;
      for (; i + kTileMR <= q.m; i += kTileMR)
        tileKernel<kTileMR>(q, a + i * ctx.lda, ctx.lda, panel, kc, i, nb, nr);
      const float *ai = a + i * ctx.lda;
      switch (q.m - i) {
      case 5:
        tileKernel<5>(q, ai, ctx.lda, panel, kc, i, nb, nr);
        break;
      case 4:
        tileKernel<4>(q, ai, ctx.lda, panel, kc, i, nb, nr);
        break;
      case 3:
        tileKernel<3>(q, ai, ctx.lda, panel, kc, i, nb, nr);
        break;
      case 2:
        tileKernel<2>(q, ai, ctx.lda, panel, kc, i, nb, nr);
        break;
      case 1:
        tileKernel<1>(q, ai, ctx.lda, panel, kc, i, nb, nr);
        break;
      default:
        break;
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

template <QFormat F> void runFormat(const Context &ctx) {
  const QMatmulArgs &q = ctx.q;
  bool vector = q.m == 1;
  int64_t unit = vector ? kVecRows : kTileRows;
  int64_t units = (q.n + unit - 1) / unit;
  auto range = [&](int64_t n0, int64_t n1) {
    if (vector)
      vectorRange<F>(ctx, n0, n1);
    else
      tileRange<F>(ctx, n0, n1);
  };
  int threads = getNumThreads();
  double work = double(q.m) * double(q.n) * double(q.k);
  if (threads == 1 || units < 2 || work < double(1 << 17)) {
    range(0, q.n);
    return;
  }
  int64_t parts = units < int64_t(threads) * 4 ? units : int64_t(threads) * 4;
  parallelFor(parts, [&](int64_t part) {
    int64_t u0 = units * part / parts, u1 = units * (part + 1) / parts;
    range(u0 * unit, u1 * unit < q.n ? u1 * unit : q.n);
  });
}

} // namespace

void tmc::rt::qmatmulAvx2(const QMatmulArgs &q) {
  int64_t block = blockWeights(q.format);
  if (q.format == QFormat::Int4 &&
      (q.group % 16 != 0 || q.k % q.group != 0)) {
    qmatmulGeneric(q);
    return;
  }
  int64_t kMain = q.k / block * block;
  int64_t lda = (q.k + 15) / 16 * 16;
  int64_t groups = q.format == QFormat::Int4 ? q.k / q.group : 0;
  float *buffer = tlsPermutedA.get(q.m * lda + groups);
  if (!buffer) {
    qmatmulGeneric(q);
    return;
  }
  permuteA(q, kMain, buffer, lda);
  float *groupSums = buffer + q.m * lda;
  for (int64_t g = 0; g < groups; ++g) {
    float sum = 0.0f;
    for (int64_t k = g * q.group; k < (g + 1) * q.group; ++k)
      sum += buffer[k];
    groupSums[g] = sum;
  }
  Context ctx{q, buffer, lda, kMain, groupSums};
  switch (q.format) {
  case QFormat::Int8:
    return runFormat<QFormat::Int8>(ctx);
  case QFormat::Int4:
    return runFormat<QFormat::Int4>(ctx);
  case QFormat::Ternary:
    return runFormat<QFormat::Ternary>(ctx);
  case QFormat::Binary:
    return runFormat<QFormat::Binary>(ctx);
  case QFormat::F16:
    return runFormat<QFormat::F16>(ctx);
  case QFormat::BF16:
    return runFormat<QFormat::BF16>(ctx);
  }
}
