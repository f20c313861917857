#!/usr/bin/python3
"""PyTorch float32 peer of the training benchmark: one GPT-2 training step
(forward, mean cross-entropy over every position, backward into gradients
allocated beforehand) on a checkpoint, optionally with
torch.utils.checkpoint.checkpoint around every block, timed in this process.

Run with Debian's /usr/bin/python3 (python3-torch); bench/train_bench.py
starts it in a fresh process per configuration, with OpenBLAS and the same
number of threads as TMC. Prints one JSON line: step times, the resident set
after the weights and gradients are allocated (the baseline), the peak
resident set (getrusage) and the threads used.
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
import torch.utils.checkpoint

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "e2e"))
import reference  # noqa: E402  (the suite's safetensors reader)


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def block(cfg, w, i, x):
    F = torch.nn.functional
    d, heads = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    s = x.shape[1]
    p = "h.%d." % i
    h = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
    qkv = torch.addmm(w[p + "attn.c_attn.bias"], h[0], w[p + "attn.c_attn.weight"])
    q, k, v = qkv.split(d, dim=-1)
    q, k, v = (t.reshape(s, heads, d // heads).transpose(0, 1) for t in (q, k, v))
    mask = torch.full((s, s), float("-inf")).triu(1)
    scores = q @ k.transpose(1, 2) / math.sqrt(d // heads) + mask
    o = (scores.softmax(-1) @ v).transpose(0, 1).reshape(s, d)
    x = x + torch.addmm(w[p + "attn.c_proj.bias"], o, w[p + "attn.c_proj.weight"])
    h = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
    f = F.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], h[0], w[p + "mlp.c_fc.weight"]),
               approximate="tanh")
    return x + torch.addmm(w[p + "mlp.c_proj.bias"], f, w[p + "mlp.c_proj.weight"])


def train_step(cfg, w, ids, labels, checkpoint):
    F = torch.nn.functional
    s = ids.shape[1]
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(s)][None]
    for i in range(cfg["n_layer"]):
        if checkpoint:
            x = torch.utils.checkpoint.checkpoint(
                lambda t, i=i: block(cfg, w, i, t), x, use_reentrant=False)
        else:
            x = block(cfg, w, i, x)
    x = F.layer_norm(x, (cfg["n_embd"],), w["ln_f.weight"], w["ln_f.bias"],
                     cfg.get("layer_norm_epsilon", 1e-5))
    logits = x @ w["wte.weight"].t()  # tied head
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
    loss.backward()
    return float(loss.detach())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("--input-ids", required=True, help="int64 [1, S] .npy")
    ap.add_argument("--labels", required=True, help="int64 [1, S] .npy")
    ap.add_argument("--checkpoint", action="store_true",
                    help="torch.utils.checkpoint.checkpoint around every block")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg, tensors = reference.load_checkpoint(args.ckpt)
    prefix = "transformer." if "transformer.wte.weight" in tensors else ""
    w = {}
    for name, t in tensors.items():
        if name.startswith(prefix):
            name = name[len(prefix):]
        p = torch.from_numpy(np.ascontiguousarray(t, dtype=np.float32)).requires_grad_(True)
        p.grad = torch.zeros_like(p)  # gradients allocated up front, as TMC's outputs
        w[name] = p
    ids = torch.from_numpy(np.load(args.input_ids).astype(np.int64))
    labels = torch.from_numpy(np.load(args.labels).astype(np.int64))
    baseline = rss_mib()  # weights + gradients (+ the interpreter and torch)
    times, loss = [], None
    for _ in range(args.repeat):
        for p in w.values():
            p.grad.zero_()
        t0 = time.perf_counter()
        loss = train_step(cfg, w, ids, labels, args.checkpoint)
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"times_ms": times, "median_ms": float(np.median(times)),
                      "baseline_rss_mib": baseline, "peak_rss_mib": peak_rss_mib(),
                      "loss": loss, "threads": torch.get_num_threads(),
                      "checkpoint": args.checkpoint}))


if __name__ == "__main__":
    main()
