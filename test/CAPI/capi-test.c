/*===- capi-test.c - TMC's C APIs from a C program ----------------*- C -*-===*\
|*                                                                            *|
|* Compiles a tfm model with the compiler's C API (tmc-c/TMC.h), reads its    *|
|* report, then loads and runs the compiled model with the runtime's C API    *|
|* (tmc-rt/Runtime.h) and checks the output's shape and values. Also checks   *|
|* that bad input fails with a message, and, given a checkpoint directory,    *|
|* imports it and round-trips it through bytecode.                            *|
|*                                                                            *|
|*   tmc-capi-test MODEL.mlir WORK_DIR [CHECKPOINT_DIR]                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "tmc-c/TMC.h"
#include "tmc-rt/Runtime.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/* Evaluates `cond` once; on failure prints the message and counts it. */
#define CHECK(cond, ...) check((cond) != 0, __LINE__, #cond, __VA_ARGS__)

/* Stops the test: what follows depends on the failed step. */
#define REQUIRE(cond, ...)                                                     \
  do {                                                                         \
    if (!CHECK(cond, __VA_ARGS__))                                             \
      return 1;                                                                \
  } while (0)

static int check(int ok, int line, const char *what, const char *format, ...) {
  if (ok)
    return 1;
  fprintf(stderr, "FAIL capi-test.c:%d: %s: ", line, what);
  va_list args;
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fprintf(stderr, "\n");
  ++failures;
  return 0;
}

static int contains(const char *text, const char *part) {
  return text && strstr(text, part) != NULL;
}

/* Bad input fails with a message that names the problem. */
static void checkErrors(tmc_context *ctx, const char *workDir) {
  char missing[4096];
  snprintf(missing, sizeof missing, "%s/no-such-model.mlir", workDir);
  CHECK(tmc_module_load(ctx, missing) == NULL, "loading a missing file");
  CHECK(contains(tmc_context_error(ctx), "no-such-model.mlir"),
        "error names the file: '%s'", tmc_context_error(ctx));

  const char *broken = "func.func @f(%x: tensor<2xf32>) {\n  return %y\n}\n";
  CHECK(tmc_module_parse(ctx, broken, strlen(broken)) == NULL,
        "parsing malformed IR");
  CHECK(contains(tmc_context_error(ctx), "error:"),
        "parse error reported: '%s'", tmc_context_error(ctx));
  CHECK(contains(tmc_context_error(ctx), ":2:"), "parse error has a line: '%s'",
        tmc_context_error(ctx));

  tmc_compile_options *options = tmc_compile_options_create(ctx);
  CHECK(tmc_compile_options_set(options, "seq-len", "-3") == TMC_FAILURE,
        "a negative sequence length");
  CHECK(contains(tmc_context_error(ctx), "seq-len"), "'%s'",
        tmc_context_error(ctx));
  CHECK(tmc_compile_options_set(options, "no-such-option", "1") == TMC_FAILURE,
        "an unknown option");
  CHECK(contains(tmc_context_error(ctx), "no-such-option"), "'%s'",
        tmc_context_error(ctx));
  CHECK(tmc_compile_options_set(options, "seq-len", "16") == TMC_SUCCESS,
        "a good option: %s", tmc_context_error(ctx));
  CHECK(*tmc_context_error(ctx) == '\0', "a success clears the error");
  tmc_compile_options_destroy(options);
}

/* Textual pipelines and the CPU pipeline, in memory. */
static void checkPipelines(tmc_context *ctx, const char *modelPath) {
  tmc_module *module = tmc_module_load(ctx, modelPath);
  CHECK(module != NULL, "load: %s", tmc_context_error(ctx));
  if (!module)
    return;
  CHECK(tmc_module_run_pipeline(
            module, "builtin.module(tfm-set-seq-len{seq-len=16})") ==
            TMC_SUCCESS,
        "tfm-set-seq-len: %s", tmc_context_error(ctx));
  char *text = tmc_module_to_string(module, 0);
  CHECK(contains(text, "-> (tensor<1x16x128xf32>"),
        "tfm-set-seq-len made the output static");
  tmc_free(text);

  CHECK(tmc_module_run_pipeline(module, "builtin.module(no-such-pass)") ==
            TMC_FAILURE,
        "an unknown pass");
  CHECK(contains(tmc_context_error(ctx), "no-such-pass"), "'%s'",
        tmc_context_error(ctx));
  CHECK(tmc_module_run_cpu_pipeline(module, "bad-option=1") == TMC_FAILURE,
        "a bad pipeline option");

  CHECK(tmc_module_run_cpu_pipeline(module, "seq-len=16") == TMC_SUCCESS,
        "CPU pipeline: %s", tmc_context_error(ctx));
  text = tmc_module_to_string(module, 0);
  CHECK(contains(text, "llvm.func @tmc_model_forward"),
        "the CPU pipeline exports the ABI");
  tmc_free(text);
  tmc_module_destroy(module);

  /* The CUDA pipeline, the same way (PTX text: no ptxas needed). */
  module = tmc_module_load(ctx, modelPath);
  CHECK(module != NULL, "load: %s", tmc_context_error(ctx));
  if (!module)
    return;
  CHECK(tmc_module_run_cuda_pipeline(module, "bad-option=1") == TMC_FAILURE,
        "a bad CUDA pipeline option");
  CHECK(tmc_module_run_cuda_pipeline(module, "seq-len=16 gpu-arch=sm_80") ==
            TMC_SUCCESS,
        "CUDA pipeline: %s", tmc_context_error(ctx));
  text = tmc_module_to_string(module, 0);
  CHECK(contains(text, "gpu.binary @tmc_kernels"),
        "the CUDA pipeline serializes the kernels");
  CHECK(contains(text, "llvm.func @tmc_model_target"),
        "the CUDA pipeline exports the ABI and the target");
  tmc_free(text);
  tmc_module_destroy(module);
}

/* A checkpoint imported, written as bytecode and loaded back. */
static void checkImport(tmc_context *ctx, const char *checkpoint,
                        const char *workDir) {
  tmc_module *module = tmc_module_import_checkpoint(ctx, checkpoint, 1);
  CHECK(module != NULL, "import: %s", tmc_context_error(ctx));
  if (!module)
    return;
  char path[4096];
  snprintf(path, sizeof path, "%s/imported.mlirbc", workDir);
  CHECK(tmc_module_write(module, path) == TMC_SUCCESS, "write: %s",
        tmc_context_error(ctx));
  tmc_module_destroy(module);
  module = tmc_module_load(ctx, path);
  CHECK(module != NULL, "reload: %s", tmc_context_error(ctx));
  char *text = module ? tmc_module_to_string(module, 0) : NULL;
  CHECK(contains(text, "tfm.embedding"), "the reloaded model");
  tmc_free(text);
  tmc_module_destroy(module);

  CHECK(tmc_module_import_checkpoint(ctx, workDir, 0) == NULL,
        "importing a directory without config.json");
  CHECK(contains(tmc_context_error(ctx), "config.json"), "'%s'",
        tmc_context_error(ctx));
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.mlir WORK_DIR [CHECKPOINT_DIR]\n",
            argv[0]);
    return 2;
  }
  const char *modelPath = argv[1];
  const char *workDir = argv[2];
  char outDir[4096];
  snprintf(outDir, sizeof outDir, "%s/gpt2-out", workDir);

  tmc_context *ctx = tmc_context_create();
  REQUIRE(ctx != NULL, "context");
  checkErrors(ctx, workDir);
  checkPipelines(ctx, modelPath);
  if (argc > 3)
    checkImport(ctx, argv[3], workDir);

  /* Compile. */
  tmc_module *module = tmc_module_load(ctx, modelPath);
  REQUIRE(module != NULL, "load: %s", tmc_context_error(ctx));
  tmc_compile_options *options = tmc_compile_options_create(ctx);
  REQUIRE(options != NULL, "options");
  REQUIRE(tmc_compile_options_set(options, "seq-len", "16") == TMC_SUCCESS,
          "%s", tmc_context_error(ctx));
  REQUIRE(tmc_compile_options_set(options, "quantize", "bogus") == TMC_SUCCESS,
          "%s", tmc_context_error(ctx));
  CHECK(tmc_compile(module, outDir, options) == TMC_FAILURE,
        "an unknown quantization scheme is refused");
  CHECK(contains(tmc_context_error(ctx), "bogus"), "'%s'",
        tmc_context_error(ctx));
  REQUIRE(tmc_compile_options_set(options, "quantize", "none") == TMC_SUCCESS,
          "%s", tmc_context_error(ctx));
  /* A failed compile may have lowered the module part of the way. */
  tmc_module_destroy(module);
  module = tmc_module_load(ctx, modelPath);
  REQUIRE(module != NULL, "reload: %s", tmc_context_error(ctx));
  REQUIRE(tmc_compile(module, outDir, options) == TMC_SUCCESS, "compile: %s",
          tmc_context_error(ctx));
  tmc_compile_options_destroy(options);
  tmc_module_destroy(module);

  char *report = tmc_read_report(ctx, outDir);
  REQUIRE(report != NULL, "report: %s", tmc_context_error(ctx));
  CHECK(contains(report, "\"arena_bytes\""), "the report has arena_bytes");
  CHECK(contains(report, "\"buffers\""), "the report has buffers");
  tmc_free(report);
  tmc_context_destroy(ctx);

  /* Run with the runtime. */
  char err[1024] = "";
  tmc_model *model = tmc_model_load(outDir, err, sizeof err);
  REQUIRE(model != NULL, "tmc_model_load: %s", err);
  int64_t in = tmc_model_find_input(model, "input_ids");
  int64_t out = tmc_model_find_output(model, "logits");
  REQUIRE(in == 0 && out == 0, "input %lld, output %lld", (long long)in,
          (long long)out);
  tmc_tensor_info inInfo, outInfo;
  REQUIRE(tmc_model_input_info(model, 0, &inInfo) == TMC_OK, "input info");
  REQUIRE(tmc_model_output_info(model, 0, &outInfo) == TMC_OK, "output info");
  CHECK(inInfo.dtype == TMC_DTYPE_I64 && inInfo.rank == 2 &&
            inInfo.dims[0] == 1 && inInfo.dims[1] == 16,
        "input_ids is i64 [1, 16]");
  REQUIRE(outInfo.dtype == TMC_DTYPE_F32 && outInfo.rank == 3 &&
              outInfo.dims[0] == 1 && outInfo.dims[1] == 16 &&
              outInfo.dims[2] == 128,
          "logits is f32 [1, 16, 128]");

  int64_t ids[16];
  for (int i = 0; i < 16; ++i)
    ids[i] = (i * 37 + 5) % 128;
  float *logits = malloc(outInfo.num_bytes);
  REQUIRE(logits != NULL, "malloc");
  const void *inputs[1] = {ids};
  void *outputs[1] = {logits};
  REQUIRE(tmc_model_run(model, inputs, outputs, err, sizeof err) == TMC_OK,
          "tmc_model_run: %s", err);
  int finite = 1;
  double sumAbs = 0;
  for (int64_t i = 0; i < outInfo.num_elements; ++i) {
    finite &= isfinite(logits[i]) != 0;
    sumAbs += fabs(logits[i]);
  }
  CHECK(finite, "every logit is finite");
  CHECK(sumAbs > 0, "the logits are not all zero");
  printf("logits [1, 16, 128]: mean |x| = %.4g\n",
         sumAbs / (double)outInfo.num_elements);
  free(logits);
  tmc_model_free(model);

  if (failures) {
    fprintf(stderr, "capi-test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("capi-test: PASS\n");
  return 0;
}
