//===- Passes.td - TMC conversion passes -------------------*- tablegen -*-===//
//
// Lowerings out of the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_CONVERSION_PASSES_TD
#define TMC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToLinalg : Pass<"convert-tfm-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower tfm ops to linalg, tensor, arith, math and scf";
  let description = [{
    Lowers every tfm op on statically shaped tensors to upstream dialects on
    tensors, ready for one-shot bufferization:
    - `tfm.linear` becomes a `linalg.matmul` (with a transposed indexing map
      for `out_in` weights) accumulating into the broadcast bias;
    - norms, activations and residual adds become `linalg.generic` ops
      (reductions in fp32 over the last dimension, then elementwise);
    - `tfm.embedding` and `tfm.rope` become gathers in a `linalg.generic`;
    - `tfm.attention` becomes a tiled loop nest with an online softmax
      (FlashAttention's schedule): per batch, head and block of `block-q`
      queries, a running row maximum, row sum and output accumulator are
      updated one block of `block-k` keys at a time (scores by a
      `linalg.matmul` against the transposed keys, then `p v` by another).
      Only a `block-q x block-k` tile of scores is live, whatever the
      sequence length. Causal attention skips the key blocks above the
      diagonal; a sparsity pattern's kept blocks are enumerated at compile
      time into constant tables, so the loop visits only those, and a
      constant element mask serves the blocks kept only in part. Sequence
      lengths that are not multiples of the block sizes get a tail block
      of the exact remaining size.
    With `fused-attention`, `tfm.attention` becomes `tfm.fused_attention`
    on the buffers of its operands and a fresh output buffer instead (the
    CUDA pipeline lowers it to one kernel per op, `tmc-gpu-fused-attention`).
    With `fused-cached-attention`, `tfm.cached_attention` becomes
    `tfm.fused_cached_attention` on buffers instead of a call of the
    runtime's KV-cache kernel (for a cache in device memory, lowered by
    `tmc-gpu-cached-attention`). With `fused-norms`, `tfm.layer_norm` and
    `tfm.rms_norm` become `tfm.fused_norm` on buffers (`tmc-gpu-fused-norms`
    makes one kernel of each).
    Parameters must already be bound (`tfm-bind-weights`) and layers
    inlined (`tfm-inline-layers`); shapes must be static (`tfm-set-seq-len`).
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"64",
           "Queries per attention tile">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"64",
           "Keys per attention tile">,
    Option<"fusedAttention", "fused-attention", "bool", /*default=*/"false",
           "Lower tfm.attention to tfm.fused_attention on buffers (one "
           "kernel per op) instead of the tiled loop nest">,
    Option<"fusedCachedAttention", "fused-cached-attention", "bool",
           /*default=*/"false",
           "Lower tfm.cached_attention to tfm.fused_cached_attention on "
           "buffers (kernels of the target) instead of a runtime call">,
    Option<"cachedAttentionSplit", "cached-attention-split", "int64_t",
           /*default=*/"0",
           "With fused-cached-attention: cut each query's cached positions "
           "into pieces of this many, computed separately and combined "
           "(flash-decoding; 0: off)">,
    Option<"fusedNorms", "fused-norms", "bool", /*default=*/"false",
           "Lower tfm.layer_norm and tfm.rms_norm to tfm.fused_norm on "
           "buffers (one kernel each on a GPU) instead of linalg reductions">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::affine::AffineDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::func::FuncDialect"
  ];
}

#endif // TMC_CONVERSION_PASSES_TD
