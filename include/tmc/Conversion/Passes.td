//===- Passes.td - TMC conversion passes -------------------*- tablegen -*-===//
//
// Lowerings out of the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_CONVERSION_PASSES_TD
#define TMC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToLinalg : Pass<"convert-tfm-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower tfm ops to linalg, tensor, arith, math and scf";
  let description = [{
    Lowers every tfm op on statically shaped tensors to upstream dialects on
    tensors, ready for one-shot bufferization:
    - `tfm.linear` becomes a `linalg.matmul` (with a transposed indexing map
      for `out_in` weights) accumulating into the broadcast bias;
    - norms, activations and residual adds become `linalg.generic` ops
      (reductions in fp32 over the last dimension, then elementwise);
    - `tfm.embedding` and `tfm.rope` become gathers in a `linalg.generic`;
    - `tfm.attention` becomes a loop over batch and heads (`scf.for`) that,
      per head, computes the scores with a `linalg.matmul` against the
      transposed keys, masks (causal and sparsity pattern) and applies a
      numerically safe softmax (row maximum subtracted), and multiplies by
      the values: the scores of one head at a time are live, never all
      heads' together.
    Parameters must already be bound (`tfm-bind-weights`) and layers
    inlined (`tfm-inline-layers`); shapes must be static (`tfm-set-seq-len`).
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::affine::AffineDialect"
  ];
}

#endif // TMC_CONVERSION_PASSES_TD
