#!/usr/bin/env bash
# GPU check of TMC's CUDA target (docs/GPU.md), in two halves:
#
#   tools/gpu-check.sh prepare [BUNDLE]   here, where TMC is built (needs
#       build/bin, the CUDA toolkit and Python 3 with NumPy): compiles every
#       case for CUDA and for the CPU, runs the CPU builds to get reference
#       outputs, and writes BUNDLE (default gpu-check/, git-ignored): tmc-run,
#       libtmcrt.so, the CUDA model directories (cubin + host model.so +
#       libtmcrt_cuda.so), inputs and references, and BUNDLE.tar.gz, the
#       same packed (about 51 MB rather than 65). No MLIR in it.
#   tools/gpu-check.sh run [BUNDLE]       on the machine with the GPU (needs
#       only the NVIDIA driver's libcuda.so.1 and bash): runs every CUDA case
#       with tmc-run, compares each output with the CPU reference
#       (max|gpu - cpu| / max|cpu| <= RTOL, default 1e-3) and prints the time
#       per run; runs every decoding case with tmc-generate on the tokens
#       the CPU build generated, compares the logits of every step, and
#       prints tokens per second. Exits non-zero if a case fails. Takes well
#       under a minute.
#
# Environment: GPU_ARCH (default sm_90), SEQ_LEN (default 64), RTOL (1e-3),
# REPEAT (default 20), CASE_TIMEOUT (seconds a case may run before it is
# stopped and counted as failed, default 120); for prepare, TMC_BUILD_DIR
# (default build/ in the source tree) and GPU_CHECK_CASES (an extended
# regular expression: only the cases whose names match).
set -euo pipefail

mode=${1:-}
bundle=${2:-gpu-check}
arch=${GPU_ARCH:-sm_90}
seq=${SEQ_LEN:-64}
rtol=${RTOL:-1e-3}
repeat=${REPEAT:-20}
case_timeout=${CASE_TIMEOUT:-120}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TMC_BUILD_DIR:-$root/build}
# Only the cases whose names match this extended regular expression (all
# if empty); a variant also needs its base case.
only=${GPU_CHECK_CASES:-}
selected() { [[ -z $only || $1 =~ $only ]]; }

# name | model | extra tmc-compile flags (the same for both targets, except
# --gpu-attention) | seq-len | tolerance (default RTOL). fp16 weights run on
# tensor cores with activations rounded to f16 (unit roundoff 4.9e-4 per
# operand), against a CPU reference that keeps them f32: 1e-2; bf16 weights
# likewise with activations rounded to bf16 (unit roundoff 3.9e-3): 1.6e-2;
# f32 weights with --gpu-tensor-cores=tf32 round both operands to TF32
# (unit roundoff 4.9e-4): 2e-3.
# (models: examples/NAME.mlir; gpt2-d256: a 4-layer GPT-2 of width 256,
# vocabulary 2048, random weights; matmul: an embedding of width 4096 then
# one linear layer to 256 features, i.e. a 2048x4096 by 4096x256 f32 matmul,
# timed beside cuBLAS where PyTorch can call it; attention: an embedding of
# width 512 then one causal self-attention of 8 heads of 64, timed beside
# PyTorch's scaled_dot_product_attention (in the case's type: the fp16
# and bf16 builds run attention on tensor cores); all made by prepare. The
# -tiles cases are the same builds with the attention's tile loops on the
# host.)
cases() {
  cat <<CASES
matmul-2048x4096x256|matmul||2048
matmul-f16-2048x4096x256|matmul|--quantize=fp16|2048|1e-2
matmul-bf16-2048x4096x256|matmul|--quantize=bf16|2048|1.6e-2
matmul-tf32-2048x4096x256|matmul|--gpu-tensor-cores=tf32|2048|2e-3
attention-s2048|attention||2048
attention-s2048-tiles|attention|--gpu-attention=tiles|2048
attention-f16-s2048|attention|--quantize=fp16|2048|1e-2
attention-tf32-s2048|attention|--gpu-tensor-cores=tf32|2048|2e-3
attention-bf16-s1024|attention|--quantize=bf16|1024|1.6e-2
gpt2-d256-s512|gpt2-d256||512
gpt2|gpt2|
bert|bert|
llama|llama|
gpt2-window|gpt2|--attention=window:3 --attention-block-q=16 --attention-block-k=16
gpt2-dilated|gpt2|--attention=dilated:3,2 --attention-block-q=16 --attention-block-k=16
gpt2-strided|gpt2|--attention=strided:2 --attention-block-q=16 --attention-block-k=16
gpt2-bigbird|gpt2|--attention=bigbird:3,1,1 --attention-block-q=16 --attention-block-k=16
bert-tiles|bert|--attention-block-q=16 --attention-block-k=16
gpt2-int8|gpt2|--quantize=int8
llama-int4|llama|--quantize=int4:g32
gpt2-fp16|gpt2|--quantize=fp16||1e-2
llama-bf16|llama|--quantize=bf16||1.6e-2
CASES
}

# Decoding builds (--decode): name | model | tmc-compile flags (both
# targets but --gpu-decode-split) | prefill chunk | prompt tokens | new
# tokens. The CPU build generates greedily; the CUDA build follows its
# tokens (tmc-generate --follow) and the logits of every step are compared
# (--reference). The two gpt2-d256 cases differ only in how the CUDA build
# splits the cached positions over blocks: pieces of 64 (up to 5 at these
# 300 positions) or none (a block per key/value head).
decode_cases() {
  cat <<CASES
decode-gpt2-d256|gpt2-d256|--decode=512 --gpu-decode-split=64|64|200|100
decode-gpt2-d256-nosplit|gpt2-d256|--decode=512 --gpu-decode-split=0|64|200|100
decode-llama-int8|llama|--decode=64 --kv-cache=int8|8|13|40
decode-gpt2-window|gpt2|--decode --attention=window:4 --kv-sinks=2|8|13|40
CASES
}

# Kernel-shape variants: name | base case | tmc-compile flags added to the
# base case's. Each is compiled for CUDA only, with the base case's model,
# sequence length, inputs and reference, and runs as a case of its own, so
# that the default shapes can be compared with others on the same GPU in
# the same run (--gpu-kernel-options takes tmc-cuda-pipeline options).
variant_cases() {
  cat <<CASES
matmul-2048x4096x256-regs4|matmul-2048x4096x256|--gpu-kernel-options=matmul-min-blocks=0
gpt2-d256-s512-regs4|gpt2-d256-s512|--gpu-kernel-options=matmul-min-blocks=0
attention-s2048-q32|attention-s2048|--attention-block-q=32
attention-s2048-split2|attention-s2048|--gpu-kernel-options=attention-key-split=2
attention-s2048-split4|attention-s2048|--gpu-kernel-options=attention-key-split=4
gpt2-d256-s512-split4|gpt2-d256-s512|--gpu-kernel-options=attention-key-split=4
decode-gpt2-d256-tiled|decode-gpt2-d256|--gpu-kernel-options=matmul-row-kernel-rows=0
decode-gpt2-d256-cols8|decode-gpt2-d256|--gpu-kernel-options=matmul-min-blocks=0
CASES
}

# The checkpoint of gpt2-d256 (make_checkpoint.py's arguments): made here,
# and again on the GPU machine for the PyTorch peer of its decoding case.
gpt2_d256="--type gpt2 --layers 4 --hidden 256 --heads 4 --vocab 2048 --max-pos 512 --seed 7"

# A file identical to an earlier case's travels once: dedupe CASE_DIR FILE
# RECORD removes CASE_DIR/FILE when another case has the same FILE and
# writes that case's name to CASE_DIR/RECORD (reference_of: run reads the
# other case's reference; weights_of: run copies its weights into place).
dedupe() {
  local dir=$1 file=$2 record=$3 other
  for other in "$bundle"/cases/*/"$file"; do
    if [[ $other != "$dir/$file" ]] && cmp -s "$other" "$dir/$file"; then
      rm "$dir/$file"
      echo "${other#"$bundle"/cases/}" | cut -d/ -f1 > "$dir/$record"
      return
    fi
  done
}

# Compiles case $1 (model file $2, --seq-len $3, flags $4) for CUDA into
# $bundle/cases/$1/cuda, keeping what travels.
compile_cuda_case() {
  local name=$1 model_file=$2 s=$3 flags=$4
  local dir="$bundle/cases/$name"
  mkdir -p "$dir"
  echo "[prepare] $name: tmc-compile --target=cuda --gpu-arch=$arch --seq-len=$s $flags"
  # shellcheck disable=SC2086
  "$build/bin/tmc-compile" "$model_file" -o "$dir/cuda" --target=cuda \
    --gpu-arch="$arch" --seq-len="$s" $flags --quiet 2>/dev/null
  # model.so embeds the kernels (a fat binary): no separate copy travels.
  rm -f "$dir/cuda/model.o" "$dir/cuda/tmc_kernels."*
  dedupe "$dir" cuda/weights.bin weights_of
}

prepare() {
  local bin="$build/bin"
  for tool in tmc-compile tmc-run tmc-generate; do
    [[ -x "$bin/$tool" ]] || { echo "gpu-check: $bin/$tool is missing (build first: tools/quickstart.sh build)" >&2; exit 1; }
  done
  [[ -f "$build/lib/libtmcrt_cuda.so" ]] || { echo "gpu-check: $build/lib/libtmcrt_cuda.so is missing (no CUDA toolkit at configure time?)" >&2; exit 1; }
  python3 -c 'import numpy' 2>/dev/null || { echo "gpu-check: prepare needs python3 with numpy" >&2; exit 1; }
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/cases"
  cp "$bin/tmc-run" "$bin/tmc-generate" "$bundle/bin/"
  cp "$build/lib/libtmcrt.so" "$bundle/lib/"
  cp "$0" "$bundle/gpu-check.sh"
  # The PyTorch peer of the decoding cases, in the repository's layout.
  mkdir -p "$bundle/peer/bench" "$bundle/peer/test/e2e" "$bundle/peer/test/Import/Inputs"
  cp "$root/bench/torch_decode.py" "$root/bench/torch_gpt2.py" "$bundle/peer/bench/"
  cp "$root/test/e2e/reference.py" "$bundle/peer/test/e2e/"
  cp "$root/test/Import/Inputs/make_checkpoint.py" "$bundle/peer/test/Import/Inputs/"
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "[prepare] gpt2-d256: make_checkpoint.py + tmc-import"
  # shellcheck disable=SC2086
  python3 "$root/test/Import/Inputs/make_checkpoint.py" $gpt2_d256 "$tmp/gpt2-d256" >/dev/null
  "$bin/tmc-import" "$tmp/gpt2-d256" -o "$tmp/gpt2-d256.mlir"
  echo "[prepare] matmul: a one-linear model (tmc.ModelBuilder)"
  PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" python3 - "$tmp/matmul.mlir" <<'PY'
import sys, numpy as np, tmc
rng = np.random.default_rng(3)
m = tmc.ModelBuilder("matmul")
x = m.embedding(m.input_ids(), rng.normal(0, 1, (128, 4096)).astype(np.float32), name="table")
m.output("y", m.linear(x, rng.normal(0, 0.02, (256, 4096)).astype(np.float32), name="proj"))
open(sys.argv[1], "w").write(m.to_mlir())
PY
  echo "[prepare] attention: one causal self-attention (tmc.ModelBuilder)"
  PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" python3 - "$tmp/attention.mlir" <<'PY'
import sys, numpy as np, tmc
rng = np.random.default_rng(5)
m = tmc.ModelBuilder("attention")
x = m.embedding(m.input_ids(), rng.normal(0, 1, (128, 512)).astype(np.float32), name="table")
m.output("y", m.attention(x, x, x, num_heads=8, causal=True))
open(sys.argv[1], "w").write(m.to_mlir())
PY
  while IFS='|' read -r name model flags case_seq case_rtol; do
    [[ -n "$name" ]] && selected "$name" || continue
    local model_file="$root/examples/$model.mlir"
    [[ -f "$model_file" ]] || model_file="$tmp/$model.mlir"
    local s=${case_seq:-$seq}
    local dir="$bundle/cases/$name"
    compile_cuda_case "$name" "$model_file" "$s" "$flags"
    printf '%s\n%s\n%s\n' "$model_file" "$s" "$flags" > "$tmp/$name.build"
    # The CPU reference without the CUDA-only flags.
    local cpu_flags=${flags//--gpu-attention=tiles/}
    cpu_flags=${cpu_flags//--gpu-tensor-cores=tf32/}
    # shellcheck disable=SC2086
    "$bin/tmc-compile" "$model_file" -o "$tmp/$name-cpu" \
      --seq-len="$s" $cpu_flags --quiet 2>/dev/null
    python3 - "$dir/input_ids.npy" "$s" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1234)
np.save(sys.argv[1], rng.integers(0, 100, size=(1, int(sys.argv[2])), dtype=np.int64))
PY
    local output
    output=$(grep -o '^output [a-z_]*' <(strings "$dir/cuda/model.so") | head -1 | cut -d' ' -f2)
    [[ -n "$output" ]] || output=$( [[ $model == bert ]] && echo last_hidden_state || echo logits )
    "$bin/tmc-run" "$tmp/$name-cpu" --input input_ids="$dir/input_ids.npy" \
      --output "$output=$dir/reference.npy" --repeat 3 > "$dir/cpu.txt"
    echo "$output" > "$dir/output_name"
    # The tensor cores' operand type of fp16 and bf16 builds.
    local dtype=f32
    [[ $flags == *fp16* ]] && dtype=f16
    [[ $flags == *bf16* ]] && dtype=bf16
    [[ $flags == *tf32* ]] && dtype=tf32
    [[ $model == matmul ]] && echo "2 2048 4096 256 $dtype" > "$dir/matmul_shape"
    echo "${case_rtol:-$rtol}" > "$dir/rtol"
    [[ $model == attention ]] && echo "$s 8 64 $dtype" > "$dir/attention_shape"
    dedupe "$dir" reference.npy reference_of
    grep 'time per run' "$dir/cpu.txt" | sed "s/^/[prepare] $name: CPU /"
  done < <(cases)
  while IFS='|' read -r name model flags chunk prompt new; do
    [[ -n "$name" ]] && selected "$name" || continue
    local model_file="$root/examples/$model.mlir"
    [[ -f "$model_file" ]] || model_file="$tmp/$model.mlir"
    local dir="$bundle/cases/$name"
    compile_cuda_case "$name" "$model_file" "$chunk" "$flags"
    printf '%s\n%s\n%s\n' "$model_file" "$chunk" "$flags" > "$tmp/$name.build"
    local cpu_flags
    cpu_flags=$(sed -E 's/--gpu-decode-split=[0-9]+//' <<< "$flags")
    # shellcheck disable=SC2086
    "$bin/tmc-compile" "$model_file" -o "$tmp/$name-cpu" --seq-len="$chunk" \
      $cpu_flags --quiet 2>/dev/null
    python3 -c "import numpy as np, sys; np.save(sys.argv[1], (np.arange(int(sys.argv[2]), dtype=np.int64) * 7 % 97).reshape(1, -1))" \
      "$dir/prompt.npy" "$prompt"
    "$bin/tmc-generate" "$tmp/$name-cpu" --input-ids "$dir/prompt.npy" \
      --max-new-tokens "$new" --output "$dir/ids.npy" \
      --logits-output "$dir/reference.npy" > "$dir/cpu.txt"
    echo "$new" > "$dir/generate"
    [[ $name == decode-gpt2-d256 ]] && echo "$gpt2_d256" > "$dir/peer_checkpoint"
    echo "$rtol" > "$dir/rtol"
    dedupe "$dir" reference.npy reference_of
    grep '^decode' "$dir/cpu.txt" | sed "s/^/[prepare] $name: CPU /"
  done < <(decode_cases)
  while IFS='|' read -r name base extra; do
    [[ -n "$name" && -f "$tmp/$base.build" ]] && selected "$name" || continue
    local dir="$bundle/cases/$name" base_dir="$bundle/cases/$base"
    local model_file s flags
    { read -r model_file; read -r s; read -r flags; } < "$tmp/$base.build"
    compile_cuda_case "$name" "$model_file" "$s" "$flags $extra"
    # Everything but the build is the base case's.
    for file in input_ids.npy prompt.npy ids.npy output_name rtol generate \
        matmul_shape attention_shape; do
      [[ -f "$base_dir/$file" ]] && cp "$base_dir/$file" "$dir/"
    done
    if [[ -f "$base_dir/reference_of" ]]; then
      cp "$base_dir/reference_of" "$dir/"
    else
      echo "$base" > "$dir/reference_of"
    fi
    echo "$base $extra" > "$dir/variant_of"
  done < <(variant_cases)
  du -sh "$bundle" | sed 's/^/[prepare] bundle size: /'
  # The weights and references are mostly random floats, but a gzip'd
  # copy is still about a fifth smaller: with the working tree, the
  # directory itself can pass the device tool's 64 MiB.
  tar -C "$(dirname "$bundle")" -czf "$bundle.tar.gz" "$(basename "$bundle")"
  du -sh "$bundle.tar.gz" | sed 's/^/[prepare] packed: /'
  echo "[prepare] wrote $bundle and $bundle.tar.gz; on the GPU machine:"
  echo "[prepare]   bash $bundle/gpu-check.sh run $bundle"
  echo "[prepare] or, from the packed copy:"
  echo "[prepare]   mkdir -p /tmp/gc && tar -xzf $bundle.tar.gz -C /tmp/gc && bash /tmp/gc/$(basename "$bundle")/gpu-check.sh run /tmp/gc/$(basename "$bundle")"
}

run() {
  [[ -d "$bundle/cases" ]] || { echo "gpu-check: no bundle at $bundle (run 'prepare' first, where TMC is built)" >&2; exit 1; }
  export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/[run] GPU: /'
  else
    echo "[run] nvidia-smi not found"
  fi
  local pass=0 fail=0 failed=""
  for dir in "$bundle"/cases/*/; do
    if [[ -f "$dir/weights_of" && ! -f "$dir/cuda/weights.bin" ]]; then
      cp "$bundle/cases/$(cat "$dir/weights_of")/cuda/weights.bin" "$dir/cuda/weights.bin"
    fi
  done
  for dir in "$bundle"/cases/*/; do
    local name; name=$(basename "$dir")
    if [[ -f "$dir/generate" ]]; then
      local log="$dir/gpu.txt"
      local reference="$dir/reference.npy"
      [[ -f "$dir/reference_of" ]] && reference="$bundle/cases/$(cat "$dir/reference_of")/reference.npy"
      if timeout "$case_timeout" "$bundle/bin/tmc-generate" "$dir/cuda" --input-ids "$dir/prompt.npy" \
          --max-new-tokens "$(cat "$dir/generate")" --follow "$dir/ids.npy" \
          --reference "$reference" --rtol "$(cat "$dir/rtol")" > "$log" 2>&1; then
        pass=$((pass + 1)); status=PASS
      else
        fail=$((fail + 1)); status=FAIL; failed="$failed $name"
      fi
      local gpu_rate cpu_rate compare
      gpu_rate=$(grep -o '^decode: .*tokens/s' "$log" | grep -o '[0-9.]* tokens/s' || true)
      grep -q 'device: TMC fake CUDA device' "$log" && gpu_rate="(fake driver)"
      cpu_rate=$(grep -o '^decode: .*tokens/s' "$dir/cpu.txt" 2>/dev/null | grep -o '[0-9.]* tokens/s' || true)
      compare=$(grep '^reference' "$log" || tail -1 "$log")
      printf '[run] %-4s %-20s GPU decode %-18s CPU(prepare machine) %-18s %s\n' \
        "$status" "$name" "${gpu_rate:-?}" "${cpu_rate:-?}" "$compare"
      [[ -f "$dir/variant_of" ]] && echo "[run]      variant of $(cat "$dir/variant_of")"
      if [[ -f "$dir/peer_checkpoint" && -z "$(grep -l 'TMC fake CUDA device' "$log")" ]] &&
          python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        # The same checkpoint (same seed) and prompt in a plain PyTorch
        # cached decoder on the GPU, greedy.
        local peer="$dir/peer"
        rm -rf "$peer"
        # shellcheck disable=SC2046
        python3 "$bundle/peer/test/Import/Inputs/make_checkpoint.py" $(cat "$dir/peer_checkpoint") "$peer" >/dev/null &&
          python3 "$bundle/peer/bench/torch_decode.py" "$peer" --input-ids "$dir/prompt.npy" \
            --max-new-tokens "$(cat "$dir/generate")" --device cuda > "$dir/peer.json" 2>&1 &&
          python3 - "$dir/peer.json" "$dir/ids.npy" <<'PY' || echo "[run]      PyTorch peer: failed ($(tail -1 "$dir/peer.json"))"
import json, sys
import numpy as np
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
same = r["ids"] == np.load(sys.argv[2]).reshape(-1).tolist()
print("[run]      PyTorch %s cached decoder (f32, cuda, same weights and prompt): "
      "decode %.1f tokens/s; greedy ids %s the CPU build's"
      % (r["torch"], r["decode_tokens_per_s"], "equal" if same else "differ from"))
PY
      fi
      continue
    fi
    local output; output=$(cat "$dir/output_name")
    local log="$dir/gpu.txt"
    local reference="$dir/reference.npy"
    [[ -f "$dir/reference_of" ]] && reference="$bundle/cases/$(cat "$dir/reference_of")/reference.npy"
    if timeout "$case_timeout" "$bundle/bin/tmc-run" "$dir/cuda" --input input_ids="$dir/input_ids.npy" \
        --reference "$output=$reference" --rtol "$(cat "$dir/rtol")" \
        --repeat "$repeat" > "$log" 2>&1; then
      pass=$((pass + 1)); status=PASS
    else
      fail=$((fail + 1)); status=FAIL; failed="$failed $name"
    fi
    local gpu_time cpu_time compare
    gpu_time=$(grep -o 'median [0-9.]* ms' "$log" || true)
    # The tests' fake driver runs no kernel: its times mean nothing.
    if grep -q '^device: TMC fake CUDA device' "$log"; then
      fake_device=1
    else
      fake_device=
    fi
    cpu_time=$(grep -o 'median [0-9.]* ms' "$dir/cpu.txt" 2>/dev/null || true)
    compare=$(grep '^reference' "$log" || tail -1 "$log")
    printf '[run] %-4s %-20s GPU %-18s CPU(prepare machine) %-18s %s\n' \
      "$status" "$name" "${gpu_time:-?}" "${cpu_time:-?}" "$compare"
    [[ -f "$dir/variant_of" ]] && echo "[run]      variant of $(cat "$dir/variant_of")"
    # The kernel time of the linear layer or attention alone, from a
    # profiled run (CUDA events around each launch).
    local kernel_ms="" op=""
    [[ -f "$dir/matmul_shape" ]] && op=tfm.linear
    [[ -f "$dir/attention_shape" ]] && op=tfm.attention
    if [[ -n "$op" && -n "${gpu_time:-}" && -z "$fake_device" ]]; then
      kernel_ms=$(timeout "$case_timeout" "$bundle/bin/tmc-run" "$dir/cuda" \
          --input input_ids="$dir/input_ids.npy" --profile 2>&1 |
        sed -n '/^profile/,$p' | awk -v op="$op" '$1 == op { print $4; exit }')
    elif [[ $name == gpt2-d256-s512* && -n "${gpu_time:-}" ]]; then
      # The kernel time per op of the larger model and its variants.
      timeout "$case_timeout" "$bundle/bin/tmc-run" "$dir/cuda" \
          --input input_ids="$dir/input_ids.npy" --profile 2>&1 |
        sed -n '/^profile/,$p' | awk '
          /^profile/ { printf "[run]      kernel time: %s ms", $(NF-4) }
          $1 ~ /^tfm\./ { printf ", %s %s ms", $1, $4 }
          END { print "" }'
    fi
    if [[ -f "$dir/matmul_shape" && -n "${gpu_time:-}" && -z "$fake_device" ]]; then
      read -r _ mm kk nn dtype < "$dir/matmul_shape"
      dtype=${dtype:-f32}
      local ms; ms=$(echo "$gpu_time" | awk '{print $2}')
      awk -v m="$mm" -v k="$kk" -v n="$nn" -v ms="$ms" -v dtype="$dtype" 'BEGIN {
        printf "[run]      TMC %dx%dx%d " dtype " matmul model: %.3f ms per run (copies and the embedding included) = %.2f TFLOP/s\n", m, k, n, ms, 2*m*k*n/(ms*1e-3)/1e12 }'
      [[ -n "$kernel_ms" ]] && awk -v m="$mm" -v k="$kk" -v n="$nn" -v ms="$kernel_ms" 'BEGIN {
        printf "[run]      TMC matmul kernel alone (--profile): %.3f ms = %.2f TFLOP/s\n", ms, 2*m*k*n/(ms*1e-3)/1e12 }'
      if [[ ! -f "$dir/variant_of" ]] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        python3 - "$mm" "$kk" "$nn" "$dtype" <<'PY' || echo "[run]      cuBLAS: PyTorch failed"
import sys, torch
m, k, n = map(int, sys.argv[1:4])
dtype = {"f16": torch.float16, "bf16": torch.bfloat16}.get(sys.argv[4], torch.float32)
tf32 = sys.argv[4] == "tf32"
torch.backends.cuda.matmul.allow_tf32 = tf32
a = torch.randn(m, k, device="cuda", dtype=dtype)
b = torch.randn(k, n, device="cuda", dtype=dtype)
for _ in range(3): a @ b
torch.cuda.synchronize()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
start.record()
for _ in range(20): a @ b
end.record(); torch.cuda.synchronize()
ms = start.elapsed_time(end) / 20
print("[run]      cuBLAS (PyTorch %s, %s, TF32 %s) %dx%dx%d: %.3f ms = %.2f TFLOP/s"
      % (torch.__version__, sys.argv[4], "on" if tf32 else "off", m, k, n, ms,
         2 * m * k * n / (ms * 1e-3) / 1e12))
PY
      else
        echo "[run]      cuBLAS: no PyTorch with CUDA here, not compared"
      fi
    fi
    if [[ -f "$dir/attention_shape" && -n "${gpu_time:-}" && -z "$fake_device" ]]; then
      read -r sq hh dd dtype < "$dir/attention_shape"
      dtype=${dtype:-f32}
      local ms; ms=$(echo "$gpu_time" | awk '{print $2}')
      # Causal: about half of the 4 S^2 H D flops of q k^T and p v.
      awk -v s="$sq" -v h="$hh" -v d="$dd" -v ms="$ms" -v dtype="$dtype" 'BEGIN {
        printf "[run]      TMC causal attention (" dtype ") S=%d, %d heads of %d: %.3f ms per run (copies and the embedding included) = %.2f TFLOP/s\n", s, h, d, ms, 2*s*s*h*d/(ms*1e-3)/1e12 }'
      [[ -n "$kernel_ms" ]] && awk -v s="$sq" -v h="$hh" -v d="$dd" -v ms="$kernel_ms" 'BEGIN {
        printf "[run]      TMC attention kernel alone (--profile): %.3f ms = %.2f TFLOP/s\n", ms, 2*s*s*h*d/(ms*1e-3)/1e12 }'
      if [[ ! -f "$dir/variant_of" ]] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        python3 - "$sq" "$hh" "$dd" "$dtype" <<'PY' || echo "[run]      PyTorch attention: failed"
import sys, torch
s, h, d = map(int, sys.argv[1:4])
dtype = {"f16": torch.float16, "bf16": torch.bfloat16}.get(sys.argv[4], torch.float32)
torch.backends.cuda.matmul.allow_tf32 = sys.argv[4] == "tf32"
q = torch.randn(1, h, s, d, device="cuda", dtype=dtype)
f = torch.nn.functional.scaled_dot_product_attention
for _ in range(3): f(q, q, q, is_causal=True)
torch.cuda.synchronize()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
start.record()
for _ in range(20): f(q, q, q, is_causal=True)
end.record(); torch.cuda.synchronize()
ms = start.elapsed_time(end) / 20
print("[run]      PyTorch %s scaled_dot_product_attention (%s, causal) S=%d: %.3f ms = %.2f TFLOP/s"
      % (torch.__version__, sys.argv[4], s, ms, 2 * s * s * h * d / (ms * 1e-3) / 1e12))
PY
      fi
    fi
  done
  # Where the GPU time goes in the largest forward case and in decoding:
  # each kernel timed between CUDA events (a run of its own, so the times
  # above are unaffected), by source op, and the slowest kernels.
  local dir=$bundle/cases/gpt2-d256-s512
  if [[ -d "$dir" ]]; then
    echo "[run] profile gpt2-d256-s512 (tmc-run --profile):"
    "$bundle/bin/tmc-run" "$dir/cuda" --input input_ids="$dir/input_ids.npy" --profile 2>&1 |
      sed -n '/^profile/,$p' | head -24 | sed 's/^/[run]   /'
  fi
  dir=$bundle/cases/decode-gpt2-d256
  if [[ -d "$dir" ]]; then
    echo "[run] profile decode-gpt2-d256 (tmc-generate --profile):"
    "$bundle/bin/tmc-generate" "$dir/cuda" --input-ids "$dir/prompt.npy" \
      --max-new-tokens "$(cat "$dir/generate")" --follow "$dir/ids.npy" --profile --quiet 2>&1 |
      sed -n '/^profile/,$p' | head -24 | sed 's/^/[run]   /'
  fi
  echo "[run] $pass passed, $fail failed${failed:+:$failed}"
  [[ $fail -eq 0 ]]
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run [BUNDLE]" >&2; exit 2 ;;
esac
