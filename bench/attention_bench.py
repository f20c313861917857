#!/usr/bin/env python3
"""Attention benchmark: TMC's tiled exact attention and two sparsity patterns
beside PyTorch's naive masked attention, for growing sequence lengths.

For each n (d = 64, 12 heads, causal) it compiles a model holding one
tfm.attention, runs it with tmc-run in a fresh process, and prints the time,
the peak RSS and the temporary memory of the attention -- the planned arena,
everything beyond the n x d inputs and output. Beside it, PyTorch eager's
naive masked attention (heads x n x n scores) runs in its own process up to
--naive-max (8192: beyond it the score tensor does not fit this machine),
and scaled_dot_product_attention where the installed PyTorch has it.

Example:
    python3 bench/attention_bench.py --n 1024 4096 16384 65536
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
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"

MODEL = """func.func @forward(%q: tensor<1x?x768xf32> {tfm.name = "q"},
    %k: tensor<1x?x768xf32> {tfm.name = "k"}, %v: tensor<1x?x768xf32> {tfm.name = "v"})
    -> (tensor<1x?x768xf32> {tfm.name = "out"}) {
  %o = tfm.attention %q, %k, %v {num_heads = 12, num_kv_heads = 12, causal}
      : tensor<1x?x768xf32>, tensor<1x?x768xf32>, tensor<1x?x768xf32>
  return %o : tensor<1x?x768xf32>
}
"""

VARIANTS = [("TMC dense exact", "dense"), ("TMC window-256", "window:256"),
            ("TMC bigbird 3 blocks+64 global+1 random", "bigbird:3,64,1")]


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    return p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--n", type=int, nargs="+", default=[1024, 4096, 8192, 16384, 65536])
    ap.add_argument("--dense-max", type=int, default=16384,
                    help="largest n for TMC dense exact (its time grows as n^2)")
    ap.add_argument("--naive-max", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="tmc-attn-")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "attention.mlir")
    with open(model, "w") as f:
        f.write(MODEL)
    env = dict(os.environ, TMC_NUM_THREADS=str(args.threads))
    print("causal attention, 12 heads x 64, fp32, %d threads; temporary = memory beyond "
          "the n x 768 inputs and output\n" % args.threads)
    print("%-42s %7s | %10s %11s %13s" % ("", "n", "time", "peak RSS", "temporary"))
    for n in args.n:
        rng = np.random.default_rng(0)
        inputs = []
        for name in "qkv":
            path = os.path.join(work, "%s-%d.npy" % (name, n))
            if not os.path.exists(path):
                np.save(path, rng.standard_normal((1, n, 768), dtype=np.float32))
            inputs += ["--input", "%s=%s" % (name, path)]
        for label, spec in VARIANTS:
            if spec == "dense" and n > args.dense_max:
                print("%-42s %7d | skipped (n > --dense-max: O(n^2) time)" % (label, n))
                continue
            out = os.path.join(work, "%s-%d" % (re.sub(r"\W", "_", spec), n))
            cmd = [os.path.join(args.bin_dir, "tmc-compile"), model, "-o", out,
                   "--seq-len=%d" % n, "--quiet"]
            if spec != "dense":
                cmd.append("--attention=" + spec)
            run(cmd)
            text = run([os.path.join(args.bin_dir, "tmc-run"), out] + inputs, env=env)
            ms = float(re.search(r"min ([\d.]+) ms", text).group(1))
            rss = float(re.search(r"peak RSS: ([\d.]+) MiB", text).group(1))
            report = json.load(open(os.path.join(out, "report.json")))
            print("%-42s %7d | %8.1f ms %7.1f MiB %9.3f MiB" % (
                label, n, ms, rss, report["arena_bytes"] / 2**20))
        tenv = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS, OMP_NUM_THREADS=str(args.threads),
                    OMP_WAIT_POLICY="PASSIVE")
        for label, extra in (("PyTorch naive masked (dense causal)", []),
                             ("PyTorch scaled_dot_product_attention", ["--sdpa"])):
            if n > args.naive_max:
                print("%-42s %7d | skipped (heads x n x n scores: %.0f GiB)" % (
                    label, n, 12 * n * n * 4 / 2**30))
                continue
            res = json.loads(run(["/usr/bin/python3", os.path.join(ROOT, "bench/torch_attention.py"),
                                  "--n", str(n), "--threads", str(args.threads)] + extra,
                                 env=tenv).strip().splitlines()[-1])
            if "unavailable" in res:
                print("%-42s %7d | %s" % (label, n, res["unavailable"]))
                continue
            print("%-42s %7d | %8.1f ms %7.1f MiB %9.1f MiB" % (
                label, n, res["ms"], res["peak_rss_mib"], res["temporary_mib"]))
        print()


if __name__ == "__main__":
    main()
