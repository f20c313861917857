//===- TfmOps.td - tfm operations --------------------------*- tablegen -*-===//
//
// Operations of the tfm dialect. Each op's description gives its exact
// numerical meaning; docs/Rationale.md explains the choice of ops.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_TFMOPS_TD
#define TMC_DIALECT_TFM_IR_TFMOPS_TD

include "tmc/Dialect/Tfm/IR/TfmDialect.td"
include "tmc/Dialect/Tfm/IR/TfmAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tfm_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Tfm_IdsTensor : 2DTensorOf<[I32, I64]>;
def Tfm_ActTensor : 3DTensorOf<[AnyFloat]>;
def Tfm_Vector : 1DTensorOf<[AnyFloat]>;

def Tfm_SparsityPattern : Attr<
    CPred<"::llvm::isa<::mlir::tfm::SparsityPatternAttrInterface>($_self)">,
    "attention sparsity pattern"> {
  let storageType = "::mlir::tfm::SparsityPatternAttrInterface";
  let returnType = "::mlir::tfm::SparsityPatternAttrInterface";
  let convertFromStorage = "$_self";
}

//===----------------------------------------------------------------------===//
// Parameters and inputs
//===----------------------------------------------------------------------===//

def Tfm_ParamOp : Tfm_Op<"param", [Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "a named model parameter (weight)";
  let description = [{
    A named, statically shaped model parameter. With a `value`, the data is
    inline (a `dense_resource` blob or a dense attribute of the result type).
    Without one, the data is the tensor of the same name in the safetensors
    file that the enclosing module's `tfm.weights_file` attribute names, so a
    large model never has to be written as text.

    A *derived* parameter (`quant` set by `tfm-quantize`, or `prune` set by
    `tfm-prune`, whose parts are `values` and `indices`) is one
    part (`values`, `scales` or `zeros`) of the quantized form of the fp32
    parameter `source` (stored `[out, in]`, or `[in, out]` when
    `source_layout = in_out`): the packer computes it from the source data
    at compile time. Its `value`, if any, is the source's inline value.

    ```mlir
    %w = tfm.param "h.0.attn.c_attn.weight" : tensor<64x192xf32>
    %b = tfm.param "h.0.attn.c_attn.bias" {value = dense_resource<b0> : tensor<192xf32>} : tensor<192xf32>
    %q = tfm.param "fc.weight:int8:values" {quant = #tfm.quant<kind = int8>, part = "values", source = "fc.weight"} : tensor<256x64xi8>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<ElementsAttr>:$value,
                       OptionalAttr<StrAttr>:$source,
                       OptionalAttr<Tfm_QuantSchemeAttr>:$quant,
                       OptionalAttr<Tfm_PruneSchemeAttr>:$prune,
                       OptionalAttr<StrAttr>:$part,
                       OptionalAttr<Tfm_WeightLayoutAttr>:$source_layout);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_PositionsOp : Tfm_Op<"positions", [Pure,
    AllTypesMatch<["ids", "result"]>]> {
  let summary = "position ids shaped like a tensor of token ids";
  let description = [{
    Produces `result[b, s] = start + offset + stride * s`, shaped like `ids`
    (whose values are not read): `stride = 1` gives the position ids of a
    sequence starting at `offset`; `stride = 0` gives a constant id (BERT's
    token type 0). The optional `start` (a run-time position, 0 when absent)
    is where a chunk of tokens begins when a KV cache holds the tokens
    before it.

    ```mlir
    %pos = tfm.positions like %ids {offset = 0, stride = 1} : tensor<1x?xi64>
    %pos = tfm.positions like %ids from %start : tensor<1x1xi64>
    ```
  }];
  let arguments = (ins Tfm_IdsTensor:$ids, Optional<I64>:$start,
                       DefaultValuedAttr<ConfinedAttr<I64Attr,
                           [IntNonNegative]>, "0">:$offset,
                       DefaultValuedAttr<ConfinedAttr<I64Attr,
                           [IntNonNegative]>, "1">:$stride);
  let results = (outs Tfm_IdsTensor:$result);
  let assemblyFormat = "`like` $ids (`from` $start^)? attr-dict `:` type($ids)";
}

//===----------------------------------------------------------------------===//
// Embeddings, linear layers, norms
//===----------------------------------------------------------------------===//

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure, InferTypeOpAdaptor]> {
  let summary = "embedding table lookup";
  let description = [{
    `result[b, s, :] = table[ids[b, s], :]` for a table of shape
    `[vocab, dim]` and ids of shape `[batch, seq]`. An id outside
    `[0, vocab)` is a run-time error of the compiled model.
  }];
  let arguments = (ins Tfm_FloatTensor:$table, Tfm_IdsTensor:$ids);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` type($table) `,` type($ids)
  }];
}

def Tfm_QuantizedEmbeddingOp : Tfm_Op<"quantized_embedding", [Pure,
    AttrSizedOperandSegments, InferTypeOpAdaptor]> {
  let summary = "embedding lookup in a quantized, packed table";
  let description = [{
    `result[b, s, :] = dequant(table[ids[b, s], :])` where the table
    `[vocab, dim]` is stored as `tfm.quantized_linear` stores a weight of
    `vocab` outputs and `dim` inputs under `quant` (packed `values`, and the
    `scales` and `zeros` the scheme needs): only the rows that are read are
    dequantized, and a tied LM head (a `tfm.quantized_linear` on the same
    derived parameters) shares the one packed table. `w8a8` (which quantizes
    activations) does not apply to lookups.

    ```mlir
    %e = tfm.quantized_embedding %values[%ids] scales %scales
        {quant = #tfm.quant<kind = int8>}
        : (tensor<50257x768xi8>, tensor<1x?xi64>, tensor<50257x1xf32>)
          -> tensor<1x?x768xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$values, Tfm_IdsTensor:$ids,
                       Optional<AnyRankedTensor>:$scales,
                       Optional<AnyRankedTensor>:$zeros,
                       Tfm_QuantSchemeAttr:$quant);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $values `[` $ids `]` (`scales` $scales^)? (`zeros` $zeros^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The size of one embedding vector.
    int64_t getEmbeddingDim();
  }];
}

def Tfm_LinearOp : Tfm_Op<"linear", [Pure, InferTypeOpAdaptor]> {
  let summary = "fully connected layer y = x W^T + b";
  let description = [{
    `result[..., n] = sum_k x[..., k] * W[n, k] + bias[n]` with the weight
    stored `[out, in]` (`layout = out_in`, PyTorch's `nn.Linear`) or
    `[in, out]` (`layout = in_out`, GPT-2's `Conv1D`). The bias is optional.
    Accumulation is in fp32. An optional `quant` attribute requests a
    quantization scheme that `tfm-quantize` applies.

    ```mlir
    %y = tfm.linear %x, %w, %b {layout = #tfm<layout in_out>}
        : tensor<1x?x64xf32>, tensor<64x192xf32>, tensor<192xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                       Optional<Tfm_Vector>:$bias,
                       DefaultValuedAttr<Tfm_WeightLayoutAttr,
                           "::mlir::tfm::WeightLayout::out_in">:$layout,
                       OptionalAttr<Tfm_QuantSchemeAttr>:$quant,
                       OptionalAttr<Tfm_PruneSchemeAttr>:$prune);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)?
  }];
  let extraClassDeclaration = [{
    /// Number of input features (K) read from the weight's shape.
    int64_t getInFeatures();
    /// Number of output features (N) read from the weight's shape.
    int64_t getOutFeatures();
  }];
}

def Tfm_QuantizedLinearOp : Tfm_Op<"quantized_linear", [Pure,
    AttrSizedOperandSegments]> {
  let summary = "fully connected layer on packed, quantized weights";
  let description = [{
    `result[..., n] = sum_k x[..., k] * w[n, k] + bias[n]`, where `w` is the
    weight dequantized from its packed form, in registers, per `quant`
    (TfmAttrs.td; the packed layouts are those of docs/Quantization.md):
    - `int8`: `weight` [N, K] i8, `scales` [N, 1]: `w = q * s[n]`;
    - `int4` (group g): `weight` [N, K/2] bytes (low nibble first), `scales`
      (and with zero-points `zeros`) [N, K/g]; symmetric nibbles are signed,
      `w = q * s`, asymmetric ones unsigned, `w = (q - z) * s`;
    - `ternary`: `weight` [N, K/4] bytes of 2-bit codes (0, +1, -1),
      `scales` [1, 1];
    - `binary`: `weight` [N, K/8] bytes of sign bits (1: +1), `scales` [N, 1];
    - `fp16` / `bf16`: `weight` [N, K] of that type, no scales.
    Accumulation is in fp32. Produced by `tfm-quantize` from `tfm.linear`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$scales,
                       Optional<AnyRankedTensor>:$zeros,
                       Optional<Tfm_Vector>:$bias,
                       Tfm_QuantSchemeAttr:$quant);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`scales` $scales^)? (`zeros` $zeros^)?
    (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of input features (K), from the input.
    int64_t getInFeatures();
    /// The number of output features (N), from the result.
    int64_t getOutFeatures();
  }];
}

def Tfm_SparseLinearOp : Tfm_Op<"sparse_linear", [Pure]> {
  let summary = "fully connected layer on pruned, compressed weights";
  let description = [{
    `result[..., n] = sum_k x[..., k] * w[n, k] + bias[n]` where the weight
    is stored compressed per `prune`:
    - `two_four`: `values` [N, K/2] holds the 2 kept weights of every 4
      along the input, `indices` [N, K/8] bytes their 2-bit positions in
      the group (kept value `j` at bits `2 (j mod 4)` of byte `j / 4`):
      `w[n, 4 (j / 2) + idx(n, j)] = values[n, j]`;
    - `magnitude`: `values` [N, P] and `indices` [N, P] (i16 column
      numbers) hold the P weights of largest magnitude of each row:
      `w[n, indices[n, j]] = values[n, j]`.
    Every other weight is zero. Produced by `tfm-prune`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$values,
                       AnyRankedTensor:$indices,
                       Optional<Tfm_Vector>:$bias,
                       Tfm_PruneSchemeAttr:$prune);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $values `,` $indices (`bias` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [Pure, AllTypesMatch<["gamma", "beta"]>,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    With `D` the last dimension, `mu = mean(x)`, `var = mean((x - mu)^2)`
    (biased), `result = (x - mu) / sqrt(var + epsilon) * gamma + beta`.
    The epsilon is added to the variance, inside the square root.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_Vector:$gamma,
                       Tfm_Vector:$beta,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta attr-dict `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Tfm_RMSNormOp : Tfm_Op<"rms_norm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `result = x / sqrt(mean(x^2) + epsilon) * gamma` over the last
    dimension (LLaMA's RMSNorm; epsilon inside the square root).
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_Vector:$gamma,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma attr-dict `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Tfm_RotaryOp : Tfm_Op<"rope", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding (half-rotation convention)";
  let description = [{
    For an input `[batch, seq, heads * head_dim]`, in every head, with
    `h = head_dim / 2`, position `p = offset + s` and
    `inv_freq[i] = theta ^ (-2 i / head_dim)`, `angle = p * inv_freq[i]`:
    `out[i]     = x[i] * cos(angle) - x[i + h] * sin(angle)` and
    `out[i + h] = x[i + h] * cos(angle) + x[i] * sin(angle)` for `i < h`:
    the `rotate_half` convention of Hugging Face's LLaMA. The optional
    run-time `start` is added to `p` (a chunk after cached tokens). With
    `inverse` the rotation is by `-angle`: the transpose of the rotation,
    which is the gradient of the forward one.
  }];
  let arguments = (ins Tfm_ActTensor:$input, Optional<I64>:$start,
                       I64Attr:$head_dim,
                       DefaultValuedAttr<F64Attr, "10000.0">:$theta,
                       DefaultValuedAttr<ConfinedAttr<I64Attr,
                           [IntNonNegative]>, "0">:$offset,
                       UnitAttr:$inverse);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = "$input (`from` $start^)? attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure, InferTypeOpAdaptor]> {
  let summary = "multi-head scaled dot-product attention";
  let description = [{
    Queries `[batch, seq_q, num_heads * head_dim]`, keys and values
    `[batch, seq_k, num_kv_heads * head_dim]`. Query head `h` reads key/value
    head `h / (num_heads / num_kv_heads)` (grouped-query attention; multi-head
    when the counts match). For each head:
    `out = softmax(scale * q k^T + mask) v`, with `scale` defaulting to
    `1 / sqrt(head_dim)`. The mask keeps key `j` for query `i` when the
    sparsity pattern (if any) keeps it and, with `causal`, when
    `j <= i + (seq_k - seq_q)` (queries are the last `seq_q` positions).
    The result has the query's shape.

    ```mlir
    %o = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 4,
        causal, sparsity = #tfm.window<size = 256>}
        : tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Tfm_ActTensor:$query, Tfm_ActTensor:$key,
                       Tfm_ActTensor:$value,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<Tfm_SparsityPattern>:$sparsity);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` type($query) `,` type($key) `,`
    type($value)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
    /// The scale applied to the scores: `scale` or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def Tfm_FusedAttentionOp : Tfm_Op<"fused_attention"> {
  let summary = "attention on buffers, computed as one fused kernel";
  let description = [{
    The buffer form of `tfm.attention` that the CUDA pipeline lowers to one
    GPU kernel (`tmc-gpu-fused-attention`): queries
    `[batch, seq_q, num_heads * head_dim]`, keys and values
    `[batch, seq_k, num_kv_heads * head_dim]`, all f32 with static shapes,
    and `output` of the query's shape, which it writes. The semantics are
    `tfm.attention`'s with the same attributes (`scale` is explicit here);
    `block_q` x `block_k` is the tile of the online softmax: a block of the
    kernel owns `block_q` queries and visits the keys `block_k` at a time,
    skipping the key blocks that the causal mask or the sparsity pattern
    drops entirely. With `rope_query` (`rope_key`), the queries (keys) are
    first rotated as `tfm.rope {head_dim, theta = rope_theta, offset =
    rope_offset}` would rotate them, row `i` at position `rope_offset + i`:
    the kernel rotates them as it loads them, and no buffer holds the
    rotated values.

    ```mlir
    tfm.fused_attention %q, %k, %v into %out {num_heads = 4,
        num_kv_heads = 4, scale = 0.125, block_q = 64, block_k = 64, causal}
        : memref<1x128x256xf32>, memref<1x128x256xf32>,
          memref<1x128x256xf32>, memref<1x128x256xf32>
    ```
  }];
  let arguments = (ins
      Arg<MemRefRankOf<[F32], [3]>, "queries", [MemRead]>:$query,
      Arg<MemRefRankOf<[F32], [3]>, "keys", [MemRead]>:$key,
      Arg<MemRefRankOf<[F32], [3]>, "values", [MemRead]>:$value,
      Arg<MemRefRankOf<[F32], [3]>, "the result", [MemWrite]>:$output,
      ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
      ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
      UnitAttr:$causal, F64Attr:$scale,
      ConfinedAttr<I64Attr, [IntPositive]>:$block_q,
      ConfinedAttr<I64Attr, [IntPositive]>:$block_k,
      OptionalAttr<Tfm_SparsityPattern>:$sparsity,
      UnitAttr:$rope_query, UnitAttr:$rope_key,
      OptionalAttr<F64Attr>:$rope_theta,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:
          $rope_offset);
  let assemblyFormat = [{
    $query `,` $key `,` $value `into` $output attr-dict `:` type($query) `,`
    type($key) `,` type($value) `,` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
  }];
}

def Tfm_CachedAttentionOp : Tfm_Op<"cached_attention", [
    AllTypesMatch<["query", "result"]>]> {
  let summary = "causal attention of a chunk of tokens over a KV cache";
  let description = [{
    One step of incremental decoding. The chunk's keys and values
    `[1, seq, num_kv_heads * head_dim]` are written into the cache at the
    absolute positions `start .. start + seq - 1`, then each query (at
    absolute position `p = start + s`) attends causally to the cached
    positions `[0, p]` — or, with `window = W > 0`, to `[p - W + 1, p]` plus
    the first `sinks` positions (attention sinks, StreamingLLM) — with
    `softmax(scale * q k^T) v` per head (grouped-query heads as in
    `tfm.attention`).

    The cache is the byte buffer `cache` (owned by the runtime, persistent
    across calls). This layer's keys live at byte `k_offset`, its values at
    `v_offset`, each `capacity` rows of `num_kv_heads * head_dim` values
    stored with `cache_bits` bits: 32 (f32), 8 (int8, one f32 scale per row
    and head) or 4 (int4 packed two per byte, one f32 scale per row, head
    and group of 32 values). A position `a` lives in row `a` without a
    window; with one, positions below `sinks` keep their rows and the
    others share the remaining `capacity - sinks` rows as a ring buffer,
    which must hold at least `window + seq - 1` rows.

    ```mlir
    %o = tfm.cached_attention %q, %k, %v, %cache from %start {
        num_heads = 12, num_kv_heads = 12, k_offset = 0, v_offset = 65536,
        capacity = 1024, cache_bits = 32}
        : tensor<1x1x768xf32>, tensor<1x1x768xf32>, tensor<1x1x768xf32>,
          memref<?xi8>
    ```
  }];
  let arguments = (ins Tfm_ActTensor:$query, Tfm_ActTensor:$key,
                       Tfm_ActTensor:$value,
                       Arg<MemRefRankOf<[I8], [1]>, "the KV cache",
                           [MemRead, MemWrite]>:$cache,
                       I64:$start,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       OptionalAttr<F64Attr>:$scale,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$k_offset,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$v_offset,
                       ConfinedAttr<I64Attr, [IntPositive]>:$capacity,
                       DefaultValuedAttr<ConfinedAttr<I64Attr,
                           [IntNonNegative]>, "0">:$window,
                       DefaultValuedAttr<ConfinedAttr<I64Attr,
                           [IntNonNegative]>, "0">:$sinks,
                       DefaultValuedAttr<I64Attr, "32">:$cache_bits);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `from` $start attr-dict `:`
    type($query) `,` type($key) `,` type($value) `,` type($cache)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
    /// The scale applied to the scores: `scale` or 1/sqrt(head_dim).
    double getScaleOrDefault();
    /// Bytes of one layer's keys (or values) for `rows` cached positions of
    /// `kv_heads` heads of `head_dim` values stored with `bits` bits.
    static int64_t getCacheBytes(int64_t rows, int64_t kvHeads,
                                 int64_t headDim, int64_t bits);
    /// The part of getCacheBytes before the scales: the values themselves.
    static int64_t getValueBytes(int64_t rows, int64_t kvHeads,
                                 int64_t headDim, int64_t bits);
    /// Values that share one int4 scale.
    static constexpr int64_t kInt4Group = 32;
  }];
}

def Tfm_FusedNormOp : Tfm_Op<"fused_norm"> {
  let summary = "layer or RMS normalization on buffers, computed as a kernel";
  let description = [{
    The buffer form of `tfm.layer_norm` and `tfm.rms_norm` that the CUDA
    pipeline lowers to one GPU kernel per op (`tmc-gpu-fused-norms`): each
    row of `input` (static shape, normalized over its last dimension `D`) is
    written to the same row of `output` (the same shape). With `beta`, layer
    normalization, `(x - mean) / sqrt(var + epsilon) * gamma + beta` with the
    biased variance; without, RMS normalization, `x / sqrt(mean(x^2) +
    epsilon) * gamma`. `gamma` and `beta` are `[D]`.

    ```mlir
    tfm.fused_norm %x, %gamma, %beta into %out {epsilon = 1.0e-05 : f64}
        : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<64xf32>,
          memref<64xf32>
    tfm.fused_norm %x, %gamma into %out {epsilon = 1.0e-06 : f64}
        : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins
      Arg<MemRefOf<[F32]>, "the rows", [MemRead]>:$input,
      Arg<MemRefRankOf<[F32], [1]>, "the scale", [MemRead]>:$gamma,
      Arg<Optional<MemRefRankOf<[F32], [1]>>, "the shift (layer norm)",
          [MemRead]>:$beta,
      Arg<MemRefOf<[F32]>, "the result", [MemWrite]>:$output,
      F64Attr:$epsilon);
  let assemblyFormat = [{
    $input `,` $gamma (`,` $beta^)? `into` $output attr-dict `:`
    type($input) `,` type($output) `,` type($gamma) (`,` type($beta)^)?
  }];
  let hasVerifier = 1;
}

def Tfm_LazyNormOp : Tfm_Op<"lazy_norm", [Pure]> {
  let summary = "a layer or RMS norm that the matmul kernels reading it compute";
  let description = [{
    The rows of `input` normalized as `tfm.fused_norm` would write them,
    left to the GPU matmul kernels that read the result: no buffer holds it.
    `tmc-gpu-defer-norms` creates it, before the buffer plan, in place of a
    `tfm.fused_norm` whose output only such kernels read; the matmul kernels
    of `tmc-gpu-tile-matmuls` read `input` instead and normalize its rows
    as they stage them, and the op is gone after that pass. Its result may
    be read only as the (m, k) input of those contractions, through
    reshapes. Like a view, it keeps `input` live for the buffer plan as long
    as its result is read.

    ```mlir
    %n = tfm.lazy_norm %x, %gamma {epsilon = 1.0e-06 : f64}
        : memref<1x8x64xf32>, memref<64xf32> -> memref<1x8x64xf32>
    ```
  }];
  let arguments = (ins
      MemRefOf<[F32]>:$input,
      MemRefRankOf<[F32], [1]>:$gamma,
      Optional<MemRefRankOf<[F32], [1]>>:$beta,
      F64Attr:$epsilon);
  let results = (outs MemRefOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $gamma (`,` $beta^)? attr-dict `:`
    type($input) `,` type($gamma) (`,` type($beta)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_FusedCachedAttentionOp : Tfm_Op<"fused_cached_attention"> {
  let summary = "attention over a KV cache on buffers, computed as kernels";
  let description = [{
    The buffer form of `tfm.cached_attention` that the CUDA pipeline lowers
    to GPU kernels (`tmc-gpu-cached-attention`): the chunk's queries
    `[1, seq, num_heads * head_dim]`, keys and values
    `[1, seq, num_kv_heads * head_dim]` (f32, static shapes), the cache, the
    absolute position `start` of the chunk's first token, and `output` of
    the query's shape, which it writes. The semantics and the cache layout
    are `tfm.cached_attention`'s with the same attributes (`scale` is
    explicit here).

    With `split = L > 0`, each query's visible positions are cut into
    pieces of `L` that the target computes separately (flash-decoding: more
    blocks for a decoding step's single query) and then combines. Each
    piece's partial result goes to `scratch`, `[seq, num_heads,
    ceil(visible / L), head_dim + 2]` f32, where `visible` is the most
    positions a query sees (`capacity`, or `min(capacity, window + sinks)`
    with a window): per (query, head, piece) the
    running maximum of its scores, the sum of their exponentials and the
    unnormalized `head_dim` outputs. Its contents before and after the op
    are unspecified.

    With `rope_query` (`rope_key`), the chunk's queries (keys) are first
    rotated as `tfm.rope {head_dim, theta = rope_theta, offset =
    rope_offset} from start` would rotate them: the kernels rotate them as
    they load them (the keys as they are appended to the cache).

    ```mlir
    tfm.fused_cached_attention %q, %k, %v, %cache from %start into %out {
        num_heads = 4, num_kv_heads = 4, scale = 0.125, k_offset = 0,
        v_offset = 8192, capacity = 32, window = 0, sinks = 0,
        cache_bits = 32}
        : memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, ...
    tfm.fused_cached_attention %q, %k, %v, %cache from %start
        split by %scratch : memref<1x4x4x18xf32> into %out {..., split = 8}
        : ..., memref<1x1x64xf32>
    ```
  }];
  let arguments = (ins
      Arg<MemRefRankOf<[F32], [3]>, "queries", [MemRead]>:$query,
      Arg<MemRefRankOf<[F32], [3]>, "the chunk's keys", [MemRead]>:$key,
      Arg<MemRefRankOf<[F32], [3]>, "the chunk's values", [MemRead]>:$value,
      Arg<MemRefRankOf<[I8], [1]>, "the KV cache",
          [MemRead, MemWrite]>:$cache,
      I64:$start,
      Arg<Optional<MemRefRankOf<[F32], [4]>>,
          "partial results of the pieces of a split",
          [MemRead, MemWrite]>:$scratch,
      Arg<MemRefRankOf<[F32], [3]>, "the result", [MemWrite]>:$output,
      ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
      ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
      F64Attr:$scale,
      ConfinedAttr<I64Attr, [IntNonNegative]>:$k_offset,
      ConfinedAttr<I64Attr, [IntNonNegative]>:$v_offset,
      ConfinedAttr<I64Attr, [IntPositive]>:$capacity,
      ConfinedAttr<I64Attr, [IntNonNegative]>:$window,
      ConfinedAttr<I64Attr, [IntNonNegative]>:$sinks,
      I64Attr:$cache_bits,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$split,
      UnitAttr:$rope_query, UnitAttr:$rope_key,
      OptionalAttr<F64Attr>:$rope_theta,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:
          $rope_offset);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `from` $start
    (`split` `by` $scratch^ `:` type($scratch))? `into` $output
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($cache) `,` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
    /// The most positions a query sees: the cache's rows, or with a window
    /// the window and the sinks.
    static int64_t getMaxVisible(int64_t capacity, int64_t window,
                                 int64_t sinks) {
      return window > 0 ? std::min(capacity, window + sinks) : capacity;
    }
    /// The shape of the scratch buffer of a split of `split` positions.
    static SmallVector<int64_t, 4> getScratchShape(int64_t seq, int64_t heads,
                                                   int64_t visible,
                                                   int64_t headDim,
                                                   int64_t split);
  }];
}

def Tfm_LinformerAttentionOp : Tfm_Op<"linformer_attention", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "attention over keys and values projected along the sequence";
  let description = [{
    Linformer attention: keys and values `[batch, n, num_kv_heads *
    head_dim]` are first projected along the sequence by `key_projection`
    (E) and `value_projection` (F), both `[k, n]`:
    `K'[b, j, :] = sum_s E[j, s] K[b, s, :]`, `V'[b, j, :] = sum_s F[j, s]
    V[b, s, :]`; then each query head attends to the `k` projected keys as
    `tfm.attention` does (grouped-query heads, `scale` defaulting to
    `1 / sqrt(head_dim)`), without a mask: every projected key mixes all
    positions, so the op has no causal form (`tfm-linformer` refuses causal
    attention). The lowering keeps `[heads, seq_q, k]` scores, O(n k), and
    never an n x n matrix.

    ```mlir
    %o = tfm.linformer_attention %q, %k, %v proj %e, %f
        {num_heads = 4, num_kv_heads = 4}
        : tensor<1x128x64xf32>, tensor<1x128x64xf32>, tensor<1x128x64xf32>,
          tensor<16x128xf32>
    ```
  }];
  let arguments = (ins Tfm_ActTensor:$query, Tfm_ActTensor:$key,
                       Tfm_ActTensor:$value,
                       2DTensorOf<[AnyFloat]>:$key_projection,
                       2DTensorOf<[AnyFloat]>:$value_projection,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `proj` $key_projection `,` $value_projection
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($key_projection) `,` type($value_projection)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
    /// The scale applied to the scores: `scale` or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Tfm_ActivationOp : Tfm_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise activation function";
  let description = [{
    - `gelu_erf`: `0.5 x (1 + erf(x / sqrt(2)))` (BERT);
    - `gelu_tanh`: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (GPT-2);
    - `relu`: `max(x, 0)`;
    - `silu`: `x / (1 + exp(-x))` (LLaMA).
  }];
  let arguments = (ins Tfm_ActivationKindAttr:$kind, Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "``$kind $input attr-dict `:` type($input)";
}

def Tfm_GatedActivationOp : Tfm_Op<"gated_activation", [Pure,
    SameOperandsAndResultType]> {
  let summary = "gated feed-forward unit act(gate) * up";
  let description = [{
    `result = act(gate) * up` elementwise: SwiGLU with `silu` (LLaMA's MLP,
    `down(silu(gate(x)) * up(x))`), GeGLU with a gelu.
  }];
  let arguments = (ins Tfm_ActivationKindAttr:$kind, Tfm_FloatTensor:$gate,
                       Tfm_FloatTensor:$up);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "``$kind $gate `,` $up attr-dict `:` type($gate)";
}

def Tfm_AddOp : Tfm_Op<"add", [Pure, Commutative,
    SameOperandsAndResultType]> {
  let summary = "elementwise (residual) addition";
  let description = "`result = lhs + rhs` elementwise, operands of one type.";
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tfm_SplitOp : Tfm_Op<"split", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "split the last dimension into consecutive parts";
  let description = [{
    Cuts the last dimension of `input` into consecutive parts of the given
    `sizes`, which must add up to it: GPT-2's fused `c_attn` projection is
    split into queries, keys and values this way.

    ```mlir
    %q, %k, %v = tfm.split %qkv [64, 64, 64] : tensor<1x?x192xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Tfm_FloatTensor>:$results);
  let assemblyFormat = "$input $sizes attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Tfm_LayerOp : Tfm_Op<"layer", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">,
    RecursiveMemoryEffects, RecursivelySpeculatable]> {
  let summary = "one transformer block, as a unit";
  let description = [{
    Groups the ops of one transformer block so that passes can treat blocks
    as units (rematerialization keeps or recomputes a block, partitioning
    assigns blocks to stages, sparsification selects blocks by `index`).
    The region is isolated from above: the block's inputs are its operands,
    bound to the entry block's arguments, and its parameters are declared
    inside. `tfm.yield` returns the block's results. Semantically the op is
    its body inlined.

    ```mlir
    %y = tfm.layer "h.0" index 0 (%x) : (tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
    ^bb0(%a: tensor<1x?x64xf32>):
      ...
      tfm.yield %r : tensor<1x?x64xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$index,
                       Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `index` $index `(` $inputs `)` attr-dict `:`
    functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "int64_t":$index,
                   "::mlir::ValueRange":$inputs,
                   "::mlir::TypeRange":$resultTypes)>
  ];
}

def Tfm_YieldOp : Tfm_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"LayerOp">]> {
  let summary = "returns the results of a tfm.layer";
  let arguments = (ins Variadic<AnyType>:$operands);
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
  let assemblyFormat = "($operands^ `:` type($operands))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Training: losses and the backward ops `tfm-autodiff` emits
//===----------------------------------------------------------------------===//

def Tfm_LossOp : Tfm_Op<"loss", [Pure]> {
  let summary = "scalar training loss of a model's output";
  let description = [{
    Over the `T` rows (every index but the last) of `prediction`
    `[batch, seq, C]`:
    - `cross_entropy`: `target` holds class ids `[batch, seq]`;
      `loss = mean_t (logsumexp(p_t) - p_t[target_t])`;
    - `mse`: `target` has the prediction's type;
      `loss = mean over every element of (p - target)^2`;
    - `kl_div`: `target` holds a teacher's logits of the prediction's type;
      with temperature `tau`, `s = softmax(p / tau)`, `t = softmax(target /
      tau)`, `loss = tau^2 mean_t sum_c t (log t - log s)` (Hinton et al.'s
      distillation loss).

    The result is a one-element tensor.

    ```mlir
    %l = tfm.loss cross_entropy %logits, %labels
        : tensor<1x8x128xf32>, tensor<1x8xi64> -> tensor<1xf32>
    ```
  }];
  let arguments = (ins Tfm_LossKindAttr:$kind, Tfm_ActTensor:$prediction,
                       AnyRankedTensor:$target,
                       DefaultValuedAttr<F64Attr, "1.0">:$temperature);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $kind $prediction `,` $target attr-dict `:` type($prediction) `,`
    type($target) `->` type($result)
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::tfm::LossKind":$kind, "::mlir::Value":$prediction,
                   "::mlir::Value":$target, "double":$temperature)>
  ];
}

def Tfm_LossGradOp : Tfm_Op<"loss_grad", [Pure,
    AllTypesMatch<["prediction", "result"]>]> {
  let summary = "gradient of tfm.loss with respect to its prediction";
  let description = [{
    `d loss / d prediction` for the same `kind`, `target` and `temperature`
    as `tfm.loss`: `(softmax(p_t) - onehot(target_t)) / T`
    for cross entropy, `2 (p - target) / numel` for mse and
    `tau (softmax(p / tau) - softmax(target / tau)) / T` for kl_div.
  }];
  let arguments = (ins Tfm_LossKindAttr:$kind, Tfm_ActTensor:$prediction,
                       AnyRankedTensor:$target,
                       DefaultValuedAttr<F64Attr, "1.0">:$temperature);
  let results = (outs Tfm_ActTensor:$result);
  let assemblyFormat = [{
    $kind $prediction `,` $target attr-dict `:` type($prediction) `,`
    type($target)
  }];
}

def Tfm_LinearWeightGradOp : Tfm_Op<"linear_weight_grad", [Pure]> {
  let summary = "weight gradient of tfm.linear";
  let description = [{
    For `y = tfm.linear x, W` and an incoming gradient `dy`, the weight
    gradient summed over every row: `dW[n, k] = sum_t dy[t, n] x[t, k]` for
    `layout = out_in` and `dW[k, n]` for `in_out`. With a `bias_grad` result
    type it also returns `db[n] = sum_t dy[t, n]`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$grad_output,
                       DefaultValuedAttr<Tfm_WeightLayoutAttr,
                           "::mlir::tfm::WeightLayout::out_in">:$layout);
  let results = (outs Tfm_FloatTensor:$weight_grad,
                      Optional<Tfm_Vector>:$bias_grad);
  let assemblyFormat = [{
    $input `,` $grad_output attr-dict `:` type($input) `,` type($grad_output)
    `->` type($weight_grad) (`,` type($bias_grad)^)?
  }];
  let hasVerifier = 1;
}

def Tfm_LayerNormGradOp : Tfm_Op<"layer_norm_grad", [Pure,
    AllTypesMatch<["input", "grad_output", "input_grad"]>,
    AllTypesMatch<["gamma", "gamma_grad", "beta_grad"]>]> {
  let summary = "gradients of tfm.layer_norm";
  let description = [{
    With `xhat = (x - mu) rstd` recomputed from `input` and the incoming
    gradient `dy`: `dgamma = sum_t dy xhat`, `dbeta = sum_t dy` and
    `dx = rstd (g - mean(g) - xhat mean(g xhat))` where `g = dy gamma`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_Vector:$gamma,
                       Tfm_FloatTensor:$grad_output,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_FloatTensor:$input_grad, Tfm_Vector:$gamma_grad,
                      Tfm_Vector:$beta_grad);
  let assemblyFormat = [{
    $input `,` $gamma `,` $grad_output attr-dict `:` type($input) `,`
    type($gamma)
  }];
}

def Tfm_RMSNormGradOp : Tfm_Op<"rms_norm_grad", [Pure,
    AllTypesMatch<["input", "grad_output", "input_grad"]>,
    AllTypesMatch<["gamma", "gamma_grad"]>]> {
  let summary = "gradients of tfm.rms_norm";
  let description = [{
    With `r = 1 / sqrt(mean(x^2) + epsilon)` recomputed from `input`:
    `dgamma = sum_t dy x r` and `dx = r (g - x r^2 mean(g x))` where
    `g = dy gamma`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_Vector:$gamma,
                       Tfm_FloatTensor:$grad_output,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs Tfm_FloatTensor:$input_grad, Tfm_Vector:$gamma_grad);
  let assemblyFormat = [{
    $input `,` $gamma `,` $grad_output attr-dict `:` type($input) `,`
    type($gamma)
  }];
}

def Tfm_ActivationGradOp : Tfm_Op<"activation_grad", [Pure,
    AllTypesMatch<["input", "grad_output", "result"]>]> {
  let summary = "gradient of tfm.activation";
  let description = [{
    `result = dy * act'(x)` elementwise, for the activation's input `x`.
  }];
  let arguments = (ins Tfm_ActivationKindAttr:$kind, Tfm_FloatTensor:$input,
                       Tfm_FloatTensor:$grad_output);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    ``$kind $input `,` $grad_output attr-dict `:` type($input)
  }];
}

def Tfm_GatedActivationGradOp : Tfm_Op<"gated_activation_grad", [Pure,
    AllTypesMatch<["gate", "up", "grad_output", "gate_grad", "up_grad"]>]> {
  let summary = "gradients of tfm.gated_activation";
  let description = [{
    For `y = act(gate) * up`: `dgate = dy * up * act'(gate)` and
    `dup = dy * act(gate)`.
  }];
  let arguments = (ins Tfm_ActivationKindAttr:$kind, Tfm_FloatTensor:$gate,
                       Tfm_FloatTensor:$up, Tfm_FloatTensor:$grad_output);
  let results = (outs Tfm_FloatTensor:$gate_grad, Tfm_FloatTensor:$up_grad);
  let assemblyFormat = [{
    ``$kind $gate `,` $up `,` $grad_output attr-dict `:` type($gate)
  }];
}

def Tfm_AttentionGradOp : Tfm_Op<"attention_grad", [Pure,
    AllTypesMatch<["query", "query_grad", "grad_output"]>,
    AllTypesMatch<["key", "key_grad"]>,
    AllTypesMatch<["value", "value_grad"]>]> {
  let summary = "gradients of tfm.attention, recomputing the scores";
  let description = [{
    Query, key and value gradients of `tfm.attention` with the same
    attributes, given the incoming gradient `dout` of the attention's
    output. The scores are recomputed block by block from `query` and `key`
    (FlashAttention's backward): nothing of size `seq_q x seq_k` is stored.
    Grouped-query heads sum into their shared key/value head.
  }];
  let arguments = (ins Tfm_ActTensor:$query, Tfm_ActTensor:$key,
                       Tfm_ActTensor:$value, Tfm_ActTensor:$grad_output,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<Tfm_SparsityPattern>:$sparsity);
  let results = (outs Tfm_ActTensor:$query_grad, Tfm_ActTensor:$key_grad,
                      Tfm_ActTensor:$value_grad);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $grad_output attr-dict `:` type($query)
    `,` type($key) `,` type($value)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The per-head feature size.
    int64_t getHeadDim();
    /// The scale applied to the scores: `scale` or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def Tfm_EmbeddingGradOp : Tfm_Op<"embedding_grad", [Pure]> {
  let summary = "table gradient of tfm.embedding (scatter-add)";
  let description = [{
    `result[v, :] = sum over the positions t with ids[t] == v of dy[t, :]`:
    the gradient of an embedding table of the result's type. Ids outside
    the table contribute nothing.
  }];
  let arguments = (ins Tfm_IdsTensor:$ids, Tfm_ActTensor:$grad_output);
  let results = (outs 2DTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $ids `,` $grad_output attr-dict `:` type($ids) `,` type($grad_output)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "concatenate along the last dimension (inverse of tfm.split)";
  let description = [{
    Joins the inputs, which agree on every dimension but the last, along the
    last dimension: the gradient of `tfm.split`.
  }];
  let arguments = (ins Variadic<Tfm_FloatTensor>:$inputs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` type($inputs) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // TMC_DIALECT_TFM_IR_TFMOPS_TD
