// RUN: tmc-opt %s --split-input-file --tmc-gpu-row-reductions --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-row-reductions=threads=32 --cse | FileCheck %s --check-prefix=T32
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-row-reductions=threads=0 2>&1 | FileCheck %s --check-prefix=BAD

// A layer norm's variance over rows of 200: one block per row (2 x 6
// rows), 128 threads each folding elements tid, tid + 128, ... with the
// payload, then a tree of 7 levels in workgroup memory, each behind a
// barrier; thread 0 adds the total to the output.
#in = affine_map<(b, s, f) -> (b, s, f)>
#row = affine_map<(b, s, f) -> (b, s)>
// CHECK-LABEL: func.func @variance
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<2x6x200xf32>, %[[MEAN:[a-z0-9]+]]: memref<2x6xf32>, %[[OUT:[a-z0-9]+]]: memref<2x6xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks(%[[ROW:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c12, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) threads(%[[T:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %c128, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) workgroup(%[[P:[a-z0-9]+]] : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[S:.*]] = arith.remui %[[ROW]], %c6
// CHECK: %[[B:.*]] = arith.divui %[[ROW]], %c6
// CHECK: %[[SUM:.*]] = scf.for %[[F:.*]] = %[[T]] to %c200 step %c128 iter_args(%[[ACC:.*]] = %cst{{.*}}) -> (f32)
// CHECK: memref.load %[[X]][%{{.*}}, %{{.*}}, %[[F]]]
// CHECK: memref.load %[[MEAN]]
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf {{.*}}%[[ACC]]
// CHECK: memref.store %[[SUM]], %[[P]][%[[T]]]
// CHECK: gpu.barrier
// CHECK-COUNT-7: gpu.barrier
// CHECK: arith.cmpi eq, %[[T]], %c0
// CHECK: memref.load %[[OUT]]
// CHECK: memref.load %[[P]][%c0]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// T32-LABEL: func.func @variance
// T32: threads({{.*}}) in (%{{[a-z0-9]+}} = %c32, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1) workgroup(%{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>)
func.func @variance(%x: memref<2x6x200xf32>, %mean: memref<2x6xf32>, %out: memref<2x6xf32>) {
  linalg.generic {indexing_maps = [#in, #row, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %mean : memref<2x6x200xf32>, memref<2x6xf32>) outs(%out : memref<2x6xf32>) {
  ^bb0(%v: f32, %m: f32, %acc: f32):
    %d = arith.subf %v, %m : f32
    %sq = arith.mulf %d, %d : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A maximum over rows of 12: 8 threads (a power of two, at most the row).
#in = affine_map<(s, f) -> (s, f)>
#row = affine_map<(s, f) -> (s)>
// CHECK-LABEL: func.func @maximum
// CHECK: threads({{.*}}) in (%{{[a-z0-9]+}} = %c8, %{{[a-z0-9]+}} = %c1, %{{[a-z0-9]+}} = %c1)
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[NEGINF]])
// CHECK: arith.maximumf
func.func @maximum(%x: memref<4x12xf32>, %out: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x12xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not row reductions: a reduction of the outer loop, a non-associative
// combination, and a contribution that reads the accumulator.
#in = affine_map<(s, f) -> (s, f)>
#row = affine_map<(s, f) -> (s)>
#col = affine_map<(f, s) -> (s)>
// CHECK-LABEL: func.func @not_rows
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
func.func @not_rows(%x: memref<4x12xf32>, %out: memref<4xf32>, %col: memref<12xf32>) {
  linalg.generic {indexing_maps = [#in, affine_map<(s, f) -> (f)>], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<4x12xf32>) outs(%col : memref<12xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x12xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.subf %acc, %v : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x12xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %w = arith.mulf %acc, %v : f32
    %r = arith.addf %acc, %w : f32
    linalg.yield %r : f32
  }
  return
}
// BAD: tmc-gpu-row-reductions: threads must be in [1, 1024], got 0
