//===- Profile.h - Kernel profiles of the runtime tools ---------*- C++ -*-===//
//
// This file defines the kernel profile that tmc-run (--profile) and
// tmc-generate (--profile) print for a CUDA model: the GPU time of its
// kernels as tmc_model_profile_stop reports it, by the source op each
// kernel comes from (the model directory's kernels.tsv) and kernel by
// kernel.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TOOLS_COMMON_PROFILE_H
#define TMC_TOOLS_COMMON_PROFILE_H

#include "tmc-rt/Runtime.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tmc::tools {

/// Where a kernel comes from: its source op and location (kernels.tsv).
struct KernelSource {
  std::string op = "?", location = "?";
};

/// Reads DIR/kernels.tsv (kernel, function, op, location per line after a
/// header); empty when the file is missing.
inline std::map<std::string, KernelSource>
readKernelTable(const std::string &dir) {
  std::map<std::string, KernelSource> table;
  std::ifstream in(dir + "/kernels.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kernel, function;
    KernelSource source;
    if (std::getline(fields, kernel, '\t') &&
        std::getline(fields, function, '\t') &&
        std::getline(fields, source.op, '\t') &&
        std::getline(fields, source.location, '\t'))
      table[kernel] = source;
  }
  return table;
}

/// Stops the profile that tmc_model_profile_start began on `model`
/// (compiled in `dir`) and prints it: the total kernel time over `runs`
/// (e.g. "1 run", "99 decode steps"), the time per source op, and the
/// `top` kernels by time. Returns false with `error` set on failure.
inline bool printKernelProfile(tmc_model *model, const std::string &dir,
                               const std::string &runs, size_t top,
                               std::string &error) {
  std::map<std::string, KernelSource> table = readKernelTable(dir);
  // Each launch site is a kernel of its own: the table bounds their number.
  std::vector<tmc_kernel_time> kernels(table.size() + 64);
  size_t count = 0;
  char err[1024];
  if (tmc_model_profile_stop(model, kernels.data(), kernels.size(), &count,
                             err, sizeof(err)) != TMC_OK) {
    error = err;
    return false;
  }
  kernels.resize(std::min(count, kernels.size()));
  double total = 0;
  int64_t launches = 0;
  struct OpTime {
    int64_t kernels = 0, launches = 0;
    double ms = 0;
  };
  std::map<std::string, OpTime> byOp;
  for (const tmc_kernel_time &k : kernels) {
    total += k.milliseconds;
    launches += k.launches;
    OpTime &op = byOp[table[k.kernel].op];
    ++op.kernels;
    op.launches += k.launches;
    op.ms += k.milliseconds;
  }
  auto share = [&](double ms) { return total > 0 ? 100.0 * ms / total : 0.0; };
  std::printf("profile over %s (CUDA events around each launch): %zu "
              "kernels, %lld launches, %.3f ms of kernel time\n",
              runs.c_str(), count, static_cast<long long>(launches), total);
  std::vector<std::pair<std::string, OpTime>> ops(byOp.begin(), byOp.end());
  std::sort(ops.begin(), ops.end(), [](const auto &a, const auto &b) {
    return a.second.ms > b.second.ms;
  });
  std::printf("  %-24s %8s %9s %11s %7s\n", "op", "kernels", "launches",
              "ms", "share");
  for (const auto &[name, op] : ops)
    std::printf("  %-24s %8lld %9lld %11.3f %6.1f%%\n", name.c_str(),
                static_cast<long long>(op.kernels),
                static_cast<long long>(op.launches), op.ms, share(op.ms));
  std::printf("  %-24s %9s %11s %7s %12s  %s\n", "kernel", "launches", "ms",
              "share", "us/launch", "op (location)");
  for (size_t i = 0; i < kernels.size() && i < top; ++i) {
    const tmc_kernel_time &k = kernels[i];
    const KernelSource &source = table[k.kernel];
    std::printf("  %-24s %9lld %11.3f %6.1f%% %12.1f  %s (%s)\n", k.kernel,
                static_cast<long long>(k.launches), k.milliseconds,
                share(k.milliseconds),
                k.launches ? 1000.0 * k.milliseconds / double(k.launches) : 0.0,
                source.op.c_str(), source.location.c_str());
  }
  if (kernels.size() > top) {
    double rest = 0;
    for (size_t i = top; i < kernels.size(); ++i)
      rest += kernels[i].milliseconds;
    std::printf("  (%zu more kernels: %.3f ms, %.1f%%)\n",
                kernels.size() - top, rest, share(rest));
  }
  return true;
}

} // namespace tmc::tools

#endif // TMC_TOOLS_COMMON_PROFILE_H
