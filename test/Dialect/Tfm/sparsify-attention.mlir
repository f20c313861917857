// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=window:8 | FileCheck %s --check-prefix=WINDOW
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=dilated:4,2 | FileCheck %s --check-prefix=DILATED
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=strided:16 | FileCheck %s --check-prefix=STRIDED
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=strided:16,2 | FileCheck %s --check-prefix=STRIDED2
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=bigbird:3,4,1 | FileCheck %s --check-prefix=BIGBIRD
// RUN: tmc-opt %s --tfm-sparsify-attention=pattern=bigbird:5,8,2,16,7 | FileCheck %s --check-prefix=BIGBIRD2
// RUN: tmc-opt %s "--tfm-sparsify-attention=pattern=window:8 layers=1" | FileCheck %s --check-prefix=LAYER1
// RUN: tmc-opt %s "--tfm-sparsify-attention=pattern=window:8 names=h.0" | FileCheck %s --check-prefix=NAME0
// RUN: tmc-opt %s "--tfm-sparsify-attention=pattern=window:8 override" | FileCheck %s --check-prefix=OVERRIDE
// RUN: tmc-opt %s "--tfm-sparsify-attention=pattern=dense override" | FileCheck %s --check-prefix=DENSE
// RUN: tmc-opt %s | FileCheck %s --check-prefix=NOOP

// Two layers; the second's attention already carries a pattern written in
// the model, which the pass keeps unless `override` is given.

// WINDOW: module attributes {tmc.transforms = [{attention_ops = 1 : i64, attribute = "#tfm.window<size = 8>", kept_fraction = {{.*}}, naive_scores_bytes_per_op = 32768 : i64, pass = "tfm-sparsify-attention", pattern = "window:8"}]}
// WINDOW-LABEL: func.func @two_layers
// WINDOW: tfm.layer "h.0"
// WINDOW: tfm.attention {{.*}}sparsity = #tfm.window<size = 8>
// WINDOW: tfm.layer "h.1"
// WINDOW: tfm.attention {{.*}}sparsity = #tfm.strided<stride = 32, summary = 4>

// DILATED: tfm.attention {{.*}}sparsity = #tfm.dilated_window<size = 4, dilation = 2>
// STRIDED: tfm.attention {{.*}}sparsity = #tfm.strided<stride = 16, summary = 2>
// STRIDED2: tfm.attention {{.*}}sparsity = #tfm.strided<stride = 16, summary = 2>
// BIGBIRD: tfm.attention {{.*}}sparsity = #tfm.block_sparse<block = 64, window = 3, global = 4, random = 1, seed = 0>
// BIGBIRD2: tfm.attention {{.*}}sparsity = #tfm.block_sparse<block = 16, window = 5, global = 8, random = 2, seed = 7>

// LAYER1: tfm.layer "h.0"
// LAYER1-NOT: sparsity
// LAYER1: tfm.layer "h.1"
// LAYER1: sparsity = #tfm.strided<stride = 32, summary = 4>

// NAME0: tfm.layer "h.0"
// NAME0: sparsity = #tfm.window<size = 8>
// NAME0: tfm.layer "h.1"
// NAME0: sparsity = #tfm.strided<stride = 32, summary = 4>

// OVERRIDE: tfm.layer "h.0"
// OVERRIDE: sparsity = #tfm.window<size = 8>
// OVERRIDE: tfm.layer "h.1"
// OVERRIDE: sparsity = #tfm.window<size = 8>

// DENSE: attention_ops = 2 : i64, kept_fraction = 0.5078125 : f64, naive_scores_bytes_per_op = 32768 : i64, pass = "tfm-sparsify-attention", pattern = "dense"
// DENSE-NOT: sparsity =

// NOOP-NOT: tmc.transforms
// NOOP: sparsity = #tfm.strided<stride = 32, summary = 4>

func.func @two_layers(%x: tensor<1x64x16xf32>) -> tensor<1x64x16xf32> {
  %0 = tfm.layer "h.0" index 0 (%x) : (tensor<1x64x16xf32>) -> tensor<1x64x16xf32> {
  ^bb0(%a: tensor<1x64x16xf32>):
    %o = tfm.attention %a, %a, %a {num_heads = 2, num_kv_heads = 2, causal} : tensor<1x64x16xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
    tfm.yield %o : tensor<1x64x16xf32>
  }
  %1 = tfm.layer "h.1" index 1 (%0) : (tensor<1x64x16xf32>) -> tensor<1x64x16xf32> {
  ^bb0(%a: tensor<1x64x16xf32>):
    %o = tfm.attention %a, %a, %a {num_heads = 2, num_kv_heads = 2, causal, sparsity = #tfm.strided<stride = 32, summary = 4>} : tensor<1x64x16xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
    tfm.yield %o : tensor<1x64x16xf32>
  }
  return %1 : tensor<1x64x16xf32>
}
