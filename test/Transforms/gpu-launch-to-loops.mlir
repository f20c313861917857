// RUN: tmc-opt %s --split-input-file --tmc-gpu-launch-to-loops -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @launch
// CHECK-SAME: (%[[OUT:.*]]: memref<8x64xf32>)
// CHECK-NOT: gpu.launch
// CHECK: scf.for %[[BZ:.*]] = %{{.*}} to %c1
// CHECK: scf.for %[[BY:.*]] = %{{.*}} to %c8
// CHECK: scf.for %[[BX:.*]] = %{{.*}} to %c2
// CHECK: scf.for %[[TZ:.*]] = %{{.*}} to %c1
// CHECK: scf.for %[[TY:.*]] = %{{.*}} to %c1
// CHECK: scf.for %[[TX:.*]] = %{{.*}} to %c32
// CHECK: %[[COL:.*]] = arith.muli %[[BX]], %c32
// CHECK: %[[J:.*]] = arith.addi %[[COL]], %[[TX]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[BY]], %[[J]]]
func.func @launch(%out: memref<8x64xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %cst = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c8, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %col = arith.muli %bx, %sx : index
    %j = arith.addi %col, %tx : index
    memref.store %cst, %out[%by, %j] : memref<8x64xf32>
    gpu.terminator
  }
  return
}

// -----

// One thread per block: workgroup memory becomes a buffer of the block's
// own and barriers vanish.
// CHECK-LABEL: func.func @one_thread
// CHECK-NOT: gpu.
// CHECK: scf.for
// CHECK: %[[TILE:.*]] = memref.alloca() : memref<4xf32>
// CHECK: memref.store %{{.*}}, %[[TILE]]
// CHECK-NOT: gpu.barrier
// CHECK: memref.load %[[TILE]]
func.func @one_thread(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %cst = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<4xf32, #gpu.address_space<workgroup>>) {
    memref.store %cst, %tile[%bx] : memref<4xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %v = memref.load %tile[%bx] : memref<4xf32, #gpu.address_space<workgroup>>
    memref.store %v, %out[%bx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @barrier(%out: memref<32xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %cst = arith.constant 1.0 : f32
  // expected-error @+1 {{tmc-gpu-launch-to-loops: the threads of this launch share memory or synchronize; running them one after another would not be exact}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    memref.store %cst, %out[%tx] : memref<32xf32>
    gpu.barrier
    gpu.terminator
  }
  return
}
