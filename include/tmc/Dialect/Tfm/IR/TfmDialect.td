//===- TfmDialect.td - The tfm dialect definition ----------*- tablegen -*-===//
//
// The tfm dialect describes transformer blocks with value semantics on
// tensors. Its ops are the vocabulary that TMC's memory transforms reason in.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_TFMDIALECT_TD
#define TMC_DIALECT_TFM_IR_TFMDIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::mlir::tfm";
  let summary = "Transformer blocks with value semantics on tensors";
  let description = [{
    The `tfm` dialect describes the blocks of transformer models (GPT-2, BERT,
    LLaMA and their relatives) at the level where memory decisions are made:
    which attention pattern, which precision, which rank, what to recompute.
    All ops work on ranked tensors with value semantics; activations are laid
    out `[batch, sequence, features]` and multi-head tensors keep their heads
    folded into the feature dimension (`heads * head_dim`), so a block needs
    no reshapes or transposes.

    Parameters are named (`tfm.param`): their values are either inline
    (`dense_resource` blobs or dense attributes) or taken by name from the
    safetensors file that the module's `tfm.weights_file` attribute names.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let extraClassDeclaration = [{
    /// Registers the dialect's attributes (defined in TfmAttrs.cpp).
    void registerAttributes();

    /// Name of the module attribute that names an external weights file.
    static constexpr ::llvm::StringLiteral getWeightsFileAttrName() {
      return ::llvm::StringLiteral("tfm.weights_file");
    }
    /// Name of the argument/result attribute carrying a model I/O name.
    static constexpr ::llvm::StringLiteral getIONameAttrName() {
      return ::llvm::StringLiteral("tfm.name");
    }
    /// Name of the unit argument attribute of an input that the runtime
    /// passes in host memory on every target (a decoding step's position
    /// and length: the host code reads them to place the chunk).
    static constexpr ::llvm::StringLiteral getHostArgAttrName() {
      return ::llvm::StringLiteral("tfm.host");
    }
  }];
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // TMC_DIALECT_TFM_IR_TFMDIALECT_TD
