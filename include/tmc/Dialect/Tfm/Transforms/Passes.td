//===- Passes.td - tfm-level transformation passes ---------*- tablegen -*-===//
//
// Passes that work on the tfm dialect, where the model is still a
// transformer and semantic decisions are made.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmSetSeqLen : Pass<"tfm-set-seq-len", "::mlir::ModuleOp"> {
  let summary = "Fix a symbolic sequence length to a static size";
  let description = [{
    Models are imported with the sequence dimension of their inputs dynamic
    (`tensor<1x?xi64>`). This pass gives every function argument's dynamic
    sequence dimension the static size `seq-len`, then re-infers the result
    types of every op (and of `tfm.layer` regions) so that the whole model
    is statically shaped, as code generation requires. It fails with a
    diagnostic when a static dimension contradicts the requested length,
    or when `seq-len` exceeds the `max-positions` the model declares
    (a `tfm.max_positions` function attribute), e.g. a position table that
    has fewer rows.
  }];
  let options = [
    Option<"seqLen", "seq-len", "int64_t", /*default=*/"128",
           "Static sequence length to give every dynamic sequence dimension">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def TfmSparsifyAttention : Pass<"tfm-sparsify-attention", "::mlir::ModuleOp"> {
  let summary = "Attach a sparsity pattern to attention ops";
  let description = [{
    Gives `tfm.attention` ops the sparsity pattern `pattern`:
    - `window:W` — sliding window, `|i - j| < W` (one-sided when causal);
    - `dilated:W,D` — every D-th key, W on each side;
    - `strided:S[,C]` — Sparse Transformer's fixed pattern: blocks of S
      positions and the last C (default max(1, S/8)) columns of each block;
    - `bigbird:W,G,R[,B[,SEED]]` — blocks of B (default 64) tokens, a window
      of W blocks (odd), the first G tokens global, R random blocks per
      query block drawn from SEED (default 0);
    - `dense` — removes patterns.
    It applies to every attention op, or only to those inside the
    `tfm.layer`s whose index is in `layers` or whose name is in `names`.
    Ops that already carry a pattern written in the model keep it unless
    `override` is set. Patterns are checked against the sequence length
    when it is static (a window larger than the sequence is an error). The
    change is recorded in the module's `tmc.transforms` for the report: the
    pattern, the ops, and, for static shapes, the fraction of the score
    matrix that is kept and the bytes a naive score matrix would take.
  }];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"\"\"",
           "Pattern to attach: window:W, dilated:W,D, strided:S[,C], "
           "bigbird:W,G,R[,B[,SEED]] or dense">,
    ListOption<"layers", "layers", "int64_t",
               "Only the attention ops in these layer indices">,
    ListOption<"names", "names", "std::string",
               "Only the attention ops in these layers (by name)">,
    Option<"overrideExisting", "override", "bool", /*default=*/"false",
           "Replace patterns already written in the model">
  ];
}

def TfmQuantize : Pass<"tfm-quantize", "::mlir::ModuleOp"> {
  let summary = "Store linear layers' weights quantized and packed";
  let description = [{
    Replaces `tfm.linear` ops whose weight is a `tfm.param` by
    `tfm.quantized_linear` ops on derived parameters (the packed values and
    their scales and zero-points), which the packer computes from the fp32
    weights at compile time. `scheme` is one of `int8`, `int4[:gN][:asym]
    [:f16]` (group N of 32, 64 or 128, default 128; zero-points; fp16
    scales), `ternary`, `binary`, `fp16`, `bf16` or `none`. `overrides`
    gives other schemes to weights whose name matches a glob
    (`h.0.*=int8`); `keep-first-last` keeps the linear layers of the first
    and last `tfm.layer` and those outside layers (the LM head) in fp32.
    A layer whose shape the scheme cannot pack (input features not a
    multiple of the group) is left in fp32 with a remark. Records the
    scheme, the layers quantized and the weight bytes before and after, in
    all and per parameter, in the module's `tmc.transforms`.

    With `output-error` (the default), the pass also measures the error
    that quantization introduces: TMC's reference evaluator runs the model
    on a calibration input (`calibration`: an `.npy` of int64 token ids
    `[1, S]`, or `calibration-tokens` random tokens drawn with
    `calibration-seed`) once with the fp32 weights and once with each
    quantized weight replaced by its dequantized values, computed by the
    packer's own functions (exactly what the kernels read). The record gets
    `output_rel_l2` = ||y_q - y|| / ||y|| over the model's outputs, and each
    parameter used by a linear layer its `layer_output_rel_l2`: the relative
    L2 of X (W - W_q)^T against X W^T on that layer's fp32 calibration
    activations X. W8A8's run-time activation quantization is not modelled
    (the record says `output_error_weights_only`). A model the evaluator
    cannot run is quantized all the same, and the record says why in
    `output_error_skipped`.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"none\"",
           "Quantization scheme of every linear layer">,
    ListOption<"overrides", "overrides", "std::string",
               "GLOB=SCHEME: the scheme of weights whose name matches GLOB">,
    Option<"keepFirstLast", "keep-first-last", "bool", /*default=*/"false",
           "Keep the first and last layers and the LM head in fp32">,
    Option<"outputError", "output-error", "bool", /*default=*/"true",
           "Measure the output error of quantization on a calibration "
           "input">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration input: .npy of int64 token ids [1, S] (default: "
           "random tokens)">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t",
           /*default=*/"32",
           "Number of random calibration tokens when no file is given">,
    Option<"calibrationSeed", "calibration-seed", "int64_t", /*default=*/"0",
           "Seed of the random calibration tokens">,
    Option<"weightsBaseDir", "weights-base-dir", "std::string",
           /*default=*/"\"\"",
           "Directory against which a relative tfm.weights_file resolves">
  ];
}

def TfmPrune : Pass<"tfm-prune", "::mlir::ModuleOp"> {
  let summary = "Prune linear layers' weights and store them compressed";
  let description = [{
    `scheme` is `2:4` (keep the 2 largest of every 4 weights along the
    input: values plus 2-bit positions, 1.88x fewer bytes), `magnitude:F`
    (zero the fraction F of each row's weights with the smallest
    magnitude), `magnitude:F:global` or `none`.

    `magnitude:F:global` chooses one magnitude threshold t over the weights
    of all the pruned linear layers together (each parameter counted once):
    with the T magnitudes sorted ascending as a[0..T), m = round(F T) and
    t = a[m] (+infinity when m = T). A layer's sparsity F_l is the fraction
    of its own weights with |w| < t (at most (size - 1) / size), and the
    layer is then pruned exactly as `magnitude:F_l`: every row keeps its
    round((1 - F_l) K) largest magnitudes, so rows keep equal counts and the
    compressed format and kernels are those of per-row pruning. The rows of
    a layer may therefore keep a few weights below t or drop a few above it.

    Magnitude-pruned weights are stored compressed (values plus i16 column
    numbers) only where that saves bytes, i.e. when F > 1/3; otherwise they
    stay dense with zeros. The pruned layers become `tfm.sparse_linear`
    ops (or keep `tfm.linear` on a dense pruned weight) on derived
    parameters that the packer computes. Records the scheme, the weight
    bytes before and after, and per layer its sparsity and bytes (and the
    global threshold) in `tmc.transforms`. Quantized layers are left alone
    (prune before quantizing is not combined yet).
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"none\"",
           "Pruning scheme: 2:4, magnitude:F, magnitude:F:global or none">,
    Option<"weightsBaseDir", "weights-base-dir", "std::string",
           /*default=*/"\"\"",
           "Directory against which a relative tfm.weights_file resolves "
           "(global magnitude pruning reads the weights)">
  ];
}

def TfmLowRank : Pass<"tfm-low-rank", "::mlir::ModuleOp"> {
  let summary = "Factorize linear layers' weights by a truncated SVD";
  let description = [{
    Replaces `tfm.linear %x, %W` (W of N x K) by two linear layers
    `tfm.linear (tfm.linear %x, %V), %U` with V of R x K and U of N x R,
    computed at compile time by a truncated SVD of W (Eigen, in double
    precision; the singular values are split evenly between the factors).
    The factors are new inline parameters; the bias stays on the second
    layer. `scheme` chooses the rank of each layer:

    - `rank:R` — R (at most min(N, K));
    - `energy:E` — the smallest rank whose singular values keep the fraction
      E of the squared Frobenius norm (0 < E <= 1);
    - `params:F` — the linear layers keep about F of their weights in all,
      ranks spread greedily where each kept parameter removes the most
      relative squared error (0 < F <= 1);
    - `none`.

    A layer where the factors would not be smaller than the weight
    (R (N + K) >= N K), or whose weight has other users (a tied embedding),
    is left alone with a remark saying why, unless `force` is set.

    With `activation-aware`, the model is first evaluated on a calibration
    input (`calibration`: an `.npy` of int64 token ids `[1, S]`, or
    `calibration-tokens` random tokens) by TMC's reference evaluator; each
    layer's input Gram matrix G = X^T X whitens the SVD (SVD-LLM): with
    G + eps I = S S^T, the SVD of W S is truncated and multiplied by S^-1,
    which minimizes the layer's output error on the calibration input at
    the chosen rank. Ranks are then chosen on that whitened spectrum.

    Records, per factorized layer, its shape, rank, bytes before and after
    and its relative error (Frobenius, of the weight; and in
    activation-aware mode the relative output error on the calibration
    input of both the plain and the activation-aware factors) in the
    module's `tmc.transforms`.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"none\"",
           "Rank selection: rank:R, energy:E, params:F or none">,
    Option<"force", "force", "bool", /*default=*/"false",
           "Factorize also layers where that saves no bytes">,
    Option<"activationAware", "activation-aware", "bool",
           /*default=*/"false",
           "Whiten the SVD by the layers' input statistics on a calibration "
           "input">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration input: .npy of int64 token ids [1, S] (default: "
           "random tokens)">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t",
           /*default=*/"128",
           "Number of random calibration tokens when no file is given">,
    Option<"calibrationSeed", "calibration-seed", "int64_t", /*default=*/"0",
           "Seed of the random calibration tokens">,
    Option<"weightsBaseDir", "weights-base-dir", "std::string",
           /*default=*/"\"\"",
           "Directory against which a relative tfm.weights_file resolves">
  ];
}

def TfmLinformer : Pass<"tfm-linformer", "::mlir::ModuleOp"> {
  let summary = "Project attention keys and values along the sequence";
  let description = [{
    Replaces each non-causal, dense `tfm.attention` whose key length n is
    static by `tfm.linformer_attention` with new `[k, n]` projections E and
    F of keys and values (inline parameters named `<layer>.linformer.E` /
    `.F`, drawn from N(0, 1/k) with `seed`: a Johnson-Lindenstrauss
    projection, as Linformer's untrained initialization). Causal attention
    is refused with an error: a projected key mixes every position, later
    ones included. Attention with a sparsity pattern, or with n <= k, is
    left alone with a remark. Models whose projections were trained use
    `tfm.linformer_attention` directly. Records the attention ops changed and
    the score elements per head before (n x n) and after (n x k).
  }];
  let options = [
    Option<"projected", "k", "int64_t", /*default=*/"0",
           "Projected sequence length k (0: do nothing)">,
    Option<"seed", "seed", "int64_t", /*default=*/"0",
           "Seed of the random projections">
  ];
}

def TfmInlineLayers : Pass<"tfm-inline-layers", "::mlir::func::FuncOp"> {
  let summary = "Inline the bodies of tfm.layer ops";
  let description = [{
    Replaces every `tfm.layer` by its body, binding the body's arguments to
    the layer's inputs and its results to the yielded values. Code
    generation works on the flat function. With `tag`, every inlined op
    keeps its layer's index in a `tfm.layer_index` attribute, which
    `tfm-autodiff` carries to the backward ops and `tfm-rematerialize` uses
    to keep or recompute whole layers.
  }];
  let options = [
    Option<"tag", "tag", "bool", /*default=*/"false",
           "Record each inlined op's layer index (tfm.layer_index)">
  ];
}

def TfmAutodiff : Pass<"tfm-autodiff", "::mlir::ModuleOp"> {
  let summary = "Turn the forward function into a training step";
  let description = [{
    Replaces `@forward` (one result: logits or hidden states) by a training
    step that returns the loss and the gradient of every parameter:
    - a target argument is appended: `labels` (class ids `[batch, seq]`)
      for `cross_entropy`, `target` (the output's type) for `mse`, or
      `teacher_logits` (the output's type) for `kl_div:T` (distillation
      at temperature `T`, default 1);
    - after the forward ops come `tfm.loss` and the backward ops, in reverse
      order, each built by the rule of its forward op (`tfm.linear` gives a
      transposed `tfm.linear` and `tfm.linear_weight_grad`, `tfm.attention`
      gives `tfm.attention_grad`, and so on); gradients of a value used
      several times are summed;
    - the results are `loss` (`tensor<1xf32>`) and then `grad.NAME` for
      every `tfm.param` NAME in order of first use (a tied weight gets one
      gradient, summed over its uses).
    Backward ops inherit the `tfm.layer_index` of their forward op. The
    function must have static shapes (`tfm-set-seq-len`) and no layers
    (`tfm-inline-layers{tag}`). Ops without a gradient rule (quantized,
    sparse, Linformer or cached attention) are reported as errors: train
    first, compress afterwards.
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"\"",
           "cross_entropy, mse or kl_div[:T] with temperature T (default "
           "1; default loss: cross_entropy for models whose output is "
           "logits, mse otherwise)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TfmRematerialize : Pass<"tfm-rematerialize", "::mlir::ModuleOp"> {
  let summary = "Choose which activations a training step keeps or recomputes";
  let description = [{
    Works on a training step from `tfm-autodiff`. For every layer it decides
    whether the activations its backward ops read are stored from the
    forward pass or recomputed just before the layer's backward from a
    stored checkpoint:
    - `none`: store every activation;
    - `all`: store only each layer's input and recompute the rest (per-block
      checkpointing);
    - `sqrt`: segments of about sqrt(L) layers keep only their input
      (Chen et al.); a segment is recomputed at once before its backward;
    - `optimal`: the least recomputation whose estimated peak fits
      `budget` bytes, by dynamic programming over the chain of layers.
      Each segment of layers is stored, stored with its cheap activations
      (norms, activation functions, residual sums) recomputed, or
      recomputed from its input.
    Recomputed ops are clones placed before the first backward op of their
    segment, marked `tfm.recompute`; the forward ops' values then die in
    the forward pass and buffer planning reuses their memory. The decision
    is recorded in the module's `tmc.transforms` for the report. When no
    schedule fits the budget, the pass fails and names the smallest
    estimate that would. The compiler checks the planned arena against the
    budget afterwards and tightens it until the plan fits.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"none\"",
           "none, all, sqrt or optimal">,
    Option<"budget", "budget", "int64_t", /*default=*/"0",
           "Activation memory budget in bytes for optimal (0: none)">,
    Option<"minimize", "minimize", "bool", /*default=*/"false",
           "When no schedule fits the budget, take the one of least "
           "estimated peak (recorded as `over_budget`) instead of failing">
  ];
}

def TfmKVCache : Pass<"tfm-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Turn a causal model into prefill and decode steps over a "
                "KV cache";
  let description = [{
    Replaces the model function `forward` (a causal decoder: input token
    ids, output logits) by two entry points that share a key/value cache:
    `prefill` runs a chunk of `chunk` tokens and `decode` one token. Each
    takes the cache (a byte buffer the runtime owns, first argument), the
    token ids, the absolute `position` of its first token and, for
    `prefill`, the `length` of the chunk's valid prefix (the rest is
    padding); each returns the logits of its last valid token
    (`[1, 1, vocab]`). Position ids and rotary embeddings start at
    `position`, and every `tfm.attention` becomes a `tfm.cached_attention`
    that appends the chunk's keys and values to its layer's part of the
    cache and attends over the cached positions.

    The cache holds `max-tokens` positions (0: the model's
    `tfm.max_positions`) in `cache-type` `f32`, `int8` or `int4`
    (per-row-and-head scales; int4 per group of 32 values). A layer whose
    attention has a sliding `#tfm.window` pattern keeps only a ring buffer
    of `window + chunk - 1` rows plus `sinks` attention-sink rows
    (StreamingLLM), so its memory stays flat however long the generation.
    The cache layout, sizes and limits are recorded on the module as
    `tmc.decode` for the ABI and the report. Run after `tfm-inline-layers`
    and before `tfm-bind-weights`.
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"0",
           "Positions the cache holds (0: the model's maximum positions)">,
    Option<"chunk", "chunk", "int64_t", /*default=*/"128",
           "Tokens per prefill call">,
    Option<"cacheType", "cache-type", "std::string", /*default=*/"\"f32\"",
           "Storage of cached keys and values: f32, int8 or int4">,
    Option<"sinks", "sinks", "int64_t", /*default=*/"0",
           "Attention-sink positions kept beside a sliding window">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TfmBindWeights : Pass<"tfm-bind-weights", "::mlir::ModuleOp"> {
  let summary = "Bind parameters to offsets in one packed weights buffer";
  let description = [{
    Gives every function that holds `tfm.param` ops two leading arguments,
    the packed weights and the activation arena (`memref<?xi8>`, named
    `weights` and `arena`), assigns each distinct parameter an offset in the
    weights buffer (in order of first use, each aligned to `alignment`
    bytes), and replaces each `tfm.param` by a `memref.view` of the weights
    at its offset, read as a tensor with `bufferization.to_tensor restrict`.
    The layout is recorded on the module as `tmc.weight_layout` (one entry
    per parameter: name, offset, type and, for inline parameters, value) and
    `tmc.weights_bytes`, for the packer and the report. For the model
    function `forward`, it also records the input/output signature of the
    compiled-model ABI (`tmc.signature`, docs/ABI.md) and asks for its C
    interface (`llvm.emit_c_interface`). Parameters must not
    be inside `tfm.layer` ops (run `tfm-inline-layers` first), and two
    parameters with one name must have one type.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every parameter in the weights buffer">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD
