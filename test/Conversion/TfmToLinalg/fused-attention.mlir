// RUN: tmc-opt %s --convert-tfm-to-linalg="fused-attention=1 block-q=32 block-k=8" | FileCheck %s --implicit-check-not=scf.for
// RUN: tmc-opt %s --convert-tfm-to-linalg="fused-attention=1 block-q=32 block-k=8" --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF

// With fused-attention, tfm.attention becomes tfm.fused_attention on the
// read-only buffers of its operands and a fresh output buffer; the tile
// sizes are clamped to the sequence lengths and the scale made explicit.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x16x32xf32>, %[[K:.*]]: tensor<1x24x16xf32>, %[[V:.*]]: tensor<1x24x16xf32>)
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only : tensor<1x16x32xf32> to memref<1x16x32xf32, strided<[?, ?, ?], offset: ?>>
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG: %[[VB:.*]] = bufferization.to_buffer %[[V]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x16x32xf32>
// CHECK: tfm.fused_attention %[[QB]], %[[KB]], %[[VB]] into %[[OUT]] {block_k = 8 : i64, block_q = 16 : i64, causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.3535533905932737{{[0-9]}} : f64, sparsity = #tfm.window<size = 4>}
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]

// Bufferized, the op reads the function's buffers and writes its own.
// BUF-LABEL: func.func @causal
// BUF-SAME: (%[[Q:.*]]: memref<1x16x32xf32, strided<[?, ?, ?], offset: ?>>, %[[K:.*]]: memref<1x24x16xf32, strided<[?, ?, ?], offset: ?>>, %[[V:.*]]: memref<1x24x16xf32, strided<[?, ?, ?], offset: ?>>)
// BUF: %[[OUT:.*]] = memref.alloc() : memref<1x16x32xf32>
// BUF: tfm.fused_attention %[[Q]], %[[K]], %[[V]] into %[[OUT]]
// BUF: return %[[OUT]]
func.func @causal(%q: tensor<1x16x32xf32>, %k: tensor<1x24x16xf32>, %v: tensor<1x24x16xf32>) -> tensor<1x16x32xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, causal, sparsity = #tfm.window<size = 4>} : tensor<1x16x32xf32>, tensor<1x24x16xf32>, tensor<1x24x16xf32>
  return %0 : tensor<1x16x32xf32>
}

// The rotations of the queries and keys, read by the attention only, become
// its attributes: the fused op reads their inputs and rotates them itself,
// and no tfm.rope is lowered.
// CHECK-LABEL: func.func @rotated
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x32xf32>, %[[K:.*]]: tensor<1x8x16xf32>, %[[V:.*]]: tensor<1x8x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK: tfm.fused_attention %[[QB]], %[[KB]], %{{.*}} into %{{.*}} {{{.*}}rope_key, rope_offset = 3 : i64, rope_query, rope_theta = 5.000000e+05 : f64{{.*}}}
// CHECK-NOT: tfm.rope
func.func @rotated(%q: tensor<1x8x32xf32>, %k: tensor<1x8x16xf32>, %v: tensor<1x8x16xf32>) -> tensor<1x8x32xf32> {
  %rq = tfm.rope %q {head_dim = 8, theta = 500000.0, offset = 3} : tensor<1x8x32xf32>
  %rk = tfm.rope %k {head_dim = 8, theta = 500000.0, offset = 3} : tensor<1x8x16xf32>
  %0 = tfm.attention %rq, %rk, %v {num_heads = 4, num_kv_heads = 2, causal} : tensor<1x8x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %0 : tensor<1x8x32xf32>
}

// Not taken in: a rotation read elsewhere too (the first query, returned:
// its key's rotation is taken in alone), rotations by different thetas
// (neither), and one with a run-time start.
// CHECK-LABEL: func.func @kept
// CHECK: linalg.generic
// CHECK: tfm.fused_attention {{.*}}rope_key, rope_theta = 5.000000e+05 : f64
// CHECK-NOT: rope_query
// CHECK-COUNT-2: linalg.generic
// CHECK: tfm.fused_attention
// CHECK-NOT: rope_
// CHECK: linalg.generic
// CHECK: tfm.fused_attention
// CHECK-NOT: rope_
// CHECK: return
func.func @kept(%q: tensor<1x8x32xf32>, %k: tensor<1x8x16xf32>, %v: tensor<1x8x16xf32>, %start: i64) -> (tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>) {
  %rq = tfm.rope %q {head_dim = 8} : tensor<1x8x32xf32>
  %rk = tfm.rope %k {head_dim = 8, theta = 500000.0} : tensor<1x8x16xf32>
  %0 = tfm.attention %rq, %rk, %v {num_heads = 4, num_kv_heads = 2} : tensor<1x8x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  %tq = tfm.rope %q {head_dim = 8} : tensor<1x8x32xf32>
  %tk = tfm.rope %k {head_dim = 8, theta = 500000.0} : tensor<1x8x16xf32>
  %1 = tfm.attention %tq, %tk, %v {num_heads = 4, num_kv_heads = 2} : tensor<1x8x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  %sq = tfm.rope %q from %start {head_dim = 8} : tensor<1x8x32xf32>
  %2 = tfm.attention %sq, %k, %v {num_heads = 4, num_kv_heads = 2} : tensor<1x8x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %0, %1, %2, %rq : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
}
