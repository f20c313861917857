// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s

// Norms are reductions over the last dimension into zero-filled per-row
// accumulators, then one elementwise op.

// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROWS3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[FEAT3:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS2:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[FEAT2:.*]] = affine_map<(d0, d1) -> (d1)>

// Layer norm: sum(x), then sum((x - mean)^2) (two-pass variance), then
// (x - mean) * (1 / sqrt(var + eps)) * gamma + beta, with 1/D = 0.125.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[ACC0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x4xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROWS3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<1x4x8xf32>) outs(%[[ACC0]] : tensor<1x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: %[[ADD:.*]] = arith.addf %[[IN]], %[[OUT]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]]
// CHECK: %[[ACC1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x4xf32>)
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROWS3]], #[[ROWS3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[SUM]] : tensor<1x4x8xf32>, tensor<1x4xf32>) outs(%[[ACC1]] : tensor<1x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[S:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: %[[INVD:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT: %[[MEAN:.*]] = arith.mulf %[[S]], %[[INVD]]
// CHECK-NEXT: %[[C:.*]] = arith.subf %[[IN]], %[[MEAN]]
// CHECK-NEXT: %[[C2:.*]] = arith.mulf %[[C]], %[[C]]
// CHECK-NEXT: %[[R:.*]] = arith.addf %[[C2]], %[[OUT]]
// CHECK-NEXT: linalg.yield %[[R]]
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x4x8xf32>
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROWS3]], #[[ROWS3]], #[[FEAT3]], #[[FEAT3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[SUM]], %[[SQ]], %[[G]], %[[B]] : {{.*}}) outs(%[[EMPTY]] : tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[S:.*]]: f32, %[[V:.*]]: f32, %[[GAMMA:.*]]: f32, %[[BETA:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[INVD:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT: %[[MEAN:.*]] = arith.mulf %[[S]], %[[INVD]]
// CHECK-NEXT: %[[VAR:.*]] = arith.mulf %[[V]], %[[INVD]]
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NEXT: %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]]
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[SQRT:.*]] = math.sqrt %[[VE]]
// CHECK-NEXT: %[[RSTD:.*]] = arith.divf %[[ONE]], %[[SQRT]]
// CHECK-NEXT: %[[C:.*]] = arith.subf %[[IN]], %[[MEAN]]
// CHECK-NEXT: %[[N:.*]] = arith.mulf %[[C]], %[[RSTD]]
// CHECK-NEXT: %[[NG:.*]] = arith.mulf %[[N]], %[[GAMMA]]
// CHECK-NEXT: %[[R:.*]] = arith.addf %[[NG]], %[[BETA]]
// CHECK-NEXT: linalg.yield %[[R]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @layer_norm(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.layer_norm %x, %g, %b {epsilon = 0.25} : tensor<1x4x8xf32>, tensor<8xf32>
  return %0 : tensor<1x4x8xf32>
}

// The default epsilon (1e-5) and 1/D for D = 16, on a 2-D input.
// CHECK-LABEL: func.func @layer_norm_default
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS2]], #[[ROWS2]], #[[FEAT2]], #[[FEAT2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.constant 6.250000e-02 : f32
// CHECK: arith.constant 9.99999974E-6 : f32
func.func @layer_norm_default(%x: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<4x16xf32>, tensor<16xf32>
  return %0 : tensor<4x16xf32>
}

// RMS norm: one reduction sum(x^2), then x * (1 / sqrt(sum / D + eps)) * gamma.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS2]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<4x8xf32>) outs(%[[ACC]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: %[[X2:.*]] = arith.mulf %[[IN]], %[[IN]]
// CHECK-NEXT: %[[R:.*]] = arith.addf %[[X2]], %[[OUT]]
// CHECK-NEXT: linalg.yield %[[R]]
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS2]], #[[FEAT2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[SQ]], %[[G]] : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[S:.*]]: f32, %[[GAMMA:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[INVD:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT: %[[MS:.*]] = arith.mulf %[[S]], %[[INVD]]
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK-NEXT: %[[ME:.*]] = arith.addf %[[MS]], %[[EPS]]
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[SQRT:.*]] = math.sqrt %[[ME]]
// CHECK-NEXT: %[[RSTD:.*]] = arith.divf %[[ONE]], %[[SQRT]]
// CHECK-NEXT: %[[N:.*]] = arith.mulf %[[IN]], %[[RSTD]]
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[N]], %[[GAMMA]]
// CHECK-NEXT: linalg.yield %[[R]]
// CHECK: return %[[Y]]
func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = tfm.rms_norm %x, %g : tensor<4x8xf32>, tensor<8xf32>
  return %0 : tensor<4x8xf32>
}

// A custom epsilon and D = 4 on a 3-D input.
// CHECK-LABEL: func.func @rms_norm_epsilon
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ROWS3]], #[[FEAT3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: arith.constant 5.000000e-01 : f32
func.func @rms_norm_epsilon(%x: tensor<1x2x4xf32>, %g: tensor<4xf32>) -> tensor<1x2x4xf32> {
  %0 = tfm.rms_norm %x, %g {epsilon = 0.5} : tensor<1x2x4xf32>, tensor<4xf32>
  return %0 : tensor<1x2x4xf32>
}
