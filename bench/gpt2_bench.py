#!/usr/bin/env python3
"""End-to-end benchmark: a GPT-2-small-shaped layer stack (12 layers, d=768,
12 heads, FFN 3072) compiled by TMC, beside PyTorch eager in the same run.

For each sequence length it prints TMC's and PyTorch's time (min and median
over --repeat runs) and peak resident memory, each measured in a fresh child
process, and the relative difference of their outputs. Then it runs
bench/matmul_bench.py for the GFLOPS of TMC's GEMM kernels beside numpy's
OpenBLAS sgemm on the stack's linear-layer shapes.

The PyTorch peer runs on Debian's python3-torch with OpenBLAS
(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread), two threads and
OMP_WAIT_POLICY=PASSIVE (see TOOLCHAIN.md); the script prints which BLAS it
found. This machine is shared and noisy: compare ratios within one run.

Example:
    python3 bench/gpt2_bench.py --seqs 128 512 2048
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


def run(cmd, env=None, **kw):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit("command failed (%d): %s\n%s%s" % (proc.returncode, " ".join(cmd),
                                                   proc.stdout, proc.stderr))
    return proc.stdout + proc.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--seqs", type=int, nargs="+", default=[128, 512, 2048])
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=2048,
                    help="vocabulary of the LM head (default 2048: the stack, "
                         "not GPT-2's 50257-way head, dominates)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", help="keep files here (default: a temp dir)")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-gemm", action="store_true")
    args = ap.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="tmc-bench-")
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, "gpt2-stack")
    model = os.path.join(work, "gpt2-stack.mlir")
    if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
        run([sys.executable, os.path.join(ROOT, "test/Import/Inputs/make_checkpoint.py"),
             "--type", "gpt2", "--layers", str(args.layers), "--hidden", "768",
             "--heads", "12", "--ffn", "3072", "--vocab", str(args.vocab),
             "--max-pos", str(max(args.seqs)), ckpt])
    run([os.path.join(args.bin_dir, "tmc-import"), ckpt, "-o", model])
    # From the file size: loading the tensors here would raise this process's
    # peak RSS, which the measured children inherit across exec.
    params = (os.path.getsize(os.path.join(ckpt, "model.safetensors")) - 8) / 4
    print("GPT-2-small-shaped stack: %d layers, d=768, 12 heads, FFN 3072, vocab %d "
          "(about %.1fM parameters, %.0f MiB fp32)" % (args.layers, args.vocab, params / 1e6,
                                                params * 4 / 2**20))
    print("threads: %d for both; PyTorch with OpenBLAS from %s\n" % (args.threads, OPENBLAS))
    header = ("%6s | %10s %10s %9s | %10s %10s %9s | %7s %9s"
              % ("seq", "TMC min", "TMC med", "TMC RSS", "torch min", "torch med",
                 "torch RSS", "speedup", "max rel"))
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for seq in args.seqs:
        out = os.path.join(work, "tmc-%d" % seq)
        run([os.path.join(args.bin_dir, "tmc-compile"), model, "-o", out,
             "--seq-len=%d" % seq, "--quiet"])
        ids = os.path.join(work, "ids-%d.npy" % seq)
        np.save(ids, rng.integers(0, args.vocab, (1, seq)).astype(np.int64))
        env = dict(os.environ, TMC_NUM_THREADS=str(args.threads))
        tmc_out = os.path.join(work, "tmc-logits-%d.npy" % seq)
        text = run([os.path.join(args.bin_dir, "tmc-run"), out, "--input",
                    "input_ids=" + ids, "--output", "logits=" + tmc_out,
                    "--repeat", str(args.repeat)], env=env)
        m = re.search(r"min ([\d.]+) ms, median ([\d.]+) ms", text)
        rss = re.search(r"peak RSS: ([\d.]+) MiB", text)
        tmc_min, tmc_med, tmc_rss = float(m.group(1)), float(m.group(2)), float(rss.group(1))
        row = "%6d | %8.1f ms %7.1f ms %5.0f MiB |" % (seq, tmc_min, tmc_med, tmc_rss)
        if args.skip_torch:
            print(row)
            continue
        torch_out = os.path.join(work, "torch-logits-%d.npy" % seq)
        tenv = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS, OMP_NUM_THREADS=str(args.threads),
                    OMP_WAIT_POLICY="PASSIVE")
        res = json.loads(run(["/usr/bin/python3", os.path.join(ROOT, "bench/torch_gpt2.py"),
                              ckpt, "--input", ids, "--repeat", str(args.repeat),
                              "--threads", str(args.threads), "--output", torch_out],
                             env=tenv).strip().splitlines()[-1])
        a, b = np.load(tmc_out), np.load(torch_out)
        err = float(np.abs(a - b).max() / np.abs(b).max())
        print(row + " %8.1f ms %7.1f ms %5.0f MiB | %6.2fx %9.1e   (torch %s, %s, %d threads)"
              % (res["min_ms"], res["median_ms"], res["peak_rss_mib"],
                 res["min_ms"] / tmc_min, err, res["torch"], res["blas"], res["threads"]))
    print("\nspeedup = PyTorch min time / TMC min time (> 1: TMC faster).")
    if not args.skip_gemm:
        print("\nLinear layers: TMC GEMM kernels vs numpy (OpenBLAS) sgemm")
        sys.stdout.flush()
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/matmul_bench.py"),
                        "--threads", str(args.threads), "--m"] + [str(s) for s in args.seqs])


if __name__ == "__main__":
    main()
