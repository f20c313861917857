//===- Options.cpp - Compile options set by name ----------------*- C++ -*-===//
//
// This file implements setCompileOption, the one spelling of tmc-compile's
// options that the C API and other embedders set by name.
//
//===----------------------------------------------------------------------===//

#include "tmc/Compiler/Compiler.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tmc;

/// Parses "true"/"false" (and 1/0, on/off, yes/no; empty is true).
static std::optional<bool> parseBool(StringRef value) {
  std::string lower = value.lower();
  if (lower.empty() || lower == "true" || lower == "1" || lower == "on" ||
      lower == "yes")
    return true;
  if (lower == "false" || lower == "0" || lower == "off" || lower == "no")
    return false;
  return std::nullopt;
}

llvm::Error mlir::tmc::setCompileOption(CompileOptions &options,
                                        StringRef name, StringRef value) {
  auto error = [&](const llvm::Twine &message) {
    return llvm::createStringError(message);
  };
  auto setBool = [&](bool &field, bool negate = false) -> llvm::Error {
    std::optional<bool> parsed = parseBool(value);
    if (!parsed)
      return error("option '" + name + "' expects true or false, got '" +
                   value + "'");
    field = *parsed != negate;
    return llvm::Error::success();
  };
  auto setString = [&](std::string &field) {
    field = value.str();
    return llvm::Error::success();
  };
  auto setPositive = [&](int64_t &field) -> llvm::Error {
    int64_t parsed;
    if (value.getAsInteger(10, parsed) || parsed <= 0)
      return error("option '" + name + "' expects a positive integer, got '" +
                   value + "'");
    field = parsed;
    return llvm::Error::success();
  };

  if (name == "seq-len")
    return setPositive(options.seqLen);
  if (name == "attention-block-q")
    return setPositive(options.attentionBlockQ);
  if (name == "attention-block-k")
    return setPositive(options.attentionBlockK);
  if (name == "no-plan-buffers")
    return setBool(options.planBuffers, /*negate=*/true);
  if (name == "no-kernels")
    return setBool(options.useKernels, /*negate=*/true);
  if (name == "progress")
    return setBool(options.verbose);
  if (name == "train")
    return setBool(options.train);
  if (name == "target") {
    if (value != "cpu" && value != "cuda")
      return error("option 'target' expects cpu or cuda, got '" + value + "'");
    return setString(options.target);
  }
  if (name == "gpu-arch") {
    StringRef digits = value;
    if (!digits.consume_front("sm_") || digits.empty() ||
        !llvm::all_of(digits.drop_back(digits.ends_with("a") ? 1 : 0),
                      llvm::isDigit) ||
        digits == "a")
      return error("option 'gpu-arch' expects an NVIDIA architecture such as "
                   "sm_80 or sm_90, got '" + value + "'");
    return setString(options.gpuArch);
  }
  if (name == "gpu-attention") {
    if (value != "fused" && value != "tiles")
      return error("option 'gpu-attention' expects fused or tiles, got '" +
                   value + "'");
    return setString(options.gpuAttention);
  }
  if (name == "gpu-tensor-cores") {
    if (value != "auto" && value != "none" && value != "f16" &&
        value != "bf16" && value != "tf32")
      return error("option 'gpu-tensor-cores' expects auto, none, f16, "
                   "bf16 or tf32, got '" + value + "'");
    return setString(options.gpuTensorCores);
  }
  if (name == "gpu-decode-split") {
    int64_t split;
    if (value.getAsInteger(10, split) || split < 0)
      return error("option 'gpu-decode-split' expects a number of positions "
                   "(0: no split), got '" + value + "'");
    options.gpuDecodeSplit = split;
    return llvm::Error::success();
  }
  if (name == "gpu-kernel-options")
    return setString(options.gpuKernelOptions);
  if (name == "cuda-toolkit")
    return setString(options.cudaToolkit);
  if (name == "cpu")
    return setString(options.cpu);
  if (name == "weights-base-dir")
    return setString(options.weightsBaseDir);
  if (name == "runtime-dir")
    return setString(options.runtimeDir);
  if (name == "attention")
    return setString(options.attention);
  if (name == "quantize")
    return setString(options.quantize);
  if (name == "quantize-calibration")
    return setString(options.quantizeCalibration);
  if (name == "no-quantize-error")
    return setBool(options.quantizeError, /*negate=*/true);
  if (name == "prune")
    return setString(options.prune);
  if (name == "low-rank")
    return setString(options.lowRank);
  if (name == "low-rank-activation-aware")
    return setBool(options.lowRankActivationAware);
  if (name == "low-rank-calibration")
    return setString(options.lowRankCalibration);
  if (name == "linformer")
    return setPositive(options.linformer);
  if (name == "low-rank-force")
    return setBool(options.lowRankForce);
  if (name == "remat")
    return setString(options.remat);
  if (name == "memory-budget")
    return setString(options.memoryBudget);
  if (name == "loss")
    return setString(options.loss);
  if (name == "kv-cache")
    return setString(options.kvCache);
  if (name == "kv-sinks") {
    int64_t sinks;
    if (value.getAsInteger(10, sinks) || sinks < 0)
      return error("option 'kv-sinks' expects a number of positions, got '" +
                   value + "'");
    options.kvSinks = sinks;
    return llvm::Error::success();
  }
  if (name == "decode") {
    int64_t maxTokens = 0;
    if (!value.empty() && (value.getAsInteger(10, maxTokens) || maxTokens <= 0))
      return error("option 'decode' expects a positive number of tokens, got '" +
                   value + "'");
    options.decodeMaxTokens = maxTokens;
    return llvm::Error::success();
  }
  return error("unknown compile option '" + name +
               "' (known: seq-len, target, gpu-arch, gpu-attention, "
               "gpu-tensor-cores, gpu-decode-split, "
               "cuda-toolkit, cpu, "
               "no-kernels, no-plan-buffers, attention, attention-block-q, "
               "attention-block-k, quantize, quantize-calibration, "
               "no-quantize-error, prune, low-rank, low-rank-activation-aware, "
               "low-rank-calibration, low-rank-force, linformer, remat, "
               "memory-budget, train, loss, decode, kv-cache, kv-sinks, "
               "weights-base-dir, runtime-dir, progress)");
}
