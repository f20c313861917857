//===- WarpMma.h - mma.sync fragments for the GPU kernels -------*- C++ -*-===//
//
// Helpers the tensor-core kernels share to issue `nvvm.mma.sync` with
// 16-bit or TF32 multiplicands and f32 accumulators: packing two 16-bit
// floats into one fragment register, rounding to TF32, and the MMA itself.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_WARPMMA_H
#define TMC_LIB_TRANSFORMS_WARPMMA_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace tmc {

/// `memref[indices]` where `condition` holds, else zero, as `type`: a
/// wider float is rounded to it (how the tensor-core kernels stage their
/// f32 operands as f16 or bf16).
Value loadRoundedOrZero(OpBuilder &b, Location loc, Value condition,
                        Value memref, ValueRange indices, Type type);

/// What `build` makes (built where `condition` holds) as `type`, rounded
/// to it if wider, else zero.
Value roundedOrZero(OpBuilder &b, Location loc, Value condition, Type type,
                    function_ref<Value()> build);

/// One fragment register of `mma.sync` holding `low` (its first element)
/// and `high`, both of the kernel's 16-bit type: an i32 for bf16, a
/// vector<2xf16> for f16 (the operand types NVVM expects).
Value packMmaPair(OpBuilder &b, Location loc, Value low, Value high);

/// The fragment register holding `tile[row][col]` and `tile[row][col + 1]`
/// of a 2-D workgroup tile of f16 or bf16 (rows of an even length, `col`
/// even): one 4-byte-aligned load of both.
Value loadMmaPair(OpBuilder &b, Location loc, Value tile, Value row,
                  Value col);

/// The k of one `mma.sync` with `type` multiplicands: 16 for f16 or bf16
/// (m16n8k16), 8 for f32 as tf32 (m16n8k8).
int64_t mmaDepth(Type type);

/// The A fragment registers covering 16 of k with `type` multiplicands, as
/// the offsets (row, column) of each register's first element from the
/// lane's group and fragment column (twice its quad for f16 or bf16, whose
/// registers hold that element and the next; its quad for tf32, one element
/// per register). Register 4 s + r of mma.sync s holds row 8 (r % 2),
/// column s d + (r / 2) d / 2, with d = mmaDepth(type).
SmallVector<std::pair<int64_t, int64_t>, 8> mmaAOffsets(Type type);

/// The fragment register of `tile[row][col]`: with the next element (one
/// 4-byte load, `loadMmaPair`) for f16 or bf16 tiles, its bits for f32
/// tiles (tf32).
Value loadMmaRegister(OpBuilder &b, Location loc, Value tile, Value row,
                      Value col);

/// This lane's A fragment of a 16 x 16 block of `tile` ([m][k]), laid out
/// as `mmaAOffsets` of the tile's element type says, where `row` is the
/// block's first row plus the lane's group and `col` its first column plus
/// the lane's fragment column.
SmallVector<Value, 8> loadMmaA(OpBuilder &b, Location loc, Value tile,
                               Value row, Value col);

/// `acc` plus, per 16 along k, the product of the A fragment `a[s]` with
/// the B fragment of `bTile` ([n][k]) for this lane's column `n` (the
/// block's first column plus its group): per mma.sync `step` (one for f16
/// or bf16, two for tf32), register r starts at column
/// `col + 16 s + step d + r d / 2`, d = mmaDepth(half), `col` the lane's
/// fragment column.
SmallVector<Value, 4> accumulateMmaSync(OpBuilder &b, Location loc, Type half,
                                        ArrayRef<SmallVector<Value, 8>> a,
                                        Value bTile, Value n, Value col,
                                        ValueRange acc);

/// `v` (f32) rounded to TF32, still as an f32: 10 mantissa bits, to
/// nearest with ties away from zero (as `cvt.rna.tf32.f32`); infinities
/// and NaNs unchanged.
Value roundToTf32(OpBuilder &b, Location loc, Value v);

/// `nvvm.mma.sync` with row-major A and column-major B of `half` and f32
/// accumulators: m16n8k16 for f16 or bf16 (registers from `packMmaPair`),
/// m16n8k8 for f32, as tf32 (registers: one element's bits each). Returns
/// the four f32 results of this lane.
SmallVector<Value, 4> createMmaSync(OpBuilder &b, Location loc, Type half,
                                    ValueRange a, ValueRange bRegs,
                                    ValueRange acc);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_WARPMMA_H
