//===- Report.h - The compiled model's report and header --------*- C++ -*-===//
//
// This file declares what the compile driver writes besides code: the
// memory report (report.json) and the C header (model.h).
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_COMPILER_REPORT_H
#define TMC_LIB_COMPILER_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace tmc {

/// One buffer of the plan, as reported.
struct BufferInfo {
  std::string name;
  int64_t size = 0;
  int64_t offset = 0;
  int64_t firstUse = 0;
  int64_t lastUse = 0;
};

/// The KV cache of a decoding build (tfm-kv-cache's `tmc.decode`).
struct DecodeInfo {
  int64_t cacheBytes = 0;
  int64_t bytesPerToken = 0;
  /// Positions the cache can hold (0: unbounded, a sliding window).
  int64_t maxTokens = 0;
  int64_t chunk = 0;
  int64_t vocab = 0;
  int64_t window = 0;
  int64_t sinks = 0;
  std::string cacheType;
};

struct ModelReport {
  int64_t seqLen = 0;
  /// "cpu", or "cuda <arch>".
  std::string target = "cpu";
  /// GPU kernels of a CUDA model (0 for the CPU).
  int64_t gpuKernels = 0;
  int64_t weightsBytesBefore = 0;
  int64_t weightsBytesAfter = 0;
  int64_t arenaBytes = 0;
  int64_t lowerBoundBytes = 0;
  int64_t buffersTotalBytes = 0;
  std::vector<BufferInfo> buffers;
  /// Set for a decoding build.
  std::optional<DecodeInfo> decode;
  /// For a training step: the activation budget asked for (0: none) and
  /// how many plans it took to fit it.
  bool train = false;
  int64_t memoryBudget = 0;
  int64_t planAttempts = 0;
  /// What the tfm-level transforms recorded (`tmc.transforms`), as JSON.
  std::vector<std::string> transforms;
};

/// The name of the source op at each file location of the input module
/// (what a kernel's location is traced back to).
using SourceOps = std::map<std::string, std::string>;

/// Records the ops of the input `module` by their location.
SourceOps collectSourceOps(ModuleOp module);

/// Writes kernels.tsv of a CUDA model: for every gpu.launch_func of the
/// lowered `module`, its kernel, its host function, and the source op and
/// location it comes from (docs/GPU.md; tmc-run --profile reads it).
LogicalResult writeKernelTable(Location loc, StringRef path, ModuleOp module,
                               const SourceOps &sources);

/// Reads the plan that tmc-plan-buffers recorded on `module`, and the KV
/// cache that tfm-kv-cache recorded, if any.
void readBufferPlan(ModuleOp module, ModelReport &report);

/// Writes report.json (CONTRACT.md, docs/MemoryReport.md).
LogicalResult writeReport(Location loc, StringRef path,
                          const ModelReport &report);

/// Writes the C header of a compiled model (docs/ABI.md); `target` is
/// empty for a CPU model, else what tmc_model_target() returns
/// ("cuda sm_90": every buffer is device memory, docs/GPU.md).
LogicalResult writeHeader(Location loc, StringRef path, StringRef signature,
                          const ModelReport &report, uint64_t weightsHash,
                          StringRef target = "");

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_COMPILER_REPORT_H
