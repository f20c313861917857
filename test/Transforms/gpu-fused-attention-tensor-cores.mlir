// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention="tensor-cores=bf16" --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention="tensor-cores=f16" --cse | FileCheck %s --check-prefix=F16
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention="tensor-cores=tf32" --cse | FileCheck %s --check-prefix=TF32
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention | FileCheck %s --check-prefix=OFF
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-fused-attention="tensor-cores=f8" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: tmc-gpu-fused-attention: tensor-cores must be none, f16, bf16 or tf32, got 'f8'

// Causal attention, 2 heads of 32, 40 queries in tiles of 24 (2 warps:
// rows 0-15 and 16-31, the last 8 past the tile), keys in blocks of 16:
// chunks of 16 keys. Keys staged [key][d], values [d][key], as bf16;
// scores f32 [32][16 + 4], probabilities bf16 [32][16 + 8], the rescale
// factors and inverse sums per row; the running maximum and sum private.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: memref<1x40x64xf32>, %[[K:[a-z0-9_]+]]: memref<1x40x64xf32>, %[[V:[a-z0-9_]+]]: memref<1x40x64xf32>, %[[O:[a-z0-9_]+]]: memref<1x40x64xf32>)
// CHECK: gpu.launch blocks(%{{.*}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1) threads(%[[T:[a-z0-9_]+]], %{{.*}}, %{{.*}}) in (%{{[a-z0-9]+}} = %c64, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// CHECK-SAME: workgroup(%[[KS:[a-z0-9_]+]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VS:[a-z0-9_]+]] : memref<32x24xbf16, #gpu.address_space<workgroup>>, %[[SS:[a-z0-9_]+]] : memref<32x20xf32, #gpu.address_space<workgroup>>, %[[PS:[a-z0-9_]+]] : memref<32x24xbf16, #gpu.address_space<workgroup>>, %[[AS:[a-z0-9_]+]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[IS:[a-z0-9_]+]] : memref<32xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: private(%{{.*}} : memref<1xf32, #gpu.address_space<private>>, %{{.*}} : memref<1xf32, #gpu.address_space<private>>)
// The query fragments: 2 steps of 16 along the head, 4 registers each.
// CHECK-COUNT-8: arith.ori {{.*}} : i32
// The output accumulators (32 / 2 per thread) are carried by the key loops.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: scf.for {{.*}} step %c16 iter_args(
// CHECK: gpu.barrier
// CHECK: memref.load %[[K]]
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[KS]]
// CHECK: memref.load %[[V]]
// CHECK: memref.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// Scores: 2 blocks of 8 keys, 2 MMAs each.
// CHECK-COUNT-4: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK: memref.store %{{.*}}, %[[SS]]
// CHECK: gpu.barrier
// The online softmax, a thread per row.
// CHECK: memref.load %[[SS]]
// CHECK: arith.cmpi ule
// CHECK: math.exp
// CHECK: math.exp
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[PS]]
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: gpu.barrier
// P V: 4 blocks of 8 head dimensions, one MMA each, after the rescale.
// CHECK: vector.load %[[PS]][%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<32x24xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: memref.load %[[AS]]
// CHECK: arith.mulf
// CHECK-COUNT-4: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: arith.divf %cst{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[IS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[IS]]
// CHECK: memref.store %{{.*}}, %[[O]]
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.terminator
// F16-LABEL: func.func @causal
// F16: memref<16x40xf16, #gpu.address_space<workgroup>>
// F16: vector.from_elements {{.*}} : vector<2xf16>
// F16: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32)
// With tensor-cores=tf32, f32 tiles whose rows are padded by 4 (32 banks per fragment
// load), the query fragments one rounded element per register (2 steps of
// 16 along the head, 8 registers each), two m16n8k8 MMAs per 16 of k:
// scores 2 blocks of 8 keys x 2 steps of 16 x 2, P V 4 blocks of 8
// dimensions x 2.
// TF32-LABEL: func.func @causal
// TF32: workgroup(%[[KS:[a-z0-9_]+]] : memref<16x36xf32, #gpu.address_space<workgroup>>, %[[VS:[a-z0-9_]+]] : memref<32x20xf32, #gpu.address_space<workgroup>>, %{{[a-z0-9_]+}} : memref<32x20xf32, #gpu.address_space<workgroup>>, %[[PS:[a-z0-9_]+]] : memref<32x20xf32, #gpu.address_space<workgroup>>
// TF32-COUNT-16: arith.andi %{{.*}}, %c-8192_i32
// TF32: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// TF32: memref.load
// TF32: arith.andi %{{.*}}, %c-8192_i32
// TF32: memref.store %{{.*}}, %[[KS]]
// TF32-COUNT-8: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>}
// TF32: math.exp
// TF32: arith.andi %{{.*}}, %c-8192_i32
// TF32: memref.store %{{.*}}, %[[PS]]
// TF32-COUNT-8: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>}
// TF32-NOT: nvvm.mma.sync
// TF32: gpu.terminator
// OFF-LABEL: func.func @causal
// OFF-NOT: nvvm.mma.sync
// OFF: gpu.launch
func.func @causal(%q: memref<1x40x64xf32>, %k: memref<1x40x64xf32>, %v: memref<1x40x64xf32>, %o: memref<1x40x64xf32>) {
  tfm.fused_attention %q, %k, %v into %o {num_heads = 2, num_kv_heads = 2, scale = 0.17, block_q = 24, block_k = 16, causal} : memref<1x40x64xf32>, memref<1x40x64xf32>, memref<1x40x64xf32>, memref<1x40x64xf32>
  return
}

// -----

// Heads of 12 (not a multiple of 16): the scalar kernel.
// CHECK-LABEL: func.func @odd_heads
// CHECK-NOT: nvvm.mma.sync
// CHECK: workgroup(%{{.*}} : memref<16x12xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: nvvm.mma.sync
func.func @odd_heads(%q: memref<1x16x24xf32>, %o: memref<1x16x24xf32>) {
  tfm.fused_attention %q, %q, %q into %o {num_heads = 2, num_kv_heads = 2, scale = 0.29, block_q = 16, block_k = 16} : memref<1x16x24xf32>, memref<1x16x24xf32>, memref<1x16x24xf32>, memref<1x16x24xf32>
  return
}
