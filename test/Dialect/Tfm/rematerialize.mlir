// Rematerialization decisions on a chain of four identical layers whose
// optimal schedules are known by hand. Per layer (S = 8, d = 16, ffn 64, f32):
// the backward reads l1 (2048 B) and relu(l1) (2048 B); the layer's output
// (512 B) is read by the next layer's weight gradient. Storing a layer keeps
// 4608 B, storing it with the relu recomputed keeps 2560 B (4096 flops), and
// recomputing it keeps its 512 B output (36992 flops). A layer's backward
// needs its 4608 B plus two gradients of 2048 B: 8704 B beyond what earlier
// layers keep. So the estimated peak of a schedule is 8704 B plus what the
// first three layers keep:
// - 22528 = 8704 + 3 x 4608: store everything;
// - 16384 = 8704 + 3 x 2560: the cheapest fit recomputes the relu of the
//   first three layers (12288 flops); storing any of them whole leaves
//   4608 + 2560 + 512 at best, which recomputes a whole layer;
// - 10240 = 8704 + 3 x 512: the first three layers are recomputed, the last is
//   stored (per-block checkpointing would recompute it too);
// - below 10240 nothing fits: the error names 10240.

// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=optimal budget=22528})" | FileCheck %s --check-prefix=ALL-STORED
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=optimal budget=16384})" | FileCheck %s --check-prefix=SELECTIVE
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=optimal budget=10240})" | FileCheck %s --check-prefix=TIGHT
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=all})" | FileCheck %s --check-prefix=EVERY
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=sqrt})" | FileCheck %s --check-prefix=SQRT
// RUN: not tmc-opt %s --pass-pipeline="builtin.module(func.func(tfm-inline-layers{tag=true}),tfm-autodiff,tfm-rematerialize{mode=optimal budget=10239})" 2>&1 | FileCheck %s --check-prefix=INFEASIBLE

// ALL-STORED: estimated_peak_bytes = 22528
// ALL-STORED-SAME: layers = [{decision = "store", index = 0 {{.*}}}, {decision = "store", index = 1 {{.*}}}, {decision = "store", index = 2 {{.*}}}, {decision = "store", index = 3
// ALL-STORED-SAME: recompute_flops = 0
// ALL-STORED-NOT: tfm.recompute

// SELECTIVE: estimated_peak_bytes = 16384
// SELECTIVE-SAME: layers = [{decision = "store-selective", index = 0 {{.*}}}, {decision = "store-selective", index = 1 {{.*}}}, {decision = "store-selective", index = 2 {{.*}}}, {decision = "store", index = 3
// SELECTIVE-SAME: recompute_flops = 12288
// Only the relu is cloned, right before its layer's backward, from the stored
// l1; the weight gradient of fc2 reads the clone.
// SELECTIVE: %[[L1:.*]] = tfm.linear %{{.*}}, %h.2.fc1 {tfm.layer_index = 2 : i64}
// SELECTIVE: %[[R:.*]] = tfm.activation relu %[[L1]] {tfm.layer_index = 2 : i64, tfm.recompute}
// SELECTIVE-NEXT: tfm.linear %{{.*}}, %h.2.fc2 {layout = #tfm<layout in_out>, tfm.layer_index = 2 : i64}
// SELECTIVE-NEXT: tfm.linear_weight_grad %[[R]], %{{.*}} {tfm.layer_index = 2 : i64}

// TIGHT: estimated_peak_bytes = 10240
// TIGHT-SAME: layers = [{decision = "recompute", index = 0 {{.*}}}, {decision = "recompute", index = 1 {{.*}}}, {decision = "recompute", index = 2 {{.*}}}, {decision = "store", index = 3
// TIGHT-SAME: recompute_flops = 110976

// EVERY: layers = [{decision = "recompute", index = 0 {{.*}}}, {decision = "recompute", index = 1 {{.*}}}, {decision = "recompute", index = 2 {{.*}}}, {decision = "recompute", index = 3
// EVERY-SAME: recompute_flops = 147968
// Layer 3 is recomputed from its input, the output of layer 2, before its
// backward: the clones of fc1 and the relu, not of fc2 or the residual sum,
// whose values no backward op reads.
// EVERY: tfm.loss_grad mse
// EVERY: %[[C1:.*]] = tfm.linear %[[Y2:.*]], %h.3.fc1 {tfm.layer_index = 3 : i64, tfm.recompute}
// EVERY-NEXT: %[[C2:.*]] = tfm.activation relu %[[C1]] {tfm.layer_index = 3 : i64, tfm.recompute}
// EVERY-NEXT: tfm.linear %{{.*}}, %h.3.fc2 {layout = #tfm<layout in_out>, tfm.layer_index = 3 : i64}
// EVERY-NEXT: tfm.linear_weight_grad %[[C2]]
// EVERY-NEXT: tfm.activation_grad relu %[[C1]]

// Two segments of two layers: each recomputes both its layers at once.
// SQRT: layers = [{decision = "recompute", index = 0 : i64, {{.*}}segment = [0, 1]}, {decision = "recompute", index = 1 : i64, {{.*}}segment = [0, 1]}, {decision = "recompute", index = 2 : i64, {{.*}}segment = [2, 3]}, {decision = "recompute", index = 3 : i64, {{.*}}segment = [2, 3]}]

// INFEASIBLE: error: no rematerialization schedule fits the activation budget of 10239 bytes: the smallest estimated peak is 102{{[0-9][0-9]}} bytes

module attributes {tfm.weights_file = "chain.safetensors"} {
func.func @forward(%x: tensor<1x8x16xf32> {tfm.name = "x"}) -> (tensor<1x8x16xf32> {tfm.name = "y"}) {
  %y0 = tfm.layer "h.0" index 0 (%x) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%a: tensor<1x8x16xf32>):
    %w1 = tfm.param "h.0.fc1" : tensor<64x16xf32>
    %w2 = tfm.param "h.0.fc2" : tensor<16x64xf32>
    %l1 = tfm.linear %a, %w1 : tensor<1x8x16xf32>, tensor<64x16xf32>
    %r = tfm.activation relu %l1 : tensor<1x8x64xf32>
    %l2 = tfm.linear %r, %w2 : tensor<1x8x64xf32>, tensor<16x64xf32>
    %s = tfm.add %a, %l2 : tensor<1x8x16xf32>
    tfm.yield %s : tensor<1x8x16xf32>
  }
  %y1 = tfm.layer "h.1" index 1 (%y0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%a: tensor<1x8x16xf32>):
    %w1 = tfm.param "h.1.fc1" : tensor<64x16xf32>
    %w2 = tfm.param "h.1.fc2" : tensor<16x64xf32>
    %l1 = tfm.linear %a, %w1 : tensor<1x8x16xf32>, tensor<64x16xf32>
    %r = tfm.activation relu %l1 : tensor<1x8x64xf32>
    %l2 = tfm.linear %r, %w2 : tensor<1x8x64xf32>, tensor<16x64xf32>
    %s = tfm.add %a, %l2 : tensor<1x8x16xf32>
    tfm.yield %s : tensor<1x8x16xf32>
  }
  %y2 = tfm.layer "h.2" index 2 (%y1) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%a: tensor<1x8x16xf32>):
    %w1 = tfm.param "h.2.fc1" : tensor<64x16xf32>
    %w2 = tfm.param "h.2.fc2" : tensor<16x64xf32>
    %l1 = tfm.linear %a, %w1 : tensor<1x8x16xf32>, tensor<64x16xf32>
    %r = tfm.activation relu %l1 : tensor<1x8x64xf32>
    %l2 = tfm.linear %r, %w2 : tensor<1x8x64xf32>, tensor<16x64xf32>
    %s = tfm.add %a, %l2 : tensor<1x8x16xf32>
    tfm.yield %s : tensor<1x8x16xf32>
  }
  %y3 = tfm.layer "h.3" index 3 (%y2) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%a: tensor<1x8x16xf32>):
    %w1 = tfm.param "h.3.fc1" : tensor<64x16xf32>
    %w2 = tfm.param "h.3.fc2" : tensor<16x64xf32>
    %l1 = tfm.linear %a, %w1 : tensor<1x8x16xf32>, tensor<64x16xf32>
    %r = tfm.activation relu %l1 : tensor<1x8x64xf32>
    %l2 = tfm.linear %r, %w2 : tensor<1x8x64xf32>, tensor<16x64xf32>
    %s = tfm.add %a, %l2 : tensor<1x8x16xf32>
    tfm.yield %s : tensor<1x8x16xf32>
  }
  return %y3 : tensor<1x8x16xf32>
}
}
