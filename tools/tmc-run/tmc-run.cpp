//===- tmc-run.cpp - Run a compiled model on .npy inputs --------*- C++ -*-===//
//
// This file implements tmc-run, which loads a directory written by
// tmc-compile through the runtime library, feeds it NumPy .npy inputs, runs
// it one or more times, writes the requested outputs as .npy files and prints
// the time per run and the peak resident memory. It links only libtmcrt.
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
#include <string>
#include <vector>

#include <sys/resource.h>

using namespace tmc::rt;

namespace {

const char *const kUsage =
    R"(usage: tmc-run OUTDIR --input NAME=FILE.npy ...
               [--output NAME=FILE.npy ...] [--repeat N]
               [--reference NAME=FILE.npy ... [--rtol R]] [--profile]

Runs the compiled model in OUTDIR (a directory written by tmc-compile) on
NumPy .npy inputs.

  OUTDIR                 the compiled model: model.so, weights.bin, ...
  --input NAME=FILE      the value of model input NAME; every input is required.
                         The file must be a little-endian, C-order .npy with the
                         input's dtype and shape (f32 <f4, f16 <f2, bf16 <u2 bit
                         patterns, i64 <i8, i32 <i4, i8 |i1 or |b1)
  --output NAME=FILE     write model output NAME to FILE as .npy (optional,
                         repeatable; outputs not named are computed and dropped)
  --repeat N             run the model N times (default 1) and report the
                         minimum and median time per run
  --reference NAME=FILE  compare f32 output NAME with FILE (e.g. the CPU
                         build's output): prints the largest absolute error
                         and the relative error max|out - ref| / max|ref|,
                         and exits non-zero when it exceeds --rtol
  --rtol R               relative error allowed by --reference (default 1e-3)
  --profile              CUDA models: after the timed runs, run once more
                         with every kernel launch timed on the GPU and print
                         the kernel time per source op and the 15 slowest
                         kernels with the op and location they come from
  -h, --help             show this help

Prints the model's inputs and outputs, the weights and arena sizes, the wall
time per run (min and median, in ms) and the peak resident set size (MiB).
Exits non-zero, with a one-line message, on any error.
)";

struct Binding {
  std::string name;
  std::string path;
};

[[noreturn]] void die(const std::string &message, int code = 1) {
  std::fprintf(stderr, "tmc-run: error: %s\n", message.c_str());
  std::exit(code);
}

[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "tmc-run: error: %s\n", message.c_str());
  std::fprintf(stderr, "run 'tmc-run --help' for usage\n");
  std::exit(2);
}

Binding parseBinding(const std::string &option, const std::string &value) {
  size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    usageError(option + " expects NAME=FILE.npy, got '" + value + "'");
  return {value.substr(0, eq), value.substr(eq + 1)};
}

/// The .npy element type that carries model dtype `dtype`.
NpyType npyTypeFor(tmc_dtype dtype) {
  switch (dtype) {
  case TMC_DTYPE_F32:
    return NpyType::F32;
  case TMC_DTYPE_F16:
    return NpyType::F16;
  case TMC_DTYPE_BF16:
    return NpyType::U16;
  case TMC_DTYPE_I64:
    return NpyType::I64;
  case TMC_DTYPE_I32:
    return NpyType::I32;
  case TMC_DTYPE_I8:
    return NpyType::I8;
  }
  return NpyType::F32;
}

bool acceptsNpyType(tmc_dtype dtype, NpyType type) {
  if (dtype == TMC_DTYPE_I8)
    return type == NpyType::I8 || type == NpyType::Bool;
  return type == npyTypeFor(dtype);
}

std::vector<int64_t> dimsOf(const tmc_tensor_info &info) {
  return std::vector<int64_t>(info.dims, info.dims + info.rank);
}

std::string describe(const tmc_tensor_info &info) {
  return std::string(tmc_dtype_name(info.dtype)) + " " +
         formatShape(dimsOf(info));
}

std::string listNames(const tmc_model *model, bool inputs) {
  std::string names;
  size_t count =
      inputs ? tmc_model_num_inputs(model) : tmc_model_num_outputs(model);
  for (size_t i = 0; i < count; ++i) {
    tmc_tensor_info info;
    if (inputs)
      tmc_model_input_info(model, i, &info);
    else
      tmc_model_output_info(model, i, &info);
    names += (i ? ", " : "") + std::string(info.name);
  }
  return names.empty() ? "none" : names;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

} // namespace

int main(int argc, char **argv) {
  std::string modelDir;
  std::vector<Binding> inputBindings, outputBindings, referenceBindings;
  long repeat = 1;
  double rtol = 1e-3;
  bool profile = false;

  tmc::tools::CommandLine args(argc, argv, usageError);
  while (args.next()) {
    if (args.arg() == "-h" || args.arg() == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.is("--input")) {
      inputBindings.push_back(parseBinding("--input", args.value("--input")));
    } else if (args.is("--output")) {
      outputBindings.push_back(
          parseBinding("--output", args.value("--output")));
    } else if (args.is("--reference")) {
      referenceBindings.push_back(
          parseBinding("--reference", args.value("--reference")));
    } else if (args.is("--rtol")) {
      std::string value = args.value("--rtol");
      char *end = nullptr;
      rtol = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(rtol >= 0))
        usageError("--rtol expects a non-negative number, got '" + value + "'");
    } else if (args.arg() == "--profile") {
      profile = true;
    } else if (args.is("--repeat")) {
      std::string value = args.value("--repeat");
      char *end = nullptr;
      repeat = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || repeat < 1 || repeat > 1000000)
        usageError("--repeat expects a positive integer, got '" + value + "'");
    } else {
      args.takeModelDirectory(modelDir);
    }
  }
  if (modelDir.empty())
    usageError("no model directory given");

  char err[1024];
  auto loadStart = std::chrono::steady_clock::now();
  tmc_model *model = tmc_model_load(modelDir.c_str(), err, sizeof(err));
  if (!model)
    die(err);
  if (profile && std::strcmp(tmc_model_target_text(model), "cpu") == 0)
    die("--profile times GPU kernels: " + modelDir + " is a CPU model");
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - loadStart)
                      .count();

  tmc_decoder_info decoder;
  if (tmc_decoder_get_info(model, &decoder) == TMC_OK)
    die(modelDir + ": a decoding build (tmc-compile --decode) runs with "
                   "tmc-generate");
  size_t numInputs = tmc_model_num_inputs(model);
  size_t numOutputs = tmc_model_num_outputs(model);

  // Bind and read the inputs.
  std::vector<NpyArray> inputs(numInputs);
  std::vector<bool> bound(numInputs, false);
  for (const Binding &binding : inputBindings) {
    int64_t index = tmc_model_find_input(model, binding.name.c_str());
    if (index < 0)
      die("--input " + binding.name + ": the model has no input named '" +
          binding.name + "' (inputs: " + listNames(model, true) + ")");
    if (bound[index])
      die("--input " + binding.name + " given more than once");
    bound[index] = true;
    tmc_tensor_info info;
    tmc_model_input_info(model, size_t(index), &info);
    std::string error;
    if (!readNpy(binding.path, inputs[index], error))
      die(error);
    const NpyArray &array = inputs[index];
    if (!acceptsNpyType(info.dtype, array.getType()))
      die(binding.path + ": dtype mismatch for input '" + binding.name +
          "': expected " + getNpyDescr(npyTypeFor(info.dtype)) + " (" +
          tmc_dtype_name(info.dtype) + "), got " +
          getNpyDescr(array.getType()));
    if (array.getShape() != dimsOf(info))
      die(binding.path + ": shape mismatch for input '" + binding.name +
          "': expected " + formatShape(dimsOf(info)) + ", got " +
          formatShape(array.getShape()));
  }
  for (size_t i = 0; i < numInputs; ++i)
    if (!bound[i]) {
      tmc_tensor_info info;
      tmc_model_input_info(model, i, &info);
      die(std::string("missing --input for model input '") + info.name + "' (" +
          describe(info) + ")");
    }

  // Check the requested outputs and allocate every output.
  std::vector<int64_t> outputFor(outputBindings.size());
  for (size_t b = 0; b < outputBindings.size(); ++b) {
    const Binding &binding = outputBindings[b];
    int64_t index = tmc_model_find_output(model, binding.name.c_str());
    if (index < 0)
      die("--output " + binding.name + ": the model has no output named '" +
          binding.name + "' (outputs: " + listNames(model, false) + ")");
    outputFor[b] = index;
  }
  // Read the references before running, so that a bad file fails early.
  std::vector<NpyArray> references(referenceBindings.size());
  std::vector<int64_t> referenceFor(referenceBindings.size());
  for (size_t b = 0; b < referenceBindings.size(); ++b) {
    const Binding &binding = referenceBindings[b];
    int64_t index = tmc_model_find_output(model, binding.name.c_str());
    if (index < 0)
      die("--reference " + binding.name + ": the model has no output named '" +
          binding.name + "' (outputs: " + listNames(model, false) + ")");
    referenceFor[b] = index;
    tmc_tensor_info info;
    tmc_model_output_info(model, size_t(index), &info);
    if (info.dtype != TMC_DTYPE_F32)
      die("--reference " + binding.name + ": only f32 outputs can be "
          "compared, this one is " + tmc_dtype_name(info.dtype));
    std::string error;
    if (!readNpy(binding.path, references[b], error))
      die(error);
    if (references[b].getType() != NpyType::F32 ||
        references[b].getShape() != dimsOf(info))
      die(binding.path + ": the reference for '" + binding.name +
          "' must be f32 (<f4) of shape " + formatShape(dimsOf(info)));
  }

  std::vector<NpyArray> outputs(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i) {
    tmc_tensor_info info;
    tmc_model_output_info(model, i, &info);
    if (!outputs[i].allocate(npyTypeFor(info.dtype), dimsOf(info)))
      die(std::string("out of memory for output '") + info.name + "'");
  }

  std::vector<const void *> inputPtrs;
  for (NpyArray &array : inputs)
    inputPtrs.push_back(array.getData());
  std::vector<void *> outputPtrs;
  for (NpyArray &array : outputs)
    outputPtrs.push_back(array.getData());

  std::vector<double> times;
  for (long r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    if (tmc_model_run(model, inputPtrs.data(), outputPtrs.data(), err,
                      sizeof(err)) != TMC_OK)
      die(err);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }

  for (size_t b = 0; b < outputBindings.size(); ++b) {
    const NpyArray &array = outputs[outputFor[b]];
    std::string error;
    if (!writeNpy(outputBindings[b].path, array.getType(), array.getShape(),
                  array.getData(), error))
      die(error);
  }

  std::sort(times.begin(), times.end());
  double median =
      times.size() % 2
          ? times[times.size() / 2]
          : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);

  std::printf("model: %s\n", modelDir.c_str());
  std::printf("target: %s\n", tmc_model_target_text(model));
  bool onDevice = std::strcmp(tmc_model_target_text(model), "cpu") != 0;
  if (onDevice) {
    char device[256];
    tmc_model_device_name(model, device, sizeof(device));
    std::printf("device: %s\n", device);
  }
  for (size_t i = 0; i < numInputs; ++i) {
    tmc_tensor_info info;
    tmc_model_input_info(model, i, &info);
    std::printf("  input  %s: %s\n", info.name, describe(info).c_str());
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    tmc_tensor_info info;
    tmc_model_output_info(model, i, &info);
    std::printf("  output %s: %s\n", info.name, describe(info).c_str());
  }
  uint64_t weightsBytes = tmc_model_weights_size(model);
  uint64_t arenaBytes = tmc_model_arena_size(model);
  std::printf("weights: %" PRIu64 " bytes (%.2f MiB)\n", weightsBytes,
              mib(double(weightsBytes)));
  std::printf("arena: %" PRIu64 " bytes (%.2f MiB)\n", arenaBytes,
              mib(double(arenaBytes)));
  std::printf("load: %.3f ms\n", loadMs);
  if (onDevice)
    std::printf("time per run: min %.3f ms, median %.3f ms over %ld run%s "
                "(including the copies of inputs and outputs)\n",
                times.front(), median, repeat, repeat == 1 ? "" : "s");
  else
    std::printf("time per run: min %.3f ms, median %.3f ms over %ld run%s "
                "(%d thread%s, %s kernels)\n",
                times.front(), median, repeat, repeat == 1 ? "" : "s",
                tmc_rt_num_threads(), tmc_rt_num_threads() == 1 ? "" : "s",
                tmc_rt_matmul_isa());
  std::printf("peak RSS: %.2f MiB\n",
              mib(double(tmc_rt_peak_resident_bytes())));
  for (size_t b = 0; b < outputBindings.size(); ++b)
    std::printf("wrote %s: %s\n", outputBindings[b].name.c_str(),
                outputBindings[b].path.c_str());

  if (profile) {
    std::string error;
    if (tmc_model_profile_start(model, err, sizeof(err)) != TMC_OK ||
        tmc_model_run(model, inputPtrs.data(), outputPtrs.data(), err,
                      sizeof(err)) != TMC_OK)
      die(err);
    if (!tmc::tools::printKernelProfile(model, modelDir, "1 run", 15, error))
      die(error);
  }

  bool mismatch = false;
  for (size_t b = 0; b < referenceBindings.size(); ++b) {
    const NpyArray &out = outputs[referenceFor[b]];
    const NpyArray &ref = references[b];
    size_t count = 1;
    for (int64_t dim : ref.getShape())
      count *= size_t(dim);
    mismatch |= !tmc::tools::compareWithReference(
        referenceBindings[b].name.c_str(),
        static_cast<const float *>(out.getData()),
        static_cast<const float *>(ref.getData()), count, rtol);
  }

  tmc_model_free(model);
  return mismatch ? 2 : 0;
}
