// RUN: tmc-opt %s --tfm-set-seq-len=seq-len=16 | FileCheck %s
// RUN: tmc-opt %s --tfm-set-seq-len=seq-len=64 | FileCheck %s --check-prefix=S64
// RUN: not tmc-opt %s --tfm-set-seq-len=seq-len=65 2>&1 | FileCheck %s --check-prefix=TOOLONG
// RUN: not tmc-opt %s --tfm-set-seq-len=seq-len=0 2>&1 | FileCheck %s --check-prefix=ZERO

module attributes {tfm.weights_file = "w.safetensors"} {
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x16xi64>{{.*}}) -> (tensor<1x16x32xf32>
// S64-LABEL: func.func @forward
// S64-SAME: -> (tensor<1x64x32xf32>
// TOOLONG: error: sequence length 65 exceeds the model's maximum of 64 positions
// ZERO: error: tfm-set-seq-len: seq-len must be positive, got 0
func.func @forward(%ids: tensor<1x?xi64> {tfm.name = "input_ids"}) -> (tensor<1x?x32xf32> {tfm.name = "logits"}) attributes {tfm.max_positions = 64 : i64} {
  %wte = tfm.param "wte" : tensor<32x8xf32>
  %wpe = tfm.param "wpe" : tensor<64x8xf32>
  // CHECK: %[[POS:.*]] = tfm.positions like %[[IDS]] : tensor<1x16xi64>
  %pos = tfm.positions like %ids : tensor<1x?xi64>
  // CHECK: tfm.embedding %{{.*}}[%[[IDS]]] : tensor<32x8xf32>, tensor<1x16xi64>
  %e = tfm.embedding %wte[%ids] : tensor<32x8xf32>, tensor<1x?xi64>
  %p = tfm.embedding %wpe[%pos] : tensor<64x8xf32>, tensor<1x?xi64>
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<1x16x8xf32>
  %x = tfm.add %e, %p : tensor<1x?x8xf32>
  // CHECK: tfm.layer "h.0" index 0(%{{.*}}) : (tensor<1x16x8xf32>) -> tensor<1x16x8xf32>
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<1x16x8xf32>):
  %y = tfm.layer "h.0" index 0 (%x) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%a: tensor<1x?x8xf32>):
    // CHECK: tfm.attention {{.*}} : tensor<1x16x8xf32>, tensor<1x16x8xf32>, tensor<1x16x8xf32>
    %o = tfm.attention %a, %a, %a {num_heads = 2, num_kv_heads = 2, causal} : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
    // CHECK: tfm.yield %{{.*}} : tensor<1x16x8xf32>
    tfm.yield %o : tensor<1x?x8xf32>
  }
  // CHECK: %[[L:.*]] = tfm.linear %{{.*}}, %{{.*}} : tensor<1x16x8xf32>, tensor<32x8xf32>
  %l = tfm.linear %y, %wte : tensor<1x?x8xf32>, tensor<32x8xf32>
  // CHECK: return %[[L]] : tensor<1x16x32xf32>
  return %l : tensor<1x?x32xf32>
}
}
