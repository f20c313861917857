// RUN: tmc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// Round trip.
// CHECK-LABEL: func.func @linformer
// CHECK: tfm.linformer_attention %{{.*}}, %{{.*}}, %{{.*}} proj %{{.*}}, %{{.*}} {num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>, tensor<4x32xf32>, tensor<4x32xf32>
func.func @linformer(%q: tensor<1x32x16xf32>, %k: tensor<1x32x8xf32>, %v: tensor<1x32x8xf32>, %e: tensor<4x32xf32>, %f: tensor<4x32xf32>) -> tensor<1x32x16xf32> {
  %o = tfm.linformer_attention %q, %k, %v proj %e, %f {num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>, tensor<4x32xf32>, tensor<4x32xf32>
  return %o : tensor<1x32x16xf32>
}

// -----

func.func @projection_length(%q: tensor<1x32x16xf32>, %k: tensor<1x32x16xf32>, %e: tensor<4x30xf32>) -> tensor<1x32x16xf32> {
  // expected-error @+1 {{projections of 30 positions do not match the key length 32}}
  %o = tfm.linformer_attention %q, %k, %k proj %e, %e {num_heads = 2 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<4x30xf32>, tensor<4x30xf32>
  return %o : tensor<1x32x16xf32>
}

// -----

func.func @projection_mismatch(%q: tensor<1x32x16xf32>, %k: tensor<1x32x16xf32>, %e: tensor<4x32xf32>, %f: tensor<8x32xf32>) -> tensor<1x32x16xf32> {
  // expected-error @+1 {{key projection 'tensor<4x32xf32>' and value projection 'tensor<8x32xf32>' must have the same shape [k, seq]}}
  %o = tfm.linformer_attention %q, %k, %k proj %e, %f {num_heads = 2 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<4x32xf32>, tensor<8x32xf32>
  return %o : tensor<1x32x16xf32>
}

// -----

func.func @projection_rank(%q: tensor<1x32x16xf32>, %k: tensor<1x32x16xf32>, %e: tensor<32xf32>) -> tensor<1x32x16xf32> {
  // expected-error @+1 {{operand #3 must be 2D tensor of floating-point values}}
  %o = tfm.linformer_attention %q, %k, %k proj %e, %e {num_heads = 2 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<32xf32>, tensor<32xf32>
  return %o : tensor<1x32x16xf32>
}

// -----

func.func @heads(%q: tensor<1x32x16xf32>, %k: tensor<1x32x16xf32>, %e: tensor<4x32xf32>) -> tensor<1x32x16xf32> {
  // expected-error @+1 {{num_heads (4) must be a multiple of num_kv_heads (3)}}
  %o = tfm.linformer_attention %q, %k, %k proj %e, %e {num_heads = 4 : i64, num_kv_heads = 3 : i64} : tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<4x32xf32>, tensor<4x32xf32>
  return %o : tensor<1x32x16xf32>
}

// -----

func.func @key_features(%q: tensor<1x32x16xf32>, %k: tensor<1x32x12xf32>, %e: tensor<4x32xf32>) -> tensor<1x32x16xf32> {
  // expected-error @+1 {{key features (12) must be num_kv_heads x head_dim (16)}}
  %o = tfm.linformer_attention %q, %k, %k proj %e, %e {num_heads = 2 : i64, num_kv_heads = 2 : i64} : tensor<1x32x16xf32>, tensor<1x32x12xf32>, tensor<1x32x12xf32>, tensor<4x32xf32>, tensor<4x32xf32>
  return %o : tensor<1x32x16xf32>
}
