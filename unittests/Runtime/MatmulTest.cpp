//===- MatmulTest.cpp - Tests of the runtime's matmul kernels ---*- C++ -*-===//
//
// This file checks both matmul entry points against a double-precision
// reference, for every implementation the CPU supports, over many shapes
// (matrix-vector, odd sizes, K = 1, sizes that cross every blocking boundary)
// and memory layouts (padded rows, transposed views, non-unit inner strides,
// non-zero offsets). Elements of C outside the view must stay untouched.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include "tmc-rt/Runtime.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

/// How a rows x cols matrix sits in its buffer.
struct Layout {
  const char *name;
  bool columnMajor;
  int64_t innerStride;
  int64_t padding;
  int64_t offset;
};

const Layout kDense = {"dense", false, 1, 0, 0};
const Layout kLayouts[] = {
    kDense,
    {"padded", false, 1, 5, 3},
    {"column-major", true, 1, 0, 0},
    {"column-major-padded", true, 1, 7, 1},
    {"inner-stride-2", false, 2, 1, 2},
    {"column-major-stride-3", true, 3, 2, 0},
};

/// A strided view over its own buffer, filled with random values.
struct Matrix {
  std::vector<float> buffer;
  tmc_memref_2d_f32 desc{};

  Matrix(int64_t rows, int64_t cols, const Layout &layout, std::mt19937 &rng) {
    int64_t s0, s1;
    if (!layout.columnMajor) {
      s1 = layout.innerStride;
      s0 = cols * s1 + layout.padding;
    } else {
      s0 = layout.innerStride;
      s1 = rows * s0 + layout.padding;
    }
    int64_t extent =
        (rows > 0 && cols > 0) ? (rows - 1) * s0 + (cols - 1) * s1 + 1 : 0;
    buffer.resize(size_t(layout.offset + extent + 1));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float &x : buffer)
      x = dist(rng);
    desc.allocated = buffer.data();
    desc.aligned = buffer.data();
    desc.offset = layout.offset;
    desc.sizes[0] = rows;
    desc.sizes[1] = cols;
    desc.strides[0] = s0;
    desc.strides[1] = s1;
  }

  float at(int64_t i, int64_t j) const {
    return buffer[size_t(desc.offset + i * desc.strides[0] +
                         j * desc.strides[1])];
  }
};

/// Runs one product and compares it with the reference; returns false (after
/// reporting) on a mismatch.
bool checkProduct(bool transposedB, int64_t m, int64_t n, int64_t k,
                  const Layout &la, const Layout &lb, const Layout &lc,
                  uint32_t seed) {
  std::mt19937 rng(seed);
  Matrix a(m, k, la, rng);
  Matrix b(transposedB ? n : k, transposedB ? k : n, lb, rng);
  Matrix c(m, n, lc, rng);
  std::vector<float> before = c.buffer;

  if (transposedB)
    _mlir_ciface_tmc_rt_matmul_nt_f32(&a.desc, &b.desc, &c.desc);
  else
    _mlir_ciface_tmc_rt_matmul_nn_f32(&a.desc, &b.desc, &c.desc);

  // Elements outside the view must be untouched.
  std::vector<char> inView(c.buffer.size(), 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      inView[size_t(c.desc.offset + i * c.desc.strides[0] +
                    j * c.desc.strides[1])] = 1;
  for (size_t idx = 0; idx < c.buffer.size(); ++idx)
    if (!inView[idx] && c.buffer[idx] != before[idx]) {
      TMC_CHECK_IMPL(false,
                     (transposedB ? "nt" : "nn")
                         << " " << m << "x" << n << "x" << k << " (" << la.name
                         << ", " << lb.name << ", " << lc.name
                         << "): wrote outside C at buffer index " << idx,
                     (void)0);
      return false;
    }

  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      size_t idx =
          size_t(c.desc.offset + i * c.desc.strides[0] + j * c.desc.strides[1]);
      double ref = before[idx], magnitude = std::fabs(before[idx]);
      for (int64_t p = 0; p < k; ++p) {
        double bv = transposedB ? b.at(j, p) : b.at(p, j);
        ref += double(a.at(i, p)) * bv;
        magnitude += std::fabs(double(a.at(i, p)) * bv);
      }
      // Any summation order is within k ulps of the magnitude.
      double tolerance = (double(k) + 2.0) * 1.2e-7 * magnitude + 1e-30;
      double got = c.buffer[idx];
      if (!(std::fabs(got - ref) <= tolerance)) {
        TMC_CHECK_IMPL(false,
                       (transposedB ? "nt" : "nn")
                           << " " << m << "x" << n << "x" << k << " ("
                           << la.name << ", " << lb.name << ", " << lc.name
                           << ") isa " << tmc_rt_matmul_isa() << ": C[" << i
                           << "," << j << "] = " << got << ", expected " << ref,
                       (void)0);
        return false;
      }
    }
  return true;
}

/// The implementations this CPU can run.
std::vector<const char *> supportedIsas() {
  std::vector<const char *> isas;
  for (const char *isa : {"generic", "avx2", "avx512"})
    if (tmc_rt_set_matmul_isa(isa) == TMC_OK)
      isas.push_back(isa);
  tmc_rt_set_matmul_isa("auto");
  return isas;
}

/// Runs `body` once per supported implementation, then restores "auto".
template <typename Fn> void forEachIsa(Fn body) {
  for (const char *isa : supportedIsas()) {
    ASSERT_EQ(tmc_rt_set_matmul_isa(isa), TMC_OK);
    body();
  }
  tmc_rt_set_matmul_isa("auto");
}

} // namespace

TEST(Matmul, IsaSelection) {
  EXPECT_EQ(tmc_rt_set_matmul_isa("generic"), TMC_OK);
  EXPECT_EQ(std::string(tmc_rt_matmul_isa()), "generic");
  EXPECT_EQ(tmc_rt_set_matmul_isa("no-such-isa"), TMC_ERROR_ARGUMENT);
  EXPECT_EQ(std::string(tmc_rt_matmul_isa()), "generic");
  EXPECT_EQ(tmc_rt_set_matmul_isa("auto"), TMC_OK);
  EXPECT_TRUE(tmc_rt_num_threads() >= 1);
}

TEST(Matmul, SmallShapesDense) {
  const int64_t ms[] = {1, 2, 3, 4, 5, 6, 7, 12, 13};
  const int64_t ns[] = {1, 3, 8, 15, 16, 17, 33, 64};
  const int64_t ks[] = {1, 2, 7, 9, 64};
  forEachIsa([&] {
    uint32_t seed = 1;
    for (int64_t m : ms)
      for (int64_t n : ns)
        for (int64_t k : ks)
          for (bool nt : {false, true})
            if (!checkProduct(nt, m, n, k, kDense, kDense, kDense, seed++))
              return;
  });
}

TEST(Matmul, StridedLayouts) {
  const int64_t shapes[][3] = {{1, 37, 19},  {3, 40, 33}, {5, 17, 1},
                               {13, 45, 70}, {30, 70, 9}, {2, 130, 300},
                               {64, 33, 260}};
  forEachIsa([&] {
    uint32_t seed = 100;
    for (const auto &s : shapes)
      for (const Layout &la : kLayouts)
        for (const Layout &lb : kLayouts)
          for (const Layout &lc :
               {kLayouts[0], kLayouts[1], kLayouts[2], kLayouts[4]})
            for (bool nt : {false, true})
              if (!checkProduct(nt, s[0], s[1], s[2], la, lb, lc, seed++))
                return;
  });
}

TEST(Matmul, MatrixVector) {
  // M = 1 (decoding) over sizes that are and are not multiples of the tiles.
  const int64_t shapes[][2] = {{768, 2304}, {768, 768}, {3072, 768},
                               {1, 1000},   {1000, 1},  {771, 95}};
  forEachIsa([&] {
    uint32_t seed = 500;
    for (const auto &s : shapes)
      for (bool nt : {false, true}) {
        if (!checkProduct(nt, 1, s[1], s[0], kDense, kDense, kDense, seed++))
          return;
        if (!checkProduct(nt, 3, s[1], s[0], kDense, kLayouts[1], kDense,
                          seed++))
          return;
      }
  });
}

TEST(Matmul, LargeBlocked) {
  // Crosses the K, M and N blocking of every implementation and runs on the
  // thread pool.
  forEachIsa([&] {
    uint32_t seed = 900;
    for (bool nt : {false, true}) {
      if (!checkProduct(nt, 203, 1601, 530, kDense, kDense, kDense, seed++))
        return;
      if (!checkProduct(nt, 517, 45, 301, kLayouts[1], kLayouts[2], kLayouts[1],
                        seed++))
        return;
    }
  });
}

TEST(Matmul, EmptyProducts) {
  std::mt19937 rng(7);
  for (auto shape : {std::vector<int64_t>{0, 5, 3}, {4, 0, 3}, {4, 5, 0}}) {
    Matrix a(shape[0], shape[2], kDense, rng);
    Matrix b(shape[2], shape[1], kDense, rng);
    Matrix c(shape[0], shape[1], kDense, rng);
    std::vector<float> before = c.buffer;
    _mlir_ciface_tmc_rt_matmul_nn_f32(&a.desc, &b.desc, &c.desc);
    EXPECT_TRUE(c.buffer == before);
  }
}
