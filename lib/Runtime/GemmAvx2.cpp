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

/// C[i0:i0+R, n0:n1] += A[i0:i0+R, :] * B[:, n0:n1] for B with unit column
/// stride (rows of B contiguous): each k broadcasts R values of A against 32
/// consecutive columns of row k of B.
template <int R>
void smallRowsNN(const GemmArgs &g, int64_t i0, int64_t n0, int64_t n1) {
  constexpr int V = 4;
  const float *a = g.a + i0 * g.rsA;
  int64_t n = n0;
  for (; n + V * 8 <= n1; n += V * 8) {
    __m256 acc[R * V];
    for (int i = 0; i < R * V; ++i)
      acc[i] = _mm256_setzero_ps();
    const float *b = g.b + n;
    for (int64_t p = 0; p < g.k; ++p) {
      const float *bRow = b + p * g.rsB;
      __m256 bv[V];
      for (int v = 0; v < V; ++v)
        bv[v] = _mm256_loadu_ps(bRow + v * 8);
      for (int i = 0; i < R; ++i) {
        __m256 av = _mm256_set1_ps(a[i * g.rsA + p * g.csA]);
        for (int v = 0; v < V; ++v)
          acc[i * V + v] = _mm256_fmadd_ps(av, bv[v], acc[i * V + v]);
      }
    }
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < V; ++v) {
        float *cp = g.c + (i0 + i) * g.rsC + n + v * 8;
        _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), acc[i * V + v]));
      }
  }
  for (; n + 8 <= n1; n += 8) {
    __m256 acc[R];
    for (int i = 0; i < R; ++i)
      acc[i] = _mm256_setzero_ps();
    for (int64_t p = 0; p < g.k; ++p) {
      __m256 bv = _mm256_loadu_ps(g.b + p * g.rsB + n);
      for (int i = 0; i < R; ++i)
        acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(a[i * g.rsA + p * g.csA]), bv,
                                 acc[i]);
    }
    for (int i = 0; i < R; ++i) {
      float *cp = g.c + (i0 + i) * g.rsC + n;
      _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), acc[i]));
    }
  }
  for (; n < n1; ++n)
    for (int i = 0; i < R; ++i) {
      float sum = 0.0f;
      for (int64_t p = 0; p < g.k; ++p)
        sum += a[i * g.rsA + p * g.csA] * g.b[p * g.rsB + n];
      g.c[(i0 + i) * g.rsC + n] += sum;
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

template <int R>
void smallRowsNT(const GemmArgs &g, int64_t i0, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4)
    dotTile<R, 4>(g, i0, n);
  for (; n < n1; ++n)
    dotTile<R, 1>(g, i0, n);
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

  // Rows are processed in pairs: more would spill the accumulators.
  auto rows = [&](int64_t n0, int64_t n1) {
    for (int64_t i = 0; i < g.m; i += 2) {
      bool pair = i + 1 < g.m;
      if (nn)
        pair ? smallRowsNN<2>(g, i, n0, n1) : smallRowsNN<1>(g, i, n0, n1);
      else
        pair ? smallRowsNT<2>(g, i, n0, n1) : smallRowsNT<1>(g, i, n0, n1);
    }
  };
  double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  constexpr int64_t kChunk = 64;
  int64_t chunks = ceilDiv(g.n, kChunk);
  int threads = getNumThreads();
  if (threads == 1 || flops < kMinParallelFlops / 4 || chunks < 2) {
    rows(0, g.n);
    return true;
  }
  int64_t parts = minI64(chunks, int64_t(threads) * 4);
  parallelFor(parts, [&](int64_t part) {
    int64_t c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
    rows(c0 * kChunk, minI64(g.n, c1 * kChunk));
  });
  return true;
}

void tmc::rt::gemmAvx2(const GemmArgs &g) {
  if (gemmSmallMAvx2(g))
    return;
  gemmParallel<Avx2Kernel>(g);
}
