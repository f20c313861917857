// RUN: tmc-opt %s --split-input-file --tmc-gpu-launch-to-loops --cse -verify-diagnostics | FileCheck %s

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

// One thread per block: workgroup memory becomes a buffer (allocated once,
// at the function's entry, and rewritten by each block) and barriers
// vanish.
// CHECK-LABEL: func.func @one_thread
// CHECK-NOT: gpu.
// CHECK: %[[TILE:.*]] = memref.alloca() : memref<4xf32>
// CHECK: scf.for
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

// Threads that synchronize: the body runs in phases cut at the barriers,
// each phase for every thread in turn (a reversal through workgroup
// memory: each thread reads what another wrote). A loop with barriers runs
// once per block around its phases; its loop-carried value and a value
// computed before a barrier and used after it are kept per thread; private
// memory is one buffer per thread; the thread's index is recomputed.
// CHECK-LABEL: func.func @phases
// CHECK-SAME: (%[[IN:.*]]: memref<32xf32>, %[[OUT:.*]]: memref<32xf32>)
// CHECK-NOT: gpu.
// CHECK: %[[TILE:.*]] = memref.alloca() : memref<32xf32>
// CHECK: %[[PRIV:.*]] = memref.alloca() : memref<32x2xf32>
// CHECK: %[[X:.*]] = memref.alloca() : memref<32xf32>
// CHECK: %[[ACC:.*]] = memref.alloca() : memref<32xf32>
// CHECK: %[[S:.*]] = memref.alloca() : memref<32xf32>
// Phase 1, every thread: private store, load and stage; x kept per thread.
// CHECK: scf.for %[[T1:.*]] = %c0 to %c32
// CHECK: %[[TID1:.*]] = arith.addi %{{.*}}, %[[T1]]
// CHECK: %[[MINE:.*]] = memref.subview %[[PRIV]][%[[TID1]], 0] [1, 2] [1, 1]
// CHECK: memref.store %{{.*}}, %[[MINE]][%c0]
// CHECK: %[[V:.*]] = memref.load %[[IN]][%[[T1]]]
// CHECK: memref.store %[[V]], %[[TILE]][%[[T1]]]
// CHECK: memref.store %[[V]], %[[X]][%[[TID1]]]
// The loop's initial value, per thread.
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[ACC]]
// The loop runs once per block around its phases: the reads of another
// thread's element, then the loop-carried value written back.
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %[[T2:.*]] = %c0 to %c32
// CHECK: %[[R:.*]] = arith.subi %c31, %[[T2]]
// CHECK: memref.load %[[TILE]][%[[R]]]
// CHECK: memref.load %[[ACC]]
// CHECK: memref.store %{{.*}}, %[[S]]
// CHECK: scf.for
// CHECK: memref.load %[[S]]
// CHECK: memref.store %{{.*}}, %[[ACC]]
// After the loop: the loop's result and x, per thread.
// CHECK: scf.for %[[T3:.*]] = %c0 to %c32
// CHECK: memref.load %[[ACC]]
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[T3]]]
// CHECK-NOT: gpu.barrier
func.func @phases(%in: memref<32xf32>, %out: memref<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c31 = arith.constant 31 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<32xf32, #gpu.address_space<workgroup>>)
             private(%p : memref<2xf32, #gpu.address_space<private>>) {
    memref.store %zero, %p[%c0] : memref<2xf32, #gpu.address_space<private>>
    %x = memref.load %in[%tx] : memref<32xf32>
    memref.store %x, %tile[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
    %acc = scf.for %i = %c0 to %c3 step %c1 iter_args(%a = %zero) -> (f32) {
      gpu.barrier
      %r = arith.subi %c31, %tx : index
      %y = memref.load %tile[%r] : memref<32xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %a, %y : f32
      scf.yield %s : f32
    }
    %sum = arith.addf %acc, %x : f32
    memref.store %sum, %out[%tx] : memref<32xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @divergent(%out: memref<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %cst = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{tmc-gpu-launch-to-loops: the bounds of a loop with barriers differ per thread}}
    scf.for %i = %c0 to %tx step %c1 {
      gpu.barrier
    }
    memref.store %cst, %out[%tx] : memref<32xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @race(%out: memref<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c31 = arith.constant 31 : index
  %c32 = arith.constant 32 : index
  %cst = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<32xf32, #gpu.address_space<workgroup>>) {
    // Iteration i + 1 overwrites the tile while iteration i may still read it.
    // expected-error @+1 {{tmc-gpu-launch-to-loops: this loop accesses workgroup memory both before its first barrier and after its last, with no barrier between iterations: a race on the GPU}}
    scf.for %i = %c0 to %c4 step %c1 {
      memref.store %cst, %tile[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %r = arith.subi %c31, %tx : index
      %y = memref.load %tile[%r] : memref<32xf32, #gpu.address_space<workgroup>>
      memref.store %y, %out[%tx] : memref<32xf32>
    }
    gpu.terminator
  }
  return
}

// -----

func.func @dynamic_block(%out: memref<32xf32>, %n: index) {
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  // expected-error @+1 {{tmc-gpu-launch-to-loops: the threads of this launch share memory or synchronize and its block size is not constant}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %n, %sy = %c1, %sz = %c1) {
    memref.store %cst, %out[%tx] : memref<32xf32>
    gpu.barrier
    gpu.terminator
  }
  return
}

// -----

// Warp-level matrix operations: lane 0 of each warp does the whole 16 x 16
// operation on fragment buffers (2 warps here).
// CHECK-LABEL: func.func @mma
// CHECK-SAME: (%[[A:.*]]: memref<16x16xf16>, %[[C:.*]]: memref<32x16xf32>)
// CHECK-DAG: %[[FA:.*]] = memref.alloca() : memref<16x16xf16>
// CHECK-DAG: %[[FB:.*]] = memref.alloca() : memref<16x16xf16>
// CHECK-DAG: %[[FC:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-DAG: %[[FD:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK: scf.for %[[T:.*]] = %c0 to %c64
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK: %[[LEAD:.*]] = arith.cmpi eq, %[[LANE]], %c0
// CHECK: scf.if %[[LEAD]]
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[FA]]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[FB]]
// CHECK: scf.if
// CHECK: memref.load %[[C]]
// CHECK: memref.store %{{.*}}, %[[FC]]
// CHECK: scf.if
// CHECK: memref.load %[[FC]]
// CHECK: scf.for
// CHECK: memref.load %[[FA]]
// CHECK: arith.extf
// CHECK: memref.load %[[FB]]
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[FD]]
// CHECK: scf.if
// CHECK: memref.load %[[FD]]
// CHECK: memref.store %{{.*}}, %[[C]]
func.func @mma(%a: memref<16x16xf16>, %c: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %w = arith.divui %tx, %c32 : index
    %row = arith.muli %w, %c16 : index
    %m = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index} : memref<16x16xf16> -> !gpu.mma_matrix<16x16xf16, "AOp">
    %n = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index} : memref<16x16xf16> -> !gpu.mma_matrix<16x16xf16, "BOp">
    %z = gpu.subgroup_mma_load_matrix %c[%row, %c0] {leadDimension = 16 : index} : memref<32x16xf32> -> !gpu.mma_matrix<16x16xf32, "COp">
    %r = gpu.subgroup_mma_compute %m, %n, %z : !gpu.mma_matrix<16x16xf16, "AOp">, !gpu.mma_matrix<16x16xf16, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
    gpu.subgroup_mma_store_matrix %r, %c[%row, %c0] {leadDimension = 16 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<32x16xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @mma_stride(%a: memref<16x32xf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{tmc-gpu-launch-to-loops: emulates warp-level matrix loads and stores of row-major 2-D memrefs whose row stride is the leading dimension only}}
    %m = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index} : memref<16x32xf16> -> !gpu.mma_matrix<16x16xf16, "AOp">
    gpu.terminator
  }
  return
}

// -----

// nvvm.mma.sync cuts the phases: every thread's registers are kept per
// thread as their 16-bit halves ([thread][register][half], the first
// element in bits 0-15 of a bf16 register), then, once per warp (2 here),
// each lane's four results are computed from the lanes holding their rows
// of A and columns of B (A (row, k): lane 4 (row % 8) + (k % 8) / 2,
// register row / 8 + 2 (k / 8), half k % 2), and kept per thread for the
// next phase.
// CHECK-LABEL: func.func @mma_sync
// CHECK-SAME: (%[[REGS:.*]]: memref<64x4xi32>, %[[ACC:.*]]: memref<64x4xf32>, %[[OUT:.*]]: memref<64x4xf32>)
// CHECK-DAG: %[[AR:.*]] = memref.alloca() : memref<64x4x2xbf16>
// CHECK-DAG: %[[BR:.*]] = memref.alloca() : memref<64x2x2xbf16>
// CHECK-DAG: %[[CR:.*]] = memref.alloca() : memref<64x4xf32>
// The registers of every thread.
// CHECK: scf.for
// CHECK: %[[LO:.*]] = arith.trunci %{{.*}} : i32 to i16
// CHECK: %[[LOH:.*]] = arith.bitcast %[[LO]] : i16 to bf16
// CHECK: %[[HI:.*]] = arith.shrui %{{.*}}, %c16_i32
// CHECK: %[[HI16:.*]] = arith.trunci %[[HI]] : i32 to i16
// CHECK: %[[HIH:.*]] = arith.bitcast %[[HI16]] : i16 to bf16
// CHECK: memref.store %[[LOH]], %[[AR]][%{{.*}}, %c0, %c0]
// CHECK: memref.store %[[HIH]], %[[AR]][%{{.*}}, %c0, %c1]
// CHECK: memref.store %{{.*}}, %[[BR]]
// CHECK: memref.store %{{.*}}, %[[CR]]
// Between the phases: warps, lanes, four results, 16 steps along k.
// CHECK: scf.for %[[W:.*]] = %c0 to %c2 step %c1
// CHECK: %[[BASE:.*]] = arith.muli %[[W]], %c32
// CHECK: scf.for %[[L:.*]] = %c0 to %c32 step %c1
// CHECK: %[[TID:.*]] = arith.addi %[[BASE]], %[[L]]
// CHECK: %[[INIT:.*]] = memref.load %[[CR]][%[[TID]], %c0]
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(%{{.*}} = %[[INIT]])
// CHECK: memref.load %[[AR]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: memref.load %[[BR]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %[[SUM]], %{{.*}}[%[[TID]]] : memref<64xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[TID]]] : memref<64xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[TID]]] : memref<64xf32>
// CHECK: memref.store %{{.*}}, %[[D3:.*]][%[[TID]]] : memref<64xf32>
// The next phase reads its results.
// CHECK: scf.for
// CHECK: memref.load %[[D3]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK-NOT: nvvm.mma.sync
func.func @mma_sync(%regs: memref<64x4xi32>, %acc: memref<64x4xf32>, %out: memref<64x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %a0 = memref.load %regs[%tx, %c0] : memref<64x4xi32>
    %a1 = memref.load %regs[%tx, %c1] : memref<64x4xi32>
    %a2 = memref.load %regs[%tx, %c2] : memref<64x4xi32>
    %a3 = memref.load %regs[%tx, %c3] : memref<64x4xi32>
    %c0v = memref.load %acc[%tx, %c0] : memref<64x4xf32>
    %c1v = memref.load %acc[%tx, %c1] : memref<64x4xf32>
    %c2v = memref.load %acc[%tx, %c2] : memref<64x4xf32>
    %c3v = memref.load %acc[%tx, %c3] : memref<64x4xf32>
    %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%a0, %a1] C[%c0v, %c1v, %c2v, %c3v]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d3 = llvm.extractvalue %d[3] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d3, %out[%tx, %c3] : memref<64x4xf32>
    gpu.terminator
  }
  return
}

// -----

// An mma.sync orders one warp only: staging a workgroup tile and reading it
// for an mma.sync without a barrier between would race across warps.
func.func @mma_sync_unordered(%x: memref<64xi32>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<64xi32, #gpu.address_space<workgroup>>) {
    %v = memref.load %x[%tx] : memref<64xi32>
    memref.store %v, %tile[%tx] : memref<64xi32, #gpu.address_space<workgroup>>
    %r = memref.load %tile[%c0] : memref<64xi32, #gpu.address_space<workgroup>>
    // expected-error @+1 {{tmc-gpu-launch-to-loops: a workgroup buffer is written and read between two barriers with an mma.sync: the emulation, which runs the phases around an mma.sync for all warps in turn, would hide a race between warps}}
    %d = nvvm.mma.sync A[%r, %r, %r, %r] B[%r, %r] C[%f0, %f0, %f0, %f0]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d0, %out[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @mma_sync_shape(%r: i32, %out: memref<32xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %f0 = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{tmc-gpu-launch-to-loops: emulates mma.sync m16n8k16 with row-major f16 or bf16 A, or m16n8k8 with row-major tf32 A, column-major B of the same type and f32 accumulators, in blocks of whole warps, only}}
    %d = nvvm.mma.sync A[%r, %r] B[%r] C[%f0, %f0, %f0, %f0]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 8>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d0, %out[%tx] : memref<32xf32>
    gpu.terminator
  }
  return
}

// -----

// f16 registers are vector<2xf16>, built from f16 scalars: the vectors are
// rebuilt for the mma.sync from the scalars kept per thread.
// CHECK-LABEL: func.func @mma_sync_f16
// CHECK-DAG: %[[AR:.*]] = memref.alloca() : memref<32x4x2xf16>
// CHECK-DAG: %[[KEPT:.*]] = memref.alloca() : memref<32xf16>
// CHECK: %[[H:.*]] = memref.load %{{.*}} : memref<32xf16>
// CHECK: memref.store %[[H]], %[[KEPT]][%[[T:.*]]]
// CHECK: %[[AGAIN:.*]] = memref.load %[[KEPT]][%[[T2:.*]]]
// CHECK: %[[V:.*]] = vector.from_elements %[[AGAIN]], %[[AGAIN]] : vector<2xf16>
// CHECK: %[[E0:.*]] = vector.extract %[[V]][0]
// CHECK: memref.store %[[E0]], %[[AR]][%[[T2]], %c0, %c0]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: nvvm.mma.sync
func.func @mma_sync_f16(%x: memref<32xf16>, %out: memref<32xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %f0 = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %h = memref.load %x[%tx] : memref<32xf16>
    %r = vector.from_elements %h, %h : vector<2xf16>
    %d = nvvm.mma.sync A[%r, %r, %r, %r] B[%r, %r] C[%f0, %f0, %f0, %f0]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<f16>, multiplicandBPtxType = #nvvm.mma_type<f16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d0, %out[%tx] : memref<32xf32>
    gpu.terminator
  }
  return
}
