// RUN: tmc-opt %s --split-input-file --tmc-gpu-check-host-code -verify-diagnostics

// Views, launches and reads of constant globals are fine on the host; a
// store into a (device) buffer outside a launch is not.
memref.global "private" constant @table : memref<4xi32> = dense<[0, 1, 2, 3]>

func.func @host(%arena: memref<?xi8>, %i: index) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  %view = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  %table = memref.get_global @table : memref<4xi32>
  %entry = memref.load %table[%i] : memref<4xi32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %cst, %view[%tx] : memref<16xf32>
    gpu.terminator
  }
  // expected-error @+1 {{'memref.store' reads or writes a buffer on the host, but every buffer of a GPU model is in device memory; it was not mapped to a GPU kernel}}
  memref.store %cst, %view[%i] : memref<16xf32>
  return %entry : i32
}

// -----

func.func @linalg_left(%a: memref<4xf32>) {
  %cst = arith.constant 0.0 : f32
  // expected-error @+1 {{'linalg.fill' reads or writes a buffer on the host}}
  linalg.fill ins(%cst : f32) outs(%a : memref<4xf32>)
  return
}
