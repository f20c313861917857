#!/usr/bin/env python3
"""Numerics of TMC's pruned models against a numpy reference of the same
pruning.

For gpt2, bert and llama checkpoints and each pruning scheme, the model is
compiled with `tmc-compile --prune=SCHEME` and run; the reference prunes
each linear layer's weight in numpy (2:4: the two largest magnitudes of every
four along the input; magnitude:F: the round((1 - F) K) largest magnitudes of
each row; ties to the lower position; magnitude:F:global: one threshold
over all the linear weights, t = the round(F T)-th smallest of their T
magnitudes, each layer's sparsity F_l the fraction of its weights below t,
then per-row pruning at F_l), written here independently of TMC's packer, and runs the Hugging Face forward of test/e2e/reference.py. The
compressed storage is exact, so the two agree to fp32 rounding:
max |tmc - ref| / max |ref| <= 1e-4.

Usage: test_prune.py --bin-dir build/bin [-k REGEX]
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weight_transform_cases import run_cases  # noqa: E402

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
    return keep_largest(w, keep_for(fraction, w.shape[1]))


def keep_for(fraction, k):
    """round((1 - F) K) (halves up, as llround), at least 1."""
    return max(1, int(math.floor((1 - fraction) * k + 0.5)))


class GlobalPrune:
    """magnitude:F:global. fit() sees every linear weight and chooses the
    threshold t (the m-th smallest magnitude, m = round(F T), 0-based);
    calling prunes one weight ([out, in]) per row at its own sparsity F_l,
    the fraction of its weights with |w| < t."""

    def __init__(self, fraction):
        self.fraction = fraction
        self.sparsity = {}

    def layer_sparsity(self, w):
        below = min(int((np.abs(w) < self.threshold).sum()), w.size - 1)
        return below / w.size

    def fit(self, weights):
        mags = np.sort(np.concatenate([np.abs(w).ravel() for w in weights.values()]))
        m = int(math.floor(self.fraction * mags.size + 0.5))
        self.threshold = mags[m] if m < mags.size else np.float32(np.inf)
        self.sparsity = {name: self.layer_sparsity(w) for name, w in weights.items()}

    def __call__(self, w):
        return keep_largest(w, keep_for(self.layer_sparsity(w), w.shape[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    schemes = ["2:4", "magnitude:0.7", "magnitude:0.2", "magnitude:0.6:global"]
    last = {}

    def transform_for(spec):
        if spec.endswith(":global"):
            last["global"] = GlobalPrune(float(spec.split(":")[1]))
            return last["global"]
        last.pop("global", None)
        return lambda w: prune(w, spec)

    def check_report(out):
        """The prune record lists every layer; under global pruning, each
        layer's sparsity is the reference's (by parameter name)."""
        report = json.load(open(os.path.join(out, "report.json")))
        t = [x for x in report["transforms"] if x.get("pass") == "tfm-prune"][0]
        layers = {x["name"]: x for x in t["layers"]}
        ok = len(t["layers"]) == t["linear_layers"] > 0 and all(
            "bytes_before" in x and "bytes_after" in x for x in t["layers"])
        if "global" not in last:
            return ok, "%d layers" % len(layers)
        ref = last["global"].sparsity
        diffs = [abs(layers[name]["sparsity"] - f) for name, f in ref.items()
                 if name in layers]
        ok = ok and len(diffs) == len(ref) == len(layers) and max(diffs) < 1e-12
        fs = sorted(x["sparsity"] for x in t["layers"])
        return ok, "%d layers, sparsity %.3f..%.3f, bytes %d -> %d" % (
            len(layers), fs[0], fs[-1], t["weight_bytes_before"],
            t["weight_bytes_after"])

    failed = run_cases(args.bin_dir, args.k, "prune", schemes, transform_for, TOL,
                       checkpoint_seed=4, ids_seed=2, check_report=check_report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
