//===- Report.h - The compiled model's report and header --------*- C++ -*-===//
//
// This file declares what the compile driver writes besides code: the
// memory report (report.json) and the C header (model.h).
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_COMPILER_REPORT_H
#define TMC_LIB_COMPILER_REPORT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Location.h"

#include <string>
#include <vector>

namespace mlir {
namespace tmc {

/// One buffer the compiled code allocates, with its live range in program
/// points (ops of the bufferized model function, numbered in pre-order).
struct BufferInfo {
  std::string name;
  int64_t size = 0;
  int64_t offset = 0;
  int64_t firstUse = 0;
  int64_t lastUse = 0;
  /// True when the buffer is allocated inside a loop (one instance live at
  /// a time, allocated per iteration).
  bool inLoop = false;
};

struct BufferReport {
  std::vector<BufferInfo> buffers;
  /// Max over program points of the bytes live there.
  int64_t lowerBoundBytes = 0;
  /// Sum of all buffer sizes.
  int64_t totalBytes = 0;
};

/// Collects the allocations of a bufferized function and their live ranges;
/// offsets lay the buffers out one after another (no reuse).
BufferReport collectBuffers(func::FuncOp func);

struct ModelReport {
  int64_t seqLen = 0;
  int64_t weightsBytesBefore = 0;
  int64_t weightsBytesAfter = 0;
  int64_t arenaBytes = 0;
  BufferReport buffers;
};

/// Writes report.json (CONTRACT.md, docs/MemoryReport.md).
LogicalResult writeReport(Location loc, StringRef path,
                          const ModelReport &report);

/// Writes the C header of a compiled model (docs/ABI.md).
LogicalResult writeHeader(Location loc, StringRef path, StringRef signature,
                          int64_t weightsBytes, uint64_t weightsHash,
                          int64_t arenaBytes);

} // namespace tmc
} // namespace mlir

#endif // TMC_LIB_COMPILER_REPORT_H
