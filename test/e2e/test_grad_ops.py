#!/usr/bin/env python3
"""Numerics of TMC's training ops: losses and the backward ops.

Each case compiles a model holding a few training ops with tmc-compile,
runs it with tmc-run on random inputs and compares every output with an
independent float64 numpy reference: the losses, linear weight gradients,
embedding gradients and concat with direct numpy formulas, and every
gradient of a nonlinear op (loss_grad, the norms, the activations,
attention) with central finite differences of a float64 numpy forward
written here from the op descriptions in TfmOps.td, never from TMC's
lowering. Cross-entropy ids outside [0, C) contribute nothing (documented
in the lowering), embedding ids outside the table likewise.

Tolerance: max|got - ref| / max|ref| <= 1e-4. TMC computes in float32
(a few ulp per reduction over at most a few dozen terms); the float64
finite differences with step 1e-5 have a truncation error ~1e-10.

Usage: test_grad_ops.py --bin-dir build/bin [-k REGEX] [--keep]
"""

import argparse
import math
import os
import re
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_attention import run  # noqa: E402

TOL = 1e-4
STEP = 1e-5


def compile_and_run(bin_dir, work, name, body, args, results, inputs, seq):
    """Compiles `body` as the model's forward function (arguments `args`
    and results `results` are (name, type) pairs) and runs it on `inputs`;
    returns the outputs by name."""
    sig = ", ".join('%%%s: %s {tfm.name = "%s"}' % (n, t, n) for n, t in args)
    res = ", ".join('%s {tfm.name = "%s"}' % (t, n) for n, t in results)
    ret = "return %s : %s" % (", ".join("%" + n for n, _ in results),
                              ", ".join(t for _, t in results))
    model = os.path.join(work, name + ".mlir")
    with open(model, "w") as f:
        f.write("func.func @forward(%s) -> (%s) {\n%s\n  %s\n}\n" % (sig, res, body, ret))
    out = os.path.join(work, name)
    run([os.path.join(bin_dir, "tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
         "--quiet"])
    cmd = [os.path.join(bin_dir, "tmc-run"), out]
    for key, a in inputs.items():
        path = os.path.join(work, "%s-%s.npy" % (name, key))
        np.save(path, a)
        cmd += ["--input", "%s=%s" % (key, path)]
    for key, _ in results:
        cmd += ["--output", "%s=%s" % (key, os.path.join(work, "%s-out-%s.npy" % (name, key)))]
    run(cmd)
    return {key: np.load(os.path.join(work, "%s-out-%s.npy" % (name, key)))
            for key, _ in results}


def fd_grad(f, x):
    """Central finite differences of the scalar f at x (float64)."""
    x = x.astype(np.float64).copy()
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + STEP
        hi = f(x)
        flat[i] = old - STEP
        lo = f(x)
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * STEP)
    return g


def fd_elementwise(f, x):
    """Derivative of an elementwise f at every element of x."""
    x = x.astype(np.float64)
    return (f(x + STEP) - f(x - STEP)) / (2 * STEP)


def check(failures, label, got, ref):
    ref = np.asarray(ref, np.float64)
    got = np.asarray(got, np.float64).reshape(ref.shape)
    err = np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-30)
    ok = err <= TOL
    print("%-44s rel err %.2e %s" % (label, err, "ok" if ok else "FAIL"))
    if not ok:
        failures.append(label)


def tt(shape, dtype="f32"):
    return "tensor<%sx%s>" % ("x".join(str(d) for d in shape), dtype) if shape else \
        "tensor<%s>" % dtype


def dyn(shape, dtype="f32"):
    dims = [str(shape[0]), "?"] + [str(d) for d in shape[2:]]
    return "tensor<%sx%s>" % ("x".join(dims), dtype)


# --- float64 forwards, from the op descriptions -----------------------------

def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def loss_ref(kind, p, t, tau):
    rows = p.size // p.shape[-1]
    if kind == "cross_entropy":
        c = p.shape[-1]
        ls = log_softmax(p).reshape(rows, c)
        ids = t.reshape(rows)
        valid = (ids >= 0) & (ids < c)
        picked = np.where(valid, -ls[np.arange(rows), np.clip(ids, 0, c - 1)], 0.0)
        return picked.sum() / rows
    if kind == "mse":
        return ((p - t) ** 2).mean()
    s, q = log_softmax(p / tau), log_softmax(t / tau)
    return tau * tau * (np.exp(q) * (q - s)).sum() / rows


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def rms_norm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


ERF = np.vectorize(math.erf)
ACTS = {
    "gelu_erf": lambda x: 0.5 * x * (1 + ERF(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                                   (x + 0.044715 * x ** 3))),
    "relu": lambda x: np.maximum(x, 0),
    "silu": lambda x: x / (1 + np.exp(-x)),
}


def attention(q, k, v, heads, kv_heads, causal, window, scale):
    b, sq, _ = q.shape
    sk = k.shape[1]
    d = q.shape[2] // heads
    i = np.arange(sq)[:, None]
    j = np.arange(sk)[None, :]
    keep = np.ones((sq, sk), bool)
    if causal:
        keep &= j <= i + sk - sq
    if window:
        keep &= np.abs(i - j) < window
    out = np.zeros(q.shape)
    for h in range(heads):
        g = h // (heads // kv_heads)
        qh, kh, vh = q[:, :, h * d:(h + 1) * d], k[:, :, g * d:(g + 1) * d], v[:, :, g * d:(g + 1) * d]
        s = np.where(keep, scale * qh @ kh.transpose(0, 2, 1), -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out[:, :, h * d:(h + 1) * d] = p @ vh
    return out


# --- cases ------------------------------------------------------------------

def case_linear(ctx, name, layout, bias):
    rng = np.random.default_rng(1)
    shape_x, shape_dy = (2, 7, 12), (2, 7, 20)
    x = rng.standard_normal(shape_x).astype(np.float32)
    dy = rng.standard_normal(shape_dy).astype(np.float32)
    wshape = (20, 12) if layout == "out_in" else (12, 20)
    results = [("dw", tt(wshape))] + ([("db", tt((20,)))] if bias else [])
    body = "  %%dw%s = tfm.linear_weight_grad %%x, %%dy {layout = #tfm<layout %s>} : %s, %s -> %s" % (
        ", %db" if bias else "", layout, dyn(shape_x), dyn(shape_dy),
        ", ".join(t for _, t in results))
    got = ctx(name, body, [("x", dyn(shape_x)), ("dy", dyn(shape_dy))], results,
              {"x": x, "dy": dy}, 7)
    x64, dy64 = x.reshape(-1, 12).astype(np.float64), dy.reshape(-1, 20).astype(np.float64)
    ref = dy64.T @ x64
    yield name + " weight_grad", got["dw"], ref if layout == "out_in" else ref.T
    if bias:
        yield name + " bias_grad", got["db"], dy64.sum(0)


def case_loss(ctx, name, kind, tau=1.0, id_type="i64"):
    rng = np.random.default_rng(2)
    shape = (2, 5, 11)
    p = (2 * rng.standard_normal(shape)).astype(np.float32)
    if kind == "cross_entropy":
        t = rng.integers(0, shape[-1], shape[:2])
        t[0, 1], t[1, 3] = -1, shape[-1]  # out of range: contribute nothing
        t = t.astype(np.int64 if id_type == "i64" else np.int32)
        ttype = dyn(shape[:2], id_type)
    else:
        t = (2 * rng.standard_normal(shape)).astype(np.float32)
        ttype = dyn(shape)
    attr = " {temperature = %s}" % repr(tau) if tau != 1.0 else ""
    body = ("  %%l = tfm.loss %s %%p, %%t%s : %s, %s -> tensor<1xf32>\n"
            "  %%g = tfm.loss_grad %s %%p, %%t%s : %s, %s") % (
        kind, attr, dyn(shape), ttype, kind, attr, dyn(shape), ttype)
    got = ctx(name, body, [("p", dyn(shape)), ("t", ttype)],
              [("l", "tensor<1xf32>"), ("g", dyn(shape))], {"p": p, "t": t}, 5)
    t64 = t if kind == "cross_entropy" else t.astype(np.float64)
    yield name + " loss", got["l"], [loss_ref(kind, p.astype(np.float64), t64, tau)]
    yield name + " loss_grad", got["g"], fd_grad(lambda v: loss_ref(kind, v, t64, tau), p)


def case_norms(ctx, name):
    rng = np.random.default_rng(3)
    shape = (1, 6, 16)
    x = (rng.standard_normal(shape) + 0.5).astype(np.float32)
    g = rng.standard_normal(16).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    eps = 1e-5
    body = ("  %%dx, %%dg, %%db = tfm.layer_norm_grad %%x, %%g, %%dy {epsilon = 1.0e-5} : %s, tensor<16xf32>\n"
            "  %%rx, %%rg = tfm.rms_norm_grad %%x, %%g, %%dy {epsilon = 1.0e-5} : %s, tensor<16xf32>") % (
        dyn(shape), dyn(shape))
    v16 = "tensor<16xf32>"
    got = ctx(name, body, [("x", dyn(shape)), ("g", v16), ("dy", dyn(shape))],
              [("dx", dyn(shape)), ("dg", v16), ("db", v16), ("rx", dyn(shape)), ("rg", v16)],
              {"x": x, "g": g, "dy": dy}, 6)
    x64, g64, b64, dy64 = (a.astype(np.float64) for a in (x, g, b, dy))
    yield "layer_norm_grad input", got["dx"], fd_grad(
        lambda v: (layer_norm(v, g64, b64, eps) * dy64).sum(), x64)
    yield "layer_norm_grad gamma", got["dg"], fd_grad(
        lambda v: (layer_norm(x64, v, b64, eps) * dy64).sum(), g64)
    yield "layer_norm_grad beta", got["db"], fd_grad(
        lambda v: (layer_norm(x64, g64, v, eps) * dy64).sum(), b64)
    yield "rms_norm_grad input", got["rx"], fd_grad(
        lambda v: (rms_norm(v, g64, eps) * dy64).sum(), x64)
    yield "rms_norm_grad gamma", got["rg"], fd_grad(
        lambda v: (rms_norm(x64, v, eps) * dy64).sum(), g64)


def case_activations(ctx, name):
    rng = np.random.default_rng(4)
    shape = (1, 8, 24)
    x = (2.5 * rng.standard_normal(shape)).astype(np.float32)
    x[np.abs(x) < 1e-3] = 0.5  # keep relu's kink away from the differences
    u = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    t = dyn(shape)
    lines, results = [], []
    for kind in ACTS:
        lines.append("  %%a_%s = tfm.activation_grad %s %%x, %%dy : %s" % (kind, kind, t))
        results.append(("a_" + kind, t))
    for kind in ("gelu_tanh", "silu", "gelu_erf"):
        lines.append("  %%dg_%s, %%du_%s = tfm.gated_activation_grad %s %%x, %%u, %%dy : %s" % (
            kind, kind, kind, t))
        results += [("dg_" + kind, t), ("du_" + kind, t)]
    got = ctx(name, "\n".join(lines), [("x", t), ("u", t), ("dy", t)], results,
              {"x": x, "u": u, "dy": dy}, 8)
    x64, u64, dy64 = (a.astype(np.float64) for a in (x, u, dy))
    for kind, act in ACTS.items():
        yield "activation_grad " + kind, got["a_" + kind], dy64 * fd_elementwise(act, x64)
    for kind in ("gelu_tanh", "silu", "gelu_erf"):
        act = ACTS[kind]
        yield "gated_activation_grad %s gate" % kind, got["dg_" + kind], \
            dy64 * u64 * fd_elementwise(act, x64)
        yield "gated_activation_grad %s up" % kind, got["du_" + kind], dy64 * act(x64)


def case_attention(ctx, name, batch, seq, heads, kv_heads, head_dim, causal, window,
                   scale=None):
    rng = np.random.default_rng(5)
    qf, kf = heads * head_dim, kv_heads * head_dim
    q = rng.standard_normal((batch, seq, qf)).astype(np.float32)
    k = rng.standard_normal((batch, seq, kf)).astype(np.float32)
    v = rng.standard_normal((batch, seq, kf)).astype(np.float32)
    do = rng.standard_normal((batch, seq, qf)).astype(np.float32)
    attrs = ["num_heads = %d" % heads, "num_kv_heads = %d" % kv_heads]
    if causal:
        attrs.append("causal")
    if window:
        attrs.append("sparsity = #tfm.window<size = %d>" % window)
    if scale is not None:
        attrs.append("scale = %r" % scale)
    tq, tk = dyn(q.shape), dyn(k.shape)
    body = "  %%dq, %%dk, %%dv = tfm.attention_grad %%q, %%k, %%v, %%do {%s} : %s, %s, %s" % (
        ", ".join(attrs), tq, tk, tk)
    got = ctx(name, body, [("q", tq), ("k", tk), ("v", tk), ("do", tq)],
              [("dq", tq), ("dk", tk), ("dv", tk)], {"q": q, "k": k, "v": v, "do": do}, seq)
    q64, k64, v64, do64 = (a.astype(np.float64) for a in (q, k, v, do))
    sc = scale if scale is not None else 1 / math.sqrt(head_dim)

    def f(qq, kk, vv):
        return (attention(qq, kk, vv, heads, kv_heads, causal, window, sc) * do64).sum()
    yield name + " dq", got["dq"], fd_grad(lambda a: f(a, k64, v64), q64)
    yield name + " dk", got["dk"], fd_grad(lambda a: f(q64, a, v64), k64)
    yield name + " dv", got["dv"], fd_grad(lambda a: f(q64, k64, a), v64)


def case_embedding(ctx, name, id_type):
    rng = np.random.default_rng(6)
    vocab, dim, shape = 13, 8, (2, 9)
    ids = rng.integers(0, vocab, shape)
    ids[0, 0], ids[0, 4], ids[1, 2] = ids[1, 5], -3, vocab  # a repeat, two out of range
    ids = ids.astype(np.int64 if id_type == "i64" else np.int32)
    dy = rng.standard_normal(shape + (dim,)).astype(np.float32)
    a = rng.standard_normal(shape + (3,)).astype(np.float32)
    # Static shapes: tfm-set-seq-len does not re-infer a dynamic concat.
    tids, tdy, ta, tc = tt(shape, id_type), tt(dy.shape), tt(a.shape), tt(shape + (dim + 3,))
    body = ("  %%t = tfm.embedding_grad %%ids, %%dy : %s, %s -> tensor<%dx%dxf32>\n"
            "  %%c = tfm.concat %%a, %%dy : %s, %s -> %s") % (tids, tdy, vocab, dim, ta, tdy, tc)
    got = ctx(name, body, [("ids", tids), ("dy", tdy), ("a", ta)],
              [("t", "tensor<%dx%dxf32>" % (vocab, dim)), ("c", tc)],
              {"ids": ids, "dy": dy, "a": a}, shape[1])
    ref = np.zeros((vocab, dim))
    for i, row in zip(ids.reshape(-1), dy.reshape(-1, dim).astype(np.float64)):
        if 0 <= i < vocab:
            ref[i] += row
    yield name + " embedding_grad", got["t"], ref
    yield name + " concat", got["c"], np.concatenate([a, dy], -1)


CASES = [
    ("linear_out_in_bias", case_linear, ("out_in", True)),
    ("linear_out_in", case_linear, ("out_in", False)),
    ("linear_in_out_bias", case_linear, ("in_out", True)),
    ("linear_in_out", case_linear, ("in_out", False)),
    ("ce_i64", case_loss, ("cross_entropy", 1.0, "i64")),
    ("ce_i32", case_loss, ("cross_entropy", 1.0, "i32")),
    ("mse", case_loss, ("mse",)),
    ("kl_tau2.5", case_loss, ("kl_div", 2.5)),
    ("kl_tau0.7", case_loss, ("kl_div", 0.7)),
    ("norms", case_norms, ()),
    ("activations", case_activations, ()),
    ("attention_dense_mha", case_attention, (1, 10, 2, 2, 4, False, 0)),
    ("attention_gqa_causal_b2", case_attention, (2, 9, 4, 2, 4, True, 0)),
    ("attention_gqa_window", case_attention, (1, 11, 4, 1, 4, False, 3, 0.3)),
    ("attention_causal_window", case_attention, (1, 10, 2, 1, 8, True, 4)),
    ("embedding_i64", case_embedding, ("i64",)),
    ("embedding_i32", case_embedding, ("i32",)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("-k", default="", help="run only cases matching this regex")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tmc-grad-ops-")
    failures = []
    try:
        def ctx(name, body, sig, results, inputs, seq):
            return compile_and_run(args.bin_dir, work, name, body, sig, results, inputs, seq)
        for name, fn, params in CASES:
            if not re.search(args.k, name):
                continue
            for label, got, ref in fn(ctx, name, *params):
                check(failures, label, got, ref)
    finally:
        if args.keep:
            print("work directory:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("all grad-op checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
