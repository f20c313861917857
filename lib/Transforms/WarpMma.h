//===- WarpMma.h - mma.sync fragments for the GPU kernels -------*- C++ -*-===//
//
// Helpers the tensor-core kernels share to issue `nvvm.mma.sync` m16n8k16
// with 16-bit multiplicands and f32 accumulators: packing two 16-bit floats
// into one fragment register, and the MMA itself.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_WARPMMA_H
#define TMC_LIB_TRANSFORMS_WARPMMA_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace tmc {

/// Whether `type` is a multiplicand type of `createMmaSync` (f16 or bf16).
bool isMmaSyncHalfType(Type type);

/// One fragment register of `mma.sync` holding `low` (its first element)
/// and `high`, both of the kernel's 16-bit type: an i32 for bf16, a
/// vector<2xf16> for f16 (the operand types NVVM expects).
Value packMmaPair(OpBuilder &b, Location loc, Value low, Value high);

/// The fragment register holding `tile[row][col]` and `tile[row][col + 1]`
/// of a 2-D workgroup tile of f16 or bf16 (rows of an even length, `col`
/// even): one 4-byte-aligned load of both.
Value loadMmaPair(OpBuilder &b, Location loc, Value tile, Value row,
                  Value col);

/// `nvvm.mma.sync` m16n8k16, row-major A and column-major B of `half` (f16
/// or bf16, registers from `packMmaPair`), f32 accumulators: returns the
/// four f32 results of this lane.
SmallVector<Value, 4> createMmaSync(OpBuilder &b, Location loc, Type half,
                                    ValueRange a, ValueRange bRegs,
                                    ValueRange acc);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_WARPMMA_H
