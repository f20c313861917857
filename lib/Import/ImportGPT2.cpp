//===- ImportGPT2.cpp - Import GPT-2 checkpoints ----------------*- C++ -*-===//
//
// This file implements the importer of `model_type = "gpt2"` checkpoints
// (Hugging Face's GPT2Model / GPT2LMHeadModel): pre-LN blocks with a fused
// Conv1D query/key/value projection, learned positions and a head tied to
// the token embedding.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tfm;
using namespace mlir::tmc;
using namespace mlir::tmc::importer;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::tmc::importer::importGPT2(ConfigReader &config, ModelBuilder &b) {
  int64_t dim = config.getPositiveInt("n_embd");
  int64_t heads = config.getPositiveInt("n_head");
  int64_t layers = config.getPositiveInt("n_layer");
  int64_t maxPositions = config.getPositiveInt("n_positions");
  int64_t vocab = config.getPositiveInt("vocab_size");
  int64_t ffn = config.getPositiveInt("n_inner", 4 * dim);
  double epsilon = config.getPositiveNumber("layer_norm_epsilon", 1e-5);

  config.refuseStringNotIn("activation_function",
                           {"gelu_new", "gelu_pytorch_tanh"},
                           "gpt2 supports gelu_new and gelu_pytorch_tanh");
  config.refuseBool("scale_attn_by_inverse_layer_idx", true,
                    "only false is supported");
  config.refuseBool("reorder_and_upcast_attn", true, "only false is supported");
  config.refuseBool("add_cross_attention", true,
                    "decoder-only gpt2 has no cross-attention");
  config.refuseBool("scale_attn_weights", false,
                    "attention is always scaled by 1/sqrt(head_dim)");
  if (dim % heads != 0)
    config.fail(llvm::formatv("field 'n_embd' ({0}) must be a multiple of "
                              "'n_head' ({1})",
                              dim, heads));
  if (llvm::Error error = config.takeError())
    return std::move(error);

  // GPT2LMHeadModel saves its tensors under `transformer.`; GPT2Model and
  // the hub's `gpt2` checkpoints do not.
  std::string prefix =
      b.hasTensor("transformer.wte.weight") ? "transformer." : "";
  // Ops are built in separate statements: C++ leaves the evaluation order
  // of call arguments unspecified, and the printed IR must not depend on it.
  b.beginForward("gpt2", maxPositions);
  Value ids = b.getInputIds();
  Value wte = b.param(prefix + "wte.weight", {vocab, dim});
  Value wpe = b.param(prefix + "wpe.weight", {maxPositions, dim});
  Value tokens = b.embedding(wte, ids);
  Value positions = b.embedding(wpe, b.positions(ids, /*stride=*/1));
  Value x = b.add(tokens, positions);

  for (int64_t i = 0; i < layers; ++i) {
    std::string name = prefix + "h." + std::to_string(i);
    x = b.layer(name, i, x, [&](Value x) {
      auto norm = [&](Value input, StringRef module) {
        Value gamma = b.param(name + "." + module.str() + ".weight", {dim});
        Value beta = b.param(name + "." + module.str() + ".bias", {dim});
        return b.layerNorm(input, gamma, beta, epsilon);
      };
      // Conv1D: the weight is stored [in, out].
      auto conv1d = [&](Value input, StringRef module, int64_t in,
                        int64_t out) {
        Value weight =
            b.param(name + "." + module.str() + ".weight", {in, out});
        Value bias = b.param(name + "." + module.str() + ".bias", {out});
        return b.linear(input, weight, bias, WeightLayout::in_out);
      };
      Value qkv = conv1d(norm(x, "ln_1"), "attn.c_attn", dim, 3 * dim);
      SmallVector<Value> parts = b.split(qkv, {dim, dim, dim});
      Value o = b.attention(parts[0], parts[1], parts[2], heads, heads,
                            /*causal=*/true);
      x = b.add(x, conv1d(o, "attn.c_proj", dim, dim));
      Value h = conv1d(norm(x, "ln_2"), "mlp.c_fc", dim, ffn);
      h = b.activation(ActivationKind::gelu_tanh, h);
      return b.add(x, conv1d(h, "mlp.c_proj", ffn, dim));
    });
  }

  Value gamma = b.param(prefix + "ln_f.weight", {dim});
  Value beta = b.param(prefix + "ln_f.bias", {dim});
  x = b.layerNorm(x, gamma, beta, epsilon);
  // GPT-2's head is tied to the token embedding (`lm_head.weight`, when a
  // checkpoint stores it, is the same tensor).
  Value logits = b.linear(x, wte, Value(), WeightLayout::out_in);
  return b.finish(logits, "logits");
}
