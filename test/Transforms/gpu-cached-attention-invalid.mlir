// RUN: tmc-opt %s --split-input-file --tmc-gpu-cached-attention -verify-diagnostics
// RUN: not tmc-opt %s --tmc-gpu-cached-attention=threads=0 2>&1 | FileCheck %s --check-prefix=THREADS

// THREADS: tmc-gpu-cached-attention: threads must be in [1, 1024], got 0

// An int8 cache of 3 rows of one head of 6 values: the keys' scales would
// start at byte 18, which a GPU cannot load an f32 from.
func.func @misaligned_scales(%q: memref<1x1x6xf32>, %c: memref<?xi8>, %s: i64) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op places f32 cache data at byte 18, which is not 4-byte aligned as GPU loads need}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %q {num_heads = 1, num_kv_heads = 1, scale = 0.5, k_offset = 0, v_offset = 64, capacity = 3, window = 0, sinks = 0, cache_bits = 8} : memref<1x1x6xf32>, memref<1x1x6xf32>, memref<1x1x6xf32>, memref<?xi8>, memref<1x1x6xf32>
  return
}
