// RUN: tmc-opt %s --convert-tfm-to-linalg=fused-norms | FileCheck %s

// With fused-norms, tfm.layer_norm and tfm.rms_norm become tfm.fused_norm
// on read-only buffers of their operands and a fresh output buffer (beta
// only for the layer norm), with their epsilons.
// CHECK-LABEL: func.func @norms
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x4x64xf32>
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK: %[[BB:.*]] = bufferization.to_buffer %[[B]] read_only
// CHECK: tfm.fused_norm %[[XB]], %[[GB]], %[[BB]] into %[[OUT]] {epsilon = 1.000000e-05 : f64}
// CHECK: %[[LN:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: %[[OUT2:.*]] = memref.alloc() : memref<1x4x64xf32>
// CHECK: %[[LNB:.*]] = bufferization.to_buffer %[[LN]] read_only
// CHECK: tfm.fused_norm %[[LNB]], %{{.*}} into %[[OUT2]] {epsilon = 9.9999999999999995E-7 : f64} : memref<1x4x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x4x64xf32>, memref<64xf32, strided<[?], offset: ?>>{{$}}
// CHECK-NOT: linalg.
func.func @norms(%x: tensor<1x4x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<1x4x64xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<1x4x64xf32>, tensor<64xf32>
  %1 = tfm.rms_norm %0, %g : tensor<1x4x64xf32>, tensor<64xf32>
  return %1 : tensor<1x4x64xf32>
}
