// RUN: tmc-opt %s --tfm-bind-weights -split-input-file -verify-diagnostics | FileCheck %s

// A function that reads parameters gets the buffers, and its callers pass
// theirs.
module attributes {tfm.weights_file = "w.safetensors"} {
// CHECK-LABEL: func.func @helper
// CHECK-SAME: (%[[W:.*]]: memref<?xi8> {tfm.name = "weights"}, %[[A:.*]]: memref<?xi8> {tfm.name = "arena"}, %{{.*}}: tensor<1x4x8xf32>)
// CHECK: memref.view %[[W]]
func.func @helper(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = tfm.param "g" : tensor<8xf32>
  %y = tfm.rms_norm %x, %g : tensor<1x4x8xf32>, tensor<8xf32>
  return %y : tensor<1x4x8xf32>
}
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[FW:.*]]: memref<?xi8> {tfm.name = "weights"}, %[[FA:.*]]: memref<?xi8> {tfm.name = "arena"}, %[[X:.*]]: tensor<1x4x8xf32> {tfm.name = "x"})
// CHECK: call @helper(%[[FW]], %[[FA]], %[[X]])
func.func @forward(%x: tensor<1x4x8xf32> {tfm.name = "x"}) -> (tensor<1x4x8xf32> {tfm.name = "y"}) {
  %y = func.call @helper(%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}
}

// -----

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @helper(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = tfm.param "g" : tensor<8xf32>
  %y = tfm.rms_norm %x, %g : tensor<1x4x8xf32>, tensor<8xf32>
  return %y : tensor<1x4x8xf32>
}
func.func @other(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'func.call' op calls 'helper', which reads the weights, from a function that has no weights buffer}}
  %y = func.call @helper(%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}
}

// -----

// An external @forward gets no signature.
// CHECK-LABEL: module
// CHECK-NOT: tmc.signature
// CHECK: func.func private @forward
func.func private @forward(tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
