#!/usr/bin/env bash
# Runs the CUDA pipeline's GPU mapping on the CPU and compares with the CPU
# build (test/Pipelines/tmc-cuda-emulated.test): the IR right after
# tmc-gpu-check-host-code (host loops, gpu.launch ops, device buffers as
# arena views) gets tmc-gpu-launch-to-loops (with its race checks) and the
# CPU tail, is linked into a model.so, run by tmc-run, and compared with the
# CPU build's output.
#
# usage: [RTOL=R] [GENERATE=N PROMPT=P] emulate-cuda.sh LLVM_TOOLS_DIR
#          TMC_OPT TMC_COMPILE TMC_RUN PYTHON WORKDIR MODEL.mlir SEQ OUTPUT
#          "CUDA-PIPELINE-OPTIONS" [TMC-COMPILE FLAGS...]
# (relative tolerance RTOL, default 1e-5). With GENERATE, both builds are
# decoding builds (the options and flags ask for --decode; SEQ is the
# prefill chunk): tmc-generate runs the CPU build on a prompt of P tokens
# for N new tokens, then the emulated build on the same tokens, and the
# logits of every step are compared.
set -euo pipefail
llvm=$1 tmc_opt=$2 tmc_compile=$3 tmc_run=$4 python=$5 work=$6 model=$7 seq=$8
output=$9 opts=${10}
shift 10
rm -rf "$work" && mkdir -p "$work/emulated"
"$tmc_opt" "$model" \
  --tmc-cuda-pipeline="seq-len=$seq weights-output=$work/emulated/weights.bin $opts" \
  --mlir-print-ir-after=tmc-gpu-check-host-code --mlir-print-ir-module-scope \
  --mlir-disable-threading -o /dev/null 2> "$work/dumps.mlir"
# A function pass prints the module after each function: keep the last.
awk '/^\/\/ -----\/\/ IR Dump After/ { n++ } { dump[n] = dump[n] $0 "\n" } END { printf "%s", dump[n] }' "$work/dumps.mlir" > "$work/mapped.mlir"
"$tmc_opt" "$work/mapped.mlir" -o "$work/emulated.mlir" --pass-pipeline="builtin.module(func.func(tmc-gpu-launch-to-loops{check-races=1}),convert-scf-to-cf,expand-strided-metadata,lower-affine,arith-expand{include-bf16=true},convert-math-to-llvm,convert-math-to-libm,convert-to-llvm,reconcile-unrealized-casts,tmc-export-abi,canonicalize)"
"$llvm/mlir-translate" --allow-unregistered-dialect --mlir-to-llvmir "$work/emulated.mlir" -o "$work/emulated.ll"
# compiler-rt's builtins: x86 stores bf16 values (staged tensor-core
# tiles) through __truncsfbf2, which libgcc 12 lacks.
"$llvm/clang" -shared -fPIC -O1 -Wno-override-module "$work/emulated.ll" -o "$work/emulated/model.so" -lm \
  "$("$llvm/clang" -print-libgcc-file-name -rtlib=compiler-rt)"
"$tmc_compile" "$model" -o "$work/cpu" --seq-len="$seq" --quiet "$@"
if [ -n "${GENERATE:-}" ]; then
  tmc_generate=$(dirname "$(command -v "$tmc_run")")/tmc-generate
  "$python" -c "import numpy as np, sys; np.save(sys.argv[1], (np.arange(int(sys.argv[2]), dtype=np.int64) * 7 % 100).reshape(1, -1))" "$work/prompt.npy" "$PROMPT"
  "$tmc_generate" "$work/cpu" --input-ids "$work/prompt.npy" --max-new-tokens "$GENERATE" --output "$work/ids.npy" --logits-output "$work/reference.npy" --quiet > /dev/null
  # The emulated build follows the CPU build's tokens: every step sees the
  # same ids, whatever near-ties the greedy choice meets.
  stdbuf -oL "$tmc_generate" "$work/emulated" --input-ids "$work/prompt.npy" --max-new-tokens "$GENERATE" --follow "$work/ids.npy" --reference "$work/reference.npy" --rtol "${RTOL:-1e-5}" --quiet | grep -E '^reference|^tmc-gpu-launch-to-loops'
  exit 0
fi
"$python" -c "import numpy as np, sys; np.save(sys.argv[1], (np.arange(int(sys.argv[2]), dtype=np.int64) * 7 % 100).reshape(1, -1))" "$work/ids.npy" "$seq"
"$tmc_run" "$work/cpu" --input input_ids="$work/ids.npy" --output "$output=$work/reference.npy" > /dev/null
# Line-buffered, so that a race the emulation detects (cf.assert: puts,
# then abort) is printed before the abort.
stdbuf -oL "$tmc_run" "$work/emulated" --input input_ids="$work/ids.npy" --reference "$output=$work/reference.npy" --rtol "${RTOL:-1e-5}" | grep -E '^reference|^tmc-gpu-launch-to-loops'
