// RUN: tmc-opt %s --split-input-file --tmc-gpu-defer-norms | FileCheck %s

// A layer norm that only two linear layers read becomes a tfm.lazy_norm of
// its input (through the casts): its output's allocation is gone, and the
// reshape of it made before the norm now reshapes the lazy norm, after it.
// CHECK-LABEL: func.func @two_readers
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x20x64xf32>, %[[G:[a-z0-9]+]]: memref<64xf32>, %[[B:[a-z0-9]+]]: memref<64xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: tfm.fused_norm
// CHECK: %[[GC:.*]] = memref.cast %[[G]]
// CHECK: %[[N:.*]] = tfm.lazy_norm %[[X]], %[[GC]], %[[B]] {epsilon = 1.000000e-05 : f64} : memref<1x20x64xf32>, memref<64xf32, strided<[?], offset: ?>>, memref<64xf32> -> memref<1x20x64xf32>
// CHECK: %[[ROWS:.*]] = memref.collapse_shape %[[N]]
// CHECK: linalg.matmul {{.*}} ins(%[[ROWS]],
// CHECK: linalg.matmul {{.*}} ins(%[[ROWS]],
func.func @two_readers(%x: memref<1x20x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>, %w1: memref<24x64xf32>, %w2: memref<40x64xf32>, %y1: memref<20x24xf32>, %y2: memref<20x40xf32>) {
  %o = memref.alloc() : memref<1x20x64xf32>
  %rows = memref.collapse_shape %o [[0, 1], [2]] : memref<1x20x64xf32> into memref<20x64xf32>
  %xc = memref.cast %x : memref<1x20x64xf32> to memref<1x20x64xf32, strided<[?, ?, ?], offset: ?>>
  %gc = memref.cast %g : memref<64xf32> to memref<64xf32, strided<[?], offset: ?>>
  tfm.fused_norm %xc, %gc, %b into %o {epsilon = 1.0e-5} : memref<1x20x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x20x64xf32>, memref<64xf32, strided<[?], offset: ?>>, memref<64xf32>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%rows, %w1 : memref<20x64xf32>, memref<24x64xf32>) outs(%y1 : memref<20x24xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%rows, %w2 : memref<20x64xf32>, memref<40x64xf32>) outs(%y2 : memref<20x40xf32>)
  return
}

// -----

// A weight-only quantized contraction reads it: deferred too.
// CHECK-LABEL: func.func @dequantizing_reader
// CHECK: tfm.lazy_norm
func.func @dequantizing_reader(%x: memref<16x32xf32>, %g: memref<32xf32>, %w: memref<48x32xi8>, %s: memref<48xf32>, %y: memref<16x48xf32>) {
  %o = memref.alloc() : memref<16x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<16x32xf32>, memref<16x32xf32>, memref<32xf32>
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%o, %w, %s : memref<16x32xf32>, memref<48x32xi8>, memref<48xf32>) outs(%y : memref<16x48xf32>) {
  ^bb0(%a: f32, %q: i8, %scale: f32, %acc: f32):
    %qf = arith.sitofp %q : i8 to f32
    %d = arith.mulf %qf, %scale : f32
    %p = arith.mulf %a, %d : f32
    %sum = arith.addf %acc, %p : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// After a planned arena, the output's view is used again for a later value
// (the second matmul's result, copied out): that use is no reader of the
// norm's, and the norm is not deferred.
// CHECK-LABEL: func.func @view_reused
// CHECK: tfm.fused_norm
// CHECK-NOT: tfm.lazy_norm
func.func @view_reused(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c2048 = arith.constant 2048 : index
  %cst = arith.constant 0.0 : f32
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  %t = memref.view %arena[%c2048][] : memref<?xi8> to memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.fill ins(%cst : f32) outs(%t : memref<8x32xf32>)
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%t : memref<8x32xf32>)
  linalg.fill ins(%cst : f32) outs(%o : memref<8x32xf32>)
  linalg.matmul ins(%t, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%o : memref<8x32xf32>)
  linalg.copy ins(%o : memref<8x32xf32>) outs(%y : memref<8x32xf32>)
  return
}

// -----

// Not deferred: between two readers, another view writes part of the
// output's bytes, which the second reader then reads.
// CHECK-LABEL: func.func @overwritten_between_readers
// CHECK: tfm.fused_norm
// CHECK-NOT: tfm.lazy_norm
func.func @overwritten_between_readers(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<8x32xf32>, %z: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  %p = memref.view %arena[%c0][] : memref<?xi8> to memref<4x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.fill ins(%cst : f32) outs(%p : memref<4x32xf32>)
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%z : memref<8x32xf32>)
  return
}

// -----

// Not deferred: the output's buffer is used before the norm.
// CHECK-LABEL: func.func @used_before
// CHECK: tfm.fused_norm
// CHECK-NOT: tfm.lazy_norm
func.func @used_before(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>, %z: memref<8x32xf32>) {
  %cst = arith.constant 0.0 : f32
  %o = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%cst : f32) outs(%o : memref<8x32xf32>)
  linalg.copy ins(%o : memref<8x32xf32>) outs(%z : memref<8x32xf32>)
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  return
}

// -----

// Not deferred: an elementwise op (a residual add, as after a post-norm
// layer) also reads the norm's output.
// CHECK-LABEL: func.func @other_reader
// CHECK: tfm.fused_norm
// CHECK-NOT: tfm.lazy_norm
func.func @other_reader(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>, %z: memref<8x32xf32>) {
  %o = memref.alloc() : memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%o : memref<8x32xf32>) outs(%z : memref<8x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not deferred: the norm's output is read as the N-indexed input.
// CHECK-LABEL: func.func @weight_side
// CHECK: tfm.fused_norm
func.func @weight_side(%x: memref<8x32xf32>, %g: memref<32xf32>, %a: memref<16x32xf32>, %y: memref<16x8xf32>) {
  %o = memref.alloc() : memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %o : memref<16x32xf32>, memref<8x32xf32>) outs(%y : memref<16x8xf32>)
  return
}

// -----

// Not deferred: the first reader writes its result over the norm's input
// (in place: the input was dead after the norm), which the second reader
// would then read.
// CHECK-LABEL: func.func @input_overwritten
// CHECK: tfm.fused_norm
func.func @input_overwritten(%g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>) {
  %cst = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%cst : f32) outs(%x : memref<8x32xf32>)
  %o = memref.alloc() : memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%x : memref<8x32xf32>)
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  return
}

// -----

// Not deferred: the norm writes a buffer the caller may read (an argument).
// CHECK-LABEL: func.func @output_argument
// CHECK: tfm.fused_norm
func.func @output_argument(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %o: memref<8x32xf32>, %y: memref<8x32xf32>) {
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  return
}
