"""tmc.ModelBuilder: models written in Python, compiled, run and compared
with a numpy reference of the same equations (test/e2e/reference.py)."""

import math

import numpy as np
import pytest

import helpers
from helpers import reference as R

import tmc


def weights(rng, *shape, scale=0.2):
    return rng.normal(0.0, scale, shape).astype(np.float32)


def test_gpt_like_model(tmp_path):
    """Embeddings, tfm.layer blocks, tied head, fused QKV split, causal
    attention, GELU, layer norms."""
    rng = np.random.default_rng(0)
    vocab, d, heads, layers, ffn = 61, 32, 4, 2, 80
    m = tmc.ModelBuilder("gpt-like", max_positions=32)
    ids = m.input_ids()
    wte = m.param("wte.weight", weights(rng, vocab, d, scale=1.0))
    wpe = weights(rng, 32, d, scale=1.0)
    x = m.embedding(ids, wte) + m.embedding(m.positions(ids), wpe, name="wpe")
    p = []
    for i in range(layers):
        lp = dict(g1=1 + weights(rng, d), b1=weights(rng, d),
                  wqkv=weights(rng, d, 3 * d), bqkv=weights(rng, 3 * d),
                  wo=weights(rng, d, d), bo=weights(rng, d),
                  g2=1 + weights(rng, d), b2=weights(rng, d),
                  w1=weights(rng, ffn, d), b1f=weights(rng, ffn),
                  w2=weights(rng, d, ffn), b2f=weights(rng, d))
        p.append(lp)

        def block(x, lp=lp):
            h = m.layer_norm(x, lp["g1"], lp["b1"], name="ln_1")
            qkv = m.linear(h, lp["wqkv"], lp["bqkv"], layout="in_out", name="c_attn")
            q, k, v = m.split(qkv, [d, d, d])
            a = m.attention(q, k, v, num_heads=heads, causal=True)
            x = x + m.linear(a, lp["wo"], lp["bo"], layout="in_out", name="c_proj")
            h = m.layer_norm(x, lp["g2"], lp["b2"], name="ln_2")
            h = m.gelu(m.linear(h, lp["w1"], lp["b1f"], name="fc"))
            return x + m.linear(h, lp["w2"], lp["b2f"], name="proj")
        x = m.layer("h.%d" % i, block, x)
    gf, bf = 1 + weights(rng, d), weights(rng, d)
    x = m.layer_norm(x, gf, bf, name="ln_f")
    m.output("logits", m.linear(x, wte))
    assert m.inputs == ["input_ids"] and m.outputs == ["logits"]

    seq = 13
    compiled = tmc.compile(m, tmp_path / "out", seq_len=seq, progress=False)
    assert compiled.report["arena_bytes"] > 0
    model = compiled.load()
    assert model.inputs[0].shape == (1, seq)
    ids_np = rng.integers(0, vocab, (1, seq))
    out = model.run(input_ids=ids_np)["logits"]
    assert out.shape == (1, seq, vocab) and out.dtype == np.float32

    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    E = f64(wte.array)
    x = E[ids_np] + f64(wpe)[np.arange(seq)][None]
    dh = d // heads
    for lp in p:
        h = R.layer_norm(x, f64(lp["g1"]), f64(lp["b1"]), 1e-5)
        q, k, v = np.split(h @ f64(lp["wqkv"]) + f64(lp["bqkv"]), 3, axis=-1)
        a = R.attention(R.split_heads(q, heads), R.split_heads(k, heads),
                        R.split_heads(v, heads), causal=True, scale=1 / math.sqrt(dh))
        x = x + R.merge_heads(a) @ f64(lp["wo"]) + f64(lp["bo"])
        h = R.layer_norm(x, f64(lp["g2"]), f64(lp["b2"]), 1e-5)
        h = R.gelu_tanh(h @ f64(lp["w1"]).T + f64(lp["b1f"]))
        x = x + h @ f64(lp["w2"]).T + f64(lp["b2f"])
    ref = R.layer_norm(x, f64(gf), f64(bf), 1e-5) @ E.T
    assert helpers.relative_error(out, ref) <= helpers.TOLERANCE


def test_llama_like_model(tmp_path):
    """RMSNorm, rotary embeddings, grouped-query attention, SwiGLU; a float
    hidden-state input instead of token ids; no layers."""
    rng = np.random.default_rng(1)
    d, heads, kv_heads, ffn = 32, 4, 2, 48
    dh = d // heads
    m = tmc.ModelBuilder("llama-like")
    x_in = m.input("hidden", (1, None, d), "f32")
    g = 1 + weights(rng, d)
    wq, wk, wv = (weights(rng, d, d), weights(rng, kv_heads * dh, d),
                  weights(rng, kv_heads * dh, d))
    wo = weights(rng, d, d)
    wg, wu, wd = weights(rng, ffn, d), weights(rng, ffn, d), weights(rng, d, ffn)
    h = m.rms_norm(x_in, g, eps=1e-6, name="norm")
    q = m.rope(m.linear(h, wq, name="q"), head_dim=dh, theta=500.0)
    k = m.rope(m.linear(h, wk, name="k"), head_dim=dh, theta=500.0)
    v = m.linear(h, wv, name="v")
    x = x_in + m.linear(m.attention(q, k, v, num_heads=heads, num_kv_heads=kv_heads,
                                    causal=True), wo, name="o")
    x = x + m.linear(m.gated_activation("silu", m.linear(x, wg, name="gate"),
                                        m.linear(x, wu, name="up")), wd, name="down")
    m.output("hidden_out", x)

    seq = 9
    model = tmc.compile(m, tmp_path / "out", seq_len=seq, progress=False).load()
    xs = rng.normal(0, 1, (1, seq, d)).astype(np.float32)
    out = model.run(hidden=xs)["hidden_out"]

    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    x = f64(xs)
    h = R.rms_norm(x, f64(g), 1e-6)
    cos, sin = R.rope_cos_sin(seq, dh, 500.0)
    qh = R.split_heads(h @ f64(wq).T, heads)
    kh = R.split_heads(h @ f64(wk).T, kv_heads)
    vh = R.split_heads(h @ f64(wv).T, kv_heads)
    qh = qh * cos + R.rotate_half(qh) * sin
    kh = kh * cos + R.rotate_half(kh) * sin
    group = heads // kv_heads
    a = R.attention(qh, np.repeat(kh, group, axis=1), np.repeat(vh, group, axis=1),
                    causal=True, scale=1 / math.sqrt(dh))
    x = x + R.merge_heads(a) @ f64(wo).T
    ref = x + (R.silu(x @ f64(wg).T) * (x @ f64(wu).T)) @ f64(wd).T
    assert helpers.relative_error(out, ref) <= helpers.TOLERANCE


def test_builder_checks_shapes_as_the_model_is_written():
    m = tmc.ModelBuilder("bad")
    ids = m.input_ids()
    x = m.embedding(ids, np.zeros((10, 8)))
    with pytest.raises(ValueError, match=r"linear 'proj': input has 8 features"):
        m.linear(x, np.zeros((4, 6)), name="proj")
    with pytest.raises(ValueError, match="do not split into 3 heads"):
        m.attention(x, x, x, num_heads=3)
    with pytest.raises(ValueError, match="add: operands of different types"):
        m.add(x, m.linear(x, np.zeros((4, 8))))
    with pytest.raises(ValueError, match="unknown kind 'swish'"):
        m.activation("swish", x)
    with pytest.raises(ValueError, match="outside the current layer"):
        m.layer("h.0", lambda a: a + x, x)
    with pytest.raises(ValueError, match="no outputs"):
        m.to_mlir()
    with pytest.raises(ValueError, match="duplicate parameter name"):
        m.param("embedding_0.weight", np.zeros(3))


def test_unused_ops_are_left_out():
    m = tmc.ModelBuilder("dce")
    ids = m.input_ids()
    x = m.embedding(ids, np.ones((10, 8)), name="wte")
    m.gelu(x)  # unused
    m.output("out", m.relu(x))
    text = m.to_mlir()
    assert "gelu" not in text and "tfm.activation relu" in text
    assert text.count("dense_resource<") == 1
