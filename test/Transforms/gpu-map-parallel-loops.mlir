// RUN: tmc-opt %s --split-input-file --tmc-gpu-map-parallel-loops | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-map-parallel-loops=threads=64 | FileCheck %s --check-prefix=T64
// RUN: tmc-opt %s --split-input-file --tmc-gpu-map-parallel-loops --convert-parallel-loops-to-gpu | FileCheck %s --check-prefix=LAUNCH

// A 2-D loop (16 x 300): the innermost dimension gets 128 threads per block
// (with a guard for the last block), the outer one a block each.
// CHECK-LABEL: func.func @rows
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%c0, %c0) to (%c16, %c300) step (%c1, %c128{{.*}})
// CHECK: scf.parallel ({{.*}}) = ({{.*}}) to (%c1{{.*}}, %c128{{.*}}) step
// CHECK: scf.if
// CHECK: memref.store
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = thread_x{{.*}}>]
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_y{{.*}}>, #gpu.loop_dim_map<processor = block_x{{.*}}>]
// T64-LABEL: func.func @rows
// T64: step (%c1, %c64{{.*}})
// LAUNCH-LABEL: func.func @rows
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// LAUNCH: memref.store
func.func @rows(%out: memref<16x300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c300 = arith.constant 300 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c300) step (%c1, %c1) {
    memref.store %cst, %out[%i, %j] : memref<16x300xf32>
    scf.reduce
  }
  return
}

// -----

// A short innermost dimension gets its trip count rounded up to a warp;
// dimensions beyond the third stay sequential in the grid.
// CHECK-LABEL: func.func @short
// CHECK: step (%c1, %c1, %c1, %c32{{.*}})
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = thread_x{{.*}}>]
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = block_z{{.*}}>, #gpu.loop_dim_map<processor = block_y{{.*}}>, #gpu.loop_dim_map<processor = block_x{{.*}}>]
func.func @short(%out: memref<2x3x4x5xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%c2, %c3, %c4, %c5) step (%c1, %c1, %c1, %c1) {
    memref.store %cst, %out[%a, %b, %c, %d] : memref<2x3x4x5xf32>
    scf.reduce
  }
  return
}
