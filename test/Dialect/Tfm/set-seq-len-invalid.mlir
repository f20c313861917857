// RUN: tmc-opt %s --tfm-set-seq-len=seq-len=4 -split-input-file -verify-diagnostics

// A pattern that fits a symbolic length can be too large for the fixed one.
func.func @window_exceeds(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{sparsity pattern: window size 8 is larger than the sequence length 4}}
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2, sparsity = #tfm.window<size = 8>} : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
  return %o : tensor<1x?x8xf32>
}

// -----

// Ops that do not infer their types cannot be refined.
func.func @opaque(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{'tensor.cast' op has a dynamically shaped result whose type cannot be re-inferred for a static sequence length}}
  %c = tensor.cast %x : tensor<1x?x8xf32> to tensor<1x?x8xf32>
  return %c : tensor<1x?x8xf32>
}
