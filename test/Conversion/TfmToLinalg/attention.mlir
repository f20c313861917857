// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s --implicit-check-not=tfm.attention
// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s --check-prefix=ONEHEAD
// RUN: tmc-opt %s --convert-tfm-to-linalg="block-q=4 block-k=4" | FileCheck %s --check-prefix=TILE
// RUN: tmc-opt %s --convert-tfm-to-linalg="block-q=4 block-k=4" | FileCheck %s --check-prefix=TILEONLY
// RUN: tmc-opt %s --convert-tfm-to-linalg="block-q=2 block-k=2" | FileCheck %s --check-prefix=SPARSE
// RUN: not tmc-opt %s --convert-tfm-to-linalg="block-q=0" 2>&1 | FileCheck %s --check-prefix=BADBLOCK

// Attention is a loop nest over batch, heads and blocks of queries; per
// query block, an online softmax (running row maximum, row sum and output
// accumulator) is updated one block of keys at a time, the scores of a block
// being q k^T by a linalg.matmul with a transposed B map. The default blocks
// are 64 x 64, clamped to the sequence lengths.

// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MBT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MC:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0)>

// BADBLOCK: error: convert-tfm-to-linalg: attention block sizes must be positive, got 0 x 64

// Causal multi-head attention, 4 heads of 8 features, S = T = 16: one
// 16 x 16 block.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x16x32xf32>, %[[K:.*]]: tensor<1x16x32xf32>, %[[V:.*]]: tensor<1x16x32xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x16x32xf32>
// CHECK: %[[NB:.*]] = arith.constant 1 : index
// CHECK: %[[OUT:.*]] = scf.for %[[B:.*]] = %{{.*}} to %[[NB]] step %{{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (tensor<1x16x32xf32>)
// CHECK: %[[NH:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %[[NH]] step
// CHECK: %[[NQ:.*]] = arith.constant 1 : index
// CHECK: scf.for %[[QB:.*]] = %{{.*}} to %[[NQ]] step %{{.*}} iter_args(%[[RESULT:.*]] = %{{.*}}) -> (tensor<1x16x32xf32>)
// CHECK: %[[BQ:.*]] = arith.constant 16 : index
// CHECK-NEXT: %[[Q0:.*]] = arith.muli %[[QB]], %[[BQ]] : index
// CHECK-NEXT: %[[HD:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[QOFF:.*]] = arith.muli %[[H]], %[[HD]] : index
// CHECK-NEXT: %[[GROUP:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[KVH:.*]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK-NEXT: arith.constant 8 : index
// CHECK-NEXT: %[[KVOFF:.*]] = arith.muli %[[KVH]], %{{.*}} : index
// CHECK-NEXT: %[[QT:.*]] = tensor.extract_slice %[[Q]][%[[B]], %[[Q0]], %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
//
// The running maximum starts at -inf, the sum and the accumulator at 0.
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[M0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<16xf32>)
// CHECK: %[[L0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16xf32>)
// CHECK: %[[A0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16x8xf32>)
//
// Causal: only the key blocks that start before the block's last query,
// ceil(min(q0 + 16, 16) / 16) of them.
// CHECK: %[[LAST:.*]] = arith.addi %[[Q0]], %{{.*}} : index
// CHECK: %[[KEND:.*]] = arith.minui %[[LAST]], %{{.*}} : index
// CHECK: %[[NEED:.*]] = arith.ceildivui %[[KEND]], %{{.*}} : index
// CHECK: %[[NK:.*]] = arith.minui %[[NEED]], %{{.*}} : index
// CHECK: %[[ST:.*]]:3 = scf.for %[[KB:.*]] = %{{.*}} to %[[NK]] step %{{.*}} iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[A:.*]] = %[[A0]]) -> (tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>)
// CHECK: %[[K0:.*]] = arith.muli %[[KB]], %{{.*}} : index
// CHECK-NEXT: %[[KT:.*]] = tensor.extract_slice %[[K]][%[[B]], %[[K0]], %[[KVOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK-NEXT: %[[VT:.*]] = tensor.extract_slice %[[V]][%[[B]], %[[K0]], %[[KVOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK: %[[S:.*]] = linalg.matmul indexing_maps = [#[[MA]], #[[MBT]], #[[MC]]] ins(%[[QT]], %[[KT]] : tensor<16x8xf32>, tensor<16x8xf32>) outs(%{{.*}} : tensor<16x16xf32>)
//
// Block row maximum of the scaled scores, masked where key k0 + j comes
// after query q0 + i.
// CHECK: %[[BMAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[S]] : tensor<16x16xf32>)
// CHECK-NEXT: ^bb0(%[[SC:.*]]: f32, %[[MX:.*]]: f32):
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-NEXT: %[[SS:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK-NEXT: arith.constant true
// CHECK-NEXT: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[QI:.*]] = arith.addi %[[Q0]], %[[I]] : index
// CHECK-NEXT: %[[SHIFT:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[LIM:.*]] = arith.addi %[[QI]], %[[SHIFT]] : index
// CHECK-NEXT: %[[KJ:.*]] = arith.addi %[[K0]], %[[J]] : index
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpi ule, %[[KJ]], %[[LIM]] : index
// CHECK-NEXT: %[[NI:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[CAND:.*]] = arith.select %[[KEEP]], %[[SS]], %[[NI]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.maximumf %[[CAND]], %[[MX]] : f32
// CHECK-NEXT: linalg.yield %[[R]]
//
// alpha = exp(m - max(m, blockMax)), 0 while the row has seen no key.
// CHECK: %[[ALPHA:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[BMAX]] : tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[OLD:.*]]: f32, %[[NEW:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[MAX:.*]] = arith.maximumf %[[OLD]], %[[NEW]] : f32
// CHECK-NEXT: %[[NI:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[SEEN:.*]] = arith.cmpf one, %[[OLD]], %[[NI]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[OLD]], %[[MAX]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[AL:.*]] = arith.select %[[SEEN]], %[[E]], %[[Z]] : f32
// CHECK-NEXT: linalg.yield %[[AL]]
// The new maximum is written in place into the carried one.
// CHECK: %[[M1:.*]] = linalg.generic {{.*}} ins(%[[BMAX]] : tensor<16xf32>) outs(%[[M]] : tensor<16xf32>)
// CHECK: arith.maximumf
//
// p = exp(scaled - m1) where kept, 0 elsewhere.
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[S]], %[[M1]] : tensor<16x16xf32>, tensor<16xf32>)
// CHECK: %[[KEEP:.*]] = arith.cmpi ule
// CHECK-NEXT: %[[D:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.select %[[KEEP]], %[[E]], %[[Z]] : f32
// CHECK: %[[BSUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<16x16xf32>)
//
// l = l * alpha + blockSum and acc = acc * alpha + p v, in place.
// CHECK: %[[L1:.*]] = linalg.generic {{.*}} ins(%[[ALPHA]], %[[BSUM]] : tensor<16xf32>, tensor<16xf32>) outs(%[[L]] : tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[AL:.*]]: f32, %[[BS:.*]]: f32, %[[OL:.*]]: f32):
// CHECK-NEXT: %[[T:.*]] = arith.mulf %[[OL]], %[[AL]] : f32
// CHECK-NEXT: %[[N:.*]] = arith.addf %[[T]], %[[BS]] : f32
// CHECK-NEXT: linalg.yield %[[N]]
// CHECK: %[[RESC:.*]] = linalg.generic {{.*}} ins(%[[ALPHA]] : tensor<16xf32>) outs(%[[A]] : tensor<16x8xf32>)
// CHECK: %[[A1:.*]] = linalg.matmul ins(%[[P]], %[[VT]] : tensor<16x16xf32>, tensor<16x8xf32>) outs(%[[RESC]] : tensor<16x8xf32>)
// CHECK-NEXT: scf.yield %[[M1]], %[[L1]], %[[A1]]
//
// out = acc / l, normalized straight into the result's slice.
// CHECK: %[[DEST:.*]] = tensor.extract_slice %[[RESULT]][%[[B]], %[[Q0]], %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<1x16x32xf32> to tensor<16x8xf32>
// CHECK-NEXT: %[[O:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROWS]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[ST]]#2, %[[ST]]#1 : tensor<16x8xf32>, tensor<16xf32>) outs(%[[DEST]] : tensor<16x8xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[DIV:.*]] = arith.divf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[DIV]]
// CHECK: tensor.insert_slice %[[O]] into %[[RESULT]][%[[B]], %[[Q0]], %[[QOFF]]] [1, 16, 8] [1, 1, 1] : tensor<16x8xf32> into tensor<1x16x32xf32>
// CHECK: return %[[OUT]]
//
// Only one head's scores are ever live: no tensor holds all 4 heads'.
// ONEHEAD-LABEL: func.func @causal
// ONEHEAD-NOT: tensor<4x16x16xf32>
// ONEHEAD-NOT: tensor<1x4x16x16xf32>
// ONEHEAD: linalg.matmul {{.*}} -> tensor<16x16xf32>
// ONEHEAD-NOT: tensor<4x16x16xf32>
// ONEHEAD-NOT: tensor<1x4x16x16xf32>
// ONEHEAD-LABEL: func.func @grouped_query
//
// With 4 x 4 blocks only a 4 x 4 tile of scores is live: 4 query blocks, and
// per query block ceil(min(q0 + 4, 16) / 4) key blocks.
// TILEONLY-LABEL: func.func @causal
// TILEONLY-NOT: x16xf32>
// TILEONLY-LABEL: func.func @grouped_query
// TILE-LABEL: func.func @causal
// TILE: scf.for
// TILE: scf.for
// TILE: %[[NQ:.*]] = arith.constant 4 : index
// TILE: scf.for %[[QB:.*]] = %{{.*}} to %[[NQ]]
// TILE: %[[BQ:.*]] = arith.constant 4 : index
// TILE-NEXT: %[[Q0:.*]] = arith.muli %[[QB]], %[[BQ]] : index
// TILE: %[[LAST:.*]] = arith.addi %[[Q0]], %{{.*}} : index
// TILE-NEXT: %{{.*}} = arith.constant 16 : index
// TILE-NEXT: %[[KEND:.*]] = arith.minui %[[LAST]], %{{.*}} : index
// TILE-NEXT: %{{.*}} = arith.constant 4 : index
// TILE-NEXT: %[[NEED:.*]] = arith.ceildivui %[[KEND]], %{{.*}} : index
// TILE-NEXT: %{{.*}} = arith.constant 4 : index
// TILE-NEXT: %[[NK:.*]] = arith.minui %[[NEED]], %{{.*}} : index
// TILE: scf.for %{{.*}} = %{{.*}} to %[[NK]]
// TILE: linalg.matmul indexing_maps = {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>) outs(%{{.*}} : tensor<4x4xf32>)
// TILE: return
func.func @causal(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 4, causal} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>
  return %0 : tensor<1x16x32xf32>
}

// Grouped-query attention: 4 query heads share 2 key/value heads, so query
// head h reads key/value head h / 2; batch 2; an explicit scale. Without
// `causal` every key block is visited and nothing is masked.
// CHECK-LABEL: func.func @grouped_query
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x32xf32>, %[[K:.*]]: tensor<2x4x16xf32>, %[[V:.*]]: tensor<2x4x16xf32>)
// CHECK: %[[NB:.*]] = arith.constant 2 : index
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %[[NB]]
// CHECK: %[[NH:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %[[NH]]
// CHECK: %[[QOFF:.*]] = arith.muli %[[H]], %{{.*}} : index
// CHECK-NEXT: %[[GROUP:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[KVH:.*]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK-NEXT: %[[HD:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[KVOFF:.*]] = arith.muli %[[KVH]], %[[HD]] : index
// CHECK-NEXT: tensor.extract_slice %[[Q]][%[[B]], %{{.*}}, %[[QOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x32xf32> to tensor<4x8xf32>
// CHECK-NOT: arith.ceildivui
// CHECK: tensor.extract_slice %[[K]][%[[B]], %{{.*}}, %[[KVOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x16xf32> to tensor<4x8xf32>
// CHECK-NEXT: tensor.extract_slice %[[V]][%[[B]], %{{.*}}, %[[KVOFF]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x16xf32> to tensor<4x8xf32>
// CHECK-NOT: arith.cmpi ule
// CHECK: arith.constant 1.250000e-01 : f32
// CHECK-NOT: arith.cmpi ule
// CHECK: return
func.func @grouped_query(%q: tensor<2x4x32xf32>, %k: tensor<2x4x16xf32>, %v: tensor<2x4x16xf32>) -> tensor<2x4x32xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, scale = 0.125} : tensor<2x4x32xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
  return %0 : tensor<2x4x32xf32>
}

// S = 6 with 4 x 4 blocks: one full query block then a tail block of 2
// queries; past the full key block, a tail key block of 2 keys is visited
// when the causal limit reaches it.
// TILE-LABEL: func.func @tails
// TILE-SAME: (%[[X:.*]]: tensor<1x6x8xf32>)
// TILE: scf.for
// TILE: scf.for
// TILE: %[[NQ:.*]] = arith.constant 1 : index
// TILE: scf.for %{{.*}} = %{{.*}} to %[[NQ]]
// TILE: tensor.extract_slice %[[X]]{{.*}} [1, 4, 8] [1, 1, 1] : tensor<1x6x8xf32> to tensor<4x8xf32>
// TILE: %[[KEND:.*]] = arith.minui
// TILE: scf.for
// TILE: linalg.matmul {{.*}} outs(%{{.*}} : tensor<4x4xf32>)
// TILE: %[[K0:.*]] = arith.constant 4 : index
// TILE-NEXT: %[[VISIT:.*]] = arith.cmpi ugt, %[[KEND]], %[[K0]] : index
// TILE-NEXT: scf.if %[[VISIT]] -> (tensor<4xf32>, tensor<4xf32>, tensor<4x8xf32>)
// TILE: tensor.extract_slice %[[X]][%{{.*}}, %[[K0]], %{{.*}}] [1, 2, 8] [1, 1, 1] : tensor<1x6x8xf32> to tensor<2x8xf32>
// TILE: linalg.matmul {{.*}} outs(%{{.*}} : tensor<4x2xf32>)
// The tail query block, after the loop over full ones.
// TILE: tensor.extract_slice %[[X]]{{.*}} [1, 2, 8] [1, 1, 1] : tensor<1x6x8xf32> to tensor<2x8xf32>
// TILE: linalg.matmul {{.*}} outs(%{{.*}} : tensor<2x4xf32>)
// TILE: linalg.matmul {{.*}} outs(%{{.*}} : tensor<2x2xf32>)
// TILE: tensor.insert_slice %{{.*}} [1, 2, 8] [1, 1, 1] : tensor<2x8xf32> into tensor<1x6x8xf32>
// TILE: return
func.func @tails(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %0 = tfm.attention %x, %x, %x {num_heads = 1, num_kv_heads = 1, causal} : tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>
  return %0 : tensor<1x6x8xf32>
}

// A sparsity pattern is enumerated at compile time into constant tables:
// per query block, the range of its entries (i32 offsets), each entry's key
// block and mask index (-1: kept whole), and the i8 element masks of the
// blocks kept only in part. With a window of 2 over 8 positions in 2 x 2
// blocks, each query block visits at most 3 of the 4 key blocks: the
// diagonal one whole, its neighbours through a mask.
// SPARSE-LABEL: func.func @window
// SPARSE-DAG: %[[OFFSETS:.*]] = arith.constant dense<[0, 2, 5, 8, 10]> : tensor<5xi32>
// SPARSE-DAG: %[[BLOCKS:.*]] = arith.constant dense<[0, 1, 0, 1, 2, 1, 2, 3, 2, 3]> : tensor<10xi32>
// SPARSE-DAG: %[[MASKIDX:.*]] = arith.constant dense<[-1, 0, 1, -1, 2, 3, -1, 4, 5, -1]> : tensor<10xi32>
// SPARSE-DAG: %[[MASKS:.*]] = arith.constant dense<{{\[}}{{\[}}[0, 0], [1, 0]], {{\[}}[0, 1], [0, 0]], {{\[}}[0, 0], [1, 0]], {{\[}}[0, 1], [0, 0]], {{\[}}[0, 0], [1, 0]], {{\[}}[0, 1], [0, 0]]]> : tensor<6x2x2xi8>
// SPARSE: scf.for
// SPARSE: scf.for
// SPARSE: %[[NQ:.*]] = arith.constant 4 : index
// SPARSE: scf.for %[[QB:.*]] = %{{.*}} to %[[NQ]] step
// SPARSE: %[[BEGIN32:.*]] = tensor.extract %[[OFFSETS]][%[[QB]]] : tensor<5xi32>
// SPARSE-NEXT: %[[BEGIN:.*]] = arith.index_cast %[[BEGIN32]] : i32 to index
// SPARSE: %[[END32:.*]] = tensor.extract %[[OFFSETS]][%{{.*}}] : tensor<5xi32>
// SPARSE-NEXT: %[[END:.*]] = arith.index_cast %[[END32]] : i32 to index
// SPARSE: scf.for %[[E:.*]] = %[[BEGIN]] to %[[END]] step
// SPARSE: %[[KB32:.*]] = tensor.extract %[[BLOCKS]][%[[E]]] : tensor<10xi32>
// SPARSE: %[[MI32:.*]] = tensor.extract %[[MASKIDX]][%[[E]]] : tensor<10xi32>
// SPARSE-NEXT: %[[MI:.*]] = arith.index_cast %[[MI32]] : i32 to index
// The mask is read only for partially kept blocks (mask index >= 0).
// SPARSE: ^bb0(
// SPARSE: %[[I:.*]] = linalg.index 0 : index
// SPARSE-NEXT: %[[J:.*]] = linalg.index 1 : index
// SPARSE: %[[PARTIAL:.*]] = arith.cmpi sge, %[[MI]], %{{.*}} : index
// SPARSE: %[[SAFE:.*]] = arith.maxsi %[[MI]], %{{.*}} : index
// SPARSE-NEXT: %[[BYTE:.*]] = tensor.extract %[[MASKS]][%[[SAFE]], %[[I]], %[[J]]] : tensor<6x2x2xi8>
// SPARSE: %[[KEPT:.*]] = arith.cmpi ne, %[[BYTE]], %{{.*}} : i8
// SPARSE: %[[WHOLE:.*]] = arith.xori %[[PARTIAL]], %{{.*}} : i1
// SPARSE-NEXT: %[[KEEP:.*]] = arith.ori %[[WHOLE]], %[[KEPT]] : i1
// SPARSE: arith.select %[[KEEP]]
// SPARSE: return
func.func @window(%x: tensor<1x8x8xf32>) -> tensor<1x8x8xf32> {
  %0 = tfm.attention %x, %x, %x {num_heads = 1, num_kv_heads = 1, sparsity = #tfm.window<size = 2>} : tensor<1x8x8xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>
  return %0 : tensor<1x8x8xf32>
}

// The 2 queries are the last 2 of the 4 keys (positions 2 and 3); the masks
// combine the window with causality: position 2 keeps keys 1 and 2, position
// 3 keeps keys 2 and 3.
// SPARSE-LABEL: func.func @window_after_prefix
// SPARSE-DAG: arith.constant dense<[0, 2]> : tensor<2xi32>
// SPARSE-DAG: arith.constant dense<{{\[}}{{\[}}[0, 1], [0, 0]], {{\[}}[1, 0], [1, 1]]]> : tensor<2x2x2xi8>
// SPARSE-NOT: arith.cmpi ule
// SPARSE: return
func.func @window_after_prefix(%q: tensor<1x2x8xf32>, %k: tensor<1x4x8xf32>, %v: tensor<1x4x8xf32>) -> tensor<1x2x8xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 2, causal, sparsity = #tfm.window<size = 2>} : tensor<1x2x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %0 : tensor<1x2x8xf32>
}
