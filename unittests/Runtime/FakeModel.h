/*===- FakeModel.h - Shape and weights of the test model ---------*- C -*-===*\
|*                                                                            *|
|* The hand-written model the runtime tests load: its signature constants and *|
|* the bytes of its weights.bin, shared by the model (FakeModel.c) and the    *|
|* tests that write weights.bin.                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TMC_UNITTESTS_RUNTIME_FAKEMODEL_H
#define TMC_UNITTESTS_RUNTIME_FAKEMODEL_H

#include <stdint.h>
#include <string.h>

/* weights.bin: W f32[4,3] at offset 0, b f32[3] at offset 64, and filler
 * bytes from offset 128 to the end. */
#define FAKE_WEIGHTS_BYTES 192
#define FAKE_W_OFFSET 0
#define FAKE_B_OFFSET 64

static inline void fakeModelWeights(unsigned char *bytes) {
  memset(bytes, 0, FAKE_WEIGHTS_BYTES);
  float w[12], b[3];
  for (int i = 0; i < 12; ++i)
    w[i] = 0.25f * (float)(i + 1) - 1.0f;
  for (int i = 0; i < 3; ++i)
    b[i] = (float)(i + 1) * 10.0f;
  memcpy(bytes + FAKE_W_OFFSET, w, sizeof(w));
  memcpy(bytes + FAKE_B_OFFSET, b, sizeof(b));
  for (int i = 128; i < FAKE_WEIGHTS_BYTES; ++i)
    bytes[i] = (unsigned char)(i * 7 + 3);
}

static inline uint64_t fakeModelFnv1a(const unsigned char *bytes,
                                      uint64_t size) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

#endif /* TMC_UNITTESTS_RUNTIME_FAKEMODEL_H */
