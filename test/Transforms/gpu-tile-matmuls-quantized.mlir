// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=tf32=1 --cse | FileCheck %s --check-prefix=TF32

// int4 weights packed two per byte along k, one scale per 32 values: per
// step of 16 along K the block stages x and the dequantized weights (the
// payload's unpacking, cloned, with linalg.index 2 as k) in workgroup
// memory; consecutive threads dequantize consecutive k.
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k floordiv 2)>
#s = affine_map<(m, n, k) -> (n, k floordiv 32)>
#o = affine_map<(m, n, k) -> (m, n)>
// With tf32, the TF32 tensor-core kernel: 32 x 32 tiles of 4 warps, the
// B tile the dequantized weights ([n][k], rounded to TF32 like x), and
// m16n8k8 MMAs.
// TF32-LABEL: func.func @int4
// TF32-SAME: (%[[X:[a-z0-9]+]]: memref<20x64xf32>, %[[W:[a-z0-9]+]]: memref<24x32xi8>, %[[S:[a-z0-9]+]]: memref<24x2xf32>, %[[O:[a-z0-9]+]]: memref<20x24xf32>)
// TF32-NOT: linalg.generic
// TF32: gpu.launch {{.*}} threads({{.*}}) in (%{{[a-z0-9]+}} = %c128, {{.*}} workgroup(%[[XT:[a-z0-9]+]] : memref<32x36xf32, #gpu.address_space<workgroup>>, %[[WT:[a-z0-9]+]] : memref<32x36xf32, #gpu.address_space<workgroup>>)
// TF32: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args
// TF32: memref.load %[[X]]
// TF32: arith.andi %{{.*}}, %c-8192_i32
// TF32: memref.store %{{.*}}, %[[XT]]
// TF32: %[[DEQ:.*]] = scf.if
// TF32: memref.load %[[W]]
// TF32: memref.load %[[S]]
// TF32: arith.sitofp
// TF32: arith.mulf
// TF32: %[[DB:.*]] = arith.bitcast %[[DEQ]] : f32 to i32
// TF32: arith.addi %[[DB]], %c4096_i32
// TF32: memref.store %{{.*}}, %[[WT]]
// TF32: gpu.barrier
// TF32-COUNT-8: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>
// TF32: memref.store %{{.*}}, %[[O]]
// CHECK-LABEL: func.func @int4
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<20x64xf32>, %[[W:[a-z0-9]+]]: memref<24x32xi8>, %[[S:[a-z0-9]+]]: memref<24x2xf32>, %[[O:[a-z0-9]+]]: memref<20x24xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1) threads(%[[TX:[a-z0-9]+]], %[[TY:[a-z0-9]+]], %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c1) workgroup(%[[XT:[a-z0-9]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>, %[[WT:[a-z0-9]+]] : memref<16x16xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[LIN:.*]] = arith.addi %{{.*}}, %[[TX]]
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[XT]][%[[TY]], %[[TX]]]
// CHECK: %[[KK:.*]] = arith.remui %[[LIN]], %c16
// CHECK: %[[NN:.*]] = arith.divui %[[LIN]], %c16
// CHECK: %[[K:.*]] = arith.addi %{{.*}}, %[[KK]]
// CHECK: %[[DEQ:.*]] = scf.if
// CHECK: arith.divsi %{{.*}}, %c2
// CHECK: memref.load %[[W]][%{{.*}}, %{{.*}}]
// CHECK: arith.divsi %{{.*}}, %c32
// CHECK: memref.load %[[S]][%{{.*}}, %{{.*}}]
// CHECK: arith.remui %[[K]], %c2
// CHECK: arith.shrui
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: memref.store %[[DEQ]], %[[WT]][%[[KK]], %[[NN]]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.load %[[XT]][%[[TY]], %{{.*}}]
// CHECK: memref.load %[[WT]][%{{.*}}, %[[TX]]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[O]]
func.func @int4(%x: memref<20x64xf32>, %w: memref<24x32xi8>, %s: memref<24x2xf32>, %o: memref<20x24xf32>) {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c15 = arith.constant 15 : i32
  linalg.generic {indexing_maps = [#x, #w, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : memref<20x64xf32>, memref<24x32xi8>, memref<24x2xf32>) outs(%o : memref<20x24xf32>) {
  ^bb0(%xv: f32, %byte: i8, %scale: f32, %acc: f32):
    %k = linalg.index 2 : index
    %half = arith.remui %k, %c2 : index
    %shift = arith.muli %half, %c4 : index
    %shift32 = arith.index_castui %shift : index to i32
    %wide = arith.extui %byte : i8 to i32
    %shifted = arith.shrui %wide, %shift32 : i32
    %nibble = arith.andi %shifted, %c15 : i32
    %f = arith.sitofp %nibble : i32 to f32
    %d = arith.mulf %f, %scale : f32
    %p = arith.mulf %xv, %d : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not dequantizing contractions: a "scale" indexed by m stays a generic
// op; a "weight" computed from x is a plain two-input contraction, whose
// payload the scalar kernel clones whole (raw i8 tile).
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#wm = affine_map<(m, n, k) -> (m, k)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @not_dequantizing
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xi8, #gpu.address_space<workgroup>>)
func.func @not_dequantizing(%x: memref<8x16xf32>, %w: memref<8x16xi8>, %s: memref<8x16xf32>, %o: memref<8x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #x, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : memref<8x16xf32>, memref<8x16xi8>, memref<8x16xf32>) outs(%o : memref<8x8xf32>) {
  ^bb0(%xv: f32, %q: i8, %sv: f32, %acc: f32):
    %f = arith.sitofp %q : i8 to f32
    %d = arith.mulf %f, %sv : f32
    %p = arith.mulf %xv, %d : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<8x16xi8>) outs(%o : memref<8x8xf32>) {
  ^bb0(%xv: f32, %q: i8, %acc: f32):
    %f = arith.sitofp %q : i8 to f32
    %d = arith.mulf %f, %xv : f32
    %p = arith.mulf %xv, %d : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}
