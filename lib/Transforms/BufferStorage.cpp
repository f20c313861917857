//===- BufferStorage.cpp - Which bytes a memref view reads ------*- C++ -*-===//

#include "BufferStorage.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::tmc;

Value tmc::reshapeRoot(Value v) {
  while (true) {
    if (auto expand = v.getDefiningOp<memref::ExpandShapeOp>()) {
      v = expand.getSrc();
      continue;
    }
    if (auto collapse = v.getDefiningOp<memref::CollapseShapeOp>()) {
      v = collapse.getSrc();
      continue;
    }
    return v;
  }
}

ReshapeFamily ReshapeFamily::of(Value v) {
  ReshapeFamily family;
  SmallVector<Value> pending = {v};
  while (!pending.empty()) {
    Value next = pending.pop_back_val();
    for (OpOperand &use : next.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user)) {
        family.reshapes.push_back(user);
        pending.push_back(user->getResult(0));
      } else {
        family.uses.push_back(&use);
      }
    }
  }
  return family;
}

MemRefType tmc::contiguousType(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity())
    return {};
  return type;
}

BufferStorage BufferStorage::of(Value v) {
  // A reinterpret_cast may reach past the view it starts from.
  bool within = true;
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(def)) {
      BufferStorage storage{view.getSource()};
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      MemRefType type = view.getType();
      if (within && shift && type.hasStaticShape() &&
          type.getElementType().isIntOrFloat()) {
        storage.begin = *shift;
        storage.end = *shift + llvm::divideCeil(type.getNumElements() *
                                                    type.getElementTypeBitWidth(),
                                                8);
      }
      return storage;
    }
    auto viewLike = dyn_cast<ViewLikeOpInterface>(def);
    if (!viewLike)
      break;
    within &= !isa<memref::ReinterpretCastOp>(def);
    v = viewLike.getViewSource();
  }
  return {v};
}

bool BufferStorage::isBuffer(Value root) {
  if (auto arg = dyn_cast<BlockArgument>(root)) {
    Operation *parent = arg.getOwner()->getParentOp();
    if (!arg.getOwner()->isEntryBlock())
      return false;
    // A kernel's workgroup and private buffers.
    if (auto launch = dyn_cast<gpu::LaunchOp>(parent))
      return llvm::is_contained(launch.getWorkgroupAttributions(), arg) ||
             llvm::is_contained(launch.getPrivateAttributions(), arg);
    return isa<FunctionOpInterface>(parent);
  }
  return isa_and_present<memref::AllocOp, memref::AllocaOp,
                         memref::GetGlobalOp>(root.getDefiningOp());
}

bool BufferStorage::isDisjointFrom(const BufferStorage &other) const {
  if (root == other.root)
    return end <= other.begin || other.end <= begin;
  if (!isBuffer(root) || !isBuffer(other.root))
    return false;
  auto global = root.getDefiningOp<memref::GetGlobalOp>();
  auto otherGlobal = other.root.getDefiningOp<memref::GetGlobalOp>();
  return !global || !otherGlobal ||
         global.getNameAttr() != otherGlobal.getNameAttr();
}
