//===- KVCache.cpp - Prefill and decode steps over a KV cache ---*- C++ -*-===//
//
// This file implements `tfm-kv-cache`: the model function `forward` of a
// causal decoder becomes two entry points, `prefill` (a chunk of tokens) and
// `decode` (one token), whose attention layers append to and read from a
// key/value cache that the runtime owns.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMKVCACHE
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Byte alignment of each layer's keys and values in the cache.
constexpr int64_t kCacheAlignment = 64;

/// Where one attention layer keeps its keys and values.
struct LayerCache {
  int64_t kOffset, vOffset, capacity, window;
};

/// The rows of the position-embedding table that `forward` indexes with
/// position ids, or 0 when it has none (rotary positions have no limit).
static int64_t positionTableRows(func::FuncOp func) {
  int64_t rows = 0;
  func.walk([&](EmbeddingOp embedding) {
    if (!embedding.getIds().getDefiningOp<PositionsOp>())
      return;
    int64_t n = cast<RankedTensorType>(embedding.getTable().getType())
                    .getDimSize(0);
    rows = rows ? std::min(rows, n) : n;
  });
  return rows;
}

/// Whether `op` is a linear layer whose rows are independent (the LM head).
static bool isLinearLayer(Operation *op) {
  return isa_and_nonnull<LinearOp, QuantizedLinearOp, SparseLinearOp>(op);
}

struct TfmKVCachePass : public tfm::impl::TfmKVCacheBase<TfmKVCachePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward || forward.isExternal()) {
      module.emitError("tfm-kv-cache: the module has no model function "
                       "'forward'");
      return signalPassFailure();
    }
    int64_t bits = llvm::StringSwitch<int64_t>(cacheType)
                       .Case("f32", 32)
                       .Case("int8", 8)
                       .Case("int4", 4)
                       .Default(0);
    if (!bits) {
      module.emitError("tfm-kv-cache: cache-type must be f32, int8 or int4, "
                       "got '")
          << cacheType << "'";
      return signalPassFailure();
    }
    if (chunk <= 0 || sinks < 0 || maxTokens < 0) {
      module.emitError("tfm-kv-cache: chunk must be positive and max-tokens "
                       "and sinks not negative");
      return signalPassFailure();
    }
    if (failed(checkModel(forward)))
      return signalPassFailure();

    // The cache's extent.
    int64_t modelMax = 0;
    if (auto attr = forward->getAttrOfType<IntegerAttr>("tfm.max_positions"))
      modelMax = attr.getInt();
    int64_t positionLimit = positionTableRows(forward);
    int64_t tokens = maxTokens ? int64_t(maxTokens) : modelMax;
    if (tokens <= 0) {
      forward.emitError("the model declares no maximum number of positions; "
                        "give the cache's size (max-tokens)");
      return signalPassFailure();
    }
    if (positionLimit && tokens > positionLimit) {
      forward.emitError("a cache of ")
          << tokens << " tokens exceeds the model's maximum of "
          << positionLimit << " positions (its position-embedding table)";
      return signalPassFailure();
    }
    int64_t chunkLen = std::min<int64_t>(chunk, tokens);

    // One cache region per attention op, in program order.
    SmallVector<LayerCache> layers;
    int64_t cursor = 0, bytesPerToken = 0;
    bool allWindows = true;
    int64_t someWindow = 0;
    forward.walk([&](AttentionOp attention) {
      int64_t window = 0;
      if (auto pattern = attention.getSparsityAttr())
        window = cast<WindowAttr>(pattern).getSize();
      someWindow = someWindow ? someWindow : window;
      allWindows &= window > 0;
      auto q = cast<RankedTensorType>(attention.getQuery().getType());
      int64_t kvHeads = attention.getNumKvHeads();
      int64_t headDim = q.getDimSize(2) / attention.getNumHeads();
      int64_t capacity = window ? sinks + window + chunkLen - 1 : tokens;
      int64_t bytes =
          CachedAttentionOp::getCacheBytes(capacity, kvHeads, headDim, bits);
      LayerCache layer;
      layer.kOffset = llvm::alignTo(cursor, kCacheAlignment);
      layer.vOffset = llvm::alignTo(layer.kOffset + bytes, kCacheAlignment);
      cursor = layer.vOffset + bytes;
      layer.capacity = capacity;
      layer.window = window;
      layers.push_back(layer);
      bytesPerToken +=
          2 * CachedAttentionOp::getCacheBytes(1, kvHeads, headDim, bits);
    });
    if (sinks > 0 && !someWindow) {
      forward.emitError("attention sinks need a sliding-window attention "
                        "pattern (window:W)");
      return signalPassFailure();
    }
    int64_t cacheBytes = llvm::alignTo(cursor, kCacheAlignment);

    if (failed(buildEntry(forward, "prefill", chunkLen, layers, bits)) ||
        failed(buildEntry(forward, "decode", 1, layers, bits)))
      return signalPassFailure();
    int64_t vocab =
        cast<RankedTensorType>(forward.getResultTypes().front()).getDimSize(2);
    forward.erase();

    // With a window in every layer the cache never fills; only a position
    // table limits the generation.
    int64_t limit = allWindows ? positionLimit : tokens;
    Builder b(&getContext());
    SmallVector<NamedAttribute> info = {
        b.getNamedAttr("cache_bytes", b.getI64IntegerAttr(cacheBytes)),
        b.getNamedAttr("max_tokens", b.getI64IntegerAttr(limit)),
        b.getNamedAttr("chunk", b.getI64IntegerAttr(chunkLen)),
        b.getNamedAttr("vocab", b.getI64IntegerAttr(vocab)),
        b.getNamedAttr("cache_type", b.getStringAttr(cacheType)),
        b.getNamedAttr("bytes_per_token", b.getI64IntegerAttr(bytesPerToken)),
        b.getNamedAttr("window", b.getI64IntegerAttr(someWindow)),
        b.getNamedAttr("sinks", b.getI64IntegerAttr(sinks))};
    module->setAttr("tmc.decode", b.getDictionaryAttr(info));
    SmallVector<NamedAttribute> record = {
        b.getNamedAttr("pass", b.getStringAttr("tfm-kv-cache"))};
    record.append(info.begin(), info.end());
    record.push_back(
        b.getNamedAttr("layers", b.getI64IntegerAttr(layers.size())));
    appendTransformRecord(module, record);
  }

  /// Checks that `forward` is a causal decoder the pass can split.
  LogicalResult checkModel(func::FuncOp forward) {
    if (forward.getNumArguments() != 1 || forward.getNumResults() != 1)
      return forward.emitError("decoding needs a model with one input (token "
                               "ids) and one output (logits), got ")
             << forward.getNumArguments() << " inputs and "
             << forward.getNumResults() << " outputs";
    auto ids = dyn_cast<RankedTensorType>(forward.getArgumentTypes()[0]);
    if (!ids || ids.getRank() != 2 || ids.getDimSize(0) != 1 ||
        !ids.getElementType().isInteger())
      return forward.emitError("decoding needs token ids of shape [1, seq], "
                               "got ")
             << forward.getArgumentTypes()[0];
    auto logits = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
    if (!logits || logits.getRank() != 3 ||
        ShapedType::isDynamic(logits.getDimSize(2)))
      return forward.emitError("decoding needs logits of shape [1, seq, "
                               "vocab], got ")
             << forward.getResultTypes()[0];
    WalkResult walk = forward.walk([&](Operation *op) -> WalkResult {
      if (isa<LayerOp>(op))
        return op->emitOpError("must be inlined before tfm-kv-cache (run "
                               "tfm-inline-layers)");
      auto attention = dyn_cast<AttentionOp>(op);
      if (!attention)
        return WalkResult::advance();
      if (!attention.getCausal())
        return attention.emitOpError(
            "is not causal: decoding with a KV cache needs causal "
            "attention (a decoder such as gpt2 or llama)");
      if (auto pattern = attention.getSparsityAttr())
        if (!isa<WindowAttr>(pattern))
          return attention.emitOpError("has the pattern ")
                 << pattern
                 << "; decoding supports dense and sliding-window attention";
      auto q = cast<RankedTensorType>(attention.getQuery().getType());
      if (!q.getElementType().isF32())
        return attention.emitOpError("decoding needs f32 activations");
      if (ShapedType::isDynamic(q.getDimSize(2)))
        return attention.emitOpError("needs a static feature size");
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }

  /// Adds the entry point `name`: a copy of `forward` for chunks of
  /// `seqLen` tokens whose attention reads and writes the cache.
  LogicalResult buildEntry(func::FuncOp forward, StringRef name,
                           int64_t seqLen, ArrayRef<LayerCache> layers,
                           int64_t bits) {
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();
    func::FuncOp entry = forward.clone();
    entry.setSymName(name);
    module.push_back(entry);
    // The window lives in the cache layout; the chunk is shorter than it.
    entry.walk([](AttentionOp attention) { attention.removeSparsityAttr(); });

    Location loc = entry.getLoc();
    OpBuilder b(ctx);
    // Position and length stay in host memory (`host`): the host code
    // reads them.
    auto nameAttr = [&](StringRef io, bool host = false) {
      SmallVector<NamedAttribute, 2> attrs = {b.getNamedAttr(
          TfmDialect::getIONameAttrName(), b.getStringAttr(io))};
      if (host)
        attrs.push_back(b.getNamedAttr(TfmDialect::getHostArgAttrName(),
                                       b.getUnitAttr()));
      return b.getDictionaryAttr(attrs);
    };
    auto scalar = RankedTensorType::get({1}, b.getI64Type());
    // Every prefill step takes the chunk's valid length (the runtime passes
    // one even for chunks of a single token); decode steps have none.
    bool withLength = name == "prefill";
    SmallVector<unsigned> indices = {0, 1};
    SmallVector<Type> types = {
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type()), scalar};
    SmallVector<DictionaryAttr> attrs = {nameAttr("cache"),
                                         nameAttr("position", /*host=*/true)};
    if (withLength) {
      indices.push_back(1);
      types.push_back(scalar);
      attrs.push_back(nameAttr("length", /*host=*/true));
    }
    SmallVector<Location> locs(indices.size(), loc);
    if (failed(entry.insertArguments(indices, types, attrs, locs)))
      return failure();
    Value cache = entry.getArgument(0);
    Value position = entry.getArgument(2);

    Block &body = entry.getBody().front();
    b.setInsertionPointToStart(&body);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value start = tensor::ExtractOp::create(b, loc, position, zero);

    entry.walk([&](PositionsOp op) {
      if (op.getStride() != 0)
        op.getStartMutable().assign(start);
    });
    entry.walk([&](RotaryOp op) { op.getStartMutable().assign(start); });

    // Only the last valid token's logits leave the step: select its row
    // before the LM head (rows are independent there), or of the logits.
    if (withLength) {
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      Operation *head = ret.getOperand(0).getDefiningOp();
      OpOperand &rows = isLinearLayer(head) ? head->getOpOperand(0)
                                            : ret->getOpOperand(0);
      b.setInsertionPoint(rows.getOwner());
      Value length = tensor::ExtractOp::create(b, loc, entry.getArgument(3),
                                               zero);
      Value last = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          arith::SubIOp::create(
              b, loc, length,
              arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(1))));
      auto type = cast<RankedTensorType>(rows.get().getType());
      auto rowType = RankedTensorType::get({1, 1, type.getDimSize(2)},
                                           type.getElementType());
      Value row = tensor::ExtractSliceOp::create(
          b, loc, rowType, rows.get(), ValueRange{last},
          ValueRange{}, ValueRange{},
          b.getDenseI64ArrayAttr({0, ShapedType::kDynamic, 0}),
          b.getDenseI64ArrayAttr({1, 1, type.getDimSize(2)}),
          b.getDenseI64ArrayAttr({1, 1, 1}));
      rows.set(row);
    }

    // Static shapes for the chunk (types downstream of the row included),
    // then the attention over the cache, which needs them.
    if (failed(setStaticSequenceLength(entry, seqLen)))
      return failure();
    SmallVector<AttentionOp> attentions;
    entry.walk([&](AttentionOp op) { attentions.push_back(op); });
    for (auto [attention, layer] : llvm::zip(attentions, layers)) {
      b.setInsertionPoint(attention);
      Value result = CachedAttentionOp::create(
          b, attention.getLoc(), attention.getType(), attention.getQuery(),
          attention.getKey(), attention.getValue(), cache, start,
          attention.getNumHeads(), attention.getNumKvHeads(),
          attention.getScaleAttr(), layer.kOffset, layer.vOffset,
          layer.capacity, layer.window, layer.window ? int64_t(sinks) : 0,
          bits);
      attention.replaceAllUsesWith(result);
      attention.erase();
    }
    entry->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return success();
  }
};

} // namespace
