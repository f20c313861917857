#!/usr/bin/env python3
"""Numerics of tfm.linformer_attention against numpy.

Each case compiles a model holding one tfm.linformer_attention (inputs q, k,
v; projections E and F as inline parameters drawn here) with tmc-compile,
runs it with tmc-run on random inputs and compares with a float64 numpy
reference of the same projections: K' = E K, V' = F V, then per head
softmax(q K'^T / sqrt(dh)) V' (grouped-query heads). Tolerance: 1e-4
relative to the largest output magnitude (fp32 sums of n + k terms; observed
~1e-7). It also checks from report.json that no buffer of seq x seq floats
exists: the scores are [heads, seq, k].

Usage: test_linformer.py --bin-dir build/bin [-k REGEX]
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_attention import run, run_qkv  # noqa: E402

TOL = 1e-4

MODEL = """func.func @forward(%q: tensor<1x{n}x{qf}xf32> {{tfm.name = "q"}},
    %k: tensor<1x{n}x{kf}xf32> {{tfm.name = "k"}}, %v: tensor<1x{n}x{kf}xf32> {{tfm.name = "v"}})
    -> (tensor<1x{n}x{qf}xf32> {{tfm.name = "out"}}) {{
  %e = tfm.param "E" {{value = dense<{e}> : tensor<{p}x{n}xf32>}} : tensor<{p}x{n}xf32>
  %f = tfm.param "F" {{value = dense<{f}> : tensor<{p}x{n}xf32>}} : tensor<{p}x{n}xf32>
  %o = tfm.linformer_attention %q, %k, %v proj %e, %f {{num_heads = {h}, num_kv_heads = {kvh}}}
      : tensor<1x{n}x{qf}xf32>, tensor<1x{n}x{kf}xf32>, tensor<1x{n}x{kf}xf32>,
        tensor<{p}x{n}xf32>, tensor<{p}x{n}xf32>
  return %o : tensor<1x{n}x{qf}xf32>
}}
"""


def dense(a):
    return "[" + ", ".join(dense(x) if x.ndim else repr(float(x)) for x in a) + "]"


def reference(q, k, v, e, f, heads, kv_heads):
    d = q.shape[2] // heads
    q64, k64, v64 = (t[0].astype(np.float64) for t in (q, k, v))
    kp, vp = e.astype(np.float64) @ k64, f.astype(np.float64) @ v64
    out = np.zeros(q.shape[1:])
    for h in range(heads):
        kh = h // (heads // kv_heads)
        sc = q64[:, h * d:(h + 1) * d] @ kp[:, kh * d:(kh + 1) * d].T / np.sqrt(d)
        p = np.exp(sc - sc.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        out[:, h * d:(h + 1) * d] = p @ vp[:, kh * d:(kh + 1) * d]
    return out


def case(bin_dir, work, name, n, proj, heads, kv_heads, dim, seed):
    rng = np.random.default_rng(seed)
    qf, kf = heads * dim, kv_heads * dim
    e = (rng.standard_normal((proj, n)) / np.sqrt(proj)).astype(np.float32)
    f = (rng.standard_normal((proj, n)) / np.sqrt(proj)).astype(np.float32)
    model = os.path.join(work, name + ".mlir")
    with open(model, "w") as out:
        out.write(MODEL.format(n=n, qf=qf, kf=kf, p=proj, h=heads, kvh=kv_heads,
                               e=dense(e), f=dense(f)))
    out = os.path.join(work, name)
    run([os.path.join(bin_dir, "tmc-compile"), model, "-o", out, "--seq-len=%d" % n,
         "--quiet"])
    arrays, got = run_qkv(bin_dir, work, name, out, rng, n, qf, kf)
    ref = reference(*(arrays[x].astype(np.float32) for x in "qkv"), e, f, heads, kv_heads)
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    report = json.load(open(os.path.join(out, "report.json")))
    biggest = max((b["size"] for b in report["buffers"]), default=0)
    return err, biggest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tmc-linformer-")
    cases = [(64, 8, 4, 4, 8), (100, 16, 4, 2, 8), (256, 32, 2, 1, 16), (37, 5, 2, 2, 4)]
    failed = total = 0
    for i, (n, proj, h, kvh, d) in enumerate(cases):
        name = "n%d-k%d-h%d-kv%d-d%d" % (n, proj, h, kvh, d)
        if args.k and not re.search(args.k, name):
            continue
        total += 1
        try:
            err, biggest = case(args.bin_dir, work, name, n, proj, h, kvh, d, i)
            ok = err <= TOL and biggest < n * n * 4
            msg = "max rel error %.2e, largest buffer %d B (seq^2 floats: %d B)" % (
                err, biggest, n * n * 4)
        except RuntimeError as e:
            ok, msg = False, str(e).splitlines()[0]
        failed += not ok
        print("%s %-28s %s" % ("PASS" if ok else "FAIL", name, msg), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("linformer: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
