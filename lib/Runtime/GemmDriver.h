//===- GemmDriver.h - Blocked, packed GEMM driver ---------------*- C++ -*-===//
//
// This file holds the cache-blocking loops shared by every instruction set.
// It is included once by each kernel file, which compiles it with that file's
// target flags; everything here therefore has internal linkage, so that code
// built for one instruction set is never merged with another's.
//
// The loops follow the usual five-loop structure: the N dimension is split
// into NC-wide blocks, K into KC-deep blocks whose slice of B is packed into
// NR-wide micro-panels, M into MC-tall blocks whose slice of A is packed into
// MR-tall micro-panels, and the microkernel multiplies one MR x KC panel of A
// by one KC x NR panel of B into an MR x NR tile of C held in registers.
//
// A Kernel type provides:
//   static constexpr int64_t MR, NR, MC, KC, NC, PartsPerThread;
//   static void micro(int64_t kc, const float *pa, const float *pb, float *c,
//                     int64_t rsC, int64_t csC, int64_t mr, int64_t nr);
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_RUNTIME_GEMMDRIVER_H
#define TMC_LIB_RUNTIME_GEMMDRIVER_H

#include "Avx2Transpose.h"
#include "Gemm.h"
#include "ThreadPool.h"

#include <cstdlib>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tmc::rt {
namespace {

inline int64_t minI64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Products below this many flops run on the calling thread alone.
constexpr double kMinParallelFlops = 1 << 20;
/// Rows of B prefetched ahead when packing row by row.
constexpr int64_t kPrefetchRows = 8;
/// Parallel parts span at least this many micro-tiles when they can.
constexpr int64_t kMinTilesPerPart = 4;

/// A 64-byte aligned scratch buffer that grows on demand.
class ScratchBuffer {
public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;
  ~ScratchBuffer() { std::free(data); }

  /// Returns a buffer of at least `count` floats, or null when out of memory.
  float *get(int64_t count) {
    if (count > capacity) {
      std::free(data);
      // Slack: packing routines may store up to one vector past a panel.
      size_t bytes = static_cast<size_t>(count + 64) * sizeof(float);
      bytes = (bytes + 63) & ~size_t(63);
      data = static_cast<float *>(std::aligned_alloc(64, bytes));
      capacity = data ? count : 0;
    }
    return data;
  }

private:
  float *data = nullptr;
  int64_t capacity = 0;
};

#if defined(__AVX2__)
/// Packs a full W-row panel whose rows are contiguous along k (row w starts
/// at src + w * sw) into dst[k * W + w], eight k at a time through 8x8
/// transposes. Rows are covered by 8-row blocks; the last block overlaps the
/// previous one when W is not a multiple of 8. For W < 8 the block reads row
/// 0 in place of the missing rows and its stores run past the W values of a
/// k into the next k, which is rewritten afterwards (the scratch buffer has
/// slack for the last one).
template <int W>
inline int64_t packTransposedAvx(const float *src, int64_t sw, int64_t kc,
                                 float *dst) {
  constexpr int kBlocks = W < 8 ? 1 : (W + 7) / 8;
  int64_t k0 = 0;
  for (; k0 + 8 <= kc; k0 += 8) {
    for (int blk = 0; blk < kBlocks; ++blk) {
      int first = W < 8 ? 0 : (blk * 8 + 8 <= W ? blk * 8 : W - 8);
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        int row = first + i < W ? first + i : 0;
        r[i] = _mm256_loadu_ps(src + row * sw + k0);
      }
      transpose8x8(r);
      for (int i = 0; i < 8; ++i)
        _mm256_storeu_ps(dst + (k0 + i) * W + first, r[i]);
    }
  }
  return k0;
}
#endif

/// Packs a panel of `width` <= W rows (row w of the panel is element
/// src[w * sw + k * sk] for k < kc) into dst[k * W + w], padding the rows past
/// `width` with zeros. Both micro-panels of A (rows of A) and of B (columns of
/// B) are packed this way.
template <int W>
inline void packPanel(const float *src, int64_t sw, int64_t sk, int64_t width,
                      int64_t kc, float *dst) {
  if (width == W && sw == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const float *s = src + k * sk;
      float *d = dst + k * W;
      for (int w = 0; w < W; ++w)
        d[w] = s[w];
    }
    return;
  }
  if (width == W && sk == 1) {
    int64_t k0 = 0;
#if defined(__AVX2__)
    k0 = packTransposedAvx<W>(src, sw, kc, dst);
#endif
    for (int64_t k = k0; k < kc; ++k)
      for (int w = 0; w < W; ++w)
        dst[k * W + w] = src[w * sw + k];
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    float *d = dst + k * W;
    int w = 0;
    for (; w < width; ++w)
      d[w] = src[w * sw + k * sk];
    for (; w < W; ++w)
      d[w] = 0.0f;
  }
}

/// Packs the kc x nc block of B at `src` (element (k, j) at
/// src[k * rsB + j * csB]) into NR-wide micro-panels, panel p at
/// dst + p * NR * kc. When rows of B are contiguous the block is read row by
/// row, a stream the hardware prefetcher follows, rather than panel by panel,
/// which would touch a new page for every k.
template <int NR>
inline void packBlockB(const float *src, int64_t rsB, int64_t csB, int64_t kc,
                       int64_t nc, float *dst) {
  if (csB != 1) {
    for (int64_t jr = 0; jr < nc; jr += NR)
      packPanel<NR>(src + jr * csB, csB, rsB, minI64(NR, nc - jr), kc,
                    dst + jr * kc);
    return;
  }
  int64_t fullPanels = nc / NR, tail = nc - fullPanels * NR;
  for (int64_t k = 0; k < kc; ++k) {
    const float *row = src + k * rsB;
    // Rows lie farther apart than the hardware's stride prefetchers reach:
    // fetch a few rows ahead by hand.
    if (k + kPrefetchRows < kc)
      for (int64_t j = 0; j < nc; j += 16)
        __builtin_prefetch(row + kPrefetchRows * rsB + j);
    for (int64_t p = 0; p < fullPanels; ++p) {
      const float *s = row + p * NR;
      float *d = dst + p * NR * kc + k * NR;
      for (int j = 0; j < NR; ++j)
        d[j] = s[j];
    }
    if (tail) {
      const float *s = row + fullPanels * NR;
      float *d = dst + fullPanels * NR * kc + k * NR;
      int j = 0;
      for (; j < tail; ++j)
        d[j] = s[j];
      for (; j < NR; ++j)
        d[j] = 0.0f;
    }
  }
}

/// Per-thread packing buffers of one kernel file.
thread_local ScratchBuffer tlsPackA, tlsPackB;

/// Computes C[m0:m1, n0:n1] += A[m0:m1, :] * B[:, n0:n1] on this thread.
/// Returns false when the packing buffers cannot be allocated.
template <typename Kernel>
bool gemmBlock(const GemmArgs &g, int64_t m0, int64_t m1, int64_t n0,
               int64_t n1) {
  constexpr int64_t MR = Kernel::MR, NR = Kernel::NR;
  static_assert(Kernel::MC % MR == 0 && Kernel::NC % NR == 0,
                "blocks must hold whole micro-panels");
  int64_t kcMax = minI64(Kernel::KC, g.k);
  int64_t ncMax = ceilDiv(minI64(Kernel::NC, n1 - n0), NR) * NR;
  int64_t mcMax = ceilDiv(minI64(Kernel::MC, m1 - m0), MR) * MR;
  float *pa = tlsPackA.get(mcMax * kcMax);
  float *pb = tlsPackB.get(ncMax * kcMax);
  if (!pa || !pb)
    return false;

  for (int64_t jc = n0; jc < n1; jc += Kernel::NC) {
    int64_t nc = minI64(Kernel::NC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += Kernel::KC) {
      int64_t kc = minI64(Kernel::KC, g.k - pc);
      packBlockB<NR>(g.b + pc * g.rsB + jc * g.csB, g.rsB, g.csB, kc, nc, pb);
      for (int64_t ic = m0; ic < m1; ic += Kernel::MC) {
        int64_t mc = minI64(Kernel::MC, m1 - ic);
        for (int64_t ir = 0; ir < mc; ir += MR)
          packPanel<MR>(g.a + (ic + ir) * g.rsA + pc * g.csA, g.rsA, g.csA,
                        minI64(MR, mc - ir), kc, pa + ir * kc);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          int64_t nr = minI64(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR)
            Kernel::micro(kc, pa + ir * kc, pb + jr * kc,
                          g.c + (ic + ir) * g.rsC + (jc + jr) * g.csC, g.rsC,
                          g.csC, minI64(MR, mc - ir), nr);
        }
      }
    }
  }
  return true;
}

/// Reference loop used when no packing buffer can be had: slow but needs no
/// memory.
inline void gemmUnpacked(const GemmArgs &g, int64_t m0, int64_t m1, int64_t n0,
                         int64_t n1) {
  for (int64_t i = m0; i < m1; ++i)
    for (int64_t j = n0; j < n1; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < g.k; ++p)
        sum += g.a[i * g.rsA + p * g.csA] * g.b[p * g.rsB + j * g.csB];
      g.c[i * g.rsC + j * g.csC] += sum;
    }
}

template <typename Kernel>
void gemmRange(const GemmArgs &g, int64_t m0, int64_t m1, int64_t n0,
               int64_t n1) {
  if (!gemmBlock<Kernel>(g, m0, m1, n0, n1))
    gemmUnpacked(g, m0, m1, n0, n1);
}

/// Splits the product over the thread pool and runs gemmBlock on each part.
/// The split is along N when M <= N (every part packs all of A, which is the
/// smaller operand then) and along M otherwise, in whole micro-tiles, with a
/// few parts per thread so that a slow core does not hold up the others.
template <typename Kernel> void gemmParallel(const GemmArgs &g) {
  constexpr int64_t MR = Kernel::MR, NR = Kernel::NR;
  int threads = getNumThreads();
  double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  int64_t mTiles = ceilDiv(g.m, MR), nTiles = ceilDiv(g.n, NR);
  if (threads == 1 || flops < kMinParallelFlops || (mTiles < 2 && nTiles < 2)) {
    gemmRange<Kernel>(g, 0, g.m, 0, g.n);
    return;
  }
  bool splitN = (g.m <= g.n && nTiles >= 2) || mTiles < 2;
  int64_t tiles = splitN ? nTiles : mTiles;
  // Parts of at least a few tiles keep the repacked operand's share small.
  int64_t parts = minI64(ceilDiv(tiles, kMinTilesPerPart),
                         int64_t(threads) * Kernel::PartsPerThread);
  if (parts < 2)
    parts = minI64(tiles, 2);
  auto body = [&](int64_t part) {
    int64_t t0 = tiles * part / parts, t1 = tiles * (part + 1) / parts;
    if (splitN)
      gemmRange<Kernel>(g, 0, g.m, t0 * NR, minI64(g.n, t1 * NR));
    else
      gemmRange<Kernel>(g, t0 * MR, minI64(g.m, t1 * MR), 0, g.n);
  };
  parallelFor(parts, body);
}

} // namespace
} // namespace tmc::rt

#endif // TMC_LIB_RUNTIME_GEMMDRIVER_H
