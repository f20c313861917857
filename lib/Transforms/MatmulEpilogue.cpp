//===- MatmulEpilogue.cpp - Elementwise ops folded into matmuls -*- C++ -*-===//
//
// This file implements the search for, and the application of, the
// elementwise ops that rewrite a contraction's output in place.
//
//===----------------------------------------------------------------------===//

#include "MatmulEpilogue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <limits>

using namespace mlir;
using namespace mlir::tmc;

/// `v` through any chain of expand_shape and collapse_shape ops.
static Value reshapeRoot(Value v) {
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

/// A statically shaped memref with the identity (row-major, contiguous)
/// layout.
static MemRefType contiguousType(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity())
    return {};
  return type;
}

namespace {
/// The buffer a memref view reads, and the byte range of it when known.
struct Storage {
  Value root;
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();

  /// Follows view ops to a `memref.view` (whose range is its constant byte
  /// shift and its type's size: any view of it lies within) or to a value
  /// that is no view (all of it).
  static Storage of(Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (auto view = dyn_cast<memref::ViewOp>(def)) {
        Storage storage{view.getSource()};
        std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
        MemRefType type = view.getType();
        if (shift && type.hasStaticShape() &&
            type.getElementType().isIntOrFloat()) {
          storage.begin = *shift;
          storage.end =
              *shift + llvm::divideCeil(type.getNumElements() *
                                            type.getElementTypeBitWidth(),
                                        8);
        }
        return storage;
      }
      auto viewLike = dyn_cast<ViewLikeOpInterface>(def);
      if (!viewLike)
        break;
      v = viewLike.getViewSource();
    }
    return {v};
  }

  /// A buffer of its own: a function's argument or an allocation.
  static bool isBuffer(Value root) {
    if (auto arg = dyn_cast<BlockArgument>(root))
      return arg.getOwner()->isEntryBlock() &&
             isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
    return isa_and_present<memref::AllocOp, memref::AllocaOp,
                           memref::GetGlobalOp>(root.getDefiningOp());
  }

  bool isDisjointFrom(const Storage &other) const {
    if (root == other.root)
      return end <= other.begin || other.end <= begin;
    if (!isBuffer(root) || !isBuffer(other.root))
      return false;
    auto global = root.getDefiningOp<memref::GetGlobalOp>();
    auto otherGlobal = other.root.getDefiningOp<memref::GetGlobalOp>();
    return !global || !otherGlobal ||
           global.getNameAttr() != otherGlobal.getNameAttr();
  }
};
} // namespace

/// The number of leading dimensions of `shape` that index the rows of an
/// [m][n] buffer reshaped to it (the others index the columns), or -1.
static int64_t rowDims(ArrayRef<int64_t> shape, int64_t m, int64_t n) {
  for (int64_t k = 0, e = shape.size(); k <= e; ++k) {
    int64_t rows = 1, cols = 1;
    for (int64_t i = 0; i < e; ++i)
      (i < k ? rows : cols) *= shape[i];
    if (rows == m && cols == n)
      return k;
  }
  return -1;
}

/// Whether `op` rewrites, element by element, the contiguous buffer whose
/// reshapes have the root `root`, storage `storage` and `elements`
/// elements (see MatmulEpilogue).
static bool rewritesInPlace(linalg::GenericOp op, Value root,
                            const Storage &storage, int64_t m, int64_t n) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return false;
  OpOperand *init = op.getDpsInitOperand(0);
  MemRefType outType = contiguousType(init->get());
  if (!outType || reshapeRoot(init->get()) != root ||
      outType.getNumElements() != m * n ||
      rowDims(outType.getShape(), m, n) < 0 ||
      !op.getMatchingIndexingMap(init).isIdentity())
    return false;
  Block &body = op.getRegion().front();
  bool readsOutput = !body.getArgument(init->getOperandNumber()).use_empty();
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (reshapeRoot(input->get()) == root) {
      // The element being rewritten, and only that one.
      MemRefType type = contiguousType(input->get());
      if (!type || type.getShape() != outType.getShape() || !map.isIdentity())
        return false;
      readsOutput |=
          !body.getArgument(input->getOperandNumber()).use_empty();
      continue;
    }
    if (!isa<MemRefType>(input->get().getType()) ||
        !map.isProjectedPermutation() ||
        !Storage::of(input->get()).isDisjointFrom(storage))
      return false;
  }
  for (Operation &nested : body.without_terminator())
    if (nested.getNumRegions() != 0 || !isMemoryEffectFree(&nested))
      return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return readsOutput && yield.getNumOperands() == 1 &&
         yield.getOperand(0).getType() == outType.getElementType();
}

MatmulEpilogue MatmulEpilogue::after(linalg::LinalgOp contraction) {
  MatmulEpilogue epilogue;
  epilogue.contraction = contraction;
  Value out = contraction.getDpsInitOperand(0)->get();
  MemRefType type = contiguousType(out);
  if (!type || type.getRank() != 2)
    return epilogue;
  epilogue.sizeM = type.getDimSize(0);
  epilogue.sizeN = type.getDimSize(1);
  Value root = reshapeRoot(out);
  Storage storage = Storage::of(out);
  for (Operation *next = contraction->getNextNode(); next;
       next = next->getNextNode()) {
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(next))
      continue;
    auto generic = dyn_cast<linalg::GenericOp>(next);
    if (!generic || !rewritesInPlace(generic, root, storage, epilogue.sizeM,
                                     epilogue.sizeN))
      break;
    epilogue.ops.push_back(generic);
  }
  return epilogue;
}

Operation *MatmulEpilogue::insertionPoint() const {
  return ops.empty() ? contraction : static_cast<Operation *>(ops.back());
}

/// The indices of `v` (< the product of `sizes`) in a row-major buffer of
/// `sizes`.
static SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value v,
                                      ArrayRef<int64_t> sizes) {
  SmallVector<Value> indices(sizes.size());
  for (int64_t i = sizes.size() - 1; i >= 0; --i) {
    if (sizes[i] == 1) {
      indices[i] = arith::ConstantIndexOp::create(b, loc, 0);
      continue;
    }
    bool outermost = llvm::all_of(sizes.take_front(i),
                                  [](int64_t size) { return size == 1; });
    if (outermost) {
      indices[i] = v;
      continue;
    }
    Value size = arith::ConstantIndexOp::create(b, loc, sizes[i]);
    indices[i] = arith::RemUIOp::create(b, loc, v, size);
    v = arith::DivUIOp::create(b, loc, v, size);
  }
  return indices;
}

Value MatmulEpilogue::apply(OpBuilder &b, Location loc, Value m, Value n,
                            Value acc) const {
  if (ops.empty())
    return acc;
  Value root =
      reshapeRoot(cast<linalg::LinalgOp>(contraction).getDpsInitOperand(0)->get());
  for (linalg::GenericOp op : ops) {
    ArrayRef<int64_t> shape =
        cast<MemRefType>(op.getDpsInitOperand(0)->get().getType()).getShape();
    int64_t split = rowDims(shape, sizeM, sizeN);
    SmallVector<Value> dims = delinearize(b, loc, m, shape.take_front(split));
    llvm::append_range(dims, delinearize(b, loc, n, shape.drop_front(split)));
    Block &body = op.getRegion().front();
    IRMapping mapping;
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (arg.use_empty())
        continue;
      if (op.isDpsInit(&operand) || reshapeRoot(operand.get()) == root) {
        mapping.map(arg, acc);
        continue;
      }
      AffineMap map = op.getMatchingIndexingMap(&operand);
      SmallVector<Value> indices;
      for (unsigned i = 0, e = map.getNumResults(); i < e; ++i)
        indices.push_back(dims[map.getDimPosition(i)]);
      mapping.map(arg, memref::LoadOp::create(b, loc, operand.get(), indices));
    }
    for (Operation &nested : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
        mapping.map(index.getResult(), dims[index.getDim()]);
        continue;
      }
      b.clone(nested, mapping);
    }
    acc = mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
  }
  return acc;
}

void MatmulEpilogue::markFolded(RewriterBase &rewriter,
                                StringRef attribute) const {
  for (linalg::GenericOp op : ops)
    rewriter.modifyOpInPlace(
        op, [&] { op->setAttr(attribute, rewriter.getUnitAttr()); });
}
