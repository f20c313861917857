// RUN: tmc-opt %s --split-input-file --tfm-autodiff --verify-diagnostics
// RUN: not tmc-opt %s --split-input-file --tfm-autodiff="loss=hinge" 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: not tmc-opt %s --split-input-file --tfm-autodiff="loss=cross_entropy" 2>&1 | FileCheck %s --check-prefix=CE

// expected-error @+1 {{tfm-autodiff needs a function named 'forward'}}
module {
  func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
    return %x : tensor<1x4x8xf32>
  }
}

// -----

module attributes {tfm.weights_file = "m.safetensors"} {
  // A hidden-state model trains with mse by default; cross_entropy is refused.
  // CE: error: cross_entropy needs a model that outputs logits; '@forward' returns 'last_hidden_state' (use mse, or kl_div against a teacher)
  func.func @forward(%x: tensor<1x4x8xf32> {tfm.name = "x"}) -> (tensor<1x4x8xf32> {tfm.name = "last_hidden_state"}) {
    %w = tfm.param "w" : tensor<8x8xf32>
    %y = tfm.linear %x, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    return %y : tensor<1x4x8xf32>
  }
}

// -----

module attributes {tfm.weights_file = "m.safetensors"} {
  // expected-error @+1 {{a training step needs a static f32 output [batch, seq, features] (compile with a fixed sequence length), got 'tensor<1x?x8xf32>'}}
  func.func @forward(%x: tensor<1x?x8xf32> {tfm.name = "x"}) -> (tensor<1x?x8xf32> {tfm.name = "y"}) {
    %w = tfm.param "w" : tensor<8x8xf32>
    %y = tfm.linear %x, %w : tensor<1x?x8xf32>, tensor<8x8xf32>
    return %y : tensor<1x?x8xf32>
  }
}

// -----

module attributes {tfm.weights_file = "m.safetensors"} {
  func.func @forward(%x: tensor<1x4x8xf32> {tfm.name = "x"}) -> (tensor<1x4x8xf32> {tfm.name = "y"}) {
    %w = tfm.param "w" : tensor<8x8xi8>
    %s = tfm.param "s" : tensor<8x1xf32>
    // expected-error @+1 {{'tfm.quantized_linear' op has no gradient: quantize or prune after training, not before}}
    %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int8>} : (tensor<1x4x8xf32>, tensor<8x8xi8>, tensor<8x1xf32>) -> tensor<1x4x8xf32>
    return %y : tensor<1x4x8xf32>
  }
}

// LOSS: error: unknown loss 'hinge': expected cross_entropy, mse or kl_div[:T]
