//===- ApproximateMath.cpp - Vectorizable transcendental math ---*- C++ -*-===//
//
// This file implements `tmc-approximate-math`, which replaces f32 tanh, erf,
// exp and expm1 by MLIR's polynomial approximations.
//
//===----------------------------------------------------------------------===//

#include "tmc/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tmc {
#define GEN_PASS_DEF_TMCAPPROXIMATEMATH
#include "tmc/Transforms/Passes.h.inc"
} // namespace tmc
} // namespace mlir

using namespace mlir;

namespace {

struct TmcApproximateMathPass
    : public tmc::impl::TmcApproximateMathBase<TmcApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    auto selected = [](StringRef name) {
      return name == "math.tanh" || name == "math.erf" ||
             name == "math.exp" || name == "math.expm1";
    };
    populateMathPolynomialApproximationPatterns(patterns, selected);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
