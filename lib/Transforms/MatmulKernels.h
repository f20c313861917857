//===- MatmulKernels.h - What tmc-gpu-tile-matmuls makes kernels of -*- C++ -*-===//
//
// The contractions that `tmc-gpu-tile-matmuls` turns into matmul kernels,
// as the passes before it need to know them.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_TRANSFORMS_MATMULKERNELS_H
#define TMC_LIB_TRANSFORMS_MATMULKERNELS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir {
namespace tmc {

/// The (m, k) input of `op` if `tmc-gpu-tile-matmuls` makes a matmul kernel
/// of it (a plain contraction or a weight-only quantized one, on
/// statically shaped buffers), else null.
OpOperand *getMatmulKernelInput(linalg::LinalgOp op);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_TRANSFORMS_MATMULKERNELS_H
