// RUN: not tmc-opt %s --tfm-linformer=k=8 2>&1 | FileCheck %s

// CHECK: linformer-causal.mlir:[[@LINE+3]]:8: error: tfm-linformer: causal attention cannot use Linformer projections: each projected key mixes every position, later ones included

func.func @causal(%q: tensor<1x32x16xf32>) -> tensor<1x32x16xf32> {
  %r = tfm.attention %q, %q, %q {causal, num_heads = 4 : i64, num_kv_heads = 4 : i64} : tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>
  return %r : tensor<1x32x16xf32>
}
