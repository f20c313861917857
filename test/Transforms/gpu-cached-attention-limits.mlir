// RUN: not tmc-opt %s --split-input-file --tmc-gpu-cached-attention=threads=1024 2>&1 | FileCheck %s
// RUN: not tmc-opt %s --split-input-file --tmc-gpu-cached-attention 2>&1 | FileCheck %s --check-prefix=PIECES

// Blocks of 1024 threads for heads of 64: the queries, scores,
// probabilities, rows and staged keys (1024 rows of 33) would take
// 147712 bytes of shared memory.
// CHECK: error: 'tfm.fused_cached_attention' op needs 147712 bytes of shared memory per attention block with 1024 threads, more than the 49152 a kernel gets: use fewer threads (cached-attention-threads)
func.func @shared_memory(%q: memref<1x1x64xf32>, %c: memref<?xi8>, %s: i64) {
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %q {num_heads = 1, num_kv_heads = 1, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32} : memref<1x1x64xf32>, memref<1x1x64xf32>, memref<1x1x64xf32>, memref<?xi8>, memref<1x1x64xf32>
  return
}

// -----

// 70000 positions in pieces of one (128 threads): more pieces than a grid
// has blocks along z.
// PIECES: error: 'tfm.fused_cached_attention' op splits 70000 positions into pieces of 1, more than the 65535 blocks a grid has along z: use longer pieces (--gpu-decode-split)
func.func @pieces(%q: memref<1x1x16xf32>, %c: memref<?xi8>, %s: i64, %scratch: memref<1x1x70000x18xf32>) {
  tfm.fused_cached_attention %q, %q, %q, %c from %s split by %scratch : memref<1x1x70000x18xf32> into %q {num_heads = 1, num_kv_heads = 1, scale = 0.25, k_offset = 0, v_offset = 4480000, capacity = 70000, window = 0, sinks = 0, cache_bits = 32, split = 1} : memref<1x1x16xf32>, memref<1x1x16xf32>, memref<1x1x16xf32>, memref<?xi8>, memref<1x1x16xf32>
  return
}
