//===- Compiler.cpp - Compile a tfm model to a model directory --*- C++ -*-===//
//
// This file implements the compile driver: pipeline, in-process code
// generation with an LLVM TargetMachine, linking, header and report.
//
//===----------------------------------------------------------------------===//

#include "tmc/Compiler/Compiler.h"

#include "Report.h"
#include "tmc/Dialect/Tfm/IR/Tfm.h"
#include "tmc/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <chrono>

using namespace mlir;
using namespace mlir::tmc;

namespace {

/// Prints a progress line per stage when asked to.
class Progress {
public:
  explicit Progress(bool enabled) : enabled(enabled) {}
  /// Announces a stage (on its own line, so that diagnostics of the stage
  /// print cleanly after it) and times it.
  void stage(StringRef what) {
    finish();
    if (!enabled)
      return;
    llvm::errs() << "[tmc-compile] " << what << "\n";
    current = what.str();
    start = std::chrono::steady_clock::now();
  }
  /// Ends the current stage and records its time.
  void finish() {
    if (current.empty())
      return;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    times.push_back({current, seconds});
    current.clear();
  }
  /// Prints how long each stage took.
  void summary() {
    finish();
    if (!enabled || times.empty())
      return;
    llvm::errs() << "[tmc-compile] times:";
    for (auto &[what, seconds] : times)
      llvm::errs() << llvm::format(" %s %.2f s;",
                                   StringRef(what).split(' ').first.str().c_str(),
                                   seconds);
    llvm::errs() << "\n";
  }

private:
  bool enabled;
  std::string current;
  std::vector<std::pair<std::string, double>> times;
  std::chrono::steady_clock::time_point start;
};

/// The bytes of every distinct parameter of the tfm module, as imported.
static int64_t parameterBytes(ModuleOp module) {
  llvm::StringMap<int64_t> sizes;
  module.walk([&](tfm::ParamOp param) {
    auto type = cast<RankedTensorType>(param.getType());
    sizes[param.getName()] =
        type.getNumElements() * (type.getElementTypeBitWidth() / 8);
  });
  int64_t total = 0;
  for (const auto &entry : sizes)
    total += entry.second;
  return total;
}

/// Moves every fixed-size `alloca` of `llvmModule` into its function's entry
/// block. The translation of `gpu.launch_func` allocates each launch's
/// parameter array where the launch is; in a host loop (the attention's tile
/// loops) every iteration would grow the stack until it overflows. Each
/// array is written in full before its launch, which copies it, so one slot
/// per launch site is enough.
static void hoistStaticAllocas(llvm::Module &llvmModule) {
  for (llvm::Function &function : llvmModule) {
    if (function.isDeclaration())
      continue;
    llvm::BasicBlock &entry = function.getEntryBlock();
    llvm::Instruction *insertBefore = &*entry.getFirstInsertionPt();
    SmallVector<llvm::AllocaInst *> allocas;
    for (llvm::BasicBlock &block : function)
      if (&block != &entry)
        for (llvm::Instruction &inst : block)
          if (auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&inst))
            if (llvm::isa<llvm::ConstantInt>(alloca->getArraySize()))
              allocas.push_back(alloca);
    for (llvm::AllocaInst *alloca : allocas)
      alloca->moveBefore(insertBefore->getIterator());
  }
}

/// Generates code for `llvmModule` and writes an object file.
static LogicalResult emitObjectFile(Location loc, llvm::Module &llvmModule,
                                    StringRef cpuName, StringRef path) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string tripleName = llvm::sys::getDefaultTargetTriple();
  llvm::Triple triple(tripleName);
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return emitError(loc) << "no LLVM target for " << tripleName << ": "
                          << error;
  std::string cpu = cpuName == "native" ? llvm::sys::getHostCPUName().str()
                                        : cpuName.str();
  std::string features;
  if (cpuName == "native") {
    llvm::SubtargetFeatures subtarget;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      subtarget.AddFeature(feature.first(), feature.second);
    features = subtarget.getString();
  }
  llvm::TargetOptions targetOptions;
  // Constructors (a CUDA model loads its kernels in one) go to .init_array,
  // which is what glibc runs; .ctors would be silently ignored.
  targetOptions.UseInitArray = true;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return emitError(loc) << "cannot create a target machine for " << cpu;
  llvmModule.setDataLayout(machine->createDataLayout());
  llvmModule.setTargetTriple(triple);

  auto optimize = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                            machine.get());
  if (llvm::Error err = optimize(&llvmModule))
    return emitError(loc) << "LLVM optimization failed: "
                          << llvm::toString(std::move(err));

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return emitError(loc) << "the target cannot emit object files";
  codegen.run(llvmModule);
  os.close();
  if (os.has_error()) {
    os.clear_error();
    return emitError(loc) << "error writing '" << path << "'";
  }
  return success();
}

/// Runs `tool` with `args`; an error naming `what` at `loc` if it fails.
static LogicalResult runTool(Location loc, StringRef tool,
                             ArrayRef<StringRef> args, const Twine &what) {
  std::string message;
  std::optional<StringRef> redirects[] = {std::nullopt, std::nullopt,
                                          std::nullopt};
  int rc = llvm::sys::ExecuteAndWait(tool, args, std::nullopt, redirects, 0,
                                     0, &message);
  if (rc != 0)
    return emitError(loc) << what << " failed" << (message.empty() ? "" : ": ")
                          << message;
  return success();
}

/// Links `object` into the shared library `output` against TMC's runtime in
/// `runtimeDir`, with a RUNPATH of $ORIGIN.
static LogicalResult linkSharedLibrary(Location loc, StringRef object,
                                       StringRef output, StringRef runtimeDir,
                                       StringRef runtimeName) {
  llvm::ErrorOr<std::string> clang =
      llvm::sys::findProgramByName("clang", {TMC_LLVM_TOOLS_DIR});
  if (!clang)
    clang = llvm::sys::findProgramByName("clang-22");
  if (!clang)
    return emitError(loc) << "cannot find clang (looked in "
                          << TMC_LLVM_TOOLS_DIR << " and PATH) to link "
                          << output;
  std::string libDir = ("-L" + runtimeDir).str();
  std::string runtime = ("-l" + runtimeName).str();
  SmallVector<StringRef> args = {*clang,      "-shared",   "-fuse-ld=lld",
                                 "-o",        output,      object,
                                 libDir,      runtime,     "-lm",
                                 "-Wl,-rpath,$ORIGIN", "-Wl,--as-needed"};
  return runTool(loc, *clang, args, "linking " + output);
}

/// Writes the PTX of every `gpu.binary` of `module` (as the CUDA pipeline
/// serialized it, format isa) to `<outDir>/<name>.ptx`, assembles it with
/// the toolkit's ptxas for `arch` into `<name>.cubin`, packs both into
/// `<name>.fatbin` with fatbinary, and replaces the embedded PTX by the
/// fat binary: the driver loads the cubin on a GPU of `arch` and compiles
/// the PTX for newer ones.
static LogicalResult assembleKernels(ModuleOp module, StringRef arch,
                                     StringRef toolkit, StringRef outDir) {
  SmallString<256> ptxasPath(toolkit);
  llvm::sys::path::append(ptxasPath, "bin", "ptxas");
  if (!llvm::sys::fs::can_execute(ptxasPath))
    return emitError(module.getLoc())
           << "cannot find ptxas at " << ptxasPath
           << " (set CUDA_HOME to the CUDA toolkit)";
  SmallString<256> fatbinaryPath(toolkit);
  llvm::sys::path::append(fatbinaryPath, "bin", "fatbinary");
  if (!llvm::sys::fs::can_execute(fatbinaryPath))
    return emitError(module.getLoc())
           << "cannot find fatbinary at " << fatbinaryPath
           << " (set CUDA_HOME to the CUDA toolkit)";
  StringRef sm = arch;
  sm.consume_front("sm_");
  for (auto binary : llvm::to_vector(module.getOps<gpu::BinaryOp>())) {
    if (binary.getObjects().size() != 1)
      return binary.emitError("expected one object per gpu.binary, got ")
             << binary.getObjects().size();
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    if (object.getFormat() != gpu::CompilationTarget::Assembly)
      return binary.emitError("expected the kernels as PTX (format isa)");
    SmallString<256> ptx(outDir), cubin(outDir), fatbin(outDir);
    llvm::sys::path::append(ptx, binary.getSymName() + ".ptx");
    llvm::sys::path::append(cubin, binary.getSymName() + ".cubin");
    llvm::sys::path::append(fatbin, binary.getSymName() + ".fatbin");
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(ptx, ec, llvm::sys::fs::OF_None);
      if (ec)
        return emitError(binary.getLoc())
               << "cannot write '" << ptx << "': " << ec.message();
      os << object.getObject().getValue();
    }
    std::string archFlag = ("-arch=" + arch).str();
    if (failed(runTool(binary.getLoc(), ptxasPath,
                       {ptxasPath, archFlag, "-O3", ptx, "-o", cubin},
                       "ptxas -arch=" + arch + " on " + ptx)))
      return failure();
    std::string create = ("--create=" + fatbin).str();
    std::string elf = ("--image3=kind=elf,sm=" + sm + ",file=" + cubin).str();
    std::string ptxImage =
        ("--image3=kind=ptx,sm=" + sm + ",file=" + ptx).str();
    if (failed(runTool(binary.getLoc(), fatbinaryPath,
                       {fatbinaryPath, "-64", create, elf, ptxImage},
                       "fatbinary for " + arch)))
      return failure();
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes =
        llvm::MemoryBuffer::getFile(fatbin, /*IsText=*/false);
    if (!bytes)
      return emitError(binary.getLoc())
             << "cannot read '" << fatbin << "': "
             << bytes.getError().message();
    auto assembled = gpu::ObjectAttr::get(
        module.getContext(), object.getTarget(),
        gpu::CompilationTarget::Fatbin,
        StringAttr::get(module.getContext(), (*bytes)->getBuffer()),
        object.getProperties(), object.getKernels());
    binary.setObjectsAttr(ArrayAttr::get(module.getContext(), {assembled}));
  }
  return success();
}

/// Refuses the options whose transform this version cannot apply; the
/// others are checked by the passes they configure.
static LogicalResult checkAvailable(Location loc,
                                    const CompileOptions &options) {
  auto refuse = [&](StringRef flag, const llvm::Twine &value) {
    return emitError(loc) << "--" << flag << "=" << value.str()
                          << " is not available in this version of TMC";
  };
  if (options.target != "cpu" && options.target != "cuda")
    return refuse("target", options.target);
  if (options.target == "cuda" && !options.planBuffers)
    return emitError(loc) << "--no-plan-buffers is not available with "
                             "--target=cuda: every buffer of a GPU model is "
                             "a view of the one device arena";
  if (options.target != "cuda" && options.gpuAttention != "fused")
    return emitError(loc) << "--gpu-attention applies to --target=cuda only";
  if (options.target != "cuda" && options.gpuTensorCores != "auto")
    return emitError(loc)
           << "--gpu-tensor-cores applies to --target=cuda only";
  if (options.gpuTensorCores == "tf32" &&
      getSmVersion(options.gpuArch).value_or(0) < 80)
    return emitError(loc) << "--gpu-tensor-cores=tf32 needs --gpu-arch "
                             "sm_80 or later (mma.sync with tf32), got "
                          << options.gpuArch;
  if ((options.gpuTensorCores == "f16" || options.gpuTensorCores == "bf16") &&
      getSmVersion(options.gpuArch).value_or(0) < 80)
    return emitError(loc)
           << "--gpu-tensor-cores=" << options.gpuTensorCores
           << " puts the attention on tensor cores with mma.sync, which "
              "needs --gpu-arch sm_80 or later, got "
           << options.gpuArch
           << " (--gpu-tensor-cores=auto keeps f16 matmuls on tensor cores "
              "there)";
  if (options.target != "cuda" && !options.gpuKernelOptions.empty())
    return emitError(loc) << "--gpu-kernel-options applies to --target=cuda "
                             "only";
  if ((options.target != "cuda" || !options.decodeMaxTokens) &&
      options.gpuDecodeSplit)
    return emitError(loc) << "--gpu-decode-split applies to --target=cuda "
                             "--decode builds only";
  if (!options.train) {
    if (options.remat != "none")
      return emitError(loc) << "--remat applies to training steps: add "
                               "--train";
    if (!options.memoryBudget.empty())
      return emitError(loc) << "--memory-budget applies to training steps: "
                               "add --train";
    if (!options.loss.empty())
      return emitError(loc) << "--loss applies to training steps: add "
                               "--train";
    return success();
  }
  auto conflict = [&](StringRef what) {
    return emitError(loc) << "--train cannot be combined with " << what
                          << ": train first, then compile the trained "
                             "checkpoint with it";
  };
  if (options.target != "cpu")
    return emitError(loc) << "--train is available for --target=cpu only";
  if (options.decodeMaxTokens)
    return conflict("--decode");
  if (options.quantize != "none")
    return conflict("--quantize");
  if (options.prune != "none")
    return conflict("--prune");
  if (options.lowRank != "none")
    return conflict("--low-rank");
  if (options.linformer != 0)
    return conflict("--linformer");
  if (!options.planBuffers && !options.memoryBudget.empty())
    return emitError(loc) << "--memory-budget needs the buffer plan "
                             "(drop --no-plan-buffers)";
  return success();
}

/// Parses a byte size: a number with an optional unit (B, KiB, MiB, GiB,
/// KB, MB, GB; K/M/G are binary).
static std::optional<int64_t> parseByteSize(StringRef text) {
  StringRef number = text.take_while(
      [](char c) { return llvm::isDigit(c) || c == '.'; });
  StringRef unit = text.drop_front(number.size()).trim();
  double value;
  if (number.empty() || number.getAsDouble(value))
    return std::nullopt;
  double scale = llvm::StringSwitch<double>(unit.lower())
                     .Cases({"", "b"}, 1.0)
                     .Cases({"k", "kib"}, 1024.0)
                     .Cases({"m", "mib"}, 1024.0 * 1024)
                     .Cases({"g", "gib"}, 1024.0 * 1024 * 1024)
                     .Case("kb", 1e3)
                     .Case("mb", 1e6)
                     .Case("gb", 1e9)
                     .Default(-1.0);
  if (scale < 0 || !(value * scale >= 1.0))
    return std::nullopt;
  return static_cast<int64_t>(value * scale);
}

} // namespace

LogicalResult mlir::tmc::compileModel(ModuleOp module,
                                      const CompileOptions &options) {
  Location loc = module.getLoc();
  if (failed(checkAvailable(loc, options)))
    return failure();
  Progress progress(options.verbose);
  SmallString<256> outDir(options.outputDir);
  if (std::error_code ec = llvm::sys::fs::create_directories(outDir))
    return emitError(loc) << "cannot create '" << outDir
                          << "': " << ec.message();
  auto file = [&](StringRef name) {
    SmallString<256> path(outDir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };

  ModelReport report;
  report.weightsBytesBefore = parameterBytes(module);
  SourceOps sources;
  if (options.target == "cuda")
    sources = collectSourceOps(module);

  progress.stage("lowering (tfm -> linalg -> memref -> LLVM dialect)");
  PassManager pm(module.getContext());
  if (options.applyPassManagerCLOptions &&
      failed(applyPassManagerCLOptions(pm)))
    return emitError(loc) << "the pass manager's command-line options are "
                             "not registered (registerPassManagerCLOptions)";
  bool cuda = options.target == "cuda";
  // A training step's rematerialization: a mode, or the least
  // recomputation that fits a budget on the planned arena.
  std::string remat = options.remat;
  int64_t budget = 0;
  if (options.train && !options.memoryBudget.empty()) {
    std::optional<int64_t> parsed = parseByteSize(options.memoryBudget);
    if (!parsed)
      return emitError(loc) << "--memory-budget='" << options.memoryBudget
                            << "' is not a size (bytes, or with a unit: "
                               "KiB, MiB, GiB, KB, MB, GB)";
    budget = *parsed;
    if (remat == "none")
      remat = "optimal";
    else if (remat != "optimal")
      return emitError(loc) << "--memory-budget goes with --remat=optimal, "
                               "not --remat="
                            << remat;
  }
  if (options.train && remat == "optimal" && !budget)
    return emitError(loc) << "--remat=optimal needs --memory-budget";
  int64_t rematBudget = budget;
  auto setFront = [&](auto &pipeline) {
    pipeline.seqLen = options.seqLen;
    pipeline.weightsOutput = file("weights.bin");
    pipeline.weightsBaseDir = options.weightsBaseDir;
    pipeline.planBuffers = options.planBuffers;
    pipeline.attention = options.attention;
    pipeline.quantize = options.quantize;
    pipeline.quantizeCalibration = options.quantizeCalibration;
    pipeline.quantizeError = options.quantizeError;
    pipeline.prune = options.prune;
    pipeline.lowRank = options.lowRank;
    pipeline.lowRankActivationAware = options.lowRankActivationAware;
    pipeline.lowRankForce = options.lowRankForce;
    pipeline.linformer = options.linformer;
    pipeline.lowRankCalibration = options.lowRankCalibration;
    pipeline.attentionBlockQ = options.attentionBlockQ;
    pipeline.attentionBlockK = options.attentionBlockK;
    pipeline.train = options.train;
    pipeline.loss = options.loss;
    pipeline.remat = remat;
    pipeline.rematBudget = rematBudget;
    // The planned arena, not the estimate, decides whether a schedule fits
    // (see the loop below): past the estimate, take the leanest schedule.
    pipeline.rematMinimize = budget > 0;
    if (options.decodeMaxTokens) {
      pipeline.decode = *options.decodeMaxTokens;
      pipeline.kvCache = options.kvCache;
      pipeline.kvSinks = options.kvSinks;
    }
  };
  std::string toolkit;
  if (cuda) {
    toolkit = findCudaToolkit(options.cudaToolkit);
    if (toolkit.empty())
      return emitError(loc) << "--target=cuda needs the CUDA toolkit (ptxas, "
                               "libdevice): set CUDA_HOME or install it in "
                               "/usr/local/cuda";
    SmallString<256> ptxas(toolkit), libdevice(toolkit);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    if (!llvm::sys::fs::can_execute(ptxas) || !llvm::sys::fs::exists(libdevice))
      return emitError(loc) << "the CUDA toolkit at '" << toolkit
                            << "' has no bin/ptxas or "
                               "nvvm/libdevice/libdevice.10.bc";
    TmcCudaPipelineOptions pipeline;
    setFront(pipeline);
    pipeline.gpuArch = options.gpuArch;
    pipeline.fusedAttention = options.gpuAttention == "fused";
    pipeline.tensorCores = options.gpuTensorCores != "none";
    pipeline.tf32 = options.gpuTensorCores == "tf32";
    // With tf32, auto picks the attention's operand type: that of 16-bit
    // weights, else tf32.
    pipeline.attentionTensorCores =
        pipeline.tf32 ? "auto" : options.gpuTensorCores;
    pipeline.cachedAttentionSplit = options.gpuDecodeSplit.value_or(
        CompileOptions::kDefaultGpuDecodeSplit);
    pipeline.toolkit = toolkit;
    pipeline.format = "isa";
    // bf16 tensor cores (mma.sync) need sm_80: before it, `auto` leaves
    // bf16 weights to the other kernels (and the attention to the scalar
    // kernel).
    if (options.gpuTensorCores == "auto" &&
        getSmVersion(options.gpuArch).value_or(0) < 80 &&
        StringRef(options.quantize).split(':').first == "bf16")
      pipeline.tensorCores = false;
    if (!options.gpuKernelOptions.empty()) {
      std::string message;
      llvm::raw_string_ostream os(message);
      if (failed(pipeline.parseFromString(options.gpuKernelOptions, os)))
        return emitError(loc) << "--gpu-kernel-options: "
                              << StringRef(message).trim();
    }
    if (std::string problem = checkTmcCudaPipelineOptions(pipeline);
        !problem.empty())
      return emitError(loc) << problem;
    buildTmcCudaPipeline(pm, pipeline);
  } else {
    if (budget) {
      progress.stage("fitting the training step's activations to the budget");
      // The schedule is chosen on estimates; the planned arena decides.
      // Each plan that exceeds the budget tightens the schedule's budget by
      // the excess, until it fits or the leanest schedule is reached; a plan
      // that fits with room to spare loosens it by the room left, and is
      // kept if it still fits (less recomputation for the same budget).
      struct Plan {
        int64_t arena = 0;
        bool leanest = false;
      };
      auto plan = [&]() -> FailureOr<Plan> {
        OwningOpRef<ModuleOp> probe = module.clone();
        PassManager probePm(module.getContext());
        TmcCpuPipelineOptions probeOptions;
        setFront(probeOptions);
        probeOptions.weightsOutput = "";
        buildTmcFrontPipeline(probePm, probeOptions);
        if (failed(probePm.run(*probe)))
          return failure();
        Plan result;
        if (auto attr = (*probe)->getAttrOfType<IntegerAttr>("tmc.arena_bytes"))
          result.arena = attr.getInt();
        if (auto records =
                (*probe)->getAttrOfType<ArrayAttr>("tmc.transforms"))
          for (Attribute record : records)
            if (auto dict = dyn_cast<DictionaryAttr>(record))
              result.leanest |= static_cast<bool>(dict.get("over_budget"));
        ++report.planAttempts;
        return result;
      };
      constexpr int kMaxTightenings = 8, kMaxLoosenings = 3;
      FailureOr<Plan> fit = failure();
      for (int attempt = 1;; ++attempt) {
        fit = plan();
        if (failed(fit))
          return failure();
        if (fit->arena <= budget)
          break;
        if (fit->leanest)
          return emitError(loc)
                 << "no rematerialization schedule fits --memory-budget="
                 << options.memoryBudget << " (" << budget
                 << " bytes): the smallest planned activation arena is "
                 << fit->arena << " bytes ("
                 << llvm::formatv("{0:F2}", fit->arena / 1048576.0).str()
                 << " MiB); weights and gradients are outside the budget";
        if (attempt == kMaxTightenings)
          return emitError(loc)
                 << "the training step's planned arena (" << fit->arena
                 << " bytes) still exceeds --memory-budget=" << budget
                 << " bytes after " << kMaxTightenings << " plans";
        rematBudget =
            std::max<int64_t>(1, rematBudget - (fit->arena - budget));
      }
      for (int i = 0; i < kMaxLoosenings; ++i) {
        int64_t room = budget - fit->arena;
        if (room <= budget / 100)
          break;
        int64_t fitted = rematBudget;
        rematBudget += room;
        FailureOr<Plan> looser = plan();
        if (failed(looser))
          return failure();
        if (looser->arena > budget) {
          rematBudget = fitted;
          break;
        }
        fit = looser;
      }
    }
    TmcCpuPipelineOptions pipeline;
    setFront(pipeline);
    pipeline.useKernels = options.useKernels;
    buildTmcCpuPipeline(pm, pipeline);
  }
  if (failed(pm.run(module)))
    return failure();
  if (cuda) {
    module.walk([&](gpu::LaunchFuncOp) { ++report.gpuKernels; });
    if (failed(writeKernelTable(loc, file("kernels.tsv"), module, sources)))
      return failure();
    progress.stage("assembling kernels (ptxas)");
    if (failed(assembleKernels(module, options.gpuArch, toolkit, outDir)))
      return failure();
  }

  auto signature = module->getAttrOfType<StringAttr>("tmc.signature");
  auto intAttr = [&](StringRef name) -> int64_t {
    if (auto attr = module->getAttrOfType<IntegerAttr>(name))
      return attr.getValue().getZExtValue();
    return 0;
  };
  report.weightsBytesAfter = intAttr("tmc.weights_bytes");
  readBufferPlan(module, report);
  uint64_t weightsHash = intAttr("tmc.weights_hash");
  std::string signatureText = signature ? signature.getValue().str() : "";
  // Discardable attributes of no registered dialect mean nothing to LLVM.
  for (NamedAttribute attr : llvm::to_vector(module->getDiscardableAttrs()))
    if (attr.getName().getValue().starts_with("tmc.") ||
        attr.getName().getValue().starts_with("tfm."))
      module->removeAttr(attr.getName());

  module.walk([](LLVM::LLVMFuncOp func) {
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      func.removeArgAttr(i, tfm::TfmDialect::getIONameAttrName());
      func.removeArgAttr(i, tfm::TfmDialect::getHostArgAttrName());
    }
  });

  progress.stage("translating to LLVM IR");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "model");
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  hoistStaticAllocas(*llvmModule);

  progress.stage("generating code (LLVM -O3, object file)");
  // A CUDA model's host code only computes addresses and launches kernels:
  // it is built for any x86-64, not for this machine's CPU, so that it runs
  // on the GPU machine whatever its vector extensions.
  std::string cpu = options.cpu;
  if (cuda && cpu == "native")
    cpu = "x86-64";
  if (failed(emitObjectFile(loc, *llvmModule, cpu, file("model.o"))))
    return failure();

  progress.stage("linking model.so");
  StringRef runtimeName = cuda ? "tmcrt_cuda" : "tmcrt";
  SmallString<256> runtimeLib(options.runtimeDir);
  llvm::sys::path::append(runtimeLib, "lib" + runtimeName + ".so");
  if (!llvm::sys::fs::exists(runtimeLib))
    return emitError(loc) << "TMC's runtime library is missing: "
                          << runtimeLib;
  if (std::error_code ec = llvm::sys::fs::copy_file(
          runtimeLib, file(("lib" + runtimeName + ".so").str())))
    return emitError(loc) << "cannot copy " << runtimeLib << ": "
                          << ec.message();
  if (failed(linkSharedLibrary(loc, file("model.o"), file("model.so"),
                               outDir, runtimeName)))
    return failure();

  progress.stage("writing model.h and report.json");
  if (failed(writeHeader(loc, file("model.h"), signatureText, report,
                         weightsHash, cuda ? "cuda " + options.gpuArch : "")))
    return failure();
  report.seqLen = options.seqLen;
  report.train = options.train;
  report.memoryBudget = budget;
  report.target = cuda ? "cuda " + options.gpuArch : "cpu";
  if (failed(writeReport(loc, file("report.json"), report)))
    return failure();
  progress.summary();
  return success();
}
