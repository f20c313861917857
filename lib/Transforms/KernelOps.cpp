//===- KernelOps.cpp - Building blocks of the GPU kernels -------*- C++ -*-===//

#include "KernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::tmc;

Value KernelOps::idx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value KernelOps::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value KernelOps::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}

Value KernelOps::sub(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}

Value KernelOps::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}

Value KernelOps::less(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
}

Value KernelOps::both(Value x, Value y) {
  return arith::AndIOp::create(b, loc, x, y);
}

Value KernelOps::load(Value memref, ValueRange indices) {
  return memref::LoadOp::create(b, loc, memref, indices);
}

void KernelOps::store(Value v, Value memref, ValueRange indices) {
  memref::StoreOp::create(b, loc, v, memref, indices);
}

void KernelOps::loop(Value lb, Value ub, Value step,
                     function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

Value KernelOps::reduce(Value lb, Value ub, Value init,
                        function_ref<Value(Value, Value)> body) {
  return reduce(lb, ub, idx(1), init, body);
}

Value KernelOps::reduce(Value lb, Value ub, Value step, Value init,
                        function_ref<Value(Value, Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, step, ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  Value next = body(forOp.getInductionVar(), forOp.getRegionIterArgs()[0]);
  scf::YieldOp::create(b, loc, next);
  return forOp.getResult(0);
}

void KernelOps::ifThen(Value condition, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, loc, condition);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body();
}

gpu::LaunchOp KernelOps::launch(Value gridX, Value gridY, Value gridZ,
                                int64_t blockX, int64_t blockY,
                                TypeRange workgroup, TypeRange privates) {
  return gpu::LaunchOp::create(
      b, loc, gridX, gridY, gridZ, idx(blockX), idx(blockY), idx(1),
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/ValueRange{}, workgroup, privates);
}

void KernelOps::treeReduce(Value partials, Value tid, int64_t size,
                           function_ref<Value(Value, Value)> combine) {
  for (int64_t half = size / 2; half >= 1; half /= 2) {
    ifThen(less(tid, idx(half)), [&] {
      Value other = load(partials, {add(tid, idx(half))});
      store(combine(load(partials, {tid}), other), partials, {tid});
    });
    gpu::BarrierOp::create(b, loc);
  }
}

MemRefType tmc::workgroupMemRefType(ArrayRef<int64_t> shape, Type element) {
  return MemRefType::get(
      shape, element, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(element.getContext(),
                                 gpu::AddressSpace::Workgroup));
}

LogicalResult tmc::checkOptionRange(Operation *op, StringRef pass,
                                    StringRef option, int64_t value,
                                    int64_t min, int64_t max,
                                    StringRef meaning) {
  if (value >= min && value <= max)
    return success();
  InFlightDiagnostic diag = op->emitError() << pass << ": " << option;
  if (max == std::numeric_limits<int64_t>::max())
    diag << " must be " << min << " or more";
  else
    diag << " must be in [" << min << ", " << max << "]";
  if (!meaning.empty())
    diag << " (" << meaning << ")";
  return diag << ", got " << value;
}

LogicalResult tmc::checkThreadsOption(Operation *op, StringRef pass,
                                      int64_t threads, int64_t min,
                                      StringRef meaning) {
  return checkOptionRange(op, pass, "threads", threads, min, 1024, meaning);
}
