// RUN: tmc-opt %s --tfm-quantize=scheme=fp16 | FileCheck %s --check-prefix=FP16
// RUN: tmc-opt %s --tfm-quantize=scheme=int8 | FileCheck %s --check-prefix=INT8
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 output-error=false" | FileCheck %s --check-prefix=OFF
// RUN: tmc-opt %s --tfm-quantize=scheme=w8a8 | FileCheck %s --check-prefix=W8A8
// RUN: %python -c "import numpy as np, sys; np.save(sys.argv[1], np.array([[1, 5, 9, 2]], dtype=np.int64))" %t.ids.npy
// RUN: tmc-opt %s "--tfm-quantize=scheme=int8 calibration=%t.ids.npy" | FileCheck %s --check-prefix=INT8
// RUN: %python -c "import numpy as np, sys; np.save(sys.argv[1], np.array([[1, 16]], dtype=np.int64))" %t.bad-id.npy
// RUN: %python -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((1, 4), dtype=np.float32))" %t.bad-type.npy
// RUN: not tmc-opt %s "--tfm-quantize=scheme=int8 calibration=%t.missing.npy" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tmc-opt %s "--tfm-quantize=scheme=int8 calibration=%t.bad-id.npy" 2>&1 | FileCheck %s --check-prefix=BADID
// RUN: not tmc-opt %s "--tfm-quantize=scheme=int8 calibration=%t.bad-type.npy" 2>&1 | FileCheck %s --check-prefix=BADTYPE
// RUN: not tmc-opt %s "--tfm-quantize=scheme=int8 calibration-tokens=0" 2>&1 | FileCheck %s --check-prefix=TOKENS

// The output error of quantization, measured by the reference evaluator on
// random calibration tokens (or a file): weights that are multiples of
// 1/8 are exact in fp16, not in int8.
module {
func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?x8xf32> attributes {tfm.max_positions = 4 : i64} {
  %wte = tfm.param "wte.weight" {value = dense<[[-0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375], [-0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25], [-0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125], [0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0], [0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125], [0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25], [0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375], [-0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375], [-0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25], [-0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125], [0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0], [0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125], [0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25], [0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375], [-0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375], [-0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25]]> : tensor<16x8xf32>} : tensor<16x8xf32>
  %w = tfm.param "fc.weight" {value = dense<[[-0.375, 0.25, 0.0, -0.25, 0.375, 0.125, -0.125, -0.375], [0.0, -0.25, 0.375, 0.125, -0.125, -0.375, 0.25, 0.0], [0.375, 0.125, -0.125, -0.375, 0.25, 0.0, -0.25, 0.375], [-0.125, -0.375, 0.25, 0.0, -0.25, 0.375, 0.125, -0.125], [0.25, 0.0, -0.25, 0.375, 0.125, -0.125, -0.375, 0.25], [-0.25, 0.375, 0.125, -0.125, -0.375, 0.25, 0.0, -0.25], [0.125, -0.125, -0.375, 0.25, 0.0, -0.25, 0.375, 0.125], [-0.375, 0.25, 0.0, -0.25, 0.375, 0.125, -0.125, -0.375]]> : tensor<8x8xf32>} : tensor<8x8xf32>
  %e = tfm.embedding %wte[%ids] : tensor<16x8xf32>, tensor<1x?xi64>
  %y = tfm.linear %e, %w : tensor<1x?x8xf32>, tensor<8x8xf32>
  return %y : tensor<1x?x8xf32>
}
}

// FP16: tmc.transforms = [{embedding_lookups = 1 : i64, linear_layers = 1 : i64, output_rel_l2 = 0.000000e+00 : f64, parameters = [
// FP16-SAME: {bytes_after = 128 : i64, bytes_before = 256 : i64, layer_output_rel_l2 = 0.000000e+00 : f64, name = "fc.weight", scheme = "fp16"}
// FP16-SAME: {bytes_after = 256 : i64, bytes_before = 512 : i64, name = "wte.weight", scheme = "fp16"}

// A nonzero error, below 1%, in the model and in the layer (zero prints as
// 0.000000e+00).
// INT8: tmc.transforms = [{embedding_lookups = 1 : i64, linear_layers = 1 : i64, output_rel_l2 = {{0\.00[0-9]+}} : f64, parameters = [
// INT8-SAME: {bytes_after = 96 : i64, bytes_before = 256 : i64, layer_output_rel_l2 = {{0\.00[0-9]+}} : f64, name = "fc.weight", scheme = "int8"}

// W8A8's weights are int8 too: the same error, without the run-time
// quantization of activations, which the record says.
// W8A8: tmc.transforms = [{embedding_lookups = 1 : i64, linear_layers = 1 : i64, output_error_weights_only = true, output_rel_l2 = {{0\.00[0-9]+}} : f64, parameters = [

// OFF: tmc.transforms = [{embedding_lookups = 1 : i64, linear_layers = 1 : i64, parameters = [
// OFF-NOT: output_rel_l2

// MISSING: error: tfm-quantize: calibration input: {{.*}}missing.npy
// BADID: error: tfm-quantize: calibration input '{{.*}}bad-id.npy' holds token id 16 outside [0, 16)
// BADTYPE: error: tfm-quantize: calibration input '{{.*}}bad-type.npy' must hold int64 token ids of shape [1, S]
// TOKENS: error: tfm-quantize: calibration-tokens must be positive
