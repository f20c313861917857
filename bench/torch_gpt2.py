#!/usr/bin/env python3
"""PyTorch eager peer of the GPT-2 benchmark: the same checkpoint, the
Hugging Face GPT-2 forward written with torch ops, timed in this process.

Run with Debian's /usr/bin/python3 (python3-torch). For a fair peer, start it
with OpenBLAS and two threads (bench/gpt2_bench.py does):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 torch_gpt2.py ...
Prints one JSON line: times, peak RSS, the BLAS library in use.
"""

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "e2e"))
import reference  # noqa: E402  (the suite's safetensors reader)


def gpt2_forward(cfg, w, ids):
    F = torch.nn.functional
    d, heads = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    s = ids.shape[1]
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(s)][None]
    mask = torch.full((s, s), float("-inf")).triu(1)
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        h = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = torch.addmm(w[p + "attn.c_attn.bias"], h[0], w[p + "attn.c_attn.weight"])
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.view(s, heads, d // heads).transpose(0, 1) for t in (q, k, v))
        scores = q @ k.transpose(1, 2) / math.sqrt(d // heads) + mask
        o = (scores.softmax(-1) @ v).transpose(0, 1).reshape(s, d)
        x = x + torch.addmm(w[p + "attn.c_proj.bias"], o, w[p + "attn.c_proj.weight"])
        h = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        f = F.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], h[0], w[p + "mlp.c_fc.weight"]),
                   approximate="tanh")
        x = x + torch.addmm(w[p + "mlp.c_proj.bias"], f, w[p + "mlp.c_proj.weight"])
    x = F.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].t()


def blas_library():
    with open("/proc/self/maps") as f:
        maps = f.read()
    for name in ("openblas", "mkl", "blis", "libblas"):
        if name in maps:
            return name
    return "unknown"


def peak_rss_mib():
    """This process image's peak RSS (VmHWM): ru_maxrss would also count
    what the parent had resident when it forked us."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("checkpoint")
    ap.add_argument("--input", required=True, help="input ids .npy")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", help="write the logits here (.npy)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg, tensors = reference.load_checkpoint(args.checkpoint)
    w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}
    ids = torch.from_numpy(np.load(args.input))
    times = []
    with torch.no_grad():
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = gpt2_forward(cfg, w, ids)
            times.append((time.perf_counter() - t0) * 1e3)
    if args.output:
        np.save(args.output, out.numpy())
    print(json.dumps({
        "min_ms": min(times), "median_ms": sorted(times)[len(times) // 2],
        "peak_rss_mib": peak_rss_mib(),
        "threads": torch.get_num_threads(), "blas": blas_library(),
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
