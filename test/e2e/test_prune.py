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
    keep = max(1, int(math.floor((1 - fraction) * w.shape[1] + 0.5)))
    return keep_largest(w, keep)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    schemes = ["2:4", "magnitude:0.7", "magnitude:0.2"]
    failed = run_cases(args.bin_dir, args.k, "prune", schemes,
                       lambda spec: lambda w: prune(w, spec), TOL,
                       checkpoint_seed=4, ids_seed=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
