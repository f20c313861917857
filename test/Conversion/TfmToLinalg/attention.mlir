// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s --implicit-check-not=tfm.attention
// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s --check-prefix=ONEHEAD

// Only one head's [16, 16] scores exist at a time in @causal: no tensor holds
// the scores of all 4 heads.
// ONEHEAD-LABEL: func.func @causal
// ONEHEAD-NOT: tensor<4x16x16xf32>
// ONEHEAD-NOT: tensor<1x4x16x16xf32>
// ONEHEAD: tensor<16x16xf32>
// ONEHEAD-NOT: tensor<4x16x16xf32>
// ONEHEAD-NOT: tensor<1x4x16x16xf32>
// ONEHEAD-LABEL: func.func @grouped_query

// Attention is a loop over batch and heads; per head, scores = q k^T as a
// [S, T] matmul with a transposed B map, a masked max-subtracted softmax and
// a matmul by the values, normalized straight into the result's slice.

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0)>

// Causal multi-head attention, 4 heads of 8 features, S = T = 16.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x16x32xf32>, %[[K:.*]]: tensor<1x16x32xf32>, %[[V:.*]]: tensor<1x16x32xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x16x32xf32>
// CHECK: %[[NB:.*]] = arith.constant 1 : index
// CHECK: %[[OUT:.*]] = scf.for %[[B:.*]] = %{{.*}} to %[[NB]] step %{{.*}} iter_args(%[[BACC:.*]] = %[[INIT]]) -> (tensor<1x16x32xf32>)
// CHECK: %[[NH:.*]] = arith.constant 4 : index
// CHECK: %[[HOUT:.*]] = scf.for %[[H:.*]] = %{{.*}} to %[[NH]] step %{{.*}} iter_args(%[[HACC:.*]] = %[[BACC]]) -> (tensor<1x16x32xf32>)
// CHECK: %[[GROUP:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[KVH:.*]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK: %[[QOFF:.*]] = arith.muli %[[H]], %{{.*}} : index
// CHECK: %[[KVOFF:.*]] = arith.muli %[[KVH]], %{{.*}} : index
// CHECK-NEXT: %[[QH:.*]] = tensor.extract_slice %[[Q]][%[[B]], 0, %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK-NEXT: %[[KH:.*]] = tensor.extract_slice %[[K]][%[[B]], 0, %[[KVOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK-NEXT: %[[VH:.*]] = tensor.extract_slice %[[V]][%[[B]], 0, %[[KVOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK: %[[ZS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16x16xf32>)
// CHECK: %[[S:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%[[QH]], %[[KH]] : tensor<16x8xf32>, tensor<16x8xf32>) outs(%[[ZS]] : tensor<16x16xf32>)
//
// Row maximum of the scaled, causally masked scores, from -inf.
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[MAX0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<16xf32>)
// CHECK-NEXT: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[S]] : tensor<16x16xf32>) outs(%[[MAX0]] : tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[SC:.*]]: f32, %[[M:.*]]: f32):
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-NEXT: %[[SCALED:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[SHIFT:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[LIMIT:.*]] = arith.addi %[[I]], %[[SHIFT]] : index
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpi ule, %[[J]], %[[LIMIT]] : index
// CHECK-NEXT: %[[NI:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[CAND:.*]] = arith.select %[[KEEP]], %[[SCALED]], %[[NI]] : f32
// CHECK-NEXT: %[[NEWMAX:.*]] = arith.maximumf %[[CAND]], %[[M]] : f32
// CHECK-NEXT: linalg.yield %[[NEWMAX]] : f32
//
// p = exp(scaled - max) where kept, 0 elsewhere.
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[S]], %[[MAX]] : tensor<16x16xf32>, tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[SC:.*]]: f32, %[[M:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-NEXT: %[[SCALED:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK: %[[KEEP:.*]] = arith.cmpi ule
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[SCALED]], %[[M]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[PV:.*]] = arith.select %[[KEEP]], %[[E]], %[[Z]] : f32
// CHECK-NEXT: linalg.yield %[[PV]] : f32
//
// Row sums, the unnormalized p v, and the division into the result's slice.
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<16x16xf32>)
// CHECK: arith.addf
// CHECK: %[[PVMM:.*]] = linalg.matmul ins(%[[P]], %[[VH]] : tensor<16x16xf32>, tensor<16x8xf32>) outs(%{{.*}} : tensor<16x8xf32>)
// CHECK-NEXT: %[[DEST:.*]] = tensor.extract_slice %[[HACC]][%[[B]], 0, %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK-NEXT: %[[NORM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[PVMM]], %[[SUM]] : tensor<16x8xf32>, tensor<16xf32>) outs(%[[DEST]] : tensor<16x8xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[DIV:.*]] = arith.divf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[DIV]]
// CHECK: %[[INS:.*]] = tensor.insert_slice %[[NORM]] into %[[HACC]][%[[B]], 0, %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<16x8xf32> into tensor<1x16x32xf32>
// CHECK-NEXT: scf.yield %[[INS]] : tensor<1x16x32xf32>
// CHECK: scf.yield %[[HOUT]] : tensor<1x16x32xf32>
// CHECK: return %[[OUT]]
func.func @causal(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 4, causal} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>
  return %0 : tensor<1x16x32xf32>
}

// Grouped-query attention: 4 query heads share 2 key/value heads, so query
// head h reads key/value head h / 2; batch 2; explicit scale; not causal, so
// nothing is masked and linalg.index is not used.
// CHECK-LABEL: func.func @grouped_query
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x32xf32>, %[[K:.*]]: tensor<2x4x16xf32>, %[[V:.*]]: tensor<2x4x16xf32>)
// CHECK: %[[NB:.*]] = arith.constant 2 : index
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %[[NB]]
// CHECK: %[[NH:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %[[NH]]
// CHECK: %[[GROUP:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[KVH:.*]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK-NEXT: %[[HD:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[QOFF:.*]] = arith.muli %[[H]], %[[HD]] : index
// CHECK-NEXT: %[[HD2:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[KVOFF:.*]] = arith.muli %[[KVH]], %[[HD2]] : index
// CHECK-NEXT: tensor.extract_slice %[[Q]][%[[B]], 0, %[[QOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x32xf32> to tensor<4x8xf32>
// CHECK-NEXT: tensor.extract_slice %[[K]][%[[B]], 0, %[[KVOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x16xf32> to tensor<4x8xf32>
// CHECK-NEXT: tensor.extract_slice %[[V]][%[[B]], 0, %[[KVOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x16xf32> to tensor<4x8xf32>
// CHECK-NOT: linalg.index
// CHECK: arith.constant 1.250000e-01 : f32
// CHECK-NOT: linalg.index
// CHECK: return
func.func @grouped_query(%q: tensor<2x4x32xf32>, %k: tensor<2x4x16xf32>, %v: tensor<2x4x16xf32>) -> tensor<2x4x32xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, scale = 0.125} : tensor<2x4x32xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
  return %0 : tensor<2x4x32xf32>
}

// A sparsity pattern becomes one constant [S, T] i8 keep-mask, read by the
// max and exp generics next to the scores. The 2 queries are the last 2 of
// the 4 keys (positions 2 and 3), so the causal limit is i + 2 and the
// window of size 2 keeps keys 1..3 and 2..3.
// CHECK-LABEL: func.func @window_after_prefix
// CHECK: %[[MASK:.*]] = arith.constant dense<{{\[}}[0, 1, 1, 1], [0, 0, 1, 1]]> : tensor<2x4xi8>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[S:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4x4xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[S]], %[[MASK]] : tensor<2x4xf32>, tensor<2x4xi8>)
// CHECK-NEXT: ^bb0(%{{.*}}: f32, %[[BYTE:.*]]: i8, %{{.*}}: f32):
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[SHIFT:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[LIMIT:.*]] = arith.addi %[[I]], %[[SHIFT]] : index
// CHECK-NEXT: %[[CAUSAL:.*]] = arith.cmpi ule, %[[J]], %[[LIMIT]] : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i8
// CHECK-NEXT: %[[KEPT:.*]] = arith.cmpi ne, %[[BYTE]], %[[ZERO]] : i8
// CHECK-NEXT: %[[KEEP:.*]] = arith.andi %[[CAUSAL]], %[[KEPT]] : i1
// CHECK: arith.select %[[KEEP]]
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]], #[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[S]], %{{.*}}, %[[MASK]] : tensor<2x4xf32>, tensor<2xf32>, tensor<2x4xi8>)
// CHECK: arith.andi
// CHECK: math.exp
func.func @window_after_prefix(%q: tensor<1x2x8xf32>, %k: tensor<1x4x8xf32>, %v: tensor<1x4x8xf32>) -> tensor<1x2x8xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 2, causal, sparsity = #tfm.window<size = 2>} : tensor<1x2x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %0 : tensor<1x2x8xf32>
}

// Other patterns give other masks: a strided pattern of stride 2 with one
// summary column keeps a query's own block and every odd key.
// CHECK-LABEL: func.func @strided
// CHECK: arith.constant dense<{{\[}}[1, 1, 0, 1], [1, 1, 0, 1], [0, 1, 1, 1], [0, 1, 1, 1]]> : tensor<4x4xi8>
// CHECK-NOT: arith.cmpi ule
// CHECK: return
func.func @strided(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.attention %x, %x, %x {num_heads = 1, num_kv_heads = 1, sparsity = #tfm.strided<stride = 2, summary = 1>} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}
