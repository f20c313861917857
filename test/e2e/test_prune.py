#!/usr/bin/env python3
"""Numerics of TMC's pruned models against a numpy reference of the same
pruning.

For gpt2, bert and llama checkpoints and each pruning scheme, the model is
compiled with `tmc-compile --prune=SCHEME` and run; the reference prunes
each linear layer's weight in numpy (2:4: the two largest magnitudes of every
four along the input; magnitude:F: the round((1 - F) K) largest magnitudes of
each row; ties to the lower position), written here independently of TMC's
packer, and runs the Hugging Face forward of test/e2e/reference.py. The
compressed storage is exact, so the two agree to fp32 rounding:
max |tmc - ref| / max |ref| <= 1e-4.

Usage: test_prune.py --bin-dir build/bin [-k REGEX]
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402
from test_quantize import LINEARS, run  # noqa: E402

TOL = 1e-4


def keep_largest(w, keep):
    """Zeros all but the `keep` largest |w| of each row (ties: lower index)."""
    order = np.argsort(-np.abs(w), axis=1, kind="stable")[:, :keep]
    out = np.zeros_like(w)
    rows = np.arange(w.shape[0])[:, None]
    out[rows, order] = w[rows, order]
    return out


def prune(w, spec):
    """w: [n, k] (rows are output channels)."""
    if spec == "2:4":
        n, k = w.shape
        return keep_largest(w.reshape(n * k // 4, 4), 2).reshape(n, k)
    fraction = float(spec.split(":")[1])
    keep = max(1, int(math.floor((1 - fraction) * w.shape[1] + 0.5)))
    return keep_largest(w, keep)


def pruned_reference(ckpt, ids, spec):
    config, tensors = reference.load_checkpoint(ckpt)
    mt = config["model_type"]
    tensors = dict(tensors)
    for name in list(tensors):
        for pattern, in_out in LINEARS[mt]:
            if re.search(pattern, name):
                w = tensors[name].astype(np.float32)
                tensors[name] = prune(w.T, spec).T if in_out else prune(w, spec)
    if mt == "gpt2":
        tensors["lm_head.weight"] = prune(tensors["wte.weight"].astype(np.float32), spec)
        config = dict(config, tie_word_embeddings=False)
    return reference.FORWARDS[mt](config, tensors, ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    b = lambda t: os.path.join(args.bin_dir, t)
    gen = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")
    work = tempfile.mkdtemp(prefix="tmc-prune-")
    models = {
        "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "64", "--heads", "4",
                 "--vocab", "96"],
        "bert": ["--type", "bert", "--layers", "2", "--hidden", "64", "--heads", "4",
                 "--vocab", "96"],
        "llama": ["--type", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
                  "--kv-heads", "2", "--ffn", "128", "--vocab", "96"],
    }
    schemes = ["2:4", "magnitude:0.7", "magnitude:0.2"]
    seq = 7
    ids = np.random.default_rng(2).integers(0, 96, (1, seq)).astype(np.int64)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    failed = total = 0
    for mt, gen_args in models.items():
        ckpt = os.path.join(work, mt)
        run([sys.executable, gen, *gen_args, "--seed", "4", ckpt])
        model = os.path.join(work, mt + ".mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        out_name = reference.OUTPUT_NAMES[mt]
        for spec in schemes:
            name = "%s %s" % (mt, spec)
            if args.k and not re.search(args.k, name):
                continue
            total += 1
            out = os.path.join(work, "%s-%s" % (mt, re.sub(r"\W", "_", spec)))
            try:
                run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
                     "--prune=" + spec, "--quiet"])
                result = os.path.join(out, "out.npy")
                run([b("tmc-run"), out, "--input", "input_ids=" + ids_path,
                     "--output", "%s=%s" % (out_name, result)])
                got = np.load(result)
                ref = pruned_reference(ckpt, ids, spec)
                err = float(np.abs(got - ref).max() / np.abs(ref).max())
                ok = err <= TOL
                msg = "max rel error %.2e" % err
            except RuntimeError as e:
                ok, msg = False, str(e)
            failed += not ok
            print("%s %-22s %s" % ("PASS" if ok else "FAIL", name, msg))
    shutil.rmtree(work, ignore_errors=True)
    print("prune: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
