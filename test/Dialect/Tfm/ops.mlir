// RUN: tmc-opt %s | tmc-opt | FileCheck %s
// RUN: tmc-opt %s --mlir-print-op-generic | tmc-opt | FileCheck %s

// Every tfm op and attribute, printed and parsed back.

module attributes {tfm.weights_file = "weights.safetensors"} {

// CHECK-LABEL: func.func @params
func.func @params() -> (tensor<4xf32>, tensor<2x2xf32>) {
  // CHECK: %[[W:.*]] = tfm.param "external.weight" : tensor<4xf32>
  %w = tfm.param "external.weight" : tensor<4xf32>
  // CHECK: tfm.param "inline.weight" {value = dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %i = tfm.param "inline.weight" {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  return %w, %i : tensor<4xf32>, tensor<2x2xf32>
}

// CHECK-LABEL: func.func @resource_param
func.func @resource_param() -> tensor<2xf32> {
  // CHECK: tfm.param "blob" {value = dense_resource<blob> : tensor<2xf32>} : tensor<2xf32>
  %b = tfm.param "blob" {value = dense_resource<blob> : tensor<2xf32>} : tensor<2xf32>
  return %b : tensor<2xf32>
}

// CHECK-LABEL: func.func @embeddings
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x?xi64>)
func.func @embeddings(%ids: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %wte = tfm.param "wte" : tensor<16x8xf32>
  %wpe = tfm.param "wpe" : tensor<32x8xf32>
  // CHECK: %[[POS:.*]] = tfm.positions like %[[IDS]] : tensor<1x?xi64>
  %pos = tfm.positions like %ids : tensor<1x?xi64>
  // CHECK: tfm.positions like %[[IDS]] {offset = 3 : i64, stride = 0 : i64} : tensor<1x?xi64>
  %type = tfm.positions like %ids {offset = 3, stride = 0} : tensor<1x?xi64>
  // CHECK: %[[E:.*]] = tfm.embedding %{{.*}}[%[[IDS]]] : tensor<16x8xf32>, tensor<1x?xi64>
  %e = tfm.embedding %wte[%ids] : tensor<16x8xf32>, tensor<1x?xi64>
  // CHECK: %[[P:.*]] = tfm.embedding %{{.*}}[%[[POS]]] : tensor<32x8xf32>, tensor<1x?xi64>
  %p = tfm.embedding %wpe[%pos] : tensor<32x8xf32>, tensor<1x?xi64>
  // CHECK: tfm.add %[[E]], %[[P]] : tensor<1x?x8xf32>
  %x = tfm.add %e, %p : tensor<1x?x8xf32>
  return %x : tensor<1x?x8xf32>
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<1x4x8xf32>) -> (tensor<1x4x24xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  %w = tfm.param "w" : tensor<8x24xf32>
  %b = tfm.param "b" : tensor<24xf32>
  %v = tfm.param "v" : tensor<16x8xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} {layout = #tfm<layout in_out>} : tensor<1x4x8xf32>, tensor<8x24xf32>, tensor<24xf32>
  %y = tfm.linear %x, %w, %b {layout = #tfm<layout in_out>} : tensor<1x4x8xf32>, tensor<8x24xf32>, tensor<24xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xf32>
  %z = tfm.linear %x, %v : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} {prune = #tfm.prune<kind = two_four, sparsity = 5.000000e-01>, quant = #tfm.quant<kind = int4, group_size = 128, symmetric = false, scale_type = f16>}
  %q = tfm.linear %x, %v {quant = #tfm.quant<kind = int4, group_size = 128, symmetric = false, scale_type = f16>, prune = #tfm.prune<kind = two_four, sparsity = 0.5>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y, %z, %q : tensor<1x4x24xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// CHECK-LABEL: func.func @quantized_linear
func.func @quantized_linear(%x: tensor<1x4x64xf32>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: %[[V:.*]] = tfm.param "fc.weight:int4:values" {part = "values", quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>, source = "fc.weight", source_layout = #tfm<layout in_out>} : tensor<16x32xi8>
  %v = tfm.param "fc.weight:int4:values" {source = "fc.weight", quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>, part = "values", source_layout = #tfm<layout in_out>} : tensor<16x32xi8>
  %s = tfm.param "fc.weight:int4:scales" {source = "fc.weight", quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>, part = "scales"} : tensor<16x2xf16>
  %z = tfm.param "fc.weight:int4:zeros" {source = "fc.weight", quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>, part = "zeros"} : tensor<16x2xf16>
  %b = tfm.param "fc.bias" : tensor<16xf32>
  // CHECK: tfm.quantized_linear %{{.*}}, %[[V]] scales %{{.*}} zeros %{{.*}} bias %{{.*}} {quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>} : (tensor<1x4x64xf32>, tensor<16x32xi8>, tensor<16x2xf16>, tensor<16x2xf16>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %y = tfm.quantized_linear %x, %v scales %s zeros %z bias %b {quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false, scale_type = f16>} : (tensor<1x4x64xf32>, tensor<16x32xi8>, tensor<16x2xf16>, tensor<16x2xf16>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %h = tfm.param "g.weight:fp16:values" {source = "g.weight", quant = #tfm.quant<kind = fp16>, part = "values"} : tensor<16x64xf16>
  // CHECK: tfm.quantized_linear %{{.*}}, %{{.*}} {quant = #tfm.quant<kind = fp16>} : (tensor<1x4x64xf32>, tensor<16x64xf16>) -> tensor<1x4x16xf32>
  %y2 = tfm.quantized_linear %x, %h {quant = #tfm.quant<kind = fp16>} : (tensor<1x4x64xf32>, tensor<16x64xf16>) -> tensor<1x4x16xf32>
  return %y, %y2 : tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// CHECK-LABEL: func.func @quant_schemes
func.func @quant_schemes(%x: tensor<1x4x8xf32>) -> () {
  %v = tfm.param "v" : tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = int8>
  %0 = tfm.linear %x, %v {quant = #tfm.quant<kind = int8>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = w8a8>
  %1 = tfm.linear %x, %v {quant = #tfm.quant<kind = w8a8>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = int4, group_size = 32>
  %2 = tfm.linear %x, %v {quant = #tfm.quant<kind = int4, group_size = 32>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = ternary>
  %3 = tfm.linear %x, %v {quant = #tfm.quant<kind = ternary>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = binary>
  %4 = tfm.linear %x, %v {quant = #tfm.quant<kind = binary>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = fp16>
  %5 = tfm.linear %x, %v {quant = #tfm.quant<kind = fp16>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: quant = #tfm.quant<kind = bf16>
  %6 = tfm.linear %x, %v {quant = #tfm.quant<kind = bf16>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  // CHECK: prune = #tfm.prune<kind = magnitude, sparsity = 7.500000e-01>
  %7 = tfm.linear %x, %v {prune = #tfm.prune<kind = magnitude, sparsity = 0.75>} : tensor<1x4x8xf32>, tensor<16x8xf32>
  return
}

// CHECK-LABEL: func.func @norms_and_activations
func.func @norms_and_activations(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = tfm.param "g" : tensor<8xf32>
  %b = tfm.param "b" : tensor<8xf32>
  // CHECK: tfm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 2.500000e-01 : f64} : tensor<1x4x8xf32>, tensor<8xf32>
  %0 = tfm.layer_norm %x, %g, %b {epsilon = 0.25} : tensor<1x4x8xf32>, tensor<8xf32>
  // CHECK: tfm.rms_norm %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<8xf32>
  %1 = tfm.rms_norm %0, %g : tensor<1x4x8xf32>, tensor<8xf32>
  // CHECK: tfm.activation gelu_erf %{{.*}} : tensor<1x4x8xf32>
  %2 = tfm.activation gelu_erf %1 : tensor<1x4x8xf32>
  // CHECK: tfm.activation gelu_tanh
  %3 = tfm.activation gelu_tanh %2 : tensor<1x4x8xf32>
  // CHECK: tfm.activation relu
  %4 = tfm.activation relu %3 : tensor<1x4x8xf32>
  // CHECK: tfm.activation silu
  %5 = tfm.activation silu %4 : tensor<1x4x8xf32>
  // CHECK: tfm.gated_activation silu %{{.*}}, %{{.*}} : tensor<1x4x8xf32>
  %6 = tfm.gated_activation silu %5, %4 : tensor<1x4x8xf32>
  // CHECK: tfm.rope %{{.*}} {head_dim = 4 : i64, offset = 2 : i64, theta = 5.000000e+05 : f64} : tensor<1x4x8xf32>
  %7 = tfm.rope %6 {head_dim = 4, theta = 500000.0, offset = 2} : tensor<1x4x8xf32>
  return %7 : tensor<1x4x8xf32>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x16xf32>) -> tensor<1x?x64xf32> {
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 8 : i64, num_kv_heads = 2 : i64} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %0 = tfm.attention %q, %kv, %kv {num_heads = 8, num_kv_heads = 2} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  // CHECK: {causal, num_heads = 8 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f64, sparsity = #tfm.window<size = 256>}
  %1 = tfm.attention %0, %kv, %kv {num_heads = 8, num_kv_heads = 2, causal, scale = 0.125, sparsity = #tfm.window<size = 256>} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  // CHECK: sparsity = #tfm.dilated_window<size = 32, dilation = 2>
  %2 = tfm.attention %1, %kv, %kv {num_heads = 8, num_kv_heads = 2, sparsity = #tfm.dilated_window<size = 32, dilation = 2>} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  // CHECK: sparsity = #tfm.strided<stride = 64, summary = 8>
  %3 = tfm.attention %2, %kv, %kv {num_heads = 8, num_kv_heads = 2, causal, sparsity = #tfm.strided<stride = 64, summary = 8>} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  // CHECK: sparsity = #tfm.block_sparse<block = 64, window = 3, global = 64, random = 1, seed = 7>
  %4 = tfm.attention %3, %kv, %kv {num_heads = 8, num_kv_heads = 2, sparsity = #tfm.block_sparse<block = 64, window = 3, global = 64, random = 1, seed = 7>} : tensor<1x?x64xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  return %4 : tensor<1x?x64xf32>
}

// CHECK-LABEL: func.func @split
func.func @split(%x: tensor<1x?x12xf32>) -> (tensor<1x?x4xf32>, tensor<1x?x8xf32>) {
  // CHECK: %[[S:.*]]:2 = tfm.split %{{.*}} [4, 8] : tensor<1x?x12xf32>
  %a, %b = tfm.split %x [4, 8] : tensor<1x?x12xf32>
  // CHECK: return %[[S]]#0, %[[S]]#1
  return %a, %b : tensor<1x?x4xf32>, tensor<1x?x8xf32>
}

// CHECK-LABEL: func.func @layer
func.func @layer(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK: %[[R:.*]] = tfm.layer "h.0" index 0(%{{.*}}) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x4x8xf32>):
  // CHECK: tfm.param "h.0.ln.weight"
  // CHECK: tfm.yield %{{.*}} : tensor<1x4x8xf32>
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %g = tfm.param "h.0.ln.weight" : tensor<8xf32>
    %n = tfm.rms_norm %a, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %s = tfm.add %a, %n : tensor<1x4x8xf32>
    tfm.yield %s : tensor<1x4x8xf32>
  }
  // CHECK: return %[[R]]
  return %r : tensor<1x4x8xf32>
}

}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F00000040"
    }
  }
#-}

// CHECK-LABEL: func.func @decode_step
// CHECK: tfm.positions like %{{.*}} from %{{.*}} : tensor<1x1xi64>
// CHECK: tfm.rope %{{.*}} from %{{.*}} {head_dim = 32 : i64} : tensor<1x1x64xf32>
// CHECK: tfm.cached_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} from %{{.*}} {cache_bits = 8 : i64, capacity = 11 : i64, k_offset = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, sinks = 2 : i64, v_offset = 1024 : i64, window = 8 : i64} : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, memref<?xi8>
func.func @decode_step(%ids: tensor<1x1xi64>, %q: tensor<1x1x64xf32>, %k: tensor<1x1x32xf32>, %cache: memref<?xi8>, %start: i64) -> (tensor<1x1xi64>, tensor<1x1x64xf32>) {
  %pos = tfm.positions like %ids from %start : tensor<1x1xi64>
  %r = tfm.rope %q from %start {head_dim = 32} : tensor<1x1x64xf32>
  %o = tfm.cached_attention %r, %k, %k, %cache from %start {num_heads = 2, num_kv_heads = 1, k_offset = 0, v_offset = 1024, capacity = 11, window = 8, sinks = 2, cache_bits = 8} : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, memref<?xi8>
  return %pos, %o : tensor<1x1xi64>, tensor<1x1x64xf32>
}

// CHECK-LABEL: func.func @quantized_lookup
// CHECK: tfm.quantized_embedding %{{.*}}[%{{.*}}] scales %{{.*}} zeros %{{.*}} {quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false>} : (tensor<96x32xi8>, tensor<1x4xi64>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<1x4x64xf32>
func.func @quantized_lookup(%v: tensor<96x32xi8>, %ids: tensor<1x4xi64>, %s: tensor<96x2xf32>) -> tensor<1x4x64xf32> {
  %e = tfm.quantized_embedding %v[%ids] scales %s zeros %s {quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false>} : (tensor<96x32xi8>, tensor<1x4xi64>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<1x4x64xf32>
  return %e : tensor<1x4x64xf32>
}

// CHECK-LABEL: func.func @lazy_norms
// CHECK: tfm.lazy_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : memref<1x4x64xf32>, memref<64xf32>, memref<64xf32> -> memref<1x4x64xf32>
// CHECK: tfm.lazy_norm %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : memref<1x4x64xf32>, memref<64xf32> -> memref<1x4x64xf32>
func.func @lazy_norms(%x: memref<1x4x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>) -> (memref<1x4x64xf32>, memref<1x4x64xf32>) {
  %0 = tfm.lazy_norm %x, %g, %b {epsilon = 1.0e-5} : memref<1x4x64xf32>, memref<64xf32>, memref<64xf32> -> memref<1x4x64xf32>
  %1 = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<1x4x64xf32>, memref<64xf32> -> memref<1x4x64xf32>
  return %0, %1 : memref<1x4x64xf32>, memref<1x4x64xf32>
}

// CHECK-LABEL: func.func @fused_norms
// CHECK: tfm.fused_norm %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} {epsilon = 1.000000e-05 : f64} : memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x4x64xf32>, memref<64xf32>, memref<64xf32>
// CHECK: tfm.fused_norm %{{.*}}, %{{.*}} into %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x4x64xf32>, memref<64xf32>
func.func @fused_norms(%x: memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, %g: memref<64xf32>, %b: memref<64xf32>, %o: memref<1x4x64xf32>) {
  tfm.fused_norm %x, %g, %b into %o {epsilon = 1.0e-5} : memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x4x64xf32>, memref<64xf32>, memref<64xf32>
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x4x64xf32>, memref<64xf32>
  return
}

// CHECK-LABEL: func.func @fused_attention
// CHECK: tfm.fused_attention %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} {block_k = 32 : i64, block_q = 16 : i64, causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64, sparsity = #tfm.window<size = 8>} : memref<1x40x64xf32>, memref<1x40x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x40x32xf32>, memref<1x40x64xf32>
func.func @fused_attention(%q: memref<1x40x64xf32>, %k: memref<1x40x32xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x40x32xf32>, %o: memref<1x40x64xf32>) {
  tfm.fused_attention %q, %k, %v into %o {num_heads = 4, num_kv_heads = 2, scale = 0.25, block_q = 16, block_k = 32, causal, sparsity = #tfm.window<size = 8>} : memref<1x40x64xf32>, memref<1x40x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x40x32xf32>, memref<1x40x64xf32>
  return
}
