// RUN: tmc-opt %s --split-input-file --tmc-gpu-fused-attention -verify-diagnostics
// RUN: not tmc-opt %s --tmc-gpu-fused-attention=threads=2000 2>&1 | FileCheck %s --check-prefix=THREADS

// THREADS: tmc-gpu-fused-attention: threads must be in [0, 1024] (0: one per query of the tile), got 2000

func.func @too_many_queries(%q: memref<1x2048x64xf32>, %o: memref<1x2048x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op has 2048 queries per tile: one thread each would exceed 1024 threads per block; use smaller tiles or set the kernel's threads}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 1, num_kv_heads = 1, scale = 0.125, block_q = 2048, block_k = 64} : memref<1x2048x64xf32>, memref<1x2048x64xf32>, memref<1x2048x64xf32>, memref<1x2048x64xf32>
  return
}
