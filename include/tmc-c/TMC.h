/*===- tmc-c/TMC.h - TMC compiler C API ---------------------------*- C -*-===*\
|*                                                                            *|
|* The C interface of TMC's compiler, for hosts that are not C++: load or     *|
|* import a model, run TMC's pipelines on it, compile it into a model         *|
|* directory (docs/ABI.md) and read its memory report. Running a compiled     *|
|* model is the runtime's C API (tmc-rt/Runtime.h, libtmcrt).                 *|
|*                                                                            *|
|* The library, libTMC-C.so, links the shared libMLIR.so and exports only     *|
|* the functions declared here. Handles are opaque; nothing throws, nothing   *|
|* exits. docs/Embedding.md describes the API with an example.                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TMC_C_TMC_H
#define TMC_C_TMC_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TMC_C_API
#else
#define TMC_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// The result of the functions that can fail. On failure, the context that
/// the call used holds a message (tmc_context_error).
typedef enum tmc_result {
  TMC_SUCCESS = 0,
  TMC_FAILURE = 1,
} tmc_result;

/// The version of this API, as "MAJOR.MINOR".
TMC_C_API const char *tmc_c_api_version(void);

/// Frees a string returned by this API. NULL is a no-op.
TMC_C_API void tmc_free(void *pointer);

/*===----------------------------------------------------------------------===*\
|* Contexts                                                                   *|
\*===----------------------------------------------------------------------===*/

/// An MLIR context with every upstream dialect and TMC's tfm dialect
/// registered, and the error message of the last failed call made with it.
/// A context and its modules are used by one thread at a time.
typedef struct tmc_context tmc_context;

/// Creates a context. Returns NULL only when out of memory.
TMC_C_API tmc_context *tmc_context_create(void);

/// Destroys a context. Its modules and options must be destroyed first.
/// NULL is a no-op.
TMC_C_API void tmc_context_destroy(tmc_context *context);

/// The message of the last call on `context` (or on a module or options
/// object of it) that failed, one diagnostic per line, each naming the file
/// and location where there is one; "" when that call succeeded. Valid until
/// the next call on the context.
TMC_C_API const char *tmc_context_error(const tmc_context *context);

/*===----------------------------------------------------------------------===*\
|* Modules                                                                    *|
\*===----------------------------------------------------------------------===*/

/// A tfm model (an MLIR module) owned by a context.
typedef struct tmc_module tmc_module;

/// Loads a model from a file of MLIR text or bytecode (.mlir, .mlirbc) and
/// verifies it. Returns NULL on failure.
TMC_C_API tmc_module *tmc_module_load(tmc_context *context, const char *path);

/// Parses a model from `length` bytes of MLIR text or bytecode. Returns NULL
/// on failure.
TMC_C_API tmc_module *tmc_module_parse(tmc_context *context, const char *data,
                                       size_t length);

/// Imports a Hugging Face-style checkpoint directory (config.json and
/// model.safetensors) as tmc-import does. With `inline_weights` non-zero,
/// every parameter is embedded in the module; otherwise the module names the
/// safetensors file. Returns NULL on failure.
TMC_C_API tmc_module *tmc_module_import_checkpoint(tmc_context *context,
                                                   const char *directory,
                                                   int inline_weights);

/// Destroys a module. NULL is a no-op.
TMC_C_API void tmc_module_destroy(tmc_module *module);

/// The module as MLIR text (generic form when `generic` is non-zero). The
/// caller frees the string with tmc_free. Returns NULL on failure.
TMC_C_API char *tmc_module_to_string(tmc_module *module, int generic);

/// Writes the module to `path`: bytecode when the name ends in ".mlirbc",
/// text otherwise.
TMC_C_API tmc_result tmc_module_write(tmc_module *module, const char *path);

/// Runs a textual pass pipeline on the module, in the syntax of
/// `mlir-opt --pass-pipeline`, e.g.
/// "builtin.module(tfm-set-seq-len{seq-len=16},func.func(tfm-inline-layers))".
/// Every upstream and TMC pass and pipeline is available.
TMC_C_API tmc_result tmc_module_run_pipeline(tmc_module *module,
                                             const char *pipeline);

/// Runs TMC's CPU pipeline (mlir::tmc::buildTmcCpuPipeline) on the module,
/// lowering it to the LLVM dialect with the compiled-model ABI. `options` are
/// the pipeline's options in the syntax of `tmc-opt --tmc-cpu-pipeline=...`,
/// e.g. "seq-len=16 use-kernels=false"; NULL or "" takes the defaults.
TMC_C_API tmc_result tmc_module_run_cpu_pipeline(tmc_module *module,
                                                 const char *options);

/// Runs TMC's CUDA pipeline (mlir::tmc::buildTmcCudaPipeline, docs/GPU.md)
/// on the module: host code in the LLVM dialect with the compiled-model ABI
/// over device buffers, and the kernels in a gpu.binary. `options` are those
/// of `tmc-opt --tmc-cuda-pipeline=...`, e.g. "seq-len=16 gpu-arch=sm_80";
/// NULL or "" takes the defaults.
TMC_C_API tmc_result tmc_module_run_cuda_pipeline(tmc_module *module,
                                                  const char *options);

/*===----------------------------------------------------------------------===*\
|* Compiling to a model directory                                             *|
\*===----------------------------------------------------------------------===*/

/// The options of tmc_compile, set by name.
typedef struct tmc_compile_options tmc_compile_options;

/// Creates options with tmc-compile's defaults. Errors of
/// tmc_compile_options_set are reported on `context`.
TMC_C_API tmc_compile_options *tmc_compile_options_create(tmc_context *context);

/// Destroys options. NULL is a no-op.
TMC_C_API void tmc_compile_options_destroy(tmc_compile_options *options);

/// Sets option `name` to `value`. The names and values are those of
/// tmc-compile's flags without the leading dashes: "seq-len" ("16"),
/// "target", "cpu", "no-kernels" and "no-plan-buffers" ("true"/"false"),
/// "attention" ("window:256", ...), "attention-block-q", "attention-block-k",
/// "quantize" ("int8", ...), "quantize-calibration", "no-quantize-error",
/// "prune", "low-rank" ("params:0.5", ...), "low-rank-activation-aware",
/// "low-rank-calibration", "low-rank-force", "linformer", "remat",
/// "memory-budget", "train", "decode" ("" or a number of tokens),
/// "kv-cache", "kv-sinks", "gpu-arch", "cuda-toolkit"; and
/// "weights-base-dir" (where a relative tfm.weights_file resolves; default:
/// the directory of the loaded file), "runtime-dir" (the directory of
/// libtmcrt.so; default: the directory of libTMC-C.so) and "progress"
/// ("true" prints a line per stage on stderr). Fails on an unknown name or a
/// malformed value.
TMC_C_API tmc_result tmc_compile_options_set(tmc_compile_options *options,
                                             const char *name,
                                             const char *value);

/// Compiles the module into `output_dir` (created if needed), as tmc-compile
/// does: model.so, model.o, model.h, weights.bin, libtmcrt.so and
/// report.json. The module is lowered in place: afterwards it holds the
/// LLVM dialect. `options` may be NULL for the defaults.
TMC_C_API tmc_result tmc_compile(tmc_module *module, const char *output_dir,
                                 const tmc_compile_options *options);

/// Reads the memory report (report.json) of the compiled model in
/// `output_dir`. The caller frees the string with tmc_free. Returns NULL on
/// failure.
TMC_C_API char *tmc_read_report(tmc_context *context, const char *output_dir);

#ifdef __cplusplus
}
#endif

#endif /* TMC_C_TMC_H */
