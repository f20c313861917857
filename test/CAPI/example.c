/* Compiles a tfm model with TMC's C API, then runs it with the runtime's.
 *
 *   capi-example MODEL.mlir OUTDIR
 */
#include "tmc-c/TMC.h"
#include "tmc-rt/Runtime.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.mlir OUTDIR\n", argv[0]);
    return 2;
  }

  /* Compile: load the model, set tmc-compile's options by name, compile. */
  tmc_context *ctx = tmc_context_create();
  tmc_module *module = tmc_module_load(ctx, argv[1]);
  tmc_compile_options *options = tmc_compile_options_create(ctx);
  if (!module || tmc_compile_options_set(options, "seq-len", "8") ||
      tmc_compile(module, argv[2], options)) {
    fprintf(stderr, "error: %s", tmc_context_error(ctx));
    return 1;
  }
  char *report = tmc_read_report(ctx, argv[2]); /* report.json */
  printf("report: %.40s...\n", report);
  tmc_free(report);
  tmc_compile_options_destroy(options);
  tmc_module_destroy(module);
  tmc_context_destroy(ctx);

  /* Run: load the compiled model and call it on token ids. */
  char err[512];
  tmc_model *model = tmc_model_load(argv[2], err, sizeof err);
  if (!model) {
    fprintf(stderr, "error: %s\n", err);
    return 1;
  }
  tmc_tensor_info in, out;
  tmc_model_input_info(model, 0, &in);
  tmc_model_output_info(model, 0, &out);
  int64_t *ids = calloc(in.num_elements, sizeof(int64_t));
  float *logits = malloc(out.num_bytes);
  const void *inputs[] = {ids};
  void *outputs[] = {logits};
  if (tmc_model_run(model, inputs, outputs, err, sizeof err) != TMC_OK) {
    fprintf(stderr, "error: %s\n", err);
    return 1;
  }
  printf("%s: [%lld, %lld, %lld], logits[0] = %f\n", out.name,
         (long long)out.dims[0], (long long)out.dims[1], (long long)out.dims[2],
         logits[0]);
  free(ids);
  free(logits);
  tmc_model_free(model);
  return 0;
}
