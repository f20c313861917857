//===- Pipelines.h - TMC's compilation pipelines ----------------*- C++ -*-===//
//
// This file declares the public functions that build TMC's compilation
// pipelines (the front shared by every target, the CPU pipeline and the CUDA
// pipeline), used by tmc-opt, tmc-compile and embedders alike.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_PIPELINES_PIPELINES_H
#define TMC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;

namespace tmc {

/// Options of the target-independent front of every pipeline (tfm
/// transforms, weights, lowering to linalg, bufferization, buffer planning);
/// each is also a pipeline option of `tmc-opt --tmc-cpu-pipeline` and
/// `--tmc-cuda-pipeline` and a flag of tmc-compile.
/// `Derived` is the pipeline's own options struct, so that
/// `Derived::createFromString` returns it.
template <typename Derived>
struct TmcFrontOptions : public PassPipelineOptions<Derived> {
  template <typename T>
  using Option = detail::PassOptions::Option<T>;

  Option<int64_t> seqLen{*this, "seq-len",
                         llvm::cl::desc("Static sequence length (0 keeps the "
                                        "model's shapes as they are)"),
                         llvm::cl::init(128)};
  Option<std::string> weightsOutput{
      *this, "weights-output",
      llvm::cl::desc("Path of the packed weights file to write (empty: "
                     "compute the hash only)"),
      llvm::cl::init("")};
  Option<std::string> weightsBaseDir{
      *this, "weights-base-dir",
      llvm::cl::desc("Directory against which a relative tfm.weights_file "
                     "resolves"),
      llvm::cl::init("")};
  Option<std::string> attention{
      *this, "attention",
      llvm::cl::desc("Attention sparsity pattern for every attention op: "
                     "dense, window:W, dilated:W,D, strided:S[,C], "
                     "bigbird:W,G,R[,B[,SEED]] (tfm-sparsify-attention)"),
      llvm::cl::init("")};
  Option<std::string> quantize{
      *this, "quantize",
      llvm::cl::desc("Weight quantization of linear layers: none, int8, "
                     "int4[:gN][:asym][:f16], ternary, binary, fp16, bf16 "
                     "(tfm-quantize)"),
      llvm::cl::init("none")};
  Option<std::string> quantizeCalibration{
      *this, "quantize-calibration",
      llvm::cl::desc("Calibration token ids (.npy, int64 [1, S]) on which "
                     "tfm-quantize measures the output error (default: "
                     "random)"),
      llvm::cl::init("")};
  Option<bool> quantizeError{
      *this, "quantize-error",
      llvm::cl::desc("Measure the output error tfm-quantize introduces (a "
                     "reference evaluation holding fp32 and dequantized "
                     "weights)"),
      llvm::cl::init(true)};
  Option<std::string> prune{
      *this, "prune",
      llvm::cl::desc("Pruning of linear layers: none, 2:4, magnitude:F, "
                     "magnitude:F:global (tfm-prune)"),
      llvm::cl::init("none")};
  Option<int64_t> decode{
      *this, "decode",
      llvm::cl::desc("Emit prefill and decode-step entry points over a KV "
                     "cache of this many tokens (0: the model's maximum "
                     "positions; -1: plain inference); seq-len is the "
                     "prefill chunk (tfm-kv-cache)"),
      llvm::cl::init(-1)};
  Option<std::string> kvCache{
      *this, "kv-cache",
      llvm::cl::desc("Storage of the KV cache: f32, int8 or int4"),
      llvm::cl::init("f32")};
  Option<int64_t> kvSinks{
      *this, "kv-sinks",
      llvm::cl::desc("Attention-sink positions kept beside a sliding-window "
                     "KV cache"),
      llvm::cl::init(0)};
  Option<std::string> lowRank{
      *this, "low-rank",
      llvm::cl::desc("Low-rank factorization of linear layers: none, "
                     "rank:R, energy:E, params:F (tfm-low-rank)"),
      llvm::cl::init("none")};
  Option<bool> lowRankForce{
      *this, "low-rank-force",
      llvm::cl::desc("Factorize also the layers where that saves no bytes"),
      llvm::cl::init(false)};
  Option<bool> lowRankActivationAware{
      *this, "low-rank-activation-aware",
      llvm::cl::desc("Whiten the low-rank SVD by the layers' input "
                     "statistics on a calibration input"),
      llvm::cl::init(false)};
  Option<std::string> lowRankCalibration{
      *this, "low-rank-calibration",
      llvm::cl::desc("Calibration token ids (.npy, int64 [1, S]) of the "
                     "activation-aware low-rank mode (default: random)"),
      llvm::cl::init("")};
  Option<int64_t> linformer{
      *this, "linformer",
      llvm::cl::desc("Project keys and values of non-causal attention to "
                     "this many positions (tfm-linformer; 0: off)"),
      llvm::cl::init(0)};
  Option<bool> train{
      *this, "train",
      llvm::cl::desc("Emit a training step: the loss and every parameter's "
                     "gradient (tfm-autodiff)"),
      llvm::cl::init(false)};
  Option<std::string> loss{
      *this, "loss",
      llvm::cl::desc("Training loss: cross_entropy, mse or kl_div[:T] "
                     "(default: cross_entropy for logits, mse otherwise)"),
      llvm::cl::init("")};
  Option<std::string> remat{
      *this, "remat",
      llvm::cl::desc("Rematerialization of a training step: none, all, sqrt "
                     "or optimal (tfm-rematerialize)"),
      llvm::cl::init("none")};
  Option<int64_t> rematBudget{
      *this, "remat-budget",
      llvm::cl::desc("Activation budget in bytes of --remat=optimal"),
      llvm::cl::init(0)};
  Option<bool> rematMinimize{
      *this, "remat-minimize",
      llvm::cl::desc("When no schedule fits the budget, take the one of "
                     "least estimated peak instead of failing"),
      llvm::cl::init(false)};
  Option<int64_t> attentionBlockQ{
      *this, "attention-block-q",
      llvm::cl::desc("Queries per attention tile"), llvm::cl::init(64)};
  Option<int64_t> attentionBlockK{
      *this, "attention-block-k",
      llvm::cl::desc("Keys per attention tile"), llvm::cl::init(64)};
  Option<bool> planBuffers{
      *this, "plan-buffers",
      llvm::cl::desc("Place intermediate buffers in one arena (otherwise "
                     "heap allocations)"),
      llvm::cl::init(true)};
  Option<bool> checkBufferPlan{
      *this, "check-buffer-plan",
      llvm::cl::desc("Verify the buffer plan on the rewritten IR"),
      llvm::cl::init(true)};
};

/// Options of the CPU pipeline: the front's and the CPU back end's.
struct TmcCpuPipelineOptions : public TmcFrontOptions<TmcCpuPipelineOptions> {
  Option<bool> useKernels{
      *this, "use-kernels",
      llvm::cl::desc("Call TMC's GEMM kernels for matmuls (otherwise plain "
                     "loops)"),
      llvm::cl::init(true)};
};

/// Options of the CUDA pipeline: the front's and the NVIDIA back end's.
struct TmcCudaPipelineOptions
    : public TmcFrontOptions<TmcCudaPipelineOptions> {
  Option<std::string> gpuArch{
      *this, "gpu-arch",
      llvm::cl::desc("NVIDIA architecture to compile kernels for (sm_80, "
                     "sm_86, sm_89, sm_90, ...)"),
      llvm::cl::init("sm_90")};
  Option<std::string> ptxFeatures{
      *this, "ptx-features",
      llvm::cl::desc("LLVM NVPTX features (the PTX ISA version)"),
      llvm::cl::init("+ptx80")};
  Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("Threads per block of the elementwise and reduction "
                     "kernels"),
      llvm::cl::init(128)};
  Option<bool> fusedAttention{
      *this, "fused-attention",
      llvm::cl::desc("One kernel per attention op, each block owning a tile "
                     "of attention-block-q queries (tmc-gpu-fused-attention); "
                     "otherwise the tile loops run on the host and launch "
                     "the kernels of each tile's linalg ops"),
      llvm::cl::init(true)};
  Option<int64_t> attentionThreads{
      *this, "attention-threads",
      llvm::cl::desc("Threads per block of the fused attention kernels (0: "
                     "one per query of the tile)"),
      llvm::cl::init(0)};
  Option<int64_t> attentionKeySplit{
      *this, "attention-key-split",
      llvm::cl::desc("Threads per query of the scalar fused attention "
                     "kernel (tmc-gpu-fused-attention key-split): each "
                     "takes every N-th key, their softmax states merged at "
                     "the end (1: one thread per query)"),
      llvm::cl::init(1)};
  Option<int64_t> cachedAttentionThreads{
      *this, "cached-attention-threads",
      llvm::cl::desc("Threads per block of a decoding build's KV-cache "
                     "attention kernel (also the cached positions per "
                     "chunk)"),
      llvm::cl::init(128)};
  Option<int64_t> cachedAttentionSplit{
      *this, "cached-attention-split",
      llvm::cl::desc("Cached positions per block of a decoding build's "
                     "KV-cache attention: longer contexts are cut into "
                     "pieces computed by blocks of their own, then "
                     "combined (flash-decoding; 0: a block per query and "
                     "key/value head)"),
      llvm::cl::init(256)};
  Option<int64_t> matmulTile{
      *this, "matmul-tile",
      llvm::cl::desc("Output tile edge of the shared-memory matmul kernels "
                     "(tmc-gpu-tile-matmuls; 0: matmuls become plain "
                     "parallel loops like every other op)"),
      llvm::cl::init(16)};
  Option<int64_t> reductionThreads{
      *this, "reduction-threads",
      llvm::cl::desc("Threads per block of the row reductions and of the "
                     "norms (one kernel each, tmc-gpu-fused-norms; "
                     "tmc-gpu-row-reductions; 0: a thread per row like every "
                     "other op)"),
      llvm::cl::init(128)};
  Option<bool> normPrologues{
      *this, "norm-prologues",
      llvm::cl::desc("Leave each layer or RMS norm that only matmuls read "
                     "to their kernels, which normalize the rows as they "
                     "stage them (tmc-gpu-defer-norms): no launch and no "
                     "buffer for the norm (needs matmul-tile and "
                     "reduction-threads)"),
      llvm::cl::init(true)};
  Option<int64_t> matmulRegisterTile{
      *this, "matmul-register-tile",
      llvm::cl::desc("Outputs per thread along each side in the "
                     "shared-memory matmul kernels (register blocking; a "
                     "block computes (matmul-tile * this)^2 outputs)"),
      llvm::cl::init(4)};
  Option<int64_t> matmulMinBlocks{
      *this, "matmul-min-blocks",
      llvm::cl::desc("Blocks a scalar matmul kernel should have at least "
                     "(about two per multiprocessor): the tiled kernel "
                     "halves its register tile (down to 2) and the row "
                     "kernel its columns per block while the grid has "
                     "fewer"),
      llvm::cl::init(256)};
  Option<int64_t> matmulRowKernelRows{
      *this, "matmul-row-kernel-rows",
      llvm::cl::desc("Matmuls with at most this many rows (a decoding "
                     "step's token) get the row kernel: blocks of 8 output "
                     "columns, K split over 32 threads per column, the "
                     "weights read once (0: the tiled kernels for all)"),
      llvm::cl::init(8)};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Matmuls of f16 and bf16 weights on tensor cores "
                     "(warp-level MMA; activations rounded to the weights' "
                     "type, f32 accumulation)"),
      llvm::cl::init(true)};
  Option<bool> tf32{
      *this, "tf32",
      llvm::cl::desc("Matmuls of f32 inputs on tensor cores too, their "
                     "inputs rounded to TF32 (mma.sync m16n8k8, f32 "
                     "accumulation; sm_80 and later)"),
      llvm::cl::init(false)};
  Option<std::string> attentionTensorCores{
      *this, "attention-tensor-cores",
      llvm::cl::desc("Operand type of the fused attention kernels on tensor "
                     "cores: none, f16, bf16, tf32, or auto (default: f16 "
                     "or bf16 with --quantize=fp16 or bf16 and tensor-cores, "
                     "else tf32 with tf32, else none)"),
      llvm::cl::init("auto")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu-module-to-binary embeds: isa (PTX), bin "
                     "(cubin, through ptxas) or fatbin"),
      llvm::cl::init("isa")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit directory (ptxas, libdevice); empty: "
                     "$CUDA_HOME, $CUDA_ROOT, then /usr/local/cuda"),
      llvm::cl::init("")};
};

/// What a back end asks of the front (all off for the CPU).
struct TmcFrontTarget {
  /// Attention ops become `tfm.fused_attention` on buffers (one kernel
  /// each, as the CUDA pipeline lowers them) instead of the tiled loop nest
  /// of linalg ops.
  bool fusedAttention = false;
  /// A decoding build's KV-cache attention becomes
  /// `tfm.fused_cached_attention` on buffers (for a target that lowers it
  /// to its own kernels) instead of a call of the CPU runtime's kernel,
  /// split into pieces of `cachedAttentionSplit` positions (0: not split)
  /// where the cache has more rows.
  bool deviceCache = false;
  int64_t cachedAttentionSplit = 0;
  /// Layer and RMS norms become `tfm.fused_norm` on buffers.
  bool fusedNorms = false;
  /// Chains of elementwise linalg ops become one op
  /// (`tmc-fuse-elementwise`).
  bool fuseElementwise = false;
  /// Norms that only matmul kernels read become `tfm.lazy_norm`, before the
  /// buffer plan (`tmc-gpu-defer-norms`; needs `fusedNorms`).
  bool deferNorms = false;
};

/// Builds the target-independent front: fix the sequence length, apply the
/// tfm transforms, inline layers, bind and pack the weights, lower to
/// linalg, bufferize, plan the buffers in one arena (and check the plan)
/// and deallocate what is left, with what `target` asks. Both back ends
/// start from its output. (Instantiated for TmcCpuPipelineOptions and
/// TmcCudaPipelineOptions.)
template <typename Derived>
void buildTmcFrontPipeline(OpPassManager &pm,
                           const TmcFrontOptions<Derived> &options,
                           const TmcFrontTarget &target = {});

/// Builds the pipeline from a tfm model to the LLVM dialect with the
/// compiled-model ABI: the front, then TMC's kernels for matmuls, loops,
/// LLVM, and the ABI entry points.
void buildTmcCpuPipeline(OpPassManager &pm,
                         const TmcCpuPipelineOptions &options);

/// Builds the pipeline from a tfm model to host LLVM dialect code plus a
/// `gpu.binary` of NVVM kernels: the front, then every linalg op as a
/// parallel loop mapped to blocks and threads, outlined into kernels of one
/// gpu.module, lowered to NVVM and serialized (PTX or cubin); the host
/// function launches them on one stream and exports the same ABI entry
/// points as the CPU pipeline, over device buffers.
void buildTmcCudaPipeline(OpPassManager &pm,
                          const TmcCudaPipelineOptions &options);

/// The compute capability of an NVIDIA architecture name ("sm_90" and
/// "sm_90a": 90), or none if `arch` is not one.
std::optional<unsigned> getSmVersion(StringRef arch);

/// What is wrong with `options` that the passes would find only in the
/// NVPTX back end or ptxas: an architecture name that is none, or
/// tensor-core paths the architecture lacks (the `mma.sync` of the TF32
/// matmuls, the bf16 matmuls and every tensor-core attention kernel needs
/// sm_80 or later; `auto` attention picks none before it). Empty when
/// nothing is.
std::string checkTmcCudaPipelineOptions(const TmcCudaPipelineOptions &options);

/// The CUDA toolkit directory `toolkit` names, or when empty the first of
/// $CUDA_HOME, $CUDA_ROOT and /usr/local/cuda that exists ("" if none).
std::string findCudaToolkit(StringRef toolkit);

/// Registers `tmc-cpu-pipeline` and `tmc-cuda-pipeline` with the global
/// pass pipeline registry.
void registerTmcPipelines();

} // namespace tmc
} // namespace mlir

#endif // TMC_PIPELINES_PIPELINES_H
