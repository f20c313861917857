// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=window:100 2>&1 | FileCheck %s --check-prefix=TOOBIG
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=window:0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=strided:0 2>&1 | FileCheck %s --check-prefix=STRIDE0
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=bigbird:3,100,0 2>&1 | FileCheck %s --check-prefix=GLOBAL
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=bigbird:2,1,0 2>&1 | FileCheck %s --check-prefix=EVEN
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=ring:3 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=window:x 2>&1 | FileCheck %s --check-prefix=NOTINT
// RUN: not tmc-opt %s --tfm-sparsify-attention=pattern=window:3,4 2>&1 | FileCheck %s --check-prefix=ARITY

// TOOBIG: error: 'tfm.attention' op sparsity pattern: window size 100 is larger than the sequence length 64
// ZERO: error: window size must be positive, got 0
// STRIDE0: error: stride must be positive, got 0
// GLOBAL: error: 'tfm.attention' op sparsity pattern: global token count 100 is out of range for the sequence length 64
// EVEN: error: window must be a positive odd number of blocks, got 2
// UNKNOWN: error: tfm-sparsify-attention: unknown pattern 'ring' (expected window, dilated, strided, bigbird or dense)
// NOTINT: error: tfm-sparsify-attention: 'x' is not an integer
// ARITY: error: tfm-sparsify-attention: 'window' takes 1 arguments, got 2

func.func @f(%x: tensor<1x64x16xf32>) -> tensor<1x64x16xf32> {
  %o = tfm.attention %x, %x, %x {num_heads = 2, num_kv_heads = 2} : tensor<1x64x16xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
  return %o : tensor<1x64x16xf32>
}
