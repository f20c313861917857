#!/usr/bin/env python3
"""Memory benchmark of the buffer planner.

For the three example models and a GPT-2-small-shaped 12-layer stack at
sequence 512, prints the planned arena beside the liveness lower bound and
beside the sum of all buffer sizes (what a plan without reuse would take),
then runs each compiled model with tmc-run in a fresh process and prints its
peak resident memory beside weights + arena: the difference is the runtime's
constant overhead (code, libraries, stacks), since weights and arena are the
only large allocations a compiled model makes.

Example:
    python3 bench/memory_bench.py
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr))
    return proc.stdout + proc.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--workdir")
    ap.add_argument("--stack-seq", type=int, default=512)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="tmc-mem-")
    os.makedirs(work, exist_ok=True)
    b = lambda tool: os.path.join(args.bin_dir, tool)

    models = [(os.path.join(ROOT, "examples", n + ".mlir"), n, 64, 128)
              for n in ("gpt2", "bert", "llama")]
    ckpt = os.path.join(work, "gpt2-stack")
    if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
        run([sys.executable, os.path.join(ROOT, "test/Import/Inputs/make_checkpoint.py"),
             "--type", "gpt2", "--layers", "12", "--hidden", "768", "--heads", "12",
             "--ffn", "3072", "--vocab", "2048", "--max-pos", str(args.stack_seq), ckpt])
    stack = os.path.join(work, "gpt2-stack.mlir")
    run([b("tmc-import"), ckpt, "-o", stack])
    models.append((stack, "gpt2 12-layer stack", args.stack_seq, 2048))

    mib = lambda x: x / 2**20
    print("%-22s %5s | %10s %10s %7s | %11s %9s | %9s %9s %9s %9s"
          % ("model", "seq", "arena", "bound", "ratio", "all buffers", "arena/all",
             "weights", "w+arena", "peak RSS", "overhead"))
    for path, name, seq, vocab in models:
        out = os.path.join(work, re.sub(r"\W+", "-", name) + "-%d" % seq)
        run([b("tmc-compile"), path, "-o", out, "--seq-len=%d" % seq, "--quiet"])
        r = json.load(open(os.path.join(out, "report.json")))
        ids = os.path.join(out, "ids.npy")
        np.save(ids, np.random.default_rng(0).integers(0, vocab, (1, seq)).astype(np.int64))
        text = run([b("tmc-run"), out, "--input", "input_ids=" + ids])
        rss = float(re.search(r"peak RSS: ([\d.]+) MiB", text).group(1))
        w, a = r["weights_bytes_after"], r["arena_bytes"]
        print("%-22s %5d | %7.2f MiB %6.2f MiB %7.4f | %7.2f MiB %9.4f | %5.1f MiB %5.1f MiB %5.1f MiB %5.1f MiB"
              % (name, seq, mib(a), mib(r["lower_bound_bytes"]),
                 a / max(r["lower_bound_bytes"], 1), mib(r["buffers_total_bytes"]),
                 a / max(r["buffers_total_bytes"], 1), mib(w), mib(w + a), rss,
                 rss - mib(w + a)))
    print("\nratio = arena / lower bound (1.0 is optimal); arena/all = arena / sum of "
          "buffer sizes; overhead = peak RSS - weights - arena.")


if __name__ == "__main__":
    main()
