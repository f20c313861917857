// RUN: tmc-opt %s --tfm-bind-weights -split-input-file -verify-diagnostics
// RUN: not tmc-opt %s --split-input-file --tfm-bind-weights=alignment=0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tmc-opt %s --split-input-file --tfm-bind-weights=alignment=48 2>&1 | FileCheck %s --check-prefix=NOTPOW2
// RUN: not tmc-opt %s --split-input-file --tfm-bind-weights=alignment=-64 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// ZERO: error: tfm-bind-weights: alignment must be a power of two, got 0
// NOTPOW2: error: tfm-bind-weights: alignment must be a power of two, got 48
// NEGATIVE: error: tfm-bind-weights: alignment must be a power of two, got -64

// One name, two types: the second use is reported.
module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward() -> (tensor<4xf32>, tensor<2x2xf32>) {
  %a = tfm.param "w" : tensor<4xf32>
  // expected-error @+1 {{'tfm.param' op parameter 'w' has type 'tensor<2x2xf32>' but an earlier use has type 'tensor<4xf32>'}}
  %b = tfm.param "w" : tensor<2x2xf32>
  return %a, %b : tensor<4xf32>, tensor<2x2xf32>
}
}

// -----

// The conflict is found across functions too, in first-use order.
module attributes {tfm.weights_file = "w.safetensors"} {
func.func @first() -> tensor<4xf32> {
  %a = tfm.param "w" : tensor<4xf32>
  return %a : tensor<4xf32>
}
func.func @second() -> tensor<4xf16> {
  // expected-error @+1 {{'tfm.param' op parameter 'w' has type 'tensor<4xf16>' but an earlier use has type 'tensor<4xf32>'}}
  %b = tfm.param "w" : tensor<4xf16>
  return %b : tensor<4xf16>
}
}

// -----

// Parameters must not be inside layers.
module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    // expected-error @+1 {{'tfm.param' op is inside a tfm.layer; run tfm-inline-layers before tfm-bind-weights}}
    %g = tfm.param "h.0.ln.weight" : tensor<8xf32>
    %n = tfm.rms_norm %a, %g : tensor<1x4x8xf32>, tensor<8xf32>
    tfm.yield %n : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}
}

// -----

// Only integer and float elements have a byte layout in the buffer.
module {
func.func @forward() -> tensor<4xindex> {
  // expected-error @+1 {{'tfm.param' op element type 'index' cannot be stored in the weights buffer}}
  %p = tfm.param "p" {value = dense<1> : tensor<4xindex>} : tensor<4xindex>
  return %p : tensor<4xindex>
}
}
