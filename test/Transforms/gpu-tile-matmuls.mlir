// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=tile=8 | FileCheck %s --check-prefix=T8
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=2" --cse | FileCheck %s --check-prefix=R2
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="register-tile=9" 2>&1 | FileCheck %s --check-prefix=BADREGS
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=epilogues=false | FileCheck %s --check-prefix=NOEPI

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

// -----

// A residual add right after a linear layer, in place on its output seen
// as [1][16][24] (an expand_shape between the two): the kernel adds the
// residual to each result before storing it, and the add is gone (the
// kernel takes its place, after the reshape). The row index m gives
// the reshaped buffer's indices (0, m), the column n its last one.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: %[[R:[a-z0-9]+]]: memref<1x16x24xf32>, %[[C:[a-z0-9]+]]: memref<16x24xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: %[[ACC:.*]] = scf.for
// CHECK: scf.if
// CHECK: %[[RES:.*]] = memref.load %[[R]][%c0, %[[ROW:.*]], %[[COL:.*]]] : memref<1x16x24xf32>
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[RES]], %[[ACC]] : f32
// CHECK-NEXT: memref.store %[[SUM]], %[[C]][%[[ROW]], %[[COL]]] : memref<16x24xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
// NOEPI-LABEL: func.func @residual
// NOEPI: gpu.launch
// NOEPI: linalg.generic
func.func @residual(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %r: memref<1x16x24xf32>, %c: memref<16x24xf32>) {
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  %e = memref.expand_shape %c [[0, 1], [2]] output_shape [1, 16, 24] : memref<16x24xf32> into memref<1x16x24xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %e : memref<1x16x24xf32>, memref<1x16x24xf32>) outs(%e : memref<1x16x24xf32>) {
  ^bb0(%in: f32, %acc: f32, %out: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Two in-place ops, applied in order: a scale by a vector along the middle
// dimension of the output split as [2][8][24] (row m is (m / 8, m % 8)),
// read through the output's block argument, then a tanh; then a read of
// the output, which stays where it was, after the kernel.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<8xf32>, %[[C:[a-z0-9]+]]: memref<16x24xf32>, %[[D:[a-z0-9]+]]: memref<16x24xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: %[[ACC:.*]] = scf.for
// CHECK: scf.if
// CHECK: %[[IN:.*]] = arith.remui %[[ROW:.*]], %c8
// CHECK-NEXT: %[[SC:.*]] = memref.load %[[S]][%[[IN]]] : memref<8xf32>
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[ACC]], %[[SC]] : f32
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[P]] : f32
// CHECK-NEXT: memref.store %[[T]], %[[C]][%[[ROW]], %{{.*}}]
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[C]], %[[D]]
func.func @chain(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %s: memref<8xf32>, %c: memref<16x24xf32>, %d: memref<16x24xf32>) {
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  %e = memref.expand_shape %c [[0, 1], [2]] output_shape [2, 8, 24] : memref<16x24xf32> into memref<2x8x24xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : memref<8xf32>) outs(%e : memref<2x8x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %p = arith.mulf %out, %in : f32
    linalg.yield %p : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%c : memref<16x24xf32>) {
  ^bb0(%out: f32):
    %t = math.tanh %out : f32
    linalg.yield %t : f32
  }
  memref.copy %c, %d : memref<16x24xf32> to memref<16x24xf32>
  return
}

// -----

// Not folded: the elementwise op reads another view of the arena that
// overlaps the output (bytes 0 to 1536 against 1024 to 2560), or the
// output at another element (transposed); a view whose bytes do not
// overlap (2560 on) is folded, and the output, read afterwards, stored.
// CHECK-LABEL: func.func @overlapping
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @transposed_read
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @disjoint
// CHECK: %[[CV:.*]] = memref.view %{{.*}}[%c1024]
// CHECK: %[[RV:.*]] = memref.view %{{.*}}[%c2560]
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[RE:.*]] = memref.load %[[RV]]
// CHECK-NEXT: %[[DIFF:.*]] = arith.subf %{{.*}}, %[[RE]]
// CHECK-NEXT: memref.store %[[DIFF]], %[[CV]]
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[CV]]
func.func @overlapping(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %arena: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %c1024 = arith.constant 1024 : index
  %c = memref.view %arena[%c1024][] : memref<?xi8> to memref<16x24xf32>
  %r = memref.view %arena[%c0][] : memref<?xi8> to memref<16x24xf32>
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%r : memref<16x24xf32>) outs(%c : memref<16x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.subf %out, %in : f32
    linalg.yield %s : f32
  }
  return
}
func.func @transposed_read(%a: memref<16x32xf32>, %w: memref<32x16xf32>, %c: memref<16x16xf32>) {
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x16xf32>) outs(%c : memref<16x16xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x16xf32>) outs(%c : memref<16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.subf %out, %in : f32
    linalg.yield %s : f32
  }
  return
}
func.func @disjoint(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %arena: memref<?xi8>, %d: memref<16x24xf32>) {
  %c1024 = arith.constant 1024 : index
  %c2560 = arith.constant 2560 : index
  %c = memref.view %arena[%c1024][] : memref<?xi8> to memref<16x24xf32>
  %r = memref.view %arena[%c2560][] : memref<?xi8> to memref<16x24xf32>
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%r : memref<16x24xf32>) outs(%c : memref<16x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.subf %out, %in : f32
    linalg.yield %s : f32
  }
  memref.copy %c, %d : memref<16x24xf32> to memref<16x24xf32>
  return
}

// -----

// The last linear layer: an activation in place on an arena buffer, then
// a copy of it to the model's output. The kernel stores the activation
// straight to the output; nothing reads the arena buffer afterwards, so it
// is not stored at all.
// CHECK-LABEL: func.func @to_output
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<1x16x24xf32>)
// CHECK: %[[CV:.*]] = memref.view
// CHECK-NOT: linalg
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[T:.*]] = math.tanh
// CHECK-NOT: memref.store %{{.*}}, %[[CV]]
// CHECK: memref.store %[[T]], %[[OUT]][%c0, %{{.*}}, %{{.*}}]
// CHECK-NOT: memref.store %{{.*}}, %[[CV]]
// CHECK-NOT: linalg
// CHECK: return
func.func @to_output(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %out: memref<1x16x24xf32>) {
  %c0 = arith.constant 0 : index
  %c = memref.view %arena[%c0][] : memref<?xi8> to memref<16x24xf32>
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%c : memref<16x24xf32>) {
  ^bb0(%o: f32):
    %t = math.tanh %o : f32
    linalg.yield %t : f32
  }
  %e = memref.expand_shape %c [[0, 1], [2]] output_shape [1, 16, 24] : memref<16x24xf32> into memref<1x16x24xf32>
  linalg.copy ins(%e : memref<1x16x24xf32>) outs(%out : memref<1x16x24xf32>)
  return
}

// -----

// The output is stored after all when it is no arena buffer (a view of an
// argument not named arena), or when a view of it made before the matmul
// is read afterwards.
// CHECK-LABEL: func.func @not_arena
// CHECK: %[[CV:.*]] = memref.view
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %[[CV]]
// CHECK-LABEL: func.func @view_read_later
// CHECK: %[[CV:.*]] = memref.view
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %[[CV]]
// CHECK: memref.copy
func.func @not_arena(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %buffer: memref<?xi8>, %out: memref<16x24xf32>) {
  %c0 = arith.constant 0 : index
  %c = memref.view %buffer[%c0][] : memref<?xi8> to memref<16x24xf32>
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.copy ins(%c : memref<16x24xf32>) outs(%out : memref<16x24xf32>)
  return
}
func.func @view_read_later(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %out: memref<16x24xf32>, %d: memref<8x24xf32>) {
  %c0 = arith.constant 0 : index
  %c = memref.view %arena[%c0][] : memref<?xi8> to memref<16x24xf32>
  %top = memref.subview %c[0, 0] [8, 24] [1, 1] : memref<16x24xf32> to memref<8x24xf32, strided<[24, 1]>>
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.copy ins(%c : memref<16x24xf32>) outs(%out : memref<16x24xf32>)
  memref.copy %top, %d : memref<8x24xf32, strided<[24, 1]>> to memref<8x24xf32>
  return
}

// -----

// A bias the kernel starts from, in arena bytes that the epilogue's new
// buffer would overwrite while other blocks still read the bias: the bias
// is folded, the epilogue is not.
// CHECK-LABEL: func.func @bias_then_overlapping_epilogue
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @bias_then_overlapping_epilogue(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %arena: memref<?xi8> {tfm.name = "arena"}) {
  %c0 = arith.constant 0 : index
  %c4096 = arith.constant 4096 : index
  %bias = memref.view %arena[%c0][] : memref<?xi8> to memref<24xf32>
  %c = memref.view %arena[%c4096][] : memref<?xi8> to memref<16x24xf32>
  %d = memref.view %arena[%c0][] : memref<?xi8> to memref<16x24xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<24xf32>) outs(%c : memref<16x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x24xf32>) outs(%d : memref<16x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A gated unit: gate and up projections, then gate * up written over the
// gate. The up projection's kernel reads the gate's element, multiplies
// and stores the product over it; the up buffer, read by nothing else, is
// not stored.
// CHECK-LABEL: func.func @gated
// CHECK: %[[G:.*]] = memref.view %{{.*}}[%c0]
// CHECK: %[[U:.*]] = memref.view %{{.*}}[%c2048]
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %[[G]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: %[[ACC:.*]] = scf.for
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: %[[GE:.*]] = memref.load %[[G]][%[[ROW:.*]], %[[COL:.*]]]
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[GE]], %[[ACC]]
// CHECK-NEXT: memref.store %[[P]], %[[G]][%[[ROW]], %[[COL]]]
// CHECK-NOT: memref.store %{{.*}}, %[[U]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @gated(%x: memref<16x32xf32>, %wg: memref<32x32xf32>, %wu: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}) {
  %c0 = arith.constant 0 : index
  %c2048 = arith.constant 2048 : index
  %g = memref.view %arena[%c0][] : memref<?xi8> to memref<16x32xf32>
  %u = memref.view %arena[%c2048][] : memref<?xi8> to memref<16x32xf32>
  linalg.matmul ins(%x, %wg : memref<16x32xf32>, memref<32x32xf32>) outs(%g : memref<16x32xf32>)
  linalg.matmul ins(%x, %wu : memref<16x32xf32>, memref<32x32xf32>) outs(%u : memref<16x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %u : memref<16x32xf32>, memref<16x32xf32>) outs(%g : memref<16x32xf32>) {
  ^bb0(%gi: f32, %ui: f32, %o: f32):
    %p = arith.mulf %gi, %ui : f32
    linalg.yield %p : f32
  }
  return
}

// -----

// Not folded: an op between the matmul and the elementwise op.
// CHECK-LABEL: func.func @not_adjacent
// CHECK: gpu.launch
// CHECK: memref.copy
// CHECK: linalg.generic
func.func @not_adjacent(%a: memref<16x32xf32>, %w: memref<32x24xf32>, %c: memref<16x24xf32>, %d: memref<16x24xf32>) {
  linalg.matmul ins(%a, %w : memref<16x32xf32>, memref<32x24xf32>) outs(%c : memref<16x24xf32>)
  memref.copy %c, %d : memref<16x24xf32> to memref<16x24xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%c : memref<16x24xf32>) {
  ^bb0(%out: f32):
    %t = math.tanh %out : f32
    linalg.yield %t : f32
  }
  return
}
