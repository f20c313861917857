// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s

// tfm.linear becomes one linalg.matmul on the input flattened to rows,
// accumulating into zeros or into the bias broadcast over the rows.

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[FEATURE:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>

// Weights stored [out, in] (the default): B is read transposed.
// CHECK-LABEL: func.func @out_in
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<16x8xf32>)
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<6x16xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<6x16xf32>)
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%[[ROWS]], %[[W]] : tensor<6x8xf32>, tensor<16x8xf32>) outs(%[[ACC]] : tensor<6x16xf32>)
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]] output_shape [2, 3, 16] : tensor<6x16xf32> into tensor<2x3x16xf32>
// CHECK: return %[[Y]]
func.func @out_in(%x: tensor<2x3x8xf32>, %w: tensor<16x8xf32>) -> tensor<2x3x16xf32> {
  %y = tfm.linear %x, %w : tensor<2x3x8xf32>, tensor<16x8xf32>
  return %y : tensor<2x3x16xf32>
}

// Weights stored [in, out]: the plain matmul, whose default maps are elided;
// the accumulator is the bias broadcast over the rows.
// CHECK-LABEL: func.func @in_out_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<8x24xf32>, %[[B:.*]]: tensor<24xf32>)
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<4x24xf32>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[FEATURE]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[B]] : tensor<24xf32>) outs(%[[EMPTY]] : tensor<4x24xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK-NOT: linalg.fill
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[ROWS]], %[[W]] : tensor<4x8xf32>, tensor<8x24xf32>) outs(%[[ACC]] : tensor<4x24xf32>)
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]] output_shape [1, 4, 24]
// CHECK: return %[[Y]]
func.func @in_out_bias(%x: tensor<1x4x8xf32>, %w: tensor<8x24xf32>, %b: tensor<24xf32>) -> tensor<1x4x24xf32> {
  %y = tfm.linear %x, %w, %b {layout = #tfm<layout in_out>} : tensor<1x4x8xf32>, tensor<8x24xf32>, tensor<24xf32>
  return %y : tensor<1x4x24xf32>
}

// A 2-D input is already rows: no reshapes.
// CHECK-LABEL: func.func @rank2
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xf32>)
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<16x8xf32>)
// CHECK-NOT: tensor.expand_shape
// CHECK: return %[[MM]] : tensor<4x16xf32>
func.func @rank2(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %y = tfm.linear %x, %w : tensor<4x8xf32>, tensor<16x8xf32>
  return %y : tensor<4x16xf32>
}

// A vector is one row: expanded to [1, K], and the [1, N] product collapsed.
// CHECK-LABEL: func.func @rank1
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>, %[[W:.*]]: tensor<16x8xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK: %[[ROW:.*]] = tensor.expand_shape %[[X]] {{\[}}[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<16xf32>) outs(%{{.*}} : tensor<1x16xf32>)
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%[[ROW]], %[[W]] : tensor<1x8xf32>, tensor<16x8xf32>) outs(%[[ACC]] : tensor<1x16xf32>)
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[MM]] {{\[}}[0, 1]] : tensor<1x16xf32> into tensor<16xf32>
// CHECK: return %[[Y]]
func.func @rank1(%x: tensor<8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %y = tfm.linear %x, %w, %b : tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>
  return %y : tensor<16xf32>
}

// All leading dimensions fold into the rows.
// CHECK-LABEL: func.func @rank4
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2], [3]] : tensor<2x2x3x8xf32> into tensor<12x8xf32>
// CHECK: linalg.matmul {{.*}} -> tensor<12x16xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2], [3]] output_shape [2, 2, 3, 16] : tensor<12x16xf32> into tensor<2x2x3x16xf32>
func.func @rank4(%x: tensor<2x2x3x8xf32>, %w: tensor<16x8xf32>) -> tensor<2x2x3x16xf32> {
  %y = tfm.linear %x, %w : tensor<2x2x3x8xf32>, tensor<16x8xf32>
  return %y : tensor<2x2x3x16xf32>
}
