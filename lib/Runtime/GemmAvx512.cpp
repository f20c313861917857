//===- GemmAvx512.cpp - AVX-512 f32 matmul kernel ---------------*- C++ -*-===//
//
// This file implements the AVX-512F matmul: a 12x32 microkernel (24 16-wide
// accumulators, two vectors of B and one broadcast of A per k) under the
// blocked driver of GemmDriver.h. Products with only a few rows of A use the
// AVX2 unpacked kernels, which are bound by memory bandwidth anyway. It is
// compiled with -mavx512f and only called when the CPU has it.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "GemmDriver.h"

#include <immintrin.h>

using namespace tmc::rt;

namespace {

struct Avx512Kernel {
  static constexpr int64_t MR = 12, NR = 32;
  static constexpr int64_t MC = 96, KC = 256, NC = 1536;
  static constexpr int64_t PartsPerThread = 4;

  static void micro(int64_t kc, const float *__restrict pa,
                    const float *__restrict pb, float *c, int64_t rsC,
                    int64_t csC, int64_t mr, int64_t nr) {
    __m512 acc[MR * 2];
    for (int i = 0; i < MR * 2; ++i)
      acc[i] = _mm512_setzero_ps();
    for (int64_t i = 0; i < mr; ++i) {
      _mm_prefetch(reinterpret_cast<const char *>(c + i * rsC), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(c + i * rsC + 16),
                   _MM_HINT_T0);
    }
#pragma clang loop unroll_count(4)
    for (int64_t k = 0; k < kc; ++k) {
      __m512 b0 = _mm512_load_ps(pb);
      __m512 b1 = _mm512_load_ps(pb + 16);
      for (int i = 0; i < MR; ++i) {
        __m512 a = _mm512_set1_ps(pa[i]);
        acc[2 * i] = _mm512_fmadd_ps(a, b0, acc[2 * i]);
        acc[2 * i + 1] = _mm512_fmadd_ps(a, b1, acc[2 * i + 1]);
      }
      pa += MR;
      pb += NR;
    }

    if (csC == 1 && nr == NR) {
      for (int64_t i = 0; i < mr; ++i)
        for (int v = 0; v < 2; ++v) {
          float *p = c + i * rsC + v * 16;
          _mm512_storeu_ps(p,
                           _mm512_add_ps(_mm512_loadu_ps(p), acc[2 * i + v]));
        }
      return;
    }
    if (csC == 1) {
      // Partial width: masked loads and stores.
      __mmask16 m0 = nr >= 16 ? __mmask16(0xffff) : __mmask16((1u << nr) - 1);
      __mmask16 m1 = nr >= 32 ? __mmask16(0xffff)
                              : (nr <= 16 ? __mmask16(0)
                                          : __mmask16((1u << (nr - 16)) - 1));
      for (int64_t i = 0; i < mr; ++i) {
        float *p = c + i * rsC;
        _mm512_mask_storeu_ps(
            p, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, p), acc[2 * i]));
        _mm512_mask_storeu_ps(
            p + 16, m1,
            _mm512_add_ps(_mm512_maskz_loadu_ps(m1, p + 16), acc[2 * i + 1]));
      }
      return;
    }
    alignas(64) float tile[MR * NR];
    for (int i = 0; i < MR * 2; ++i)
      _mm512_store_ps(tile + i * 16, acc[i]);
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j)
        c[i * rsC + j * csC] += tile[i * NR + j];
  }
};

} // namespace

void tmc::rt::gemmAvx512(const GemmArgs &g) {
  if (gemmSmallMAvx2(g))
    return;
  gemmParallel<Avx512Kernel>(g);
}
