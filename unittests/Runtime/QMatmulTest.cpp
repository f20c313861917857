//===- QMatmulTest.cpp - Tests of the weight-quantized matmuls --*- C++ -*-===//
//
// This file checks every weight-quantized matmul entry point against a naive
// reference: random weights are packed by a packer written here from the
// format descriptions in tmc-rt/Runtime.h, dequantized again here and
// multiplied in double. Products cover M in {1, 3, 17, 64}, K and N at and
// off every block size (N not a multiple of the vector width, K with a tail
// shorter than a packed block), int4 symmetric and asymmetric with f32 and
// fp16 scales and every group size, padded rows of W, and strided, offset A
// and C, for every implementation the CPU supports. Elements of C outside
// its view must stay untouched.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include "tmc-rt/Runtime.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

enum class Kind { Int8, Int4, Int4Half, Ternary, Binary, F16, BF16 };

const char *kindName(Kind kind) {
  switch (kind) {
  case Kind::Int8:
    return "int8";
  case Kind::Int4:
    return "int4";
  case Kind::Int4Half:
    return "int4h";
  case Kind::Ternary:
    return "ternary";
  case Kind::Binary:
    return "binary";
  case Kind::F16:
    return "f16";
  case Kind::BF16:
    return "bf16";
  }
  return "?";
}

/// The fp16 value of bit pattern h (normal numbers and zero only, which is
/// all this test produces).
double halfValue(uint16_t h) {
  int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v = exp == 0 ? 0.0 : std::ldexp(1.0 + mant / 1024.0, exp - 15);
  return h & 0x8000 ? -v : v;
}

/// The fp16 bit pattern of a small non-negative integer (exact).
uint16_t halfOfInt(int z) {
  if (z == 0)
    return 0;
  int e = 0;
  while ((z >> (e + 1)) != 0)
    ++e;
  int mant = ((z << 10) >> e) & 0x3ff;
  return uint16_t(((e + 15) << 10) | mant);
}

/// A random normal fp16 bit pattern with exponent in [lo, hi] (unbiased).
uint16_t randomHalf(std::mt19937 &rng, int lo, int hi, bool signs) {
  int exp = std::uniform_int_distribution<int>(lo, hi)(rng) + 15;
  int mant = std::uniform_int_distribution<int>(0, 1023)(rng);
  int sign = signs ? std::uniform_int_distribution<int>(0, 1)(rng) : 0;
  return uint16_t((sign << 15) | (exp << 10) | mant);
}

/// A rank-2 memref over its own buffer. Row i, column j is at
/// offset + i * strides[0] + j * strides[1]; the rest of the buffer holds a
/// sentinel.
template <typename T, typename Desc> struct Buffer {
  std::vector<T> data;
  Desc desc{};

  Buffer(int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride,
         int64_t offset, T fill) {
    int64_t extent = (rows - 1) * rowStride + (cols - 1) * colStride + 1;
    data.assign(size_t(offset + extent + 3), fill);
    desc.allocated = data.data();
    desc.aligned = data.data();
    desc.offset = offset;
    desc.sizes[0] = rows;
    desc.sizes[1] = cols;
    desc.strides[0] = rowStride;
    desc.strides[1] = colStride;
  }
  T &at(int64_t i, int64_t j) {
    return data[size_t(desc.offset + i * desc.strides[0] +
                       j * desc.strides[1])];
  }
};

using F32 = Buffer<float, tmc_memref_2d_f32>;

/// One test case: a product and its layouts.
struct Case {
  Kind kind;
  int64_t m, n, k;
  int64_t group = 0;
  bool asymmetric = false;
  /// Strided A and C (padded rows, inner stride 2 for A, offsets).
  bool strided = false;
};

/// Packs random weights for `c`, runs the kernel, and compares. Returns false
/// after reporting on a mismatch.
bool runCase(const Case &cs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const int64_t m = cs.m, n = cs.n, k = cs.k;

  // A and C, strided or dense; C starts non-zero (the bias).
  int64_t aInner = cs.strided ? 2 : 1;
  F32 a(m, k, k * aInner + (cs.strided ? 3 : 0), aInner, cs.strided ? 5 : 0,
        1e30f);
  F32 c(m, n, n + (cs.strided ? 4 : 0), 1, cs.strided ? 2 : 0, 7.0f);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p)
      a.at(i, p) = uni(rng);
    for (int64_t j = 0; j < n; ++j)
      c.at(i, j) = uni(rng);
  }
  std::vector<float> cBefore = c.data;

  // The dequantized weights, filled by each packer below.
  std::vector<double> w(size_t(n * k));
  auto wAt = [&](int64_t j, int64_t p) -> double & {
    return w[size_t(j * k + p)];
  };
  F32 dummy(1, 1, 1, 1, 0, 0.0f);
  Buffer<uint16_t, tmc_memref_2d_u16> dummyHalf(1, 1, 1, 1, 0, 0);
  const int64_t pad = 3; // extra bytes at the end of each packed row

  switch (cs.kind) {
  case Kind::Int8: {
    Buffer<int8_t, tmc_memref_2d_i8> wq(n, k, k + pad, 1, 1, 0);
    F32 s(n, 1, 1, 1, 0, 0.0f);
    for (int64_t j = 0; j < n; ++j) {
      s.at(j, 0) = 0.01f + 0.02f * std::abs(uni(rng));
      for (int64_t p = 0; p < k; ++p) {
        int q = std::uniform_int_distribution<int>(-128, 127)(rng);
        wq.at(j, p) = int8_t(q);
        wAt(j, p) = double(q) * s.at(j, 0);
      }
    }
    _mlir_ciface_tmc_rt_qmatmul_int8_f32(&a.desc, &wq.desc, &s.desc,
                                         &dummy.desc, &c.desc);
    break;
  }
  case Kind::Int4:
  case Kind::Int4Half: {
    bool half = cs.kind == Kind::Int4Half;
    int64_t groups = k / cs.group;
    Buffer<uint8_t, tmc_memref_2d_u8> wq(n, k / 2, k / 2 + pad, 1, 0, 0);
    F32 s(n, groups, groups, 1, 0, 0.0f), z(n, groups, groups, 1, 0, 0.0f);
    Buffer<uint16_t, tmc_memref_2d_u16> sh(n, groups, groups + 1, 1, 2, 0),
        zh(n, groups, groups, 1, 0, 0);
    std::vector<double> scale(size_t(n * groups)), zero(size_t(n * groups));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t g = 0; g < groups; ++g) {
        double sv, zv = 0.0;
        if (half) {
          sh.at(j, g) = randomHalf(rng, -7, -4, false);
          sv = halfValue(sh.at(j, g));
        } else {
          s.at(j, g) = 0.01f + 0.05f * std::abs(uni(rng));
          sv = s.at(j, g);
        }
        if (cs.asymmetric) {
          int zi = std::uniform_int_distribution<int>(0, 15)(rng);
          if (half) {
            zh.at(j, g) = halfOfInt(zi);
            zv = halfValue(zh.at(j, g));
          } else {
            z.at(j, g) = float(zi) + (zi < 15 ? 0.5f * std::abs(uni(rng)) : 0);
            zv = z.at(j, g);
          }
        }
        scale[size_t(j * groups + g)] = sv;
        zero[size_t(j * groups + g)] = zv;
      }
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) {
        int nibble = std::uniform_int_distribution<int>(0, 15)(rng);
        uint8_t &byte = wq.at(j, p / 2);
        byte = uint8_t(p % 2 ? (byte & 0x0f) | (nibble << 4)
                             : (byte & 0xf0) | nibble);
        int64_t g = p / cs.group;
        double q = cs.asymmetric ? double(nibble)
                                 : double(nibble < 8 ? nibble : nibble - 16);
        wAt(j, p) =
            (q - zero[size_t(j * groups + g)]) * scale[size_t(j * groups + g)];
      }
    if (half)
      _mlir_ciface_tmc_rt_qmatmul_int4h_f32(
          &a.desc, &wq.desc, &sh.desc,
          cs.asymmetric ? &zh.desc : &dummyHalf.desc, &c.desc);
    else
      _mlir_ciface_tmc_rt_qmatmul_int4_f32(&a.desc, &wq.desc, &s.desc,
                                           cs.asymmetric ? &z.desc
                                                         : &dummy.desc,
                                           &c.desc);
    break;
  }
  case Kind::Ternary: {
    Buffer<uint8_t, tmc_memref_2d_u8> wq(n, k / 4, k / 4 + pad, 1, 0, 0);
    F32 s(1, 1, 1, 1, 0, 0.37f);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) {
        int code = std::uniform_int_distribution<int>(0, 2)(rng);
        wq.at(j, p / 4) |= uint8_t(code << (2 * (p % 4)));
        wAt(j, p) = (code == 1 ? 1.0 : code == 2 ? -1.0 : 0.0) * 0.37f;
      }
    _mlir_ciface_tmc_rt_qmatmul_ternary_f32(&a.desc, &wq.desc, &s.desc,
                                            &dummy.desc, &c.desc);
    break;
  }
  case Kind::Binary: {
    Buffer<uint8_t, tmc_memref_2d_u8> wq(n, k / 8, k / 8 + pad, 1, 0, 0);
    F32 s(n, 1, 2, 1, 1, 0.0f);
    for (int64_t j = 0; j < n; ++j) {
      s.at(j, 0) = 0.1f + std::abs(uni(rng));
      for (int64_t p = 0; p < k; ++p) {
        int bit = std::uniform_int_distribution<int>(0, 1)(rng);
        wq.at(j, p / 8) |= uint8_t(bit << (p % 8));
        wAt(j, p) = (bit ? 1.0 : -1.0) * s.at(j, 0);
      }
    }
    _mlir_ciface_tmc_rt_qmatmul_binary_f32(&a.desc, &wq.desc, &s.desc,
                                           &dummy.desc, &c.desc);
    break;
  }
  case Kind::F16:
  case Kind::BF16: {
    Buffer<uint16_t, tmc_memref_2d_u16> wq(n, k, k + pad, 1, 1, 0);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) {
        if (cs.kind == Kind::F16) {
          wq.at(j, p) = randomHalf(rng, -8, 1, true);
          wAt(j, p) = halfValue(wq.at(j, p));
        } else {
          float f = uni(rng);
          uint32_t bits;
          std::memcpy(&bits, &f, sizeof(bits));
          wq.at(j, p) = uint16_t(bits >> 16);
          bits &= 0xffff0000u;
          std::memcpy(&f, &bits, sizeof(f));
          wAt(j, p) = f;
        }
      }
    if (cs.kind == Kind::F16)
      _mlir_ciface_tmc_rt_qmatmul_f16_f32(&a.desc, &wq.desc, &dummy.desc,
                                          &dummy.desc, &c.desc);
    else
      _mlir_ciface_tmc_rt_qmatmul_bf16_f32(&a.desc, &wq.desc, &dummy.desc,
                                           &dummy.desc, &c.desc);
    break;
  }
  }

  // Reference in double. The tolerance is relative to the product's
  // magnitude, max over C of |C0| + sum_k |a w|: the kernels sum in fp32 in
  // vector lanes, per group and per 256-deep block, so each result carries a
  // few dozen roundings of at most 2^-24 of that magnitude each (int4's
  // s * (sum a q - z sum a) form included, whose terms are bounded by the
  // same sum to within a factor of two), well under 1e-5.
  std::vector<double> ref(size_t(m * n));
  double magnitude = 0.0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double c0 = cBefore[size_t(c.desc.offset + i * c.desc.strides[0] + j)];
      double sum = c0, abs = std::abs(c0);
      for (int64_t p = 0; p < k; ++p) {
        double t = double(a.at(i, p)) * wAt(j, p);
        sum += t;
        abs += std::abs(t);
      }
      ref[size_t(i * n + j)] = sum;
      magnitude = std::max(magnitude, abs);
    }
  double tolerance = 1e-5 * magnitude;

  std::string what = std::string(kindName(cs.kind)) +
                     (cs.kind == Kind::Int4 || cs.kind == Kind::Int4Half
                          ? std::string(cs.asymmetric ? " asym" : " sym") +
                                " g=" + std::to_string(cs.group)
                          : std::string()) +
                     " M=" + std::to_string(m) + " N=" + std::to_string(n) +
                     " K=" + std::to_string(k) +
                     (cs.strided ? " strided" : " dense") + " isa " +
                     tmc_rt_matmul_isa();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double got = c.at(i, j), want = ref[size_t(i * n + j)];
      if (!(std::abs(got - want) <= tolerance)) {
        ::tmc::test::reportFailure(
            __FILE__, __LINE__,
            what + ": C[" + std::to_string(i) + "," + std::to_string(j) +
                "] = " + std::to_string(got) + ", expected " +
                std::to_string(want) + " (tolerance " +
                std::to_string(tolerance) + ")");
        return false;
      }
    }
  // Outside the view, nothing changes.
  std::vector<float> after = c.data;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      after[size_t(c.desc.offset + i * c.desc.strides[0] + j)] =
          cBefore[size_t(c.desc.offset + i * c.desc.strides[0] + j)];
  if (after != cBefore) {
    ::tmc::test::reportFailure(__FILE__, __LINE__,
                               what + ": C changed outside its view");
    return false;
  }
  return true;
}

/// Runs `fn` once for every matmul implementation the CPU supports.
template <typename Fn> void forEachIsa(Fn fn) {
  for (const char *isa : {"avx512", "avx2", "generic"}) {
    if (tmc_rt_set_matmul_isa(isa) != TMC_OK)
      continue;
    fn();
  }
  tmc_rt_set_matmul_isa("auto");
}

const int64_t kMs[] = {1, 3, 17, 64};
const int64_t kNs[] = {1, 7, 33, 64};

/// Runs `kind` for every M, N and the given K values, dense and strided.
void runAll(Kind kind, std::initializer_list<int64_t> ks, int64_t group = 0,
            bool asymmetric = false) {
  forEachIsa([&] {
    uint32_t seed = 1;
    for (int64_t m : kMs)
      for (int64_t n : kNs)
        for (int64_t k : ks)
          for (bool strided : {false, true}) {
            Case cs{kind, m, n, k, group, asymmetric, strided};
            if (!runCase(cs, seed++))
              return;
          }
  });
}

} // namespace

TEST(QMatmul, Int8) { runAll(Kind::Int8, {1, 13, 64, 200, 520}); }

TEST(QMatmul, Int4Symmetric) {
  runAll(Kind::Int4, {32, 96, 544}, 32);
  runAll(Kind::Int4, {64, 320}, 64);
  runAll(Kind::Int4, {128, 768}, 128);
  // Groups of 16 and 48 weights: not whole 32-weight blocks.
  runAll(Kind::Int4, {48}, 16);
  runAll(Kind::Int4, {96}, 48);
}

TEST(QMatmul, Int4Asymmetric) {
  // At least two groups: a [1, 1] zero point reads as the symmetric dummy.
  runAll(Kind::Int4, {64, 544}, 32, true);
  runAll(Kind::Int4, {128, 320}, 64, true);
  runAll(Kind::Int4, {256, 768}, 128, true);
}

TEST(QMatmul, Int4HalfScales) {
  runAll(Kind::Int4Half, {96, 544}, 32);
  runAll(Kind::Int4Half, {320}, 64, true);
  runAll(Kind::Int4Half, {256, 768}, 128, true);
}

TEST(QMatmul, Ternary) { runAll(Kind::Ternary, {4, 32, 200, 520}); }

TEST(QMatmul, Binary) { runAll(Kind::Binary, {8, 64, 200, 520}); }

TEST(QMatmul, F16) { runAll(Kind::F16, {1, 13, 64, 200, 520}); }

TEST(QMatmul, BF16) { runAll(Kind::BF16, {1, 13, 64, 200, 520}); }

/// The GPT-2 shapes the kernels are tuned for, once each at M = 1 and 5.
TEST(QMatmul, Gpt2Shapes) {
  forEachIsa([] {
    uint32_t seed = 1000;
    for (auto [k, n] : {std::pair<int64_t, int64_t>{768, 2304}, {3072, 768}})
      for (int64_t m : {1, 5})
        for (Kind kind : {Kind::Int8, Kind::Int4, Kind::Ternary, Kind::Binary,
                          Kind::F16, Kind::BF16})
          if (!runCase(Case{kind, m, n, k, 128, kind == Kind::Int4, false},
                       seed++))
            return;
  });
}
