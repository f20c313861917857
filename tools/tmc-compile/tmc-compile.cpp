//===- tmc-compile.cpp - TMC's compiler driver ------------------*- C++ -*-===//
//
// This file implements tmc-compile: a tfm model in, a compiled model
// directory out (docs/ABI.md).
//
//===----------------------------------------------------------------------===//

#include "tmc/Compiler/Compiler.h"
#include "tmc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("tmc-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir|model.mlirbc>"),
                                      cl::cat(category));
static cl::opt<std::string> outputDir("o", cl::Required,
                                      cl::desc("Output directory"),
                                      cl::value_desc("OUTDIR"),
                                      cl::cat(category));
static cl::opt<int64_t>
    seqLen("seq-len", cl::init(128),
           cl::desc("Sequence length the model is compiled for (default "
                    "128)"),
           cl::cat(category));
static cl::opt<std::string> target("target", cl::init("cpu"),
                                   cl::desc("Code generation target: cpu "
                                            "or cuda (NVIDIA GPUs)"),
                                   cl::cat(category));
static cl::opt<std::string>
    gpuArch("gpu-arch", cl::init("sm_90"),
            cl::desc("NVIDIA architecture with --target=cuda (default "
                     "sm_90; e.g. sm_80)"),
            cl::cat(category));
static cl::opt<std::string> gpuAttention(
    "gpu-attention", cl::init("fused"),
    cl::desc("Attention with --target=cuda: fused (default; one kernel per "
             "attention op, each block owning a tile of queries) or tiles "
             "(host loops over the tiles launching small kernels)"),
    cl::cat(category));
static cl::opt<std::string> gpuTensorCores(
    "gpu-tensor-cores", cl::init("auto"),
    cl::desc("Tensor cores with --target=cuda: auto (default; matmuls of "
             "fp16/bf16 weights and the attention of such builds, their "
             "activations rounded to that type), none (f32 activations "
             "throughout), f16 or bf16 (as auto, and attention on tensor "
             "cores with that operand type for any weights), or tf32 (as "
             "auto, and the matmuls and attention of f32 models on tensor "
             "cores with their operands rounded to TF32; sm_80 and "
             "later)"),
    cl::cat(category));
static cl::opt<std::string> gpuDecodeSplit(
    "gpu-decode-split", cl::init("256"), cl::value_desc("N"),
    cl::desc("KV-cache attention of a --target=cuda --decode build: cached "
             "positions per block (default 256); longer contexts are split "
             "over several blocks, then combined (flash-decoding); 0: one "
             "block per query and key/value head"),
    cl::cat(category));
static cl::opt<std::string> gpuKernelOptions(
    "gpu-kernel-options", cl::init(""), cl::value_desc("OPTIONS"),
    cl::desc("With --target=cuda: tmc-cuda-pipeline options applied over "
             "what the other flags set, to try other kernel shapes, e.g. "
             "'matmul-tile=8 matmul-register-tile=2 attention-threads=128' "
             "(tmc-opt --help lists them under --tmc-cuda-pipeline)"),
    cl::cat(category));
static cl::opt<std::string> cudaToolkit(
    "cuda-toolkit", cl::init(""),
    cl::desc("CUDA toolkit directory with --target=cuda (default: "
             "$CUDA_HOME, $CUDA_ROOT, then /usr/local/cuda)"),
    cl::cat(category));
static cl::opt<std::string>
    cpu("cpu", cl::init("native"),
        cl::desc("LLVM CPU to generate code for (default: this machine's)"),
        cl::cat(category));
static cl::opt<bool> noKernels("no-kernels",
                               cl::desc("Lower matmuls to plain loops instead "
                                        "of calling TMC's GEMM kernels"),
                               cl::cat(category));
static cl::opt<int64_t> attentionBlockQ(
    "attention-block-q", cl::init(64),
    cl::desc("Queries per attention tile (default 64)"), cl::cat(category));
static cl::opt<int64_t> attentionBlockK(
    "attention-block-k", cl::init(64),
    cl::desc("Keys per attention tile (default 64)"), cl::cat(category));
static cl::opt<bool>
    noPlanBuffers("no-plan-buffers",
                  cl::desc("Do not plan buffers into one arena: every "
                           "intermediate buffer is a heap allocation"),
                  cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Do not print progress lines"),
                           cl::cat(category));

// Memory transforms. compileModel refuses those this version cannot apply.
static cl::opt<std::string>
    attention("attention", cl::init(""),
              cl::desc("Attention pattern for every attention op: dense|"
                       "window:W|dilated:W,D|strided:S[,C]|"
                       "bigbird:W,G,R[,B[,SEED]] (default: as the model says)"),
              cl::cat(category));
static cl::opt<std::string>
    quantize("quantize", cl::init("none"),
             cl::desc("Weight quantization: none|int8|int4[:gN][:asym][:f16]|"
                      "ternary|binary|fp16|bf16|w8a8"),
             cl::cat(category));
static cl::opt<std::string> quantizeCalibration(
    "quantize-calibration", cl::init(""),
    cl::desc("Token ids (.npy, int64 [1, S]) on which the quantize record "
             "measures the output error; default: random tokens"),
    cl::cat(category));
static cl::opt<bool> noQuantizeError(
    "no-quantize-error",
    cl::desc("Do not measure the output error of --quantize (it evaluates "
             "the model holding fp32 and dequantized weights at once)"),
    cl::cat(category));
static cl::opt<std::string>
    prune("prune", cl::init("none"),
          cl::desc("Pruning: none|magnitude:F[:global]|2:4"),
          cl::cat(category));
static cl::opt<std::string>
    lowRank("low-rank", cl::init("none"),
            cl::desc("Low-rank factorization: none|rank:R|energy:E|"
                     "params:F"),
            cl::cat(category));
static cl::opt<bool> lowRankActivationAware(
    "low-rank-activation-aware",
    cl::desc("Low-rank: whiten each layer's SVD by its input statistics on "
             "a calibration input (SVD-LLM); reports plain vs aware error"),
    cl::cat(category));
static cl::opt<bool> lowRankForce(
    "low-rank-force",
    cl::desc("Low-rank: factorize also layers where that saves no bytes"),
    cl::cat(category));
static cl::opt<std::string> lowRankCalibration(
    "low-rank-calibration", cl::init(""),
    cl::desc("Low-rank calibration token ids (.npy, int64 [1, S]); default: "
             "random tokens"),
    cl::cat(category));
static cl::opt<int64_t> linformer(
    "linformer", cl::init(0),
    cl::desc("Linformer: project keys and values of non-causal attention to "
             "K positions with random projections (0: off)"),
    cl::cat(category));
static cl::opt<bool> train(
    "train",
    cl::desc("Emit a training step instead of inference: inputs input_ids "
             "and the loss's target, outputs the loss and grad.NAME for "
             "every parameter (docs/Training.md)"),
    cl::cat(category));
static cl::opt<std::string>
    loss("loss", cl::init(""), cl::value_desc("cross_entropy|mse|kl_div[:T]"),
         cl::desc("Training loss: cross_entropy against labels (default "
                  "for logits), mse against a target (default otherwise), "
                  "kl_div:T against teacher logits at temperature T"),
         cl::cat(category));
static cl::opt<std::string>
    remat("remat", cl::init("none"), cl::value_desc("none|all|sqrt|optimal"),
          cl::desc("Rematerialization of a training step: store every "
                   "activation, recompute every layer from its input, "
                   "sqrt(L) segments, or the least recomputation that fits "
                   "--memory-budget"),
          cl::cat(category));
static cl::opt<std::string> memoryBudget(
    "memory-budget", cl::init(""), cl::value_desc("SIZE"),
    cl::desc("Activation arena budget of a training step (e.g. 96MiB); "
             "implies --remat=optimal and is checked on the planned arena"),
    cl::cat(category));
static cl::opt<std::string>
    decode("decode", cl::ValueOptional, cl::init(""),
           cl::value_desc("MAX_TOKENS"),
           cl::desc("Emit prefill and decode-step entry points over a KV "
                    "cache of MAX_TOKENS positions (default: the model's "
                    "maximum); --seq-len is then the prefill chunk. CPU or "
                    "CUDA (the cache then in device memory). Run "
                    "with tmc-generate"),
           cl::cat(category));
static cl::opt<std::string>
    kvCache("kv-cache", cl::init("f32"),
            cl::desc("KV cache storage with --decode: f32|int8|int4"),
            cl::cat(category));
static cl::opt<int64_t> kvSinks(
    "kv-sinks", cl::init(0),
    cl::desc("Attention-sink positions kept beside a window:W cache "
             "(StreamingLLM) with --decode"),
    cl::cat(category));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tmc-compile: compile a tfm model into a directory holding model.so, "
      "model.h,\nweights.bin, libtmcrt.so and report.json (see docs/ABI.md). "
      "Run it with tmc-run.\n\n"
      "  tmc-compile model.mlir -o out/ --seq-len=256\n");
  if (seqLen <= 0) {
    llvm::errs() << "tmc-compile: --seq-len must be positive, got " << seqLen
                 << "\n";
    return 1;
  }

  DialectRegistry registry;
  tmc::registerAllDialects(registry);
  MLIRContext context(registry);
  // A diagnostic names its location; dumping the op (a whole model function
  // for a failing pass) helps nobody who compiles a model.
  context.printOpOnDiagnostic(false);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file) {
    llvm::errs() << "tmc-compile: " << errorMessage << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  std::string exe = llvm::sys::fs::getMainExecutable(
      argv[0], reinterpret_cast<void *>(&main));
  SmallString<256> runtimeDir(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(runtimeDir, "..", "lib");

  tmc::CompileOptions options;
  options.outputDir = outputDir;
  options.seqLen = seqLen;
  options.weightsBaseDir = llvm::sys::path::parent_path(inputFile).str();
  options.cpu = cpu;
  options.runtimeDir = std::string(runtimeDir);
  options.useKernels = !noKernels;
  options.planBuffers = !noPlanBuffers;
  options.attention = attention;
  options.quantize = quantize;
  options.quantizeCalibration = quantizeCalibration;
  options.quantizeError = !noQuantizeError;
  options.prune = prune;
  options.applyPassManagerCLOptions = true;
  options.attentionBlockQ = attentionBlockQ;
  options.attentionBlockK = attentionBlockK;
  options.verbose = !quiet;
  if (llvm::Error err = tmc::setCompileOption(options, "target", target)) {
    llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  options.cudaToolkit = cudaToolkit;
  options.gpuKernelOptions = gpuKernelOptions;
  if (llvm::Error err =
          tmc::setCompileOption(options, "gpu-attention", gpuAttention)) {
    llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  if (llvm::Error err = tmc::setCompileOption(options, "gpu-tensor-cores",
                                              gpuTensorCores)) {
    llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  if (gpuDecodeSplit.getNumOccurrences()) {
    if (llvm::Error err = tmc::setCompileOption(options, "gpu-decode-split",
                                                gpuDecodeSplit)) {
      llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err))
                   << "\n";
      return 1;
    }
  }
  if (llvm::Error err = tmc::setCompileOption(options, "gpu-arch", gpuArch)) {
    llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  options.lowRank = lowRank;
  options.lowRankActivationAware = lowRankActivationAware;
  options.lowRankCalibration = lowRankCalibration;
  options.lowRankForce = lowRankForce;
  if (linformer < 0) {
    llvm::errs() << "tmc-compile: --linformer must be positive, got "
                 << linformer << "\n";
    return 1;
  }
  options.linformer = linformer;
  options.remat = remat;
  options.memoryBudget = memoryBudget;
  options.train = train;
  options.loss = loss;
  options.kvCache = kvCache;
  options.kvSinks = kvSinks;
  if (decode.getNumOccurrences()) {
    if (llvm::Error err = tmc::setCompileOption(options, "decode", decode)) {
      llvm::errs() << "tmc-compile: " << llvm::toString(std::move(err))
                   << "\n";
      return 1;
    }
  }
  bool dirExisted = llvm::sys::fs::exists(outputDir);
  if (failed(tmc::compileModel(*module, options))) {
    // Never leave a partial model that looks complete.
    for (const char *name :
         {"model.so", "model.o", "model.h", "weights.bin", "report.json",
          "libtmcrt.so", "libtmcrt_cuda.so", "tmc_kernels.ptx",
          "tmc_kernels.cubin"}) {
      SmallString<256> path(outputDir);
      llvm::sys::path::append(path, name);
      llvm::sys::fs::remove(path);
    }
    if (!dirExisted)
      llvm::sys::fs::remove(outputDir);
    return 1;
  }
  if (!quiet)
    llvm::errs() << "[tmc-compile] wrote " << outputDir << "\n";
  return 0;
}
