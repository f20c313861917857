//===- ImportLlama.cpp - Import LLaMA checkpoints ---------------*- C++ -*-===//
//
// This file implements the importer of `model_type = "llama"` checkpoints
// (Hugging Face's LlamaForCausalLM): pre-RMSNorm blocks, rotary positions,
// grouped-query attention, a SwiGLU MLP and an untied (or tied) head.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tfm;
using namespace mlir::tmc;
using namespace mlir::tmc::importer;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::tmc::importer::importLlama(ConfigReader &config, ModelBuilder &b) {
  int64_t dim = config.getPositiveInt("hidden_size");
  int64_t heads = config.getPositiveInt("num_attention_heads");
  int64_t kvHeads = config.getPositiveInt("num_key_value_heads", heads);
  int64_t layers = config.getPositiveInt("num_hidden_layers");
  int64_t ffn = config.getPositiveInt("intermediate_size");
  int64_t maxPositions = config.getPositiveInt("max_position_embeddings");
  int64_t vocab = config.getPositiveInt("vocab_size");
  double epsilon = config.getPositiveNumber("rms_norm_eps", 1e-6);
  double theta = config.getPositiveNumber("rope_theta", 10000.0);
  bool tied = config.getBool("tie_word_embeddings", false);
  int64_t headDim = dim / heads;

  config.refuseIf(
      "rope_scaling", [](const llvm::json::Value &) { return true; },
      "rotary scaling is not supported: rope_scaling must be null");
  config.refuseIf(
      "head_dim",
      [&](const llvm::json::Value &value) {
        return value.getAsInteger() != std::optional<int64_t>(headDim);
      },
      llvm::formatv("head_dim must be hidden_size / num_attention_heads = {0}",
                    headDim)
          .str());
  config.refuseBool("attention_bias", true, "llama projections have no bias");
  config.refuseBool("mlp_bias", true, "llama projections have no bias");
  config.refuseStringNotIn("hidden_act", {"silu"}, "llama supports silu");
  if (dim % heads != 0)
    config.fail(llvm::formatv("field 'hidden_size' ({0}) must be a multiple "
                              "of 'num_attention_heads' ({1})",
                              dim, heads));
  else if (headDim % 2 != 0)
    config.fail(llvm::formatv("the head size hidden_size / "
                              "num_attention_heads = {0} must be even for "
                              "rotary embeddings",
                              headDim));
  if (heads % kvHeads != 0)
    config.fail(llvm::formatv("field 'num_attention_heads' ({0}) must be a "
                              "multiple of 'num_key_value_heads' ({1})",
                              heads, kvHeads));
  if (llvm::Error error = config.takeError())
    return std::move(error);

  // Ops are built in separate statements: C++ leaves the evaluation order
  // of call arguments unspecified, and the printed IR must not depend on it.
  b.beginForward("llama", maxPositions);
  Value embed = b.param("model.embed_tokens.weight", {vocab, dim});
  Value x = b.embedding(embed, b.getInputIds());

  for (int64_t i = 0; i < layers; ++i) {
    std::string name = "model.layers." + std::to_string(i);
    x = b.layer(name, i, x, [&](Value x) {
      // nn.Linear without bias: the weight is stored [out, in].
      auto proj = [&](Value input, StringRef module, int64_t in, int64_t out) {
        Value weight =
            b.param(name + "." + module.str() + ".weight", {out, in});
        return b.linear(input, weight, Value(), WeightLayout::out_in);
      };
      auto norm = [&](Value input, StringRef module) {
        Value gamma = b.param(name + "." + module.str() + ".weight", {dim});
        return b.rmsNorm(input, gamma, epsilon);
      };
      Value h = norm(x, "input_layernorm");
      Value q = proj(h, "self_attn.q_proj", dim, heads * headDim);
      q = b.rope(q, headDim, theta);
      Value k = proj(h, "self_attn.k_proj", dim, kvHeads * headDim);
      k = b.rope(k, headDim, theta);
      Value v = proj(h, "self_attn.v_proj", dim, kvHeads * headDim);
      Value o = b.attention(q, k, v, heads, kvHeads, /*causal=*/true);
      x = b.add(x, proj(o, "self_attn.o_proj", heads * headDim, dim));
      h = norm(x, "post_attention_layernorm");
      Value gate = proj(h, "mlp.gate_proj", dim, ffn);
      Value up = proj(h, "mlp.up_proj", dim, ffn);
      Value m = b.gatedActivation(ActivationKind::silu, gate, up);
      return b.add(x, proj(m, "mlp.down_proj", ffn, dim));
    });
  }

  Value gamma = b.param("model.norm.weight", {dim});
  x = b.rmsNorm(x, gamma, epsilon);
  // With tie_word_embeddings the head reuses the token embedding.
  Value head = tied ? embed : b.param("lm_head.weight", {vocab, dim});
  Value logits = b.linear(x, head, Value(), WeightLayout::out_in);
  return b.finish(logits, "logits");
}
