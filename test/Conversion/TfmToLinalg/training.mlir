// RUN: tmc-opt %s --convert-tfm-to-linalg | FileCheck %s --implicit-check-not=tfm.

// The weight gradient is one matmul reading dy transposed, (k, m), over the
// collapsed rows: dW[n, k] = sum_t dy[t, n] x[t, k]; the bias gradient a
// column sum of dy.
// CHECK-DAG: #[[KM:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>

// The attention kernel's declaration: seven strided buffers, then batch,
// num_heads, num_kv_heads, causal, window and scale.
// CHECK: func.func private @tmc_rt_attention_grad(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64, i64, f32) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @weight_grad_out_in
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x16xf32>, %[[DY:.*]]: tensor<1x8x32xf32>)
// CHECK-DAG: %[[XF:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<1x8x16xf32> into tensor<8x16xf32>
// CHECK-DAG: %[[DYF:.*]] = tensor.collapse_shape %[[DY]] {{\[}}[0, 1], [2]] : tensor<1x8x32xf32> into tensor<8x32xf32>
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<32x16xf32>
// CHECK: %[[DW:.*]] = linalg.matmul indexing_maps = [#[[KM]], #[[KN]], #[[MN]]] ins(%[[DYF]], %[[XF]] : tensor<8x32xf32>, tensor<8x16xf32>) outs(%[[ZERO]] : tensor<32x16xf32>)
// CHECK: %[[DB:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[COL]]], iterator_types = ["reduction", "parallel"]} ins(%[[DYF]] : tensor<8x32xf32>)
// CHECK: return %[[DW]], %[[DB]]
func.func @weight_grad_out_in(%x: tensor<1x8x16xf32>, %dy: tensor<1x8x32xf32>) -> (tensor<32x16xf32>, tensor<32xf32>) {
  %w, %b = tfm.linear_weight_grad %x, %dy : tensor<1x8x16xf32>, tensor<1x8x32xf32> -> tensor<32x16xf32>, tensor<32xf32>
  return %w, %b : tensor<32x16xf32>, tensor<32xf32>
}

// in_out swaps the operands: dW[k, n] = sum_t x[t, k] dy[t, n].
// CHECK-LABEL: func.func @weight_grad_in_out
// CHECK: linalg.matmul indexing_maps = [#[[KM]], #[[KN]], #[[MN]]] ins(%{{.*}}, %{{.*}} : tensor<8x16xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<16x32xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @weight_grad_in_out(%x: tensor<1x8x16xf32>, %dy: tensor<1x8x32xf32>) -> tensor<16x32xf32> {
  %w = tfm.linear_weight_grad %x, %dy {layout = #tfm<layout in_out>} : tensor<1x8x16xf32>, tensor<1x8x32xf32> -> tensor<16x32xf32>
  return %w : tensor<16x32xf32>
}

// Cross entropy: the row maximum, the sum of exp(p - max), the log-sum-exp,
// then one reduction of every row into a scalar, reading p at the clamped
// target id and dropping ids outside [0, C).
// CHECK-LABEL: func.func @cross_entropy
// CHECK-SAME: (%[[P:.*]]: tensor<1x8x10xf32>, %[[T:.*]]: tensor<1x8xi32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<1x8x10xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK: math.log
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[T]], %{{.*}} : tensor<1x8xi32>, tensor<1x8xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %[[P]]
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: %[[L:.*]] = tensor.expand_shape %[[SUM]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// The gradient: softmax minus the one-hot target, over T.
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[P]], %[[T]], %{{.*}} : tensor<1x8x10xf32>, tensor<1x8xi32>, tensor<1x8xf32>)
// CHECK: math.exp
// CHECK: linalg.index 2
// CHECK: arith.cmpi eq
// CHECK: arith.constant 1.250000e-01
// CHECK: return %[[L]]
func.func @cross_entropy(%p: tensor<1x8x10xf32>, %t: tensor<1x8xi32>) -> (tensor<1xf32>, tensor<1x8x10xf32>) {
  %l = tfm.loss cross_entropy %p, %t : tensor<1x8x10xf32>, tensor<1x8xi32> -> tensor<1xf32>
  %g = tfm.loss_grad cross_entropy %p, %t : tensor<1x8x10xf32>, tensor<1x8xi32>
  return %l, %g : tensor<1xf32>, tensor<1x8x10xf32>
}

// kl_div divides both rows by the temperature before their log-sum-exps;
// the loss is scaled by tau^2 / T, the gradient by tau / T.
// CHECK-LABEL: func.func @kl_div
// CHECK-COUNT-2: arith.constant 2.500000e-01 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]}
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: tensor.expand_shape
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.constant 5.000000e-01 : f32
func.func @kl_div(%p: tensor<1x8x10xf32>, %q: tensor<1x8x10xf32>) -> (tensor<1xf32>, tensor<1x8x10xf32>) {
  %l = tfm.loss kl_div %p, %q {temperature = 4.0} : tensor<1x8x10xf32>, tensor<1x8x10xf32> -> tensor<1xf32>
  %g = tfm.loss_grad kl_div %p, %q {temperature = 4.0} : tensor<1x8x10xf32>, tensor<1x8x10xf32>
  return %l, %g : tensor<1xf32>, tensor<1x8x10xf32>
}

// mse: one reduction of (p - t)^2 / numel; the gradient 2 (p - t) / numel.
// CHECK-LABEL: func.func @mse
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]}
// CHECK: arith.constant 2.500000e-02 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.constant 5.000000e-02 : f32
func.func @mse(%p: tensor<1x4x10xf32>, %q: tensor<1x4x10xf32>) -> (tensor<1xf32>, tensor<1x4x10xf32>) {
  %l = tfm.loss mse %p, %q : tensor<1x4x10xf32>, tensor<1x4x10xf32> -> tensor<1xf32>
  %g = tfm.loss_grad mse %p, %q : tensor<1x4x10xf32>, tensor<1x4x10xf32>
  return %l, %g : tensor<1xf32>, tensor<1x4x10xf32>
}

// Layer norm: row statistics, sum(g) and sum(g xhat) per row, dx
// elementwise, then dgamma and dbeta in one column reduction with two
// outputs.
// CHECK-LABEL: func.func @layer_norm_grad
// CHECK-COUNT-4: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: %[[DX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: %[[P:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "parallel"]} {{.*}} outs(%{{.*}}, %{{.*}} : tensor<16xf32>, tensor<16xf32>)
// CHECK: return %[[DX]], %[[P]]#0, %[[P]]#1
func.func @layer_norm_grad(%x: tensor<1x8x16xf32>, %g: tensor<16xf32>, %dy: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %dx, %dg, %db = tfm.layer_norm_grad %x, %g, %dy : tensor<1x8x16xf32>, tensor<16xf32>
  return %dx, %dg, %db : tensor<1x8x16xf32>, tensor<16xf32>, tensor<16xf32>
}

// CHECK-LABEL: func.func @rms_norm_grad
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: math.sqrt
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: %[[DX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: %[[DG:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "parallel"]}
// CHECK: return %[[DX]], %[[DG]]
func.func @rms_norm_grad(%x: tensor<1x8x16xf32>, %g: tensor<16xf32>, %dy: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<16xf32>) {
  %dx, %dg = tfm.rms_norm_grad %x, %g, %dy : tensor<1x8x16xf32>, tensor<16xf32>
  return %dx, %dg : tensor<1x8x16xf32>, tensor<16xf32>
}

// Activation gradients are elementwise; relu's derivative is 1 only for
// x > 0; the gated form has two outputs.
// CHECK-LABEL: func.func @activations
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: math.tanh
// CHECK: %{{.*}}:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: math.erf
func.func @activations(%x: tensor<1x8x16xf32>, %u: tensor<1x8x16xf32>, %dy: tensor<1x8x16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %a = tfm.activation_grad relu %x, %dy : tensor<1x8x16xf32>
  %b = tfm.activation_grad gelu_tanh %x, %dy : tensor<1x8x16xf32>
  %c, %d = tfm.gated_activation_grad gelu_erf %x, %u, %dy : tensor<1x8x16xf32>
  return %a, %b, %c, %d : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

// Attention's backward is a call of the runtime kernel on [batch * seq,
// features] views; nothing of seq x seq (here 64 x 64) is created.
// CHECK-LABEL: func.func @attention_grad
// CHECK-NOT: 64x64
// CHECK-COUNT-4: bufferization.to_buffer %{{.*}} read_only
// CHECK: %[[DQ:.*]] = memref.alloc() : memref<192x32xf32>
// CHECK: %[[DK:.*]] = memref.alloc() : memref<192x16xf32>
// CHECK: %[[DV:.*]] = memref.alloc() : memref<192x16xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[H:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[KVH:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[CAUSAL:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[W:.*]] = arith.constant 5 : i64
// CHECK-DAG: %[[S:.*]] = arith.constant 0.353553385 : f32
// CHECK: call @tmc_rt_attention_grad(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[B]], %[[H]], %[[KVH]], %[[CAUSAL]], %[[W]], %[[S]])
// CHECK: bufferization.to_tensor %[[DQ]] restrict writable
// CHECK: bufferization.to_tensor %[[DK]] restrict writable
// CHECK: bufferization.to_tensor %[[DV]] restrict writable
// CHECK-NOT: 64x64
// CHECK: return
func.func @attention_grad(%q: tensor<3x64x32xf32>, %k: tensor<3x64x16xf32>, %v: tensor<3x64x16xf32>, %do: tensor<3x64x32xf32>) -> (tensor<3x64x32xf32>, tensor<3x64x16xf32>, tensor<3x64x16xf32>) {
  %dq, %dk, %dv = tfm.attention_grad %q, %k, %v, %do {num_heads = 4, num_kv_heads = 2, causal, sparsity = #tfm.window<size = 5>} : tensor<3x64x32xf32>, tensor<3x64x16xf32>, tensor<3x64x16xf32>
  return %dq, %dk, %dv : tensor<3x64x32xf32>, tensor<3x64x16xf32>, tensor<3x64x16xf32>
}

// The embedding gradient: a loop over the tokens, skipping ids outside the
// table, adding each gradient row into a zero-filled table.
// CHECK-LABEL: func.func @embedding_grad
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<50x16xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[ZERO]])
// CHECK: tensor.extract %{{.*}} : tensor<8xi64>
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: scf.if
// CHECK: scf.for
// CHECK: tensor.insert
// CHECK: } else {
func.func @embedding_grad(%ids: tensor<1x8xi64>, %dy: tensor<1x8x16xf32>) -> tensor<50x16xf32> {
  %t = tfm.embedding_grad %ids, %dy : tensor<1x8xi64>, tensor<1x8x16xf32> -> tensor<50x16xf32>
  return %t : tensor<50x16xf32>
}

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<1x8x4xf32>, %[[B:.*]]: tensor<1x8x16xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x8x20xf32>
// CHECK: %[[I:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0] [1, 8, 4] [1, 1, 1]
// CHECK: %[[R:.*]] = tensor.insert_slice %[[B]] into %[[I]][0, 0, 4] [1, 8, 16] [1, 1, 1]
// CHECK: return %[[R]]
func.func @concat(%a: tensor<1x8x4xf32>, %b: tensor<1x8x16xf32>) -> tensor<1x8x20xf32> {
  %c = tfm.concat %a, %b : tensor<1x8x4xf32>, tensor<1x8x16xf32> -> tensor<1x8x20xf32>
  return %c : tensor<1x8x20xf32>
}
