//===- TfmToLinalg.h - tfm to linalg patterns -------------------*- C++ -*-===//
//
// This file declares the pattern sets that lower tfm ops to linalg, split by
// topic as the lowering's source files are.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H
#define TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tmc {

/// tfm.add, tfm.activation, tfm.gated_activation, tfm.split.
void populateTfmElementwiseToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.linear.
void populateTfmLinearToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.layer_norm, tfm.rms_norm.
void populateTfmNormalizationToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.embedding, tfm.positions, tfm.rope.
void populateTfmEmbeddingToLinalgPatterns(RewritePatternSet &patterns);

/// tfm.attention.
void populateTfmAttentionToLinalgPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateTfmToLinalgPatterns(RewritePatternSet &patterns);

} // namespace tmc
} // namespace mlir

#endif // TMC_CONVERSION_TFMTOLINALG_TFMTOLINALG_H
