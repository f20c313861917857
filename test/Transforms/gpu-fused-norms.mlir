// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-norms=threads=4 --canonicalize --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-norms --canonicalize --cse | FileCheck %s --check-prefix=T128
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-fused-norms=threads=0 2>&1 | FileCheck %s --check-prefix=THREADS

// A layer norm of 3 rows of 8: one launch, a block per row (the row from
// the block id) of 4 threads. Each thread sums features tid and tid + 4, a
// tree of 2 then 1 in workgroup memory gives the sum, which every thread
// reads before the buffer is reused; the same for the squared deviations
// from the mean; then each thread writes its features normalized, scaled
// and shifted.
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[X:[a-z0-9]+]]: memref<1x3x8xf32, strided<[?, ?, ?], offset: ?>>, %[[G:[a-z0-9]+]]: memref<8xf32>, %[[B:[a-z0-9]+]]: memref<8xf32>, %[[OUT:[a-z0-9]+]]: memref<1x3x8xf32>)
// CHECK-NOT: tfm.fused_norm
// CHECK: gpu.launch blocks(%[[BID:[a-z0-9]+]], %{{.*}}, %{{.*}}) in ({{.*}} = %c3, {{.*}} = %c1, {{.*}} = %c1) threads(%[[TID:[a-z0-9]+]], %{{.*}}, %{{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1) workgroup(%[[PART:[a-z0-9]+]] : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[ROW:.*]] = arith.remui %[[BID]], %c3
// CHECK: %[[SUM:.*]] = scf.for %[[D:.*]] = %[[TID]] to %c8 step %c4 iter_args(%[[ACC:.*]] = %cst
// CHECK: %[[XV:.*]] = memref.load %[[X]][%c0, %[[ROW]], %[[D]]]
// CHECK: arith.addf %[[ACC]], %[[XV]]
// CHECK: memref.store %[[SUM]], %[[PART]][%[[TID]]]
// CHECK: gpu.barrier
// CHECK: %[[LOW2:.*]] = arith.cmpi ult, %[[TID]], %c2
// CHECK: scf.if %[[LOW2]]
// CHECK: arith.addi %[[TID]], %c2
// CHECK: gpu.barrier
// CHECK: %[[LOW1:.*]] = arith.cmpi ult, %[[TID]], %c1
// CHECK: scf.if %[[LOW1]]
// CHECK: gpu.barrier
// CHECK: %[[TOTAL:.*]] = memref.load %[[PART]][%c0]
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: %[[MEAN:.*]] = arith.mulf %[[TOTAL]], %cst
// CHECK: %[[SQ:.*]] = scf.for
// CHECK: %[[C:.*]] = arith.subf %{{.*}}, %[[MEAN]]
// CHECK: arith.mulf %[[C]], %[[C]]
// CHECK: memref.store %[[SQ]], %[[PART]][%[[TID]]]
// CHECK: gpu.barrier
// CHECK: scf.if %[[LOW2]]
// CHECK: gpu.barrier
// CHECK: scf.if %[[LOW1]]
// CHECK: gpu.barrier
// CHECK: %[[SQTOTAL:.*]] = memref.load %[[PART]][%c0]
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: %[[VAR:.*]] = arith.mulf %[[SQTOTAL]], %cst
// CHECK: %[[EPS:.*]] = arith.addf %[[VAR]], %cst
// CHECK: %[[ROOT:.*]] = math.sqrt %[[EPS]]
// CHECK: %[[RSTD:.*]] = arith.divf %cst{{.*}}, %[[ROOT]]
// CHECK: scf.for %[[E:.*]] = %[[TID]] to %c8 step %c4
// CHECK: %[[CE:.*]] = arith.subf %{{.*}}, %[[MEAN]]
// CHECK: %[[N:.*]] = arith.mulf %[[CE]], %[[RSTD]]
// CHECK: %[[GV:.*]] = memref.load %[[G]][%[[E]]]
// CHECK: %[[S:.*]] = arith.mulf %[[N]], %[[GV]]
// CHECK: %[[BV:.*]] = memref.load %[[B]][%[[E]]]
// CHECK: %[[Y:.*]] = arith.addf %[[S]], %[[BV]]
// CHECK: memref.store %[[Y]], %[[OUT]][%c0, %[[ROW]], %[[E]]]
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return

// 128 threads: a power of two no larger than the row, 8.
// T128-LABEL: func.func @layer
// T128: threads({{.*}}) in ({{.*}} = %c8, {{.*}}) workgroup({{.*}} : memref<8xf32, #gpu.address_space<workgroup>>)
func.func @layer(%x: memref<1x3x8xf32, strided<[?, ?, ?], offset: ?>>, %g: memref<8xf32>, %b: memref<8xf32>, %o: memref<1x3x8xf32>) {
  tfm.fused_norm %x, %g, %b into %o {epsilon = 1.0e-5} : memref<1x3x8xf32, strided<[?, ?, ?], offset: ?>>, memref<1x3x8xf32>, memref<8xf32>, memref<8xf32>
  return
}

// -----

// An RMS norm of 2 x 3 rows of 6 (threads: 4, the largest power of two up
// to 6; the row from the block id over both leading dimensions): one sum of
// squares, no mean, no shift.
// CHECK-LABEL: func.func @rms
// CHECK: gpu.launch blocks(%[[BID:[a-z0-9]+]], %{{.*}}, %{{.*}}) in ({{.*}} = %c6, {{.*}} = %c1, {{.*}} = %c1) threads(%[[TID:[a-z0-9]+]], %{{.*}}, %{{.*}}) in ({{.*}} = %c4,
// CHECK: %[[R1:.*]] = arith.remui %[[BID]], %c3
// CHECK: %[[Q:.*]] = arith.divui %[[BID]], %c3
// CHECK: %[[R0:.*]] = arith.remui %[[Q]], %c2
// CHECK: scf.for %[[D:.*]] = %[[TID]] to %c6 step %c4
// CHECK: %[[XV:.*]] = memref.load %{{.*}}[%[[R0]], %[[R1]], %[[D]]]
// CHECK: arith.mulf %[[XV]], %[[XV]]
// CHECK-NOT: arith.subf
// CHECK: math.sqrt
// CHECK: scf.for
// CHECK-NOT: arith.subf
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK-NEXT: memref.store
// CHECK-NOT: gpu.launch
func.func @rms(%x: memref<2x3x6xf32>, %g: memref<6xf32>, %o: memref<2x3x6xf32>) {
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<2x3x6xf32>, memref<2x3x6xf32>, memref<6xf32>
  return
}

// THREADS: tmc-gpu-fused-norms: threads must be in [1, 1024], got 0
