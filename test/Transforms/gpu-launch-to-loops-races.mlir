// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tmc-gpu-launch-to-loops{check-races=1}))" | FileCheck %s
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tmc-gpu-launch-to-loops{check-races=1}),convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts)" -o %t.mlir
// RUN: not --crash stdbuf -oL %llvm_tools_dir/mlir-runner %t.mlir -e racy -entry-point-result=void 2>&1 | FileCheck %s --check-prefix=RACE
// RUN: stdbuf -oL %llvm_tools_dir/mlir-runner %t.mlir -e ordered -entry-point-result=void 2>&1 | FileCheck %s --check-prefix=ORDERED --allow-empty
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tmc-gpu-launch-to-loops))" | FileCheck %s --check-prefix=OFF

// Each thread writes its element of a workgroup tile and reads the other
// thread's. With the race checks, each element remembers its last writer
// as epoch * threads + thread (-1 at first) and its readers (one thread's
// read like a write, -(epoch + 2) once several threads read it); every
// barrier starts an epoch. Without a barrier between the write and the read, the
// emulation (thread 0 then thread 1) sees thread 1 write an element thread
// 0 read in the same epoch.
// CHECK-LABEL: func.func @racy
// CHECK: %[[EPOCH:.*]] = memref.alloca() : memref<i64>
// CHECK: memref.store %c0_i64, %[[EPOCH]][]
// CHECK: %[[WRITERS:.*]] = memref.alloca() : memref<2xi64>
// CHECK: memref.store %c-1_i64, %[[WRITERS]]
// CHECK: %[[READERS:.*]] = memref.alloca() : memref<2xi64>
// CHECK: memref.store %c-1_i64, %[[READERS]]
// A new block, a new epoch.
// CHECK: %[[E0:.*]] = memref.load %[[EPOCH]][]
// CHECK: %[[E1:.*]] = arith.addi %[[E0]], %c1_i64
// CHECK: memref.store %[[E1]], %[[EPOCH]][]
// The write: no other thread's read or write in this epoch.
// CHECK: memref.load %[[WRITERS]]
// CHECK: memref.load %[[READERS]]
// CHECK: arith.divsi
// CHECK: cf.assert %{{.*}}, "tmc-gpu-launch-to-loops: race on workgroup memory: a write at {{.*}} and another thread's read or write of the same element have no barrier between them"
// CHECK: memref.store %{{.*}}, %[[WRITERS]]
// CHECK: memref.store
// The read: no other thread's write.
// CHECK: memref.load %[[WRITERS]]
// CHECK: cf.assert %{{.*}}, "tmc-gpu-launch-to-loops: race on workgroup memory: a read at
// CHECK: memref.store %{{.*}}, %[[READERS]]
// CHECK: memref.load
// RACE: tmc-gpu-launch-to-loops: race on workgroup memory: a write at
// ORDERED-NOT: race
// OFF-NOT: cf.assert
func.func @racy() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c2, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<2xf32, #gpu.address_space<workgroup>>) {
    memref.store %one, %tile[%tx] : memref<2xf32, #gpu.address_space<workgroup>>
    %other = arith.subi %c1, %tx : index
    %v = memref.load %tile[%other] : memref<2xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}

// The same with a barrier between the write and the read: no race.
// CHECK-LABEL: func.func @ordered
// CHECK: cf.assert
func.func @ordered() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c2, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<2xf32, #gpu.address_space<workgroup>>) {
    memref.store %one, %tile[%tx] : memref<2xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %other = arith.subi %c1, %tx : index
    %v = memref.load %tile[%other] : memref<2xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}
