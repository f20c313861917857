// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls=prologues=false | FileCheck %s --check-prefix=OFF
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="tf32=1" --cse | FileCheck %s --check-prefix=TF32

// A layer norm that only two linear layers read: both kernels compute the
// statistics of their block's 16 rows (two passes: the mean, then the
// squared deviations; 256 threads, 16 per row) into workgroup memory and
// stage (x - mean) * rstd * gamma + beta from the norm's input, viewed as
// its rows; the norm and its output's stores are gone.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x20x64xf32>, %[[G:[a-z0-9]+]]: memref<64xf32>, %[[B:[a-z0-9]+]]: memref<64xf32>
// CHECK-NOT: tfm.fused_norm
// CHECK: %[[ROWS:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : memref<1x20x64xf32> into memref<20x64xf32>
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %[[MEAN:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[RSTD:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[PART:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.remui %{{.*}}, %c16
// CHECK: scf.for
// CHECK: memref.load %[[ROWS]]
// CHECK: memref.store %{{.*}}, %[[PART]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[MEAN]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.load %[[MEAN]]
// CHECK: arith.subf
// CHECK: gpu.barrier
// CHECK: math.sqrt
// CHECK: memref.store %{{.*}}, %[[RSTD]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.load %[[ROWS]]
// CHECK: memref.load %[[MEAN]]
// CHECK: arith.subf
// CHECK: memref.load %[[RSTD]]
// CHECK: arith.mulf
// CHECK: memref.load %[[G]]
// CHECK: arith.mulf
// CHECK: memref.load %[[B]]
// CHECK: arith.addf
// CHECK: gpu.barrier
// CHECK: gpu.launch {{.*}} workgroup({{.*}}, %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.load %[[ROWS]]
// CHECK-NOT: gpu.launch
// CHECK: return
// OFF-LABEL: func.func @layer_norm
// OFF: tfm.fused_norm
// OFF: gpu.launch {{.*}} workgroup(%{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x17xf32, #gpu.address_space<workgroup>>) {
// TF32-LABEL: func.func @layer_norm
// TF32-NOT: tfm.fused_norm
// TF32: gpu.launch {{.*}} workgroup(%{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128xf32, #gpu.address_space<workgroup>>)
// TF32: math.sqrt
// TF32: nvvm.mma.sync
func.func @layer_norm(%x: memref<1x20x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>, %w1: memref<24x64xf32>, %w2: memref<40x64xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y1: memref<20x24xf32>, %y2: memref<20x40xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<1x20x64xf32>
  tfm.fused_norm %x, %g, %b into %o {epsilon = 1.0e-5} : memref<1x20x64xf32>, memref<1x20x64xf32>, memref<64xf32>, memref<64xf32>
  %rows = memref.collapse_shape %o [[0, 1], [2]] : memref<1x20x64xf32> into memref<20x64xf32>
  linalg.fill ins(%cst : f32) outs(%y1 : memref<20x24xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%rows, %w1 : memref<20x64xf32>, memref<24x64xf32>) outs(%y1 : memref<20x24xf32>)
  linalg.fill ins(%cst : f32) outs(%y2 : memref<20x40xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%rows, %w2 : memref<20x64xf32>, memref<40x64xf32>) outs(%y2 : memref<20x40xf32>)
  return
}

// -----

// An RMS norm (through the casts the front leaves) into a weight-only
// quantized contraction: one statistics pass, no mean; the dequantizing
// kernel stages x * rstd * gamma.
// CHECK-LABEL: func.func @rms_norm_int8
// CHECK-NOT: tfm.fused_norm
// CHECK: memref.collapse_shape
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %[[RSTD:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: arith.subf
// CHECK: math.sqrt
// CHECK: memref.store %{{.*}}, %[[RSTD]]
// CHECK-NOT: arith.subf
// CHECK: memref.load %[[RSTD]]
// CHECK: arith.sitofp
// CHECK: return
// TF32-LABEL: func.func @rms_norm_int8
// TF32-NOT: tfm.fused_norm
// TF32: gpu.launch {{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128xf32, #gpu.address_space<workgroup>>)
// TF32: nvvm.mma.sync
func.func @rms_norm_int8(%x: memref<2x8x32xf32>, %g: memref<32xf32>, %w: memref<48x32xi8>, %s: memref<48xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<16x48xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %xc = memref.cast %x : memref<2x8x32xf32> to memref<2x8x32xf32, strided<[?, ?, ?], offset: ?>>
  %gc = memref.cast %g : memref<32xf32> to memref<32xf32, strided<[?], offset: ?>>
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<2x8x32xf32>
  tfm.fused_norm %xc, %gc into %o {epsilon = 1.0e-6} : memref<2x8x32xf32, strided<[?, ?, ?], offset: ?>>, memref<2x8x32xf32>, memref<32xf32, strided<[?], offset: ?>>
  %rows = memref.collapse_shape %o [[0, 1], [2]] : memref<2x8x32xf32> into memref<16x32xf32>
  linalg.fill ins(%cst : f32) outs(%y : memref<16x48xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rows, %w, %s : memref<16x32xf32>, memref<48x32xi8>, memref<48xf32>) outs(%y : memref<16x48xf32>) {
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

// The arena bytes of the norm's output go to another value after its
// readers (here the second matmul's result): that value's readers are not
// the norm's, and the norm is still folded.
// CHECK-LABEL: func.func @bytes_reused
// CHECK-NOT: tfm.fused_norm
// CHECK: return
func.func @bytes_reused(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<8x32xf32>) {
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

// Not folded: an elementwise op (a residual add, as after a post-norm
// layer) also reads the norm's output.
// CHECK-LABEL: func.func @other_reader
// CHECK: tfm.fused_norm
func.func @other_reader(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<8x32xf32>, %z: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.fill ins(%cst : f32) outs(%y : memref<8x32xf32>)
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

// Not folded: the norm's output is read as the N-indexed input.
// CHECK-LABEL: func.func @weight_side
// CHECK: tfm.fused_norm
func.func @weight_side(%x: memref<8x32xf32>, %g: memref<32xf32>, %a: memref<16x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<16x8xf32>) {
  %c0 = arith.constant 0 : index
  %o = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %o : memref<16x32xf32>, memref<8x32xf32>) outs(%y : memref<16x8xf32>)
  return
}

// -----

// Not folded: the buffer plan gave the norm's input bytes to the first
// reader's result (the input was dead after the norm), so the second
// reader could not read the input any more.
// CHECK-LABEL: func.func @input_overwritten
// CHECK: tfm.fused_norm
func.func @input_overwritten(%g: memref<32xf32>, %w: memref<32x32xf32>, %arena: memref<?xi8> {tfm.name = "arena"}, %y: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1024 = arith.constant 1024 : index
  %cst = arith.constant 0.0 : f32
  %x = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  %o = memref.view %arena[%c1024][] : memref<?xi8> to memref<8x32xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  %t = memref.view %arena[%c0][] : memref<?xi8> to memref<8x32xf32>
  linalg.fill ins(%cst : f32) outs(%t : memref<8x32xf32>)
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%t : memref<8x32xf32>)
  linalg.fill ins(%cst : f32) outs(%y : memref<8x32xf32>)
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  return
}

// -----

// Not folded: the norm writes a buffer the caller may read (an argument).
// CHECK-LABEL: func.func @output_argument
// CHECK: tfm.fused_norm
func.func @output_argument(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %o: memref<8x32xf32>, %y: memref<8x32xf32>) {
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<8x32xf32>, memref<8x32xf32>, memref<32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  return
}
