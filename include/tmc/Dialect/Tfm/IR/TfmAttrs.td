//===- TfmAttrs.td - tfm attributes and enums --------------*- tablegen -*-===//
//
// Typed attributes of the tfm dialect: attention sparsity patterns,
// quantization schemes and pruning schemes, plus the enums the ops use.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_DIALECT_TFM_IR_TFMATTRS_TD
#define TMC_DIALECT_TFM_IR_TFMATTRS_TD

include "tmc/Dialect/Tfm/IR/TfmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tfm_ActivationKind : I32EnumAttr<"ActivationKind",
    "elementwise activation function", [
      I32EnumAttrCase<"gelu_erf", 0>,
      I32EnumAttrCase<"gelu_tanh", 1>,
      I32EnumAttrCase<"relu", 2>,
      I32EnumAttrCase<"silu", 3>
    ]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_ActivationKindAttr
    : EnumAttr<Tfm_Dialect, Tfm_ActivationKind, "activation">;

def Tfm_LossKind : I32EnumAttr<"LossKind", "training loss", [
      I32EnumAttrCase<"cross_entropy", 0>,
      I32EnumAttrCase<"mse", 1>,
      I32EnumAttrCase<"kl_div", 2>
    ]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_LossKindAttr : EnumAttr<Tfm_Dialect, Tfm_LossKind, "loss">;

def Tfm_WeightLayout : I32EnumAttr<"WeightLayout",
    "storage layout of a linear layer's weight", [
      I32EnumAttrCase<"out_in", 0>,
      I32EnumAttrCase<"in_out", 1>
    ]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_WeightLayoutAttr
    : EnumAttr<Tfm_Dialect, Tfm_WeightLayout, "layout">;

def Tfm_QuantKind : I32EnumAttr<"QuantKind", "weight quantization scheme", [
      I32EnumAttrCase<"int8", 0>,
      I32EnumAttrCase<"w8a8", 1>,
      I32EnumAttrCase<"int4", 2>,
      I32EnumAttrCase<"ternary", 3>,
      I32EnumAttrCase<"binary", 4>,
      I32EnumAttrCase<"fp16", 5>,
      I32EnumAttrCase<"bf16", 6>
    ]> {
  let cppNamespace = "::mlir::tfm";
}

def Tfm_PruneKind : I32EnumAttr<"PruneKind", "weight pruning scheme", [
      I32EnumAttrCase<"magnitude", 0>,
      I32EnumAttrCase<"two_four", 1>
    ]> {
  let cppNamespace = "::mlir::tfm";
}

//===----------------------------------------------------------------------===//
// Sparsity pattern interface
//===----------------------------------------------------------------------===//

def Tfm_SparsityPatternAttrInterface
    : AttrInterface<"SparsityPatternAttrInterface"> {
  let cppNamespace = "::mlir::tfm";
  let description = [{
    An attention sparsity pattern: a rule that says which key positions a
    query position attends to. The rule is independent of causality; the
    attention op intersects it with the causal mask when it is causal.
  }];
  let methods = [
    InterfaceMethod<[{
        Returns true if query position `query` attends to key position `key`
        in a sequence of `seqLen` keys (before any causal mask).
      }],
      "bool", "isKept",
      (ins "int64_t":$query, "int64_t":$key, "int64_t":$seqLen)>,
    InterfaceMethod<[{
        Classifies the block of queries [q0, q1) x keys [k0, k1): returns 0
        when the pattern keeps none of its elements, 1 when it keeps all of
        them, 2 when it keeps some. Exact for 0 and 1 (2 may be returned for
        a block kept whole only where deciding would cost as much as
        enumerating it). Lets the attention lowering enumerate kept blocks
        in time proportional to what is kept, not to n^2.
      }],
      "int", "classifyBlock",
      (ins "int64_t":$q0, "int64_t":$q1, "int64_t":$k0, "int64_t":$k1,
           "int64_t":$seqLen)>,
    InterfaceMethod<[{
        Checks the pattern against a static key sequence length and reports
        an error through `emitError` when it does not fit.
      }],
      "::llvm::LogicalResult", "verifyForSequence",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "int64_t":$seqLen)>
  ];
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Tfm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tfm_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tfm_WindowAttr : Tfm_Attr<"Window", "window",
    [DeclareAttrInterfaceMethods<Tfm_SparsityPatternAttrInterface>]> {
  let summary = "sliding-window attention pattern";
  let description = [{
    Query `i` attends to key `j` when `|i - j| < size` (Longformer's local
    window). With causal attention this is the window of the `size` most
    recent positions, `i - size < j <= i`.

    ```mlir
    #tfm.window<size = 256>
    ```
  }];
  let parameters = (ins "int64_t":$size);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_DilatedWindowAttr : Tfm_Attr<"DilatedWindow", "dilated_window",
    [DeclareAttrInterfaceMethods<Tfm_SparsityPatternAttrInterface>]> {
  let summary = "dilated sliding-window attention pattern";
  let description = [{
    Query `i` attends to key `j` when `(i - j) mod dilation == 0` and
    `|i - j| < size * dilation`: a window of `size` keys on each side, taking
    every `dilation`-th position (Longformer's dilated window).

    ```mlir
    #tfm.dilated_window<size = 64, dilation = 2>
    ```
  }];
  let parameters = (ins "int64_t":$size, "int64_t":$dilation);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_StridedAttr : Tfm_Attr<"Strided", "strided",
    [DeclareAttrInterfaceMethods<Tfm_SparsityPatternAttrInterface>]> {
  let summary = "fixed (strided) attention pattern of the Sparse Transformer";
  let description = [{
    The sequence is cut into blocks of `stride` positions. Query `i` attends
    to key `j` when both lie in the same block (`i / stride == j / stride`)
    or when `j` is one of the `summary` last positions of its block
    (`j mod stride >= stride - summary`), the "summary columns" through which
    information flows between blocks (Child et al., 2019, fixed pattern).

    ```mlir
    #tfm.strided<stride = 64, summary = 8>
    ```
  }];
  let parameters = (ins "int64_t":$stride, "int64_t":$summary);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_BlockSparseAttr : Tfm_Attr<"BlockSparse", "block_sparse",
    [DeclareAttrInterfaceMethods<Tfm_SparsityPatternAttrInterface>]> {
  let summary = "block-sparse attention with global tokens (BigBird)";
  let description = [{
    Positions are grouped into blocks of `block` tokens. Query block `qb`
    attends to key block `kb` when `|qb - kb| <= window / 2` (a sliding
    window of `window` blocks, `window` odd), when either block holds one of
    the first `global` tokens (global tokens attend everywhere and are
    attended by all), or when `kb` is one of the `random` blocks drawn for
    `qb` from a generator seeded with `seed`. The random choice is
    deterministic: the same attribute always keeps the same blocks. Draw
    `t` (t = 0, 1, ...) for query block `qb` among `n` blocks is
    `splitmix64(seed * 1000003 + qb * 7919 + t) mod n` (splitmix64 as in
    Vigna's reference), skipping values already drawn, until
    `min(random, n)` distinct blocks are drawn.

    ```mlir
    #tfm.block_sparse<block = 64, window = 3, global = 64, random = 1, seed = 0>
    ```
  }];
  let parameters = (ins "int64_t":$block, "int64_t":$window,
                        "int64_t":$global, "int64_t":$random, "int64_t":$seed);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Returns true if key block `keyBlock` is one of the random blocks of
    /// query block `queryBlock` among `numBlocks` blocks.
    bool isRandomBlock(int64_t queryBlock, int64_t keyBlock,
                       int64_t numBlocks) const;
    /// Returns the random key blocks of query block `queryBlock`.
    ::llvm::SmallVector<int64_t> getRandomBlocks(int64_t queryBlock,
                                                 int64_t numBlocks) const;
  }];
}

def Tfm_QuantSchemeAttr : Tfm_Attr<"QuantScheme", "quant"> {
  let summary = "weight quantization scheme";
  let description = [{
    How a linear layer's weight is stored:
    - `int8`: per-output-channel symmetric int8, weight only;
    - `w8a8`: int8 weights as above and dynamic per-token int8 activations;
    - `int4`: group-wise int4 along the input dimension, `group_size` of 32,
      64 or 128, symmetric or with zero-points, `f16` or `f32` scales;
    - `ternary`: {-1, 0, +1} with an absmean scale (BitNet b1.58);
    - `binary`: {-1, +1} with a per-channel mean-absolute scale (XNOR-Net);
    - `fp16` / `bf16`: half-precision storage, fp32 accumulation.

    ```mlir
    #tfm.quant<kind = int4, group_size = 128, symmetric = false, scale_type = f16>
    ```
  }];
  let parameters = (ins
    "::mlir::tfm::QuantKind":$kind,
    DefaultValuedParameter<"int64_t", "0">:$group_size,
    DefaultValuedParameter<"bool", "true">:$symmetric,
    DefaultValuedParameter<"::mlir::Type",
        "::mlir::Float32Type::get($_ctxt)">:$scale_type);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The packed forms of an [n, k] weight: the values, and the scales and
    /// zero-points (null types where the scheme has none). Fails when `k`
    /// is not a multiple of what the packing needs (the group, 2, 4 or 8).
    ::llvm::LogicalResult getPackedShapes(int64_t n, int64_t k,
                                          ::mlir::RankedTensorType &values,
                                          ::mlir::RankedTensorType &scales,
                                          ::mlir::RankedTensorType &zeros) const;
    /// The number of weights one byte of packed values holds (1 for
    /// byte-sized and wider storage).
    int64_t getWeightsPerByte() const;
  }];
}

/// A fraction in [0, 1), written as a plain decimal (`sparsity = 0.5`).
def Tfm_FractionParameter : AttrOrTypeParameter<"::llvm::APFloat", "fraction"> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = "$_printer << $_self.convertToDouble()";
}

def Tfm_PruneSchemeAttr : Tfm_Attr<"PruneScheme", "prune"> {
  let summary = "weight pruning scheme";
  let description = [{
    `magnitude` zeroes the `sparsity` fraction of weights with the smallest
    magnitude; `two_four` keeps the 2 largest of every 4 consecutive weights
    along the input dimension (sparsity 0.5 by construction).

    ```mlir
    #tfm.prune<kind = magnitude, sparsity = 0.5>
    ```
  }];
  let parameters = (ins "::mlir::tfm::PruneKind":$kind,
                        Tfm_FractionParameter:$sparsity);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TMC_DIALECT_TFM_IR_TFMATTRS_TD
