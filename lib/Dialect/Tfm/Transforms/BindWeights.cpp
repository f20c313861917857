//===- BindWeights.cpp - Bind parameters to a packed buffer -----*- C++ -*-===//
//
// This file implements `tfm-bind-weights`: every tfm.param becomes a view of
// one packed weights buffer passed to the model function.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMBINDWEIGHTS
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Size in bytes of a statically shaped tensor of a byte-sized element type.
static int64_t byteSize(RankedTensorType type) {
  return type.getNumElements() *
         static_cast<int64_t>(
             llvm::divideCeil(type.getElementTypeBitWidth(), 8));
}

/// The attributes that tell the packer how to derive a quantized parameter
/// from its source, or null for a plain parameter.
static DictionaryAttr derivationOf(ParamOp param) {
  if (!param.getQuant() && !param.getPrune())
    return {};
  Builder b(param.getContext());
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("source", param.getSourceAttr()),
      b.getNamedAttr("part", param.getPartAttr())};
  if (param.getQuantAttr())
    fields.push_back(b.getNamedAttr("quant", param.getQuantAttr()));
  if (param.getPruneAttr())
    fields.push_back(b.getNamedAttr("prune", param.getPruneAttr()));
  if (param.getSourceLayoutAttr())
    fields.push_back(
        b.getNamedAttr("source_layout", param.getSourceLayoutAttr()));
  return b.getDictionaryAttr(fields);
}

/// The ABI's name of an element type (docs/ABI.md).
static StringRef dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isInteger(64))
    return "i64";
  if (type.isInteger(32))
    return "i32";
  if (type.isInteger(8))
    return "i8";
  return "?";
}

struct TfmBindWeightsPass
    : public tfm::impl::TfmBindWeightsBase<TfmBindWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    int64_t align = alignment;
    if (align <= 0 || (align & (align - 1)) != 0) {
      module.emitError("tfm-bind-weights: alignment must be a power of two, "
                       "got ")
          << align;
      return signalPassFailure();
    }

    // Assign offsets in order of first use across the module.
    struct Entry {
      int64_t offset;
      RankedTensorType type;
      ElementsAttr value; // null for external parameters
      DictionaryAttr derivation; // source, quant, part, source_layout
    };
    llvm::StringMap<Entry> layout;
    SmallVector<StringRef> order;
    int64_t cursor = 0;
    WalkResult walk = module.walk([&](ParamOp param) -> WalkResult {
      if (param->getParentOfType<LayerOp>())
        return param.emitOpError(
            "is inside a tfm.layer; run tfm-inline-layers before "
            "tfm-bind-weights");
      auto type = cast<RankedTensorType>(param.getType());
      if (!type.getElementType().isIntOrFloat())
        return param.emitOpError("element type ")
               << type.getElementType()
               << " cannot be stored in the weights buffer";
      auto it = layout.find(param.getName());
      if (it != layout.end()) {
        if (it->second.type != type)
          return param.emitOpError("parameter '")
                 << param.getName() << "' has type " << type
                 << " but an earlier use has type " << it->second.type;
        return WalkResult::advance();
      }
      cursor = llvm::alignTo(cursor, align);
      layout[param.getName()] = {cursor, type,
                                 param.getValue().value_or(ElementsAttr()),
                                 derivationOf(param)};
      order.push_back(layout.find(param.getName())->getKey());
      cursor += byteSize(type);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    // Give every function that uses parameters the two buffer arguments.
    Type bufferType = MemRefType::get({ShapedType::kDynamic},
                                      IntegerType::get(ctx, 8));
    IRRewriter rewriter(ctx);
    llvm::SmallPtrSet<Operation *, 4> bound;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      SmallVector<ParamOp> params;
      func.walk([&](ParamOp p) { params.push_back(p); });
      // The model function always takes both buffers (docs/ABI.md).
      if (params.empty() && func.getSymName() != "forward")
        continue;
      auto nameAttr = [&](StringRef name) {
        return rewriter.getDictionaryAttr(rewriter.getNamedAttr(
            TfmDialect::getIONameAttrName(), rewriter.getStringAttr(name)));
      };
      if (failed(func.insertArguments({0, 0}, {bufferType, bufferType},
                                      {nameAttr("weights"), nameAttr("arena")},
                                      {func.getLoc(), func.getLoc()})))
        return signalPassFailure();
      bound.insert(func);
      Value weights = func.getArgument(0);
      for (ParamOp param : params) {
        const Entry &entry = layout.find(param.getName())->second;
        rewriter.setInsertionPoint(param);
        Location loc = param.getLoc();
        Value offset =
            arith::ConstantIndexOp::create(rewriter, loc, entry.offset);
        auto viewType = MemRefType::get(entry.type.getShape(),
                                        entry.type.getElementType());
        Value view = memref::ViewOp::create(rewriter, loc, viewType, weights,
                                            offset, ValueRange{});
        auto tensor = bufferization::ToTensorOp::create(
            rewriter, loc, entry.type, view, /*restrict=*/true,
            /*writable=*/false);
        rewriter.replaceOp(param, tensor.getResult());
      }
    }

    // Calls to a function that now takes the buffers pass the caller's.
    WalkResult calls = module.walk([&](func::CallOp call) -> WalkResult {
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (!callee || !bound.contains(callee))
        return WalkResult::advance();
      auto caller = call->getParentOfType<func::FuncOp>();
      if (!bound.contains(caller))
        return call.emitOpError("calls '")
               << call.getCallee()
               << "', which reads the weights, from a function that has no "
                  "weights buffer";
      SmallVector<Value> operands = {caller.getArgument(0),
                                     caller.getArgument(1)};
      llvm::append_range(operands, call.getOperands());
      rewriter.setInsertionPoint(call);
      rewriter.replaceOpWithNewOp<func::CallOp>(call, callee, operands);
      return WalkResult::advance();
    });
    if (calls.wasInterrupted())
      return signalPassFailure();

    // Record the I/O signature of the model function for the ABI.
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (forward && !forward.isExternal()) {
      std::string signature;
      llvm::raw_string_ostream os(signature);
      auto record = [&](StringRef kind, Type type, DictionaryAttr attrs,
                        unsigned index) {
        auto tensor = dyn_cast<RankedTensorType>(type);
        StringRef name;
        if (attrs)
          if (auto n = attrs.getAs<StringAttr>(TfmDialect::getIONameAttrName()))
            name = n.getValue();
        os << kind << " ";
        if (name.empty())
          os << kind << index;
        else
          os << name;
        os << " " << (tensor ? dtypeName(tensor.getElementType()) : "?");
        if (tensor) {
          os << " " << tensor.getRank();
          for (int64_t d : tensor.getShape())
            os << " " << d;
        }
        os << "\n";
      };
      unsigned firstInput = 2; // after the weights and the arena
      for (unsigned i = firstInput, e = forward.getNumArguments(); i < e; ++i)
        record("input", forward.getArgumentTypes()[i],
               forward.getArgAttrDict(i), i - firstInput);
      for (unsigned i = 0, e = forward.getNumResults(); i < e; ++i)
        record("output", forward.getResultTypes()[i],
               forward.getResultAttrDict(i), i);
      module->setAttr("tmc.signature", rewriter.getStringAttr(signature));
      forward->setAttr("llvm.emit_c_interface", rewriter.getUnitAttr());
    }

    // Record the layout for the packer and the report.
    SmallVector<Attribute> entries;
    for (StringRef name : order) {
      const Entry &entry = layout.find(name)->second;
      SmallVector<NamedAttribute> fields = {
          rewriter.getNamedAttr("name", rewriter.getStringAttr(name)),
          rewriter.getNamedAttr("offset",
                                rewriter.getI64IntegerAttr(entry.offset)),
          rewriter.getNamedAttr("type", TypeAttr::get(entry.type))};
      if (entry.value)
        fields.push_back(rewriter.getNamedAttr("value", entry.value));
      if (entry.derivation)
        fields.append(entry.derivation.begin(), entry.derivation.end());
      entries.push_back(rewriter.getDictionaryAttr(fields));
    }
    module->setAttr("tmc.weight_layout", rewriter.getArrayAttr(entries));
    module->setAttr("tmc.weights_bytes", rewriter.getI64IntegerAttr(cursor));
  }
};

} // namespace
