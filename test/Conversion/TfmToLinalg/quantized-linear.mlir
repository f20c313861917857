// A quantized linear reads its packed weight directly: after lowering and
// bufferization no f32 buffer of the weight's size (256 x 64) exists, and the
// dequantizing generic becomes a call to the packed-weight kernel.
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 quantize=int8" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s --check-prefix=BUF
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 quantize=int4:g32" --mlir-print-ir-after=tmc-plan-buffers 2>&1 >/dev/null | FileCheck %s --check-prefix=BUF
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 quantize=int8" --mlir-print-ir-after=tmc-linalg-to-kernels 2>&1 >/dev/null | FileCheck %s --check-prefix=CALL8
// RUN: tmc-opt %s --tmc-cpu-pipeline="seq-len=0 quantize=int4:g32:asym:f16" --mlir-print-ir-after=tmc-linalg-to-kernels 2>&1 >/dev/null | FileCheck %s --check-prefix=CALL4
// RUN: tmc-opt %s --tfm-quantize=scheme=int4:g32 --tfm-bind-weights --convert-tfm-to-linalg | FileCheck %s --check-prefix=GENERIC

// BUF-LABEL: func.func @forward
// BUF-NOT: memref<256x64xf32>
// BUF-NOT: memref<64x256xf32>
// BUF: return

// CALL8: func.func private @tmc_rt_qmatmul_int8_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CALL8: call @tmc_rt_qmatmul_int8_f32(
// CALL8-NOT: linalg.generic {{.*}}tmc.qmatmul

// CALL4: func.func private @tmc_rt_qmatmul_int4h_f32({{.*}}memref<?x?xi8, {{.*}}memref<?x?xf16, {{.*}}memref<?x?xf16,
// CALL4: call @tmc_rt_qmatmul_int4h_f32(

// GENERIC: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// GENERIC: #[[S:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
// GENERIC: linalg.generic {indexing_maps = [#{{.*}}, #[[W]], #[[S]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<256x32xi8>, tensor<256x2xf32>) outs(%{{.*}} : tensor<4x256xf32>) attrs = {tmc.qmatmul = "tmc_rt_qmatmul_int4_f32"}
// GENERIC: arith.shrui
// GENERIC: arith.sitofp
// GENERIC: } -> tensor<4x256xf32>

module {
func.func @forward(%x: tensor<1x4x64xf32> {tfm.name = "x"}) -> (tensor<1x4x256xf32> {tfm.name = "y"}) {
  %w = tfm.param "fc.weight" {value = dense<0.5> : tensor<256x64xf32>} : tensor<256x64xf32>
  %y = tfm.linear %x, %w : tensor<1x4x64xf32>, tensor<256x64xf32>
  return %y : tensor<1x4x256xf32>
}
}
