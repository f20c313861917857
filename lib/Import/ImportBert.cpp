//===- ImportBert.cpp - Import BERT checkpoints -----------------*- C++ -*-===//
//
// This file implements the importer of `model_type = "bert"` checkpoints
// (Hugging Face's BertModel, the encoder without its pooler): post-LN
// blocks, bidirectional attention, learned absolute positions and token
// type 0.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tfm;
using namespace mlir::tmc;
using namespace mlir::tmc::importer;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::tmc::importer::importBert(ConfigReader &config, ModelBuilder &b) {
  int64_t dim = config.getPositiveInt("hidden_size");
  int64_t heads = config.getPositiveInt("num_attention_heads");
  int64_t layers = config.getPositiveInt("num_hidden_layers");
  int64_t ffn = config.getPositiveInt("intermediate_size");
  int64_t maxPositions = config.getPositiveInt("max_position_embeddings");
  int64_t vocab = config.getPositiveInt("vocab_size");
  int64_t typeVocab = config.getPositiveInt("type_vocab_size", 2);
  double epsilon = config.getPositiveNumber("layer_norm_eps", 1e-12);

  config.refuseStringNotIn("hidden_act", {"gelu"},
                           "bert supports gelu (the erf form)");
  config.refuseStringNotIn("position_embedding_type", {"absolute"},
                           "bert supports absolute position embeddings");
  config.refuseBool("is_decoder", true, "bert is imported as an encoder");
  config.refuseBool("add_cross_attention", true,
                    "bert is imported as an encoder without cross-attention");
  if (dim % heads != 0)
    config.fail(llvm::formatv("field 'hidden_size' ({0}) must be a multiple "
                              "of 'num_attention_heads' ({1})",
                              dim, heads));
  if (llvm::Error error = config.takeError())
    return std::move(error);

  // BertForPreTraining and friends save the encoder under `bert.`.
  std::string prefix =
      b.hasTensor("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  // Old checkpoints name LayerNorm parameters gamma/beta.
  auto norm = [&](Value x, const std::string &name) {
    Value gamma = b.paramFirstOf({name + ".weight", name + ".gamma"}, {dim});
    Value beta = b.paramFirstOf({name + ".bias", name + ".beta"}, {dim});
    return b.layerNorm(x, gamma, beta, epsilon);
  };

  // Ops are built in separate statements: C++ leaves the evaluation order
  // of call arguments unspecified, and the printed IR must not depend on it.
  b.beginForward("bert", maxPositions);
  Value ids = b.getInputIds();
  std::string emb = prefix + "embeddings.";
  Value wordTable = b.param(emb + "word_embeddings.weight", {vocab, dim});
  Value words = b.embedding(wordTable, ids);
  Value positionTable =
      b.param(emb + "position_embeddings.weight", {maxPositions, dim});
  Value positions = b.embedding(positionTable, b.positions(ids, 1));
  Value typeTable =
      b.param(emb + "token_type_embeddings.weight", {typeVocab, dim});
  // Token type 0 everywhere: a constant id, `positions` with stride 0.
  Value types = b.embedding(typeTable, b.positions(ids, /*stride=*/0));
  Value x = b.add(b.add(words, positions), types);
  x = norm(x, emb + "LayerNorm");

  for (int64_t i = 0; i < layers; ++i) {
    std::string name = prefix + "encoder.layer." + std::to_string(i);
    x = b.layer(name, i, x, [&](Value x) {
      // nn.Linear: the weight is stored [out, in].
      auto dense = [&](Value input, StringRef module, int64_t in, int64_t out) {
        std::string base = name + "." + module.str();
        Value weight = b.param(base + ".weight", {out, in});
        Value bias = b.param(base + ".bias", {out});
        return b.linear(input, weight, bias, WeightLayout::out_in);
      };
      Value q = dense(x, "attention.self.query", dim, dim);
      Value k = dense(x, "attention.self.key", dim, dim);
      Value v = dense(x, "attention.self.value", dim, dim);
      Value a = b.attention(q, k, v, heads, heads, /*causal=*/false);
      a = dense(a, "attention.output.dense", dim, dim);
      x = norm(b.add(a, x), name + ".attention.output.LayerNorm");
      Value h = dense(x, "intermediate.dense", dim, ffn);
      h = b.activation(ActivationKind::gelu_erf, h);
      h = dense(h, "output.dense", ffn, dim);
      return norm(b.add(h, x), name + ".output.LayerNorm");
    });
  }
  return b.finish(x, "last_hidden_state");
}
