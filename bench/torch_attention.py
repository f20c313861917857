#!/usr/bin/env python3
"""PyTorch peer of the attention benchmark: naive masked attention (the full
heads x n x n score tensor, a boolean mask, softmax, times V), and
scaled_dot_product_attention where the installed PyTorch has it. Runs in its
own process and prints one JSON line: time and peak RSS.

Run with /usr/bin/python3 (Debian's python3-torch), OpenBLAS and 2 threads.
"""

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../test/e2e")
from test_attention import pattern_mask  # noqa: E402  (the tests' masks)


def peak_rss_mib():
    """This process image's peak RSS (VmHWM): ru_maxrss would also count
    what the parent had resident when it forked us."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--pattern", default="dense")
    ap.add_argument("--sdpa", action="store_true",
                    help="use F.scaled_dot_product_attention (PyTorch 2.x)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, h, d = args.n, args.heads, args.head_dim
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(h, n, d, generator=g) for _ in range(3))
    mask = torch.from_numpy(pattern_mask(args.pattern, n) & np.tril(np.ones((n, n), bool)))
    rss0 = peak_rss_mib()
    t0 = time.perf_counter()
    with torch.no_grad():
        if args.sdpa:
            if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
                print(json.dumps({"unavailable": "torch %s has no scaled_dot_product_attention"
                                  % torch.__version__}))
                return
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            scores = (q @ k.transpose(1, 2)) / d ** 0.5
            scores = scores.masked_fill(~mask, float("-inf"))
            out = scores.softmax(-1) @ v
    elapsed = time.perf_counter() - t0
    peak = peak_rss_mib()
    print(json.dumps({"ms": elapsed * 1e3, "peak_rss_mib": peak,
                      "temporary_mib": peak - rss0, "torch": torch.__version__,
                      "finite": bool(torch.isfinite(out).all())}))


if __name__ == "__main__":
    main()
