// RUN: tmc-opt %s --split-input-file --tfm-bind-weights | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tfm-bind-weights=alignment=4 | FileCheck %s --check-prefix=ALIGN4
// RUN: tmc-opt %s --split-input-file --tfm-bind-weights=alignment=256 | FileCheck %s --check-prefix=ALIGN256

// Offsets follow the order of first use across the module, each aligned to
// `alignment` bytes (64 by default); a name used again reuses its offset.
// Byte sizes: "a" 12, "b" 8, "wte" 512, "h" 5.

// CHECK-LABEL: module attributes
// CHECK-SAME: tmc.signature = "input input_ids i64 2 1 4\0Ainput input1 i32 2 1 4\0Aoutput hidden f32 3 1 4 8\0Aoutput output1 f32 3 1 4 8\0A"
// CHECK-SAME: tmc.weight_layout = [
// CHECK-SAME: {name = "a", offset = 0 : i64, type = tensor<3xf32>},
// CHECK-SAME: {name = "b", offset = 64 : i64, type = tensor<2xf32>, value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>},
// CHECK-SAME: {name = "wte", offset = 128 : i64, type = tensor<16x8xf32>},
// CHECK-SAME: {name = "h", offset = 640 : i64, type = tensor<5xi8>}]
// CHECK-SAME: tmc.weights_bytes = 645 : i64

// ALIGN4-LABEL: module attributes
// ALIGN4-SAME: {name = "a", offset = 0 : i64
// ALIGN4-SAME: {name = "b", offset = 12 : i64
// ALIGN4-SAME: {name = "wte", offset = 20 : i64
// ALIGN4-SAME: {name = "h", offset = 532 : i64
// ALIGN4-SAME: tmc.weights_bytes = 537 : i64

// ALIGN256-LABEL: module attributes
// ALIGN256-SAME: {name = "a", offset = 0 : i64
// ALIGN256-SAME: {name = "b", offset = 256 : i64
// ALIGN256-SAME: {name = "wte", offset = 512 : i64
// ALIGN256-SAME: {name = "h", offset = 1024 : i64
// ALIGN256-SAME: tmc.weights_bytes = 1029 : i64
module attributes {tfm.weights_file = "w.safetensors"} {

// The model function gets the weights and arena buffers first, keeps its
// inputs' and results' attributes, and asks for its C interface.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[W:.*]]: memref<?xi8> {tfm.name = "weights"}, %{{.*}}: memref<?xi8> {tfm.name = "arena"}, %[[IDS:.*]]: tensor<1x4xi64> {tfm.name = "input_ids"}, %{{.*}}: tensor<1x4xi32>)
// CHECK-SAME: -> (tensor<1x4x8xf32> {tfm.name = "hidden"}, tensor<1x4x8xf32>)
// CHECK-SAME: attributes {llvm.emit_c_interface}
// ALIGN4-LABEL: func.func @forward
// ALIGN256-LABEL: func.func @forward
func.func @forward(%ids: tensor<1x4xi64> {tfm.name = "input_ids"}, %mask: tensor<1x4xi32>) -> (tensor<1x4x8xf32> {tfm.name = "hidden"}, tensor<1x4x8xf32>) {
  // CHECK: %[[C0:.*]] = arith.constant 0 : index
  // CHECK-NEXT: %[[VA:.*]] = memref.view %[[W]][%[[C0]]][] : memref<?xi8> to memref<3xf32>
  // CHECK-NEXT: bufferization.to_tensor %[[VA]] restrict : memref<3xf32> to tensor<3xf32>
  %a = tfm.param "a" : tensor<3xf32>
  // CHECK: %[[C64:.*]] = arith.constant 64 : index
  // CHECK-NEXT: memref.view %[[W]][%[[C64]]][] : memref<?xi8> to memref<2xf32>
  // ALIGN4: %[[C12:.*]] = arith.constant 12 : index
  // ALIGN4-NEXT: memref.view %{{.*}}[%[[C12]]][] : memref<?xi8> to memref<2xf32>
  %b = tfm.param "b" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  // CHECK: %[[C128:.*]] = arith.constant 128 : index
  // CHECK-NEXT: %[[VW:.*]] = memref.view %[[W]][%[[C128]]][] : memref<?xi8> to memref<16x8xf32>
  // CHECK-NEXT: %[[WTE:.*]] = bufferization.to_tensor %[[VW]] restrict : memref<16x8xf32> to tensor<16x8xf32>
  %wte = tfm.param "wte" : tensor<16x8xf32>
  // CHECK-NEXT: %[[E:.*]] = tfm.embedding %[[WTE]][%[[IDS]]]
  %e = tfm.embedding %wte[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  // A second use of "a" reads the same bytes.
  // CHECK: %[[C0B:.*]] = arith.constant 0 : index
  // CHECK-NEXT: memref.view %[[W]][%[[C0B]]][] : memref<?xi8> to memref<3xf32>
  %a2 = tfm.param "a" : tensor<3xf32>
  // CHECK: return %[[E]], %[[E]]
  return %e, %e : tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// Another function with parameters gets the buffers too, but no C interface.
// CHECK-LABEL: func.func @helper
// CHECK-SAME: (%[[W:.*]]: memref<?xi8> {tfm.name = "weights"}, %{{.*}}: memref<?xi8> {tfm.name = "arena"}) -> tensor<16x8xf32> {
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT: memref.view %[[W]][%[[C128]]][] : memref<?xi8> to memref<16x8xf32>
// CHECK: %[[C640:.*]] = arith.constant 640 : index
// CHECK-NEXT: memref.view %[[W]][%[[C640]]][] : memref<?xi8> to memref<5xi8>
// ALIGN4-LABEL: func.func @helper
// ALIGN4: arith.constant 20 : index
// ALIGN4: arith.constant 532 : index
func.func @helper() -> tensor<16x8xf32> {
  %wte = tfm.param "wte" : tensor<16x8xf32>
  %h = tfm.param "h" : tensor<5xi8>
  return %wte : tensor<16x8xf32>
}

// A function without parameters other than @forward keeps its signature.
// CHECK-LABEL: func.func @no_params
// CHECK-SAME: (%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func @no_params(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// CHECK-LABEL: func.func private @external
// CHECK-SAME: (tensor<4xf32>) -> tensor<4xf32>{{$}}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

}

// -----

// The model function takes both buffers even without parameters, and an
// empty layout is recorded.

// CHECK-LABEL: module attributes
// CHECK-SAME: tmc.signature = "input x f32 3 2 3 4\0Aoutput output0 f32 3 2 3 4\0A"
// CHECK-SAME: tmc.weight_layout = []
// CHECK-SAME: tmc.weights_bytes = 0 : i64
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%{{.*}}: memref<?xi8> {tfm.name = "weights"}, %{{.*}}: memref<?xi8> {tfm.name = "arena"}, %[[X:.*]]: tensor<2x3x4xf32> {tfm.name = "x"}) -> tensor<2x3x4xf32>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-NEXT: return %[[X]]
module {
func.func @forward(%x: tensor<2x3x4xf32> {tfm.name = "x"}) -> tensor<2x3x4xf32> {
  return %x : tensor<2x3x4xf32>
}
}

// -----

// Without a function named forward there is no signature and no C interface.

// CHECK-LABEL: module attributes
// CHECK-NOT: tmc.signature
// CHECK-SAME: tmc.weight_layout = [{name = "p", offset = 0 : i64, type = tensor<4xf16>, value = dense<1.000000e+00> : tensor<4xf16>}]
// CHECK-SAME: tmc.weights_bytes = 8 : i64
// CHECK-LABEL: func.func @model
// CHECK-NOT: llvm.emit_c_interface
// CHECK: memref.view %{{.*}} : memref<?xi8> to memref<4xf16>
module {
func.func @model() -> tensor<4xf16> {
  %p = tfm.param "p" {value = dense<1.0> : tensor<4xf16>} : tensor<4xf16>
  return %p : tensor<4xf16>
}
}
