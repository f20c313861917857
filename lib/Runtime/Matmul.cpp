//===- Matmul.cpp - Matmul entry points for compiled models ----*- C++ -*-===//
//
// This file implements the C-interface matmul functions that generated code
// calls with MLIR memref descriptors, and picks the implementation for the
// CPU at hand (TMC_RT_ISA or tmc_rt_set_matmul_isa override the choice).
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Runtime.h"

#include "Gemm.h"
#include "ThreadPool.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

using namespace tmc::rt;

namespace {

struct MatmulIsa {
  const char *name;
  void (*gemm)(const GemmArgs &);
  bool (*supported)();
};

bool cpuHasAvx512() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpuHasAvx2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool always() { return true; }

/// Best first.
const MatmulIsa kIsas[] = {
    {"avx512", gemmAvx512, cpuHasAvx512},
    {"avx2", gemmAvx2, cpuHasAvx2},
    {"generic", gemmGeneric, always},
};

const MatmulIsa *findIsa(const char *name) {
  bool automatic = !name || !*name || std::strcmp(name, "auto") == 0;
  for (const MatmulIsa &isa : kIsas)
    if ((automatic || std::strcmp(isa.name, name) == 0) && isa.supported())
      return &isa;
  return nullptr;
}

const MatmulIsa *defaultIsa() {
  const MatmulIsa *isa = findIsa(std::getenv("TMC_RT_ISA"));
  return isa ? isa : findIsa(nullptr);
}

std::atomic<const MatmulIsa *> &currentIsa() {
  static std::atomic<const MatmulIsa *> isa{defaultIsa()};
  return isa;
}

void runGemm(const GemmArgs &args) {
  if (args.m <= 0 || args.n <= 0 || args.k <= 0)
    return;
  currentIsa().load(std::memory_order_relaxed)->gemm(args);
}

GemmArgs operandsFrom(const tmc_memref_2d_f32 *a, const tmc_memref_2d_f32 *c) {
  GemmArgs args;
  args.m = c->sizes[0];
  args.n = c->sizes[1];
  args.k = a->sizes[1];
  args.a = a->aligned + a->offset;
  args.rsA = a->strides[0];
  args.csA = a->strides[1];
  args.c = c->aligned + c->offset;
  args.rsC = c->strides[0];
  args.csC = c->strides[1];
  return args;
}

} // namespace

extern "C" {

void _mlir_ciface_tmc_rt_matmul_nt_f32(tmc_memref_2d_f32 *a,
                                       tmc_memref_2d_f32 *b,
                                       tmc_memref_2d_f32 *c) {
  GemmArgs args = operandsFrom(a, c);
  // B is N x K: element (k, n) of the product's right operand is B[n, k].
  args.b = b->aligned + b->offset;
  args.rsB = b->strides[1];
  args.csB = b->strides[0];
  runGemm(args);
}

void _mlir_ciface_tmc_rt_matmul_nn_f32(tmc_memref_2d_f32 *a,
                                       tmc_memref_2d_f32 *b,
                                       tmc_memref_2d_f32 *c) {
  GemmArgs args = operandsFrom(a, c);
  args.b = b->aligned + b->offset;
  args.rsB = b->strides[0];
  args.csB = b->strides[1];
  runGemm(args);
}

int tmc_rt_num_threads(void) { return getNumThreads(); }

tmc_status tmc_rt_set_matmul_isa(const char *name) {
  const MatmulIsa *isa = findIsa(name);
  if (!isa)
    return TMC_ERROR_ARGUMENT;
  currentIsa().store(isa, std::memory_order_relaxed);
  return TMC_OK;
}

const char *tmc_rt_matmul_isa(void) {
  return currentIsa().load(std::memory_order_relaxed)->name;
}

} // extern "C"
