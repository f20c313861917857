//===- TfmOps.cpp - tfm operations ------------------------------*- C++ -*-===//
//
// This file implements the tfm operations: type inference and verifiers.
// Shape rules live in `inferReturnTypes` where the result type follows from
// the operands, so the parser, the builders and the verifier share them.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tfm;

/// Merges two sizes of one dimension: a static size refines a dynamic one,
/// and two different static sizes conflict.
static std::optional<int64_t> mergeDim(int64_t a, int64_t b) {
  if (ShapedType::isDynamic(a))
    return b;
  if (ShapedType::isDynamic(b) || a == b)
    return a;
  return std::nullopt;
}

/// Prints a dimension for a diagnostic: `?` for a dynamic one.
static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("parameter name must not be empty");
  bool derived = getQuant() || getPrune();
  if (derived || getPart() || getSource()) {
    if (!derived || !getPart() || !getSource())
      return emitOpError("a derived parameter needs 'quant' or 'prune', "
                         "'part' and 'source'");
    StringRef part = *getPart();
    if (part != "values" && part != "scales" && part != "zeros" &&
        part != "indices")
      return emitOpError("part must be 'values', 'scales', 'zeros' or "
                         "'indices', got '")
             << part << "'";
  }
  if (std::optional<ElementsAttr> value = getValue()) {
    // A derived parameter carries its source's value, not its own.
    if (!derived && value->getType() != getType())
      return emitOpError("inline value of type ")
             << value->getType() << " does not match the parameter type "
             << getType();
    return success();
  }
  auto module = (*this)->getParentOfType<ModuleOp>();
  if (!module ||
      !module->hasAttrOfType<StringAttr>(TfmDialect::getWeightsFileAttrName()))
    return emitOpError("parameter '")
           << getName()
           << "' has no inline value and the enclosing module names no "
              "weights file ('"
           << TfmDialect::getWeightsFileAttrName() << "' attribute)";
  return success();
}

void ParamOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  // Value names are sanitized by the printer; keep the tail of dotted names
  // short enough to read (`h.0.attn.c_attn.weight` -> `h_0_attn_c_attn_weight`).
  std::string name = getName().str();
  std::replace(name.begin(), name.end(), ':', '_');
  setNameFn(getResult(), name);
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  auto table = cast<RankedTensorType>(adaptor.getTable().getType());
  auto ids = cast<RankedTensorType>(adaptor.getIds().getType());
  if (table.getRank() != 2)
    return emitOptionalError(location,
                             "embedding table must be [vocab, dim], got rank ",
                             table.getRank());
  inferredReturnTypes.push_back(RankedTensorType::get(
      {ids.getDimSize(0), ids.getDimSize(1), table.getDimSize(1)},
      table.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

/// Returns the (in, out) feature sizes read from a linear weight type.
static std::pair<int64_t, int64_t> linearWeightDims(RankedTensorType weight,
                                                    WeightLayout layout) {
  if (layout == WeightLayout::out_in)
    return {weight.getDimSize(1), weight.getDimSize(0)};
  return {weight.getDimSize(0), weight.getDimSize(1)};
}

int64_t LinearOp::getInFeatures() {
  return linearWeightDims(getWeight().getType(), getLayout()).first;
}

int64_t LinearOp::getOutFeatures() {
  return linearWeightDims(getWeight().getType(), getLayout()).second;
}

LogicalResult
LinearOp::inferReturnTypes(MLIRContext *context,
                           std::optional<Location> location, Adaptor adaptor,
                           SmallVectorImpl<Type> &inferredReturnTypes) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (input.getRank() < 1)
    return emitOptionalError(location, "linear input must have rank >= 1");
  if (weight.getRank() != 2)
    return emitOptionalError(location, "linear weight must have rank 2, got ",
                             weight.getRank());
  // While parsing, the attribute is still in the dictionary, not yet in the
  // op's properties.
  WeightLayoutAttr layoutAttr = adaptor.getLayoutAttr();
  if (!layoutAttr && adaptor.getAttributes())
    layoutAttr = dyn_cast_or_null<WeightLayoutAttr>(
        adaptor.getAttributes().get("layout"));
  WeightLayout layout =
      layoutAttr ? layoutAttr.getValue() : WeightLayout::out_in;
  auto [in, out] = linearWeightDims(weight, layout);
  int64_t k = input.getShape().back();
  if (!mergeDim(k, in))
    return emitOptionalError(location, "linear input has ", dimStr(k),
                             " features but the weight expects ", dimStr(in),
                             " (layout ",
                             stringifyWeightLayout(layout), ")");
  if (Value bias = adaptor.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (!mergeDim(biasType.getDimSize(0), out))
      return emitOptionalError(location, "linear bias has ",
                               dimStr(biasType.getDimSize(0)),
                               " elements but the layer has ", dimStr(out),
                               " outputs");
  }
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = out;
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizedLinearOp
//===----------------------------------------------------------------------===//

int64_t QuantizedLinearOp::getInFeatures() {
  return getInput().getType().getShape().back();
}

int64_t QuantizedLinearOp::getOutFeatures() {
  return cast<RankedTensorType>(getType()).getShape().back();
}

LogicalResult QuantizedLinearOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  auto weight = cast<RankedTensorType>(getWeight().getType());
  if (input.getRank() != result.getRank() ||
      failed(verifyCompatibleShape(input.getShape().drop_back(),
                                   result.getShape().drop_back())))
    return emitOpError("result shape ")
           << result << " does not match the input's leading dimensions "
           << input;
  int64_t k = getInFeatures(), n = getOutFeatures();
  if (ShapedType::isDynamic(k) || ShapedType::isDynamic(n))
    return emitOpError("needs static feature sizes");
  QuantSchemeAttr quant = getQuant();
  if (getBias() &&
      cast<RankedTensorType>(getBias().getType()).getDimSize(0) != n)
    return emitOpError("bias must have ") << n << " elements";
  StringRef kind = stringifyQuantKind(quant.getKind());
  RankedTensorType values, scales, zeros;
  if (failed(quant.getPackedShapes(n, k, values, scales, zeros))) {
    // Only the sub-byte packings constrain the input features.
    if (quant.getKind() == QuantKind::int4)
      return emitOpError("int4 needs input features divisible by the group "
                         "size ")
             << quant.getGroupSize() << ", got " << k;
    return emitOpError(kind)
           << " needs input features divisible by "
           << (quant.getKind() == QuantKind::ternary ? 4 : 8) << ", got " << k;
  }
  if (weight != values)
    return emitOpError("packed ")
           << kind << " weight must be " << values << ", got " << weight;
  auto expect = [&](Value v, RankedTensorType type,
                    StringRef what) -> LogicalResult {
    if (!type)
      return success();
    if (!v)
      return emitOpError(what) << " are required by " << kind;
    if (v.getType() != type)
      return emitOpError(what)
             << " must be " << type << ", got " << v.getType();
    return success();
  };
  if (failed(expect(getScales(), scales, "scales")) ||
      failed(expect(getZeros(), zeros, "zero-points")))
    return failure();
  if (getZeros() && (quant.getKind() != QuantKind::int4 || quant.getSymmetric()))
    return emitOpError("zero-points apply only to asymmetric int4");
  return success();
}

//===----------------------------------------------------------------------===//
// SparseLinearOp
//===----------------------------------------------------------------------===//

LogicalResult SparseLinearOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  auto values = cast<RankedTensorType>(getValues().getType());
  auto indices = cast<RankedTensorType>(getIndices().getType());
  int64_t k = input.getShape().back(), n = result.getShape().back();
  if (ShapedType::isDynamic(k) || values.getRank() != 2 ||
      indices.getRank() != 2 || values.getDimSize(0) != n ||
      indices.getDimSize(0) != n)
    return emitOpError("values and indices must be [")
           << n << ", ...] matrices over static input features";
  Builder b(getContext());
  if (getPrune().getKind() == PruneKind::two_four) {
    if (k % 8 != 0)
      return emitOpError("2:4 needs input features divisible by 8, got ")
             << k;
    if (values.getDimSize(1) != k / 2 ||
        indices != RankedTensorType::get({n, k / 8}, b.getIntegerType(8)))
      return emitOpError("2:4 needs values [")
             << n << ", " << k / 2 << "] and i8 indices [" << n << ", "
             << k / 8 << "]";
  } else {
    if (indices != RankedTensorType::get({n, values.getDimSize(1)},
                                         b.getIntegerType(16)) ||
        values.getDimSize(1) > k)
      return emitOpError("magnitude pruning needs i16 indices of the values' "
                         "shape, at most ")
             << k << " per row";
  }
  if (getBias() &&
      cast<RankedTensorType>(getBias().getType()).getDimSize(0) != n)
    return emitOpError("bias must have ") << n << " elements";
  return success();
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

/// Checks that a per-feature vector matches the input's last dimension.
static LogicalResult verifyFeatureVector(Operation *op, Value input,
                                         Value vector, StringRef name) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto vectorType = cast<RankedTensorType>(vector.getType());
  if (inputType.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  int64_t d = inputType.getShape().back();
  if (!mergeDim(d, vectorType.getDimSize(0)))
    return op->emitOpError()
           << name << " has " << dimStr(vectorType.getDimSize(0))
           << " elements but the input's last dimension is " << dimStr(d);
  return success();
}

static LogicalResult verifyEpsilon(Operation *op, double epsilon) {
  if (!(epsilon > 0.0))
    return op->emitOpError("epsilon must be positive, got ") << epsilon;
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyEpsilon(*this, getEpsilon().convertToDouble())))
    return failure();
  return verifyFeatureVector(*this, getInput(), getGamma(), "gamma");
}

LogicalResult RMSNormOp::verify() {
  if (failed(verifyEpsilon(*this, getEpsilon().convertToDouble())))
    return failure();
  return verifyFeatureVector(*this, getInput(), getGamma(), "gamma");
}

//===----------------------------------------------------------------------===//
// QuantizedEmbeddingOp
//===----------------------------------------------------------------------===//

int64_t QuantizedEmbeddingOp::getEmbeddingDim() {
  return cast<RankedTensorType>(getType()).getShape().back();
}

LogicalResult QuantizedEmbeddingOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  auto values = cast<RankedTensorType>(adaptor.getValues().getType());
  auto ids = cast<RankedTensorType>(adaptor.getIds().getType());
  if (values.getRank() != 2)
    return emitOptionalError(location, "packed table must be 2-D, got ",
                             values);
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(values.getDimSize(1) *
                  adaptor.getQuant().getWeightsPerByte());
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, Float32Type::get(context)));
  return success();
}

LogicalResult QuantizedEmbeddingOp::verify() {
  QuantSchemeAttr quant = getQuant();
  if (quant.getKind() == QuantKind::w8a8)
    return emitOpError("w8a8 quantizes activations and does not apply to an "
                       "embedding lookup");
  auto values = cast<RankedTensorType>(getValues().getType());
  int64_t vocab = values.getDimSize(0), dim = getEmbeddingDim();
  RankedTensorType expectValues, expectScales, expectZeros;
  if (failed(quant.getPackedShapes(vocab, dim, expectValues, expectScales,
                                   expectZeros)) ||
      values != expectValues)
    return emitOpError("packed ")
           << stringifyQuantKind(quant.getKind()) << " table of " << vocab
           << " x " << dim << " must be " << expectValues << ", got "
           << values;
  auto expect = [&](Value v, RankedTensorType type,
                    StringRef what) -> LogicalResult {
    if (!type)
      return v ? emitOpError(what) << " are not used by "
                                   << stringifyQuantKind(quant.getKind())
               : success();
    if (!v)
      return emitOpError(what) << " are required by "
                               << stringifyQuantKind(quant.getKind());
    if (v.getType() != type)
      return emitOpError(what) << " must be " << type << ", got "
                               << v.getType();
    return success();
  };
  return failure(failed(expect(getScales(), expectScales, "scales")) ||
                 failed(expect(getZeros(), expectZeros, "zero-points")));
}

//===----------------------------------------------------------------------===//
// RotaryOp
//===----------------------------------------------------------------------===//

LogicalResult RotaryOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << headDim;
  int64_t features = getInput().getType().getDimSize(2);
  if (!ShapedType::isDynamic(features) && features % headDim != 0)
    return emitOpError("feature size ")
           << features << " is not a multiple of head_dim " << headDim;
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive, got ")
           << getTheta().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// Attention ops (tfm.attention, tfm.linformer_attention, tfm.cached_attention)
//===----------------------------------------------------------------------===//

/// The per-head feature size of `query` ([batch, seq, heads * head_dim]).
static int64_t headDimOf(Value query, int64_t numHeads) {
  int64_t features = cast<RankedTensorType>(query.getType()).getDimSize(2);
  if (ShapedType::isDynamic(features))
    return ShapedType::kDynamic;
  return features / numHeads;
}

/// `scale` if given, else 1/sqrt(head_dim).
static double scaleOrDefault(std::optional<APFloat> scale, int64_t headDim) {
  if (scale)
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(headDim));
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

int64_t AttentionOp::getHeadDim() {
  return headDimOf(getQuery(), getNumHeads());
}

double AttentionOp::getScaleOrDefault() {
  return scaleOrDefault(getScale(), getHeadDim());
}

LogicalResult AttentionOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  inferredReturnTypes.push_back(adaptor.getQuery().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// LinformerAttentionOp
//===----------------------------------------------------------------------===//

int64_t LinformerAttentionOp::getHeadDim() {
  return headDimOf(getQuery(), getNumHeads());
}

double LinformerAttentionOp::getScaleOrDefault() {
  return scaleOrDefault(getScale(), getHeadDim());
}

LogicalResult LinformerAttentionOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  inferredReturnTypes.push_back(adaptor.getQuery().getType());
  return success();
}

LogicalResult LinformerAttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  auto e = cast<RankedTensorType>(getKeyProjection().getType());
  auto f = cast<RankedTensorType>(getValueProjection().getType());
  if (q.getElementType() != k.getElementType() ||
      q.getElementType() != v.getElementType() ||
      q.getElementType() != e.getElementType() ||
      q.getElementType() != f.getElementType())
    return emitOpError("query, key, value and projections must have one "
                       "element type");
  if (failed(verifyCompatibleShape(k, v)))
    return emitOpError("key ") << k << " and value " << v
                               << " must have the same shape";
  if (failed(verifyCompatibleShape(e, f)))
    return emitOpError("key projection ")
           << e << " and value projection " << f
           << " must have the same shape [k, seq]";
  if (!mergeDim(e.getDimSize(1), k.getDimSize(1)))
    return emitOpError("projections of ")
           << e.getDimSize(1) << " positions do not match the key length "
           << k.getDimSize(1);
  if (!mergeDim(q.getDimSize(0), k.getDimSize(0)))
    return emitOpError("query batch ")
           << q.getDimSize(0) << " does not match key batch "
           << k.getDimSize(0);
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads();
  if (heads % kvHeads != 0)
    return emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  int64_t qFeatures = q.getDimSize(2), kFeatures = k.getDimSize(2);
  if (!ShapedType::isDynamic(qFeatures)) {
    if (qFeatures % heads != 0)
      return emitOpError("query features (")
             << qFeatures << ") are not divisible by num_heads (" << heads
             << ")";
    if (!mergeDim(kFeatures, kvHeads * (qFeatures / heads)))
      return emitOpError("key features (")
             << kFeatures << ") must be num_kv_heads x head_dim ("
             << kvHeads * (qFeatures / heads) << ")";
  }
  return success();
}

/// The checks shared by tfm.attention and tfm.fused_attention on the shapes
/// `q` and `k` (= v's) of their operands, dynamic sizes passing.
static LogicalResult
verifyAttention(Operation *op, ArrayRef<int64_t> q, ArrayRef<int64_t> k,
                int64_t heads, int64_t kvHeads, bool causal,
                std::optional<double> scale,
                std::optional<SparsityPatternAttrInterface> pattern) {
  if (!mergeDim(q[0], k[0]))
    return op->emitOpError("query batch ")
           << q[0] << " does not match key batch " << k[0];
  if (heads % kvHeads != 0)
    return op->emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  if (!ShapedType::isDynamic(q[2])) {
    if (q[2] % heads != 0)
      return op->emitOpError("query features (")
             << q[2] << ") are not divisible by num_heads (" << heads << ")";
    int64_t headDim = q[2] / heads;
    if (!mergeDim(k[2], kvHeads * headDim))
      return op->emitOpError("key features (")
             << k[2] << ") must be num_kv_heads * head_dim = " << kvHeads
             << " * " << headDim;
  }
  if (causal && !ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(k[1]) &&
      q[1] > k[1])
    return op->emitOpError("causal attention needs at least as many keys as "
                           "queries (the queries are the last positions), "
                           "got ")
           << q[1] << " queries and " << k[1] << " keys";
  if (scale && !(*scale > 0.0))
    return op->emitOpError("scale must be positive");
  if (pattern && !ShapedType::isDynamic(k[1]) &&
      failed(pattern->verifyForSequence(
          [&]() { return op->emitOpError("sparsity pattern: "); }, k[1])))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  if (q.getElementType() != k.getElementType() ||
      q.getElementType() != v.getElementType())
    return emitOpError("query, key and value must have one element type");
  if (failed(verifyCompatibleShape(k, v)))
    return emitOpError("key ") << k << " and value " << v
                               << " must have the same shape";
  std::optional<double> scale;
  if (std::optional<APFloat> value = getScale())
    scale = value->convertToDouble();
  return verifyAttention(*this, q.getShape(), k.getShape(), getNumHeads(),
                         getNumKvHeads(), getCausal(), scale, getSparsity());
}

//===----------------------------------------------------------------------===//
// FusedAttentionOp
//===----------------------------------------------------------------------===//

int64_t FusedAttentionOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) / getNumHeads();
}

/// The buffer forms of attention: static shapes, keys and values alike, the
/// output shaped as the queries.
static LogicalResult verifyAttentionBuffers(Operation *op, MemRefType q,
                                            MemRefType k, MemRefType v,
                                            MemRefType out) {
  for (MemRefType type : {q, k, v, out})
    if (!type.hasStaticShape())
      return op->emitOpError("needs static shapes, got ") << type;
  if (k.getShape() != v.getShape())
    return op->emitOpError("key ") << k << " and value " << v
                                   << " must have the same shape";
  if (out.getShape() != q.getShape())
    return op->emitOpError("output ")
           << out << " must have the query's shape " << q;
  return success();
}

/// The rotation attributes of the fused attention ops: a positive
/// `rope_theta` exactly when the queries or keys are rotated, heads of an
/// even size then.
static LogicalResult verifyRotations(Operation *op, bool query, bool key,
                                     std::optional<APFloat> theta,
                                     int64_t headDim) {
  if ((query || key) != theta.has_value())
    return op->emitOpError("needs rope_theta exactly when rope_query or "
                           "rope_key is set");
  if (theta && !(theta->convertToDouble() > 0.0))
    return op->emitOpError("rope_theta must be positive");
  if (theta && headDim % 2 != 0)
    return op->emitOpError("rotates heads of an odd size ") << headDim;
  return success();
}

LogicalResult FusedAttentionOp::verify() {
  MemRefType q = getQuery().getType(), k = getKey().getType();
  if (failed(verifyAttentionBuffers(*this, q, k, getValue().getType(),
                                    getOutput().getType())))
    return failure();
  if (failed(verifyAttention(*this, q.getShape(), k.getShape(),
                             getNumHeads(), getNumKvHeads(), getCausal(),
                             getScale().convertToDouble(), getSparsity())))
    return failure();
  return verifyRotations(*this, getRopeQuery(), getRopeKey(), getRopeTheta(),
                         getHeadDim());
}

//===----------------------------------------------------------------------===//
// CachedAttentionOp
//===----------------------------------------------------------------------===//

int64_t CachedAttentionOp::getHeadDim() {
  return headDimOf(getQuery(), getNumHeads());
}

double CachedAttentionOp::getScaleOrDefault() {
  return scaleOrDefault(getScale(), getHeadDim());
}

int64_t CachedAttentionOp::getValueBytes(int64_t rows, int64_t kvHeads,
                                         int64_t headDim, int64_t bits) {
  int64_t values = rows * kvHeads * headDim;
  return bits == 8 ? values : bits == 4 ? values / 2 : values * 4;
}

int64_t CachedAttentionOp::getCacheBytes(int64_t rows, int64_t kvHeads,
                                         int64_t headDim, int64_t bits) {
  // One f32 scale per row and head (int8), or per group of 32 (int4).
  int64_t scales = bits == 8   ? rows * kvHeads
                   : bits == 4 ? rows * kvHeads * (headDim / kInt4Group)
                               : 0;
  return getValueBytes(rows, kvHeads, headDim, bits) + scales * 4;
}

/// The checks shared by tfm.cached_attention and its buffer form: shapes
/// [1, seq, features] of the query and of the key/value chunk, and the
/// cache geometry.
static LogicalResult
verifyCachedAttention(Operation *op, ArrayRef<int64_t> q, ArrayRef<int64_t> k,
                      int64_t heads, int64_t kvHeads, int64_t bits,
                      int64_t capacity, int64_t window, int64_t sinks,
                      int64_t kOffset, int64_t vOffset,
                      std::optional<APFloat> scale, int64_t cacheSize) {
  if (q[0] != 1 || k[0] != 1)
    return op->emitOpError("works on a batch of 1");
  if (q[1] != k[1])
    return op->emitOpError(
               "query and key chunks must have the same length, got ")
           << q[1] << " and " << k[1];
  if (heads % kvHeads != 0)
    return op->emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  if (q[2] % heads != 0)
    return op->emitOpError("query features (")
           << q[2] << ") are not divisible by num_heads (" << heads << ")";
  int64_t headDim = q[2] / heads;
  if (k[2] != kvHeads * headDim)
    return op->emitOpError("key features (")
           << k[2] << ") must be num_kv_heads * head_dim = " << kvHeads
           << " * " << headDim;
  if (bits != 32 && bits != 8 && bits != 4)
    return op->emitOpError("cache_bits must be 32, 8 or 4, got ") << bits;
  constexpr int64_t kInt4Group = CachedAttentionOp::kInt4Group;
  if (bits == 4 && headDim % kInt4Group != 0)
    return op->emitOpError("an int4 cache needs head_dim to be a multiple of ")
           << kInt4Group << ", got " << headDim;
  int64_t chunk = q[1];
  if (sinks > 0 && window == 0)
    return op->emitOpError("attention sinks need a window");
  if (window > 0 && capacity - sinks < window + chunk - 1)
    return op->emitOpError("a ring of ")
           << capacity - sinks << " rows cannot hold a window of " << window
           << " positions and a chunk of " << chunk
           << " (needs window + chunk - 1 rows)";
  if (window == 0 && capacity < chunk)
    return op->emitOpError("capacity ")
           << capacity << " is smaller than the chunk of " << chunk;
  if (scale && !(scale->convertToDouble() > 0.0))
    return op->emitOpError("scale must be positive");
  int64_t bytes =
      CachedAttentionOp::getCacheBytes(capacity, kvHeads, headDim, bits);
  int64_t kEnd = kOffset + bytes, vEnd = vOffset + bytes;
  if (kOffset < vEnd && vOffset < kEnd)
    return op->emitOpError("keys [")
           << kOffset << ", " << kEnd << ") and values [" << vOffset << ", "
           << vEnd << ") overlap in the cache";
  if (!ShapedType::isDynamic(cacheSize) && std::max(kEnd, vEnd) > cacheSize)
    return op->emitOpError("needs ") << std::max(kEnd, vEnd)
                                     << " cache bytes but the cache has "
                                     << cacheSize;
  return success();
}

LogicalResult CachedAttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  if (!q.hasStaticShape() || !k.hasStaticShape() || !v.hasStaticShape())
    return emitOpError("needs statically shaped query, key and value");
  if (!q.getElementType().isF32() || !k.getElementType().isF32() ||
      !v.getElementType().isF32())
    return emitOpError("query, key and value must be f32");
  if (k != v)
    return emitOpError("key ") << k << " and value " << v
                               << " must have the same type";
  return verifyCachedAttention(
      *this, q.getShape(), k.getShape(), getNumHeads(), getNumKvHeads(),
      getCacheBits(), getCapacity(), getWindow(), getSinks(), getKOffset(),
      getVOffset(), getScale(), getCache().getType().getDimSize(0));
}

//===----------------------------------------------------------------------===//
// FusedNormOp
//===----------------------------------------------------------------------===//

/// The checks `tfm.fused_norm` and `tfm.lazy_norm` share: a statically
/// shaped input, an output (or result) of its shape, `gamma` and `beta` of
/// its last dimension, and a non-negative epsilon.
static LogicalResult verifyNormOnBuffers(Operation *op, Value inputValue,
                                         Value outputValue, Value gamma,
                                         Value beta, APFloat epsilon,
                                         StringRef outputName) {
  auto input = cast<MemRefType>(inputValue.getType());
  auto output = cast<MemRefType>(outputValue.getType());
  if (!input.hasStaticShape() || input.getRank() < 1)
    return op->emitOpError(
               "needs a statically shaped input of rank >= 1, got ")
           << input;
  if (output.getShape() != input.getShape())
    return op->emitOpError()
           << outputName << " " << output << " must have the input's shape "
           << input;
  int64_t features = input.getShape().back();
  for (Value vector : {gamma, beta}) {
    if (!vector)
      continue;
    auto type = cast<MemRefType>(vector.getType());
    if (type.getDimSize(0) != features)
      return op->emitOpError("gamma and beta must have the ")
             << features << " features of the last dimension, got " << type;
  }
  if (!(epsilon.convertToDouble() >= 0.0))
    return op->emitOpError("epsilon must be non-negative");
  return success();
}

LogicalResult FusedNormOp::verify() {
  return verifyNormOnBuffers(*this, getInput(), getOutput(), getGamma(),
                             getBeta(), getEpsilon(), "output");
}

//===----------------------------------------------------------------------===//
// LazyNormOp
//===----------------------------------------------------------------------===//

LogicalResult LazyNormOp::verify() {
  if (!getResult().getType().getLayout().isIdentity())
    return emitOpError("result must have the identity layout, got ")
           << getResult().getType();
  return verifyNormOnBuffers(*this, getInput(), getResult(), getGamma(),
                             getBeta(), getEpsilon(), "result");
}

//===----------------------------------------------------------------------===//
// FusedCachedAttentionOp
//===----------------------------------------------------------------------===//

int64_t FusedCachedAttentionOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) / getNumHeads();
}

SmallVector<int64_t, 4> FusedCachedAttentionOp::getScratchShape(
    int64_t seq, int64_t heads, int64_t visible, int64_t headDim,
    int64_t split) {
  return {seq, heads, static_cast<int64_t>(llvm::divideCeil(visible, split)),
          headDim + 2};
}

LogicalResult FusedCachedAttentionOp::verify() {
  MemRefType q = getQuery().getType(), k = getKey().getType();
  if (failed(verifyAttentionBuffers(*this, q, k, getValue().getType(),
                                    getOutput().getType())))
    return failure();
  if (Value scratch = getScratch()) {
    if (getSplit() == 0)
      return emitOpError("has a scratch buffer but no split");
    auto type = cast<MemRefType>(scratch.getType());
    SmallVector<int64_t, 4> expected = getScratchShape(
        q.getDimSize(1), getNumHeads(),
        getMaxVisible(getCapacity(), getWindow(), getSinks()), getHeadDim(),
        getSplit());
    if (type.getShape() != ArrayRef<int64_t>(expected))
      return emitOpError("scratch ")
             << type << " must have shape [seq, num_heads, ceil(visible / "
             << "split), head_dim + 2] = [" << ArrayRef<int64_t>(expected) << "]";
  } else if (getSplit() != 0) {
    return emitOpError("split = ")
           << getSplit() << " needs a scratch buffer";
  }
  if (failed(verifyCachedAttention(
          *this, q.getShape(), k.getShape(), getNumHeads(), getNumKvHeads(),
          getCacheBits(), getCapacity(), getWindow(), getSinks(), getKOffset(),
          getVOffset(), std::optional<APFloat>(getScale()),
          getCache().getType().getDimSize(0))))
    return failure();
  return verifyRotations(*this, getRopeQuery(), getRopeKey(), getRopeTheta(),
                         getHeadDim());
}

//===----------------------------------------------------------------------===//
// SplitOp
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  SplitOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  // While parsing, the attribute is still in the dictionary.
  DenseI64ArrayAttr sizes = adaptor.getSizesAttr();
  if (!sizes && attributes)
    sizes = dyn_cast_or_null<DenseI64ArrayAttr>(attributes.get("sizes"));
  if (!sizes)
    return emitOptionalError(location, "split needs its sizes");
  if (input.getRank() < 1)
    return emitOptionalError(location, "split input must have rank >= 1");
  int64_t total = 0;
  for (int64_t size : sizes.asArrayRef()) {
    if (size <= 0)
      return emitOptionalError(location, "split sizes must be positive, got ",
                               size);
    total += size;
  }
  int64_t last = input.getShape().back();
  if (!ShapedType::isDynamic(last) && total != last)
    return emitOptionalError(location, "split sizes add up to ", total,
                             " but the last dimension is ", last);
  for (int64_t size : sizes.asArrayRef()) {
    SmallVector<int64_t> shape(input.getShape());
    shape.back() = size;
    inferredReturnTypes.push_back(input.clone(shape));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LayerOp
//===----------------------------------------------------------------------===//

void LayerOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                    int64_t index, ValueRange inputs, TypeRange resultTypes) {
  state.addAttribute(getNameAttrName(state.name), builder.getStringAttr(name));
  state.addAttribute(getIndexAttrName(state.name),
                     builder.getI64IntegerAttr(index));
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value input : inputs)
    block->addArgument(input.getType(), state.location);
}

LogicalResult LayerOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body has ")
           << body.getNumArguments() << " arguments but the layer has "
           << getInputs().size() << " inputs";
  for (auto [i, input, arg] :
       llvm::enumerate(getInputs().getTypes(), body.getArgumentTypes()))
    if (input != arg)
      return emitOpError("body argument #")
             << i << " has type " << arg << " but input #" << i << " is "
             << input;
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getOperands().getTypes() != getResultTypes())
    return emitOpError("yielded types (")
           << yield.getOperands().getTypes()
           << ") do not match the layer's result types (" << getResultTypes()
           << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

void LossOp::build(OpBuilder &builder, OperationState &state, LossKind kind,
                   Value prediction, Value target, double temperature) {
  build(builder, state,
        RankedTensorType::get({1}, builder.getF32Type()),
        LossKindAttr::get(builder.getContext(), kind), prediction, target,
        builder.getF64FloatAttr(temperature));
}

LogicalResult LossOp::verify() {
  auto prediction = cast<RankedTensorType>(getPrediction().getType());
  auto target = cast<RankedTensorType>(getTarget().getType());
  if (!(getTemperature().convertToDouble() > 0.0))
    return emitOpError("temperature must be positive");
  if (getKind() == LossKind::cross_entropy) {
    if (target.getRank() != 2 || !target.getElementType().isInteger() ||
        failed(verifyCompatibleShape(target.getShape(),
                                     prediction.getShape().drop_back())))
      return emitOpError("cross_entropy needs target class ids of shape "
                         "[batch, seq] matching the prediction ")
             << prediction << ", got " << target;
    return success();
  }
  if (failed(verifyCompatibleShape(target, prediction)) ||
      target.getElementType() != prediction.getElementType())
    return emitOpError(stringifyLossKind(getKind()))
           << " needs a target of the prediction's type " << prediction
           << ", got " << target;
  return success();
}

LogicalResult LinearWeightGradOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto dy = cast<RankedTensorType>(getGradOutput().getType());
  auto dw = cast<RankedTensorType>(getWeightGrad().getType());
  if (input.getRank() != dy.getRank() ||
      failed(verifyCompatibleShape(input.getShape().drop_back(),
                                   dy.getShape().drop_back())))
    return emitOpError("input ") << input << " and output gradient " << dy
                                 << " must agree on their leading dimensions";
  int64_t k = input.getShape().back(), n = dy.getShape().back();
  SmallVector<int64_t, 2> expected = {n, k};
  if (getLayout() == WeightLayout::in_out)
    expected = {k, n};
  if (dw.getRank() != 2 ||
      failed(verifyCompatibleShape(dw.getShape(), expected)))
    return emitOpError("weight gradient ")
           << dw << " does not match the " << stringifyWeightLayout(getLayout())
           << " weight of a " << dimStr(k) << " -> " << dimStr(n)
           << " layer";
  if (Value db = getBiasGrad())
    if (!mergeDim(cast<RankedTensorType>(db.getType()).getDimSize(0), n))
      return emitOpError("bias gradient must have ") << dimStr(n)
                                                     << " elements";
  return success();
}

int64_t AttentionGradOp::getHeadDim() {
  return headDimOf(getQuery(), getNumHeads());
}

double AttentionGradOp::getScaleOrDefault() {
  return scaleOrDefault(getScale(), getHeadDim());
}

LogicalResult AttentionGradOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  if (failed(verifyCompatibleShape(k, v)))
    return emitOpError("key ") << k << " and value " << v
                               << " must have the same shape";
  if (getNumHeads() % getNumKvHeads() != 0)
    return emitOpError("num_heads must be a multiple of num_kv_heads");
  int64_t qFeatures = q.getDimSize(2);
  if (!ShapedType::isDynamic(qFeatures) && qFeatures % getNumHeads() != 0)
    return emitOpError("query features are not divisible by num_heads");
  return success();
}

LogicalResult EmbeddingGradOp::verify() {
  auto ids = cast<RankedTensorType>(getIds().getType());
  auto dy = cast<RankedTensorType>(getGradOutput().getType());
  auto table = cast<RankedTensorType>(getType());
  if (failed(verifyCompatibleShape(ids.getShape(),
                                   dy.getShape().drop_back())))
    return emitOpError("ids ") << ids << " do not match the output gradient "
                               << dy;
  if (!mergeDim(table.getDimSize(1), dy.getDimSize(2)) ||
      !table.hasStaticShape())
    return emitOpError("table gradient ")
           << table << " must be static with rows of "
           << dimStr(dy.getDimSize(2)) << " features";
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto result = cast<RankedTensorType>(getType());
  int64_t total = 0;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != result.getRank() ||
        failed(verifyCompatibleShape(type.getShape().drop_back(),
                                     result.getShape().drop_back())))
      return emitOpError("input ") << type << " does not match the result "
                                   << result << " before the last dimension";
    if (ShapedType::isDynamic(type.getShape().back()))
      return emitOpError("inputs need a static last dimension");
    total += type.getShape().back();
  }
  if (!mergeDim(result.getShape().back(), total))
    return emitOpError("inputs have ")
           << total << " features in all but the result has "
           << result.getShape().back();
  return success();
}

#define GET_OP_CLASSES
#include "tmc/Dialect/Tfm/IR/TfmOps.cpp.inc"
