//===- Pipelines.cpp - TMC's compilation pipelines --------------*- C++ -*-===//
//
// This file implements the CPU pipeline builder and its registration.
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

using namespace mlir;
using namespace mlir::tmc;

void mlir::tmc::buildTmcCpuPipeline(OpPassManager &pm,
                                    const TmcCpuPipelineOptions &options) {
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
    pm.addPass(tfm::createTfmPrune(prune));
  }
  if (!options.quantize.empty() && options.quantize != "none") {
    tfm::TfmQuantizeOptions quantize;
    quantize.scheme = options.quantize;
    pm.addPass(tfm::createTfmQuantize(quantize));
  }
  pm.addNestedPass<func::FuncOp>(tfm::createTfmInlineLayers());
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
  pm.addPass(createConvertTfmToLinalg(lowering));
  pm.addPass(createCanonicalizerPass());
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
  if (options.planBuffers) {
    pm.addPass(createTmcPlanBuffers());
    if (options.checkBufferPlan)
      pm.addPass(createTmcCheckBufferPlan());
  }
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());

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

void mlir::tmc::registerTmcPipelines() {
  PassPipelineRegistration<TmcCpuPipelineOptions>(
      "tmc-cpu-pipeline",
      "Compile a tfm model to the LLVM dialect with the compiled-model ABI "
      "(the pipeline tmc-compile runs)",
      buildTmcCpuPipeline);
}
