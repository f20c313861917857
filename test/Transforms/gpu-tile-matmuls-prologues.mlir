// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls --cse -verify-diagnostics | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-tile-matmuls="tf32=1" --cse -verify-diagnostics | FileCheck %s --check-prefix=TF32

// A layer norm left to the two linear layers that read it
// (tmc-gpu-defer-norms): both kernels compute the statistics of their
// block's 16 rows (two passes: the mean, then the squared deviations; 256
// threads, 16 per row) into workgroup memory and stage
// (x - mean) * rstd * gamma + beta from the norm's input, viewed as its
// rows; the tfm.lazy_norm and its reshape are gone.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x20x64xf32>, %[[G:[a-z0-9]+]]: memref<64xf32>, %[[B:[a-z0-9]+]]: memref<64xf32>
// CHECK-NOT: tfm.lazy_norm
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
// TF32-LABEL: func.func @layer_norm
// TF32-NOT: tfm.lazy_norm
// TF32: gpu.launch {{.*}} workgroup(%{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128xf32, #gpu.address_space<workgroup>>)
// TF32: math.sqrt
// TF32: nvvm.mma.sync
func.func @layer_norm(%x: memref<1x20x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>, %w1: memref<24x64xf32>, %w2: memref<40x64xf32>, %y1: memref<20x24xf32>, %y2: memref<20x40xf32>) {
  %cst = arith.constant 0.0 : f32
  %o = tfm.lazy_norm %x, %g, %b {epsilon = 1.0e-5} : memref<1x20x64xf32>, memref<64xf32>, memref<64xf32> -> memref<1x20x64xf32>
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

// An RMS norm into a weight-only quantized contraction: one statistics
// pass, no mean; the dequantizing kernel stages x * rstd * gamma.
// CHECK-LABEL: func.func @rms_norm_int8
// CHECK-NOT: tfm.lazy_norm
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
// TF32-NOT: tfm.lazy_norm
// TF32: gpu.launch {{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128xf32, #gpu.address_space<workgroup>>)
// TF32: nvvm.mma.sync
func.func @rms_norm_int8(%x: memref<2x8x32xf32>, %g: memref<32xf32>, %w: memref<48x32xi8>, %s: memref<48xf32>, %y: memref<16x48xf32>) {
  %cst = arith.constant 0.0 : f32
  %gc = memref.cast %g : memref<32xf32> to memref<32xf32, strided<[?], offset: ?>>
  %o = tfm.lazy_norm %x, %gc {epsilon = 1.0e-6} : memref<2x8x32xf32>, memref<32xf32, strided<[?], offset: ?>> -> memref<2x8x32xf32>
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

// The epilogue (a residual add into the norm's input, in place) would
// write what the prologue reads: the kernel applies the norm and stores
// the product; the add stays.
// CHECK-LABEL: func.func @epilogue_over_input
// CHECK: gpu.launch {{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: linalg.generic
func.func @epilogue_over_input(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>) {
  %o = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<8x32xf32>, memref<32xf32> -> memref<8x32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<8x32xf32>) outs(%x : memref<8x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A norm's result has no buffer: anything but a matmul kernel's (m, k)
// input reading it is an error.
func.func @other_reader(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>, %z: memref<8x32xf32>) {
  // expected-note @+1 {{the norm}}
  %o = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<8x32xf32>, memref<32xf32> -> memref<8x32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  // expected-error @+1 {{reads the result of a tfm.lazy_norm, which only the (m, k) input of a matmul kernel may read}}
  linalg.copy ins(%o : memref<8x32xf32>) outs(%z : memref<8x32xf32>)
  return
}

// -----

// An epilogue writing elsewhere (a residual add into another buffer) is
// folded with the prologue.
// CHECK-LABEL: func.func @epilogue_elsewhere
// CHECK: gpu.launch {{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @epilogue_elsewhere(%x: memref<8x32xf32>, %g: memref<32xf32>, %w: memref<32x32xf32>, %y: memref<8x32xf32>, %r: memref<8x32xf32>) {
  %o = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<8x32xf32>, memref<32xf32> -> memref<8x32xf32>
  linalg.matmul ins(%o, %w : memref<8x32xf32>, memref<32x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%r : memref<8x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A transposed read ((k, m)) is no (m, k) input: the kernel cannot serve it.
func.func @transposed_reader(%x: memref<32x8xf32>, %g: memref<8xf32>, %w: memref<32x16xf32>, %y: memref<8x16xf32>) {
  // expected-note @+1 {{the norm}}
  %o = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<32x8xf32>, memref<8xf32> -> memref<32x8xf32>
  // expected-error @+1 {{reads the result of a tfm.lazy_norm, which only the (m, k) input of a matmul kernel may read}}
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%o, %w : memref<32x8xf32>, memref<32x16xf32>) outs(%y : memref<8x16xf32>)
  return
}
