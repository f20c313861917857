/*===- FakeModel.c - A hand-written compiled model for tests -----*- C -*-===*\
|*                                                                            *|
|* Implements the exported symbols of docs/ABI.md by hand, as tmc-compile's   *|
|* output would, so that the runtime can be tested without the compiler:      *|
|*   input  x   f32 [2, 4]      output y       f32 [2, 3] = x * W + b         *|
|*   input  ids i64 [1, 3]      output ids_out i64 [1, 3] = ids + 1           *|
|* y goes through the runtime's matmul kernel, as generated code does. The    *|
|* forward function checks the descriptors it receives and writes NaN into y  *|
|* when one is wrong. FAKE_ABI_VERSION and FAKE_ARENA_BYTES make variants.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "FakeModel.h"

#include <math.h>
#include <stdio.h>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION 1
#endif
#ifndef FAKE_ARENA_BYTES
#define FAKE_ARENA_BYTES 256
#endif

#define EXPORT __attribute__((visibility("default")))

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1D;

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2D;

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemrefF32;

void _mlir_ciface_tmc_rt_matmul_nn_f32(MemrefF32 *a, MemrefF32 *b,
                                       MemrefF32 *c);

EXPORT uint64_t tmc_model_abi_version(void) { return FAKE_ABI_VERSION; }

EXPORT uint64_t tmc_model_weights_bytes(void) { return FAKE_WEIGHTS_BYTES; }

EXPORT uint64_t tmc_model_weights_hash(void) {
  unsigned char bytes[FAKE_WEIGHTS_BYTES];
  fakeModelWeights(bytes);
  return fakeModelFnv1a(bytes, FAKE_WEIGHTS_BYTES);
}

EXPORT uint64_t tmc_model_arena_bytes(void) { return FAKE_ARENA_BYTES; }

EXPORT const char *tmc_model_signature(void) {
  static char text[512];
  snprintf(text, sizeof(text),
           "weights %d %016llx\n"
           "arena %d\n"
           "input x f32 2 2 4\n"
           "input ids i64 2 1 3\n"
           "output y f32 2 2 3\n"
           "output ids_out i64 2 1 3\n",
           FAKE_WEIGHTS_BYTES, (unsigned long long)tmc_model_weights_hash(),
           FAKE_ARENA_BYTES);
  return text;
}

static int isRowMajor2D(const Memref2D *m, int64_t d0, int64_t d1) {
  return m->aligned && m->offset == 0 && m->sizes[0] == d0 &&
         m->sizes[1] == d1 && m->strides[0] == d1 && m->strides[1] == 1;
}

EXPORT void tmc_model_forward(void **args) {
  const Memref1D *weights = (const Memref1D *)args[0];
  const Memref1D *arena = (const Memref1D *)args[1];
  const Memref2D *x = (const Memref2D *)args[2];
  const Memref2D *ids = (const Memref2D *)args[3];
  const Memref2D *y = (const Memref2D *)args[4];
  const Memref2D *idsOut = (const Memref2D *)args[5];

  int ok = weights->aligned && ((uintptr_t)weights->aligned % 64) == 0 &&
           weights->sizes[0] == FAKE_WEIGHTS_BYTES &&
           weights->strides[0] == 1 && arena->sizes[0] == FAKE_ARENA_BYTES &&
           arena->strides[0] == 1 && isRowMajor2D(x, 2, 4) &&
           isRowMajor2D(ids, 1, 3) && isRowMajor2D(y, 2, 3) &&
           isRowMajor2D(idsOut, 1, 3);
  if (FAKE_ARENA_BYTES > 0)
    ok = ok && arena->aligned && ((uintptr_t)arena->aligned % 64) == 0;

  float *out = (float *)y->aligned;
  if (!ok) {
    for (int i = 0; i < 6; ++i)
      out[i] = NAN;
    return;
  }

  unsigned char *w = (unsigned char *)weights->aligned;
  const float *bias = (const float *)(w + FAKE_B_OFFSET);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      out[i * 3 + j] = bias[j];

  /* Stage x through the arena when there is one, as a planned buffer. */
  float *xData = (float *)x->aligned;
  if (FAKE_ARENA_BYTES >= 32) {
    float *staged = (float *)arena->aligned;
    for (int i = 0; i < 8; ++i)
      staged[i] = xData[i];
    xData = staged;
  }
  MemrefF32 a = {xData, xData, 0, {2, 4}, {4, 1}};
  float *wData = (float *)(w + FAKE_W_OFFSET);
  MemrefF32 b = {wData, wData, 0, {4, 3}, {3, 1}};
  MemrefF32 c = {out, out, 0, {2, 3}, {3, 1}};
  _mlir_ciface_tmc_rt_matmul_nn_f32(&a, &b, &c);

  const int64_t *in = (const int64_t *)ids->aligned;
  int64_t *res = (int64_t *)idsOut->aligned;
  for (int i = 0; i < 3; ++i)
    res[i] = in[i] + 1;
}
