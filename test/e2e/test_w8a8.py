#!/usr/bin/env python3
"""W8A8 numerics: int8 weights (per output channel) and int8 activations
quantized per token at run time, against numpy on identical quantized
operands.

For several shapes, a model holding one linear layer is compiled with
`tmc-compile --quantize=w8a8` and run. The reference quantizes the weights
and each row of the input exactly as docs/Quantization.md says (scale =
max |x| / 127 in fp32, round half to even), multiplies in integers and
rescales in the same fp32 order. A rounding flip would move a whole int8
step, so the operands must be identical; the result then is too: the test
requires max |tmc - ref| / max |ref| <= 1e-6 (observed 0).

Usage: test_w8a8.py --bin-dir build/bin
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

F32 = np.float32


def dense(a):
    if a.ndim == 1:
        return "[" + ", ".join("%.9e" % v for v in a) + "]"
    return "[" + ", ".join(dense(row) for row in a) + "]"


def model(w, b, m):
    n, k = w.shape
    return f'''func.func @forward(%x: tensor<1x{m}x{k}xf32> {{tfm.name = "x"}}) -> (tensor<1x{m}x{n}xf32> {{tfm.name = "y"}}) {{
  %w = tfm.param "w" {{value = dense<{dense(w)}> : tensor<{n}x{k}xf32>}} : tensor<{n}x{k}xf32>
  %b = tfm.param "b" {{value = dense<{dense(b)}> : tensor<{n}xf32>}} : tensor<{n}xf32>
  %y = tfm.linear %x, %w, %b : tensor<1x{m}x{k}xf32>, tensor<{n}x{k}xf32>, tensor<{n}xf32>
  return %y : tensor<1x{m}x{n}xf32>
}}
'''


def quantize_rows(a):
    s = np.abs(a).max(1) / F32(127)
    s[s == 0] = 1
    return np.clip(np.rint(a / s[:, None]), -127, 127).astype(np.int32), s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tmc-w8a8-")
    rng = np.random.default_rng(5)
    failed = 0
    for m, k, n in ((1, 64, 24), (7, 64, 24), (16, 96, 40), (5, 128, 8)):
        w = (rng.standard_normal((n, k)) * 0.1).astype(F32)
        b = (rng.standard_normal(n) * 0.1).astype(F32)
        x = rng.standard_normal((1, m, k)).astype(F32)
        if m > 1:
            x[0, 0] = 0  # an all-zero token: scale 1, codes 0
        path = os.path.join(work, "m.mlir")
        open(path, "w").write(model(w, b, m))
        out = os.path.join(work, "out-%d-%d-%d" % (m, k, n))
        np.save(os.path.join(work, "x.npy"), x)
        subprocess.run([os.path.join(args.bin_dir, "tmc-compile"), path, "-o", out,
                        "--seq-len=%d" % m, "--quantize=w8a8", "--quiet"], check=True)
        subprocess.run([os.path.join(args.bin_dir, "tmc-run"), out, "--input",
                        "x=" + os.path.join(work, "x.npy"), "--output",
                        "y=" + os.path.join(work, "y.npy")], check=True,
                       capture_output=True)
        got = np.load(os.path.join(work, "y.npy"))[0]
        qw, sw = quantize_rows(w)
        qa, sa = quantize_rows(x[0])
        dot = (qa @ qw.T).astype(F32)
        ref = b[None, :] + (dot * sa[:, None]) * sw[None, :]
        err = float(np.abs(got - ref).max() / np.abs(ref).max())
        fp32 = x[0] @ w.T + b
        ok = err <= 1e-6
        failed += not ok
        print("%s m=%d k=%d n=%d: max rel error %.2e (vs fp32 %.2e)" % (
            "PASS" if ok else "FAIL", m, k, n, err,
            float(np.abs(got - fp32).max() / np.abs(fp32).max())))
    shutil.rmtree(work, ignore_errors=True)
    print("w8a8: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
