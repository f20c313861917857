// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=row-kernel-rows=8 --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="row-kernel-rows=8 min-blocks=8" | FileCheck %s --check-prefix=MINB
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls | FileCheck %s --check-prefix=OFF
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=4 min-blocks=2" | FileCheck %s --check-prefix=REGS2
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=4" | FileCheck %s --check-prefix=REGS4
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=row-kernel-rows=17 2>&1 | FileCheck %s --check-prefix=BAD

// RUN: not tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=min-blocks=-1 2>&1 | FileCheck %s --check-prefix=BADMIN
// BAD: tmc-gpu-tile-matmuls: row-kernel-rows must be in [0, 16], got 17
// BADMIN: tmc-gpu-tile-matmuls: min-blocks must be 0 or more, got -1

// A decoding step's linear layer (one row, K = 300, N = 20, weights
// [k][n]) with its bias and a residual add: 3 blocks of 256 threads, 8
// columns each (consecutive threads take consecutive columns, since the
// weights are contiguous along n; columns past 19 recompute column 19);
// each thread sums k = slice, slice + 32, ...: two iterations of 4 steps
// up to 256, their loads first, then the rest one step at a time. The
// 32 partial sums per column meet in a tree in workgroup memory (5
// levels), and the first 8 threads add the totals to the bias and store
// through the epilogue.
// CHECK-LABEL: func.func @decode_linear
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x300xf32>, %[[W:[a-z0-9]+]]: memref<300x20xf32>, %[[BIAS:[a-z0-9]+]]: memref<20xf32>, %[[R:[a-z0-9]+]]: memref<1x20xf32>, %[[Y:[a-z0-9]+]]: memref<1x20xf32>)
// CHECK-NOT: linalg.
// CHECK: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c3, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) threads(%[[TID:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c256, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) workgroup(%[[PART:[a-z0-9]+]] : memref<32x8xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[SLICE:.*]] = arith.divui %[[TID]], %c8
// CHECK: %[[COL:.*]] = arith.remui %[[TID]], %c8
// CHECK: %[[N:.*]] = arith.minui %{{.*}}, %c19
// CHECK: %[[MAIN:.*]] = scf.for %[[K:.*]] = %[[SLICE]] to %c256 step %c128 iter_args
// CHECK-COUNT-4: memref.load %[[W]][%{{.*}}, %[[N]]]
// CHECK-COUNT-4: memref.load %[[X]]
// CHECK-COUNT-4: arith.mulf
// CHECK: %[[REST0:.*]] = arith.addi %[[SLICE]], %c256
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %[[REST0]] to %c300 step %c32 iter_args(%{{.*}} = %[[MAIN]])
// CHECK: memref.store %[[SUM]], %[[PART]][%[[SLICE]], %{{.*}}]
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %[[SLICE]], %c16
// CHECK: memref.load %[[PART]]
// CHECK: memref.load %[[PART]]
// CHECK: memref.store %{{.*}}, %[[PART]]
// CHECK-COUNT-5: gpu.barrier
// CHECK: arith.cmpi ult, %[[TID]], %c8
// CHECK: memref.load %[[BIAS]]
// CHECK: memref.load %[[PART]][%c0, %[[TID]]]
// CHECK: memref.load %[[R]]
// CHECK: memref.store %{{.*}}, %[[Y]]
// With min-blocks=8, 2 columns per block (10 blocks) and 128 threads per
// column.
// MINB-LABEL: func.func @decode_linear
// MINB: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c10{{.*}} workgroup(%{{.*}} : memref<128x2xf32, #gpu.address_space<workgroup>>)
// OFF-LABEL: func.func @decode_linear
// OFF: workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>)
#x = affine_map<(m, n, k) -> (m, k)>
#wn = affine_map<(m, n, k) -> (k, n)>
#o = affine_map<(m, n, k) -> (m, n)>
func.func @decode_linear(%x: memref<1x300xf32>, %w: memref<300x20xf32>, %bias: memref<20xf32>, %r: memref<1x20xf32>, %y: memref<1x20xf32>) {
  %t = memref.alloc() : memref<1x20xf32>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<20xf32>) outs(%t : memref<1x20xf32>) {
  ^bb0(%b: f32, %o: f32):
    linalg.yield %b : f32
  }
  linalg.matmul ins(%x, %w : memref<1x300xf32>, memref<300x20xf32>) outs(%t : memref<1x20xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]} ins(%t, %r : memref<1x20xf32>, memref<1x20xf32>) outs(%y : memref<1x20xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  memref.dealloc %t : memref<1x20xf32>
  return
}

// -----

// Two rows, weights [n][k] (a transposed linear layer): consecutive
// threads take consecutive k of one column (a warp reads 128 contiguous
// bytes); each thread keeps one sum per row and loads each weight once
// for both rows; 16 partial sums per slice.
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<2x64xf32>, %[[W:[a-z0-9]+]]: memref<16x64xf32>, %[[Y:[a-z0-9]+]]: memref<2x16xf32>)
// CHECK: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c2, {{.*}} threads(%[[TID:[a-z0-9]+]], {{.*}} = %c256, {{.*}} workgroup(%{{.*}} : memref<32x16xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[SLICE:.*]] = arith.remui %[[TID]], %c32
// CHECK: arith.divui %[[TID]], %c32
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c64 step %c32 iter_args(%{{.*}} = %cst, %{{.*}} = %cst) -> (f32, f32)
// CHECK: memref.load %[[W]][%{{.*}}, %[[K]]]
// CHECK: memref.load %[[X]][%c0, %[[K]]]
// CHECK: memref.load %[[X]][%c1, %[[K]]]
// CHECK: arith.cmpi ult, %[[TID]], %c16
// CHECK: memref.load %[[Y]]
// CHECK: memref.store %{{.*}}, %[[Y]]
#x = affine_map<(m, n, k) -> (m, k)>
#wt = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
func.func @transposed(%x: memref<2x64xf32>, %w: memref<16x64xf32>, %y: memref<2x16xf32>) {
  linalg.generic {indexing_maps = [#x, #wt, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x64xf32>, memref<16x64xf32>) outs(%y : memref<2x16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// int4 weights packed along k: consecutive threads take consecutive k
// (contiguous bytes), each dequantizing its own weights with a clone of
// the payload's unpacking.
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k floordiv 2)>
#s = affine_map<(m, n, k) -> (n, k floordiv 32)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @int4
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x64xf32>, %[[W:[a-z0-9]+]]: memref<24x32xi8>, %[[S:[a-z0-9]+]]: memref<24x2xf32>, %[[O:[a-z0-9]+]]: memref<1x24xf32>)
// CHECK: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c3, {{.*}} workgroup(%{{.*}} : memref<32x8xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.remui %{{.*}}, %c32
// CHECK: scf.for
// CHECK: memref.load %[[W]]
// CHECK: memref.load %[[S]]
// CHECK: arith.shrui
// CHECK: arith.sitofp
// CHECK: memref.load %[[X]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[O]]
func.func @int4(%x: memref<1x64xf32>, %w: memref<24x32xi8>, %s: memref<24x2xf32>, %o: memref<1x24xf32>) {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c15 = arith.constant 15 : i32
  linalg.generic {indexing_maps = [#x, #w, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : memref<1x64xf32>, memref<24x32xi8>, memref<24x2xf32>) outs(%o : memref<1x24xf32>) {
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

// A payload that is not a sum (max-plus) cannot be split along K, and
// nine rows are more than row-kernel-rows: both get the tiled kernel.
// CHECK-LABEL: func.func @max_plus
// CHECK: workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>)
func.func @max_plus(%x: memref<1x64xf32>, %w: memref<64x16xf32>, %y: memref<1x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xf32>, memref<64x16xf32>) outs(%y : memref<1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.addf %a, %b : f32
    %s = arith.maximumf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The tiled kernel's register tile: 4 x 4 outputs per thread (a 64 x 64
// tile, one block), halved to 2 x 2 (32 x 32) while the grid has fewer
// than min-blocks blocks, and no further.
// REGS4-LABEL: func.func @nine_rows
// REGS4: workgroup(%{{.*}} : memref<64x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x65xf32, #gpu.address_space<workgroup>>)
// REGS2-LABEL: func.func @nine_rows
// REGS2: workgroup(%{{.*}} : memref<32x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x33xf32, #gpu.address_space<workgroup>>)
// CHECK-LABEL: func.func @nine_rows
// CHECK: workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>)
func.func @nine_rows(%x: memref<9x64xf32>, %w: memref<64x16xf32>, %y: memref<9x16xf32>) {
  linalg.matmul ins(%x, %w : memref<9x64xf32>, memref<64x16xf32>) outs(%y : memref<9x16xf32>)
  return
}

// -----

// A norm left to the kernel: the statistics of its 2 rows first, then
// each step normalizes both rows' x as it loads them; the fill is folded
// (the sums start from zero).
// CHECK-LABEL: func.func @norm
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x2x64xf32>
// CHECK-NOT: tfm.lazy_norm
// CHECK-NOT: linalg.fill
// CHECK: %[[ROWS:.*]] = memref.collapse_shape %[[X]]
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<32x16xf32, #gpu.address_space<workgroup>>, %[[MEAN:.*]] : memref<2xf32, #gpu.address_space<workgroup>>, %[[RSTD:.*]] : memref<2xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: math.sqrt
// CHECK: memref.store %{{.*}}, %[[RSTD]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (f32, f32)
// CHECK: memref.load %[[ROWS]][%c0,
// CHECK: memref.load %[[MEAN]]
// CHECK: memref.load %[[RSTD]]
// CHECK: memref.load %[[ROWS]][%c1,
func.func @norm(%x: memref<1x2x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>, %w1: memref<24x64xf32>, %y1: memref<2x24xf32>) {
  %cst = arith.constant 0.0 : f32
  %o = tfm.lazy_norm %x, %g, %b {epsilon = 1.0e-5} : memref<1x2x64xf32>, memref<64xf32>, memref<64xf32> -> memref<1x2x64xf32>
  %rows = memref.collapse_shape %o [[0, 1], [2]] : memref<1x2x64xf32> into memref<2x64xf32>
  linalg.fill ins(%cst : f32) outs(%y1 : memref<2x24xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%rows, %w1 : memref<2x64xf32>, memref<24x64xf32>) outs(%y1 : memref<2x24xf32>)
  return
}
