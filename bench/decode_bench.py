#!/usr/bin/env python3
"""Text-generation benchmark: decoding speed, KV-cache bytes and accuracy,
and memory that stays flat with a sliding-window cache.

Part 1, speed: GPT-2-small-shaped (12 layers, d=768, vocab 50257) and
LLaMA-shaped (12 layers, d=768, 12 query / 4 key-value heads, vocab 32000)
random checkpoints, compiled with `tmc-compile --decode` and fp32, int8 and
int4 weights; tmc-generate runs a 32-token prompt and 64 greedy tokens and
reports prefill and decode tokens per second and the peak RSS. Beside it, a
plain PyTorch cached decoder (bench/torch_decode.py, Debian's torch with
OpenBLAS, 2 threads) on the same checkpoint and prompt; its greedy ids are
compared with TMC's fp32 ids.

Part 2, cache storage: fp32, int8 and int4 caches (fp32 weights): bytes per
token and in total, and the cosine similarity of each step's logits to the
fp32 cache's, every cache fed the fp32 cache's greedy ids (through the
Python package's runtime), and how often the argmax agrees.

Part 3, flat memory: a small LLaMA-shaped model (4 layers, d=256, rotary
positions, so no position table limits the length) generating 1k, 4k and 16k
tokens with a window-256 cache, beside a full cache sized for 16k tokens:
the cache bytes and the peak RSS of each run (a fresh process each).

Example:
    python3 bench/decode_bench.py            # all parts
    python3 bench/decode_bench.py --quick    # small shapes, a smoke run
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
MAKE_CHECKPOINT = os.path.join(ROOT, "test", "Import", "Inputs", "make_checkpoint.py")

MODELS = {
    "gpt2": ["--type", "gpt2", "--layers", "12", "--hidden", "768", "--heads", "12",
             "--vocab", "50257", "--max-pos", "1024"],
    "llama": ["--type", "llama", "--layers", "12", "--hidden", "768", "--heads", "12",
              "--kv-heads", "4", "--ffn", "2048", "--vocab", "32000", "--max-pos", "4096"],
}
QUICK_MODELS = {
    "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "128", "--heads", "4",
             "--vocab", "1000", "--max-pos", "256"],
    "llama": ["--type", "llama", "--layers", "2", "--hidden", "128", "--heads", "4",
              "--kv-heads", "2", "--ffn", "256", "--vocab", "1000", "--max-pos", "256"],
}
FLAT_MODEL = ["--type", "llama", "--layers", "4", "--hidden", "256", "--heads", "8",
              "--kv-heads", "2", "--ffn", "688", "--vocab", "32000", "--max-pos", "32768"]


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout


class Bench:
    def __init__(self, bin_dir, work):
        self.bin = bin_dir
        self.work = work

    def tool(self, name):
        return os.path.join(self.bin, name)

    def checkpoint(self, name, args):
        ckpt = os.path.join(self.work, name)
        mlir = ckpt + ".mlir"
        if not os.path.exists(mlir):
            run([sys.executable, MAKE_CHECKPOINT] + args + ["--seed", "1", ckpt])
            run([self.tool("tmc-import"), ckpt, "-o", mlir])
        return ckpt, mlir

    def compile(self, mlir, tag, flags):
        out = os.path.join(self.work, tag)
        run([self.tool("tmc-compile"), mlir, "-o", out, "--quiet"] + flags)
        return out, json.load(open(os.path.join(out, "report.json")))

    def generate(self, out, prompt, count, keep_logits=True):
        """Runs tmc-generate; with keep_logits, also returns the logits each
        token was chosen from (tmc-generate then holds them all in memory)."""
        ids = os.path.join(out, "prompt.npy")
        np.save(ids, np.array([prompt], dtype=np.int64))
        logits = os.path.join(out, "logits.npy")
        cmd = [self.tool("tmc-generate"), out, "--input-ids", ids,
               "--max-new-tokens", str(count)]
        if keep_logits:
            cmd += ["--logits-output", logits]
        text = run(cmd)
        result = {"ids": [int(t) for t in text.splitlines()[0].split()],
                  "logits": np.load(logits) if keep_logits else None,
                  "rss": float(re.search(r"peak RSS: ([\d.]+) MiB", text).group(1))}
        m = re.search(r"prefill: \d+ tokens in ([\d.]+) ms \(([\d.]+) tokens/s\)", text)
        result["prefill_tps"] = float(m.group(2))
        m = re.search(r"decode: \d+ tokens in ([\d.]+) ms \(([\d.]+) tokens/s\)", text)
        result["decode_tps"] = float(m.group(2)) if m else 0.0
        return result

    def torch_peer(self, ckpt, prompt, count):
        ids = os.path.join(self.work, "torch-prompt.npy")
        np.save(ids, np.array([prompt], dtype=np.int64))
        env = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE",
                   LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-pthread")
        p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_decode.py"),
                            ckpt, "--input-ids", ids, "--max-new-tokens", str(count)],
                           capture_output=True, text=True, env=env)
        if p.returncode:
            return None
        return json.loads(p.stdout.strip().splitlines()[-1])


def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def part_speed(bench, models, prompt_len, count, skip_torch):
    print("== Part 1: decoding speed (prompt %d tokens, %d new tokens, greedy) ==" %
          (prompt_len, count))
    print("%-6s %-10s %12s %14s %14s %10s" % ("model", "weights", "weights MiB",
                                             "prefill tok/s", "decode tok/s", "peak MiB"))
    rng = np.random.default_rng(0)
    for name, args in models.items():
        ckpt, mlir = bench.checkpoint(name, args)
        vocab = int(args[args.index("--vocab") + 1])
        prompt = rng.integers(0, vocab, prompt_len).tolist()
        fp32 = None
        for scheme in ("none", "int8", "int4:g128"):
            flags = ["--decode=%d" % (prompt_len + count + 64), "--seq-len=%d" % prompt_len]
            if scheme != "none":
                flags.append("--quantize=" + scheme)
            out, report = bench.compile(mlir, "%s-%s" % (name, scheme.replace(":", "-")), flags)
            r = bench.generate(out, prompt, count, keep_logits=False)
            fp32 = fp32 or r
            print("%-6s %-10s %12.1f %14.1f %14.1f %10.1f" % (
                name, "fp32" if scheme == "none" else scheme,
                report["weights_bytes_after"] / 2**20, r["prefill_tps"], r["decode_tps"],
                r["rss"]))
        if not skip_torch:
            t = bench.torch_peer(ckpt, prompt, count)
            if t is None:
                print("%-6s %-10s  (PyTorch unavailable: /usr/bin/python3 with python3-torch)" %
                      (name, "torch"))
            else:
                same = sum(1 for a, b in zip(t["ids"], fp32["ids"]) if a == b)
                print("%-6s %-10s %12s %14.1f %14.1f %10.1f   ids equal to TMC fp32: %d/%d"
                      % (name, "torch fp32", "", t["prefill_tokens_per_s"],
                         t["decode_tokens_per_s"], t["peak_rss_mib"], same, len(fp32["ids"])))
                print("%-6s TMC fp32 / PyTorch: prefill %.2fx, decode %.2fx" % (
                    name, fp32["prefill_tps"] / t["prefill_tokens_per_s"],
                    fp32["decode_tps"] / t["decode_tokens_per_s"]))


def part_cache(bench, models, prompt_len, count):
    print("\n== Part 2: KV-cache storage (fp32 weights, %d-token prompt, %d steps "
          "fed the fp32 cache's greedy ids) ==" % (prompt_len, count))
    print("%-6s %-6s %16s %14s %12s %12s %10s %14s" % (
        "model", "cache", "bytes/token", "total MiB", "vs fp32", "cos mean", "cos min",
        "same argmax"))
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import tmc  # the package's ctypes runtime: teacher-forced steps
    rng = np.random.default_rng(1)
    for name, args in models.items():
        _, mlir = bench.checkpoint(name, args)
        vocab = int(args[args.index("--vocab") + 1])
        max_tokens = min(1024, int(args[args.index("--max-pos") + 1]))
        prompt = rng.integers(0, vocab, prompt_len).tolist()
        base = None
        for cache in ("f32", "int8", "int4"):
            out, report = bench.compile(mlir, "%s-cache-%s" % (name, cache),
                                        ["--decode=%d" % max_tokens,
                                         "--seq-len=%d" % prompt_len, "--kv-cache=" + cache])
            with tmc.Model(out) as model:
                logits = [model.prefill(prompt)]
                ids = base[1] if base else [int(np.argmax(logits[0]))]
                for i in range(count - 1):
                    logits.append(model.step(ids[i]))
                    if not base:
                        ids.append(int(np.argmax(logits[-1])))
            kv = report["kv_cache"]
            base = base or (kv, ids, logits)
            cos = [cosine(a, b) for a, b in zip(logits, base[2])]
            same = sum(int(np.argmax(a) == np.argmax(b)) for a, b in zip(logits, base[2]))
            print("%-6s %-6s %16d %14.2f %11.2fx %12.6f %10.6f %9d/%d" % (
                name, cache, kv["bytes_per_token"], kv["bytes"] / 2**20,
                base[0]["bytes"] / kv["bytes"], np.mean(cos), np.min(cos), same, count))
    print("(random-weight checkpoints: their logits are nearly flat, which makes "
          "argmax flips easy)")


def part_flat(bench, counts):
    print("\n== Part 3: resident memory while generating (small LLaMA shape, rotary) ==")
    print("%-22s %8s %14s %10s %14s" % ("cache", "tokens", "cache MiB", "peak MiB",
                                       "decode tok/s"))
    _, mlir = bench.checkpoint("llama-flat", FLAT_MODEL)
    prompt = list(range(1, 17))
    window, _ = bench.compile(mlir, "flat-window", ["--decode", "--seq-len=16",
                                                    "--attention=window:256"])
    full, _ = bench.compile(mlir, "flat-full", ["--decode=%d" % (max(counts) + 32),
                                                "--seq-len=16"])
    for label, out in (("window-256 (ring)", window), ("full (%d)" % (max(counts) + 32), full)):
        cache = json.load(open(os.path.join(out, "report.json")))["kv_cache"]["bytes"]
        for n in counts:
            r = bench.generate(out, prompt, n, keep_logits=False)
            print("%-22s %8d %14.2f %10.1f %14.1f" % (label, n, cache / 2**20, r["rss"],
                                                       r["decode_tps"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--work", help="directory for checkpoints and builds (default: temp)")
    ap.add_argument("--quick", action="store_true", help="small shapes and counts")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--parts", default="1,2,3")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="tmc-decode-bench-")
    os.makedirs(work, exist_ok=True)
    bench = Bench(args.bin_dir, work)
    models = QUICK_MODELS if args.quick else MODELS
    parts = args.parts.split(",")
    print("TMC decode benchmark; %s threads; work dir %s" %
          (os.environ.get("TMC_NUM_THREADS", "all"), work))
    if "1" in parts:
        part_speed(bench, models, 32, 16 if args.quick else 64, args.skip_torch)
    if "2" in parts:
        part_cache(bench, models, 32, 16 if args.quick else 64)
    if "3" in parts:
        part_flat(bench, [256, 512] if args.quick else [1024, 4096, 16384])


if __name__ == "__main__":
    main()
