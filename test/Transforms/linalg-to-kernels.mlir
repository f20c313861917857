// RUN: tmc-opt %s --tmc-linalg-to-kernels | FileCheck %s
// RUN: tmc-opt %s --tmc-linalg-to-kernels=matmuls=false | FileCheck %s --check-prefix=NOMM

// The kernels take fully dynamic strided 2-D f32 memrefs and are declared
// once each, privately, with their C interface.
// CHECK-DAG: func.func private @tmc_rt_matmul_nn_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @tmc_rt_matmul_nt_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-NOT: func.func private @tmc_rt_matmul

// Without matmuls, no kernel is declared and every matmul stays.
// NOMM-NOT: tmc_rt_matmul
// NOMM-LABEL: func.func @nn
// NOMM: linalg.matmul
// NOMM-LABEL: func.func @nt
// NOMM: linalg.matmul
// NOMM-LABEL: func.func @two_nn
// NOMM-COUNT-2: linalg.matmul
// NOMM-NOT: tmc_rt_matmul

// The plain (m, k) x (k, n) form calls the nn kernel.
// CHECK-LABEL: func.func @nn
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8x16xf32>, %[[C:.*]]: memref<4x16xf32>)
// CHECK-NEXT: %[[CA:.*]] = memref.cast %[[A]] : memref<4x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT: %[[CB:.*]] = memref.cast %[[B]] : memref<8x16xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT: %[[CC:.*]] = memref.cast %[[C]] : memref<4x16xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT: call @tmc_rt_matmul_nn_f32(%[[CA]], %[[CB]], %[[CC]])
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @nn(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// The transposed-B (m, k) x (n, k) form calls the nt kernel.
// CHECK-LABEL: func.func @nt
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<16x8xf32>, %[[C:.*]]: memref<4x16xf32>)
// CHECK-NEXT: %[[CA:.*]] = memref.cast %[[A]]
// CHECK-NEXT: %[[CB:.*]] = memref.cast %[[B]] : memref<16x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT: %[[CC:.*]] = memref.cast %[[C]]
// CHECK-NEXT: call @tmc_rt_matmul_nt_f32(%[[CA]], %[[CB]], %[[CC]])
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @nt(%a: memref<4x8xf32>, %b: memref<16x8xf32>, %c: memref<4x16xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<4x8xf32>, memref<16x8xf32>) outs(%c : memref<4x16xf32>)
  return
}

// Views (a head's columns of a wider buffer) are passed as they are.
// CHECK-LABEL: func.func @strided_view
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32, strided<[32, 1], offset: ?>>
// CHECK-NEXT: %[[CA:.*]] = memref.cast %[[A]] : memref<4x8xf32, strided<[32, 1], offset: ?>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NOT: memref.copy
// CHECK: call @tmc_rt_matmul_nn_f32(%[[CA]],
func.func @strided_view(%a: memref<4x8xf32, strided<[32, 1], offset: ?>>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32, strided<[32, 1], offset: ?>>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// Two matmuls share one declaration.
// CHECK-LABEL: func.func @two_nn
// CHECK-COUNT-2: call @tmc_rt_matmul_nn_f32
func.func @two_nn(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>, %d: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%d : memref<4x16xf32>)
  return
}

// A transposed-A (k, m) map (a weight gradient) passes a transposed view of
// A, its strides swapped, never a copy.
// CHECK-LABEL: func.func @transposed_a
// CHECK-SAME: (%[[A:.*]]: memref<8x4xf32>, %[[B:.*]]: memref<8x16xf32>, %[[C:.*]]: memref<4x16xf32>)
// CHECK-NEXT: %[[T:.*]] = memref.transpose %[[A]] (d0, d1) -> (d1, d0) : memref<8x4xf32> to memref<4x8xf32, strided<[1, 4]>>
// CHECK-NEXT: %[[CA:.*]] = memref.cast %[[T]] : memref<4x8xf32, strided<[1, 4]>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT: %[[CB:.*]] = memref.cast %[[B]]
// CHECK-NEXT: %[[CC:.*]] = memref.cast %[[C]]
// CHECK-NEXT: call @tmc_rt_matmul_nn_f32(%[[CA]], %[[CB]], %[[CC]])
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @transposed_a(%a: memref<8x4xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<8x4xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// Both operands transposed: A's view and the nt kernel.
// CHECK-LABEL: func.func @transposed_a_b
// CHECK: %[[T:.*]] = memref.transpose
// CHECK: %[[CA:.*]] = memref.cast %[[T]]
// CHECK: call @tmc_rt_matmul_nt_f32(%[[CA]],
func.func @transposed_a_b(%a: memref<8x4xf32>, %b: memref<16x8xf32>, %c: memref<4x16xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<8x4xf32>, memref<16x8xf32>) outs(%c : memref<4x16xf32>)
  return
}

// Neither are matmuls of another element type, nor matmuls on tensors.
// CHECK-LABEL: func.func @f16
// CHECK-NOT: call
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<4x8xf16>, memref<8x16xf16>)
func.func @f16(%a: memref<4x8xf16>, %b: memref<8x16xf16>, %c: memref<4x16xf16>) {
  linalg.matmul ins(%a, %b : memref<4x8xf16>, memref<8x16xf16>) outs(%c : memref<4x16xf16>)
  return
}

// CHECK-LABEL: func.func @tensors
// CHECK-NOT: call
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>)
func.func @tensors(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// A strided copy becomes a linalg.copy (loops, no runtime call); a plain
// contiguous copy stays a memref.copy (a memcpy). Copies are rewritten
// whatever `matmuls` says.
// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>, %[[S:.*]]: memref<4x8xf32, strided<[16, 1], offset: ?>>)
// CHECK-NEXT: memref.copy %[[A]], %[[B]] : memref<4x8xf32> to memref<4x8xf32>
// CHECK-NEXT: linalg.copy ins(%[[S]] : memref<4x8xf32, strided<[16, 1], offset: ?>>) outs(%[[B]] : memref<4x8xf32>)
// CHECK-NEXT: linalg.copy ins(%[[B]] : memref<4x8xf32>) outs(%[[S]] : memref<4x8xf32, strided<[16, 1], offset: ?>>)
// CHECK-NEXT: return
// NOMM-LABEL: func.func @copies
// NOMM-NEXT: memref.copy
// NOMM-NEXT: linalg.copy
// NOMM-NEXT: linalg.copy
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %s: memref<4x8xf32, strided<[16, 1], offset: ?>>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %s, %b : memref<4x8xf32, strided<[16, 1], offset: ?>> to memref<4x8xf32>
  memref.copy %b, %s : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1], offset: ?>>
  return
}
