// RUN: tmc-opt %s -split-input-file -verify-diagnostics --tfm-kv-cache
// RUN: not tmc-opt %s -split-input-file --tfm-kv-cache=cache-type=int3 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not tmc-opt %s -split-input-file --tfm-kv-cache=max-tokens=65 2>&1 | FileCheck %s --check-prefix=TOOMANY
// RUN: not tmc-opt %s -split-input-file --tfm-kv-cache=sinks=2 2>&1 | FileCheck %s --check-prefix=SINKS

// TYPE: error: tfm-kv-cache: cache-type must be f32, int8 or int4, got 'int3'
// TOOMANY: error: a cache of 65 tokens exceeds the model's maximum of 64 positions (its position-embedding table)
// SINKS: error: attention sinks need a sliding-window attention pattern (window:W)

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%ids: tensor<1x?xi64> {tfm.name = "input_ids"}) -> (tensor<1x?x32xf32> {tfm.name = "logits"}) attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %wpe = tfm.param "wpe" : tensor<64x16xf32>
  %pos = tfm.positions like %ids : tensor<1x?xi64>
  %e = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  %p = tfm.embedding %wpe[%pos] : tensor<64x16xf32>, tensor<1x?xi64>
  %x = tfm.add %e, %p : tensor<1x?x16xf32>
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2, causal} : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %l = tfm.linear %o, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}

// -----

// expected-error @+1 {{tfm-kv-cache: the module has no model function 'forward'}}
module {
func.func @model(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  return %x : tensor<1x4x16xf32>
}
}

// -----

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x32xf32> attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %x = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  // expected-error @+1 {{is not causal: decoding with a KV cache needs causal attention (a decoder such as gpt2 or llama)}}
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2} : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %l = tfm.linear %o, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}

// -----

// expected-error @+1 {{decoding needs token ids of shape [1, seq], got 'tensor<1x?x16xf32>'}}
func.func @forward(%x: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> attributes {tfm.max_positions = 64 : i64} {
  return %x : tensor<1x?x16xf32>
}

// -----

func.func @forward(%ids: tensor<1x?xi64>, %x: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> attributes {tfm.max_positions = 64 : i64} {
  // expected-error @-1 {{decoding needs a model with one input (token ids) and one output (logits), got 2 inputs and 1 outputs}}
  return %x : tensor<1x?x16xf32>
}

// -----

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x32xf32> attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %x = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  // expected-error @+1 {{has the pattern #tfm.strided<stride = 4, summary = 1>; decoding supports dense and sliding-window attention}}
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2, causal, sparsity = #tfm.strided<stride = 4, summary = 1>} : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %l = tfm.linear %o, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}

// -----

module attributes {tfm.weights_file = "w.safetensors"} {
// expected-error @+1 {{the model declares no maximum number of positions; give the cache's size (max-tokens)}}
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x32xf32> {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %x = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  %l = tfm.linear %x, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}

// -----

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x32xf32> attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %x = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  // expected-error @+1 {{must be inlined before tfm-kv-cache (run tfm-inline-layers)}}
  %y = tfm.layer "h.0" index 0 (%x) : (tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  ^bb0(%a: tensor<1x?x16xf32>):
    tfm.yield %a : tensor<1x?x16xf32>
  }
  %l = tfm.linear %y, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}
