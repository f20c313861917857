//===- TMC.cpp - TMC compiler C API -----------------------------*- C++ -*-===//
//
// This file implements the C API of include/tmc-c/TMC.h over TMC's C++
// interfaces: the importer, the CPU pipeline and the compile driver.
// Diagnostics are collected per context and returned as text.
//
//===----------------------------------------------------------------------===//

#include "tmc-c/TMC.h"

#include "tmc/Compiler/Compiler.h"
#include "tmc/Import/Import.h"
#include "tmc/InitAll.h"
#include "tmc/Pipelines/Pipelines.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <new>
#include <optional>
#include <string>

using namespace mlir;

/// An MLIR context, its diagnostics handler and the last error.
struct tmc_context {
  explicit tmc_context(DialectRegistry &registry) : context(registry) {}

  MLIRContext context;
  /// The message of the last failed call; cleared when a call starts.
  std::string error;
  std::optional<DiagnosticEngine::HandlerID> handler;
};

/// A module owned by a context.
struct tmc_module {
  tmc_context *owner;
  OwningOpRef<ModuleOp> module;
  /// The directory of the file the module was loaded from ("" otherwise).
  std::string directory;
};

/// tmc-compile's options, set by name (tmc_compile_options_set).
struct tmc_compile_options {
  tmc_context *owner;
  tmc::CompileOptions options;
  /// Whether "runtime-dir" was set (otherwise: next to libTMC-C.so).
  bool runtimeDirSet = false;
  /// Whether "weights-base-dir" was set (otherwise: the module's directory).
  bool weightsBaseDirSet = false;
};

/// Appends one diagnostic (and its notes) to `out` as
/// `file:line:col: severity: message` lines.
static void appendDiagnostic(std::string &out, Diagnostic &diag) {
  llvm::raw_string_ostream os(out);
  auto printOne = [&](Diagnostic &d) {
    if (auto loc = d.getLocation()->findInstanceOf<FileLineColLoc>())
      os << loc.getFilename().getValue() << ":" << loc.getLine() << ":"
         << loc.getColumn() << ": ";
    switch (d.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << d.str() << "\n";
  };
  printOne(diag);
  for (Diagnostic &note : diag.getNotes())
    printOne(note);
}

/// Starts an API call on `ctx`: clears the previous error.
static void begin(tmc_context *ctx) { ctx->error.clear(); }

/// Records a failure message on `ctx` and returns TMC_FAILURE.
static tmc_result fail(tmc_context *ctx, const llvm::Twine &message) {
  if (!ctx->error.empty() && ctx->error.back() != '\n')
    ctx->error += '\n';
  ctx->error += message.str();
  ctx->error += '\n';
  return TMC_FAILURE;
}

/// Records a failure whose diagnostics were already collected, with a
/// fallback message when there were none.
static tmc_result failWithDiagnostics(tmc_context *ctx,
                                      const llvm::Twine &fallback) {
  if (ctx->error.empty())
    return fail(ctx, fallback);
  return TMC_FAILURE;
}

/// Returns a malloc'ed copy of `text` (freed with tmc_free).
static char *copyString(llvm::StringRef text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  if (!out)
    return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

/// The directory holding this library (libTMC-C.so), where the runtime
/// library libtmcrt.so is installed too.
static std::string libraryDirectory() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&tmc_c_api_version), &info) ||
      !info.dli_fname)
    return "";
  llvm::SmallString<256> path(info.dli_fname);
  llvm::sys::fs::make_absolute(path);
  return llvm::sys::path::parent_path(path).str();
}

/// Wraps a module in a handle owned by `ctx`; `directory` is where it was
/// loaded from.
static tmc_module *wrapModule(tmc_context *ctx, OwningOpRef<ModuleOp> module,
                              llvm::StringRef directory) {
  auto *result = new (std::nothrow) tmc_module{ctx, std::move(module), ""};
  if (!result) {
    fail(ctx, "out of memory");
    return nullptr;
  }
  result->directory = directory.str();
  return result;
}

//===----------------------------------------------------------------------===//
// Strings and version
//===----------------------------------------------------------------------===//

const char *tmc_c_api_version(void) { return "1.0"; }

void tmc_free(void *pointer) { std::free(pointer); }

//===----------------------------------------------------------------------===//
// Contexts
//===----------------------------------------------------------------------===//

tmc_context *tmc_context_create(void) {
  // Textual pipelines name passes through the global registry; fill it once
  // per process. compileModel applies the pass manager's command-line
  // options, which must exist (at their defaults) as in tmc-compile.
  static std::once_flag registered;
  std::call_once(registered, [] {
    tmc::registerAllPasses();
    registerPassManagerCLOptions();
  });

  DialectRegistry registry;
  tmc::registerAllDialects(registry);
  auto *ctx = new (std::nothrow) tmc_context(registry);
  if (!ctx)
    return nullptr;
  ctx->context.loadAllAvailableDialects();
  ctx->handler =
      ctx->context.getDiagEngine().registerHandler([ctx](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error ||
            diag.getSeverity() == DiagnosticSeverity::Warning)
          appendDiagnostic(ctx->error, diag);
        return success();
      });
  return ctx;
}

void tmc_context_destroy(tmc_context *context) {
  if (!context)
    return;
  if (context->handler)
    context->context.getDiagEngine().eraseHandler(*context->handler);
  delete context;
}

const char *tmc_context_error(const tmc_context *context) {
  return context ? context->error.c_str() : "no context";
}

//===----------------------------------------------------------------------===//
// Modules
//===----------------------------------------------------------------------===//

tmc_module *tmc_module_load(tmc_context *context, const char *path) {
  if (!context)
    return nullptr;
  begin(context);
  if (!path) {
    fail(context, "tmc_module_load: no path given");
    return nullptr;
  }
  if (!llvm::sys::fs::exists(path)) {
    fail(context, llvm::Twine(path) + ": no such file");
    return nullptr;
  }
  ParserConfig config(&context->context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, config);
  if (!module) {
    failWithDiagnostics(context,
                        llvm::Twine(path) + ": cannot parse the model");
    return nullptr;
  }
  llvm::SmallString<256> directory(path);
  llvm::sys::fs::make_absolute(directory);
  return wrapModule(context, std::move(module),
                    llvm::sys::path::parent_path(directory));
}

tmc_module *tmc_module_parse(tmc_context *context, const char *data,
                             size_t length) {
  if (!context)
    return nullptr;
  begin(context);
  if (!data) {
    fail(context, "tmc_module_parse: no data given");
    return nullptr;
  }
  ParserConfig config(&context->context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      llvm::StringRef(data, length), config, "<tmc_module_parse>");
  if (!module) {
    failWithDiagnostics(context, "<tmc_module_parse>: cannot parse the model");
    return nullptr;
  }
  return wrapModule(context, std::move(module), "");
}

tmc_module *tmc_module_import_checkpoint(tmc_context *context,
                                         const char *directory,
                                         int inline_weights) {
  if (!context)
    return nullptr;
  begin(context);
  if (!directory) {
    fail(context, "tmc_module_import_checkpoint: no directory given");
    return nullptr;
  }
  tmc::ImportOptions options;
  options.inlineWeights = inline_weights != 0;
  auto module = tmc::importCheckpoint(context->context, directory, options);
  if (!module) {
    fail(context, llvm::toString(module.takeError()));
    return nullptr;
  }
  return wrapModule(context, std::move(*module), directory);
}

void tmc_module_destroy(tmc_module *module) { delete module; }

char *tmc_module_to_string(tmc_module *module, int generic) {
  if (!module)
    return nullptr;
  begin(module->owner);
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  module->module->print(os, flags);
  char *result = copyString(text);
  if (!result)
    fail(module->owner, "out of memory");
  return result;
}

tmc_result tmc_module_write(tmc_module *module, const char *path) {
  if (!module)
    return TMC_FAILURE;
  tmc_context *ctx = module->owner;
  begin(ctx);
  if (!path)
    return fail(ctx, "tmc_module_write: no path given");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(ctx, llvm::Twine(path) + ": " + ec.message());
  if (llvm::StringRef(path).ends_with(".mlirbc")) {
    if (failed(writeBytecodeToFile(*module->module, os)))
      return failWithDiagnostics(ctx,
                                 llvm::Twine(path) + ": cannot write bytecode");
  } else {
    module->module->print(os);
  }
  os.close();
  if (os.has_error()) {
    os.clear_error();
    return fail(ctx, llvm::Twine(path) + ": write error");
  }
  return TMC_SUCCESS;
}

tmc_result tmc_module_run_pipeline(tmc_module *module, const char *pipeline) {
  if (!module)
    return TMC_FAILURE;
  tmc_context *ctx = module->owner;
  begin(ctx);
  if (!pipeline)
    return fail(ctx, "tmc_module_run_pipeline: no pipeline given");
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  FailureOr<OpPassManager> parsed = parsePassPipeline(pipeline, errorStream);
  if (failed(parsed))
    return fail(ctx, llvm::Twine("invalid pass pipeline '") + pipeline +
                         "': " + llvm::StringRef(parseErrors).trim());
  PassManager pm(&ctx->context, ModuleOp::getOperationName());
  static_cast<OpPassManager &>(pm) = std::move(*parsed);
  if (failed(pm.run(*module->module)))
    return failWithDiagnostics(ctx, llvm::Twine("pass pipeline '") + pipeline +
                                        "' failed");
  return TMC_SUCCESS;
}

/// Parses `options` as `Options`, builds the pipeline with `build` and runs
/// it on `module`; `what` names the pipeline in messages.
template <typename Options>
static tmc_result runPipeline(tmc_module *module, const char *options,
                              llvm::StringRef what,
                              void (*build)(OpPassManager &, const Options &)) {
  if (!module)
    return TMC_FAILURE;
  tmc_context *ctx = module->owner;
  begin(ctx);
  std::string text = options ? options : "";
  // The option parser reports problems on stderr; the message here names
  // the string.
  auto pipelineOptions = Options::createFromString(text);
  if (!pipelineOptions)
    return fail(ctx, "invalid " + what + " pipeline options '" + text + "'");
  if (pipelineOptions->weightsBaseDir.empty() && !module->directory.empty())
    pipelineOptions->weightsBaseDir = module->directory;
  PassManager pm(&ctx->context, ModuleOp::getOperationName());
  build(pm, *pipelineOptions);
  if (failed(pm.run(*module->module)))
    return failWithDiagnostics(ctx, "the " + what + " pipeline failed");
  return TMC_SUCCESS;
}

tmc_result tmc_module_run_cpu_pipeline(tmc_module *module,
                                       const char *options) {
  return runPipeline<tmc::TmcCpuPipelineOptions>(module, options, "CPU",
                                                 tmc::buildTmcCpuPipeline);
}

tmc_result tmc_module_run_cuda_pipeline(tmc_module *module,
                                        const char *options) {
  return runPipeline<tmc::TmcCudaPipelineOptions>(module, options, "CUDA",
                                                  tmc::buildTmcCudaPipeline);
}

//===----------------------------------------------------------------------===//
// Compiling
//===----------------------------------------------------------------------===//

tmc_compile_options *tmc_compile_options_create(tmc_context *context) {
  if (!context)
    return nullptr;
  begin(context);
  auto *options = new (std::nothrow) tmc_compile_options();
  if (!options) {
    fail(context, "out of memory");
    return nullptr;
  }
  options->owner = context;
  return options;
}

void tmc_compile_options_destroy(tmc_compile_options *options) {
  delete options;
}

tmc_result tmc_compile_options_set(tmc_compile_options *options,
                                   const char *name, const char *value) {
  if (!options)
    return TMC_FAILURE;
  tmc_context *ctx = options->owner;
  begin(ctx);
  if (!name)
    return fail(ctx, "tmc_compile_options_set: no option name given");
  llvm::StringRef key(name);
  if (llvm::Error err =
          tmc::setCompileOption(options->options, key, value ? value : ""))
    return fail(ctx, llvm::toString(std::move(err)));
  options->runtimeDirSet |= key == "runtime-dir";
  options->weightsBaseDirSet |= key == "weights-base-dir";
  return TMC_SUCCESS;
}

tmc_result tmc_compile(tmc_module *module, const char *output_dir,
                       const tmc_compile_options *options) {
  if (!module)
    return TMC_FAILURE;
  tmc_context *ctx = module->owner;
  begin(ctx);
  if (!output_dir || !*output_dir)
    return fail(ctx, "tmc_compile: no output directory given");
  tmc::CompileOptions compile;
  if (options) {
    compile = options->options;
    if (!options->runtimeDirSet)
      compile.runtimeDir = libraryDirectory();
    if (!options->weightsBaseDirSet)
      compile.weightsBaseDir = module->directory;
  } else {
    compile.runtimeDir = libraryDirectory();
    compile.weightsBaseDir = module->directory;
  }
  compile.outputDir = output_dir;
  if (failed(tmc::compileModel(*module->module, compile)))
    return failWithDiagnostics(ctx, llvm::Twine("compiling into ") +
                                        output_dir + " failed");
  return TMC_SUCCESS;
}

char *tmc_read_report(tmc_context *context, const char *output_dir) {
  if (!context)
    return nullptr;
  begin(context);
  if (!output_dir) {
    fail(context, "tmc_read_report: no directory given");
    return nullptr;
  }
  llvm::SmallString<256> path(output_dir);
  llvm::sys::path::append(path, "report.json");
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    fail(context, path + ": " + buffer.getError().message());
    return nullptr;
  }
  char *result = copyString((*buffer)->getBuffer());
  if (!result)
    fail(context, "out of memory");
  return result;
}
