// RUN: tmc-opt %s --tfm-quantize=scheme=int8 | FileCheck %s
// RUN: tmc-opt %s --tfm-quantize=scheme=int4:g32 | FileCheck %s --check-prefix=INT4
// RUN: tmc-opt %s --tfm-quantize=scheme=w8a8 | FileCheck %s --check-prefix=W8A8
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 overrides=wpe.*=none" | FileCheck %s --check-prefix=OVERRIDE
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 keep-first-last" | FileCheck %s --check-prefix=KEEP
// RUN: tmc-opt %s --tfm-quantize=scheme=int8 --tfm-set-seq-len=seq-len=4 --tfm-inline-layers --tfm-bind-weights --convert-tfm-to-linalg | FileCheck %s --check-prefix=LOWERED

// Token and position tables are quantized like weights of `vocab` outputs;
// the tied LM head reads the same packed table (one copy, counted once).
module attributes {tfm.weights_file = "w.safetensors"} {
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x96xf32> {
  %wte = tfm.param "wte.weight" : tensor<96x64xf32>
  %wpe = tfm.param "wpe.weight" : tensor<32x64xf32>
  %pos = tfm.positions like %ids : tensor<1x?xi64>
  %e = tfm.embedding %wte[%ids] : tensor<96x64xf32>, tensor<1x?xi64>
  %p = tfm.embedding %wpe[%pos] : tensor<32x64xf32>, tensor<1x?xi64>
  %x = tfm.add %e, %p : tensor<1x?x64xf32>
  %l = tfm.linear %x, %wte : tensor<1x?x64xf32>, tensor<96x64xf32>
  return %l : tensor<1x?x96xf32>
}
}

// 96 x 64 int8 + 96 f32 scales = 6528 bytes; 32 x 64 + 32 x 4 = 2176.
// CHECK: tmc.transforms = [{embedding_lookups = 2 : i64, linear_layers = 1 : i64, output_error_skipped = "{{.*}}w.safetensors{{.*}}", parameters = [{bytes_after = 6528 : i64, bytes_before = 24576 : i64, name = "wte.weight", scheme = "int8"}, {bytes_after = 2176 : i64, bytes_before = 8192 : i64, name = "wpe.weight", scheme = "int8"}], pass = "tfm-quantize", scheme = "int8", weight_bytes_after = 8704 : i64, weight_bytes_before = 32768 : i64}]
// CHECK-NOT: tfm.param "wte.weight" :
// CHECK: %[[V:.*]] = tfm.param "wte.weight:int8:values" {{.*}} : tensor<96x64xi8>
// CHECK: %[[S:.*]] = tfm.param "wte.weight:int8:scales" {{.*}} : tensor<96x1xf32>
// CHECK: tfm.quantized_embedding %[[V2:.*]][%{{.*}}] scales %{{.*}} {quant = #tfm.quant<kind = int8>} : (tensor<96x64xi8>, tensor<1x?xi64>, tensor<96x1xf32>) -> tensor<1x?x64xf32>
// CHECK: tfm.quantized_embedding %{{.*}}[%{{.*}}] scales %{{.*}} {quant = #tfm.quant<kind = int8>} : (tensor<32x64xi8>, tensor<1x?xi64>, tensor<32x1xf32>) -> tensor<1x?x64xf32>
// CHECK-NOT: tfm.embedding

// INT4: tfm.quantized_embedding {{.*}} : (tensor<96x32xi8>, tensor<1x?xi64>, tensor<96x2xf32>) -> tensor<1x?x64xf32>

// W8A8 quantizes activations: the tables are int8 weight-only.
// W8A8-DAG: tfm.quantized_linear {{.*}}#tfm.quant<kind = w8a8>
// W8A8-DAG: tfm.quantized_embedding {{.*}}#tfm.quant<kind = int8>

// OVERRIDE: tfm.quantized_embedding {{.*}} : (tensor<96x64xi8>
// OVERRIDE: tfm.embedding %{{.*}}[%{{.*}}] : tensor<32x64xf32>

// KEEP-NOT: tfm.quantized
// KEEP: tfm.embedding
// KEEP-NOT: tfm.quantized

// Lowered: each lookup gathers a packed row and dequantizes it in the
// generic's body; one i8 copy of wte serves the lookup and the head.
// LOWERED-COUNT-1: memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<96x64xi8>
// LOWERED-NOT: memref<96x64xf32>
// LOWERED: linalg.generic
// LOWERED: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<96x64xi8>
// LOWERED: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<96x1xf32>
// LOWERED: arith.sitofp
// LOWERED: arith.mulf
