// After lowering and bufferization no buffer of n x n (or heads x n x n)
// elements exists, for dense attention and every pattern: only tiles.
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 attention-block-q=16 attention-block-k=16" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 attention=window:8 attention-block-q=16 attention-block-k=16" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 attention=dilated:4,3 attention-block-q=16 attention-block-k=16" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 attention=strided:16,2 attention-block-q=16 attention-block-k=16" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 attention=bigbird:3,8,1,16 attention-block-q=16 attention-block-k=16" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK-NOT: x64x64x
// CHECK-NOT: <64x64x
// CHECK-NOT: x64x64xf32
// CHECK: memref<16x16xf32>
// CHECK-NOT: x64x64x
// CHECK-NOT: <64x64x
// CHECK: return

func.func @forward(%q: tensor<1x64x32xf32> {tfm.name = "q"}) -> (tensor<1x64x32xf32> {tfm.name = "out"}) {
  %o = tfm.attention %q, %q, %q {num_heads = 2, num_kv_heads = 2, causal} : tensor<1x64x32xf32>, tensor<1x64x32xf32>, tensor<1x64x32xf32>
  return %o : tensor<1x64x32xf32>
}
