// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0" --mlir-print-ir-after=tmc-linalg-to-kernels 2>&1 >/dev/null | FileCheck %s

// Through the CPU pipeline, a weight gradient reaches the GEMM kernel: the
// matmul's transposed left-hand side (dy read (k, m)) is passed as a
// transposed view of dy's buffer, never copied; attention's backward stays
// one kernel call, and no buffer of seq x seq (64 x 64) elements exists.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: 64x64
// CHECK: %[[T:.*]] = memref.transpose %{{.*}} (d0, d1) -> (d1, d0) : memref<64x32xf32{{.*}}> to memref<32x64xf32, strided<[1, 32]{{.*}}>>
// CHECK: %[[A:.*]] = memref.cast %[[T]] : memref<32x64xf32, strided<[1, 32]{{.*}}>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @tmc_rt_matmul_nn_f32(%[[A]], %{{.*}}, %{{.*}})
// CHECK-NOT: linalg.matmul
// CHECK: call @tmc_rt_attention_grad(
// CHECK-NOT: 64x64
// CHECK: return
func.func @forward(%x: tensor<1x64x16xf32> {tfm.name = "x"}, %dy: tensor<1x64x32xf32> {tfm.name = "dy"},
                   %k: tensor<1x64x16xf32> {tfm.name = "k"})
    -> (tensor<32x16xf32> {tfm.name = "dw"}, tensor<1x64x32xf32> {tfm.name = "dq"}) {
  %dw = tfm.linear_weight_grad %x, %dy : tensor<1x64x16xf32>, tensor<1x64x32xf32> -> tensor<32x16xf32>
  %dq, %dk, %dv = tfm.attention_grad %dy, %k, %k, %dy {num_heads = 4, num_kv_heads = 2, causal} : tensor<1x64x32xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
  return %dw, %dq : tensor<32x16xf32>, tensor<1x64x32xf32>
}
