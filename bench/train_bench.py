#!/usr/bin/env python3
"""Training-step benchmark: activation memory against recomputation.

A GPT-2-small-shaped random checkpoint (12 layers, d=768, 12 heads, ffn 3072,
vocab 50257 by default) is compiled with `tmc-compile --train` (mean
cross-entropy) at each sequence length for --remat=none, all, sqrt, and
optimal under memory budgets from none's activation arena down to the
smallest budget that fits (read from the error of --memory-budget=1KiB).
For each build it prints the planned activation arena (report.json
train.remat.arena_bytes), the peak RSS of tmc-run (a fresh process: wait4's
ru_maxrss, and what tmc-run itself prints), the median step time over
--repeat runs (tmc-run --repeat) and the recomputed FLOPs as a fraction of
the forward (train.remat.recompute_flops / forward_flops).

Beside it, in the same run: PyTorch float32 training steps on the same
checkpoint, ids and labels (bench/torch_train.py, Debian's torch with
OpenBLAS, the same thread count as TMC), without and with
torch.utils.checkpoint.checkpoint around every block, each in its own
process: peak RSS, median step time, and activation memory = peak RSS minus
the RSS once weights and gradients are allocated. Then the ratios TMC / torch.

Examples:
    python3 bench/train_bench.py                       # 12 layers, S = 512 and 2048
    python3 bench/train_bench.py --quick               # tiny shapes, under a minute
    python3 bench/train_bench.py --seq 512 --layers 6 --vocab 8192 --budgets 5
"""

import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKE_CHECKPOINT = os.path.join(ROOT, "test", "Import", "Inputs", "make_checkpoint.py")
TORCH_PYTHON = "/usr/bin/python3"
MIB = 2.0 ** 20

_SMALLEST = re.compile(r"smallest planned activation arena is (\d+) bytes")


def smallest_budget(message, given=1024):
    """The smallest budget that tmc-compile's --memory-budget error names
    ("... the smallest planned activation arena is N bytes ..."), or None."""
    m = _SMALLEST.search(message)
    return int(m.group(1)) if m else None

def run_child(cmd, env=None):
    """Runs cmd in a fresh process; returns (rc, output, peak RSS in MiB of
    that process from wait4, seconds)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out, usage.ru_maxrss / 1024.0, time.time() - t0


def first_error(text):
    for line in text.splitlines():
        if "error" in line.lower():
            return line.strip()[:200]
    return (text.strip().splitlines() or ["(no output)"])[0][:200]


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.env = dict(os.environ, TMC_NUM_THREADS=str(args.threads))

    def tool(self, name):
        return os.path.join(self.args.bin_dir, name)

    def compile(self, mlir, seq, tag, flags):
        """Returns (outdir, report, seconds) or (None, error line, seconds)."""
        out = os.path.join(self.work, "build-S%d-%s" % (seq, tag))
        cmd = [self.tool("tmc-compile"), mlir, "-o", out, "--seq-len=%d" % seq,
               "--train", "--quiet"] + flags
        rc, text, _, secs = run_child(cmd)
        if rc:
            return None, first_error(text), secs
        with open(os.path.join(out, "report.json")) as f:
            return out, json.load(f), secs

    def run_tmc(self, out, ids, labels):
        rc, text, rss, _ = run_child(
            [self.tool("tmc-run"), out, "--input", "input_ids=" + ids,
             "--input", "labels=" + labels, "--repeat", str(self.args.repeat)], self.env)
        if rc:
            return None, first_error(text)
        m = re.search(r"median ([\d.]+) ms", text)
        printed = re.search(r"peak RSS: ([\d.]+) MiB", text)
        return {"median_ms": float(m.group(1)) if m else float("nan"),
                "peak_rss_mib": rss,
                "printed_rss_mib": float(printed.group(1)) if printed else float("nan")}, None

    def run_torch(self, ckpt, ids, labels, checkpoint):
        env = dict(os.environ, OMP_NUM_THREADS=str(self.args.threads),
                   OMP_WAIT_POLICY="PASSIVE",
                   LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-pthread")
        cmd = [TORCH_PYTHON, os.path.join(ROOT, "bench", "torch_train.py"), ckpt,
               "--input-ids", ids, "--labels", labels, "--repeat", str(self.args.repeat),
               "--threads", str(self.args.threads)] + (["--checkpoint"] if checkpoint else [])
        rc, text, rss, _ = run_child(cmd, env)
        if rc:
            return None, first_error(text)
        result = json.loads(text.strip().splitlines()[-1])
        result["peak_rss_mib"] = rss  # wait4: the child's own peak
        result["activation_mib"] = rss - result["baseline_rss_mib"]
        return result, None


def budgets_between(none_arena, smallest, count):
    """count budgets from none's arena down to the smallest, evenly spaced."""
    if count <= 1 or none_arena <= smallest:
        return [smallest]
    step = (none_arena - smallest) / (count - 1)
    return sorted({int(round(none_arena - k * step)) for k in range(count)}, reverse=True)


def bench_seq(bench, ckpt, mlir, seq, vocab):
    args = bench.args
    rng = np.random.default_rng(seq)
    ids = os.path.join(bench.work, "ids-%d.npy" % seq)
    labels = os.path.join(bench.work, "labels-%d.npy" % seq)
    np.save(ids, rng.integers(0, vocab, (1, seq)).astype(np.int64))
    np.save(labels, rng.integers(0, vocab, (1, seq)).astype(np.int64))

    print("\n== sequence %d ==" % seq)
    rows = []
    header = ("%-26s %10s | %10s %10s %10s | %10s %9s | %8s"
              % ("TMC build", "budget", "arena", "peak RSS", "run RSS", "step ms",
                 "recompute", "compile"))
    print(header)
    print("-" * len(header))

    def build(tag, flags, budget=None):
        out, report, secs = bench.compile(mlir, seq, tag, flags)
        label = "--remat=%s" % tag.split("-")[0]
        if out is None:
            print("%-26s %10s | compile failed: %s" % (label, fmt_mib(budget), report))
            return None
        remat = report.get("train", {}).get("remat", {})
        arena = remat.get("arena_bytes", report.get("arena_bytes"))
        fwd = remat.get("forward_flops") or 0
        frac = remat.get("recompute_flops", 0) / fwd if fwd else float("nan")
        result, err = bench.run_tmc(out, ids, labels)
        if result is None:
            print("%-26s %10s | %10s run failed: %s" % (label, fmt_mib(budget),
                                                       fmt_mib(arena), err))
            return None
        row = dict(tag=tag, budget=budget, arena=arena, recompute=frac,
                   gradient_bytes=report.get("train", {}).get("gradient_bytes"), **result)
        rows.append(row)
        print("%-26s %10s | %10s %7.1f MiB %7.1f MiB | %10.1f %9.3f | %7.1fs"
              % (label, fmt_mib(budget), fmt_mib(arena), result["peak_rss_mib"],
                 result["printed_rss_mib"], result["median_ms"], frac, secs), flush=True)
        return row

    none = build("none", ["--remat=none"])
    for mode in ("all", "sqrt"):
        build(mode, ["--remat=" + mode])
    smallest = None
    out, msg, _ = bench.compile(mlir, seq, "optimal-1KiB",
                                ["--remat=optimal", "--memory-budget=1KiB"])
    if out is not None:
        print("%-26s %10s | unexpectedly compiled under 1 KiB" % ("--remat=optimal", "1 KiB"))
    else:
        smallest = smallest_budget(msg)
        if smallest is None:
            print("%-26s %10s | no smallest budget in: %s" % ("--remat=optimal", "1 KiB", msg))
    if none is not None and smallest is not None:
        for b in budgets_between(none["arena"], smallest, args.budgets):
            build("optimal-%d" % b, ["--remat=optimal", "--memory-budget=%d" % b], b)

    torch_rows = {}
    if not args.skip_torch:
        header = ("%-26s %10s | %10s %10s %10s | %10s"
                  % ("PyTorch fp32", "", "activation", "peak RSS", "baseline", "step ms"))
        print()
        print(header)
        print("-" * len(header))
        for tag, ckpt_flag in (("eager", False), ("checkpoint per block", True)):
            r, err = bench.run_torch(ckpt, ids, labels, ckpt_flag)
            if r is None:
                print("%-26s %10s | failed: %s" % (tag, "", err))
                continue
            torch_rows[tag] = r
            print("%-26s %10s | %6.1f MiB %6.1f MiB %6.1f MiB | %10.1f"
                  % (tag, "", r["activation_mib"], r["peak_rss_mib"],
                     r["baseline_rss_mib"], r["median_ms"]), flush=True)

    # Ratios: TMC's none against torch eager, and the smallest TMC build
    # against torch with checkpointing.
    pairs = []
    if none and "eager" in torch_rows:
        pairs.append(("none / torch eager", none, torch_rows["eager"]))
    low = min(rows, key=lambda r: r["arena"]) if rows else None
    if low and "checkpoint per block" in torch_rows:
        pairs.append(("%s / torch checkpoint" % low["tag"], low,
                      torch_rows["checkpoint per block"]))
    if pairs:
        print()
        for name, t, p in pairs:
            print("%-40s step time %.2fx, peak RSS %.2fx, arena / torch activations %.2fx"
                  % (name, t["median_ms"] / p["median_ms"],
                     t["peak_rss_mib"] / p["peak_rss_mib"],
                     t["arena"] / MIB / max(p["activation_mib"], 1e-9)))
    return rows, torch_rows


def fmt_mib(n):
    return "-" if n is None else "%.1f MiB" % (n / MIB)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--work", help="directory for the checkpoint and builds (default: temp)")
    ap.add_argument("--seq", default="512,2048", help="comma-separated sequence lengths")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--budgets", type=int, default=4,
                    help="--remat=optimal budgets from none's arena to the smallest (default 4)")
    ap.add_argument("--repeat", type=int, default=5, help="timed steps per build (median)")
    ap.add_argument("--threads", type=int,
                    default=int(os.environ.get("TMC_NUM_THREADS", 0)) or os.cpu_count(),
                    help="threads for TMC (TMC_NUM_THREADS) and torch (default: "
                         "TMC_NUM_THREADS or the CPU count)")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="2 layers, d=128, vocab 1000, S = 64 and 128, 2 budgets, 2 steps")
    args = ap.parse_args()
    hidden, heads, ffn = 768, 12, 3072
    if args.quick:
        args.layers, args.vocab, args.seq = 2, 1000, "64,128"
        args.budgets, args.repeat = 2, 2
        hidden, heads, ffn = 128, 4, 512
    seqs = [int(s) for s in args.seq.split(",") if s]
    work = args.work or tempfile.mkdtemp(prefix="tmc-train-bench-")
    os.makedirs(work, exist_ok=True)
    bench = Bench(args, work)

    print("TMC training-step benchmark: %d layers, d=%d, %d heads, ffn %d, vocab %d; "
          "%d threads; work dir %s"
          % (args.layers, hidden, heads, ffn, args.vocab, args.threads, work))
    print("command: %s" % " ".join(shlex.quote(a) for a in [sys.argv[0]] + sys.argv[1:]))
    ckpt = os.path.join(work, "ckpt")
    if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
        subprocess.run([sys.executable, MAKE_CHECKPOINT, "--type", "gpt2",
                        "--layers", str(args.layers), "--hidden", str(hidden),
                        "--heads", str(heads), "--ffn", str(ffn), "--vocab", str(args.vocab),
                        "--max-pos", str(max(seqs)), ckpt], check=True)
    mlir = os.path.join(work, "model.mlir")
    rc, text, _, _ = run_child([bench.tool("tmc-import"), ckpt, "-o", mlir])
    if rc:
        sys.exit("tmc-import failed: %s" % first_error(text))
    for seq in seqs:
        bench_seq(bench, ckpt, mlir, seq, args.vocab)
    print("\narena = planned activation arena (report.json train.remat.arena_bytes); "
          "peak RSS = the process's ru_maxrss (wait4); run RSS = what tmc-run prints; "
          "step ms = median of %d steps; recompute = recomputed FLOPs / forward FLOPs; "
          "torch activation = peak RSS - RSS with weights and gradients allocated."
          % args.repeat)


if __name__ == "__main__":
    main()
