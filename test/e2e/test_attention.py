#!/usr/bin/env python3
"""Numerics of TMC's tiled attention, dense and with every sparsity pattern.

Each case compiles a model holding one tfm.attention (inputs q, k, v; output
out) with tmc-compile -- small tiles, so that every case crosses several
query and key blocks and ends in partial tail blocks -- runs it with tmc-run
on random inputs and compares with a dense numpy reference (float64) that
applies the pattern as a boolean mask written here from the patterns'
definitions (TfmAttrs.td), independently of TMC's code.

Tolerance: 1e-4 relative to the largest output magnitude. fp32 attention
with online-softmax rescaling accumulates a few ulp per key block; observed
errors are ~1e-7.

It also checks, from report.json, that no buffer of seq x seq elements (or
more) exists: only tiles are ever allocated.

Usage: test_attention.py --bin-dir build/bin [-k REGEX] [--keep]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-4
MASK64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def random_blocks(seed, qb, n, count):
    """BigBird's random key blocks of query block qb, as TfmAttrs.td defines."""
    drawn, t = [], 0
    while len(drawn) < min(count, n):
        b = splitmix64((seed * 1000003 + qb * 7919 + t) & MASK64) % n
        if b not in drawn:
            drawn.append(b)
        t += 1
    return drawn


def pattern_mask(spec, s):
    """Boolean [s, s] keep-mask of a --attention spec (before causality)."""
    i = np.arange(s)[:, None]
    j = np.arange(s)[None, :]
    kind, _, args = spec.partition(":")
    a = [int(x) for x in args.split(",")] if args else []
    if kind == "dense":
        return np.ones((s, s), bool)
    if kind == "window":
        return np.abs(i - j) < a[0]
    if kind == "dilated":
        d = np.abs(i - j)
        return (d % a[1] == 0) & (d < a[0] * a[1])
    if kind == "strided":
        stride = a[0]
        summary = a[1] if len(a) > 1 else max(1, stride // 8)
        return (i // stride == j // stride) | (j % stride >= stride - summary)
    if kind == "bigbird":
        w, g, r = a[0], a[1], a[2]
        block = a[3] if len(a) > 3 else 64
        seed = a[4] if len(a) > 4 else 0
        qb, kb = i // block, j // block
        keep = (i < g) | (j < g) | (np.abs(qb - kb) <= w // 2)
        n = (s + block - 1) // block
        for q in range(n):
            for k in random_blocks(seed, q, n, r):
                keep[q * block:(q + 1) * block, k * block:(k + 1) * block] = True
        return keep
    raise ValueError(spec)


def reference(q, k, v, heads, kv_heads, causal, spec):
    s, d = q.shape[1], q.shape[2] // heads
    mask = pattern_mask(spec, s)
    if causal:
        mask &= np.tril(np.ones((s, s), bool))
    out = np.zeros(q.shape[1:])
    q64, k64, v64 = (t[0].astype(np.float64) for t in (q, k, v))
    for h in range(heads):
        kh = h // (heads // kv_heads)
        sc = q64[:, h * d:(h + 1) * d] @ k64[:, kh * d:(kh + 1) * d].T / np.sqrt(d)
        sc = np.where(mask, sc, -np.inf)
        p = np.exp(sc - sc.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        out[:, h * d:(h + 1) * d] = p @ v64[:, kh * d:(kh + 1) * d]
    return out


MODEL = """func.func @forward(%q: tensor<1x?x{qf}xf32> {{tfm.name = "q"}},
    %k: tensor<1x?x{kf}xf32> {{tfm.name = "k"}}, %v: tensor<1x?x{kf}xf32> {{tfm.name = "v"}})
    -> (tensor<1x?x{qf}xf32> {{tfm.name = "out"}}) {{
  %o = tfm.attention %q, %k, %v {{num_heads = {h}, num_kv_heads = {kvh}{causal}}}
      : tensor<1x?x{qf}xf32>, tensor<1x?x{kf}xf32>, tensor<1x?x{kf}xf32>
  return %o : tensor<1x?x{qf}xf32>
}}
"""


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("%s failed (%d):\n%s%s" % (cmd[0], p.returncode, p.stdout, p.stderr))


def run_qkv(bin_dir, work, name, out, rng, s, qf, kf):
    """Runs the compiled attention model `out` (inputs q [1, s, qf], k and v
    [1, s, kf], output `out`) on random inputs from `rng`; returns the
    inputs and the output's first batch."""
    arrays = {"q": rng.standard_normal((1, s, qf)), "k": rng.standard_normal((1, s, kf)),
              "v": rng.standard_normal((1, s, kf))}
    args = [os.path.join(bin_dir, "tmc-run"), out]
    for key, a in arrays.items():
        path = os.path.join(work, "%s-%s.npy" % (name, key))
        np.save(path, a.astype(np.float32))
        args += ["--input", "%s=%s" % (key, path)]
    result = os.path.join(work, name + "-out.npy")
    run(args + ["--output", "out=" + result])
    return arrays, np.load(result)[0]


def case(bin_dir, work, name, spec, causal, s, heads, kv_heads, head_dim, block, seed):
    qf, kf = heads * head_dim, kv_heads * head_dim
    model = os.path.join(work, name + ".mlir")
    with open(model, "w") as f:
        f.write(MODEL.format(qf=qf, kf=kf, h=heads, kvh=kv_heads,
                             causal=", causal" if causal else ""))
    out = os.path.join(work, name)
    cmd = [os.path.join(bin_dir, "tmc-compile"), model, "-o", out, "--seq-len=%d" % s,
           "--attention-block-q=%d" % block[0], "--attention-block-k=%d" % block[1],
           "--quiet"]
    if spec != "dense":
        cmd.append("--attention=" + spec)
    run(cmd)
    rng = np.random.default_rng(seed)
    arrays, got = run_qkv(bin_dir, work, name, out, rng, s, qf, kf)
    ref = reference(*(arrays[x].astype(np.float32) for x in "qkv"), heads, kv_heads,
                    causal, spec)
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    report = json.load(open(os.path.join(out, "report.json")))
    biggest = max((b["size"] for b in report["buffers"]), default=0)
    return err, biggest, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="", help="only cases whose name matches")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tmc-attention-")
    specs = ["dense", "window:7", "dilated:5,3", "strided:16,4", "strided:10",
             "bigbird:3,5,0,8", "bigbird:3,4,2,8,11"]
    cases = []
    for spec in specs:
        for causal in (False, True):
            for s, block in ((37, (8, 16)), (64, (16, 16)), (100, (16, 8))):
                cases.append((spec, causal, s, 4, 2, 8, block))
    cases.append(("dense", True, 130, 2, 2, 32, (64, 64)))
    cases.append(("window:40", False, 130, 2, 1, 32, (64, 64)))
    failed = 0
    for n, (spec, causal, s, h, kvh, d, block) in enumerate(cases):
        name = "%s-%s-s%d-b%dx%d" % (re.sub(r"\W", "_", spec), "causal" if causal else "full",
                                    s, block[0], block[1])
        if args.k and not re.search(args.k, name):
            continue
        try:
            err, biggest, _ = case(args.bin_dir, work, name, spec, causal, s, h, kvh, d,
                                   block, n)
            ok = err <= TOL and biggest < s * s * 4
            msg = "max rel error %.2e, largest buffer %d B (seq^2 floats: %d B)" % (
                err, biggest, s * s * 4)
        except RuntimeError as e:
            ok, msg = False, str(e).splitlines()[0]
        failed += not ok
        print("%s %-40s %s" % ("PASS" if ok else "FAIL", name, msg))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("attention: %d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
