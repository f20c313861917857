#!/usr/bin/env python3
"""Numerics of TMC's quantized models against a numpy reference of the same
quantization.

For gpt2, bert and llama checkpoints and every weight scheme, the model is
compiled with `tmc-compile --quantize=SCHEME` and run; the reference
quantizes and dequantizes each linear layer's weight in numpy, with the
formulas of docs/Quantization.md written here independently of TMC's
packer, and runs the Hugging Face forward of test/e2e/reference.py on the
dequantized weights. Both sides compute the same function, so they must
agree to fp32 rounding: max |tmc - ref| / max |ref| <= 1e-4 (the kernels
dequantize exactly and accumulate in fp32; observed ~1e-6). The quantization
error itself is measured by bench/quant_bench.py, not here.

It also checks the weight bytes in report.json against the packed sizes,
and that the output error the quantize record reports (`output_rel_l2`,
measured by TMC's reference evaluator on the `--quantize-calibration` ids)
is the relative L2 between the compiled fp32 and quantized models' outputs
on those ids: the two compute the same quantity, up to fp32 rounding of
the outputs (~1e-6 relative, far below the quantization error), so they
agree within 2% of the error plus 1e-5.

Usage: test_quantize.py --bin-dir build/bin [-k REGEX]
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
from weight_transform_cases import MODELS, CHECKPOINT_GEN, run, run_cases  # noqa: E402
import reference  # noqa: E402

TOL = 1e-4
F32 = np.float32


def rnd(x, lo, hi):
    return np.clip(np.rint(x), lo, hi).astype(F32)


def f16(x):
    return np.asarray(x, F32).astype(np.float16).astype(F32)


def bf16(x):
    b = np.asarray(x, F32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return (b.astype(np.uint32) << 16).view(F32)


def dequantize(w, spec):
    """w: [n, k] float32 (rows are output channels)."""
    kind, *opts = spec.split(":")
    if kind == "int8":
        s = np.abs(w).max(1, keepdims=True) / F32(127)
        s[s == 0] = 1
        return rnd(w / s, -127, 127) * s
    if kind == "int4":
        g = 128
        sym, half = True, False
        for o in opts:
            if o.startswith("g"):
                g = int(o[1:])
            elif o == "asym":
                sym = False
            elif o == "f16":
                half = True
        n, k = w.shape
        wg = w.reshape(n, k // g, g)
        if sym:
            s = np.abs(wg).max(2, keepdims=True) / F32(7)
            s[s == 0] = 1
            if half:
                s = f16(s)
            return (rnd(wg / s, -8, 7) * s).reshape(n, k)
        lo, hi = wg.min(2, keepdims=True), wg.max(2, keepdims=True)
        s = np.where(hi > lo, (hi - lo) / F32(15), F32(1)).astype(F32)
        if half:
            s = f16(s)
        z = rnd(-lo / s, 0, 15)
        q = rnd(wg / s + z, 0, 15)
        return ((q - z) * s).reshape(n, k)
    if kind == "ternary":
        s = F32(np.abs(w.astype(np.float64)).mean())
        s = s if s > 0 else F32(1)
        return rnd(w / s, -1, 1) * s
    if kind == "binary":
        s = np.abs(w.astype(np.float64)).mean(1, keepdims=True).astype(F32)
        return np.where(w >= 0, s, -s).astype(F32)
    if kind == "fp16":
        return f16(w)
    if kind == "bf16":
        return bf16(w)
    raise ValueError(spec)


def check_report(out):
    """The quantize record: layers and lookups quantized, the weight bytes."""
    report = json.load(open(os.path.join(out, "report.json")))
    t = [x for x in report["transforms"] if x.get("pass") == "tfm-quantize"][0]
    ok = t["linear_layers"] > 0 and t["embedding_lookups"] > 0
    return ok, "%d layers, %d lookups, weights %d -> %d bytes (%.2fx)" % (
        t["linear_layers"], t["embedding_lookups"], t["weight_bytes_before"],
        t["weight_bytes_after"], t["weight_bytes_before"] / t["weight_bytes_after"])


def check_output_error(bin_dir, name_filter, schemes):
    """The recorded output_rel_l2 against ||q - f|| / ||f|| of the compiled
    quantized (q) and fp32 (f) models on the calibration ids. Returns the
    number of failures."""
    b = lambda t: os.path.join(bin_dir, t)
    work = tempfile.mkdtemp(prefix="tmc-quantize-error-")
    seq = 7
    ids = np.random.default_rng(5).integers(0, 96, (1, seq)).astype(np.int64)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    failed = 0
    for mt in ("gpt2", "llama"):
        ckpt = os.path.join(work, mt)
        run([sys.executable, CHECKPOINT_GEN, *MODELS[mt], "--seed", "3", ckpt])
        model = os.path.join(work, mt + ".mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        out_name = reference.OUTPUT_NAMES[mt]

        def compile_run(spec):
            out = os.path.join(work, "%s-%s" % (mt, re.sub(r"\W", "_", spec)))
            run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
                 "--quantize=" + spec, "--quantize-calibration=" + ids_path, "--quiet"])
            result = os.path.join(out, "out.npy")
            run([b("tmc-run"), out, "--input", "input_ids=" + ids_path,
                 "--output", "%s=%s" % (out_name, result)])
            return out, np.load(result).astype(np.float64)

        _, f = compile_run("none")
        for spec in schemes:
            name = "%s %s output error" % (mt, spec)
            if name_filter and not re.search(name_filter, name):
                continue
            try:
                out, q = compile_run(spec)
                report = json.load(open(os.path.join(out, "report.json")))
                t = [x for x in report["transforms"] if x.get("pass") == "tfm-quantize"][0]
                measured = float(np.linalg.norm(q - f) / np.linalg.norm(f))
                recorded = t["output_rel_l2"]
                layers = [x.get("layer_output_rel_l2") for x in t["parameters"]]
                ok = (abs(recorded - measured) <= 0.02 * measured + 1e-5 and
                      any(x is not None for x in layers))
                msg = "recorded %.4e, measured %.4e" % (recorded, measured)
            except (RuntimeError, KeyError, IndexError) as e:
                ok, msg = False, str(e)
            failed += not ok
            print("%s %-34s %s" % ("PASS" if ok else "FAIL", name, msg))
    shutil.rmtree(work, ignore_errors=True)
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    schemes = ["int8", "int4:g32", "int4:g64:asym", "int4:g32:f16", "int4:g32:asym:f16",
               "ternary", "binary", "fp16", "bf16"]
    failed = run_cases(args.bin_dir, args.k, "quantize", schemes,
                       lambda spec: lambda w: dequantize(w, spec), TOL,
                       checkpoint_seed=3, ids_seed=1, check_report=check_report,
                       embeddings=True)
    failed += check_output_error(args.bin_dir, args.k, ["int8", "int4:g32", "fp16"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
