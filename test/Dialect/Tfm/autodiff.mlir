// RUN: tmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff)" | FileCheck %s
// RUN: tmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff{loss=kl_div:2})" | FileCheck %s --check-prefix=KL

// A tied embedding and LM head: the table gets one gradient, the sum of the
// head's weight gradient and the embedding's scatter-add. Every backward op
// keeps its forward op's layer.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x8xi64> {tfm.name = "input_ids"}, %[[LABELS:.*]]: tensor<1x8xi64> {tfm.name = "labels"})
// CHECK-SAME: -> (tensor<1xf32> {tfm.name = "loss"}, tensor<32x16xf32> {tfm.name = "grad.wte"}, tensor<16xf32> {tfm.name = "grad.h.0.ln.weight"}, tensor<16xf32> {tfm.name = "grad.h.0.ln.bias"}, tensor<16x48xf32> {tfm.name = "grad.h.0.qkv.weight"}, tensor<48xf32> {tfm.name = "grad.h.0.qkv.bias"})
// CHECK: %[[EMB:.*]] = tfm.embedding %[[WTE:.*]][%[[IDS]]]
// CHECK: %[[LN:.*]] = tfm.layer_norm %[[EMB]], {{.*}} {tfm.layer_index = 0 : i64}
// CHECK: %[[QKV:.*]] = tfm.linear %[[LN]], {{.*}} {layout = #tfm<layout in_out>, tfm.layer_index = 0 : i64}
// CHECK: %[[S:.*]]:3 = tfm.split %[[QKV]] [16, 16, 16] {tfm.layer_index = 0 : i64}
// CHECK: %[[ATT:.*]] = tfm.attention %[[S]]#0, %[[S]]#1, %[[S]]#2 {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64, tfm.layer_index = 0 : i64}
// CHECK: %[[RES:.*]] = tfm.add %[[EMB]], %[[ATT]] {tfm.layer_index = 0 : i64}
// CHECK: %[[LOGITS:.*]] = tfm.linear %[[RES]], %[[WTE]] :
// CHECK: %[[LOSS:.*]] = tfm.loss cross_entropy %[[LOGITS]], %[[LABELS]]
// CHECK: %[[DLOGITS:.*]] = tfm.loss_grad cross_entropy %[[LOGITS]], %[[LABELS]]
// The head: dx = dlogits W reads the [out, in] table as [in, out].
// CHECK: %[[DRES:.*]] = tfm.linear %[[DLOGITS]], %[[WTE]] {layout = #tfm<layout in_out>}
// CHECK: %[[DHEAD:.*]] = tfm.linear_weight_grad %[[RES]], %[[DLOGITS]] : {{.*}} -> tensor<32x16xf32>
// CHECK: %[[DQKV_DX:.*]], %{{.*}}, %{{.*}} = tfm.attention_grad %[[S]]#0, %[[S]]#1, %[[S]]#2, %[[DRES]] {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64, tfm.layer_index = 0 : i64}
// CHECK: %[[DQKV:.*]] = tfm.concat %[[DQKV_DX]], {{.*}} {tfm.layer_index = 0 : i64}
// CHECK: %[[DLN:.*]] = tfm.linear %[[DQKV]], {{.*}} {tfm.layer_index = 0 : i64}
// CHECK: tfm.linear_weight_grad %[[LN]], %[[DQKV]] {layout = #tfm<layout in_out>, tfm.layer_index = 0 : i64} : {{.*}} -> tensor<16x48xf32>, tensor<48xf32>
// CHECK: %[[DEMB_LN:.*]], %{{.*}}, %{{.*}} = tfm.layer_norm_grad %[[EMB]], %{{.*}}, %[[DLN]] {tfm.layer_index = 0 : i64}
// The residual's two uses of the embedding output sum their gradients.
// CHECK: %[[DEMB:.*]] = tfm.add %[[DRES]], %[[DEMB_LN]] {tfm.layer_index = 0 : i64}
// CHECK: %[[DTABLE:.*]] = tfm.embedding_grad %[[IDS]], %[[DEMB]] : {{.*}} -> tensor<32x16xf32>
// CHECK: %[[DWTE:.*]] = tfm.add %[[DHEAD]], %[[DTABLE]]
// CHECK: return %[[LOSS]], %[[DWTE]],

// KL: %{{.*}}: tensor<1x8x32xf32> {tfm.name = "teacher_logits"}
// KL: tfm.loss kl_div %{{.*}}, %{{.*}} {temperature = 2.000000e+00 : f64}
// KL: tfm.loss_grad kl_div %{{.*}}, %{{.*}} {temperature = 2.000000e+00 : f64}
module attributes {tfm.weights_file = "m.safetensors"} {
func.func @forward(%ids: tensor<1x8xi64> {tfm.name = "input_ids"}) -> (tensor<1x8x32xf32> {tfm.name = "logits"}) {
  %wte = tfm.param "wte" : tensor<32x16xf32>
  %e = tfm.embedding %wte[%ids] : tensor<32x16xf32>, tensor<1x8xi64>
  %y = tfm.layer "h.0" index 0 (%e) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%a: tensor<1x8x16xf32>):
    %g = tfm.param "h.0.ln.weight" : tensor<16xf32>
    %b = tfm.param "h.0.ln.bias" : tensor<16xf32>
    %n = tfm.layer_norm %a, %g, %b : tensor<1x8x16xf32>, tensor<16xf32>
    %w = tfm.param "h.0.qkv.weight" : tensor<16x48xf32>
    %wb = tfm.param "h.0.qkv.bias" : tensor<48xf32>
    %qkv = tfm.linear %n, %w, %wb {layout = #tfm<layout in_out>} : tensor<1x8x16xf32>, tensor<16x48xf32>, tensor<48xf32>
    %q, %k, %v = tfm.split %qkv [16, 16, 16] : tensor<1x8x48xf32>
    %o = tfm.attention %q, %k, %v {causal, num_heads = 2, num_kv_heads = 2} : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    %r = tfm.add %a, %o : tensor<1x8x16xf32>
    tfm.yield %r : tensor<1x8x16xf32>
  }
  %logits = tfm.linear %y, %wte : tensor<1x8x16xf32>, tensor<32x16xf32>
  return %logits : tensor<1x8x32xf32>
}
}
