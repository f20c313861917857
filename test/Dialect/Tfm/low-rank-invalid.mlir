// RUN: not tmc-opt %s --tfm-low-rank=scheme=rank:0 2>&1 | FileCheck %s --check-prefix=RANK0
// RUN: not tmc-opt %s --tfm-low-rank=scheme=rank:-3 2>&1 | FileCheck %s --check-prefix=RANKNEG
// RUN: not tmc-opt %s --tfm-low-rank=scheme=rank:x 2>&1 | FileCheck %s --check-prefix=RANKX
// RUN: not tmc-opt %s --tfm-low-rank=scheme=energy:0 2>&1 | FileCheck %s --check-prefix=ENERGY0
// RUN: not tmc-opt %s --tfm-low-rank=scheme=energy:1.5 2>&1 | FileCheck %s --check-prefix=ENERGY15
// RUN: not tmc-opt %s --tfm-low-rank=scheme=params:0 2>&1 | FileCheck %s --check-prefix=PARAMS0
// RUN: not tmc-opt %s --tfm-low-rank=scheme=svd:3 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not tmc-opt %s --tfm-low-rank=scheme=rank:2 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tmc-opt %s --tfm-low-rank="scheme=rank:2 activation-aware=true" 2>&1 | FileCheck %s --check-prefix=NOEMB
// RUN: not tmc-opt %s --tfm-low-rank="scheme=rank:2 calibration=ids.npy" 2>&1 | FileCheck %s --check-prefix=CALIB

// RANK0: error: tfm-low-rank: rank must be a positive integer, got '0'
// RANKNEG: error: tfm-low-rank: rank must be a positive integer, got '-3'
// RANKX: error: tfm-low-rank: rank must be a positive integer, got 'x'
// ENERGY0: error: tfm-low-rank: energy must be a fraction in (0, 1], got '0'
// ENERGY15: error: tfm-low-rank: energy must be a fraction in (0, 1], got '1.5'
// PARAMS0: error: tfm-low-rank: params must be a fraction in (0, 1], got '0'
// UNKNOWN: error: tfm-low-rank: unknown scheme 'svd:3' (expected rank:R, energy:E, params:F or none)
// The weight's data is read at compile time: a missing file is named.
// MISSING: low-rank-invalid.mlir:[[@LINE+6]]:8: error: {{.*}}missing-weights.safetensors
// NOEMB: error: tfm-low-rank: activation-aware mode needs a model with a token embedding
// CALIB: error: tfm-low-rank: a calibration input ('ids.npy') is only used with activation-aware=true

module attributes {tfm.weights_file = "missing-weights.safetensors"} {
func.func @f(%x: tensor<1x4x64xf32>) -> tensor<1x4x16xf32> {
  %w = tfm.param "fc.weight" : tensor<16x64xf32>
  %y = tfm.linear %x, %w : tensor<1x4x64xf32>, tensor<16x64xf32>
  return %y : tensor<1x4x16xf32>
}
}
