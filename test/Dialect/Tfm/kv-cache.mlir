// RUN: tmc-opt %s --tfm-kv-cache="chunk=4" | FileCheck %s
// RUN: tmc-opt %s --tfm-kv-cache="chunk=4 max-tokens=16 cache-type=int8" | FileCheck %s --check-prefix=INT8
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=window:6 --tfm-kv-cache="chunk=4 sinks=2 cache-type=int8" | FileCheck %s --check-prefix=RING

// One layer of a gpt2-shaped decoder: 2 heads of 8 (f32 cache: 64 positions
// x 16 values x 4 bytes = 4096 bytes each for keys and values).
module attributes {tfm.weights_file = "w.safetensors"} {
// CHECK: tmc.decode = {bytes_per_token = 128 : i64, cache_bytes = 8192 : i64, cache_type = "f32", chunk = 4 : i64, max_tokens = 64 : i64, sinks = 0 : i64, vocab = 32 : i64, window = 0 : i64}

// CHECK-LABEL: func.func @prefill
// CHECK-SAME: (%[[CACHE:.*]]: memref<?xi8> {tfm.name = "cache"}, %[[IDS:.*]]: tensor<1x4xi64> {tfm.name = "input_ids"}, %[[POSITION:.*]]: tensor<1xi64> {tfm.host, tfm.name = "position"}, %[[LENGTH:.*]]: tensor<1xi64> {tfm.host, tfm.name = "length"})
// CHECK-SAME: -> (tensor<1x1x32xf32> {tfm.name = "logits"})
// CHECK-SAME: llvm.emit_c_interface
// CHECK: %[[START:.*]] = tensor.extract %[[POSITION]][%{{.*}}] : tensor<1xi64>
// CHECK: tfm.positions like %[[IDS]] from %[[START]] : tensor<1x4xi64>
// CHECK: tfm.cached_attention %{{.*}}, %{{.*}}, %{{.*}}, %[[CACHE]] from %[[START]] {capacity = 64 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, v_offset = 4096 : i64} : tensor<1x4x16xf32>
// The LM head sees only the last valid token's row.
// CHECK: %[[N:.*]] = tensor.extract %[[LENGTH]]
// CHECK: %[[LAST:.*]] = arith.subi %[[N]], %{{.*}} : i64
// CHECK: %[[ROW:.*]] = arith.index_cast %[[LAST]]
// CHECK: %[[X:.*]] = tensor.extract_slice %{{.*}}[0, %[[ROW]], 0] [1, 1, 16] [1, 1, 1] : tensor<1x4x16xf32> to tensor<1x1x16xf32>
// CHECK: %[[LOGITS:.*]] = tfm.linear %[[X]], %{{.*}} : tensor<1x1x16xf32>, tensor<32x16xf32>
// CHECK: return %[[LOGITS]] : tensor<1x1x32xf32>

// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%{{.*}}: memref<?xi8> {tfm.name = "cache"}, %{{.*}}: tensor<1x1xi64> {tfm.name = "input_ids"}, %{{.*}}: tensor<1xi64> {tfm.host, tfm.name = "position"})
// CHECK-SAME: -> (tensor<1x1x32xf32> {tfm.name = "logits"})
// CHECK: tfm.cached_attention {{.*}} {capacity = 64 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, v_offset = 4096 : i64} : tensor<1x1x16xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK-NOT: func.func @forward

// int8: 16 positions x (16 values + 2 heads x 4 scale bytes) = 384 bytes.
// INT8: tmc.decode = {bytes_per_token = 48 : i64, cache_bytes = 768 : i64, cache_type = "int8", chunk = 4 : i64, max_tokens = 16 : i64
// INT8: tfm.cached_attention {{.*}} {cache_bits = 8 : i64, capacity = 16 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, v_offset = 384 : i64}

// A window of 6, a chunk of 4 and 2 sinks: 2 + 6 + 4 - 1 = 11 rows; with a
// window in every layer the cache bounds nothing but the position table.
// RING: tmc.decode = {{{.*}}cache_type = "int8", chunk = 4 : i64, max_tokens = 64 : i64, sinks = 2 : i64, vocab = 32 : i64, window = 6 : i64}
// RING: tfm.cached_attention {{.*}} {cache_bits = 8 : i64, capacity = 11 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, sinks = 2 : i64, v_offset = 320 : i64, window = 6 : i64}
func.func @forward(%ids: tensor<1x?xi64> {tfm.name = "input_ids"}) -> (tensor<1x?x32xf32> {tfm.name = "logits"}) attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %wpe = tfm.param "wpe" : tensor<64x16xf32>
  %pos = tfm.positions like %ids : tensor<1x?xi64>
  %e = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x?xi64>
  %p = tfm.embedding %wpe[%pos] : tensor<64x16xf32>, tensor<1x?xi64>
  %x = tfm.add %e, %p : tensor<1x?x16xf32>
  %w = tfm.param "qkv" : tensor<48x16xf32>
  %qkv = tfm.linear %x, %w : tensor<1x?x16xf32>, tensor<48x16xf32>
  %q, %k, %v = tfm.split %qkv [16, 16, 16] : tensor<1x?x48xf32>
  %o = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 2, causal} : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %y = tfm.add %x, %o : tensor<1x?x16xf32>
  %l = tfm.linear %y, %wte : tensor<1x?x16xf32>, tensor<32x16xf32>
  return %l : tensor<1x?x32xf32>
}
}
