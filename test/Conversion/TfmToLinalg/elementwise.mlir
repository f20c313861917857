// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s

// Residual adds and activations become elementwise linalg.generic ops on a
// fresh tensor.empty; split becomes slices of the last dimension.

// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ID1:.*]] = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[Y:.*]]: tensor<1x4x8xf32>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x4x8xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[Y]] : tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%[[EMPTY]] : tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @add(%x: tensor<1x4x8xf32>, %y: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.add %x, %y : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// 0.5 x (1 + erf(x / sqrt(2)))
// CHECK-LABEL: func.func @gelu_erf
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[IN]], %[[RSQRT2]] : f32
// CHECK-NEXT: %[[ERF:.*]] = math.erf %[[SCALED]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[IN]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[HX]], %[[SUM]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @gelu_erf(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.activation gelu_erf %x : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), on a 2-D tensor.
// CHECK-LABEL: func.func @gelu_tanh
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[C:.*]] = arith.constant 4.471500e-02 : f32
// CHECK-DAG: %[[K:.*]] = arith.constant 0.797884583 : f32
// CHECK-DAG: %[[X2:.*]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-DAG: %[[X3:.*]] = arith.mulf %[[IN]], %[[X2]] : f32
// CHECK-DAG: %[[CX3:.*]] = arith.mulf %[[C]], %[[X3]] : f32
// CHECK-DAG: %[[INNER:.*]] = arith.addf %[[IN]], %[[CX3]] : f32
// CHECK-DAG: %[[ARG:.*]] = arith.mulf %[[K]], %[[INNER]] : f32
// CHECK: %[[T:.*]] = math.tanh %[[ARG]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ONE]], %[[T]] : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[IN]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[HX]], %[[SUM]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @gelu_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = tfm.activation gelu_tanh %x : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// max(x, 0), on a 1-D tensor.
// CHECK-LABEL: func.func @relu
// CHECK: linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]]], iterator_types = ["parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.maximumf %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @relu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = tfm.activation relu %x : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// x / (1 + exp(-x))
// CHECK-LABEL: func.func @silu
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[NEG:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.divf %[[IN]], %[[DEN]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @silu(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.activation silu %x : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// silu(gate) * up, in one generic.
// CHECK-LABEL: func.func @swiglu
// CHECK-SAME: (%[[G:.*]]: tensor<1x4x8xf32>, %[[U:.*]]: tensor<1x4x8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]], #[[ID3]]], {{.*}} ins(%[[G]], %[[U]] : tensor<1x4x8xf32>, tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[GATE:.*]]: f32, %[[UP:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[NEG:.*]] = arith.negf %[[GATE]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %{{.*}}, %[[E]] : f32
// CHECK-NEXT: %[[ACT:.*]] = arith.divf %[[GATE]], %[[DEN]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[ACT]], %[[UP]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @swiglu(%g: tensor<1x4x8xf32>, %u: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.gated_activation silu %g, %u : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// gelu_tanh(gate) * up.
// CHECK-LABEL: func.func @geglu
// CHECK: ^bb0(%{{.*}}: f32, %[[UP:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[T:.*]] = math.tanh
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %{{.*}}, %[[T]] : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[ACT:.*]] = arith.mulf %[[HX]], %[[SUM]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[ACT]], %[[UP]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @geglu(%g: tensor<1x4x8xf32>, %u: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.gated_activation gelu_tanh %g, %u : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// Consecutive slices of the last dimension, no copies.
// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x12xf32>)
// CHECK: %[[Q:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [1, 4, 2] [1, 1, 1] : tensor<1x4x12xf32> to tensor<1x4x2xf32>
// CHECK: %[[K:.*]] = tensor.extract_slice %[[X]][0, 0, 2] [1, 4, 4] [1, 1, 1] : tensor<1x4x12xf32> to tensor<1x4x4xf32>
// CHECK: %[[V:.*]] = tensor.extract_slice %[[X]][0, 0, 6] [1, 4, 6] [1, 1, 1] : tensor<1x4x12xf32> to tensor<1x4x6xf32>
// CHECK-NOT: linalg
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @split(%x: tensor<1x4x12xf32>) -> (tensor<1x4x2xf32>, tensor<1x4x4xf32>, tensor<1x4x6xf32>) {
  %q, %k, %v = tfm.split %x [2, 4, 6] : tensor<1x4x12xf32>
  return %q, %k, %v : tensor<1x4x2xf32>, tensor<1x4x4xf32>, tensor<1x4x6xf32>
}
