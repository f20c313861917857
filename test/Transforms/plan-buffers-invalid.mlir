// RUN: tmc-opt %s --tmc-plan-buffers -split-input-file -verify-diagnostics
// RUN: not tmc-opt %s --split-input-file --tmc-plan-buffers=alignment=0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tmc-opt %s --split-input-file --tmc-plan-buffers=alignment=48 2>&1 | FileCheck %s --check-prefix=NOTPOW2
// RUN: not tmc-opt %s --split-input-file --tmc-plan-buffers=alignment=-64 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// ZERO: error: tmc-plan-buffers: alignment must be a power of two, got 0
// NOTPOW2: error: tmc-plan-buffers: alignment must be a power of two, got 48
// NEGATIVE: error: tmc-plan-buffers: alignment must be a power of two, got -64

// The arena is a byte buffer: views of anything else cannot place buffers.
// expected-error @+1 {{tmc-plan-buffers: the arena argument must be a 1-D memref of i8, got 'memref<?xf32>'}}
func.func @f32_arena(%arena: memref<?xf32> {tfm.name = "arena"}) {
  %a = memref.alloc() : memref<16xf32>
  return
}

// -----

// expected-error @+1 {{tmc-plan-buffers: the arena argument must be a 1-D memref of i8, got 'memref<4x?xi8>'}}
func.func @two_d_arena(%arena: memref<4x?xi8> {tfm.name = "arena"}) {
  %a = memref.alloc() : memref<16xf32>
  return
}

// -----

// expected-error @+1 {{tmc-plan-buffers: the arena argument must be a 1-D memref of i8, got 'i64'}}
func.func @scalar_arena(%arena: i64 {tfm.name = "arena"}) {
  %a = memref.alloc() : memref<16xf32>
  return
}
