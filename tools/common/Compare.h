//===- Compare.h - Output checks of the runtime tools -----------*- C++ -*-===//
//
// This file defines the comparison with a reference output that tmc-run
// (--reference) and tmc-generate (--reference) share: the largest absolute
// difference, relative to the reference's largest magnitude.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TOOLS_COMMON_COMPARE_H
#define TMC_TOOLS_COMMON_COMPARE_H

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>

namespace tmc::tools {

/// Compares `count` values of `output` with `reference`, prints
/// "reference NAME: max abs error E, relative R (rtol T): ok" (or
/// "MISMATCH", with ", non-finite values" when the output has any), and
/// returns whether the output is finite and within `rtol`.
inline bool compareWithReference(const char *name, const float *output,
                                 const float *reference, size_t count,
                                 double rtol) {
  double maxAbs = 0, maxRef = 0;
  bool finite = true;
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(output[i]))
      finite = false;
    maxAbs = std::max(maxAbs,
                      std::fabs(double(output[i]) - double(reference[i])));
    maxRef = std::max(maxRef, std::fabs(double(reference[i])));
  }
  double rel = maxRef > 0 ? maxAbs / maxRef : maxAbs;
  bool ok = finite && rel <= rtol;
  std::printf("reference %s: max abs error %.3g, relative %.3g (rtol "
              "%.3g)%s: %s\n",
              name, maxAbs, rel, rtol, finite ? "" : ", non-finite values",
              ok ? "ok" : "MISMATCH");
  return ok;
}

} // namespace tmc::tools

#endif // TMC_TOOLS_COMMON_COMPARE_H
