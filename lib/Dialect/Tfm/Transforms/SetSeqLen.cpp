//===- SetSeqLen.cpp - Fix the symbolic sequence length ---------*- C++ -*-===//
//
// This file implements `tfm-set-seq-len`: it gives every dynamic dimension of
// the model's arguments a static size and re-infers the types that follow.
//
//===----------------------------------------------------------------------===//

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace mlir {
namespace tfm {
#define GEN_PASS_DEF_TFMSETSEQLEN
#include "tmc/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm
} // namespace mlir

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Replaces each dynamic dimension of `type` (a ranked tensor) with `size`.
static Type makeStatic(Type type, int64_t size) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.hasStaticShape())
    return type;
  SmallVector<int64_t> shape(tensor.getShape());
  for (int64_t &d : shape)
    if (ShapedType::isDynamic(d))
      d = size;
  return tensor.clone(shape);
}

/// Re-infers the result types of every op in `block`, in order, descending
/// into `tfm.layer` bodies. Fails on an op whose types cannot be re-inferred.
static LogicalResult reinferBlock(Block &block) {
  for (Operation &op : block) {
    if (auto layer = dyn_cast<LayerOp>(op)) {
      Block &body = layer.getBody().front();
      for (auto [arg, input] : llvm::zip(body.getArguments(), layer.getInputs()))
        arg.setType(input.getType());
      if (failed(reinferBlock(body)))
        return failure();
      auto yield = cast<YieldOp>(body.getTerminator());
      for (auto [result, yielded] :
           llvm::zip(layer.getResults(), yield.getOperands()))
        result.setType(yielded.getType());
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>() || op.getNumResults() == 0)
      continue;
    // The packed linear layers' output features are their result's last
    // dimension; the leading ones follow the input.
    if (isa<QuantizedLinearOp, SparseLinearOp>(op)) {
      auto input = cast<RankedTensorType>(op.getOperand(0).getType());
      auto result = cast<RankedTensorType>(op.getResult(0).getType());
      SmallVector<int64_t> shape(input.getShape().drop_back());
      shape.push_back(result.getShape().back());
      op.getResult(0).setType(result.clone(shape));
      continue;
    }
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (!infer) {
      bool allStatic = llvm::all_of(op.getResultTypes(), [](Type t) {
        auto shaped = dyn_cast<ShapedType>(t);
        return !shaped || shaped.hasStaticShape();
      });
      if (allStatic)
        continue;
      return op.emitOpError("has a dynamically shaped result whose type "
                            "cannot be re-inferred for a static sequence "
                            "length");
    }
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(
            op.getContext(), op.getLoc(), op.getOperands(),
            op.getRawDictionaryAttrs(), op.getPropertiesStorage(),
            op.getRegions(), types)))
      return op.emitOpError("result types cannot be inferred after fixing "
                            "the sequence length");
    for (auto [result, type] : llvm::zip(op.getResults(), types))
      result.setType(type);
  }
  return success();
}

struct TfmSetSeqLenPass
    : public tfm::impl::TfmSetSeqLenBase<TfmSetSeqLenPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t seqLen = this->seqLen;
    if (seqLen <= 0) {
      getOperation().emitError("tfm-set-seq-len: seq-len must be positive, got ")
          << seqLen;
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (auto maxPositions =
              func->getAttrOfType<IntegerAttr>("tfm.max_positions")) {
        if (seqLen > maxPositions.getInt()) {
          func.emitError("sequence length ")
              << seqLen << " exceeds the model's maximum of "
              << maxPositions.getInt() << " positions";
          return signalPassFailure();
        }
      }
      if (failed(setStaticSequenceLength(func, seqLen)))
        return signalPassFailure();
    }
  }
};

} // namespace

LogicalResult mlir::tfm::setStaticSequenceLength(func::FuncOp func,
                                                 int64_t seqLen) {
  Block &entry = func.getBody().front();
  for (BlockArgument arg : entry.getArguments())
    arg.setType(makeStatic(arg.getType(), seqLen));
  if (failed(reinferBlock(entry)))
    return failure();
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  func.setType(FunctionType::get(func.getContext(), entry.getArgumentTypes(),
                                 ret.getOperandTypes()));
  // Static shapes can expose conflicts that dynamic ones hid (a window
  // larger than the sequence, say): verify before going on.
  return mlir::verify(func);
}
