//===- Compiler.h - Compile a tfm model to a model directory ----*- C++ -*-===//
//
// This file declares the driver that turns a tfm module into the files of a
// compiled model (docs/ABI.md): code, header, packed weights and report.
// tmc-compile is a thin command line over it; embedders call it directly.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_COMPILER_COMPILER_H
#define TMC_COMPILER_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace mlir {
namespace tmc {

/// What to compile and where to put it.
struct CompileOptions {
  /// Directory to write the compiled model into (created if needed).
  std::string outputDir;
  /// Static sequence length given to the model's dynamic dimensions.
  int64_t seqLen = 128;
  /// Directory against which a relative `tfm.weights_file` resolves
  /// (normally the directory of the model file).
  std::string weightsBaseDir;
  /// LLVM CPU name to generate code for ("native": this machine's).
  std::string cpu = "native";
  /// Directory holding TMC's runtime library (libtmcrt.so), which the
  /// compiled model links against and which is copied next to it.
  std::string runtimeDir;
  /// Attention sparsity pattern (tfm-sparsify-attention's `pattern`), empty
  /// to keep what the model says.
  std::string attention;
  /// Pruning scheme (tfm-prune's `scheme`).
  std::string prune = "none";
  /// Weight quantization scheme (tfm-quantize's `scheme`).
  std::string quantize = "none";
  /// Calibration token ids (.npy, int64 [1, S]) on which tfm-quantize
  /// measures the output error (empty: random tokens).
  std::string quantizeCalibration;
  /// Measure that output error at all (it costs a reference evaluation
  /// holding the fp32 and the dequantized weights).
  bool quantizeError = true;
  /// Attention tile sizes (queries x keys).
  int64_t attentionBlockQ = 64;
  int64_t attentionBlockK = 64;
  /// Code generation target: "cpu" or "cuda".
  std::string target = "cpu";
  /// NVIDIA architecture of the kernels with target "cuda" (sm_80, sm_90...).
  std::string gpuArch = "sm_90";
  /// CUDA toolkit directory (ptxas, libdevice); empty: $CUDA_HOME,
  /// $CUDA_ROOT, then /usr/local/cuda.
  std::string cudaToolkit;
  /// Attention with target "cuda": "fused" (one kernel per attention op,
  /// each block owning a query tile) or "tiles" (host loops over the tiles,
  /// launching the kernels of each tile's linalg ops).
  std::string gpuAttention = "fused";
  /// Tensor cores with target "cuda": "auto" (matmuls of f16 and bf16
  /// weights, and the attention of such builds, on tensor cores), "none"
  /// (no tensor cores: f32 activations throughout), or "f16"/"bf16" (as
  /// auto, and attention on tensor cores with that operand type whatever
  /// the weights).
  std::string gpuTensorCores = "auto";
  /// KV-cache attention of a "cuda" decoding build: longer contexts are cut
  /// into pieces of this many positions, each computed by blocks of its
  /// own, then combined (flash-decoding); 0: a block per query and
  /// key/value head. Unset: kDefaultGpuDecodeSplit.
  std::optional<int64_t> gpuDecodeSplit;
  static constexpr int64_t kDefaultGpuDecodeSplit = 256;
  /// With target "cuda": `tmc-cuda-pipeline` options (e.g. "matmul-tile=8
  /// attention-threads=128"), applied over what the other fields set, to
  /// try other kernel shapes.
  std::string gpuKernelOptions;
  /// Low-rank factorization (tfm-low-rank's `scheme`).
  std::string lowRank = "none";
  /// Activation-aware low-rank factorization, calibrated on
  /// `lowRankCalibration` (token ids .npy; empty: random tokens).
  bool lowRankActivationAware = false;
  /// Linformer projection length of non-causal attention (0: off).
  int64_t linformer = 0;
  /// Factorize also the layers where that saves no bytes (tests).
  bool lowRankForce = false;
  std::string lowRankCalibration;
  /// Rematerialization mode and the activation memory budget it fits.
  std::string remat = "none";
  std::string memoryBudget;
  /// Emit a training step instead of inference (tfm-autodiff), with this
  /// loss: cross_entropy, mse or kl_div[:T] (empty: the model's default).
  bool train = false;
  std::string loss;
  /// Emit prefill and decode-step entry points with a KV cache of this many
  /// tokens (0: the model's maximum positions); unset: plain inference.
  std::optional<int64_t> decodeMaxTokens;
  /// Storage of the KV cache (f32, int8, int4) and the attention-sink
  /// positions kept beside a sliding window, for a decoding build.
  std::string kvCache = "f32";
  int64_t kvSinks = 0;
  /// Call TMC's GEMM kernels for matmuls (otherwise loops).
  bool useKernels = true;
  /// Place intermediate buffers in one planned arena (otherwise each is a
  /// heap allocation and the arena is empty).
  bool planBuffers = true;
  /// Apply the pass manager's command-line options (-mlir-timing,
  /// -mlir-print-ir-after, ...): for tools that registered them with
  /// `mlir::registerPassManagerCLOptions()`.
  bool applyPassManagerCLOptions = false;
  /// Print one progress line per stage on stderr.
  bool verbose = false;
};

/// Sets the option spelled `name` (tmc-compile's flag without its dashes:
/// "seq-len", "target", "gpu-arch", "gpu-attention", "gpu-tensor-cores",
/// "gpu-decode-split", "gpu-kernel-options",
/// "cuda-toolkit", "cpu",
/// "no-kernels",
/// "no-plan-buffers", "attention", "attention-block-q", "attention-block-k",
/// "quantize", "quantize-calibration", "no-quantize-error", "prune",
/// "low-rank", "low-rank-activation-aware", "low-rank-calibration",
/// "low-rank-force", "linformer", "remat", "memory-budget", "train", "loss",
/// "decode", "kv-cache", "kv-sinks", "weights-base-dir", "runtime-dir",
/// "progress") to `value`. Booleans take true/false (1/0,
/// on/off, yes/no; empty is true). Fails on an unknown name or a malformed
/// value; the transform options' values are checked by their passes.
llvm::Error setCompileOption(CompileOptions &options, StringRef name,
                             StringRef value);

/// Compiles `module` (a tfm model, consumed) into `options.outputDir`:
/// runs the CPU pipeline, emits an object file in-process with an LLVM
/// TargetMachine, links `model.so` against TMC's runtime, writes `model.h`,
/// `weights.bin` and `report.json`. With target "cuda" it runs the CUDA
/// pipeline instead, writes the kernels' PTX and cubin (ptxas), embeds the
/// cubin in the host code and links `model.so` against libtmcrt_cuda.so
/// (docs/GPU.md). Diagnostics go to the module's context;
/// options naming what this version cannot do are refused before any work.
LogicalResult compileModel(ModuleOp module, const CompileOptions &options);

} // namespace tmc
} // namespace mlir

#endif // TMC_COMPILER_COMPILER_H
