//===- WarpMma.cpp - mma.sync fragments for the GPU kernels -----*- C++ -*-===//

#include "WarpMma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

Value tmc::loadRoundedOrZero(OpBuilder &b, Location loc, Value condition,
                             Value memref, ValueRange indices, Type type) {
  return roundedOrZero(b, loc, condition, type, [&]() -> Value {
    return memref::LoadOp::create(b, loc, memref, indices);
  });
}

Value tmc::roundedOrZero(OpBuilder &b, Location loc, Value condition,
                         Type type, function_ref<Value()> build) {
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, condition,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  Value v = build();
  if (v.getType() != type)
    v = arith::TruncFOp::create(b, loc, type, v);
  scf::YieldOp::create(b, loc, v);
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(
      b, loc,
      ValueRange{arith::ConstantOp::create(b, loc, b.getZeroAttr(type))});
  return ifOp.getResult(0);
}

Value tmc::packMmaPair(OpBuilder &b, Location loc, Value low, Value high) {
  Type half = low.getType();
  if (half.isF16())
    return vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, half), ValueRange{low, high});
  Type i16 = b.getI16Type(), i32 = b.getI32Type();
  auto widen = [&](Value v) -> Value {
    return arith::ExtUIOp::create(b, loc, i32,
                                  arith::BitcastOp::create(b, loc, i16, v));
  };
  Value lowBits = widen(low), highBits = widen(high);
  Value shifted = arith::ShLIOp::create(
      b, loc, highBits, arith::ConstantIntOp::create(b, loc, i32, 16));
  return arith::OrIOp::create(b, loc, lowBits, shifted);
}

Value tmc::loadMmaPair(OpBuilder &b, Location loc, Value tile, Value row,
                       Value col) {
  Type half = cast<MemRefType>(tile.getType()).getElementType();
  Value pair = vector::LoadOp::create(b, loc, VectorType::get({2}, half), tile,
                                      ValueRange{row, col},
                                      /*nontemporal=*/false, llvm::Align(4));
  if (half.isF16())
    return pair;
  Value bits = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, loc, bits, 0);
}

/// `base + offset` as an index.
static Value plus(OpBuilder &b, Location loc, Value base, int64_t offset) {
  if (offset == 0)
    return base;
  return arith::AddIOp::create(b, loc, base,
                               arith::ConstantIndexOp::create(b, loc, offset));
}

int64_t tmc::mmaDepth(Type type) { return type.isF32() ? 8 : 16; }

SmallVector<std::pair<int64_t, int64_t>, 8> tmc::mmaAOffsets(Type type) {
  int64_t depth = mmaDepth(type);
  SmallVector<std::pair<int64_t, int64_t>, 8> offsets;
  for (int64_t step = 0; step < 16 / depth; ++step)
    for (int64_t r = 0; r < 4; ++r)
      offsets.push_back({8 * (r % 2), step * depth + (r / 2) * depth / 2});
  return offsets;
}

Value tmc::loadMmaRegister(OpBuilder &b, Location loc, Value tile, Value row,
                           Value col) {
  if (!cast<MemRefType>(tile.getType()).getElementType().isF32())
    return loadMmaPair(b, loc, tile, row, col);
  Value v = memref::LoadOp::create(b, loc, tile, ValueRange{row, col});
  return arith::BitcastOp::create(b, loc, b.getI32Type(), v);
}

SmallVector<Value, 8> tmc::loadMmaA(OpBuilder &b, Location loc, Value tile,
                                    Value row, Value col) {
  SmallVector<Value, 8> registers;
  for (auto [dr, dc] :
       mmaAOffsets(cast<MemRefType>(tile.getType()).getElementType()))
    registers.push_back(loadMmaRegister(b, loc, tile, plus(b, loc, row, dr),
                                        plus(b, loc, col, dc)));
  return registers;
}

Value tmc::roundToTf32(OpBuilder &b, Location loc, Value v) {
  Type i32 = b.getI32Type();
  auto constant = [&](int64_t c) {
    return arith::ConstantIntOp::create(b, loc, i32, c);
  };
  Value bits = arith::BitcastOp::create(b, loc, i32, v);
  // Adding half of the 13 dropped bits' unit rounds the magnitude to
  // nearest, ties away from zero (a carry into the exponent is right).
  Value rounded = arith::AndIOp::create(
      b, loc, arith::AddIOp::create(b, loc, bits, constant(0x1000)),
      constant(~int64_t(0x1fff)));
  Value exponent = constant(0x7f800000);
  Value finite = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::AndIOp::create(b, loc, bits, exponent), exponent);
  return arith::BitcastOp::create(
      b, loc, v.getType(),
      arith::SelectOp::create(b, loc, finite, rounded, bits));
}

SmallVector<Value, 4>
tmc::accumulateMmaSync(OpBuilder &b, Location loc, Type half,
                       ArrayRef<SmallVector<Value, 8>> a, Value bTile, Value n,
                       Value col, ValueRange acc) {
  SmallVector<Value, 4> sums(acc);
  int64_t depth = mmaDepth(half);
  for (auto [s, aRegs] : llvm::enumerate(a))
    for (int64_t step = 0; step < 16 / depth; ++step) {
      SmallVector<Value> bRegs;
      for (int64_t r = 0; r < 2; ++r)
        bRegs.push_back(loadMmaRegister(
            b, loc, bTile, n,
            plus(b, loc, col, 16 * s + step * depth + r * depth / 2)));
      sums = createMmaSync(b, loc, half,
                           ArrayRef<Value>(aRegs).slice(4 * step, 4), bRegs,
                           sums);
    }
  return sums;
}

SmallVector<Value, 4> tmc::createMmaSync(OpBuilder &b, Location loc, Type half,
                                         ValueRange a, ValueRange bRegs,
                                         ValueRange acc) {
  Type f32 = b.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, f32));
  NVVM::MMATypes ptxType = half.isF16()   ? NVVM::MMATypes::f16
                           : half.isF32() ? NVVM::MMATypes::tf32
                                          : NVVM::MMATypes::bf16;
  auto mma = NVVM::MmaOp::create(
      b, loc, resultType, a, bRegs, acc,
      {16, 8, static_cast<int>(mmaDepth(half))}, /*b1Op=*/std::nullopt,
      /*intOverflow=*/std::nullopt,
      std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value, 4> results;
  for (int64_t i = 0; i < 4; ++i)
    results.push_back(LLVM::ExtractValueOp::create(b, loc, mma, i));
  return results;
}
