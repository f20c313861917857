//===- Gemm.h - Single-precision matrix multiply internals ------*- C++ -*-===//
//
// This file declares the internal interface of the f32 matmul kernels: one
// strided GEMM description and one entry point per instruction set. The C
// entry points in Matmul.cpp translate memref descriptors into a GemmArgs and
// dispatch to the best implementation the CPU supports.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_RUNTIME_GEMM_H
#define TMC_LIB_RUNTIME_GEMM_H

#include <cstdint>

namespace tmc::rt {

/// C[m, n] += sum_k A[m, k] * B[k, n] over strided operands. Element (i, j) of
/// X is `x[i * rsX + j * csX]` (row stride, column stride; any sign). B is
/// the K x N operand as the product sees it, so a transposed right-hand side
/// is described by swapping its strides.
struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float *a = nullptr;
  int64_t rsA = 0, csA = 0;
  const float *b = nullptr;
  int64_t rsB = 0, csB = 0;
  float *c = nullptr;
  int64_t rsC = 0, csC = 0;
};

/// Portable implementation (any x86-64 CPU).
void gemmGeneric(const GemmArgs &args);

/// AVX2 + FMA implementation: 6x16 register-blocked microkernel.
void gemmAvx2(const GemmArgs &args);

/// AVX-512F implementation: 12x32 register-blocked microkernel.
void gemmAvx512(const GemmArgs &args);

/// Unpacked kernels for a few rows of A (matrix-vector products and small
/// batches), AVX2 + FMA. Returns false, doing nothing, when the shape or the
/// strides are not ones they handle.
bool gemmSmallMAvx2(const GemmArgs &args);

} // namespace tmc::rt

#endif // TMC_LIB_RUNTIME_GEMM_H
