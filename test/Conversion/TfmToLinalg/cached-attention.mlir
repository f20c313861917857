// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s

// tfm.cached_attention becomes a call of the runtime's KV-cache kernel on
// read-only views of the chunk's queries, keys and values and a fresh output
// buffer; the cache is passed as it is, and the run-time start position and
// the layer's layout as scalars.

// CHECK: func.func private @tmc_rt_cached_attention(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?xi8>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x64xf32>, %[[K:.*]]: tensor<1x4x32xf32>, %[[V:.*]]: tensor<1x4x32xf32>, %[[CACHE:.*]]: memref<?xi8>, %[[START:.*]]: i64)
// CHECK: %[[QF:.*]] = tensor.collapse_shape %[[Q]] {{\[}}[0, 1], [2]] : tensor<1x4x64xf32> into tensor<4x64xf32>
// CHECK: %[[QB:.*]] = bufferization.to_buffer %[[QF]] read_only
// CHECK: %[[QC:.*]] = memref.cast %[[QB]]
// CHECK: %[[KB:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<4x32xf32>
// CHECK: %[[KC:.*]] = memref.cast %[[KB]]
// CHECK: %[[VB:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<4x32xf32>
// CHECK: %[[VC:.*]] = memref.cast %[[VB]]
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<4x64xf32>
// CHECK: %[[OC:.*]] = memref.cast %[[OUT]]
// CHECK-DAG: %[[HEADS:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[KVHEADS:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[VOFF:.*]] = arith.constant 1024 : i64
// CHECK-DAG: %[[CAP:.*]] = arith.constant 13 : i64
// CHECK-DAG: %[[WINDOW:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[BITS:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.176776692 : f32
// CHECK: call @tmc_rt_cached_attention(%[[QC]], %[[KC]], %[[VC]], %[[CACHE]], %[[OC]], %[[START]], %[[HEADS]], %[[KVHEADS]], %{{.*}}, %[[VOFF]], %[[CAP]], %[[WINDOW]], %{{.*}}, %[[BITS]], %[[SCALE]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<4x64xf32> to tensor<4x64xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[R]] {{\[}}[0, 1], [2]] output_shape [1, 4, 64]
// CHECK: return %[[E]]
func.func @step(%q: tensor<1x4x64xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>, %cache: memref<?xi8>, %start: i64) -> tensor<1x4x64xf32> {
  %o = tfm.cached_attention %q, %k, %v, %cache from %start {num_heads = 2, num_kv_heads = 1, k_offset = 0, v_offset = 1024, capacity = 13, window = 8, sinks = 2, cache_bits = 8} : tensor<1x4x64xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>, memref<?xi8>
  return %o : tensor<1x4x64xf32>
}

// Positions and rotary angles start at the run-time position.
// CHECK-LABEL: func.func @positions
// CHECK-SAME: %[[S:[a-z0-9]+]]: i64)
// CHECK: linalg.generic
// CHECK: %[[BASE:.*]] = arith.addi %{{.*}}, %[[S]] : i64
// CHECK: %[[STEP:.*]] = arith.muli
// CHECK: arith.addi %[[BASE]], %[[STEP]] : i64
// CHECK: linalg.generic
// CHECK: %[[P:.*]] = arith.index_castui %[[S]] : i64 to index
// CHECK: arith.addi %{{.*}}, %[[P]] : index
func.func @positions(%ids: tensor<1x4xi64>, %x: tensor<1x4x64xf32>, %s: i64) -> (tensor<1x4xi64>, tensor<1x4x64xf32>) {
  %p = tfm.positions like %ids from %s : tensor<1x4xi64>
  %r = tfm.rope %x from %s {head_dim = 32} : tensor<1x4x64xf32>
  return %p, %r : tensor<1x4xi64>, tensor<1x4x64xf32>
}
