#!/usr/bin/env python3
"""Numerics of TMC's low-rank factorization (tfm-low-rank) against numpy.

For small gpt2, bert and llama checkpoints (weight_transform_cases.MODELS):

- full rank: `--low-rank=rank:100000 --low-rank-force` factorizes every
  linear layer (the tied LM head too) at full rank; the compiled model must
  equal the Hugging Face reference of the *original* weights within fp32
  rounding (max |tmc - ref| / max |ref| <= 1e-4, as the e2e suite);
- truncated: `--low-rank=rank:8 --low-rank-force` must equal the reference
  run on weights truncated by numpy's own SVD (W_r = U_r S_r V_r^T, unique
  for distinct singular values) within the same tolerance; with
  `--quantize=int8` too, the reference quantizes numpy's factors
  U_r S_r^1/2 and S_r^1/2 V_r^T per row (independent of the vectors' signs)
  and the embedding tables, which int8 quantizes as well;
- per-layer error (gpt2): for ranks 1, 2, 4, ..., 64 the report's
  `rel_error` of each layer is non-increasing in the rank, ~0 at full rank,
  and equals numpy's sqrt(sum_{i>r} s_i^2) / ||W||_F within 1e-5;
- activation-aware: `--low-rank-activation-aware` calibrated on an .npy of
  ids reports, for every layer, an output error on that input no larger
  than the plain SVD's at the same rank (guaranteed by the whitening, see
  docs/LowRank.md), and the compiled model runs.

Usage: test_low_rank.py --bin-dir build/bin [-k REGEX]
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402
from weight_transform_cases import LINEARS, MODELS, run, transformed_reference  # noqa: E402

TOL = 1e-4
SEQ = 7


def truncate(rank):
    def transform(w):
        u, s, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)
        r = min(rank, len(s))
        return ((u[:, :r] * s[:r]) @ vt[:r]).astype(np.float32)
    return transform


class Tracked(np.ndarray):
    """A weight that records the inputs it is multiplied with (x @ W, x @ W.T)."""

    def __array_finalize__(self, obj):
        self.name = getattr(obj, "name", None)
        self.seen = getattr(obj, "seen", None)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [np.asarray(i) if isinstance(i, Tracked) else i for i in inputs]
        if ufunc is np.matmul and len(inputs) == 2 and isinstance(inputs[1], Tracked) \
                and inputs[1].seen is not None:
            x = plain[0]
            inputs[1].seen.setdefault(inputs[1].name, []).append(x.reshape(-1, x.shape[-1]))
        return getattr(ufunc, method)(*plain, **kwargs)


def linear_input_grams(ckpt, ids):
    """Each linear weight's input Gram matrix X^T X on `ids`, from the
    numpy reference forward (independent of TMC's evaluator); weights as
    [out, in] float64."""
    config, tensors = reference.load_checkpoint(ckpt)
    mt = config["model_type"]
    seen, weights = {}, {}
    tensors = dict(tensors)
    for name in list(tensors):
        for pattern, in_out in LINEARS[mt]:
            if re.search(pattern, name):
                w = tensors[name].astype(np.float64)
                weights[name] = w.T if in_out else w
                t = tensors[name].view(Tracked)
                t.name, t.seen = name, seen
                tensors[name] = t
    reference.FORWARDS[mt](config, tensors, ids)
    grams = {}
    for name, xs in seen.items():
        x = np.concatenate(xs).astype(np.float64)
        grams[name] = x.T @ x
    return weights, grams


def expected_output_errors(w, g, r):
    """Relative output errors sqrt(tr(E G E^T) / tr(W G W^T)) of the plain
    rank-r SVD and of the best rank-r approximation under G."""
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    e = w - (u[:, :r] * s[:r]) @ vt[:r]
    den = np.einsum("ij,jk,ik->", w, g, w)
    plain = np.sqrt(max(np.einsum("ij,jk,ik->", e, g, e), 0) / den)
    lam, q = np.linalg.eigh(g)
    root = q * np.sqrt(np.clip(lam, 0, None))        # G = root root^T
    sw = np.linalg.svd(w @ root, compute_uv=False)
    best = np.sqrt((sw[r:] ** 2).sum() / den)
    return plain, best


def int8(w):
    """int8 per output row, symmetric, as docs/Quantization.md defines it."""
    scale = np.abs(w).max(1, keepdims=True) / np.float32(127)
    scale[scale == 0] = 1
    return np.clip(np.rint(w / scale), -127, 127).astype(np.float32) * scale


def truncate_int8(rank):
    """Rank-r factors U = u sqrt(s), V = sqrt(s) v^T, each quantized to int8
    per row; the product does not depend on the singular vectors' signs."""
    def transform(w):
        u, s, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)
        r = min(rank, len(s))
        root = np.sqrt(s[:r])
        uf = (u[:, :r] * root).astype(np.float32)
        vf = (root[:, None] * vt[:r]).astype(np.float32)
        return int8(uf) @ int8(vf)
    return transform


def report_layers(out):
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    for t in report["transforms"]:
        if t["pass"] == "tfm-low-rank":
            return t
    raise RuntimeError("no tfm-low-rank record in report.json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    b = lambda t: os.path.join(args.bin_dir, t)
    gen = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")
    work = tempfile.mkdtemp(prefix="tmc-low-rank-")
    ids = np.random.default_rng(5).integers(0, 96, (1, SEQ)).astype(np.int64)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    calib = np.random.default_rng(6).integers(0, 96, (1, 32)).astype(np.int64)
    calib_path = os.path.join(work, "calib.npy")
    np.save(calib_path, calib)
    failed = total = 0

    def case(name, fn):
        nonlocal failed, total
        if args.k and not re.search(args.k, name):
            return
        total += 1
        try:
            ok, msg = fn()
        except RuntimeError as e:
            ok, msg = False, str(e)
        failed += not ok
        print("%s %-34s %s" % ("PASS" if ok else "FAIL", name, msg), flush=True)

    for mt, gen_args in MODELS.items():
        ckpt = os.path.join(work, mt)
        run([sys.executable, gen, *gen_args, "--seed", "7", ckpt])
        model = os.path.join(work, mt + ".mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        out_name = reference.OUTPUT_NAMES[mt]

        def compile_run(tag, flags, inputs=ids_path):
            out = os.path.join(work, "%s-%s" % (mt, tag))
            run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % SEQ,
                 "--quiet", *flags])
            result = os.path.join(out, "out.npy")
            run([b("tmc-run"), out, "--input", "input_ids=" + inputs,
                 "--output", "%s=%s" % (out_name, result)])
            return out, np.load(result)

        def compare(tag, flags, transform, embeddings=None):
            def fn():
                out, got = compile_run(tag, flags)
                ref = transformed_reference(ckpt, ids, transform, embeddings)
                err = float(np.abs(got - ref).max() / np.abs(ref).max())
                layers = len(report_layers(out)["layers"])
                return err <= TOL, "max rel error %.2e, %d layers factorized" % (err, layers)
            return fn

        case("%s full-rank forced" % mt,
             compare("full", ["--low-rank=rank:100000", "--low-rank-force"],
                     lambda w: w))
        case("%s rank:8 forced" % mt,
             compare("rank8", ["--low-rank=rank:8", "--low-rank-force"], truncate(8)))
        case("%s rank:8 forced, int8 factors" % mt,
             compare("rank8-int8", ["--low-rank=rank:8", "--low-rank-force",
                                    "--quantize=int8"], truncate_int8(8), int8))

        def aware():
            out, got = compile_run("aware", ["--low-rank=rank:8",
                                             "--low-rank-activation-aware",
                                             "--low-rank-calibration=" + calib_path])
            record = report_layers(out)
            worse = [l["name"] for l in record["layers"]
                     if l["output_error"] > l["output_error_plain"] * (1 + 1e-9) + 1e-12]
            ratio = np.mean([l["output_error"] / max(l["output_error_plain"], 1e-30)
                             for l in record["layers"]])
            # The same errors from numpy's forward on the calibration ids.
            weights, grams = linear_input_grams(ckpt, calib)
            dev = 0.0
            for l in record["layers"]:
                plain, best = expected_output_errors(weights[l["name"]], grams[l["name"]],
                                                     l["rank"])
                dev = max(dev, abs(l["output_error_plain"] - plain),
                          abs(l["output_error"] - best))
            ok = record["activation_aware"] and not worse and record["layers"] and \
                np.isfinite(got).all() and dev <= 1e-4
            return ok, "%d layers, mean aware/plain output error %.3f, max |err - numpy| %.1e%s" % (
                len(record["layers"]), ratio, dev, "; worse: %s" % worse if worse else "")
        case("%s activation-aware rank:8" % mt, aware)

        if mt != "gpt2":
            continue

        def monotone():
            config, tensors = reference.load_checkpoint(ckpt)
            weights = {}
            for name, t in tensors.items():
                for pattern, in_out in LINEARS[mt]:
                    if re.search(pattern, name):
                        weights[name] = (t.T if in_out else t).astype(np.float64)
            errors = {}
            for rank in [1, 2, 4, 8, 16, 32, 64]:
                out = os.path.join(work, "%s-mono-%d" % (mt, rank))
                run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % SEQ, "--quiet",
                     "--low-rank=rank:%d" % rank, "--low-rank-force"])
                for layer in report_layers(out)["layers"]:
                    errors.setdefault(layer["name"], []).append(
                        (layer["rank"], layer["rel_error"]))
            problems, max_dev = [], 0.0
            for name, w in weights.items():
                seq = errors.get(name)
                if not seq:
                    problems.append("%s not factorized" % name)
                    continue
                s = np.linalg.svd(w, compute_uv=False)
                for (r, e) in seq:
                    expected = np.sqrt(max((s[r:] ** 2).sum(), 0.0)) / np.sqrt((s ** 2).sum())
                    max_dev = max(max_dev, abs(e - expected))
                errs = [e for _, e in seq]
                if any(b2 > a2 + 1e-7 for a2, b2 in zip(errs, errs[1:])):
                    problems.append("%s not monotone: %s" % (name, errs))
                if seq[-1][0] == min(w.shape) and errs[-1] > 1e-6:
                    problems.append("%s full rank error %.2e" % (name, errs[-1]))
            ok = not problems and max_dev <= 1e-5
            return ok, "%d layers x 7 ranks, max |rel_error - numpy| %.1e%s" % (
                len(weights), max_dev, "; " + "; ".join(problems[:3]) if problems else "")
        case("%s per-layer error vs rank" % mt, monotone)

    shutil.rmtree(work, ignore_errors=True)
    print("low-rank: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
