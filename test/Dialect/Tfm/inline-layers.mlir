// RUN: tmc-opt %s --tfm-inline-layers | FileCheck %s --implicit-check-not=tfm.layer --implicit-check-not=tfm.yield
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers))" | FileCheck %s --implicit-check-not=tfm.layer --implicit-check-not=tfm.yield

// The body's ops take the layer's place, with the body's argument bound to the
// layer's input and the layer's result replaced by the yielded value.
// CHECK-LABEL: func.func @one_layer
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
func.func @one_layer(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK: %[[PRE:.*]] = tfm.activation relu %[[X]]
  %pre = tfm.activation relu %x : tensor<1x4x8xf32>
  // CHECK-NEXT: %[[G:.*]] = tfm.param "h.0.ln.weight"
  // CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[PRE]], %[[G]]
  // CHECK-NEXT: %[[S:.*]] = tfm.add %[[PRE]], %[[N]]
  %r = tfm.layer "h.0" index 0 (%pre) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %g = tfm.param "h.0.ln.weight" {value = dense<1.0> : tensor<8xf32>} : tensor<8xf32>
    %n = tfm.rms_norm %a, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %s = tfm.add %a, %n : tensor<1x4x8xf32>
    tfm.yield %s : tensor<1x4x8xf32>
  }
  // CHECK-NEXT: %[[POST:.*]] = tfm.activation silu %[[S]]
  %post = tfm.activation silu %r : tensor<1x4x8xf32>
  // CHECK-NEXT: return %[[POST]]
  return %post : tensor<1x4x8xf32>
}

// Two layers in sequence; the second has two inputs and two results, one of
// which yields a body argument directly (it becomes the layer's input).
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[Y:.*]]: tensor<1x4x8xf32>)
func.func @two_layers(%x: tensor<1x4x8xf32>, %y: tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  // CHECK: %[[A:.*]] = tfm.activation gelu_tanh %[[X]]
  %r0 = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %s = tfm.activation gelu_tanh %a : tensor<1x4x8xf32>
    tfm.yield %s : tensor<1x4x8xf32>
  }
  // CHECK-NEXT: %[[B:.*]] = tfm.add %[[A]], %[[Y]]
  %r1:2 = tfm.layer "h.1" index 1 (%r0, %y) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  ^bb0(%a: tensor<1x4x8xf32>, %b: tensor<1x4x8xf32>):
    %s = tfm.add %a, %b : tensor<1x4x8xf32>
    tfm.yield %s, %a : tensor<1x4x8xf32>, tensor<1x4x8xf32>
  }
  // CHECK-NEXT: return %[[B]], %[[A]]
  return %r1#0, %r1#1 : tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// A layer that only forwards its input disappears entirely.
// CHECK-LABEL: func.func @passthrough
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @passthrough(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %r = tfm.layer "id" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    tfm.yield %a : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// Nested layers are all inlined.
// CHECK-LABEL: func.func @nested
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
func.func @nested(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK-NEXT: %[[O:.*]] = tfm.activation relu %[[X]]
  // CHECK-NEXT: %[[I:.*]] = tfm.add %[[O]], %[[O]]
  // CHECK-NEXT: return %[[I]]
  %r = tfm.layer "outer" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %o = tfm.activation relu %a : tensor<1x4x8xf32>
    %i = tfm.layer "inner" index 1 (%o) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
    ^bb0(%b: tensor<1x4x8xf32>):
      %s = tfm.add %b, %b : tensor<1x4x8xf32>
      tfm.yield %s : tensor<1x4x8xf32>
    }
    tfm.yield %i : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}
