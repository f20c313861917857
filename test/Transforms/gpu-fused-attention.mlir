// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention=threads=4 --cse | FileCheck %s --check-prefix=T4
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention=key-split=4 --cse | FileCheck %s --check-prefix=SPLIT
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-fused-attention=key-split=0 2>&1 | FileCheck %s --check-prefix=BADSPLIT
// BADSPLIT: tmc-gpu-fused-attention: key-split must be in [1, 32], got 0

// Causal grouped-query attention: 40 queries in 3 tiles of 16 (the last 8
// long), 4 heads over 2 key/value heads of 16 features. One block per
// (query tile, head, batch), one thread per query of the tile; keys and
// values staged 16 at a time in workgroup memory; each thread's query row,
// output accumulator, running maximum and sum in registers (carried by the
// key loops), its chunk's scores private.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: memref<1x40x64xf32>, %[[K:[a-z0-9_]+]]: memref<1x40x32xf32>, %[[V:[a-z0-9_]+]]: memref<1x40x32xf32>, %[[O:[a-z0-9_]+]]: memref<1x40x64xf32>)
// CHECK-NOT: tfm.fused_attention
// CHECK: gpu.launch blocks(%[[QB:[a-z0-9_]+]], %[[H:[a-z0-9_]+]], %[[B:[a-z0-9_]+]]) in (%{{[a-z0-9]+}} = %c3, %{{[a-z0-9]+}} = %c4, %{{[a-z0-9]+}} = %c1) threads(%[[T:[a-z0-9_]+]], %{{.*}}, %{{.*}}) in (%{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// CHECK-SAME: workgroup(%[[KS:[a-z0-9_]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>, %[[VS:[a-z0-9_]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: private(%[[S:[a-z0-9_]+]] : memref<16xf32, #gpu.address_space<private>>)
// The tile's queries and the head's key/value head (h / 2).
// CHECK: %[[Q0:[a-z0-9_]+]] = arith.muli %[[QB]], %c16
// CHECK: %[[QLEN:[a-z0-9_]+]] = arith.minui %c16, %{{.*}}
// CHECK: %[[QF:[a-z0-9_]+]] = arith.muli %[[H]], %c16
// CHECK: %[[KVH:[a-z0-9_]+]] = arith.divui %[[H]], %c2
// CHECK: %[[KVF:[a-z0-9_]+]] = arith.muli %[[KVH]], %c16
// The query row, zero past the tile.
// CHECK: %[[OWNS:[a-z0-9_]+]] = arith.cmpi ult, %[[T]], %[[QLEN]]
// CHECK: %[[QROW:[a-z0-9_]+]]:16 = scf.if %[[OWNS]] -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK-COUNT-16: memref.load %[[Q]][%[[B]], %{{.*}}, %{{.*}}]
// Causal: the key blocks up to the tile's last query; 16 accumulators,
// the maximum and the sum carried.
// CHECK: %[[END:[a-z0-9_]+]] = arith.ceildivui %{{.*}}, %c16
// CHECK: %[[STATE:[a-z0-9_]+]]:18 = scf.for %{{.*}} = %c0 to %[[END]] step %c1 iter_args(
// CHECK: scf.for {{.*}} step %c16 iter_args(
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %[[T]] to %{{.*}} step %c16
// CHECK: memref.load %[[K]][%[[B]], %{{.*}}, %{{.*}}]
// CHECK: memref.store {{.*}}, %[[KS]]
// CHECK: memref.load %[[V]][%[[B]], %{{.*}}, %{{.*}}]
// CHECK: memref.store {{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: scf.if %[[OWNS]] -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: memref.load %[[KS]]
// CHECK: arith.mulf %[[QROW]]#0,
// CHECK: arith.mulf %{{.*}}, %cst
// CHECK: arith.cmpi ule
// CHECK: memref.store {{.*}}, %[[S]]
// CHECK: math.exp
// CHECK: scf.for {{.*}} iter_args(
// CHECK: math.exp
// CHECK: memref.load %[[VS]]
// out = acc / sum
// CHECK: scf.if %[[OWNS]]
// CHECK: arith.divf %[[STATE]]#0, %[[STATE]]#17
// CHECK: memref.store {{.*}}, %[[O]][%[[B]], %{{.*}}, %{{.*}}]
// CHECK: gpu.terminator

// Four threads per block: each owns 4 queries of the tile.
// T4-LABEL: func.func @causal_gqa
// T4: threads(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c4, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// T4-SAME: private(%{{.*}} : memref<4x16xf32, #gpu.address_space<private>>, %{{.*}} : memref<4x16xf32, #gpu.address_space<private>>, %{{.*}} : memref<4xf32, #gpu.address_space<private>>, %{{.*}} : memref<4xf32, #gpu.address_space<private>>, %{{.*}} : memref<16xf32, #gpu.address_space<private>>)
// With key-split=4, four threads per query (64 per block): thread t serves
// row t mod 16 and keys t / 16, t / 16 + 4, ... of each chunk; after the
// key loop, parts 1, 2 and 3 in turn leave their accumulators (in the
// keys' tile, row t mod 16) and their maxima and sums (the values' tile)
// for part 0, which folds them in; part 0 stores the row.
// SPLIT-LABEL: func.func @causal_gqa
// SPLIT: gpu.launch {{.*}} threads(%[[TID:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c64, {{.*}} workgroup(%[[KT:[a-z0-9]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>, %[[VT:[a-z0-9]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>)
// SPLIT: %[[ROW:.*]] = arith.remui %[[TID]], %c16
// SPLIT: %[[PART:.*]] = arith.divui %[[TID]], %c16
// SPLIT: scf.for %{{.*}} = %[[PART]] to %{{.*}} step %c4
// SPLIT: scf.for %{{.*}} = %[[PART]] to %{{.*}} step %c4
// SPLIT: gpu.barrier
// SPLIT-COUNT-16: memref.store %{{.*}}, %[[KT]][%[[ROW]], %{{.*}}]
// SPLIT: memref.store %{{.*}}, %[[VT]]
// SPLIT: memref.store %{{.*}}, %[[VT]]
// SPLIT: gpu.barrier
// SPLIT: math.exp
// SPLIT: memref.load %[[KT]][%[[ROW]], %c0]
// SPLIT: gpu.barrier
// SPLIT-COUNT-2: gpu.barrier
// SPLIT: gpu.barrier
// SPLIT: arith.cmpi eq, %[[PART]], %c0
// SPLIT: memref.store {{.*}} : memref<1x40x64xf32>
func.func @causal_gqa(%q: memref<1x40x64xf32>, %k: memref<1x40x32xf32>, %v: memref<1x40x32xf32>, %o: memref<1x40x64xf32>) {
  tfm.fused_attention %q, %k, %v into %o {num_heads = 4, num_kv_heads = 2, scale = 0.25, block_q = 16, block_k = 16, causal} : memref<1x40x64xf32>, memref<1x40x32xf32>, memref<1x40x32xf32>, memref<1x40x64xf32>
  return
}

// -----

// A window pattern on heads of 128 features: chunks of 32 keys (32 KiB of
// keys and values in workgroup memory). The block table is a set of
// constant globals, shared by the two ops with the same pattern and shapes;
// the loop visits a query tile's entries [offsets[qb], offsets[qb + 1]).
// CHECK-DAG: memref.global "private" constant @__tmc_attention_offsets : memref<3xi32> = dense<[0, 1, 3]> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @__tmc_attention_key_blocks : memref<3xi32> = dense<[0, 0, 1]> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @__tmc_attention_mask_index : memref<3xi32> = dense<[0, 1, 2]> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @__tmc_attention_masks : memref<12288xi8>
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @window
// CHECK: gpu.launch blocks(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) threads(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c64, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) workgroup(%{{.*}} : memref<32x128xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x128xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.get_global @__tmc_attention_offsets
// CHECK: memref.get_global @__tmc_attention_key_blocks
// CHECK: memref.get_global @__tmc_attention_mask_index
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c32
// CHECK: memref.get_global @__tmc_attention_masks
// CHECK: gpu.launch
// CHECK: memref.get_global @__tmc_attention_offsets
func.func @window(%q: memref<1x128x128xf32>, %k: memref<1x128x128xf32>, %v: memref<1x128x128xf32>, %o: memref<1x128x128xf32>, %o2: memref<1x128x128xf32>) {
  tfm.fused_attention %q, %k, %v into %o {num_heads = 1, num_kv_heads = 1, scale = 0.088, block_q = 64, block_k = 64, causal, sparsity = #tfm.window<size = 16>} : memref<1x128x128xf32>, memref<1x128x128xf32>, memref<1x128x128xf32>, memref<1x128x128xf32>
  tfm.fused_attention %q, %k, %v into %o2 {num_heads = 1, num_kv_heads = 1, scale = 0.088, block_q = 64, block_k = 64, causal, sparsity = #tfm.window<size = 16>} : memref<1x128x128xf32>, memref<1x128x128xf32>, memref<1x128x128xf32>, memref<1x128x128xf32>
  return
}

// -----

// Rotated queries and keys (rope_query, rope_key): with its query row in
// registers, a thread loads the row and rotates it there, one angle per
// pair of features (8 pairs in heads of 16) at its row's position
// (rope_offset + row); the keys are rotated as the block stages them, each
// element with the other of its pair (8 features apart) loaded too; the
// values are loaded unrotated.
// CHECK-LABEL: func.func @rotated
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: memref<1x40x64xf32>, %[[K:[a-z0-9]+]]: memref<1x40x32xf32>, %[[V:[a-z0-9]+]]: memref<1x40x32xf32>
// CHECK: gpu.launch
// CHECK-COUNT-16: memref.load %[[Q]]
// CHECK: %[[POS:.*]] = arith.addi %[[QROW:.*]], %c5
// CHECK-COUNT-8: math.cos
// CHECK: memref.load %[[K]]
// CHECK: arith.cmpi ult, %{{.*}}, %c8
// CHECK: memref.load %[[K]]
// CHECK: math.exp2
// CHECK: math.cos
// CHECK: math.sin
// CHECK: memref.load %[[V]]
// CHECK-NOT: math.cos
// CHECK: gpu.terminator
// T4-LABEL: func.func @rotated
// T4: memref.load %{{.*}} : memref<1x40x64xf32>
// T4: arith.cmpi ult, %{{.*}}, %c8
// T4: memref.load %{{.*}} : memref<1x40x64xf32>
// T4: math.cos
func.func @rotated(%q: memref<1x40x64xf32>, %k: memref<1x40x32xf32>, %v: memref<1x40x32xf32>, %o: memref<1x40x64xf32>) {
  tfm.fused_attention %q, %k, %v into %o {num_heads = 4, num_kv_heads = 2, causal, scale = 0.25, block_q = 16, block_k = 16, rope_query, rope_key, rope_theta = 10000.0, rope_offset = 5} : memref<1x40x64xf32>, memref<1x40x32xf32>, memref<1x40x32xf32>, memref<1x40x64xf32>
  return
}
