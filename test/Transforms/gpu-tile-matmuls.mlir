// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=tile=8 | FileCheck %s --check-prefix=T8
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=2" --cse | FileCheck %s --check-prefix=R2
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=9" 2>&1 | FileCheck %s --check-prefix=BADREGS

// A 20x40 * 40x24 matmul: 2 x 2 blocks of 16 x 16 threads, three steps of
// 16 along K (the last one 8 long), both input tiles in workgroup memory
// (rows padded by one element). The copies walk each operand's innermost
// dimension with consecutive threads: k for A (row-major), n for B.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:[a-z0-9]+]]: memref<20x40xf32>, %[[B:[a-z0-9]+]]: memref<40x24xf32>, %[[C:[a-z0-9]+]]: memref<20x24xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c2, %{{[a-z0-9]+}} = %c1) threads(%[[TX:[a-z0-9]+]], %[[TY:[a-z0-9]+]], %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c1) workgroup(%[[AT:[a-z0-9]+]] : memref<16x17xf32, #gpu.address_space<workgroup>>, %[[BT:[a-z0-9]+]] : memref<16x17xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[INIT:.*]] = scf.if
// CHECK: memref.load %[[C]]
// CHECK: %[[ACC:.*]] = scf.for {{.*}} to %c3 {{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK: scf.for %[[E:.*]] = %[[LIN:.*]] to %c256 step %c256
// CHECK: %[[KK:.*]] = arith.remui %[[E]], %c16
// CHECK: %[[MM:.*]] = arith.divui %[[E]], %c16
// CHECK: memref.load %[[A]]
// CHECK: memref.store {{.*}}, %[[AT]][%[[MM]], %[[KK]]]
// CHECK: scf.for %[[F:.*]] = %[[LIN]] to %c256 step %c256
// CHECK: %[[KB:.*]] = arith.divui %[[F]], %c16
// CHECK: %[[NN:.*]] = arith.remui %[[F]], %c16
// CHECK: memref.load %[[B]]
// CHECK: memref.store {{.*}}, %[[BT]][%[[KB]], %[[NN]]]
// CHECK: gpu.barrier
// CHECK: arith.minui
// CHECK: scf.for
// CHECK: memref.load %[[AT]][%[[TY]], %{{.*}}]
// CHECK: memref.load %[[BT]][%{{.*}}, %[[TX]]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: memref.store %[[ACC]], %[[C]]
// T8-LABEL: func.func @matmul
// T8: gpu.launch blocks({{.*}}) in ({{.*}} = %c3{{.*}}, {{.*}} = %c3{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c8{{.*}}, {{.*}} = %c8{{.*}}, {{.*}}) workgroup({{.*}} : memref<8x9xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x9xf32, #gpu.address_space<workgroup>>)
// Register blocking: 2 x 2 outputs per thread, a 32 x 32 tile per block
// (1 x 1 blocks), four accumulators carried through the K loop.
// R2-LABEL: func.func @matmul
// R2: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) threads({{.*}}) in (%{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c16, %{{[a-z0-9]+}} = %c1) workgroup(%{{.*}} : memref<32x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x33xf32, #gpu.address_space<workgroup>>)
// R2: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32, f32, f32)
// R2: scf.for {{.*}} to %c512 step %c256
// R2: gpu.barrier
// R2-COUNT-4: arith.mulf
// R2: gpu.barrier
// R2-COUNT-4: memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<20x24xf32>
// BADREGS: tmc-gpu-tile-matmuls: register-tile must be in [1, 8], got 9
func.func @matmul(%a: memref<20x40xf32>, %b: memref<40x24xf32>, %c: memref<20x24xf32>) {
  linalg.matmul ins(%a, %b : memref<20x40xf32>, memref<40x24xf32>) outs(%c : memref<20x24xf32>)
  return
}

// -----

// B transposed (the linear layers' and attention's form), strided; f16
// inputs accumulate in f32 with the op's own payload.
#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @transposed_f16
// CHECK-SAME: (%[[A:.*]]: memref<16x32xf16>, %[[B:.*]]: memref<8x32xf16, strided<[64, 1], offset: ?>>
// CHECK: workgroup(%{{.*}} : memref<16x17xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf16, #gpu.address_space<workgroup>>)
// CHECK: memref.load %[[B]][%[[N:.*]], %[[K:.*]]] : memref<8x32xf16
// CHECK: arith.extf
// CHECK: arith.extf
// CHECK: arith.mulf {{.*}} : f32
func.func @transposed_f16(%a: memref<16x32xf16>, %b: memref<8x32xf16, strided<[64, 1], offset: ?>>, %c: memref<16x8xf32>) {
  linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x32xf16>, memref<8x32xf16, strided<[64, 1], offset: ?>>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f16, %y: f16, %acc: f32):
    %xf = arith.extf %x : f16 to f32
    %yf = arith.extf %y : f16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not plain contractions: a third input (a quantized matmul's scales) makes
// the dequantizing kernel (test/Transforms/gpu-tile-matmuls-quantized.mlir),
// whose weight tile is f32; a payload that reads loop indices other than
// N and K, and dynamic shapes stay linalg ops.
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (k, n)>
#s = affine_map<(m, n, k) -> (n)>
#o = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @not_plain
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.sitofp
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
// CHECK: linalg.matmul
func.func @not_plain(%a: memref<4x8xf32>, %w: memref<8x4xi8>, %sc: memref<4xf32>, %c: memref<4x4xf32>,
                     %da: memref<?x8xf32>, %dc: memref<?x4xf32>, %b: memref<8x4xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w, %sc : memref<4x8xf32>, memref<8x4xi8>, memref<4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x0: f32, %w0: i8, %s0: f32, %acc: f32):
    %wf = arith.sitofp %w0 : i8 to f32
    %ws = arith.mulf %wf, %s0 : f32
    %p = arith.mulf %x0, %ws : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x0: f32, %y0: f32, %acc: f32):
    %i = linalg.index 0 : index
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %p = arith.mulf %x0, %fi : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  linalg.matmul ins(%da, %b : memref<?x8xf32>, memref<8x4xf32>) outs(%dc : memref<?x4xf32>)
  return
}

// -----

// A linear layer's bias broadcast into the output right before the matmul:
// the kernel starts its accumulators from the bias instead of the output,
// and the broadcast kernel is gone.
// CHECK-LABEL: func.func @bias
// CHECK-SAME: %[[BIAS:[a-z0-9]+]]: memref<24xf32>, %[[C:[a-z0-9]+]]: memref<8x24xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %c8
// CHECK-NEXT: arith.cmpi ult, %[[COL:.*]], %c24
// CHECK-NEXT: %[[IN:.*]] = arith.andi
// CHECK-NEXT: scf.if %[[IN]] -> (f32)
// CHECK-NEXT: memref.load %[[BIAS]][%[[COL]]] : memref<24xf32>
// CHECK-NOT: memref.load %[[C]]
// CHECK: memref.store %{{.*}}, %[[C]]
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @bias(%a: memref<8x16xf32>, %w: memref<16x24xf32>, %bias: memref<24xf32>, %c: memref<8x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<24xf32>) outs(%c : memref<8x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<8x16xf32>, memref<16x24xf32>) outs(%c : memref<8x24xf32>)
  return
}

// -----

// Something between the broadcast and the matmul (here a copy of the
// output): the broadcast stays, and the kernel starts from the output.
// CHECK-LABEL: func.func @bias_then_read
// CHECK-SAME: %[[C:[a-z0-9]+]]: memref<8x24xf32>, %{{.*}}: memref<8x24xf32>)
// CHECK: linalg.generic
// CHECK: memref.copy
// CHECK: gpu.launch
// CHECK: memref.load %[[C]]
func.func @bias_then_read(%a: memref<8x16xf32>, %w: memref<16x24xf32>, %bias: memref<24xf32>, %c: memref<8x24xf32>, %d: memref<8x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<24xf32>) outs(%c : memref<8x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  memref.copy %c, %d : memref<8x24xf32> to memref<8x24xf32>
  linalg.matmul ins(%a, %w : memref<8x16xf32>, memref<16x24xf32>) outs(%c : memref<8x24xf32>)
  return
}

// -----

// A linear layer without bias: the output filled with zeros right before
// the matmul. The kernel starts from the fill's value, and the fill is gone.
// CHECK-LABEL: func.func @zero_fill
// CHECK-SAME: %[[C:[a-z0-9]+]]: memref<8x24xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: scf.if %{{.*}} -> (f32)
// CHECK-NEXT: scf.yield %[[ZERO]] : f32
// CHECK-NOT: memref.load %[[C]]
// CHECK: memref.store %{{.*}}, %[[C]]
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @zero_fill(%a: memref<8x16xf32>, %w: memref<16x24xf32>, %c: memref<8x24xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<8x24xf32>)
  linalg.matmul ins(%a, %w : memref<8x16xf32>, memref<16x24xf32>) outs(%c : memref<8x24xf32>)
  return
}
