//===- Pipelines.cpp - TMC's compilation pipelines --------------*- C++ -*-===//
//
// This file implements the pipeline builders (shared front, CPU, CUDA) and
// their registration.
//
//===----------------------------------------------------------------------===//

#include "tmc/Pipelines/Pipelines.h"

#include "tmc/Conversion/Passes.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"
#include "tmc/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::tmc;

template <typename Derived>
void mlir::tmc::buildTmcFrontPipeline(OpPassManager &pm,
                                      const TmcFrontOptions<Derived> &options,
                                      const TmcFrontTarget &target) {
  // tfm level. A decoding build fixes its chunk lengths in tfm-kv-cache.
  bool decoding = options.decode >= 0;
  if (options.seqLen > 0 && !decoding) {
    tfm::TfmSetSeqLenOptions seqLen;
    seqLen.seqLen = options.seqLen;
    pm.addPass(tfm::createTfmSetSeqLen(seqLen));
  }
  if (!options.attention.empty()) {
    tfm::TfmSparsifyAttentionOptions sparsify;
    sparsify.pattern = options.attention;
    sparsify.overrideExisting = true;
    pm.addPass(tfm::createTfmSparsifyAttention(sparsify));
  }
  if (options.linformer != 0) {
    tfm::TfmLinformerOptions linformer;
    linformer.projected = options.linformer;
    pm.addPass(tfm::createTfmLinformer(linformer));
  }
  // Low rank first: its factors may then be pruned or quantized like any
  // weight, and its calibration sees the model before those transforms.
  if (!options.lowRank.empty() && options.lowRank != "none") {
    tfm::TfmLowRankOptions lowRank;
    lowRank.scheme = options.lowRank;
    lowRank.force = options.lowRankForce;
    lowRank.activationAware = options.lowRankActivationAware;
    lowRank.calibration = options.lowRankCalibration;
    lowRank.weightsBaseDir = options.weightsBaseDir;
    pm.addPass(tfm::createTfmLowRank(lowRank));
  }
  if (!options.prune.empty() && options.prune != "none") {
    tfm::TfmPruneOptions prune;
    prune.scheme = options.prune;
    prune.weightsBaseDir = options.weightsBaseDir;
    pm.addPass(tfm::createTfmPrune(prune));
  }
  if (!options.quantize.empty() && options.quantize != "none") {
    tfm::TfmQuantizeOptions quantize;
    quantize.scheme = options.quantize;
    quantize.calibration = options.quantizeCalibration;
    quantize.outputError = options.quantizeError;
    quantize.weightsBaseDir = options.weightsBaseDir;
    pm.addPass(tfm::createTfmQuantize(quantize));
  }
  tfm::TfmInlineLayersOptions inlineLayers;
  inlineLayers.tag = options.train;
  pm.addNestedPass<func::FuncOp>(tfm::createTfmInlineLayers(inlineLayers));
  if (options.train) {
    tfm::TfmAutodiffOptions autodiff;
    autodiff.loss = options.loss;
    pm.addPass(tfm::createTfmAutodiff(autodiff));
    tfm::TfmRematerializeOptions remat;
    remat.mode = options.remat;
    remat.budget = options.rematBudget;
    remat.minimize = options.rematMinimize;
    pm.addPass(tfm::createTfmRematerialize(remat));
  }
  if (decoding) {
    tfm::TfmKVCacheOptions cache;
    cache.maxTokens = options.decode;
    if (options.seqLen > 0)
      cache.chunk = options.seqLen;
    cache.cacheType = options.kvCache;
    cache.sinks = options.kvSinks;
    pm.addPass(tfm::createTfmKVCache(cache));
  }
  pm.addPass(tfm::createTfmBindWeights());
  TmcPackWeightsOptions pack;
  pack.output = options.weightsOutput;
  pack.baseDir = options.weightsBaseDir;
  pm.addPass(createTmcPackWeights(pack));

  // linalg on tensors.
  ConvertTfmToLinalgOptions lowering;
  lowering.blockQ = options.attentionBlockQ;
  lowering.blockK = options.attentionBlockK;
  lowering.fusedAttention = target.fusedAttention;
  lowering.fusedCachedAttention = target.deviceCache;
  lowering.cachedAttentionSplit = target.cachedAttentionSplit;
  lowering.fusedNorms = target.fusedNorms;
  pm.addPass(createConvertTfmToLinalg(lowering));
  pm.addPass(createCanonicalizerPass());
  if (target.fuseElementwise)
    pm.addNestedPass<func::FuncOp>(createTmcFuseElementwise());
  // No CSE before bufferization: merging two identical fills would make one
  // buffer the destination of two ops and force a copy.
  pm.addNestedPass<func::FuncOp>(createTmcReuseDyingOperands());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());

  // Buffers.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addNestedPass<func::FuncOp>(createTmcForwardOutParams());
  pm.addPass(createCanonicalizerPass());
  if (target.deferNorms)
    pm.addNestedPass<func::FuncOp>(createTmcGpuDeferNorms());
  if (options.planBuffers) {
    pm.addPass(createTmcPlanBuffers());
    if (options.checkBufferPlan)
      pm.addPass(createTmcCheckBufferPlan());
  }
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

template void mlir::tmc::buildTmcFrontPipeline(
    OpPassManager &, const TmcFrontOptions<TmcCpuPipelineOptions> &,
    const TmcFrontTarget &);
template void mlir::tmc::buildTmcFrontPipeline(
    OpPassManager &, const TmcFrontOptions<TmcCudaPipelineOptions> &,
    const TmcFrontTarget &);

void mlir::tmc::buildTmcCpuPipeline(OpPassManager &pm,
                                    const TmcCpuPipelineOptions &options) {
  buildTmcFrontPipeline(pm, options);

  // Kernels and loops.
  // Without kernels, matmuls become loops with the rest.
  TmcLinalgToKernelsOptions kernels;
  kernels.matmuls = options.useKernels;
  pm.addPass(createTmcLinalgToKernels(kernels));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createTmcApproximateMath());

  // LLVM.
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // LLVM intrinsics first (fma, sqrt, exp, sin, cos), libm for the rest.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createTmcExportAbi());
  pm.addPass(createCanonicalizerPass());
}

std::optional<unsigned> mlir::tmc::getSmVersion(StringRef arch) {
  unsigned version = 0;
  if (!arch.consume_front("sm_") ||
      arch.take_while(llvm::isDigit).getAsInteger(10, version))
    return std::nullopt;
  return version;
}

std::string mlir::tmc::findCudaToolkit(StringRef toolkit) {
  if (!toolkit.empty())
    return toolkit.str();
  for (const char *variable : {"CUDA_HOME", "CUDA_ROOT"})
    if (const char *value = std::getenv(variable))
      if (*value && llvm::sys::fs::is_directory(value))
        return value;
  if (llvm::sys::fs::is_directory("/usr/local/cuda"))
    return "/usr/local/cuda";
  return "";
}

/// The fused attention kernels' tensor-core operand type: with `auto`,
/// that of 16-bit float weights when the matmuls use tensor cores, else
/// tf32 when the f32 matmuls do; none before sm_80 (the kernels use
/// `mma.sync` m16n8k16 and m16n8k8 with tf32).
static std::string
attentionTensorCoreType(const TmcCudaPipelineOptions &options) {
  if (options.attentionTensorCores != "auto")
    return options.attentionTensorCores;
  if (getSmVersion(options.gpuArch).value_or(0) < 80)
    return "none";
  StringRef scheme = StringRef(options.quantize).split(':').first;
  if (options.tensorCores && scheme == "fp16")
    return "f16";
  if (options.tensorCores && scheme == "bf16")
    return "bf16";
  return options.tf32 ? "tf32" : "none";
}

std::string
mlir::tmc::checkTmcCudaPipelineOptions(const TmcCudaPipelineOptions &options) {
  std::optional<unsigned> sm = getSmVersion(options.gpuArch);
  if (!sm)
    return "gpu-arch must name an NVIDIA architecture (sm_80, sm_90, ...), "
           "got '" + options.gpuArch + "'";
  if (*sm >= 80)
    return "";
  std::string before = " needs gpu-arch sm_80 or later (mma.sync), got " +
                       options.gpuArch;
  if (options.tf32)
    return "tf32" + before;
  if (std::string attention = attentionTensorCoreType(options);
      attention != "none")
    return "attention-tensor-cores=" + attention + before;
  if (options.tensorCores &&
      StringRef(options.quantize).split(':').first == "bf16")
    return "tensor-cores with bf16 weights" + before +
           " (tensor-cores=0 keeps them off tensor cores)";
  return "";
}

void mlir::tmc::buildTmcCudaPipeline(OpPassManager &pm,
                                     const TmcCudaPipelineOptions &options) {
  TmcFrontTarget front;
  front.fusedAttention = options.fusedAttention;
  front.deviceCache = true;
  front.cachedAttentionSplit = options.cachedAttentionSplit;
  front.fusedNorms = options.reductionThreads > 0;
  front.deferNorms = front.fusedNorms && options.matmulTile > 0 &&
                     options.normPrologues;
  front.fuseElementwise = true;
  buildTmcFrontPipeline(pm, options, front);

  // Attention ops become one kernel each; matmuls become kernels that stage
  // tiles in shared memory; every other linalg op becomes a parallel loop
  // nest (reductions stay scf.for inside it), mapped to blocks and threads;
  // loops between linalg ops (the attention's tiles, when not fused) stay
  // on the host and launch kernels.
  if (options.fusedAttention) {
    TmcGpuFusedAttentionOptions attention;
    attention.threads = options.attentionThreads;
    attention.keySplit = options.attentionKeySplit;
    attention.tensorCores = attentionTensorCoreType(options);
    pm.addPass(createTmcGpuFusedAttention(attention));
  }
  // A decoding build's attention over its KV cache: append and attention
  // kernels.
  TmcGpuCachedAttentionOptions cached;
  cached.threads = options.cachedAttentionThreads;
  pm.addNestedPass<func::FuncOp>(createTmcGpuCachedAttention(cached));
  pm.addNestedPass<func::FuncOp>(createTmcCopyToLinalg());
  // Matmul kernels, which also apply the norms left to them.
  if (options.matmulTile > 0) {
    TmcGpuTileMatmulsOptions matmuls;
    matmuls.tile = options.matmulTile;
    matmuls.registerTile = options.matmulRegisterTile;
    matmuls.rowKernelRows = options.matmulRowKernelRows;
    matmuls.minBlocks = options.matmulMinBlocks;
    matmuls.tensorCores = options.tensorCores;
    matmuls.tf32 = options.tf32;
    pm.addNestedPass<func::FuncOp>(createTmcGpuTileMatmuls(matmuls));
  }
  // The other norms: one kernel each, a block per row.
  if (options.reductionThreads > 0) {
    TmcGpuFusedNormsOptions norms;
    norms.threads = options.reductionThreads;
    pm.addNestedPass<func::FuncOp>(createTmcGpuFusedNorms(norms));
  }
  if (options.reductionThreads > 0) {
    TmcGpuRowReductionsOptions reductions;
    reductions.threads = options.reductionThreads;
    pm.addNestedPass<func::FuncOp>(createTmcGpuRowReductions(reductions));
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  TmcGpuMapParallelLoopsOptions mapping;
  mapping.threads = options.threads;
  pm.addNestedPass<func::FuncOp>(createTmcGpuMapParallelLoops(mapping));
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addNestedPass<func::FuncOp>(createTmcGpuSinkGlobals());
  pm.addNestedPass<func::FuncOp>(createTmcGpuCheckHostCode());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createTmcGpuMergeModules());
  pm.addNestedPass<gpu::GPUModuleOp>(createTmcGpuAlignWorkgroupMemory());
  // One stream per call of the model: launches are asynchronous and the
  // function waits for them once, at its end.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // NVVM (the steps of upstream's gpu-lower-to-nvvm-pipeline, with the
  // toolkit and libdevice named explicitly).
  std::string toolkit = findCudaToolkit(options.toolkit);
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.gpuArch;
  target.features = options.ptxFeatures;
  target.optLevel = 3;
  if (!toolkit.empty()) {
    SmallString<256> libdevice(toolkit);
    llvm::sys::path::append(libdevice, "nvvm", "libdevice",
                            "libdevice.10.bc");
    if (llvm::sys::fs::exists(libdevice))
      target.linkLibs.push_back(std::string(libdevice));
  }
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createStripDebugInfoPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(LLVM::createNVVMOptimizeForTargetPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  // Host.
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  TmcExportAbiOptions abi;
  abi.target = "cuda " + options.gpuArch;
  pm.addPass(createTmcExportAbi(abi));
  pm.addPass(createCanonicalizerPass());
}

void mlir::tmc::registerTmcPipelines() {
  PassPipelineRegistration<TmcCpuPipelineOptions>(
      "tmc-cpu-pipeline",
      "Compile a tfm model to the LLVM dialect with the compiled-model ABI "
      "(the pipeline tmc-compile runs)",
      buildTmcCpuPipeline);
  registerPassPipeline(
      "tmc-cuda-pipeline",
      "Compile a tfm model to host LLVM dialect code with the compiled-model "
      "ABI over device buffers, plus its NVVM kernels serialized in a "
      "gpu.binary (the pipeline tmc-compile --target=cuda runs)",
      [](OpPassManager &pm, StringRef optionsString,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        TmcCudaPipelineOptions options;
        if (failed(options.parseFromString(optionsString)))
          return failure();
        if (std::string problem = checkTmcCudaPipelineOptions(options);
            !problem.empty())
          return errorHandler("tmc-cuda-pipeline: " + problem);
        buildTmcCudaPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optionsHandler) {
        optionsHandler(TmcCudaPipelineOptions());
      });
}
