// RUN: tmc-opt %s --tfm-low-rank=scheme=rank:4 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: tmc-opt %s --tfm-low-rank=scheme=rank:6 2>&1 | FileCheck %s --check-prefix=DENSE
// RUN: tmc-opt %s --tfm-low-rank="scheme=rank:100 force=true" 2>&1 | FileCheck %s --check-prefix=FORCE
// RUN: tmc-opt %s --tfm-low-rank=scheme=energy:0.9 2>&1 | FileCheck %s --check-prefix=ENERGY90
// RUN: tmc-opt %s --tfm-low-rank=scheme=energy:0.99 2>&1 | FileCheck %s --check-prefix=ENERGY99
// RUN: tmc-opt %s --tfm-low-rank=scheme=params:0.5 2>&1 | FileCheck %s --check-prefix=PARAMS
// RUN: tmc-opt %s --tfm-low-rank=scheme=params:0.25 2>&1 | FileCheck %s --check-prefix=PARAMS25
// RUN: tmc-opt %s --tfm-low-rank=scheme=none | FileCheck %s --check-prefix=NONE
// RUN: tmc-opt %s --tfm-low-rank=scheme=rank:2 --tfm-quantize=scheme=int8 2>&1 | FileCheck %s --check-prefix=QUANT

// fc1 (16 x 16) has singular values 8, 4, 2, 1, 1/2, ...: 75% of its energy
// in the first, 94% in two, 98% in three, 99.6% in four. fc2 (8 x 16,
// stored [in, out]) has eight singular values of 3. The head's weight is
// used twice, so factoring it would add bytes.
module {
func.func @forward(%x: tensor<1x4x16xf32> {tfm.name = "x"}) -> (tensor<1x4x4xf32> {tfm.name = "y"}) {
  %w1 = tfm.param "fc1.weight" {value = dense<[[8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.125, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0625, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03125, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.015625, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0078125, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.00390625, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.00195312, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.000976562, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.000488281, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.000244141]]> : tensor<16x16xf32>} : tensor<16x16xf32>
  %b1 = tfm.param "fc1.bias" {value = dense<0.1> : tensor<16xf32>} : tensor<16xf32>
  %h1 = tfm.linear %x, %w1, %b1 : tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>
  %w2 = tfm.param "fc2.weight" {value = dense<[[3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<16x8xf32>} : tensor<16x8xf32>
  %h2 = tfm.linear %h1, %w2 {layout = #tfm<layout in_out>} : tensor<1x4x16xf32>, tensor<16x8xf32>
  %t = tfm.param "head.weight" {value = dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x8xf32>} : tensor<4x8xf32>
  %y1 = tfm.linear %h2, %t : tensor<1x4x8xf32>, tensor<4x8xf32>
  %y2 = tfm.linear %h2, %t : tensor<1x4x8xf32>, tensor<4x8xf32>
  %y = tfm.add %y1, %y2 : tensor<1x4x4xf32>
  return %y : tensor<1x4x4xf32>
}
}
