// RUN: tmc-opt %s --tfm-prune=scheme=magnitude:0.5:global | FileCheck %s --check-prefix=HALF
// RUN: tmc-opt %s --tfm-prune=scheme=magnitude:0.25:global | FileCheck %s --check-prefix=QUARTER
// RUN: tmc-opt %s --tfm-prune=scheme=magnitude:0:global | FileCheck %s --check-prefix=ZERO

// Global magnitude pruning: one threshold over the 64 weights of both
// layers. fc1 holds 24 small weights (|w| = 0.125) and 8 large ones, fc2 8
// small and 24 large (|w| of 2.5 or 3).
module {
func.func @forward(%x: tensor<1x2x8xf32> {tfm.name = "x"}) -> (tensor<1x2x4xf32> {tfm.name = "y1"}, tensor<1x2x4xf32> {tfm.name = "y2"}) {
  %w1 = tfm.param "fc1.weight" {value = dense<[[0.125, -0.125, 0.125, -3.0, 0.125, -0.125, -3.0, -0.125], [-3.0, -0.125, 0.125, -0.125, 0.125, 2.5, 0.125, -0.125], [0.125, 2.5, 0.125, -0.125, 0.125, -0.125, 0.125, 2.5], [0.125, -0.125, 2.5, -0.125, 2.5, -0.125, 0.125, -0.125]]> : tensor<4x8xf32>} : tensor<4x8xf32>
  %w2 = tfm.param "fc2.weight" {value = dense<[[-3.0, 2.5, 2.5, -0.125, 2.5, 2.5, 0.125, 2.5], [0.125, 2.5, 2.5, -3.0, 2.5, 2.5, -3.0, -0.125], [-3.0, -0.125, 0.125, -3.0, 2.5, 2.5, -3.0, 2.5], [-3.0, 2.5, 2.5, -3.0, 0.125, -0.125, -3.0, 2.5]]> : tensor<4x8xf32>} : tensor<4x8xf32>
  %y1 = tfm.linear %x, %w1 : tensor<1x2x8xf32>, tensor<4x8xf32>
  %y2 = tfm.linear %x, %w2 : tensor<1x2x8xf32>, tensor<4x8xf32>
  return %y1, %y2 : tensor<1x2x4xf32>, tensor<1x2x4xf32>
}
}

// F = 0.5: m = 32, the threshold is the 33rd smallest magnitude, 2.5; the
// 32 small weights fall below it: fc1 is 24/32 = 0.75 sparse (2 kept per
// row, compressed), fc2 8/32 = 0.25 (6 kept per row: dense with zeros).
// HALF: tmc.transforms = [{layers = [
// HALF-SAME: {bytes_after = 48 : i64, bytes_before = 128 : i64, compressed = true, name = "fc1.weight", sparsity = 7.500000e-01 : f64},
// HALF-SAME: {bytes_after = 128 : i64, bytes_before = 128 : i64, compressed = false, name = "fc2.weight", sparsity = 2.500000e-01 : f64}],
// HALF-SAME: linear_layers = 2 : i64, pass = "tfm-prune", scheme = "magnitude:0.5:global", threshold = 2.500000e+00 : f64, weight_bytes_after = 176 : i64, weight_bytes_before = 256 : i64}]
// HALF-LABEL: func.func @forward
// HALF: %[[V:.*]] = tfm.param "fc1.weight:magnitude:values" {{.*}}prune = #tfm.prune<kind = magnitude, sparsity = 7.500000e-01>{{.*}} : tensor<4x2xf32>
// HALF: %[[I:.*]] = tfm.param "fc1.weight:magnitude:indices" {{.*}} : tensor<4x2xi16>
// HALF: tfm.sparse_linear %{{.*}}, %[[V]], %[[I]] {prune = #tfm.prune<kind = magnitude, sparsity = 7.500000e-01>}
// HALF: %[[D:.*]] = tfm.param "fc2.weight:magnitude:values" {{.*}}prune = #tfm.prune<kind = magnitude, sparsity = 2.500000e-01>{{.*}} : tensor<4x8xf32>
// HALF: tfm.linear %{{.*}}, %[[D]] {{.*}}prune = #tfm.prune<kind = magnitude, sparsity = 2.500000e-01>

// F = 0.25: m = 16, the threshold is a small magnitude (0.125), and nothing
// is strictly below it: both layers keep every weight.
// QUARTER: sparsity = 0.000000e+00 : f64
// QUARTER-SAME: sparsity = 0.000000e+00 : f64
// QUARTER-SAME: threshold = 1.250000e-01 : f64
// QUARTER-SAME: weight_bytes_after = 256 : i64

// ZERO: sparsity = 0.000000e+00 : f64
// ZERO-SAME: sparsity = 0.000000e+00 : f64

