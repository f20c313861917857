// Upstream mlir-opt with TMC's plugins: the dialect plugin lets it parse and
// print tfm; the pass plugin adds TMC's passes and pipeline, reachable
// through --pass-pipeline.

// RUN: mlir-opt --load-dialect-plugin=%tmc_dialect_plugin %s \
// RUN:   | FileCheck %s --check-prefix=PARSE

// RUN: mlir-opt --load-dialect-plugin=%tmc_dialect_plugin \
// RUN:   --load-pass-plugin=%tmc_pass_plugin \
// RUN:   --pass-pipeline='builtin.module(tfm-set-seq-len{seq-len=4},func.func(tfm-inline-layers))' %s \
// RUN:   | FileCheck %s --check-prefix=PASSES

// RUN: not mlir-opt --load-dialect-plugin=%tmc_dialect_plugin \
// RUN:   --pass-pipeline='builtin.module(tfm-set-seq-len{seq-len=4})' %s 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOPASS

// The whole CPU pipeline on the bundled GPT-2 example.
// RUN: mlir-opt --load-dialect-plugin=%tmc_dialect_plugin \
// RUN:   --load-pass-plugin=%tmc_pass_plugin \
// RUN:   --pass-pipeline='builtin.module(tmc-cpu-pipeline{seq-len=8})' %examples/gpt2.mlir \
// RUN:   | FileCheck %s --check-prefix=PIPELINE

// PARSE-LABEL: func.func @forward
// PARSE: tfm.embedding %{{.*}}[%{{.*}}] : tensor<16x8xf32>, tensor<1x?xi64>
// PARSE: tfm.layer "h.0" index 0

// PASSES-LABEL: func.func @forward
// PASSES-SAME: tensor<1x4xi64>
// PASSES-SAME: -> (tensor<1x4x8xf32>
// PASSES-NOT: tfm.layer
// PASSES: tfm.activation gelu_tanh %{{.*}} : tensor<1x4x8xf32>

// NOPASS: 'tfm-set-seq-len' does not refer to a registered pass or pass pipeline

// PIPELINE: llvm.mlir.global internal constant @tmc_model_signature_text("{{.*}}input input_ids i64 2 1 8{{.*}}output logits f32 3 1 8 128
// PIPELINE: llvm.func @tmc_model_forward

func.func @forward(%ids: tensor<1x?xi64> {tfm.name = "input_ids"})
    -> (tensor<1x?x8xf32> {tfm.name = "hidden"}) {
  %table = tfm.param "wte" {value = dense<0.5> : tensor<16x8xf32>} : tensor<16x8xf32>
  %x = tfm.embedding %table[%ids] : tensor<16x8xf32>, tensor<1x?xi64>
  %y = tfm.layer "h.0" index 0 (%x) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%a: tensor<1x?x8xf32>):
    %g = tfm.activation gelu_tanh %a : tensor<1x?x8xf32>
    tfm.yield %g : tensor<1x?x8xf32>
  }
  return %y : tensor<1x?x8xf32>
}
