//===- GemmAvx2.cpp - AVX2/FMA f32 matmul kernels ---------------*- C++ -*-===//
//
// This file implements the AVX2 + FMA matmul: a 6x16 microkernel (twelve
// 8-wide accumulators, two vectors of B and one broadcast of A per k) under
// the blocked driver of GemmDriver.h, and unpacked kernels for products with
// only a few rows of A, where packing B would cost as much as the product.
// It is compiled with -mavx2 -mfma and only called when the CPU has both.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "GemmDriver.h"

#include <immintrin.h>

using namespace tmc::rt;

namespace {

/// Adds the `mr` x `nr` top-left part of the accumulator tile (row i in
/// acc[i * V .. i * V + V - 1], V vectors of 8 per row) to C.
template <int MR, int V>
inline void storeTile(const __m256 *acc, float *c, int64_t rsC, int64_t csC,
                      int64_t mr, int64_t nr) {
  if (mr == MR && nr == V * 8 && csC == 1) {
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < V; ++v) {
        float *p = c + i * rsC + v * 8;
        _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), acc[i * V + v]));
      }
    return;
  }
  alignas(32) float tile[MR * V * 8];
  for (int i = 0; i < MR * V; ++i)
    _mm256_store_ps(tile + i * 8, acc[i]);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * rsC + j * csC] += tile[i * V * 8 + j];
}

struct Avx2Kernel {
  static constexpr int64_t MR = 6, NR = 16;
  static constexpr int64_t MC = 72, KC = 256, NC = 1536;
  static constexpr int64_t PartsPerThread = 4;

  static void micro(int64_t kc, const float *__restrict pa,
                    const float *__restrict pb, float *c, int64_t rsC,
                    int64_t csC, int64_t mr, int64_t nr) {
    __m256 acc[MR * 2];
    for (int i = 0; i < MR * 2; ++i)
      acc[i] = _mm256_setzero_ps();
    for (int64_t i = 0; i < mr; ++i)
      _mm_prefetch(reinterpret_cast<const char *>(c + i * rsC), _MM_HINT_T0);
#pragma clang loop unroll_count(4)
    for (int64_t k = 0; k < kc; ++k) {
      __m256 b0 = _mm256_load_ps(pb);
      __m256 b1 = _mm256_load_ps(pb + 8);
      for (int i = 0; i < MR; ++i) {
        __m256 a = _mm256_broadcast_ss(pa + i);
        acc[2 * i] = _mm256_fmadd_ps(a, b0, acc[2 * i]);
        acc[2 * i + 1] = _mm256_fmadd_ps(a, b1, acc[2 * i + 1]);
      }
      pa += MR;
      pb += NR;
    }
    storeTile<MR, 2>(acc, c, rsC, csC, mr, nr);
  }
};

inline float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// C[0:R, n0:n1] += A[0:R, :] * B[:, n0:n1] for B with unit column stride
/// (rows of B contiguous) and C with unit column stride. B is streamed row by
/// row, KS rows at a time, and the rows of C are updated in place (they stay
/// in L1): every row of B is read once, sequentially, for all R rows of A.
template <int R, int KS>
void smallRowsNN(const GemmArgs &g, int64_t n0, int64_t n1) {
  int64_t nVec = n0 + (n1 - n0) / 8 * 8;
  int64_t p = 0;
  for (; p + KS <= g.k; p += KS) {
    __m256 av[R * KS];
    for (int i = 0; i < R; ++i)
      for (int q = 0; q < KS; ++q)
        av[i * KS + q] = _mm256_set1_ps(g.a[i * g.rsA + (p + q) * g.csA]);
    const float *b = g.b + p * g.rsB;
    for (int64_t n = n0; n < nVec; n += 8) {
      __m256 bv[KS];
      for (int q = 0; q < KS; ++q)
        bv[q] = _mm256_loadu_ps(b + q * g.rsB + n);
      for (int i = 0; i < R; ++i) {
        float *cp = g.c + i * g.rsC + n;
        __m256 c = _mm256_loadu_ps(cp);
        for (int q = 0; q < KS; ++q)
          c = _mm256_fmadd_ps(av[i * KS + q], bv[q], c);
        _mm256_storeu_ps(cp, c);
      }
    }
  }
  for (; p < g.k; ++p)
    for (int i = 0; i < R; ++i) {
      float ai = g.a[i * g.rsA + p * g.csA];
      const float *b = g.b + p * g.rsB;
      float *c = g.c + i * g.rsC;
      for (int64_t n = n0; n < nVec; ++n)
        c[n] += ai * b[n];
    }
  for (int64_t n = nVec; n < n1; ++n)
    for (int i = 0; i < R; ++i) {
      float sum = 0.0f;
      for (int64_t q = 0; q < g.k; ++q)
        sum += g.a[i * g.rsA + q * g.csA] * g.b[q * g.rsB + n];
      g.c[i * g.rsC + n] += sum;
    }
}

/// C[i0:i0+R, n0:n0+J] += A[i0:i0+R, :] * B[:, n0:n0+J] for A with unit
/// column stride and B with unit row stride (B given as N x K rows): R x J
/// dot products along k.
template <int R, int J>
inline void dotTile(const GemmArgs &g, int64_t i0, int64_t n0) {
  __m256 acc[R * J];
  for (int i = 0; i < R * J; ++i)
    acc[i] = _mm256_setzero_ps();
  const float *a = g.a + i0 * g.rsA;
  const float *b = g.b + n0 * g.csB;
  int64_t p = 0;
  for (; p + 8 <= g.k; p += 8) {
    __m256 av[R];
    for (int i = 0; i < R; ++i)
      av[i] = _mm256_loadu_ps(a + i * g.rsA + p);
    for (int j = 0; j < J; ++j) {
      __m256 bv = _mm256_loadu_ps(b + j * g.csB + p);
      for (int i = 0; i < R; ++i)
        acc[i * J + j] = _mm256_fmadd_ps(av[i], bv, acc[i * J + j]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < J; ++j) {
      float sum = horizontalSum(acc[i * J + j]);
      for (int64_t q = p; q < g.k; ++q)
        sum += a[i * g.rsA + q] * b[j * g.csB + q];
      g.c[(i0 + i) * g.rsC + (n0 + j) * g.csC] += sum;
    }
}

template <int R, int J>
void smallRowsNT(const GemmArgs &g, int64_t i0, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + J <= n1; n += J)
    dotTile<R, J>(g, i0, n);
  for (; n < n1; ++n)
    dotTile<R, 1>(g, i0, n);
}

/// Runs the unpacked kernel for all (at most 4) rows of A over columns
/// [n0, n1), reading B once. Accumulator tiles are sized to stay within the
/// 16 vector registers: R x V vectors plus the operands.
void smallRows(const GemmArgs &g, bool nn, int64_t n0, int64_t n1) {
  switch (g.m) {
  case 1:
    return nn ? smallRowsNN<1, 4>(g, n0, n1) : smallRowsNT<1, 4>(g, 0, n0, n1);
  case 2:
    return nn ? smallRowsNN<2, 4>(g, n0, n1) : smallRowsNT<2, 4>(g, 0, n0, n1);
  case 3:
    return nn ? smallRowsNN<3, 4>(g, n0, n1) : smallRowsNT<3, 3>(g, 0, n0, n1);
  default:
    return nn ? smallRowsNN<4, 4>(g, n0, n1) : smallRowsNT<4, 2>(g, 0, n0, n1);
  }
}

/// Rows of A at most this many take the unpacked kernels.
constexpr int64_t kSmallM = 4;

} // namespace

bool tmc::rt::gemmSmallMAvx2(const GemmArgs &g) {
  if (g.m > kSmallM)
    return false;
  bool nn = g.csB == 1 && g.csC == 1;
  bool nt = !nn && g.rsB == 1 && g.csA == 1;
  if (!nn && !nt)
    return false;

  double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  constexpr int64_t kChunk = 64;
  int64_t chunks = ceilDiv(g.n, kChunk);
  int threads = getNumThreads();
  if (threads == 1 || flops < kMinParallelFlops / 4 || chunks < 2) {
    smallRows(g, nn, 0, g.n);
    return true;
  }
  int64_t parts = minI64(chunks, int64_t(threads) * (nn ? 1 : 4));
  parallelFor(parts, [&](int64_t part) {
    int64_t c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
    smallRows(g, nn, c0 * kChunk, minI64(g.n, c1 * kChunk));
  });
  return true;
}

void tmc::rt::gemmAvx2(const GemmArgs &g) {
  if (gemmSmallMAvx2(g))
    return;
  gemmParallel<Avx2Kernel>(g);
}
