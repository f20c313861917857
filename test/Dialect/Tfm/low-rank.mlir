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

// Rank 4: both factorized, the bias on the second linear; fc2's [in, out]
// weight becomes [out, in] factors. The shared head stays, with a remark.
// RANK: remark: left dense: its weight 'head.weight' has other users, so factors would add bytes
// RANK: tmc.transforms = [{activation_aware = false, layers = [{bytes_after = 512 : i64, bytes_before = 1024 : i64, name = "fc1.weight", rank = 4 : i64, rel_error = 0.0624999{{[0-9]*}} : f64, shape = [16, 16]}, {bytes_after = 384 : i64, bytes_before = 512 : i64, name = "fc2.weight", rank = 4 : i64, rel_error = 0.707106{{[0-9]*}} : f64, shape = [8, 16]}], linear_layers = 2 : i64, pass = "tfm-low-rank", scheme = "rank:4", weight_bytes_after = 896 : i64, weight_bytes_before = 1536 : i64}]
// RANK-LABEL: func.func @forward
// RANK-DAG: %[[B1:.*]] = tfm.param "fc1.bias"
// RANK-DAG: %[[V1:.*]] = tfm.param "fc1.weight:lowrank:v" {value = dense_resource<{{.*}}> : tensor<4x16xf32>} : tensor<4x16xf32>
// RANK-DAG: %[[U1:.*]] = tfm.param "fc1.weight:lowrank:u" {value = dense_resource<{{.*}}> : tensor<16x4xf32>} : tensor<16x4xf32>
// RANK: %[[H:.*]] = tfm.linear %{{.*}}, %[[V1]] : tensor<1x4x16xf32>, tensor<4x16xf32>
// RANK: tfm.linear %[[H]], %[[U1]], %[[B1]] : tensor<1x4x4xf32>, tensor<16x4xf32>, tensor<16xf32>
// RANK: tfm.param "fc2.weight:lowrank:v" {{.*}} : tensor<4x16xf32>
// RANK: tfm.param "fc2.weight:lowrank:u" {{.*}} : tensor<8x4xf32>
// RANK-NOT: tfm.param "fc1.weight"
// RANK-NOT: tfm.param "fc2.weight"
// RANK: tfm.param "head.weight"

// Rank 6 of fc2 (8 x 16) would keep 144 weights against 128.
// DENSE: remark: left dense: rank 6 of a 8 x 16 weight keeps 144 weights, not fewer than 128
// DENSE: layers = [{{{.*}}name = "fc1.weight", rank = 6 : i64{{.*}}}], linear_layers = 1 : i64
// DENSE: tfm.param "fc2.weight"

// Forced full rank (rank clamped to min(N, K)): exact up to fp32 rounding.
// The head weight's bytes are saved once both of its users are factorized.
// FORCE-NOT: remark
// FORCE: name = "fc1.weight", rank = 16 : i64, rel_error = {{[0-9.]+}}E-8
// FORCE: name = "fc2.weight", rank = 8 : i64, rel_error = {{[0-9.]+}}E-8
// FORCE: name = "head.weight", rank = 4 : i64
// FORCE: name = "head.weight", rank = 4 : i64
// FORCE-SAME: weight_bytes_after = 3200 : i64, weight_bytes_before = 1664 : i64
// FORCE-NOT: tfm.param "head.weight" {

// Energy: fc1 keeps 94% in rank 2, 99.6% in rank 4; fc2's flat spectrum
// needs all eight, which saves nothing.
// ENERGY90: remark: left dense: rank 8 of a 8 x 16 weight keeps 192 weights, not fewer than 128
// ENERGY90: layers = [{{{.*}}name = "fc1.weight", rank = 2 : i64{{.*}}}], linear_layers = 1
// ENERGY99: layers = [{{{.*}}name = "fc1.weight", rank = 4 : i64{{.*}}}], linear_layers = 1

// A budget of half of the 384 weights: fc1 at rank 2 (64), and fc2 back to
// dense (128), since its flat spectrum loses most per saved weight.
// PARAMS: remark: left dense: rank 8 of a 8 x 16 weight keeps 192 weights
// PARAMS: layers = [{{{.*}}name = "fc1.weight", rank = 2 : i64{{.*}}}], linear_layers = 1
// A quarter (96): fc1 rank 2 and fc2 rank 1 (88 weights).
// PARAMS25: layers = [{{{.*}}name = "fc1.weight", rank = 2 : i64{{.*}}}, {{{.*}}name = "fc2.weight", rank = 1 : i64{{.*}}}], linear_layers = 2

// NONE-NOT: tmc.transforms
// NONE-NOT: lowrank

// The factors are ordinary weights: tfm-quantize packs them.
// QUANT: tfm.param "fc1.weight:lowrank:v:int8:values" {{.*}}source = "fc1.weight:lowrank:v"{{.*}} : tensor<2x16xi8>
// QUANT: tfm.quantized_linear
