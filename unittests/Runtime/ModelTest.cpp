//===- ModelTest.cpp - Tests of model loading and tmc-run -------*- C++ -*-===//
//
// This file loads the hand-written model of FakeModel.c through the C API and
// through tmc-run: a correct directory runs and gives the expected outputs;
// a weights.bin of the wrong size or hash, a missing file, a foreign ABI
// version and every kind of bad tmc-run argument are refused with a message
// that names the culprit.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "Harness.h"

#include "tmc-rt/Npy.h"
#include "tmc-rt/Runtime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/wait.h>

using namespace tmc::rt;
using namespace tmc::test;

namespace {

bool copyFile(const std::string &from, const std::string &to) {
  FILE *in = std::fopen(from.c_str(), "rb");
  if (!in)
    return false;
  std::vector<char> bytes;
  char chunk[65536];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), in)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + got);
  std::fclose(in);
  return writeFile(to, bytes.data(), bytes.size());
}

/// Fills `dir` with a model directory: the given model.so and weights.bin
/// (the correct weights, with `flipByte` >= 0 changing one byte and
/// `sizeDelta` shortening or lengthening the file).
bool makeModelDir(const TempDir &dir, const char *library, int flipByte = -1,
                  int sizeDelta = 0) {
  unsigned char weights[FAKE_WEIGHTS_BYTES + 16] = {};
  fakeModelWeights(weights);
  if (flipByte >= 0)
    weights[flipByte] ^= 0x5a;
  return copyFile(library, dir.file("model.so")) &&
         writeFile(dir.file("weights.bin"), weights,
                   size_t(FAKE_WEIGHTS_BYTES + sizeDelta));
}

/// The expected outputs of the fake model.
void referenceOutputs(const float *x, const int64_t *ids, float *y,
                      int64_t *idsOut) {
  unsigned char weights[FAKE_WEIGHTS_BYTES];
  fakeModelWeights(weights);
  const float *w = reinterpret_cast<const float *>(weights + FAKE_W_OFFSET);
  const float *b = reinterpret_cast<const float *>(weights + FAKE_B_OFFSET);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      float sum = b[j];
      for (int k = 0; k < 4; ++k)
        sum += x[i * 4 + k] * w[k * 3 + j];
      y[i * 3 + j] = sum;
    }
  for (int i = 0; i < 3; ++i)
    idsOut[i] = ids[i] + 1;
}

struct CommandResult {
  int exitCode = -1;
  std::string output;
};

/// Runs a shell command, capturing stdout and stderr together.
CommandResult runCommand(const std::string &command) {
  CommandResult result;
  FILE *pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    return result;
  char chunk[4096];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0)
    result.output.append(chunk, got);
  int status = pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return result;
}

const float kX[8] = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f, 1.0f, -1.0f, 2.0f};
const int64_t kIds[3] = {0, 41, 50256};

} // namespace

TEST(Model, LoadsAndRuns) {
  TempDir dir;
  ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO));
  char err[512] = "";
  tmc_model *model = tmc_model_load(dir.path().c_str(), err, sizeof(err));
  ASSERT_TRUE(model != nullptr);
  EXPECT_EQ(std::string(err), "");

  ASSERT_EQ(tmc_model_num_inputs(model), size_t(2));
  ASSERT_EQ(tmc_model_num_outputs(model), size_t(2));
  EXPECT_EQ(tmc_model_weights_size(model), uint64_t(FAKE_WEIGHTS_BYTES));
  EXPECT_EQ(tmc_model_arena_size(model), uint64_t(256));
  tmc_tensor_info info;
  ASSERT_EQ(tmc_model_input_info(model, 1, &info), TMC_OK);
  EXPECT_EQ(std::string(info.name), "ids");
  EXPECT_TRUE(info.dtype == TMC_DTYPE_I64);
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.dims[0], 1);
  EXPECT_EQ(info.dims[1], 3);
  EXPECT_EQ(info.num_elements, 3);
  EXPECT_EQ(info.num_bytes, uint64_t(24));
  ASSERT_EQ(tmc_model_output_info(model, 0, &info), TMC_OK);
  EXPECT_EQ(std::string(info.name), "y");
  EXPECT_EQ(info.num_bytes, uint64_t(24));
  EXPECT_EQ(tmc_model_input_info(model, 2, &info), TMC_ERROR_ARGUMENT);
  EXPECT_EQ(tmc_model_find_input(model, "x"), 0);
  EXPECT_EQ(tmc_model_find_output(model, "ids_out"), 1);
  EXPECT_EQ(tmc_model_find_output(model, "nope"), -1);
  EXPECT_CONTAINS(tmc_model_signature_text(model), "input x f32 2 2 4");

  alignas(64) float y[6];
  alignas(64) int64_t idsOut[3];
  const void *inputs[] = {kX, kIds};
  void *outputs[] = {y, idsOut};
  // Twice: the model keeps no state between runs.
  for (int run = 0; run < 2; ++run) {
    ASSERT_EQ(tmc_model_run(model, inputs, outputs, err, sizeof(err)), TMC_OK);
    float yRef[6];
    int64_t idsRef[3];
    referenceOutputs(kX, kIds, yRef, idsRef);
    for (int i = 0; i < 6; ++i)
      EXPECT_TRUE(std::fabs(y[i] - yRef[i]) <=
                  1e-5f * (1 + std::fabs(yRef[i])));
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(idsOut[i], idsRef[i]);
  }

  const void *missing[] = {kX, nullptr};
  EXPECT_EQ(tmc_model_run(model, missing, outputs, err, sizeof(err)),
            TMC_ERROR_ARGUMENT);
  EXPECT_CONTAINS(err, "ids");
  tmc_model_free(model);
}

TEST(Model, NoArena) {
  TempDir dir;
  ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_NOARENA_SO));
  char err[512];
  tmc_model *model = tmc_model_load(dir.path().c_str(), err, sizeof(err));
  ASSERT_TRUE(model != nullptr);
  EXPECT_EQ(tmc_model_arena_size(model), uint64_t(0));
  float y[6];
  int64_t idsOut[3];
  const void *inputs[] = {kX, kIds};
  void *outputs[] = {y, idsOut};
  ASSERT_EQ(tmc_model_run(model, inputs, outputs, err, sizeof(err)), TMC_OK);
  EXPECT_TRUE(!std::isnan(y[0]));
  tmc_model_free(model);
}

TEST(Model, RefusesMismatchedWeights) {
  char err[512];
  tmc_status status;
  {
    TempDir dir;
    ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO, /*flipByte=*/150));
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_EQ(status, TMC_ERROR_WEIGHTS);
    EXPECT_CONTAINS(err, dir.file("weights.bin"));
    EXPECT_CONTAINS(err, "hash");
  }
  for (int delta : {-1, 8}) {
    TempDir dir;
    ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO, -1, delta));
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_EQ(status, TMC_ERROR_WEIGHTS);
    EXPECT_CONTAINS(err, dir.file("weights.bin"));
    EXPECT_CONTAINS(err, "size");
  }
}

TEST(Model, RefusesBrokenDirectories) {
  char err[512];
  tmc_status status;
  {
    TempDir dir;
    EXPECT_TRUE(tmc_model_load_ex(dir.file("absent").c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_EQ(status, TMC_ERROR_IO);
    EXPECT_CONTAINS(err, "absent");
    // A directory without model.so.
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_CONTAINS(err, "model.so");
  }
  {
    TempDir dir;
    ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO));
    std::remove(dir.file("weights.bin").c_str());
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_EQ(status, TMC_ERROR_IO);
    EXPECT_CONTAINS(err, "weights.bin");
  }
  {
    TempDir dir;
    ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_ABI2_SO));
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_EQ(status, TMC_ERROR_ABI);
    EXPECT_CONTAINS(err, "ABI version 2");
  }
  {
    // Not a shared object at all.
    TempDir dir;
    ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO));
    ASSERT_TRUE(writeFile(dir.file("model.so"), "garbage", 7));
    EXPECT_TRUE(tmc_model_load_ex(dir.path().c_str(), &status, err,
                                  sizeof(err)) == nullptr);
    EXPECT_CONTAINS(err, "model.so");
  }
}

TEST(TmcRun, RunsAndWritesOutputs) {
  TempDir dir;
  ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO));
  std::string error;
  ASSERT_TRUE(writeNpy(dir.file("x.npy"), NpyType::F32, {2, 4}, kX, error));
  ASSERT_TRUE(writeNpy(dir.file("ids.npy"), NpyType::I64, {1, 3}, kIds, error));
  std::string base = std::string(TMC_RUN_PATH) + " " + dir.path();
  CommandResult result = runCommand(
      base + " --input x=" + dir.file("x.npy") + " --input=ids=" +
      dir.file("ids.npy") + " --output y=" + dir.file("y.npy") +
      " --output ids_out=" + dir.file("ids_out.npy") + " --repeat 3");
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_CONTAINS(result.output, "time per run: min");
  EXPECT_CONTAINS(result.output, "median");
  EXPECT_CONTAINS(result.output, "over 3 runs");
  EXPECT_CONTAINS(result.output, "peak RSS:");
  EXPECT_CONTAINS(result.output, "weights: 192 bytes");
  EXPECT_CONTAINS(result.output, "arena: 256 bytes");

  float yRef[6];
  int64_t idsRef[3];
  referenceOutputs(kX, kIds, yRef, idsRef);
  NpyArray y, idsOut;
  ASSERT_TRUE(readNpy(dir.file("y.npy"), y, error));
  ASSERT_TRUE(y.getShape() == std::vector<int64_t>({2, 3}));
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(std::fabs(static_cast<const float *>(y.getData())[i] -
                          yRef[i]) <= 1e-5f * (1 + std::fabs(yRef[i])));
  ASSERT_TRUE(readNpy(dir.file("ids_out.npy"), idsOut, error));
  EXPECT_TRUE(idsOut.getType() == NpyType::I64);
  EXPECT_EQ(static_cast<const int64_t *>(idsOut.getData())[2], idsRef[2]);
}

TEST(TmcRun, RefusesBadArguments) {
  TempDir dir;
  ASSERT_TRUE(makeModelDir(dir, FAKE_MODEL_SO));
  std::string error;
  ASSERT_TRUE(writeNpy(dir.file("x.npy"), NpyType::F32, {2, 4}, kX, error));
  ASSERT_TRUE(writeNpy(dir.file("ids.npy"), NpyType::I64, {1, 3}, kIds, error));
  ASSERT_TRUE(
      writeNpy(dir.file("x_short.npy"), NpyType::F32, {2, 3}, kX, error));
  ASSERT_TRUE(writeNpy(dir.file("ids32.npy"), NpyType::I32, {1, 3}, kX, error));
  std::string truncated = dir.file("truncated.npy");
  {
    NpyArray x;
    ASSERT_TRUE(readNpy(dir.file("x.npy"), x, error));
    FILE *in = std::fopen(dir.file("x.npy").c_str(), "rb");
    char bytes[256];
    size_t got = std::fread(bytes, 1, sizeof(bytes), in);
    std::fclose(in);
    ASSERT_TRUE(writeFile(truncated, bytes, got - 5));
  }
  std::string run = std::string(TMC_RUN_PATH) + " ";
  std::string model = dir.path() + " ";
  std::string ids = " --input ids=" + dir.file("ids.npy");

  struct Case {
    std::string args;
    std::string expected;
  } cases[] = {
      {model + "--input x=" + dir.file("x.npy"),
       "missing --input for model input 'ids'"},
      {model + "--input x=" + dir.file("x.npy") + ids +
           " --input z=" + dir.file("x.npy"),
       "no input named 'z'"},
      {model + "--input x=" + dir.file("x_short.npy") + ids,
       "expected [2, 4], got [2, 3]"},
      {model + "--input x=" + dir.file("x.npy") +
           " --input ids=" + dir.file("ids32.npy"),
       "dtype mismatch for input 'ids'"},
      {model + "--input x=" + dir.file("nothere.npy") + ids, "nothere.npy"},
      {model + "--input x=" + truncated + ids, "truncated"},
      {model + "--input x=" + dir.file("x.npy") + ids +
           " --output q=" + dir.file("q.npy"),
       "no output named 'q'"},
      {model + "--input x" + ids, "NAME=FILE"},
      {model + "--input x=" + dir.file("x.npy") + ids + " --repeat 0",
       "--repeat"},
      {model + "--bogus", "unknown option"},
      {dir.file("nomodel") + " --input x=" + dir.file("x.npy"), "nomodel"},
      {"", "no model directory"},
  };
  for (const Case &c : cases) {
    CommandResult result = runCommand(run + c.args);
    EXPECT_TRUE(result.exitCode != 0 && result.exitCode < 128);
    EXPECT_CONTAINS(result.output, c.expected);
    EXPECT_CONTAINS(result.output, "tmc-run: error:");
  }
  // A refused run writes no output file.
  EXPECT_TRUE(std::fopen(dir.file("q.npy").c_str(), "rb") == nullptr);

  CommandResult help = runCommand(run + "--help");
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_CONTAINS(help.output, "--repeat N");
}
