// RUN: tmc-opt %s --split-input-file --tmc-fuse-elementwise | FileCheck %s

// The embeddings of a gpt2: token lookup, positions, position lookup and
// their sum become one op that computes each element from the ids and the
// two tables.
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @embeddings
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x16xi64>, %[[WTE:.*]]: tensor<128x64xf32>, %[[WPE:.*]]: tensor<32x64xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: ins(%[[IDS]] : tensor<1x16xi64>)
// CHECK-DAG: tensor.extract %[[WTE]]
// CHECK-DAG: tensor.extract %[[WPE]]
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
// CHECK: return %[[SUM]]
func.func @embeddings(%ids: tensor<1x16xi64>, %wte: tensor<128x64xf32>, %wpe: tensor<32x64xf32>) -> tensor<1x16x64xf32> {
  %e0 = tensor.empty() : tensor<1x16x64xf32>
  %tok = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x16xi64>) outs(%e0 : tensor<1x16x64xf32>) {
  ^bb0(%i: i64, %o: f32):
    %r = arith.index_cast %i : i64 to index
    %c = linalg.index 2 : index
    %v = tensor.extract %wte[%r, %c] : tensor<128x64xf32>
    linalg.yield %v : f32
  } -> tensor<1x16x64xf32>
  %e1 = tensor.empty() : tensor<1x16xi64>
  %pos = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%e1 : tensor<1x16xi64>) {
  ^bb0(%o: i64):
    %p = linalg.index 1 : index
    %q = arith.index_cast %p : index to i64
    linalg.yield %q : i64
  } -> tensor<1x16xi64>
  %e2 = tensor.empty() : tensor<1x16x64xf32>
  %pe = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos : tensor<1x16xi64>) outs(%e2 : tensor<1x16x64xf32>) {
  ^bb0(%i: i64, %o: f32):
    %r = arith.index_cast %i : i64 to index
    %c = linalg.index 2 : index
    %v = tensor.extract %wpe[%r, %c] : tensor<32x64xf32>
    linalg.yield %v : f32
  } -> tensor<1x16x64xf32>
  %e3 = tensor.empty() : tensor<1x16x64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%tok, %pe : tensor<1x16x64xf32>, tensor<1x16x64xf32>) outs(%e3 : tensor<1x16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x16x64xf32>
  return %sum : tensor<1x16x64xf32>
}

// -----

// Not fused: a value two ops use (it would be computed twice), a
// reduction's result, and an elementwise op feeding a contraction (a
// dequantization stays the matmul's input, for its kernel).
// CHECK-LABEL: func.func @two_uses
// CHECK-COUNT-3: linalg.generic
// CHECK-LABEL: func.func @reduction
// CHECK-COUNT-2: linalg.generic
// CHECK-LABEL: func.func @into_contraction
// CHECK: %[[W:.*]] = linalg.generic
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]]
func.func @two_uses(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.tanh %a : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%t : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %a, %a : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%t : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.mulf %a, %a : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %u, %w : tensor<8xf32>, tensor<8xf32>
}
func.func @reduction(%x: tensor<4x8xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %a, %o : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%sum : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.sqrt %a : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @into_contraction(%x: tensor<4x8xf32>, %q: tensor<8x16xi8>, %acc: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<8x16xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<8x16xi8>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %v = arith.sitofp %a : i8 to f32
    linalg.yield %v : f32
  } -> tensor<8x16xf32>
  %m = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %m : tensor<4x16xf32>
}
