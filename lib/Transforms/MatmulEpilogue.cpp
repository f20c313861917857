//===- MatmulEpilogue.cpp - Elementwise ops folded into matmuls -*- C++ -*-===//
//
// This file implements the search for, and the application of, the
// elementwise ops that rewrite a contraction's output in place.
//
//===----------------------------------------------------------------------===//

#include "MatmulEpilogue.h"

#include "BufferStorage.h"

#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Transforms/BufferLiveness.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::tmc;

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

namespace {
/// What the ops matched so far write and read: the roots of the buffers
/// they write (the contraction's output first), whose elements the kernel
/// holds, and the storage of every buffer they write or read otherwise.
struct Footprint {
  SmallVector<Value> writtenRoots;
  SmallVector<BufferStorage> written, read;

  bool isWritten(Value v) const {
    return llvm::is_contained(writtenRoots, reshapeRoot(v));
  }
};
} // namespace

/// Whether `storage` overlaps none of `others`.
static bool isDisjointFromAll(const BufferStorage &storage,
                              ArrayRef<BufferStorage> others) {
  return llvm::all_of(others, [&](const BufferStorage &other) {
    return storage.isDisjointFrom(other);
  });
}

/// Whether `op` can be applied element by element after the ops of
/// `footprint` (see MatmulEpilogue), which it then takes in.
static bool isElementwiseStep(linalg::LinalgOp op, Footprint &footprint,
                              int64_t m, int64_t n) {
  if (!isa<linalg::GenericOp, linalg::CopyOp>(op) ||
      !op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return false;
  OpOperand *init = op.getDpsInitOperand(0);
  MemRefType outType = contiguousType(init->get());
  if (!outType || outType.getNumElements() != m * n ||
      rowDims(outType.getShape(), m, n) < 0 ||
      !op.getMatchingIndexingMap(init).isIdentity())
    return false;
  Value outRoot = reshapeRoot(init->get());
  bool inPlace = footprint.isWritten(outRoot);
  BufferStorage outStorage = BufferStorage::of(init->get());
  // A new buffer: nothing before it reads or writes it.
  if (!inPlace && (!isDisjointFromAll(outStorage, footprint.written) ||
                   !isDisjointFromAll(outStorage, footprint.read)))
    return false;
  Block *body = op.getBlock();
  bool readsWritten =
      inPlace && !body->getArgument(init->getOperandNumber()).use_empty();
  SmallVector<BufferStorage> reads;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    Value root = reshapeRoot(input->get());
    if (root == outRoot || footprint.isWritten(root)) {
      // An element the kernel holds or writes, at the element written.
      MemRefType type = contiguousType(input->get());
      if (!type || type.getShape() != outType.getShape() || !map.isIdentity())
        return false;
      readsWritten |= root != outRoot || inPlace;
      continue;
    }
    BufferStorage storage = BufferStorage::of(input->get());
    if (!isa<MemRefType>(input->get().getType()) ||
        !map.isProjectedPermutation() ||
        !isDisjointFromAll(storage, footprint.written) ||
        !storage.isDisjointFrom(outStorage))
      return false;
    reads.push_back(storage);
  }
  for (Operation &nested : body->without_terminator())
    if (nested.getNumRegions() != 0 || !isMemoryEffectFree(&nested))
      return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  if (!readsWritten || yield.getNumOperands() != 1 ||
      yield.getOperand(0).getType() != outType.getElementType())
    return false;
  if (!inPlace) {
    footprint.writtenRoots.push_back(outRoot);
    footprint.written.push_back(outStorage);
  }
  llvm::append_range(footprint.read, reads);
  return true;
}

/// Whether the buffer `root` may be read after `ops`, the ops that follow
/// `first`. Only an allocation or an arena buffer (a `memref.view` of the
/// function's `arena` argument, whose bytes the buffer plan gives it alone
/// while it is live) defined in `first`'s block can be found not to be:
/// when every user of it or of a view of it is `first`, one of `ops`, a
/// view op, or an op before `first` in that block.
static bool isReadAfter(Value root, Operation *first,
                        ArrayRef<linalg::LinalgOp> ops) {
  Operation *def = root.getDefiningOp();
  if (!def || def->getBlock() != first->getBlock())
    return true;
  if (auto view = dyn_cast<memref::ViewOp>(def)) {
    if (!isArenaArgument(view.getSource()))
      return true;
  } else if (!isa<memref::AllocOp, memref::AllocaOp>(def)) {
    return true;
  }
  SmallVector<Value> family = {root};
  while (!family.empty()) {
    Value v = family.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == v) {
        llvm::append_range(family, user->getResults());
        continue;
      }
      if (user == first ||
          llvm::is_contained(ops, dyn_cast<linalg::LinalgOp>(user)))
        continue;
      if (user->getBlock() == first->getBlock() &&
          user->isBeforeInBlock(first))
        continue;
      return true;
    }
  }
  return false;
}

MatmulEpilogue MatmulEpilogue::after(linalg::LinalgOp contraction,
                                     bool search, ValueRange alsoRead) {
  MatmulEpilogue epilogue;
  epilogue.contraction = contraction;
  Value out = contraction.getDpsInitOperand(0)->get();
  MemRefType type = contiguousType(out);
  if (!search || !type || type.getRank() != 2)
    return epilogue;
  epilogue.sizeM = type.getDimSize(0);
  epilogue.sizeN = type.getDimSize(1);
  Footprint footprint;
  footprint.writtenRoots.push_back(reshapeRoot(out));
  footprint.written.push_back(BufferStorage::of(out));
  for (OpOperand *input : contraction.getDpsInputOperands()) {
    // A norm left to the kernel: it reads the norm's operands.
    if (auto norm = reshapeRoot(input->get()).getDefiningOp<tfm::LazyNormOp>()) {
      for (Value read : norm->getOperands())
        footprint.read.push_back(BufferStorage::of(read));
      continue;
    }
    footprint.read.push_back(BufferStorage::of(input->get()));
  }
  for (Value read : alsoRead)
    footprint.read.push_back(BufferStorage::of(read));
  for (Operation *next = contraction->getNextNode(); next;
       next = next->getNextNode()) {
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(next))
      continue;
    auto op = dyn_cast<linalg::LinalgOp>(next);
    if (!op || !isElementwiseStep(op, footprint, epilogue.sizeM,
                                  epilogue.sizeN))
      break;
    epilogue.ops.push_back(op);
  }
  epilogue.storesOutput =
      epilogue.ops.empty() ||
      isReadAfter(footprint.writtenRoots.front(), contraction, epilogue.ops);
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

void MatmulEpilogue::store(OpBuilder &b, Location loc, Value m, Value n,
                           Value acc) const {
  /// A buffer the epilogue writes: its element's value, and where it goes.
  struct Element {
    Value root, value, buffer;
    SmallVector<Value> indices;
  };
  Value out = cast<linalg::LinalgOp>(contraction).getDpsInitOperand(0)->get();
  SmallVector<Element> elements = {{reshapeRoot(out), acc, out, {m, n}}};
  auto held = [&](Value v) -> Element * {
    Value root = reshapeRoot(v);
    auto it = llvm::find_if(elements,
                            [&](const Element &e) { return e.root == root; });
    return it == elements.end() ? nullptr : &*it;
  };
  for (linalg::LinalgOp op : ops) {
    OpOperand *init = op.getDpsInitOperand(0);
    ArrayRef<int64_t> shape = cast<MemRefType>(init->get().getType()).getShape();
    int64_t split = rowDims(shape, sizeM, sizeN);
    SmallVector<Value> dims = delinearize(b, loc, m, shape.take_front(split));
    llvm::append_range(dims, delinearize(b, loc, n, shape.drop_front(split)));
    Block *body = op.getBlock();
    IRMapping mapping;
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body->getArgument(operand.getOperandNumber());
      if (arg.use_empty())
        continue;
      if (Element *element = held(operand.get())) {
        mapping.map(arg, element->value);
        continue;
      }
      // Another input, or the old value of a buffer written first here.
      AffineMap map = op.getMatchingIndexingMap(&operand);
      SmallVector<Value> indices;
      for (unsigned i = 0, e = map.getNumResults(); i < e; ++i)
        indices.push_back(dims[map.getDimPosition(i)]);
      mapping.map(arg, memref::LoadOp::create(b, loc, operand.get(), indices));
    }
    for (Operation &nested : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
        mapping.map(index.getResult(), dims[index.getDim()]);
        continue;
      }
      b.clone(nested, mapping);
    }
    Element result{reshapeRoot(init->get()),
                   mapping.lookupOrDefault(body->getTerminator()->getOperand(0)),
                   init->get(), dims};
    if (Element *element = held(init->get()))
      element->value = result.value;
    else
      elements.push_back(result);
  }
  for (const Element &element : ArrayRef(elements).drop_front(storesOutput ? 0 : 1))
    memref::StoreOp::create(b, loc, element.value, element.buffer,
                            element.indices);
}

void MatmulEpilogue::markFolded(RewriterBase &rewriter,
                                StringRef attribute) const {
  for (linalg::LinalgOp op : ops)
    rewriter.modifyOpInPlace(
        op, [&] { op->setAttr(attribute, rewriter.getUnitAttr()); });
}
