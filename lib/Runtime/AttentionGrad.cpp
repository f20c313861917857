//===- AttentionGrad.cpp - Attention's backward kernel ----------*- C++ -*-===//
//
// This file implements tmc_rt_attention_grad, the kernel behind
// tfm.attention_grad: FlashAttention-2's backward pass on the CPU. For each
// head and query row, a first pass over the visible keys, block by block,
// computes the row's log-sum-exp with an online softmax and the row's
// output O_i = sum_j P_ij V_j; a second pass recomputes each P_ij from the
// log-sum-exp and accumulates
//   dV_j += P_ij dO_i,   dS_ij = P_ij (dO_i . V_j - dO_i . O_i),
//   dQ_i += scale dS_ij K_j,   dK_j += scale dS_ij Q_i.
// Only a block of scores and a few head_dim vectors live per thread: nothing
// of size seq_q x seq_k is allocated. Work is split over (batch, kv head)
// pairs: a task owns its key/value head's dK and dV rows and the dQ columns
// of the query heads that share it, so no two threads write the same
// element.
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Runtime.h"

#include "ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

/// Keys per block of recomputed scores.
constexpr int64_t kBlockK = 64;

/// A row-major view of one head's columns of a strided 2-D memref.
struct HeadView {
  float *base;
  int64_t rowStride, colStride;

  float *at(int64_t row, int64_t d) const {
    return base + row * rowStride + d * colStride;
  }
};

HeadView headView(tmc_memref_2d_f32 *m, int64_t firstRow, int64_t firstCol) {
  return {m->aligned + m->offset + firstRow * m->strides[0] +
              firstCol * m->strides[1],
          m->strides[0], m->strides[1]};
}

/// The attention problem shared by every task.
struct Problem {
  tmc_memref_2d_f32 *q, *k, *v, *dO, *dQ, *dK, *dV;
  int64_t seqQ, seqK, heads, kvHeads, headDim;
  bool causal;
  int64_t window;
  float scale;

  /// The keys [first, last) that query `i` sees.
  std::pair<int64_t, int64_t> visibleKeys(int64_t i) const {
    int64_t first = 0, last = seqK;
    if (causal)
      last = std::min(last, i + seqK - seqQ + 1);
    if (window > 0) {
      first = std::max(first, i - window + 1);
      last = std::min(last, i + window);
    }
    return {first, std::max(first, last)};
  }

  /// Gradients of key/value head `g` of batch entry `b`, and of the query
  /// rows of the heads that read it.
  void run(int64_t b, int64_t g) const;
};

float dot(const float *x, HeadView y, int64_t row, int64_t n) {
  float sum = 0.0f;
  for (int64_t d = 0; d < n; ++d)
    sum += x[d] * *y.at(row, d);
  return sum;
}

void Problem::run(int64_t b, int64_t g) const {
  int64_t group = heads / kvHeads;
  int64_t n = headDim;
  HeadView kv = headView(k, b * seqK, g * n), vv = headView(v, b * seqK, g * n);
  HeadView dk = headView(dK, b * seqK, g * n),
           dv = headView(dV, b * seqK, g * n);
  for (int64_t j = 0; j < seqK; ++j)
    for (int64_t d = 0; d < n; ++d)
      *dk.at(j, d) = *dv.at(j, d) = 0.0f;

  std::vector<float> qi(n), doi(n), o(n), dq(n), scores(kBlockK);
  for (int64_t h = g * group; h < (g + 1) * group; ++h) {
    HeadView qv = headView(q, b * seqQ, h * n),
             dov = headView(dO, b * seqQ, h * n),
             dqv = headView(dQ, b * seqQ, h * n);
    for (int64_t i = 0; i < seqQ; ++i) {
      for (int64_t d = 0; d < n; ++d) {
        qi[d] = *qv.at(i, d);
        doi[d] = *dov.at(i, d);
        o[d] = dq[d] = 0.0f;
      }
      auto [first, last] = visibleKeys(i);

      // Pass 1: the row's log-sum-exp and output, online over key blocks.
      float max = -std::numeric_limits<float>::infinity(), sum = 0.0f;
      for (int64_t j0 = first; j0 < last; j0 += kBlockK) {
        int64_t count = std::min(kBlockK, last - j0);
        float blockMax = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < count; ++j) {
          scores[j] = scale * dot(qi.data(), kv, j0 + j, n);
          blockMax = std::max(blockMax, scores[j]);
        }
        float newMax = std::max(max, blockMax);
        float rescale = std::exp(max - newMax);
        sum *= rescale;
        for (int64_t d = 0; d < n; ++d)
          o[d] *= rescale;
        for (int64_t j = 0; j < count; ++j) {
          float p = std::exp(scores[j] - newMax);
          sum += p;
          for (int64_t d = 0; d < n; ++d)
            o[d] += p * *vv.at(j0 + j, d);
        }
        max = newMax;
      }
      if (last > first) {
        float lse = max + std::log(sum);
        float rowD = 0.0f; // D_i = dO_i . O_i
        for (int64_t d = 0; d < n; ++d)
          rowD += doi[d] * (o[d] / sum);

        // Pass 2: recompute P block by block and accumulate the gradients.
        for (int64_t j0 = first; j0 < last; j0 += kBlockK) {
          int64_t count = std::min(kBlockK, last - j0);
          for (int64_t j = 0; j < count; ++j)
            scores[j] = std::exp(scale * dot(qi.data(), kv, j0 + j, n) - lse);
          for (int64_t j = 0; j < count; ++j) {
            float p = scores[j];
            float dp = dot(doi.data(), vv, j0 + j, n);
            float ds = p * (dp - rowD);
            for (int64_t d = 0; d < n; ++d) {
              *dv.at(j0 + j, d) += p * doi[d];
              dq[d] += ds * *kv.at(j0 + j, d);
              *dk.at(j0 + j, d) += scale * ds * qi[d];
            }
          }
        }
      }
      for (int64_t d = 0; d < n; ++d)
        *dqv.at(i, d) = scale * dq[d];
    }
  }
}

} // namespace

extern "C" void _mlir_ciface_tmc_rt_attention_grad(
    tmc_memref_2d_f32 *q, tmc_memref_2d_f32 *k, tmc_memref_2d_f32 *v,
    tmc_memref_2d_f32 *dO, tmc_memref_2d_f32 *dQ, tmc_memref_2d_f32 *dK,
    tmc_memref_2d_f32 *dV, int64_t batch, int64_t numHeads, int64_t numKvHeads,
    int64_t causal, int64_t window, float scale) {
  Problem problem{q,
                  k,
                  v,
                  dO,
                  dQ,
                  dK,
                  dV,
                  q->sizes[0] / batch,
                  k->sizes[0] / batch,
                  numHeads,
                  numKvHeads,
                  q->sizes[1] / numHeads,
                  causal != 0,
                  window,
                  scale};
  tmc::rt::parallelFor(batch * numKvHeads, [&](int64_t task) {
    problem.run(task / numKvHeads, task % numKvHeads);
  });
}
