// RUN: tmc-opt %s --tfm-linformer=k=8 2>&1 | FileCheck %s
// RUN: tmc-opt %s --tfm-linformer=k=8 --tfm-inline-layers --tfm-bind-weights --convert-tfm-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: tmc-opt %s --tfm-sparsify-attention="pattern=window:4" --tfm-linformer=k=8 2>&1 | FileCheck %s --check-prefix=SPARSE
// RUN: tmc-opt %s --tfm-linformer=k=32 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not tmc-opt %s --tfm-linformer=k=-1 2>&1 | FileCheck %s --check-prefix=NEG

// CHECK: tmc.transforms = [{attention_ops = 1 : i64, k = 8 : i64, pass = "tfm-linformer", projection_bytes = 2048 : i64, score_elements_after = 1024 : i64, score_elements_before = 4096 : i64}]
// CHECK-LABEL: func.func @forward
// CHECK-DAG: %[[E:.*]] = tfm.param "h.0.linformer.E" {value = dense_resource<{{.*}}> : tensor<8x32xf32>} : tensor<8x32xf32>
// CHECK-DAG: %[[F:.*]] = tfm.param "h.0.linformer.F" {value = dense_resource<{{.*}}> : tensor<8x32xf32>} : tensor<8x32xf32>
// CHECK: tfm.linformer_attention %{{.*}}, %{{.*}}, %{{.*}} proj %[[E]], %[[F]] {num_heads = 4 : i64, num_kv_heads = 2 : i64}
// CHECK-NOT: tfm.attention

// The lowering keeps [batch, kv_heads, group, seq, k] scores: no 32 x 32.
// LOWER: tensor<1x8x8xf32>
// LOWER: tensor<1x2x2x32x8xf32>
// LOWER-NOT: 32x32

// NEG: error: tfm-linformer: k must be positive, got -1
// SPARSE: remark: left as is: the attention has a sparsity pattern
// SPARSE: tfm.attention
// SHORT: remark: left as is: 32 keys are not more than k = 32
// SHORT: tfm.attention

func.func @forward(%q: tensor<1x32x16xf32>, %k: tensor<1x32x8xf32>, %v: tensor<1x32x8xf32>) -> tensor<1x32x16xf32> {
  %o = tfm.layer "h.0" index 0 (%q, %k, %v) : (tensor<1x32x16xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> tensor<1x32x16xf32> {
  ^bb0(%a: tensor<1x32x16xf32>, %b: tensor<1x32x8xf32>, %c: tensor<1x32x8xf32>):
    %r = tfm.attention %a, %b, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>
    tfm.yield %r : tensor<1x32x16xf32>
  }
  return %o : tensor<1x32x16xf32>
}
