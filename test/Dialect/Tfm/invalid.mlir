// RUN: tmc-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// One case for every verifier message of the tfm dialect.

//===----------------------------------------------------------------------===//
// tfm.param
//===----------------------------------------------------------------------===//

func.func @param_no_weights_file() -> tensor<4xf32> {
  // expected-error @+1 {{parameter 'w' has no inline value and the enclosing module names no weights file ('tfm.weights_file' attribute)}}
  %w = tfm.param "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @param_value_type() -> tensor<4xf32> {
  // expected-error @+1 {{inline value of type 'tensor<2xf32>' does not match the parameter type 'tensor<4xf32>'}}
  %w = tfm.param "w" {value = dense<1.0> : tensor<2xf32>} : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @param_empty_name() -> tensor<2xf32> {
  // expected-error @+1 {{parameter name must not be empty}}
  %w = tfm.param "" {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  return %w : tensor<2xf32>
}

// -----

func.func @param_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{result #0 must be statically shaped tensor of any type values}}
  %w = "tfm.param"() {name = "w"} : () -> tensor<?xf32>
  return %w : tensor<?xf32>
}

// -----

func.func @param_derived_incomplete() -> tensor<4x4xi8> {
  // expected-error @+1 {{a derived parameter needs 'quant' or 'prune', 'part' and 'source'}}
  %w = tfm.param "w:int8:values" {value = dense<1.0> : tensor<4x4xf32>, quant = #tfm.quant<kind = int8>} : tensor<4x4xi8>
  return %w : tensor<4x4xi8>
}

// -----

func.func @param_derived_part() -> tensor<4x4xi8> {
  // expected-error @+1 {{part must be 'values', 'scales', 'zeros' or 'indices', got 'bias'}}
  %w = tfm.param "w:int8:bias" {value = dense<1.0> : tensor<4x4xf32>, quant = #tfm.quant<kind = int8>, part = "bias", source = "w"} : tensor<4x4xi8>
  return %w : tensor<4x4xi8>
}

// -----

//===----------------------------------------------------------------------===//
// tfm.quantized_linear
//===----------------------------------------------------------------------===//

func.func @qlinear_result(%x: tensor<1x4x64xf32>, %w: tensor<16x64xi8>, %s: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{result shape 'tensor<1x5x16xf32>' does not match the input's leading dimensions 'tensor<1x4x64xf32>'}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int8>} : (tensor<1x4x64xf32>, tensor<16x64xi8>, tensor<16x1xf32>) -> tensor<1x5x16xf32>
  return
}

// -----

func.func @qlinear_dynamic(%x: tensor<1x4x?xf32>, %w: tensor<16x64xi8>, %s: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{needs static feature sizes}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int8>} : (tensor<1x4x?xf32>, tensor<16x64xi8>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_weight(%x: tensor<1x4x64xf32>, %w: tensor<16x32xi8>, %s: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{packed int8 weight must be 'tensor<16x64xi8>', got 'tensor<16x32xi8>'}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int8>} : (tensor<1x4x64xf32>, tensor<16x32xi8>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_no_scales(%x: tensor<1x4x64xf32>, %w: tensor<16x64xi8>) -> () {
  // expected-error @+1 {{scales are required by int8}}
  %y = tfm.quantized_linear %x, %w {quant = #tfm.quant<kind = int8>} : (tensor<1x4x64xf32>, tensor<16x64xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_scales(%x: tensor<1x4x64xf32>, %w: tensor<16x64xi8>, %s: tensor<16x2xf32>) -> () {
  // expected-error @+1 {{scales must be 'tensor<16x1xf32>', got 'tensor<16x2xf32>'}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int8>} : (tensor<1x4x64xf32>, tensor<16x64xi8>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_bias(%x: tensor<1x4x64xf32>, %w: tensor<16x64xi8>, %s: tensor<16x1xf32>, %b: tensor<8xf32>) -> () {
  // expected-error @+1 {{bias must have 16 elements}}
  %y = tfm.quantized_linear %x, %w scales %s bias %b {quant = #tfm.quant<kind = int8>} : (tensor<1x4x64xf32>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_int4_group(%x: tensor<1x4x48xf32>, %w: tensor<16x24xi8>, %s: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{int4 needs input features divisible by the group size 32, got 48}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int4, group_size = 32>} : (tensor<1x4x48xf32>, tensor<16x24xi8>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_int4_zeros(%x: tensor<1x4x64xf32>, %w: tensor<16x32xi8>, %s: tensor<16x2xf32>) -> () {
  // expected-error @+1 {{zero-points are required by int4}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = int4, group_size = 32, symmetric = false>} : (tensor<1x4x64xf32>, tensor<16x32xi8>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_ternary(%x: tensor<1x4x62xf32>, %w: tensor<16x15xi8>, %s: tensor<1x1xf32>) -> () {
  // expected-error @+1 {{ternary needs input features divisible by 4, got 62}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = ternary>} : (tensor<1x4x62xf32>, tensor<16x15xi8>, tensor<1x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_binary(%x: tensor<1x4x60xf32>, %w: tensor<16x7xi8>, %s: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{binary needs input features divisible by 8, got 60}}
  %y = tfm.quantized_linear %x, %w scales %s {quant = #tfm.quant<kind = binary>} : (tensor<1x4x60xf32>, tensor<16x7xi8>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @qlinear_zeros_symmetric(%x: tensor<1x4x64xf32>, %w: tensor<16x64xf16>, %z: tensor<16x1xf32>) -> () {
  // expected-error @+1 {{zero-points apply only to asymmetric int4}}
  %y = tfm.quantized_linear %x, %w zeros %z {quant = #tfm.quant<kind = fp16>} : (tensor<1x4x64xf32>, tensor<16x64xf16>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.sparse_linear
//===----------------------------------------------------------------------===//

func.func @sparse_shape(%x: tensor<1x4x64xf32>, %v: tensor<8x32xf32>, %i: tensor<8x8xi8>) -> () {
  // expected-error @+1 {{values and indices must be [16, ...] matrices over static input features}}
  %y = tfm.sparse_linear %x, %v, %i {prune = #tfm.prune<kind = two_four, sparsity = 0.5>} : (tensor<1x4x64xf32>, tensor<8x32xf32>, tensor<8x8xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @sparse_two_four(%x: tensor<1x4x64xf32>, %v: tensor<16x32xf32>, %i: tensor<16x16xi8>) -> () {
  // expected-error @+1 {{2:4 needs values [16, 32] and i8 indices [16, 8]}}
  %y = tfm.sparse_linear %x, %v, %i {prune = #tfm.prune<kind = two_four, sparsity = 0.5>} : (tensor<1x4x64xf32>, tensor<16x32xf32>, tensor<16x16xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @sparse_two_four_k(%x: tensor<1x4x60xf32>, %v: tensor<16x30xf32>, %i: tensor<16x7xi8>) -> () {
  // expected-error @+1 {{2:4 needs input features divisible by 8, got 60}}
  %y = tfm.sparse_linear %x, %v, %i {prune = #tfm.prune<kind = two_four, sparsity = 0.5>} : (tensor<1x4x60xf32>, tensor<16x30xf32>, tensor<16x7xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @sparse_magnitude(%x: tensor<1x4x64xf32>, %v: tensor<16x8xf32>, %i: tensor<16x8xi8>) -> () {
  // expected-error @+1 {{magnitude pruning needs i16 indices of the values' shape, at most 64 per row}}
  %y = tfm.sparse_linear %x, %v, %i {prune = #tfm.prune<kind = magnitude, sparsity = 0.875>} : (tensor<1x4x64xf32>, tensor<16x8xf32>, tensor<16x8xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @sparse_bias(%x: tensor<1x4x64xf32>, %v: tensor<16x8xf32>, %i: tensor<16x8xi16>, %b: tensor<4xf32>) -> () {
  // expected-error @+1 {{bias must have 16 elements}}
  %y = tfm.sparse_linear %x, %v, %i bias %b {prune = #tfm.prune<kind = magnitude, sparsity = 0.875>} : (tensor<1x4x64xf32>, tensor<16x8xf32>, tensor<16x8xi16>, tensor<4xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.embedding
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%t: tensor<16xf32>, %ids: tensor<1x4xi64>) -> () {
  // expected-error @+1 {{embedding table must be [vocab, dim], got rank 1}}
  %e = tfm.embedding %t[%ids] : tensor<16xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @embedding_ids_type(%t: tensor<16x8xf32>, %ids: tensor<1x4xf32>) -> () {
  // expected-error @+1 {{operand #1 must be 2D tensor of 32-bit signless integer or 64-bit signless integer values}}
  %e = "tfm.embedding"(%t, %ids) : (tensor<16x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<16x8xf32>, %ids: tensor<1x4xi64>) -> () {
  // expected-error @+2 {{'tfm.embedding' op inferred type(s) 'tensor<1x4x8xf32>' are incompatible with return type(s) of operation 'tensor<1x4x9xf32>'}}
  // expected-error @+1 {{'tfm.embedding' op failed to infer returned types}}
  %e = "tfm.embedding"(%t, %ids) : (tensor<16x8xf32>, tensor<1x4xi64>) -> tensor<1x4x9xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.linear
//===----------------------------------------------------------------------===//

func.func @linear_features(%x: tensor<1x4x8xf32>, %w: tensor<16x9xf32>) -> () {
  // expected-error @+1 {{linear input has 8 features but the weight expects 9 (layout out_in)}}
  %y = tfm.linear %x, %w : tensor<1x4x8xf32>, tensor<16x9xf32>
  return
}

// -----

func.func @linear_features_in_out(%x: tensor<1x4x8xf32>, %w: tensor<16x9xf32>) -> () {
  // expected-error @+1 {{linear input has 8 features but the weight expects 16 (layout in_out)}}
  %y = tfm.linear %x, %w {layout = #tfm<layout in_out>} : tensor<1x4x8xf32>, tensor<16x9xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> () {
  // expected-error @+1 {{linear bias has 8 elements but the layer has 16 outputs}}
  %y = tfm.linear %x, %w, %b : tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<1x4x8xf32>, %w: tensor<8xf32>) -> () {
  // expected-error @+1 {{linear weight must have rank 2, got 1}}
  %y = tfm.linear %x, %w : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<8x8xf32>) -> () {
  // expected-error @+1 {{linear input must have rank >= 1}}
  %y = tfm.linear %x, %w : tensor<f32>, tensor<8x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

func.func @layer_norm_gamma(%x: tensor<1x4x8xf32>, %g: tensor<4xf32>) -> () {
  // expected-error @+1 {{gamma has 4 elements but the input's last dimension is 8}}
  %y = tfm.layer_norm %x, %g, %g : tensor<1x4x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>) -> () {
  // expected-error @+1 {{epsilon must be positive, got 0}}
  %y = tfm.layer_norm %x, %g, %g {epsilon = 0.0} : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_rank(%x: tensor<f32>, %g: tensor<8xf32>) -> () {
  // expected-error @+1 {{input must have rank >= 1}}
  %y = tfm.layer_norm %x, %g, %g : tensor<f32>, tensor<8xf32>
  return
}

// -----

func.func @rms_norm_gamma(%x: tensor<1x4x8xf32>, %g: tensor<6xf32>) -> () {
  // expected-error @+1 {{gamma has 6 elements but the input's last dimension is 8}}
  %y = tfm.rms_norm %x, %g : tensor<1x4x8xf32>, tensor<6xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>) -> () {
  // expected-error @+1 {{epsilon must be positive, got -1}}
  %y = tfm.rms_norm %x, %g {epsilon = -1.0} : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.rope
//===----------------------------------------------------------------------===//

func.func @rope_odd(%x: tensor<1x4x9xf32>) -> () {
  // expected-error @+1 {{head_dim must be positive and even, got 3}}
  %y = tfm.rope %x {head_dim = 3} : tensor<1x4x9xf32>
  return
}

// -----

func.func @rope_features(%x: tensor<1x4x10xf32>) -> () {
  // expected-error @+1 {{feature size 10 is not a multiple of head_dim 4}}
  %y = tfm.rope %x {head_dim = 4} : tensor<1x4x10xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x4x8xf32>) -> () {
  // expected-error @+1 {{theta must be positive, got 0}}
  %y = tfm.rope %x {head_dim = 4, theta = 0.0} : tensor<1x4x8xf32>
  return
}

// -----

func.func @rope_offset(%x: tensor<1x4x8xf32>) -> () {
  // expected-error @+1 {{attribute 'offset' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %y = tfm.rope %x {head_dim = 4, offset = -2} : tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.attention
//===----------------------------------------------------------------------===//

func.func @attention_heads(%q: tensor<1x4x64xf32>, %k: tensor<1x4x24xf32>) -> () {
  // expected-error @+1 {{num_heads (8) must be a multiple of num_kv_heads (3)}}
  %o = tfm.attention %q, %k, %k {num_heads = 8, num_kv_heads = 3} : tensor<1x4x64xf32>, tensor<1x4x24xf32>, tensor<1x4x24xf32>
  return
}

// -----

func.func @attention_divisible(%q: tensor<1x4x60xf32>) -> () {
  // expected-error @+1 {{query features (60) are not divisible by num_heads (8)}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8} : tensor<1x4x60xf32>, tensor<1x4x60xf32>, tensor<1x4x60xf32>
  return
}

// -----

func.func @attention_kv_features(%q: tensor<1x4x64xf32>, %k: tensor<1x4x32xf32>) -> () {
  // expected-error @+1 {{key features (32) must be num_kv_heads * head_dim = 2 * 8}}
  %o = tfm.attention %q, %k, %k {num_heads = 8, num_kv_heads = 2} : tensor<1x4x64xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>
  return
}

// -----

func.func @attention_kv_shape(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x5x64xf32>) -> () {
  // expected-error @+1 {{key 'tensor<1x4x64xf32>' and value 'tensor<1x5x64xf32>' must have the same shape}}
  %o = tfm.attention %q, %k, %v {num_heads = 8, num_kv_heads = 8} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x5x64xf32>
  return
}

// -----

func.func @attention_types(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf16>) -> () {
  // expected-error @+1 {{query, key and value must have one element type}}
  %o = tfm.attention %q, %k, %k {num_heads = 8, num_kv_heads = 8} : tensor<1x4x64xf32>, tensor<1x4x64xf16>, tensor<1x4x64xf16>
  return
}

// -----

func.func @attention_batch(%q: tensor<1x4x64xf32>, %k: tensor<2x4x64xf32>) -> () {
  // expected-error @+1 {{query batch 1 does not match key batch 2}}
  %o = tfm.attention %q, %k, %k {num_heads = 8, num_kv_heads = 8} : tensor<1x4x64xf32>, tensor<2x4x64xf32>, tensor<2x4x64xf32>
  return
}

// -----

func.func @attention_causal_more_queries(%q: tensor<1x8x64xf32>, %k: tensor<1x4x64xf32>) -> () {
  // expected-error @+1 {{causal attention needs at least as many keys as queries (the queries are the last positions), got 8 queries and 4 keys}}
  %o = tfm.attention %q, %k, %k {num_heads = 8, num_kv_heads = 8, causal} : tensor<1x8x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x4x64xf32>) -> () {
  // expected-error @+1 {{scale must be positive}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, scale = -1.0} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_zero_heads(%q: tensor<1x4x64xf32>) -> () {
  // expected-error @+1 {{attribute 'num_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %o = tfm.attention %q, %q, %q {num_heads = 0, num_kv_heads = 8} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_not_a_pattern(%q: tensor<1x4x64xf32>) -> () {
  // expected-error @+1 {{attribute 'sparsity' failed to satisfy constraint: attention sparsity pattern}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = 3 : i64} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Sparsity patterns: attribute rules
//===----------------------------------------------------------------------===//

// expected-error @+1 {{window size must be positive, got 0}}
func.func private @window_zero() attributes {p = #tfm.window<size = 0>}

// -----

// expected-error @+1 {{window size must be positive, got -1}}
func.func private @dilated_size() attributes {p = #tfm.dilated_window<size = -1, dilation = 2>}

// -----

// expected-error @+1 {{dilation must be positive, got 0}}
func.func private @dilated_zero() attributes {p = #tfm.dilated_window<size = 4, dilation = 0>}

// -----

// expected-error @+1 {{stride must be positive, got 0}}
func.func private @stride_zero() attributes {p = #tfm.strided<stride = 0, summary = 0>}

// -----

// expected-error @+1 {{summary columns must be in [0, stride = 4], got 5}}
func.func private @summary_range() attributes {p = #tfm.strided<stride = 4, summary = 5>}

// -----

// expected-error @+1 {{block size must be positive, got 0}}
func.func private @block_zero() attributes {p = #tfm.block_sparse<block = 0, window = 3, global = 0, random = 0, seed = 0>}

// -----

// expected-error @+1 {{window must be a positive odd number of blocks, got 2}}
func.func private @block_window() attributes {p = #tfm.block_sparse<block = 4, window = 2, global = 0, random = 0, seed = 0>}

// -----

// expected-error @+1 {{global token count must be non-negative, got -1}}
func.func private @block_global() attributes {p = #tfm.block_sparse<block = 4, window = 3, global = -1, random = 0, seed = 0>}

// -----

// expected-error @+1 {{random block count must be non-negative, got -2}}
func.func private @block_random() attributes {p = #tfm.block_sparse<block = 4, window = 3, global = 0, random = -2, seed = 0>}

// -----

// expected-error @+1 {{seed must be non-negative, got -3}}
func.func private @block_seed() attributes {p = #tfm.block_sparse<block = 4, window = 3, global = 0, random = 1, seed = -3>}

// -----

// expected-error @+2 {{expected valid keyword}}
// expected-error @+1 {{expected a parameter name in struct}}
func.func private @window_missing() attributes {p = #tfm.window<>}

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: width}}
func.func private @window_unknown() attributes {p = #tfm.window<width = 3>}

// -----

//===----------------------------------------------------------------------===//
// Sparsity patterns: against the sequence length
//===----------------------------------------------------------------------===//

func.func @window_too_large(%q: tensor<1x8x64xf32>) -> () {
  // expected-error @+1 {{sparsity pattern: window size 16 is larger than the sequence length 8}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = #tfm.window<size = 16>} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @dilated_too_large(%q: tensor<1x8x64xf32>) -> () {
  // expected-error @+1 {{sparsity pattern: dilated window span 12 (size 4 x dilation 3) is larger than the sequence length 8}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = #tfm.dilated_window<size = 4, dilation = 3>} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @stride_too_large(%q: tensor<1x8x64xf32>) -> () {
  // expected-error @+1 {{sparsity pattern: stride 16 is larger than the sequence length 8}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = #tfm.strided<stride = 16, summary = 1>} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @block_too_large(%q: tensor<1x8x64xf32>) -> () {
  // expected-error @+1 {{sparsity pattern: block size 16 is larger than the sequence length 8}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = #tfm.block_sparse<block = 16, window = 1, global = 0, random = 0, seed = 0>} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @global_out_of_range(%q: tensor<1x8x64xf32>) -> () {
  // expected-error @+1 {{sparsity pattern: global token count 9 is out of range for the sequence length 8}}
  %o = tfm.attention %q, %q, %q {num_heads = 8, num_kv_heads = 8, sparsity = #tfm.block_sparse<block = 4, window = 1, global = 9, random = 0, seed = 0>} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Quantization and pruning schemes
//===----------------------------------------------------------------------===//

// expected-error @+1 {{int4 group size must be 32, 64 or 128, got 48}}
func.func private @int4_group() attributes {q = #tfm.quant<kind = int4, group_size = 48>}

// -----

// expected-error @+1 {{int4 group size must be 32, 64 or 128, got 0}}
func.func private @int4_no_group() attributes {q = #tfm.quant<kind = int4>}

// -----

// expected-error @+1 {{group size applies only to int4, not to int8}}
func.func private @int8_group() attributes {q = #tfm.quant<kind = int8, group_size = 32>}

// -----

// expected-error @+1 {{zero-points (symmetric = false) apply only to int4, not to ternary}}
func.func private @ternary_asym() attributes {q = #tfm.quant<kind = ternary, symmetric = false>}

// -----

// expected-error @+1 {{quantization scale type must be f16 or f32, got 'bf16'}}
func.func private @scale_type() attributes {q = #tfm.quant<kind = int8, scale_type = bf16>}

// -----

// expected-error @+1 {{fp16 storage has no scales}}
func.func private @fp16_scale() attributes {q = #tfm.quant<kind = fp16, scale_type = f16>}

// -----

// expected-error @+2 {{expected one of [int8, w8a8, int4, ternary, binary, fp16, bf16] for weight quantization scheme, got: int3}}
// expected-error @+1 {{failed to parse Tfm_QuantSchemeAttr parameter 'kind'}}
func.func private @bad_bits() attributes {q = #tfm.quant<kind = int3>}

// -----

// expected-error @+1 {{pruning sparsity must be in [0, 1), got 1}}
func.func private @prune_full() attributes {p = #tfm.prune<kind = magnitude, sparsity = 1.0>}

// -----

// expected-error @+1 {{2:4 pruning has sparsity 0.5 by construction, got 7.500000e-01}}
func.func private @prune_two_four() attributes {p = #tfm.prune<kind = two_four, sparsity = 0.75>}

// -----

//===----------------------------------------------------------------------===//
// tfm.split
//===----------------------------------------------------------------------===//

func.func @split_sum(%x: tensor<1x4x12xf32>) -> () {
  // expected-error @+1 {{split sizes add up to 10 but the last dimension is 12}}
  %a, %b = tfm.split %x [4, 6] : tensor<1x4x12xf32>
  return
}

// -----

func.func @split_zero(%x: tensor<1x4x12xf32>) -> () {
  // expected-error @+1 {{split sizes must be positive, got 0}}
  %a, %b = tfm.split %x [12, 0] : tensor<1x4x12xf32>
  return
}

// -----

func.func @split_rank(%x: tensor<f32>) -> () {
  // expected-error @+1 {{split input must have rank >= 1}}
  %a = tfm.split %x [1] : tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.layer
//===----------------------------------------------------------------------===//

func.func @layer_yield(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{yielded types ('tensor<1x4x9xf32>') do not match the layer's result types ('tensor<1x4x8xf32>')}}
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %c = "test.cast"(%a) : (tensor<1x4x8xf32>) -> tensor<1x4x9xf32>
    tfm.yield %c : tensor<1x4x9xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @layer_args(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{body has 2 arguments but the layer has 1 inputs}}
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>, %b: tensor<1x4x8xf32>):
    tfm.yield %a : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @layer_arg_type(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{body argument #0 has type 'tensor<1x4x4xf32>' but input #0 is 'tensor<1x4x8xf32>'}}
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x4xf32>):
    tfm.yield %x : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @layer_index(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{attribute 'index' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %r = tfm.layer "h.0" index -1 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    tfm.yield %a : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @layer_isolated(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %r = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    // expected-error @+1 {{using value defined outside the region}}
    %s = tfm.add %a, %x : tensor<1x4x8xf32>
    tfm.yield %s : tensor<1x4x8xf32>
  }
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @yield_outside() -> () {
  // expected-error @+1 {{'tfm.yield' op expects parent op 'tfm.layer'}}
  tfm.yield
}

// -----

//===----------------------------------------------------------------------===//
// tfm.cached_attention
//===----------------------------------------------------------------------===//

func.func @cached_bits(%q: tensor<1x4x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{cache_bits must be 32, 8 or 4, got 2}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 65536, capacity = 64, cache_bits = 2} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<?xi8>
  return
}

// -----

func.func @cached_int4_head_dim(%q: tensor<1x4x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{an int4 cache needs head_dim to be a multiple of 32, got 16}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 4, num_kv_heads = 4, k_offset = 0, v_offset = 65536, capacity = 64, cache_bits = 4} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<?xi8>
  return
}

// -----

func.func @cached_ring(%q: tensor<1x4x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{a ring of 8 rows cannot hold a window of 6 positions and a chunk of 4 (needs window + chunk - 1 rows)}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 65536, capacity = 10, window = 6, sinks = 2} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<?xi8>
  return
}

// -----

func.func @cached_overlap(%q: tensor<1x4x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{keys [0, 16384) and values [8192, 24576) overlap in the cache}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 8192, capacity = 64} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<?xi8>
  return
}

// -----

func.func @cached_size(%q: tensor<1x4x64xf32>, %c: memref<1024xi8>, %s: i64) -> () {
  // expected-error @+1 {{needs 32768 cache bytes but the cache has 1024}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 16384, capacity = 64} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<1024xi8>
  return
}

// -----

func.func @cached_sinks(%q: tensor<1x4x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{attention sinks need a window}}
  %o = tfm.cached_attention %q, %q, %q, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 65536, capacity = 64, sinks = 2} : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, memref<?xi8>
  return
}

// -----

func.func @cached_chunk(%q: tensor<1x4x64xf32>, %k: tensor<1x2x64xf32>, %c: memref<?xi8>, %s: i64) -> () {
  // expected-error @+1 {{query and key chunks must have the same length, got 4 and 2}}
  %o = tfm.cached_attention %q, %k, %k, %c from %s {num_heads = 2, num_kv_heads = 2, k_offset = 0, v_offset = 65536, capacity = 64} : tensor<1x4x64xf32>, tensor<1x2x64xf32>, tensor<1x2x64xf32>, memref<?xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.quantized_embedding
//===----------------------------------------------------------------------===//

func.func @qembed_w8a8(%v: tensor<96x64xi8>, %ids: tensor<1x4xi64>, %s: tensor<96x1xf32>) -> () {
  // expected-error @+1 {{w8a8 quantizes activations and does not apply to an embedding lookup}}
  %e = tfm.quantized_embedding %v[%ids] scales %s {quant = #tfm.quant<kind = w8a8>} : (tensor<96x64xi8>, tensor<1x4xi64>, tensor<96x1xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

func.func @qembed_scales(%v: tensor<96x64xi8>, %ids: tensor<1x4xi64>) -> () {
  // expected-error @+1 {{scales are required by int8}}
  %e = tfm.quantized_embedding %v[%ids] {quant = #tfm.quant<kind = int8>} : (tensor<96x64xi8>, tensor<1x4xi64>) -> tensor<1x4x64xf32>
  return
}

// -----

func.func @qembed_scale_shape(%v: tensor<96x32xi8>, %ids: tensor<1x4xi64>, %s: tensor<96x1xf32>) -> () {
  // expected-error @+1 {{scales must be 'tensor<96x2xf32>', got 'tensor<96x1xf32>'}}
  %e = tfm.quantized_embedding %v[%ids] scales %s {quant = #tfm.quant<kind = int4, group_size = 32>} : (tensor<96x32xi8>, tensor<1x4xi64>, tensor<96x1xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

func.func @qembed_zeros(%v: tensor<96x64xi8>, %ids: tensor<1x4xi64>, %s: tensor<96x1xf32>) -> () {
  // expected-error @+1 {{zero-points are not used by int8}}
  %e = tfm.quantized_embedding %v[%ids] scales %s zeros %s {quant = #tfm.quant<kind = int8>} : (tensor<96x64xi8>, tensor<1x4xi64>, tensor<96x1xf32>, tensor<96x1xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.fused_attention
//===----------------------------------------------------------------------===//

func.func @fused_dynamic(%q: memref<1x?x64xf32>, %o: memref<1x?x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op needs static shapes, got 'memref<1x?x64xf32>'}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16} : memref<1x?x64xf32>, memref<1x?x64xf32>, memref<1x?x64xf32>, memref<1x?x64xf32>
  return
}

// -----

func.func @fused_output(%q: memref<1x8x64xf32>, %o: memref<1x8x32xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op output 'memref<1x8x32xf32>' must have the query's shape 'memref<1x8x64xf32>'}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x32xf32>
  return
}

// -----

func.func @fused_rope_theta(%q: memref<1x8x64xf32>, %o: memref<1x8x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op needs rope_theta exactly when rope_query or rope_key is set}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16, rope_query} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>
  return
}

// -----

func.func @fused_rope_odd(%q: memref<1x8x60xf32>, %o: memref<1x8x60xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op rotates heads of an odd size 15}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16, rope_key, rope_theta = 10000.0} : memref<1x8x60xf32>, memref<1x8x60xf32>, memref<1x8x60xf32>, memref<1x8x60xf32>
  return
}

// -----

func.func @fused_rope_negative(%q: memref<1x8x64xf32>, %o: memref<1x8x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op rope_theta must be positive}}
  tfm.fused_attention %q, %q, %q into %o {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16, rope_key, rope_theta = -1.0} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>
  return
}

// -----

func.func @fused_kv_features(%q: memref<1x8x64xf32>, %k: memref<1x8x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op key features (64) must be num_kv_heads * head_dim = 2 * 16}}
  tfm.fused_attention %q, %k, %k into %q {num_heads = 4, num_kv_heads = 2, scale = 0.25, block_q = 16, block_k = 16} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>
  return
}

// -----

func.func @fused_causal(%q: memref<1x8x64xf32>, %k: memref<1x4x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op causal attention needs at least as many keys as queries (the queries are the last positions), got 8 queries and 4 keys}}
  tfm.fused_attention %q, %k, %k into %q {num_heads = 4, num_kv_heads = 4, scale = 0.25, block_q = 16, block_k = 16, causal} : memref<1x8x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x8x64xf32>
  return
}

// -----

func.func @fused_scale(%q: memref<1x8x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op scale must be positive}}
  tfm.fused_attention %q, %q, %q into %q {num_heads = 4, num_kv_heads = 4, scale = 0.0, block_q = 16, block_k = 16} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>
  return
}

// -----

func.func @fused_heads(%q: memref<1x8x64xf32>) {
  // expected-error @+1 {{'tfm.fused_attention' op num_heads (4) must be a multiple of num_kv_heads (3)}}
  tfm.fused_attention %q, %q, %q into %q {num_heads = 4, num_kv_heads = 3, scale = 0.25, block_q = 16, block_k = 16} : memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>, memref<1x8x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.fused_norm
//===----------------------------------------------------------------------===//

func.func @fused_norm_output(%x: memref<1x4x64xf32>, %g: memref<64xf32>, %o: memref<1x2x64xf32>) {
  // expected-error @+1 {{'tfm.fused_norm' op output 'memref<1x2x64xf32>' must have the input's shape 'memref<1x4x64xf32>'}}
  tfm.fused_norm %x, %g into %o {epsilon = 1.0e-6} : memref<1x4x64xf32>, memref<1x2x64xf32>, memref<64xf32>
  return
}

// -----

func.func @fused_norm_gamma(%x: memref<1x4x64xf32>, %g: memref<64xf32>, %b: memref<32xf32>) {
  // expected-error @+1 {{'tfm.fused_norm' op gamma and beta must have the 64 features of the last dimension, got 'memref<32xf32>'}}
  tfm.fused_norm %x, %g, %b into %x {epsilon = 1.0e-5} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<64xf32>, memref<32xf32>
  return
}

// -----

func.func @fused_norm_dynamic(%x: memref<1x?x64xf32>, %g: memref<64xf32>) {
  // expected-error @+1 {{'tfm.fused_norm' op needs a statically shaped input of rank >= 1, got 'memref<1x?x64xf32>'}}
  tfm.fused_norm %x, %g into %x {epsilon = 1.0e-6} : memref<1x?x64xf32>, memref<1x?x64xf32>, memref<64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.lazy_norm
//===----------------------------------------------------------------------===//

func.func @lazy_norm_result(%x: memref<1x4x64xf32>, %g: memref<64xf32>) {
  // expected-error @+1 {{'tfm.lazy_norm' op result 'memref<4x64xf32>' must have the input's shape 'memref<1x4x64xf32>'}}
  %n = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<1x4x64xf32>, memref<64xf32> -> memref<4x64xf32>
  return
}

// -----

func.func @lazy_norm_layout(%x: memref<4x64xf32>, %g: memref<64xf32>) {
  // expected-error @+1 {{'tfm.lazy_norm' op result must have the identity layout, got 'memref<4x64xf32, strided<[128, 1]>>'}}
  %n = tfm.lazy_norm %x, %g {epsilon = 1.0e-6} : memref<4x64xf32>, memref<64xf32> -> memref<4x64xf32, strided<[128, 1]>>
  return
}

// -----

func.func @lazy_norm_epsilon(%x: memref<4x64xf32>, %g: memref<64xf32>, %b: memref<64xf32>) {
  // expected-error @+1 {{'tfm.lazy_norm' op epsilon must be non-negative}}
  %n = tfm.lazy_norm %x, %g, %b {epsilon = -1.0} : memref<4x64xf32>, memref<64xf32>, memref<64xf32> -> memref<4x64xf32>
  return
}

// -----

func.func @fused_norm_epsilon(%x: memref<1x4x64xf32>, %g: memref<64xf32>) {
  // expected-error @+1 {{'tfm.fused_norm' op epsilon must be non-negative}}
  tfm.fused_norm %x, %g into %x {epsilon = -1.0} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tfm.fused_cached_attention
//===----------------------------------------------------------------------===//

func.func @fused_cached_output(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64, %o: memref<1x2x64xf32>) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op output 'memref<1x2x64xf32>' must have the query's shape 'memref<1x4x64xf32>'}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %o {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x2x64xf32>
  return
}

// -----

func.func @fused_cached_rope(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64, %o: memref<1x4x64xf32>) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op needs rope_theta exactly when rope_query or rope_key is set}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %o {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32, rope_key} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x4x64xf32>
  return
}

// -----

func.func @fused_cached_size(%q: memref<1x4x64xf32>, %c: memref<1024xi8>, %s: i64) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op needs 32768 cache bytes but the cache has 1024}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %q {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1024xi8>, memref<1x4x64xf32>
  return
}

// -----

func.func @fused_cached_ring(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op a ring of 8 rows cannot hold a window of 6 positions and a chunk of 4 (needs window + chunk - 1 rows)}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %q {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 65536, capacity = 10, window = 6, sinks = 2, cache_bits = 32} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x4x64xf32>
  return
}

// -----

func.func @fused_cached_scratch_shape(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64, %scratch: memref<4x2x4x32xf32>) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op scratch 'memref<4x2x4x32xf32>' must have shape [seq, num_heads, ceil(visible / split), head_dim + 2] = [4, 2, 4, 34]}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s split by %scratch : memref<4x2x4x32xf32> into %q {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32, split = 16} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x4x64xf32>
  return
}

// -----

func.func @fused_cached_scratch_no_split(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64, %scratch: memref<4x2x4x34xf32>) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op has a scratch buffer but no split}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s split by %scratch : memref<4x2x4x34xf32> into %q {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x4x64xf32>
  return
}

// -----

func.func @fused_cached_split_no_scratch(%q: memref<1x4x64xf32>, %c: memref<?xi8>, %s: i64) {
  // expected-error @+1 {{'tfm.fused_cached_attention' op split = 16 needs a scratch buffer}}
  tfm.fused_cached_attention %q, %q, %q, %c from %s into %q {num_heads = 2, num_kv_heads = 2, scale = 0.125, k_offset = 0, v_offset = 16384, capacity = 64, window = 0, sinks = 0, cache_bits = 32, split = 16} : memref<1x4x64xf32>, memref<1x4x64xf32>, memref<1x4x64xf32>, memref<?xi8>, memref<1x4x64xf32>
  return
}
