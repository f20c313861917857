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

It also checks the weight bytes in report.json against the packed sizes.

Usage: test_quantize.py --bin-dir build/bin [-k REGEX]
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
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


# Linear weights per model type: (name regex, stored [in, out]?).
LINEARS = {
    "gpt2": [(r"h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$", True)],
    "bert": [(r"encoder\.layer\.\d+\..*(query|key|value|dense)\.weight$", False)],
    "llama": [(r"layers\.\d+\..*_proj\.weight$", False), (r"^lm_head\.weight$", False)],
}


def quantized_reference(ckpt, ids, spec):
    config, tensors = reference.load_checkpoint(ckpt)
    mt = config["model_type"]
    tensors = dict(tensors)
    for name in list(tensors):
        for pattern, in_out in LINEARS[mt]:
            if re.search(pattern, name):
                w = tensors[name].astype(F32)
                tensors[name] = dequantize(w.T, spec).T if in_out else dequantize(w, spec)
    if mt == "gpt2":
        # The tied LM head is quantized; the embedding lookup is not.
        tensors["lm_head.weight"] = dequantize(tensors["wte.weight"].astype(F32), spec)
        config = dict(config, tie_word_embeddings=False)
    return reference.FORWARDS[mt](config, tensors, ids)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("%s failed (%d): %s%s" % (os.path.basename(cmd[0]), p.returncode,
                                                   p.stdout[-500:], p.stderr[-1500:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    b = lambda t: os.path.join(args.bin_dir, t)
    gen = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")
    work = tempfile.mkdtemp(prefix="tmc-quant-")
    models = {
        "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "64", "--heads", "4",
                 "--vocab", "96"],
        "bert": ["--type", "bert", "--layers", "2", "--hidden", "64", "--heads", "4",
                 "--vocab", "96"],
        "llama": ["--type", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
                  "--kv-heads", "2", "--ffn", "128", "--vocab", "96"],
    }
    schemes = ["int8", "int4:g32", "int4:g64:asym", "int4:g32:f16", "int4:g32:asym:f16",
               "ternary", "binary", "fp16", "bf16"]
    seq = 7
    ids = np.random.default_rng(1).integers(0, 96, (1, seq)).astype(np.int64)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    failed = total = 0
    for mt, gen_args in models.items():
        ckpt = os.path.join(work, mt)
        run([sys.executable, gen, *gen_args, "--seed", "3", ckpt])
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
                     "--quantize=" + spec, "--quiet"])
                result = os.path.join(out, "out.npy")
                run([b("tmc-run"), out, "--input", "input_ids=" + ids_path,
                     "--output", "%s=%s" % (out_name, result)])
                got = np.load(result)
                ref = quantized_reference(ckpt, ids, spec)
                err = float(np.abs(got - ref).max() / np.abs(ref).max())
                report = json.load(open(os.path.join(out, "report.json")))
                t = [x for x in report["transforms"] if x.get("pass") == "tfm-quantize"][0]
                ok = err <= TOL and t["linear_layers"] > 0
                msg = "max rel error %.2e; %d layers, weights %d -> %d bytes (%.2fx)" % (
                    err, t["linear_layers"], t["weight_bytes_before"], t["weight_bytes_after"],
                    t["weight_bytes_before"] / t["weight_bytes_after"])
            except RuntimeError as e:
                ok, msg = False, str(e)
            failed += not ok
            print("%s %-26s %s" % ("PASS" if ok else "FAIL", name, msg))
    shutil.rmtree(work, ignore_errors=True)
    print("quantize: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
