// RUN: tmc-opt %s --convert-tfm-to-linalg=fused-cached-attention | FileCheck %s
// RUN: tmc-opt %s --convert-tfm-to-linalg="fused-cached-attention cached-attention-split=4" | FileCheck %s --check-prefix=SPLIT

// With fused-cached-attention, tfm.cached_attention becomes
// tfm.fused_cached_attention on read-only buffers of the chunk's queries,
// keys and values and a fresh output buffer, the layer's layout as
// attributes and the default scale made explicit.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x64xf32>, %[[K:.*]]: tensor<1x4x32xf32>, %[[V:.*]]: tensor<1x4x32xf32>, %[[CACHE:.*]]: memref<?xi8>, %[[START:.*]]: i64)
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x4x64xf32>
// CHECK-NOT: memref.alloc
// CHECK: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK: %[[VB:.*]] = bufferization.to_buffer %[[V]] read_only
// CHECK: tfm.fused_cached_attention %[[QB]], %[[KB]], %[[VB]], %[[CACHE]] from %[[START]] into %[[OUT]] {cache_bits = 8 : i64, capacity = 13 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 0.17677669529663687 : f64, sinks = 2 : i64, v_offset = 1024 : i64, window = 8 : i64}
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable

// With a split of 4 positions: a query sees at most the window of 8 and
// the 2 sinks (of the cache's 13 rows), so a scratch buffer of [4 queries,
// 2 heads, 3 pieces, 32 + 2] for the pieces' partial results.
// SPLIT-LABEL: func.func @step
// SPLIT: %[[OUT:.*]] = memref.alloc() : memref<1x4x64xf32>
// SPLIT: %[[SCRATCH:.*]] = memref.alloc() : memref<4x2x3x34xf32>
// SPLIT: tfm.fused_cached_attention {{.*}} split by %[[SCRATCH]] : memref<4x2x3x34xf32> into %[[OUT]] {{{.*}}split = 4 : i64
func.func @step(%q: tensor<1x4x64xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>, %cache: memref<?xi8>, %start: i64) -> tensor<1x4x64xf32> {
  %o = tfm.cached_attention %q, %k, %v, %cache from %start {num_heads = 2, num_kv_heads = 1, k_offset = 0, v_offset = 1024, capacity = 13, window = 8, sinks = 2, cache_bits = 8} : tensor<1x4x64xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>, memref<?xi8>
  return %o : tensor<1x4x64xf32>
}

// A cache no longer than a piece is not split.
// SPLIT-LABEL: func.func @short
// SPLIT: memref.alloc() : memref<1x1x64xf32>
// SPLIT-NOT: memref.alloc
// SPLIT: tfm.fused_cached_attention %{{.*}} from %{{.*}} into %{{.*}} {{{.*}}sinks = 0 : i64, v_offset
// SPLIT: return
func.func @short(%q: tensor<1x1x64xf32>, %k: tensor<1x1x64xf32>, %v: tensor<1x1x64xf32>, %cache: memref<?xi8>, %start: i64) -> tensor<1x1x64xf32> {
  %o = tfm.cached_attention %q, %k, %v, %cache from %start {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 1024, capacity = 4, window = 0, sinks = 0, cache_bits = 32} : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, memref<?xi8>
  return %o : tensor<1x1x64xf32>
}

// Rotations of the chunk's queries and keys from the attention's own start
// become its attributes; one from another start is lowered as it is.
// CHECK-LABEL: func.func @rotated
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x1x64xf32>, %[[K:[a-z0-9]+]]: tensor<1x1x64xf32>
// CHECK-DAG: bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: bufferization.to_buffer %[[K]] read_only
// CHECK: tfm.fused_cached_attention {{.*}}rope_key, rope_query, rope_theta = 1.000000e+04 : f64
// CHECK: linalg.generic
// CHECK: tfm.fused_cached_attention
// CHECK-NOT: rope_
// CHECK: return
func.func @rotated(%q: tensor<1x1x64xf32>, %k: tensor<1x1x64xf32>, %v: tensor<1x1x64xf32>, %cache: memref<?xi8>, %start: i64, %other: i64) -> (tensor<1x1x64xf32>, tensor<1x1x64xf32>) {
  %rq = tfm.rope %q from %start {head_dim = 32} : tensor<1x1x64xf32>
  %rk = tfm.rope %k from %start {head_dim = 32} : tensor<1x1x64xf32>
  %o = tfm.cached_attention %rq, %rk, %v, %cache from %start {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 1024, capacity = 4, window = 0, sinks = 0, cache_bits = 32} : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, memref<?xi8>
  %sq = tfm.rope %q from %other {head_dim = 32} : tensor<1x1x64xf32>
  %p = tfm.cached_attention %sq, %k, %v, %cache from %start {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 1024, capacity = 4, window = 0, sinks = 0, cache_bits = 32} : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, memref<?xi8>
  return %o, %p : tensor<1x1x64xf32>, tensor<1x1x64xf32>
}
