// RUN: tmc-opt %s --tfm-quantize=scheme=int8 | FileCheck %s --check-prefix=INT8
// RUN: tmc-opt %s --tfm-quantize=scheme=int4:g32:asym:f16 | FileCheck %s --check-prefix=INT4
// RUN: tmc-opt %s --tfm-quantize=scheme=ternary | FileCheck %s --check-prefix=TERNARY
// RUN: tmc-opt %s --tfm-quantize=scheme=binary | FileCheck %s --check-prefix=BINARY
// RUN: tmc-opt %s --tfm-quantize=scheme=bf16 | FileCheck %s --check-prefix=BF16
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 overrides=h.1.*=fp16" | FileCheck %s --check-prefix=OVERRIDE
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 keep-first-last" | FileCheck %s --check-prefix=KEEP
// RUN: tmc-opt %s --tfm-quantize=scheme=none | FileCheck %s --check-prefix=NONE

module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%x: tensor<1x4x64xf32>) -> tensor<1x4x32xf32> {
  %0 = tfm.layer "h.0" index 0 (%x) : (tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  ^bb0(%a: tensor<1x4x64xf32>):
    %w = tfm.param "h.0.fc.weight" : tensor<64x64xf32>
    %b = tfm.param "h.0.fc.bias" : tensor<64xf32>
    %y = tfm.linear %a, %w, %b : tensor<1x4x64xf32>, tensor<64x64xf32>, tensor<64xf32>
    tfm.yield %y : tensor<1x4x64xf32>
  }
  %1 = tfm.layer "h.1" index 1 (%0) : (tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  ^bb0(%a: tensor<1x4x64xf32>):
    %w = tfm.param "h.1.fc.weight" : tensor<64x64xf32>
    %y = tfm.linear %a, %w {layout = #tfm<layout in_out>} : tensor<1x4x64xf32>, tensor<64x64xf32>
    tfm.yield %y : tensor<1x4x64xf32>
  }
  %2 = tfm.layer "h.2" index 2 (%1) : (tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  ^bb0(%a: tensor<1x4x64xf32>):
    %w = tfm.param "h.2.fc.weight" : tensor<64x64xf32>
    %y = tfm.linear %a, %w : tensor<1x4x64xf32>, tensor<64x64xf32>
    tfm.yield %y : tensor<1x4x64xf32>
  }
  %head = tfm.param "head.weight" : tensor<32x64xf32>
  %3 = tfm.linear %2, %head : tensor<1x4x64xf32>, tensor<32x64xf32>
  return %3 : tensor<1x4x32xf32>
}
}

// Per parameter and in total: 64 x 64 int8 values + 64 f32 scales = 4352
// bytes instead of 16384.
// INT8: tmc.transforms = [{embedding_lookups = 0 : i64, linear_layers = 4 : i64, output_error_skipped = "no forward function with a token embedding", parameters = [{bytes_after = 4352 : i64, bytes_before = 16384 : i64, name = "h.0.fc.weight", scheme = "int8"}, {bytes_after = 4352 : i64, bytes_before = 16384 : i64, name = "h.1.fc.weight", scheme = "int8"}, {bytes_after = 4352 : i64, bytes_before = 16384 : i64, name = "h.2.fc.weight", scheme = "int8"}, {bytes_after = 2176 : i64, bytes_before = 8192 : i64, name = "head.weight", scheme = "int8"}], pass = "tfm-quantize", scheme = "int8", weight_bytes_after = 15232 : i64, weight_bytes_before = 57344 : i64}]
// INT8: tfm.layer "h.0"
// INT8: %[[V:.*]] = tfm.param "h.0.fc.weight:int8:values" {part = "values", quant = #tfm.quant<kind = int8>, source = "h.0.fc.weight", source_layout = #tfm<layout out_in>} : tensor<64x64xi8>
// INT8: %[[S:.*]] = tfm.param "h.0.fc.weight:int8:scales" {part = "scales", quant = #tfm.quant<kind = int8>, source = "h.0.fc.weight", source_layout = #tfm<layout out_in>} : tensor<64x1xf32>
// INT8: tfm.quantized_linear %{{.*}}, %[[V]] scales %[[S]] bias %{{.*}} {quant = #tfm.quant<kind = int8>}
// INT8-NOT: tfm.linear
// INT8: tfm.layer "h.1"
// INT8: source_layout = #tfm<layout in_out>

// INT4: tfm.param "h.0.fc.weight:int4:values" {{.*}} : tensor<64x32xi8>
// INT4: tfm.param "h.0.fc.weight:int4:scales" {{.*}} : tensor<64x2xf16>
// INT4: tfm.param "h.0.fc.weight:int4:zeros" {{.*}} : tensor<64x2xf16>
// INT4: tfm.quantized_linear {{.*}} zeros

// TERNARY: tfm.param "h.0.fc.weight:ternary:values" {{.*}} : tensor<64x16xi8>
// TERNARY: tfm.param "h.0.fc.weight:ternary:scales" {{.*}} : tensor<1x1xf32>
// BINARY: tfm.param "h.0.fc.weight:binary:values" {{.*}} : tensor<64x8xi8>
// BINARY: tfm.param "h.0.fc.weight:binary:scales" {{.*}} : tensor<64x1xf32>
// BF16: tfm.param "h.0.fc.weight:bf16:values" {{.*}} : tensor<64x64xbf16>
// BF16-NOT: scales

// OVERRIDE: h.0.fc.weight:int8:values
// OVERRIDE: h.1.fc.weight:fp16:values
// OVERRIDE: h.2.fc.weight:int8:values
// OVERRIDE: head.weight:int8:values

// KEEP: linear_layers = 1
// KEEP: tfm.layer "h.0"
// KEEP: tfm.linear
// KEEP: tfm.layer "h.1"
// KEEP: tfm.quantized_linear
// KEEP: tfm.layer "h.2"
// KEEP: tfm.linear
// KEEP: tfm.linear

// NONE-NOT: tfm.quantized_linear
