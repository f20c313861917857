//===- Compiler.h - Compile a tfm model to a model directory ----*- C++ -*-===//
//
// This file declares the driver that turns a tfm module into the files of a
// compiled model (docs/ABI.md): code, header, packed weights and report.
// tmc-compile is a thin command line over it; embedders call it directly.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_COMPILER_COMPILER_H
#define TMC_COMPILER_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
namespace tmc {

/// What to compile and where to put it.
struct CompileOptions {
  /// Directory to write the compiled model into (created if needed).
  std::string outputDir;
  /// Static sequence length given to the model's dynamic dimensions.
  int64_t seqLen = 128;
  /// Directory against which a relative `tfm.weights_file` resolves
  /// (normally the directory of the model file).
  std::string weightsBaseDir;
  /// LLVM CPU name to generate code for ("native": this machine's).
  std::string cpu = "native";
  /// Directory holding TMC's runtime library (libtmcrt.so), which the
  /// compiled model links against and which is copied next to it.
  std::string runtimeDir;
  /// Attention sparsity pattern (tfm-sparsify-attention's `pattern`), empty
  /// to keep what the model says.
  std::string attention;
  /// Pruning scheme (tfm-prune's `scheme`).
  std::string prune = "none";
  /// Weight quantization scheme (tfm-quantize's `scheme`).
  std::string quantize = "none";
  /// Attention tile sizes (queries x keys).
  int64_t attentionBlockQ = 64;
  int64_t attentionBlockK = 64;
  /// Call TMC's GEMM kernels for matmuls (otherwise loops).
  bool useKernels = true;
  /// Place intermediate buffers in one planned arena (otherwise each is a
  /// heap allocation and the arena is empty).
  bool planBuffers = true;
  /// Apply the pass manager's command-line options (-mlir-timing,
  /// -mlir-print-ir-after, ...): for tools that registered them with
  /// `mlir::registerPassManagerCLOptions()`.
  bool applyPassManagerCLOptions = false;
  /// Print one progress line per stage on stderr.
  bool verbose = false;
};

/// Compiles `module` (a tfm model, consumed) into `options.outputDir`:
/// runs the CPU pipeline, emits an object file in-process with an LLVM
/// TargetMachine, links `model.so` against TMC's runtime, writes `model.h`,
/// `weights.bin` and `report.json`. Diagnostics go to the module's context.
LogicalResult compileModel(ModuleOp module, const CompileOptions &options);

} // namespace tmc
} // namespace mlir

#endif // TMC_COMPILER_COMPILER_H
