// RUN: tmc-opt %s --convert-tfm-to-linalg -split-input-file -verify-diagnostics

// Parameters must be bound to the weights buffer first.
module attributes {tfm.weights_file = "w.safetensors"} {
func.func @param() -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.param' op must be bound to the weights buffer before lowering (run tfm-bind-weights)}}
  %w = tfm.param "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}
}

// -----

// Layers must be inlined first.
func.func @layer(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tfm.layer' op must be inlined before lowering (run tfm-inline-layers)}}
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %s = tfm.add %a, %a : tensor<1x4x8xf32>
    tfm.yield %s : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

// Shapes must be static.
func.func @dynamic(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{'tfm.activation' op has dynamic shape 'tensor<1x?x8xf32>'; fix the sequence length first (tfm-set-seq-len or tmc-compile --seq-len)}}
  %0 = tfm.activation relu %x : tensor<1x?x8xf32>
  return %0 : tensor<1x?x8xf32>
}

// -----

// A dynamic operand is reported even when the result is static.
func.func @dynamic_ids(%t: tensor<16x8xf32>, %ids: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{'tfm.embedding' op has dynamic shape 'tensor<1x?xi64>'}}
  %0 = tfm.embedding %t[%ids] : tensor<16x8xf32>, tensor<1x?xi64>
  return %0 : tensor<1x?x8xf32>
}

// -----

// Only f32 models are lowered.
func.func @f16(%x: tensor<1x4x8xf16>) -> tensor<1x4x8xf16> {
  // expected-error @+1 {{'tfm.add' op element type 'f16' is not lowered yet; only f32 models are}}
  %0 = tfm.add %x, %x : tensor<1x4x8xf16>
  return %0 : tensor<1x4x8xf16>
}

// -----

func.func @bf16(%x: tensor<1x4x8xbf16>, %g: tensor<8xbf16>) -> tensor<1x4x8xbf16> {
  // expected-error @+1 {{'tfm.rms_norm' op element type 'bf16' is not lowered yet; only f32 models are}}
  %0 = tfm.rms_norm %x, %g : tensor<1x4x8xbf16>, tensor<8xbf16>
  return %0 : tensor<1x4x8xbf16>
}

// -----

// The first failing op is reported; nothing after it is looked at.
func.func @first_error(%x: tensor<1x?x8xf32>, %y: tensor<1x4x8xf16>) -> tensor<1x4x8xf16> {
  // expected-error @+1 {{'tfm.activation' op has dynamic shape}}
  %0 = tfm.activation relu %x : tensor<1x?x8xf32>
  %1 = tfm.add %y, %y : tensor<1x4x8xf16>
  return %1 : tensor<1x4x8xf16>
}

// -----

// Quantization and pruning requests must be applied before lowering; a
// linear that still carries one is left illegal.
func.func @quantized(%x: tensor<1x4x8xf32>, %w: tensor<16x8xf32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{failed to legalize operation 'tfm.linear' that was explicitly marked illegal}}
  %0 = tfm.linear %x, %w {quant = #tfm.quant<kind = int8>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %0 : tensor<1x4x16xf32>
}

// -----

// Attention's backward kernel knows the dense, causal and window patterns
// only.
func.func @attention_grad_dilated(%q: tensor<1x8x16xf32>, %do: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  // expected-error @+2 {{'tfm.attention_grad' op attention_grad supports dense, causal and window attention}}
  // expected-error @+1 {{failed to legalize operation 'tfm.attention_grad' that was explicitly marked illegal}}
  %dq, %dk, %dv = tfm.attention_grad %q, %q, %q, %do {num_heads = 2, num_kv_heads = 2, sparsity = #tfm.dilated_window<size = 2, dilation = 2>} : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %dq : tensor<1x8x16xf32>
}
