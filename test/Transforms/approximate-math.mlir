// RUN: tmc-opt %s --tmc-approximate-math | FileCheck %s
// RUN: tmc-opt %s --pass-pipeline="builtin.module(func.func(tmc-approximate-math))" | FileCheck %s

// tanh, erf and exp on f32 (scalars and vectors) become polynomials: fma
// chains on arith and bit casts, no transcendental math op left.

// CHECK-LABEL: func.func @tanh
// CHECK-NOT: math.tanh
// CHECK: math.fma
// CHECK-NOT: math.tanh
// CHECK: return
func.func @tanh(%x: f32) -> f32 {
  %0 = math.tanh %x : f32
  return %0 : f32
}

// CHECK-LABEL: func.func @erf
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK-NOT: math.erf
// CHECK: return
func.func @erf(%x: f32) -> f32 {
  %0 = math.erf %x : f32
  return %0 : f32
}

// exp scales by 2^n built from the exponent bits.
// CHECK-LABEL: func.func @exp
// CHECK-NOT: math.exp
// CHECK: math.fma
// CHECK: arith.bitcast
// CHECK-NOT: math.exp
// CHECK: return
func.func @exp(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// CHECK-LABEL: func.func @vector_tanh
// CHECK-NOT: math.tanh
// CHECK: math.fma %{{.*}} : vector<8xf32>
// CHECK-NOT: math.tanh
// CHECK: return
func.func @vector_tanh(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.tanh %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// CHECK-LABEL: func.func @expm1
// CHECK-NOT: math.expm1
// CHECK: return
func.func @expm1(%x: f32) -> f32 {
  %0 = math.expm1 %x : f32
  return %0 : f32
}

// sin and cos stay (rotary angles are large), and so does f64 math.
// CHECK-LABEL: func.func @kept
// CHECK-SAME: (%[[X:.*]]: f32, %[[D:.*]]: f64)
// CHECK-NEXT: %[[S:.*]] = math.sin %[[X]] : f32
// CHECK-NEXT: %[[C:.*]] = math.cos %[[X]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f64
// CHECK-NEXT: return %[[S]], %[[C]], %[[E]]
func.func @kept(%x: f32, %d: f64) -> (f32, f32, f64) {
  %0 = math.sin %x : f32
  %1 = math.cos %x : f32
  %2 = math.exp %d : f64
  return %0, %1, %2 : f32, f32, f64
}

// Inside a linalg body, as the activations and softmax produce them.
// CHECK-LABEL: func.func @in_generic
// CHECK: linalg.generic
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK-NOT: math.erf
// CHECK: linalg.yield
func.func @in_generic(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.erf %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
