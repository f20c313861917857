//===- GemmGeneric.cpp - Portable f32 matmul kernel -------------*- C++ -*-===//
//
// This file implements the matmul for CPUs without AVX2: the blocked driver
// of GemmDriver.h around a 4x8 microkernel in plain C++, which the compiler
// vectorizes with the baseline instruction set.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "GemmDriver.h"

using namespace tmc::rt;

namespace {

struct GenericKernel {
  static constexpr int64_t MR = 4, NR = 8;
  static constexpr int64_t MC = 64, KC = 256, NC = 1024;
  static constexpr int64_t PartsPerThread = 4;

  static void micro(int64_t kc, const float *__restrict pa,
                    const float *__restrict pb, float *c, int64_t rsC,
                    int64_t csC, int64_t mr, int64_t nr) {
    float acc[MR][NR] = {};
    for (int64_t k = 0; k < kc; ++k) {
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j)
          acc[i][j] += pa[i] * pb[j];
      pa += MR;
      pb += NR;
    }
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j)
        c[i * rsC + j * csC] += acc[i][j];
  }
};

} // namespace

void tmc::rt::gemmGeneric(const GemmArgs &g) { gemmParallel<GenericKernel>(g); }
