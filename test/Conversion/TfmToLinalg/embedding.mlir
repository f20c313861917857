// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s

// Ops whose elements depend on ids or positions become gathers inside a
// linalg.generic: tensor.extract at indices computed from linalg.index.

// CHECK-DAG: #[[IDS:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>

// result[b, s, d] = table[clamp(ids[b, s], 0, vocab - 1), d]
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[T:.*]]: tensor<16x8xf32>, %[[IDS_ARG:.*]]: tensor<1x4xi64>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x4x8xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[IDS]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[IDS_ARG]] : tensor<1x4xi64>) outs(%[[EMPTY]] : tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[ID:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[ID]] : i64 to index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[LO:.*]] = arith.maxsi %[[I]], %[[C0]] : index
// CHECK-NEXT: %[[LAST:.*]] = arith.constant 15 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.minsi %[[LO]], %[[LAST]] : index
// CHECK-NEXT: %[[D:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[E:.*]] = tensor.extract %[[T]][%[[ROW]], %[[D]]] : tensor<16x8xf32>
// CHECK-NEXT: linalg.yield %[[E]] : f32
// CHECK: return %[[R]]
func.func @embedding(%t: tensor<16x8xf32>, %ids: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  %0 = tfm.embedding %t[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  return %0 : tensor<1x4x8xf32>
}

// i32 ids, batch 2, a vocabulary of 100.
// CHECK-LABEL: func.func @embedding_i32
// CHECK: ins(%{{.*}} : tensor<2x4xi32>) outs(%{{.*}} : tensor<2x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[ID:.*]]: i32, %{{.*}}: f32):
// CHECK-NEXT: arith.index_cast %[[ID]] : i32 to index
// CHECK: arith.constant 99 : index
// CHECK: tensor.extract %{{.*}} : tensor<100x8xf32>
func.func @embedding_i32(%t: tensor<100x8xf32>, %ids: tensor<2x4xi32>) -> tensor<2x4x8xf32> {
  %0 = tfm.embedding %t[%ids] : tensor<100x8xf32>, tensor<2x4xi32>
  return %0 : tensor<2x4x8xf32>
}

// positions[b, s] = offset + stride * s, from linalg.index 1; no inputs.
// CHECK-LABEL: func.func @positions
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x4xi64>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID2]]], iterator_types = ["parallel", "parallel"]} outs(%[[EMPTY]] : tensor<2x4xi64>)
// CHECK-NEXT: ^bb0(%{{.*}}: i64):
// CHECK-NEXT: %[[S:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[S64:.*]] = arith.index_cast %[[S]] : index to i64
// CHECK-DAG: %[[STRIDE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[OFFSET:.*]] = arith.constant 0 : i64
// CHECK: %[[M:.*]] = arith.muli %[[STRIDE]], %[[S64]] : i64
// CHECK-NEXT: %[[P:.*]] = arith.addi %[[OFFSET]], %[[M]] : i64
// CHECK-NEXT: linalg.yield %[[P]] : i64
// CHECK: return %[[R]]
func.func @positions(%ids: tensor<2x4xi64>) -> tensor<2x4xi64> {
  %0 = tfm.positions like %ids : tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}

// BERT's token types: offset 3, stride 0, in the ids' element type.
// CHECK-LABEL: func.func @positions_offset
// CHECK: ^bb0(%{{.*}}: i32):
// CHECK-NEXT: %[[S:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[S32:.*]] = arith.index_cast %[[S]] : index to i32
// CHECK-DAG: %[[STRIDE:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[OFFSET:.*]] = arith.constant 3 : i32
// CHECK: %[[M:.*]] = arith.muli %[[STRIDE]], %[[S32]] : i32
// CHECK-NEXT: %[[P:.*]] = arith.addi %[[OFFSET]], %[[M]] : i32
// CHECK-NEXT: linalg.yield %[[P]] : i32
func.func @positions_offset(%ids: tensor<1x4xi32>) -> tensor<1x4xi32> {
  %0 = tfm.positions like %ids {offset = 3, stride = 0} : tensor<1x4xi32>
  return %0 : tensor<1x4xi32>
}

// Rotary embedding, head_dim 4 (half 2), theta 10000, offset 2: for feature f
// in head position i = f % 4, the partner is f + 2 when i < 2 (and is
// negated), f - 2 otherwise; inv_freq = exp2((i % 2) * -2 log2(theta) / 4)
// and angle = (s + 2) * inv_freq.
// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[B:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[S:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[F:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[HD:.*]] = arith.constant 4 : index
// CHECK-NEXT: %[[I:.*]] = arith.remui %[[F]], %[[HD]] : index
// CHECK-NEXT: %[[H:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[LOW:.*]] = arith.cmpi ult, %[[I]], %[[H]] : index
// CHECK: %[[UP:.*]] = arith.addi %[[F]], %{{.*}} : index
// CHECK: %[[DOWN:.*]] = arith.subi %[[F]], %{{.*}} : index
// CHECK-NEXT: %[[P:.*]] = arith.select %[[LOW]], %[[UP]], %[[DOWN]] : index
// CHECK-NEXT: %[[XP:.*]] = tensor.extract %[[X]][%[[B]], %[[S]], %[[P]]] : tensor<1x4x8xf32>
// CHECK: %[[J:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK-NEXT: %[[J64:.*]] = arith.index_castui %[[J]] : index to i64
// CHECK-NEXT: %[[JF:.*]] = arith.uitofp %[[J64]] : i64 to f32
// CHECK-NEXT: %[[K:.*]] = arith.constant -6.64385605 : f32
// CHECK-NEXT: %[[EXP:.*]] = arith.mulf %[[JF]], %[[K]] : f32
// CHECK-NEXT: %[[FREQ:.*]] = math.exp2 %[[EXP]] : f32
// CHECK-NEXT: %[[OFF:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[POS:.*]] = arith.addi %[[S]], %[[OFF]] : index
// CHECK-NEXT: %[[POS64:.*]] = arith.index_castui %[[POS]] : index to i64
// CHECK-NEXT: %[[POSF:.*]] = arith.uitofp %[[POS64]] : i64 to f32
// CHECK-NEXT: %[[ANGLE:.*]] = arith.mulf %[[POSF]], %[[FREQ]] : f32
// CHECK-NEXT: %[[COS:.*]] = math.cos %[[ANGLE]] : f32
// CHECK-NEXT: %[[SIN:.*]] = math.sin %[[ANGLE]] : f32
// CHECK-NEXT: %[[NEG:.*]] = arith.negf %[[XP]] : f32
// CHECK-NEXT: %[[ROT:.*]] = arith.select %[[LOW]], %[[NEG]], %[[XP]] : f32
// CHECK-NEXT: %[[A:.*]] = arith.mulf %[[IN]], %[[COS]] : f32
// CHECK-NEXT: %[[BB:.*]] = arith.mulf %[[ROT]], %[[SIN]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[A]], %[[BB]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: return %[[R]]
func.func @rope(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.rope %x {head_dim = 4, theta = 10000.0, offset = 2} : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// LLaMA 3's theta (500000) and head_dim 8: -2 log2(500000) / 8 = -4.73289.
// CHECK-LABEL: func.func @rope_theta
// CHECK: arith.constant 8 : index
// CHECK: arith.constant -4.73289204 : f32
// CHECK: math.exp2
func.func @rope_theta(%x: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  %0 = tfm.rope %x {head_dim = 8, theta = 500000.0} : tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}
