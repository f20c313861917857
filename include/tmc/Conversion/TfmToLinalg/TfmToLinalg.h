//===- TfmToLinalg.h - tfm to linalg patterns -------------------*- C++ -*-===//
//
// This file declares the pattern sets that lower tfm ops to linalg, split by
// topic as the lowering's source files are.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H
#define TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tmc {

/// tfm.add, tfm.activation, tfm.gated_activation, tfm.split.
void populateTfmElementwiseToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.linear.
void populateTfmLinearToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.quantized_linear: a linalg.generic that dequantizes packed weights
/// in its body, tagged with the runtime kernel that computes it.
void populateTfmQuantizedLinearToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.sparse_linear: a linalg.generic over the kept weights that gathers
/// the matching inputs.
void populateTfmSparseLinearToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.layer_norm, tfm.rms_norm: linalg reductions and an elementwise
/// normalization, or with `fused` tfm.fused_norm on buffers.
void populateTfmNormalizationToLinalgPatterns(RewritePatternSet &patterns,
                                              bool fused = false);

/// tfm.embedding, tfm.positions, tfm.rope.
void populateTfmEmbeddingToLinalgPatterns(RewritePatternSet &patterns);

/// Default tile sizes of the attention lowering: a 64 x 64 tile of f32
/// scores (16 KiB) and its query/key/value rows stay in L1/L2 on this CPU.
constexpr int64_t kDefaultAttentionBlockQ = 64;
constexpr int64_t kDefaultAttentionBlockK = 64;

/// tfm.attention, tiled with an online softmax over blocks of `blockQ`
/// queries and `blockK` keys.
void populateTfmAttentionToLinalgPatterns(
    RewritePatternSet &patterns, int64_t blockQ = kDefaultAttentionBlockQ,
    int64_t blockK = kDefaultAttentionBlockK, bool fused = false);

/// tfm.cached_attention, as a call of the runtime's KV-cache attention
/// kernel, or with `fused` as tfm.fused_cached_attention on buffers; with
/// `split` > 0 too, the fused op computes pieces of `split` positions
/// separately when the cache has more rows than that (and gets their
/// scratch buffer).
void populateTfmCachedAttentionToLinalgPatterns(RewritePatternSet &patterns,
                                                bool fused = false,
                                                int64_t split = 0);

/// tfm.linformer_attention: sequence projections of keys and values, then
/// softmax attention over the projected keys (O(n k) scores).
void populateTfmLinformerAttentionToLinalgPatterns(
    RewritePatternSet &patterns);

/// The training ops: losses and their gradients, the backward ops of
/// linear layers, norms, activations and embeddings (linalg), attention's
/// backward (a call of the runtime's tmc_rt_attention_grad) and tfm.concat.
void populateTfmTrainingToLinalgPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateTfmToLinalgPatterns(RewritePatternSet &patterns,
                                 int64_t blockQ = kDefaultAttentionBlockQ,
                                 int64_t blockK = kDefaultAttentionBlockK,
                                 bool fusedAttention = false,
                                 bool fusedCachedAttention = false,
                                 int64_t cachedAttentionSplit = 0,
                                 bool fusedNorms = false);

} // namespace tmc
} // namespace mlir

#endif // TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H
