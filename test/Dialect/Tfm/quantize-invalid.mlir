// RUN: not tmc-opt %s --tfm-quantize=scheme=int3 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not tmc-opt %s --tfm-quantize=scheme=int4:g48 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not tmc-opt %s --tfm-quantize=scheme=int8:asym 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not tmc-opt %s --tfm-quantize=overrides=fc 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// RUN: tmc-opt %s --tfm-quantize=scheme=int4:g128 2>&1 | FileCheck %s --check-prefix=REMARK

// SCHEME: error: tfm-quantize: unknown quantization scheme 'int3' (expected int8, w8a8, int4[:gN][:asym][:f16], ternary, binary, fp16, bf16 or none)
// GROUP: error: int4 group size must be 32, 64 or 128, got 48
// OPTION: error: tfm-quantize: unknown option 'asym' in 'int8:asym'
// OVERRIDE: error: tfm-quantize: override 'fc' is not GLOB=SCHEME
// REMARK: remark: left in fp32: int4 cannot pack a weight of 16 x 64
// REMARK: tfm.linear

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @f(%x: tensor<1x4x64xf32>) -> tensor<1x4x16xf32> {
  %w = tfm.param "fc.weight" : tensor<16x64xf32>
  %y = tfm.linear %x, %w : tensor<1x4x64xf32>, tensor<16x64xf32>
  return %y : tensor<1x4x16xf32>
}
}
