//===- NpyTest.cpp - Tests of the .npy reader and writer --------*- C++ -*-===//
//
// This file round-trips every supported element type through writeNpy and
// readNpy, reads hand-made version 1 and 2 files as NumPy writes them, and
// checks that every malformed or unsupported file is refused with a message
// naming it.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include "tmc-rt/Npy.h"

#include <cstring>
#include <string>
#include <vector>

using namespace tmc::rt;
using namespace tmc::test;

namespace {

/// The bytes of a .npy file with the given header dict and data.
std::string makeNpy(const std::string &dict, const std::string &data,
                    int major = 1) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string bytes = std::string("\x93NUMPY", 6);
  bytes += char(major);
  bytes += char(0);
  uint32_t len = uint32_t(header.size());
  bytes += char(len & 0xff);
  bytes += char(len >> 8);
  if (major != 1) {
    bytes += char(len >> 16);
    bytes += char(len >> 24);
  }
  return bytes + header + data;
}

std::string floatBytes(std::vector<float> values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(float));
}

/// Writes `bytes` to a file in `dir` and reads it back; returns the error
/// message, or "" when the read succeeded.
std::string readBack(const TempDir &dir, const std::string &bytes,
                     NpyArray &array) {
  std::string path = dir.file("case.npy");
  if (!writeFile(path, bytes.data(), bytes.size()))
    return "cannot write test file";
  std::string error;
  if (readNpy(path, array, error))
    return "";
  EXPECT_CONTAINS(error, path);
  return error.empty() ? "empty message" : error;
}

} // namespace

TEST(Npy, RoundTripEveryType) {
  TempDir dir;
  const NpyType types[] = {NpyType::F32, NpyType::F16, NpyType::I64,
                           NpyType::I32, NpyType::I8,  NpyType::U8,
                           NpyType::U16, NpyType::Bool};
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {7}, {2, 3}, {2, 3, 4}, {1, 0, 5}};
  for (NpyType type : types)
    for (const auto &shape : shapes) {
      NpyArray original;
      ASSERT_TRUE(original.allocate(type, shape));
      unsigned char *bytes = static_cast<unsigned char *>(original.getData());
      for (size_t i = 0; i < original.getNumBytes(); ++i)
        bytes[i] =
            type == NpyType::Bool ? (i % 3 == 0) : (unsigned char)(i * 13 + 1);
      std::string path = dir.file("round.npy"), error;
      ASSERT_TRUE(writeNpy(path, type, shape, original.getData(), error));
      NpyArray loaded;
      ASSERT_TRUE(readNpy(path, loaded, error));
      EXPECT_TRUE(loaded.getType() == type);
      EXPECT_TRUE(loaded.getShape() == shape);
      ASSERT_EQ(loaded.getNumBytes(), original.getNumBytes());
      EXPECT_TRUE(std::memcmp(loaded.getData(), original.getData(),
                              original.getNumBytes()) == 0);
      EXPECT_TRUE(reinterpret_cast<uintptr_t>(loaded.getData()) % 64 == 0);
    }
}

TEST(Npy, WriterMatchesNumpyLayout) {
  TempDir dir;
  float values[6] = {1, 2, 3, 4, 5, 6};
  std::string path = dir.file("w.npy"), error;
  ASSERT_TRUE(writeNpy(path, NpyType::F32, {2, 3}, values, error));
  FILE *file = std::fopen(path.c_str(), "rb");
  ASSERT_TRUE(file != nullptr);
  std::string bytes(4096, '\0');
  bytes.resize(std::fread(&bytes[0], 1, bytes.size(), file));
  std::fclose(file);
  std::string expected =
      makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
              floatBytes({1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(bytes == expected);
  // 1-D shapes are written as "(n,)".
  ASSERT_TRUE(writeNpy(path, NpyType::F32, {6}, values, error));
  NpyArray array;
  ASSERT_TRUE(readNpy(path, array, error));
  EXPECT_EQ(array.getShape().size(), size_t(1));
}

TEST(Npy, ReadsNumpyFiles) {
  TempDir dir;
  NpyArray array;
  std::string data = floatBytes({1.5f, -2.0f});
  EXPECT_EQ(readBack(dir,
                     makeNpy("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (1, 2), }",
                             data),
                     array),
            "");
  EXPECT_TRUE(array.getShape() == std::vector<int64_t>({1, 2}));
  EXPECT_EQ(static_cast<const float *>(array.getData())[1], -2.0f);
  // Version 2 header, double quotes, no trailing comma, other key order.
  EXPECT_EQ(readBack(dir,
                     makeNpy("{\"shape\": (2,), \"fortran_order\": False, "
                             "\"descr\": \"<f4\"}",
                             data, 2),
                     array),
            "");
  EXPECT_TRUE(array.getShape() == std::vector<int64_t>({2}));
  // Booleans and int64.
  EXPECT_EQ(readBack(dir,
                     makeNpy("{'descr': '|b1', 'fortran_order': False, "
                             "'shape': (3,), }",
                             std::string("\1\0\1", 3)),
                     array),
            "");
  EXPECT_TRUE(array.getType() == NpyType::Bool);
  int64_t ids[2] = {50256, 7};
  EXPECT_EQ(readBack(dir,
                     makeNpy("{'descr': '<i8', 'fortran_order': False, "
                             "'shape': (1, 2), }",
                             std::string(reinterpret_cast<char *>(ids), 16)),
                     array),
            "");
  EXPECT_EQ(static_cast<const int64_t *>(array.getData())[0], 50256);
}

TEST(Npy, RefusesBadFiles) {
  TempDir dir;
  NpyArray array;
  std::string data = floatBytes({1, 2, 3, 4});
  auto dict = [](const std::string &descr, const std::string &order,
                 const std::string &shape) {
    return "{'descr': '" + descr + "', 'fortran_order': " + order +
           ", 'shape': " + shape + ", }";
  };

  std::string error;
  EXPECT_TRUE(!readNpy(dir.file("missing.npy"), array, error));
  EXPECT_CONTAINS(error, "missing.npy");

  EXPECT_CONTAINS(readBack(dir, "not a numpy file at all", array), "magic");
  EXPECT_CONTAINS(readBack(dir, std::string("\x93NUMPY\1\0", 8), array),
                  "truncated");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f4", "False", "(2, 2)"), data).substr(0, 40),
               array),
      "truncated");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f4", "True", "(2, 2)"), data), array),
      "Fortran");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict(">f4", "False", "(2, 2)"), data), array),
      "big-endian");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f8", "False", "(2,)"), data), array),
      "unsupported dtype '<f8'");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f4", "False", "(3, 2)"), data), array),
      "truncated data");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f4", "False", "(3,)"), data), array),
      "after the array data");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy(dict("<f4", "False", "(2, -2)"), data), array),
      "shape");
  EXPECT_CONTAINS(readBack(dir,
                           makeNpy("{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (4,), 'extra': 1, }",
                                   data),
                           array),
                  "extra");
  EXPECT_CONTAINS(
      readBack(dir, makeNpy("{'descr': '<f4', 'shape': (4,), }", data), array),
      "lacks");
  EXPECT_CONTAINS(readBack(dir,
                           makeNpy("{'descr': [('a', '<f4')], "
                                   "'fortran_order': False, 'shape': (4,), }",
                                   data),
                           array),
                  "dtype");
  std::string badVersion = makeNpy(dict("<f4", "False", "(4,)"), data);
  badVersion[6] = 9;
  EXPECT_CONTAINS(readBack(dir, badVersion, array), "version");
}

TEST(Npy, WriteFailureLeavesNoFile) {
  std::string error;
  float value = 1;
  EXPECT_TRUE(
      !writeNpy("/nonexistent-dir/out.npy", NpyType::F32, {1}, &value, error));
  EXPECT_CONTAINS(error, "/nonexistent-dir/out.npy");
}
