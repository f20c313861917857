//===- Passes.td - tfm-level transformation passes ---------*- tablegen -*-===//
//
// Passes that work on the tfm dialect, where the model is still a
// transformer and semantic decisions are made.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmSetSeqLen : Pass<"tfm-set-seq-len", "::mlir::ModuleOp"> {
  let summary = "Fix a symbolic sequence length to a static size";
  let description = [{
    Models are imported with the sequence dimension of their inputs dynamic
    (`tensor<1x?xi64>`). This pass gives every function argument's dynamic
    sequence dimension the static size `seq-len`, then re-infers the result
    types of every op (and of `tfm.layer` regions) so that the whole model
    is statically shaped, as code generation requires. It fails with a
    diagnostic when a static dimension contradicts the requested length,
    or when `seq-len` exceeds the `max-positions` the model declares
    (a `tfm.max_positions` function attribute), e.g. a position table that
    has fewer rows.
  }];
  let options = [
    Option<"seqLen", "seq-len", "int64_t", /*default=*/"128",
           "Static sequence length to give every dynamic sequence dimension">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // TMC_DIALECT_TFM_TRANSFORMS_PASSES_TD
