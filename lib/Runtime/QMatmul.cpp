//===- QMatmul.cpp - Weight-quantized matmul entry points -------*- C++ -*-===//
//
// This file implements the C-interface weight-quantized matmul functions that
// generated code calls with MLIR memref descriptors, the portable
// implementation, and the choice between it, the AVX2 one and the AVX-512
// int4 matrix-vector kernel (following the f32 kernels' choice,
// tmc_rt_matmul_isa).
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Runtime.h"

#include "QMatmul.h"
#include "ThreadPool.h"

#include <cstring>

using namespace tmc::rt;

namespace {

constexpr int64_t kGenericRows = 8;
constexpr int64_t kGenericDepth = 256;

/// C[:, n0:n1] += A * W[n0:n1, :]^T, one tile of dequantized weights at a
/// time.
void genericRange(const QMatmulArgs &q, int64_t n0, int64_t n1) {
  float tile[kGenericRows][kGenericDepth];
  for (int64_t nb = n0; nb < n1; nb += kGenericRows) {
    int64_t nr = n1 - nb < kGenericRows ? n1 - nb : kGenericRows;
    for (int64_t k0 = 0; k0 < q.k; k0 += kGenericDepth) {
      int64_t kc = q.k - k0 < kGenericDepth ? q.k - k0 : kGenericDepth;
      for (int64_t r = 0; r < nr; ++r)
        for (int64_t kk = 0; kk < kc; ++kk)
          tile[r][kk] = dequantize(q, nb + r, k0 + kk);
      for (int64_t i = 0; i < q.m; ++i) {
        const float *a = q.a + i * q.rsA + k0 * q.csA;
        for (int64_t r = 0; r < nr; ++r) {
          float sum = 0.0f;
          for (int64_t kk = 0; kk < kc; ++kk)
            sum += a[kk * q.csA] * tile[r][kk];
          q.c[i * q.rsC + (nb + r) * q.csC] += sum;
        }
      }
    }
  }
}

bool useAvx2() {
#if defined(__x86_64__)
  static const bool cpuOk = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  }();
  return cpuOk && std::strcmp(tmc_rt_matmul_isa(), "generic") != 0;
#else
  return false;
#endif
}

/// Whether the f32 kernels run AVX-512 (which implies the CPU has it); the
/// AVX2 test above must hold too.
bool useAvx512() {
#if defined(__x86_64__)
  static const bool cpuOk = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
  }();
  return cpuOk && std::strcmp(tmc_rt_matmul_isa(), "avx512") == 0;
#else
  return false;
#endif
}

template <typename MemRef>
QMatmulArgs argsFrom(QFormat format, tmc_memref_2d_f32 *a, const MemRef *w,
                     tmc_memref_2d_f32 *c) {
  QMatmulArgs q;
  q.format = format;
  q.m = a->sizes[0];
  q.k = a->sizes[1];
  q.n = c->sizes[1];
  q.a = a->aligned + a->offset;
  q.rsA = a->strides[0];
  q.csA = a->strides[1];
  q.c = c->aligned + c->offset;
  q.rsC = c->strides[0];
  q.csC = c->strides[1];
  q.w = reinterpret_cast<const uint8_t *>(w->aligned + w->offset);
  q.rsW = w->strides[0] * int64_t(sizeof(*w->aligned));
  return q;
}

template <typename MemRef>
void setScales(QMatmulArgs &q, const MemRef *s, const MemRef *z) {
  q.s = s->aligned + s->offset;
  q.rsS = s->strides[0];
  q.csS = s->strides[1];
  q.z = z->aligned + z->offset;
  q.rsZ = z->strides[0];
  q.csZ = z->strides[1];
}

void run(QMatmulArgs &q) {
  if (q.m <= 0 || q.n <= 0 || q.k <= 0)
    return;
  if (useAvx2()) {
    if (!(useAvx512() && qmatmulAvx512(q)))
      qmatmulAvx2(q);
  } else
    qmatmulGeneric(q);
}

/// Int4 with scales (and zero points) given by memrefs of type MemRef. The
/// zero points are used when Z has the shape of S, except when both are
/// [1, 1], which reads as the symmetric format's dummy.
template <typename MemRef>
void runInt4(tmc_memref_2d_f32 *a, tmc_memref_2d_u8 *w, const MemRef *s,
             const MemRef *z, tmc_memref_2d_f32 *c, bool half) {
  QMatmulArgs q = argsFrom(QFormat::Int4, a, w, c);
  setScales(q, s, z);
  q.halfScales = half;
  int64_t groups = s->sizes[1] > 0 ? s->sizes[1] : 1;
  q.group = q.k / groups > 0 ? q.k / groups : 1;
  q.asymmetric = z->sizes[0] == s->sizes[0] && z->sizes[1] == s->sizes[1] &&
                 !(z->sizes[0] == 1 && z->sizes[1] == 1);
  run(q);
}

} // namespace

void tmc::rt::qmatmulGeneric(const QMatmulArgs &q) {
  int64_t blocks = (q.n + kGenericRows - 1) / kGenericRows;
  double work = double(q.m) * double(q.n) * double(q.k);
  int threads = getNumThreads();
  if (threads == 1 || blocks < 2 || work < double(1 << 18)) {
    genericRange(q, 0, q.n);
    return;
  }
  int64_t parts = blocks < int64_t(threads) * 4 ? blocks : int64_t(threads) * 4;
  parallelFor(parts, [&](int64_t part) {
    int64_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
    int64_t n1 = b1 * kGenericRows < q.n ? b1 * kGenericRows : q.n;
    genericRange(q, b0 * kGenericRows, n1);
  });
}

extern "C" {

void _mlir_ciface_tmc_rt_qmatmul_int8_f32(tmc_memref_2d_f32 *a,
                                          tmc_memref_2d_i8 *w,
                                          tmc_memref_2d_f32 *s,
                                          tmc_memref_2d_f32 *z,
                                          tmc_memref_2d_f32 *c) {
  QMatmulArgs q = argsFrom(QFormat::Int8, a, w, c);
  setScales(q, s, z);
  run(q);
}

void _mlir_ciface_tmc_rt_qmatmul_int4_f32(tmc_memref_2d_f32 *a,
                                          tmc_memref_2d_u8 *w,
                                          tmc_memref_2d_f32 *s,
                                          tmc_memref_2d_f32 *z,
                                          tmc_memref_2d_f32 *c) {
  runInt4(a, w, s, z, c, false);
}

void _mlir_ciface_tmc_rt_qmatmul_int4h_f32(tmc_memref_2d_f32 *a,
                                           tmc_memref_2d_u8 *w,
                                           tmc_memref_2d_u16 *s,
                                           tmc_memref_2d_u16 *z,
                                           tmc_memref_2d_f32 *c) {
  runInt4(a, w, s, z, c, true);
}

void _mlir_ciface_tmc_rt_qmatmul_ternary_f32(tmc_memref_2d_f32 *a,
                                             tmc_memref_2d_u8 *w,
                                             tmc_memref_2d_f32 *s,
                                             tmc_memref_2d_f32 *z,
                                             tmc_memref_2d_f32 *c) {
  QMatmulArgs q = argsFrom(QFormat::Ternary, a, w, c);
  setScales(q, s, z);
  run(q);
}

void _mlir_ciface_tmc_rt_qmatmul_binary_f32(tmc_memref_2d_f32 *a,
                                            tmc_memref_2d_u8 *w,
                                            tmc_memref_2d_f32 *s,
                                            tmc_memref_2d_f32 *z,
                                            tmc_memref_2d_f32 *c) {
  QMatmulArgs q = argsFrom(QFormat::Binary, a, w, c);
  setScales(q, s, z);
  run(q);
}

void _mlir_ciface_tmc_rt_qmatmul_f16_f32(tmc_memref_2d_f32 *a,
                                         tmc_memref_2d_u16 *w,
                                         tmc_memref_2d_f32 *s,
                                         tmc_memref_2d_f32 *z,
                                         tmc_memref_2d_f32 *c) {
  QMatmulArgs q = argsFrom(QFormat::F16, a, w, c);
  setScales(q, s, z);
  run(q);
}

void _mlir_ciface_tmc_rt_qmatmul_bf16_f32(tmc_memref_2d_f32 *a,
                                          tmc_memref_2d_u16 *w,
                                          tmc_memref_2d_f32 *s,
                                          tmc_memref_2d_f32 *z,
                                          tmc_memref_2d_f32 *c) {
  QMatmulArgs q = argsFrom(QFormat::BF16, a, w, c);
  setScales(q, s, z);
  run(q);
}

} // extern "C"
