//===- tmc-generate.cpp - Generate tokens with a decoding build -*- C++ -*-===//
//
// This file implements tmc-generate: it loads a model compiled with
// `tmc-compile --decode`, runs the prompt through the prefill entry point,
// then generates tokens one decode step at a time over the KV cache (greedy,
// or sampled with top-k and a temperature), and prints the ids, the tokens
// per second of both phases and the peak resident memory. It links only
// libtmcrt.
//
//===----------------------------------------------------------------------===//

#include "tmc-rt/Npy.h"
#include "tmc-rt/Runtime.h"

#include "CommandLine.h"
#include "Compare.h"
#include "Profile.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace tmc::rt;

namespace {

const char *kUsage =
    "usage: tmc-generate OUTDIR --input-ids FILE.npy --max-new-tokens N\n"
    "                    [--top-k K] [--temperature T] [--seed S]\n"
    "                    [--output FILE.npy] [--logits-output FILE.npy]\n"
    "                    [--follow IDS.npy] [--reference LOGITS.npy [--rtol R]]\n"
    "                    [--profile] [--quiet]\n"
    "\n"
    "Generates N tokens after the prompt FILE.npy (int64 [1, S] or [S]) with\n"
    "a model compiled by `tmc-compile --decode`: the prompt fills the KV\n"
    "cache in chunks (prefill), then each new token is one decode step.\n"
    "Greedy by default; --top-k K (0: all tokens) and --temperature T sample\n"
    "from softmax(logits / T) over the K most likely tokens with the seed S.\n"
    "Prints the generated ids, tokens per second of prefill and decode, the\n"
    "cache size and the peak resident memory.\n"
    "  --output FILE.npy         write the new ids as int64 [1, N]\n"
    "  --logits-output FILE.npy  write the logits each token was chosen from,\n"
    "                            f32 [N, vocab]\n"
    "  --follow IDS.npy          take the new tokens from IDS.npy (int64, at\n"
    "                            least N, e.g. another build's --output)\n"
    "                            instead of choosing them: every step then\n"
    "                            sees the same tokens as that build\n"
    "  --reference LOGITS.npy    compare the logits of every step with\n"
    "                            LOGITS.npy (f32 [N, vocab], another build's\n"
    "                            --logits-output): prints the largest error\n"
    "                            relative to the reference's largest\n"
    "                            magnitude, exits 2 when it exceeds --rtol\n"
    "  --rtol R                  relative error allowed by --reference\n"
    "                            (default 1e-3)\n"
    "  --profile                 CUDA builds: afterwards, prefill again and\n"
    "                            replay the decode steps with every kernel\n"
    "                            launch timed on the GPU; print the kernel\n"
    "                            time per source op and the 15 slowest\n"
    "                            kernels (the timings above are unaffected)\n"
    "  --quiet                   print only the ids\n";

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "tmc-generate: %s\n", message.c_str());
  std::exit(1);
}

[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "tmc-generate: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

/// Parses a whole decimal number in [lo, hi] or exits.
long long parseInteger(const std::string &option, const std::string &value,
                       long long lo, long long hi) {
  char *end = nullptr;
  long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < lo || parsed > hi)
    usageError(option + " expects an integer in [" + std::to_string(lo) +
               ", " + std::to_string(hi) + "], got '" + value + "'");
  return parsed;
}

/// Chooses the next token from `logits`: the largest (greedy), or sampled.
int64_t chooseToken(const std::vector<float> &logits, long long topK,
                    double temperature, std::mt19937_64 &rng) {
  int64_t vocab = int64_t(logits.size());
  if (topK == 0 && temperature <= 0.0)
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = topK > 0 ? std::min<int64_t>(topK, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  double t = temperature > 0.0 ? temperature : 1.0;
  std::vector<double> weights(k);
  for (int64_t i = 0; i < k; ++i)
    weights[i] = std::exp((logits[order[i]] - logits[order[0]]) / t);
  std::discrete_distribution<int64_t> pick(weights.begin(), weights.end());
  return order[pick(rng)];
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

/// Reads token ids (int64 [1, S] or [S], S > 0) from `path` or exits.
NpyArray readIds(const std::string &path) {
  NpyArray ids;
  std::string error;
  if (!readNpy(path, ids, error))
    die(error);
  if (ids.getType() != NpyType::I64)
    die(path + ": token ids must be int64 (<i8), got " +
        getNpyDescr(ids.getType()));
  const std::vector<int64_t> &shape = ids.getShape();
  bool rowVector = shape.size() == 2 && shape[0] == 1;
  if (!(shape.size() == 1 || rowVector) || ids.getNumElements() == 0)
    die(path + ": expected token ids of shape [1, S] or [S] with S > 0, "
               "got " + formatShape(shape));
  return ids;
}

} // namespace

int main(int argc, char **argv) {
  std::string modelDir, idsPath, outputPath, logitsPath, followPath,
      referencePath;
  long long maxNew = -1, topK = 0, seed = 0;
  double temperature = 0.0, rtol = 1e-3;
  bool quiet = false, profile = false;
  tmc::tools::CommandLine args(argc, argv, usageError);
  while (args.next()) {
    if (args.arg() == "-h" || args.arg() == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.is("--input-ids")) {
      idsPath = args.value("--input-ids");
    } else if (args.is("--max-new-tokens")) {
      maxNew = parseInteger("--max-new-tokens", args.value("--max-new-tokens"),
                            1, 1 << 30);
    } else if (args.is("--top-k")) {
      topK = parseInteger("--top-k", args.value("--top-k"), 0, 1 << 30);
    } else if (args.is("--seed")) {
      seed = parseInteger("--seed", args.value("--seed"), 0, INT64_MAX);
    } else if (args.is("--temperature")) {
      std::string value = args.value("--temperature");
      char *end = nullptr;
      temperature = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(temperature > 0.0))
        usageError("--temperature expects a positive number, got '" + value +
                   "'");
    } else if (args.is("--output")) {
      outputPath = args.value("--output");
    } else if (args.is("--logits-output")) {
      logitsPath = args.value("--logits-output");
    } else if (args.is("--follow")) {
      followPath = args.value("--follow");
    } else if (args.is("--reference")) {
      referencePath = args.value("--reference");
    } else if (args.is("--rtol")) {
      std::string value = args.value("--rtol");
      char *end = nullptr;
      rtol = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(rtol >= 0))
        usageError("--rtol expects a non-negative number, got '" + value +
                   "'");
    } else if (args.arg() == "--quiet") {
      quiet = true;
    } else if (args.arg() == "--profile") {
      profile = true;
    } else {
      args.takeModelDirectory(modelDir);
    }
  }
  if (modelDir.empty())
    usageError("no model directory given");
  if (idsPath.empty())
    usageError("no prompt given (--input-ids FILE.npy)");
  if (maxNew < 0)
    usageError("no --max-new-tokens given");

  std::string error;
  NpyArray prompt = readIds(idsPath);
  NpyArray follow;
  if (!followPath.empty()) {
    follow = readIds(followPath);
    if (follow.getNumElements() < maxNew)
      die(followPath + ": " + std::to_string(follow.getNumElements()) +
          " ids to follow, fewer than --max-new-tokens " +
          std::to_string(maxNew));
  }

  char err[1024];
  tmc_model *model = tmc_model_load(modelDir.c_str(), err, sizeof(err));
  if (!model)
    die(err);
  if (profile && std::strcmp(tmc_model_target_text(model), "cpu") == 0)
    die("--profile times GPU kernels: " + modelDir + " is a CPU build");
  tmc_decoder_info info;
  if (tmc_decoder_get_info(model, &info) != TMC_OK)
    die(modelDir + ": not a decoding build (compile it with tmc-compile "
                   "--decode)");
  NpyArray reference;
  if (!referencePath.empty()) {
    if (!readNpy(referencePath, reference, error))
      die(error);
    std::vector<int64_t> expected = {maxNew, info.vocab};
    if (reference.getType() != NpyType::F32 ||
        reference.getShape() != expected)
      die(referencePath + ": expected the logits of every step, f32 " +
          formatShape(expected) + ", got " +
          getNpyDescr(reference.getType()) + " " +
          formatShape(reference.getShape()));
  }

  const int64_t *ids = static_cast<const int64_t *>(prompt.getData());
  size_t promptLength = size_t(prompt.getNumElements());
  std::vector<float> logits(size_t(info.vocab));
  std::vector<int64_t> generated;
  std::vector<float> chosenFrom;
  std::mt19937_64 rng{static_cast<uint64_t>(seed)};

  auto now = [] { return std::chrono::steady_clock::now(); };
  auto ms = [](auto a, auto b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  auto t0 = now();
  if (tmc_decoder_prefill(model, ids, promptLength, logits.data(), err,
                          sizeof(err)) != TMC_OK)
    die(err);
  auto t1 = now();
  const int64_t *followIds =
      followPath.empty() ? nullptr
                         : static_cast<const int64_t *>(follow.getData());
  bool keepLogits = !logitsPath.empty() || !referencePath.empty();
  auto record = [&] {
    generated.push_back(followIds
                            ? followIds[generated.size()]
                            : chooseToken(logits, topK, temperature, rng));
    if (keepLogits)
      chosenFrom.insert(chosenFrom.end(), logits.begin(), logits.end());
  };
  record();
  while (generated.size() < size_t(maxNew)) {
    if (tmc_decoder_step(model, generated.back(), logits.data(), err,
                         sizeof(err)) != TMC_OK)
      die(err);
    record();
  }
  auto t2 = now();

  for (size_t i = 0; i < generated.size(); ++i)
    std::printf("%s%" PRId64, i ? " " : "", generated[i]);
  std::printf("\n");
  if (!outputPath.empty() &&
      !writeNpy(outputPath, NpyType::I64, {1, int64_t(generated.size())},
                generated.data(), error))
    die(error);
  if (!logitsPath.empty() &&
      !writeNpy(logitsPath, NpyType::F32,
                {int64_t(generated.size()), info.vocab}, chosenFrom.data(),
                error))
    die(error);
  if (!quiet) {
    double prefillMs = ms(t0, t1), decodeMs = ms(t1, t2);
    size_t steps = generated.size() - 1;
    std::printf("prefill: %zu tokens in %.3f ms (%.1f tokens/s)\n",
                promptLength, prefillMs, promptLength * 1000.0 / prefillMs);
    if (steps)
      std::printf("decode: %zu tokens in %.3f ms (%.1f tokens/s)\n", steps,
                  decodeMs, steps * 1000.0 / decodeMs);
    std::printf("kv cache: %s, %" PRIu64 " bytes (%.2f MiB), %s%" PRId64
                " positions%s\n",
                info.cache_type, info.cache_bytes,
                mib(double(info.cache_bytes)),
                info.max_tokens ? "" : "window of ",
                info.max_tokens ? info.max_tokens : info.window,
                info.sinks ? " plus sinks" : "");
    std::printf("weights: %.2f MiB, arena: %.2f MiB\n",
                mib(double(tmc_model_weights_size(model))),
                mib(double(tmc_model_arena_size(model))));
    std::printf("peak RSS: %.2f MiB\n",
                mib(double(tmc_rt_peak_resident_bytes())));
    if (std::strcmp(tmc_model_target_text(model), "cpu") != 0) {
      char device[256];
      tmc_model_device_name(model, device, sizeof(device));
      std::printf("target: %s, device: %s\n", tmc_model_target_text(model),
                  device);
    }
  }
  if (profile) {
    // The same tokens again, the decode steps timed kernel by kernel.
    tmc_decoder_reset(model);
    if (tmc_decoder_prefill(model, ids, promptLength, logits.data(), err,
                            sizeof(err)) != TMC_OK ||
        tmc_model_profile_start(model, err, sizeof(err)) != TMC_OK)
      die(err);
    for (size_t i = 0; i + 1 < generated.size(); ++i)
      if (tmc_decoder_step(model, generated[i], logits.data(), err,
                           sizeof(err)) != TMC_OK)
        die(err);
    if (!tmc::tools::printKernelProfile(
            model, modelDir,
            std::to_string(generated.size() - 1) + " decode steps", 15, error))
      die(error);
  }
  bool ok = true;
  if (!referencePath.empty())
    ok = tmc::tools::compareWithReference(
        "logits", chosenFrom.data(),
        static_cast<const float *>(reference.getData()), chosenFrom.size(),
        rtol);
  tmc_model_free(model);
  return ok ? 0 : 2;
}
