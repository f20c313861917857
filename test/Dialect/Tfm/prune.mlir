// RUN: tmc-opt %s --tfm-prune=scheme=2:4 | FileCheck %s --check-prefix=TWOFOUR
// RUN: tmc-opt %s --tfm-prune=scheme=magnitude:0.75 | FileCheck %s --check-prefix=SPARSE
// RUN: tmc-opt %s --tfm-prune=scheme=magnitude:0.25 | FileCheck %s --check-prefix=DENSE
// RUN: tmc-opt %s --tfm-prune=scheme=2:4 --tfm-bind-weights --convert-tfm-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: not tmc-opt %s --tfm-prune=scheme=3:4 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not tmc-opt %s --tfm-prune=scheme=magnitude:1.5 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not tmc-opt %s --tfm-prune=scheme=magnitude:1.5:global 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not tmc-opt %s --tfm-prune=scheme=magnitude:-0.1:global 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not tmc-opt %s --tfm-prune=scheme=magnitude:x:global 2>&1 | FileCheck %s --check-prefix=NOTNUM
// RUN: not tmc-opt %s --tfm-prune=scheme=magnitude:0.5:globl 2>&1 | FileCheck %s --check-prefix=SPELLING
// RUN: not tmc-opt %s --tfm-prune=scheme=2:4:global 2>&1 | FileCheck %s --check-prefix=TWOFOURGLOBAL

module {
func.func @forward(%x: tensor<1x4x64xf32> {tfm.name = "x"}) -> (tensor<1x4x16xf32> {tfm.name = "y"}) {
  %w = tfm.param "fc.weight" {value = dense<0.5> : tensor<16x64xf32>} : tensor<16x64xf32>
  %b = tfm.param "fc.bias" {value = dense<0.1> : tensor<16xf32>} : tensor<16xf32>
  %y = tfm.linear %x, %w, %b : tensor<1x4x64xf32>, tensor<16x64xf32>, tensor<16xf32>
  return %y : tensor<1x4x16xf32>
}
}

// TWOFOUR: tmc.transforms = [{layers = [{bytes_after = 2176 : i64, bytes_before = 4096 : i64, compressed = true, name = "fc.weight", sparsity = 5.000000e-01 : f64}], linear_layers = 1 : i64, pass = "tfm-prune", scheme = "2:4", weight_bytes_after = 2176 : i64, weight_bytes_before = 4096 : i64}]
// TWOFOUR: %[[V:.*]] = tfm.param "fc.weight:two_four:values" {{.*}}part = "values"{{.*}}prune = #tfm.prune<kind = two_four, sparsity = 5.000000e-01>, source = "fc.weight"{{.*}} : tensor<16x32xf32>
// TWOFOUR: %[[I:.*]] = tfm.param "fc.weight:two_four:indices" {{.*}} : tensor<16x8xi8>
// TWOFOUR: tfm.sparse_linear %{{.*}}, %[[V]], %[[I]] bias %{{.*}} {prune = #tfm.prune<kind = two_four, sparsity = 5.000000e-01>}

// SPARSE: weight_bytes_after = 1536 : i64
// SPARSE: tfm.param "fc.weight:magnitude:values" {{.*}} : tensor<16x16xf32>
// SPARSE: tfm.param "fc.weight:magnitude:indices" {{.*}} : tensor<16x16xi16>
// SPARSE: tfm.sparse_linear

// Keeping 3/4 of the weights compressed would take more bytes than dense.
// DENSE: weight_bytes_after = 4096 : i64
// DENSE: tfm.param "fc.weight:magnitude:values" {{.*}} : tensor<16x64xf32>
// DENSE-NOT: indices
// DENSE: tfm.linear {{.*}}prune = #tfm.prune<kind = magnitude, sparsity = 2.500000e-01>

// The lowering reads the compressed form (values [16, 32], 2-bit positions)
// and gathers inputs; no [16, 64] weight exists.
// LOWER: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<16x32xf32>, tensor<16x8xi8>)
// LOWER: arith.shrui
// LOWER: tensor.extract
// LOWER-NOT: tensor<16x64xf32>

// BAD: prune.mlir:[[@LINE-32]]:1: error: tfm-prune: unknown scheme '3:4' (expected 2:4, magnitude:F, magnitude:F:global or none)
// RANGE: error: pruning sparsity must be in [0, 1), got 1.5
// NEGATIVE: error: pruning sparsity must be in [0, 1), got -1.000000e-01
// NOTNUM: error: tfm-prune: bad sparsity in 'magnitude:x:global'
// SPELLING: error: tfm-prune: unknown option 'globl' in 'magnitude:0.5:globl' (expected magnitude:F[:global])
// TWOFOURGLOBAL: error: tfm-prune: unknown scheme '2:4:global' (expected 2:4, magnitude:F, magnitude:F:global or none)
