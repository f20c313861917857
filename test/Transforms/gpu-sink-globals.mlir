// RUN: tmc-opt %s --tmc-gpu-sink-globals | FileCheck %s
// RUN: tmc-opt %s --tmc-gpu-sink-globals --gpu-kernel-outlining | FileCheck %s --check-prefix=OUTLINED

memref.global "private" constant @mask : memref<4xi8> = dense<[1, 0, 1, 1]>

// CHECK-LABEL: func.func @reads_mask
// The host read keeps its own get_global; the kernel gets a copy.
// CHECK: %[[HOST:.*]] = memref.get_global @mask
// CHECK: memref.load %[[HOST]]
// CHECK: gpu.launch
// CHECK: %[[DEV:.*]] = memref.get_global @mask
// CHECK: memref.load %[[DEV]]
// OUTLINED: gpu.launch_func @reads_mask_kernel::@reads_mask_kernel
// OUTLINED-SAME: args(%{{.*}} : memref<4xi8>)
// OUTLINED: gpu.module @reads_mask_kernel
// OUTLINED-DAG: memref.global "private" constant @mask
// OUTLINED-DAG: memref.get_global @mask
func.func @reads_mask(%out: memref<4xi8>, %i: index) -> i8 {
  %c1 = arith.constant 1 : index
  %mask = memref.get_global @mask : memref<4xi8>
  %first = memref.load %mask[%i] : memref<4xi8>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %mask[%tx] : memref<4xi8>
    memref.store %v, %out[%tx] : memref<4xi8>
    gpu.terminator
  }
  return %first : i8
}
