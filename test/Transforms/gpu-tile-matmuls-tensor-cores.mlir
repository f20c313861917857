// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="tensor-cores=1" --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls | FileCheck %s --check-prefix=OFF
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="tf32=1" --cse | FileCheck %s --check-prefix=TF32

// f32 activations times f16 out_in weights, accumulated in f32: 40 x 72
// by 72 x 48 as 2 x 2 blocks of 4 warps (128 threads), a 32 x 32 output
// tile each, three steps of 32 along K (the last one zero-padded), both
// inputs staged as f16, each warp's 16 x 16 accumulator in the f32 tile.
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @f16_weights
// CHECK-SAME: (%[[A:[a-z0-9]+]]: memref<40x72xf32>, %[[W:[a-z0-9]+]]: memref<48x72xf16>, %[[C:[a-z0-9]+]]: memref<40x48xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks(%[[BX:[a-z0-9]+]], %[[BY:[a-z0-9]+]], %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1) threads(%[[T:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c128, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// CHECK-SAME: workgroup(%[[AT:[a-z0-9]+]] : memref<32x32xf16, #gpu.address_space<workgroup>>, %[[BT:[a-z0-9]+]] : memref<32x32xf16, #gpu.address_space<workgroup>>, %[[CT:[a-z0-9]+]] : memref<32x32xf32, #gpu.address_space<workgroup>>)
// Warp w owns rows 16 (w / 2) and columns 16 (w % 2) of the tile.
// CHECK: %[[WARP:.*]] = arith.divui %[[T]], %c32
// CHECK: %[[WM:.*]] = arith.muli %{{.*}}, %c16
// CHECK: %[[WN:.*]] = arith.muli %{{.*}}, %c16
// The output tile is the initial accumulator.
// CHECK: scf.for %{{.*}} = %[[T]] to %c1024 step %c128
// CHECK: memref.load %[[C]]
// CHECK: memref.store %{{.*}}, %[[CT]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %[[T]] to %c1024 step %c128
// CHECK: %[[X:.*]] = memref.load %[[A]]
// CHECK: arith.truncf %[[X]] : f32 to f16
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: memref.load %[[W]]
// CHECK: memref.store %{{.*}}, %[[BT]]
// CHECK: gpu.barrier
// CHECK: %[[ACC:.*]] = gpu.subgroup_mma_load_matrix %[[CT]][%[[WM]], %[[WN]]] {leadDimension = 32 : index} : memref<32x32xf32, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<16x16xf32, "COp">
// CHECK: %[[A0:.*]] = gpu.subgroup_mma_load_matrix %[[AT]][%[[WM]], %c0] {leadDimension = 32 : index} : memref<32x32xf16, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<16x16xf16, "AOp">
// CHECK: %[[B0:.*]] = gpu.subgroup_mma_load_matrix %[[BT]][%c0, %[[WN]]] {leadDimension = 32 : index} : memref<32x32xf16, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<16x16xf16, "BOp">
// CHECK: %[[S0:.*]] = gpu.subgroup_mma_compute %[[A0]], %[[B0]], %[[ACC]]
// CHECK: %[[A1:.*]] = gpu.subgroup_mma_load_matrix %[[AT]][%[[WM]], %c16]
// CHECK: %[[B1:.*]] = gpu.subgroup_mma_load_matrix %[[BT]][%c16, %[[WN]]]
// CHECK: %[[S1:.*]] = gpu.subgroup_mma_compute %[[A1]], %[[B1]], %[[S0]]
// CHECK: gpu.subgroup_mma_store_matrix %[[S1]], %[[CT]][%[[WM]], %[[WN]]] {leadDimension = 32 : index}
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %[[T]] to %c1024 step %c128
// CHECK: memref.load %[[CT]]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[C]]
// OFF-LABEL: func.func @f16_weights
// OFF-NOT: gpu.subgroup_mma
// OFF: gpu.launch
func.func @f16_weights(%a: memref<40x72xf32>, %w: memref<48x72xf16>, %c: memref<40x48xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<40x72xf32>, memref<48x72xf16>) outs(%c : memref<40x48xf32>) {
  ^bb0(%x0: f32, %w0: f16, %acc: f32):
    %wf = arith.extf %w0 : f16 to f32
    %p = arith.mulf %x0, %wf : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not for tensor cores: f32 inputs, and an f16 payload that is not a
// multiply-accumulate: the scalar kernel.
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @scalar
// CHECK-NOT: gpu.subgroup_mma
// CHECK: gpu.launch
// CHECK: gpu.launch
// CHECK-NOT: gpu.subgroup_mma
// CHECK-NOT: nvvm.mma.sync
func.func @scalar(%a: memref<8x16xf32>, %b: memref<8x16xf32>, %h: memref<8x16xf16>, %c: memref<8x8xf32>) {
  linalg.matmul indexing_maps = [#x, #w, #o] ins(%a, %b : memref<8x16xf32>, memref<8x16xf32>) outs(%c : memref<8x8xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %h : memref<8x16xf32>, memref<8x16xf16>) outs(%c : memref<8x8xf32>) {
  ^bb0(%x0: f32, %w0: f16, %acc: f32):
    %wf = arith.extf %w0 : f16 to f32
    %p = arith.subf %x0, %wf : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// f32 activations times bf16 out_in weights: 40 x 72 by 72 x 48 as 2 x 2
// blocks of 4 warps, each warp a 16 x 16 quarter as two m16n8k16
// `mma.sync`s per 16 along K, its 8 accumulators per thread carried by the
// K loop (three steps of 32, the last zero-padded); both inputs staged as
// bf16, A as [m][k] and B as [n][k].
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @bf16_weights
// CHECK-SAME: (%[[A:[a-z0-9]+]]: memref<40x72xf32>, %[[W:[a-z0-9]+]]: memref<48x72xbf16>, %[[C:[a-z0-9]+]]: memref<40x48xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1) threads(%[[T:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c128, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// CHECK-SAME: workgroup(%[[AT:[a-z0-9]+]] : memref<32x40xbf16, #gpu.address_space<workgroup>>, %[[BT:[a-z0-9]+]] : memref<32x40xbf16, #gpu.address_space<workgroup>>)
// Lane = 4 group + quad.
// CHECK: %[[LANE:.*]] = arith.remui %[[T]], %c32
// CHECK: %[[GROUP:.*]] = arith.divui %[[LANE]], %c4
// CHECK: %[[QUAD:.*]] = arith.remui %[[LANE]], %c4
// The eight accumulators start from the output.
// CHECK-COUNT-8: memref.load %[[C]]
// CHECK: %[[LOOP:.*]]:8 = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(
// CHECK: scf.for %{{.*}} = %[[T]] to %c1024 step %c128
// CHECK: %[[X:.*]] = memref.load %[[A]]
// CHECK: arith.truncf %[[X]] : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: memref.load %[[W]]
// CHECK: memref.store %{{.*}}, %[[BT]]
// CHECK: gpu.barrier
// A register: two consecutive bf16 of a tile row in one 4-byte load, the
// first in bits 0-15 (little-endian).
// CHECK: %[[PAIR:.*]] = vector.load %[[AT]][%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<32x40xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: %[[BITS:.*]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// CHECK: vector.extract %[[BITS]][0] : i32 from vector<1xi32>
// CHECK-COUNT-4: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-8: memref.store %[[LOOP]]#{{[0-7]}}, %[[C]]
// OFF-LABEL: func.func @bf16_weights
// OFF-NOT: nvvm.mma.sync
// OFF: gpu.launch
func.func @bf16_weights(%a: memref<40x72xf32>, %w: memref<48x72xbf16>, %c: memref<40x48xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<40x72xf32>, memref<48x72xbf16>) outs(%c : memref<40x48xf32>) {
  ^bb0(%x0: f32, %w0: bf16, %acc: f32):
    %wf = arith.extf %w0 : bf16 to f32
    %p = arith.mulf %x0, %wf : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// With tf32, f32 contractions go to tensor cores too: a 40 x 72 by 72 x 48
// f32 matmul as 2 x 2 blocks of 4 warps, both inputs staged rounded to
// TF32 (add half of the dropped bits' unit, clear them; infinities and
// NaNs kept) in tiles whose rows are padded by 4, then per 8 along K an
// A fragment (four single-element registers: rows group and group + 8,
// columns quad and quad + 4; loaded per 16 along K) and two m16n8k8 MMAs
// (tf32 in, f32 accumulate), one per 8 columns of the warp's quarter. Contractions of
// other types stay as they were (the f16 one keeps its scalar kernel
// without tensor-cores).
// TF32-LABEL: func.func @f32_tf32
// TF32-SAME: (%[[A:[a-z0-9]+]]: memref<40x72xf32>, %[[B:[a-z0-9]+]]: memref<72x48xf32>, %[[C:[a-z0-9]+]]: memref<40x48xf32>
// TF32: gpu.launch {{.*}} threads(%[[T:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c128, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// TF32-SAME: workgroup(%[[AT:[a-z0-9]+]] : memref<32x36xf32, #gpu.address_space<workgroup>>, %[[BT:[a-z0-9]+]] : memref<32x36xf32, #gpu.address_space<workgroup>>)
// TF32: %[[LANE:.*]] = arith.remui %[[T]], %c32
// TF32: %[[GROUP:.*]] = arith.divui %[[LANE]], %c4
// TF32: %[[QUAD:.*]] = arith.remui %[[LANE]], %c4
// TF32: %[[LOOP:.*]]:8 = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(
// TF32: %[[X:.*]] = memref.load %[[A]]
// TF32: %[[XB:.*]] = arith.bitcast %{{.*}} : f32 to i32
// TF32: %[[UP:.*]] = arith.addi %[[XB]], %c4096_i32
// TF32: %[[CUT:.*]] = arith.andi %[[UP]], %c-8192_i32
// TF32: %[[EXP:.*]] = arith.andi %[[XB]], %c2139095040_i32
// TF32: %[[FIN:.*]] = arith.cmpi ne, %[[EXP]], %c2139095040_i32
// TF32: %[[SEL:.*]] = arith.select %[[FIN]], %[[CUT]], %[[XB]]
// TF32: %[[XR:.*]] = arith.bitcast %[[SEL]] : i32 to f32
// TF32: memref.store %[[XR]], %[[AT]]
// TF32: memref.store %{{.*}}, %[[BT]]
// TF32: gpu.barrier
// TF32: %[[ROW:.*]] = arith.addi %{{.*}}, %[[GROUP]]
// TF32: %[[K0:.*]] = arith.addi %[[QUAD]], %c0
// TF32: %[[A0:.*]] = memref.load %[[AT]][%[[ROW]], %[[K0]]]
// TF32: arith.bitcast %[[A0]] : f32 to i32
// TF32: %[[ROW8:.*]] = arith.addi %[[ROW]], %c8
// TF32: memref.load %[[AT]][%[[ROW8]], %[[K0]]]
// TF32: %[[K4:.*]] = arith.addi %[[K0]], %c4
// TF32: memref.load %[[AT]][%[[ROW]], %[[K4]]]
// TF32: memref.load %[[AT]][%[[ROW8]], %[[K4]]]
// TF32: memref.load %[[BT]][%[[N:.*]], %[[QUAD]]]
// TF32: %[[B4:.*]] = arith.addi %[[QUAD]], %c4
// TF32: memref.load %[[BT]][%[[N]], %[[B4]]]
// TF32: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// TF32-COUNT-7: nvvm.mma.sync
// TF32-NOT: nvvm.mma.sync
// TF32: gpu.barrier
// TF32: scf.yield
// TF32-COUNT-8: memref.store %[[LOOP]]#{{[0-7]}}, %[[C]]
// TF32-LABEL: func.func @f16_stays
// TF32-NOT: nvvm.mma.sync
// TF32-NOT: gpu.subgroup_mma
// TF32: return
#x = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#w = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
func.func @f32_tf32(%a: memref<40x72xf32>, %b: memref<72x48xf32>, %c: memref<40x48xf32>) {
  linalg.matmul ins(%a, %b : memref<40x72xf32>, memref<72x48xf32>) outs(%c : memref<40x48xf32>)
  return
}
func.func @f16_stays(%a: memref<40x72xf32>, %w: memref<48x72xf16>, %c: memref<40x48xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<40x72xf32>, memref<48x72xf16>) outs(%c : memref<40x48xf32>) {
  ^bb0(%x0: f32, %w0: f16, %acc: f32):
    %wf = arith.extf %w0 : f16 to f32
    %p = arith.mulf %x0, %wf : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}
