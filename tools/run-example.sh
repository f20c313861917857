#!/usr/bin/env bash
# Compiles the bundled GPT-2-style example with the default memory pipeline,
# runs it on a random prompt and prints its memory report.
#   tools/run-example.sh [BUILD_DIR] [MODEL] [SEQ_LEN]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
MODEL="${2:-$ROOT/examples/gpt2.mlir}"
SEQ="${3:-32}"
PYTHON="${TMC_PYTHON:-python3}"
OUT="$BUILD/example/$(basename "$MODEL" .mlir)"

echo "== compiling $MODEL for sequence length $SEQ"
"$BUILD/bin/tmc-compile" "$MODEL" -o "$OUT" --seq-len="$SEQ"

echo "== running on a random prompt"
"$PYTHON" - "$OUT/input_ids.npy" "$SEQ" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(0).integers(0, 128, (1, int(sys.argv[2]))).astype(np.int64))
PY
OUTPUT_NAME=logits
grep -q "last_hidden_state" "$OUT/model.h" && OUTPUT_NAME=last_hidden_state
"$BUILD/bin/tmc-run" "$OUT" --input input_ids="$OUT/input_ids.npy" \
  --output "$OUTPUT_NAME=$OUT/$OUTPUT_NAME.npy" --repeat 5

echo "== memory report ($OUT/report.json)"
"$PYTHON" - "$OUT/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
mib = lambda b: f"{b / 2**20:8.3f} MiB"
print(f"  weights as imported  {mib(r['weights_bytes_before'])}")
print(f"  weights as packed    {mib(r['weights_bytes_after'])}")
print(f"  buffers              {len(r['buffers'])}, {mib(r['buffers_total_bytes'])} in all")
print(f"  live-bytes bound     {mib(r['lower_bound_bytes'])}  (peak of bytes live at once)")
print(f"  arena                {mib(r['arena_bytes'])}  ({r['arena_over_lower_bound']:.3f} x the bound, "
      f"{r['arena_bytes'] / max(r['buffers_total_bytes'], 1):.3f} x the sum of buffers)")
big = sorted(r["buffers"], key=lambda b: -b["size"])[:5]
print("  largest buffers:")
for b in big:
    print(f"    {b['name']:<28} {b['size']:>10} B  at {b['offset']:>8}  live [{b['first_use']}, {b['last_use']}]")
PY
