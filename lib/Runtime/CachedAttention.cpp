//===- CachedAttention.cpp - Attention over a KV cache ----------*- C++ -*-===//
//
// This file implements tmc_rt_cached_attention, the kernel behind
// tfm.cached_attention: it appends a chunk's keys and values to one layer's
// region of the KV cache (quantizing them for int8 and int4 caches) and
// computes each query's causal attention over the cached positions, reading
// quantized rows directly (dequantized in registers, never expanded).
//
// A layer's region holds its keys, then (at v_offset) its values, each
// `capacity` rows of [kv_heads][head_dim] values:
//   f32:  float values[rows][kv_heads][head_dim]
//   int8: int8 values[rows][kv_heads][head_dim], float scale[rows][kv_heads]
//   int4: uint8 values[rows][kv_heads][head_dim / 2] (low nibble first,
//         stored as q + 8), float scale[rows][kv_heads][head_dim / 32]
// Position a lives in row a without a window; with one, positions below
// `sinks` keep their rows and the others share the rest as a ring buffer.
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Runtime.h"

#include "ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace {

constexpr int64_t kInt4Group = 32;

/// One layer's keys or values in the cache.
struct CacheRegion {
  uint8_t *base;
  int64_t capacity, kvHeads, headDim, bits;

  /// The bytes of the values, before the scales.
  int64_t valueBytes() const {
    int64_t values = capacity * kvHeads * headDim;
    return bits == 32 ? values * 4 : bits == 8 ? values : values / 2;
  }
  float *f32Row(int64_t row, int64_t head) const {
    return reinterpret_cast<float *>(base) + (row * kvHeads + head) * headDim;
  }
  uint8_t *packedRow(int64_t row, int64_t head) const {
    int64_t perRow = bits == 8 ? headDim : headDim / 2;
    return base + (row * kvHeads + head) * perRow;
  }
  /// The first scale of (row, head).
  uint8_t *scales(int64_t row, int64_t head) const {
    int64_t perHead = bits == 8 ? 1 : headDim / kInt4Group;
    return base + valueBytes() + ((row * kvHeads + head) * perHead) * 4;
  }

  /// Stores head_dim values `x` in (row, head).
  void store(int64_t row, int64_t head, const float *x) const {
    if (bits == 32) {
      std::memcpy(f32Row(row, head), x, headDim * sizeof(float));
      return;
    }
    int64_t group = bits == 8 ? headDim : kInt4Group;
    float qmax = bits == 8 ? 127.0f : 7.0f;
    uint8_t *values = packedRow(row, head);
    uint8_t *scaleOut = scales(row, head);
    for (int64_t g0 = 0; g0 < headDim; g0 += group) {
      float amax = 0.0f;
      for (int64_t d = g0; d < g0 + group; ++d)
        amax = std::max(amax, std::fabs(x[d]));
      float scale = amax > 0.0f ? amax / qmax : 1.0f;
      std::memcpy(scaleOut + (g0 / group) * 4, &scale, 4);
      float inv = 1.0f / scale;
      for (int64_t d = g0; d < g0 + group; ++d) {
        float q = std::nearbyint(x[d] * inv);
        q = std::min(std::max(q, -qmax), qmax);
        if (bits == 8) {
          values[d] = static_cast<uint8_t>(static_cast<int8_t>(q));
        } else {
          uint8_t nibble = static_cast<uint8_t>(static_cast<int>(q) + 8);
          uint8_t &byte = values[d / 2];
          byte = d % 2 ? (byte & 0x0F) | (nibble << 4)
                       : (byte & 0xF0) | nibble;
        }
      }
    }
  }

  /// Loads (row, head) as f32 into `out`.
  void load(int64_t row, int64_t head, float *out) const {
    if (bits == 32) {
      std::memcpy(out, f32Row(row, head), headDim * sizeof(float));
      return;
    }
    const uint8_t *values = packedRow(row, head);
    const uint8_t *scaleIn = scales(row, head);
    if (bits == 8) {
      float scale;
      std::memcpy(&scale, scaleIn, 4);
      for (int64_t d = 0; d < headDim; ++d)
        out[d] = scale * static_cast<float>(static_cast<int8_t>(values[d]));
      return;
    }
    for (int64_t g0 = 0; g0 < headDim; g0 += kInt4Group) {
      float scale;
      std::memcpy(&scale, scaleIn + (g0 / kInt4Group) * 4, 4);
      for (int64_t d = g0; d < g0 + kInt4Group; d += 2) {
        uint8_t byte = values[d / 2];
        out[d] = scale * static_cast<float>(int(byte & 0x0F) - 8);
        out[d + 1] = scale * static_cast<float>(int(byte >> 4) - 8);
      }
    }
  }
};

/// Dot product with eight independent partial sums (vectorizes).
float dot(const float *a, const float *b, int64_t n) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      partial[j] += a[i + j] * b[i + j];
  float sum = 0.0f;
  for (; i < n; ++i)
    sum += a[i] * b[i];
  for (float p : partial)
    sum += p;
  return sum;
}

} // namespace

extern "C" void _mlir_ciface_tmc_rt_cached_attention(
    tmc_memref_2d_f32 *q, tmc_memref_2d_f32 *k, tmc_memref_2d_f32 *v,
    tmc_memref_1d_i8 *cache, tmc_memref_2d_f32 *out, int64_t start,
    int64_t numHeads, int64_t numKvHeads, int64_t kOffset, int64_t vOffset,
    int64_t capacity, int64_t window, int64_t sinks, int64_t bits,
    float scale) {
  int64_t seq = q->sizes[0];
  int64_t headDim = q->sizes[1] / numHeads;
  uint8_t *base =
      reinterpret_cast<uint8_t *>(cache->aligned) + cache->offset;
  CacheRegion keys{base + kOffset, capacity, numKvHeads, headDim, bits};
  CacheRegion values{base + vOffset, capacity, numKvHeads, headDim, bits};
  int64_t ring = capacity - sinks;
  auto rowOf = [&](int64_t position) {
    if (window == 0 || position < sinks)
      return position;
    return sinks + (position - sinks) % ring;
  };
  auto element = [](tmc_memref_2d_f32 *m, int64_t i, int64_t j) {
    return m->aligned + m->offset + i * m->strides[0] + j * m->strides[1];
  };

  // Append the chunk's keys and values. Without a window, the padding of a
  // last chunk may run past the cache: those rows are not stored (and their
  // queries, whose results are never read, are not computed).
  auto stored = [&](int64_t position) {
    return window > 0 || position < capacity;
  };
  std::vector<float> row(headDim);
  for (int64_t t = 0; t < seq; ++t) {
    if (!stored(start + t))
      continue;
    int64_t r = rowOf(start + t);
    for (int64_t g = 0; g < numKvHeads; ++g) {
      for (int64_t d = 0; d < headDim; ++d)
        row[d] = *element(k, t, g * headDim + d);
      keys.store(r, g, row.data());
      for (int64_t d = 0; d < headDim; ++d)
        row[d] = *element(v, t, g * headDim + d);
      values.store(r, g, row.data());
    }
  }

  // Attend: one task per (query, head).
  int64_t group = numHeads / numKvHeads;
  tmc::rt::parallelFor(seq * numHeads, [&](int64_t task) {
    int64_t t = task / numHeads, h = task % numHeads, g = h / group;
    int64_t p = start + t;
    if (!stored(p)) {
      for (int64_t d = 0; d < headDim; ++d)
        *element(out, t, h * headDim + d) = 0.0f;
      return;
    }
    int64_t lo = window ? std::max<int64_t>(0, p - window + 1) : 0;
    int64_t numSinks = window ? std::min(sinks, lo) : 0;
    int64_t count = numSinks + (p - lo + 1);
    auto positionAt = [&](int64_t i) {
      return i < numSinks ? i : lo + (i - numSinks);
    };
    thread_local std::vector<float> scores, query, scratch, acc;
    scores.resize(count);
    query.resize(headDim);
    scratch.resize(headDim);
    acc.assign(headDim, 0.0f);
    for (int64_t d = 0; d < headDim; ++d)
      query[d] = *element(q, t, h * headDim + d) * scale;
    float maxScore = -INFINITY;
    for (int64_t i = 0; i < count; ++i) {
      int64_t r = rowOf(positionAt(i));
      const float *key = bits == 32 ? keys.f32Row(r, g) : scratch.data();
      if (bits != 32)
        keys.load(r, g, scratch.data());
      scores[i] = dot(query.data(), key, headDim);
      maxScore = std::max(maxScore, scores[i]);
    }
    float sum = 0.0f;
    for (int64_t i = 0; i < count; ++i) {
      float w = std::exp(scores[i] - maxScore);
      sum += w;
      int64_t r = rowOf(positionAt(i));
      const float *value = bits == 32 ? values.f32Row(r, g) : scratch.data();
      if (bits != 32)
        values.load(r, g, scratch.data());
      for (int64_t d = 0; d < headDim; ++d)
        acc[d] += w * value[d];
    }
    float inv = 1.0f / sum;
    for (int64_t d = 0; d < headDim; ++d)
      *element(out, t, h * headDim + d) = acc[d] * inv;
  });
}
