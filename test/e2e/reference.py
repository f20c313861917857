#!/usr/bin/env python3
"""Independent numpy reference for the Hugging Face forward pass.

Reads a checkpoint directory (config.json + model.safetensors) and computes the
output of the corresponding Hugging Face model for integer input ids:

  gpt2   GPT2LMHeadModel       -> logits            [B, S, vocab]
  bert   BertModel             -> last_hidden_state [B, S, hidden]
  llama  LlamaForCausalLM      -> logits            [B, S, vocab]

Everything is computed in float64 and cast to float32 at the end, so the
reference itself contributes no measurable rounding error at the sizes the
tests use. Only numpy is needed.

Usage as a script:
  reference.py CKPT_DIR --input ids.npy --output out.npy
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------

class CheckpointError(Exception):
    """A checkpoint directory that cannot be read or is not understood."""


_ST_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def read_safetensors(path):
    """Returns {name: np.ndarray} (BF16 is widened to float32); ignores __metadata__."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CheckpointError("%s: file too short for a safetensors header" % path)
    (hlen,) = struct.unpack("<Q", data[:8])
    if 8 + hlen > len(data):
        raise CheckpointError("%s: header length %d exceeds file size %d"
                              % (path, hlen, len(data)))
    try:
        header = json.loads(data[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError("%s: bad JSON header: %s" % (path, e))
    body = memoryview(data)[8 + hlen:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        shape = tuple(int(d) for d in info["shape"])
        begin, end = (int(x) for x in info["data_offsets"])
        if not (0 <= begin <= end <= len(body)):
            raise CheckpointError("%s: tensor %s has data_offsets [%d, %d) outside "
                                  "the %d data bytes" % (path, name, begin, end, len(body)))
        raw = body[begin:end]
        count = int(np.prod(shape, dtype=np.int64))
        if dtype == "BF16":
            if end - begin != 2 * count:
                raise CheckpointError("%s: tensor %s: size mismatch" % (path, name))
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32)
        elif dtype in _ST_DTYPES:
            dt = _ST_DTYPES[dtype]
            if end - begin != dt.itemsize * count:
                raise CheckpointError("%s: tensor %s: %d bytes for shape %s of %s"
                                      % (path, name, end - begin, shape, dtype))
            arr = np.frombuffer(raw, dtype=dt)
        else:
            raise CheckpointError("%s: tensor %s: unsupported dtype %s" % (path, name, dtype))
        out[name] = arr.reshape(shape).copy()
    return out


def load_checkpoint(ckpt_dir):
    """Returns (config dict, {name: array as stored}). Reads model.safetensors,
    or the shards listed in model.safetensors.index.json."""
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        config = json.load(f)
    single = os.path.join(ckpt_dir, "model.safetensors")
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(single) or not os.path.exists(index):
        return config, read_safetensors(single)
    with open(index) as f:
        weight_map = json.load(f)["weight_map"]
    tensors = {}
    for shard in sorted(set(weight_map.values())):
        tensors.update(read_safetensors(os.path.join(ckpt_dir, shard)))
    return config, tensors


class _Weights:
    """Name lookup that tolerates the usual wrapper prefixes (transformer., bert., model.)."""

    def __init__(self, tensors, prefixes):
        self.t = tensors
        self.prefixes = prefixes

    def has(self, name):
        return any(p + name in self.t for p in self.prefixes)

    def __call__(self, name):
        for p in self.prefixes:
            if p + name in self.t:
                return self.t[p + name].astype(np.float64)
        raise CheckpointError("missing tensor %s (tried prefixes %s)"
                              % (name, ", ".join(repr(p) for p in self.prefixes)))


# --------------------------------------------------------------------------
# building blocks (float64)
# --------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased variance, eps inside the sqrt
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


_erf = np.vectorize(math.erf, otypes=[np.float64])  # numpy has no erf; math.erf is exact


def gelu_erf(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


_ACTS = {
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_fast": gelu_tanh,
    "gelu": gelu_erf,
    "relu": relu,
    "silu": silu,
    "swish": silu,
}


def _act(name, where):
    if name not in _ACTS:
        raise CheckpointError("%s: unsupported activation %r" % (where, name))
    return _ACTS[name]


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def split_heads(x, n_heads):
    """[B, S, H*dh] -> [B, H, S, dh]"""
    b, s, d = x.shape
    return x.reshape(b, s, n_heads, d // n_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """[B, H, S, dh] -> [B, S, H*dh]"""
    b, h, s, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * dh)


def attention(q, k, v, causal, scale, window=0, sinks=0):
    """q, k, v: [B, H, S, dh] (k, v already expanded for grouped-query attention).
    With causal and window W > 0, query i sees keys i - W < j <= i and the
    first `sinks` keys."""
    scores = np.einsum("bhqd,bhkd->bhqk", q, k) * scale
    if causal:
        s = q.shape[2]
        future = np.triu(np.ones((s, s), dtype=bool), k=1)
        if window:
            old = np.tril(np.ones((s, s), dtype=bool), k=-window)
            old[:, :sinks] = False
            future |= old
        scores = np.where(future, -np.inf, scores)
    return np.einsum("bhqk,bhkd->bhqd", softmax(scores), v)


# --------------------------------------------------------------------------
# gpt2 (GPT2LMHeadModel)
# --------------------------------------------------------------------------

def gpt2_forward(config, tensors, ids, window=0, sinks=0, kv_quant=None):
    W = _Weights(tensors, ["", "transformer."])
    n_layer = int(config.get("n_layer", 12))
    n_head = int(config.get("n_head", 12))
    eps = float(config.get("layer_norm_epsilon", 1e-5))
    act = _act(config.get("activation_function", "gelu_new"), "gpt2")
    scale_attn = bool(config.get("scale_attn_weights", True))
    by_layer = bool(config.get("scale_attn_by_inverse_layer_idx", False))

    wte = W("wte.weight")
    wpe = W("wpe.weight")
    s = ids.shape[1]
    if s > wpe.shape[0]:
        raise CheckpointError("gpt2: sequence length %d exceeds n_positions %d"
                              % (s, wpe.shape[0]))
    x = wte[ids] + wpe[np.arange(s)][None]
    dh = x.shape[-1] // n_head
    for i in range(n_layer):
        p = "h.%d." % i
        h = layer_norm(x, W(p + "ln_1.weight"), W(p + "ln_1.bias"), eps)
        # Conv1D weights are [in, out]: y = x @ W + b
        qkv = h @ W(p + "attn.c_attn.weight") + W(p + "attn.c_attn.bias")
        q, k, v = np.split(qkv, 3, axis=-1)
        scale = 1.0
        if scale_attn:
            scale /= math.sqrt(dh)
        if by_layer:
            scale /= float(i + 1)
        if kv_quant:
            k, v = kv_quant(k, n_head), kv_quant(v, n_head)
        a = attention(split_heads(q, n_head), split_heads(k, n_head),
                      split_heads(v, n_head), causal=True, scale=scale,
                      window=window, sinks=sinks)
        x = x + (merge_heads(a) @ W(p + "attn.c_proj.weight") + W(p + "attn.c_proj.bias"))
        h = layer_norm(x, W(p + "ln_2.weight"), W(p + "ln_2.bias"), eps)
        h = act(h @ W(p + "mlp.c_fc.weight") + W(p + "mlp.c_fc.bias"))
        x = x + (h @ W(p + "mlp.c_proj.weight") + W(p + "mlp.c_proj.bias"))
    x = layer_norm(x, W("ln_f.weight"), W("ln_f.bias"), eps)
    if bool(config.get("tie_word_embeddings", True)) or "lm_head.weight" not in tensors:
        head = wte
    else:
        head = tensors["lm_head.weight"].astype(np.float64)
    return x @ head.T


# --------------------------------------------------------------------------
# bert (BertModel, last_hidden_state)
# --------------------------------------------------------------------------

def bert_forward(config, tensors, ids):
    W = _Weights(tensors, ["", "bert."])
    n_layer = int(config.get("num_hidden_layers", 12))
    n_head = int(config.get("num_attention_heads", 12))
    eps = float(config.get("layer_norm_eps", 1e-12))
    act = _act(config.get("hidden_act", "gelu"), "bert")
    pet = config.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise CheckpointError("bert: unsupported position_embedding_type %r" % pet)

    def ln(prefix, x):
        # Old checkpoints name LayerNorm parameters gamma/beta.
        if W.has(prefix + ".weight"):
            return layer_norm(x, W(prefix + ".weight"), W(prefix + ".bias"), eps)
        return layer_norm(x, W(prefix + ".gamma"), W(prefix + ".beta"), eps)

    def dense(prefix, x):  # nn.Linear: weight is [out, in]
        return x @ W(prefix + ".weight").T + W(prefix + ".bias")

    s = ids.shape[1]
    pos = W("embeddings.position_embeddings.weight")
    if s > pos.shape[0]:
        raise CheckpointError("bert: sequence length %d exceeds max_position_embeddings %d"
                              % (s, pos.shape[0]))
    x = (W("embeddings.word_embeddings.weight")[ids]
         + pos[np.arange(s)][None]
         + W("embeddings.token_type_embeddings.weight")[0][None, None])
    x = ln("embeddings.LayerNorm", x)
    dh = x.shape[-1] // n_head
    for i in range(n_layer):
        p = "encoder.layer.%d." % i
        q = split_heads(dense(p + "attention.self.query", x), n_head)
        k = split_heads(dense(p + "attention.self.key", x), n_head)
        v = split_heads(dense(p + "attention.self.value", x), n_head)
        a = merge_heads(attention(q, k, v, causal=False, scale=1.0 / math.sqrt(dh)))
        x = ln(p + "attention.output.LayerNorm", dense(p + "attention.output.dense", a) + x)
        h = act(dense(p + "intermediate.dense", x))
        x = ln(p + "output.LayerNorm", dense(p + "output.dense", h) + x)
    return x


# --------------------------------------------------------------------------
# llama (LlamaForCausalLM)
# --------------------------------------------------------------------------

def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rope_cos_sin(s, dh, theta):
    inv_freq = theta ** (-np.arange(0, dh, 2, dtype=np.float64) / dh)  # [dh/2]
    freqs = np.outer(np.arange(s, dtype=np.float64), inv_freq)         # [S, dh/2]
    emb = np.concatenate([freqs, freqs], axis=-1)                       # [S, dh]
    return np.cos(emb), np.sin(emb)


def llama_forward(config, tensors, ids, window=0, sinks=0, kv_quant=None):
    W = _Weights(tensors, ["model.", ""])
    n_layer = int(config.get("num_hidden_layers", 32))
    n_head = int(config.get("num_attention_heads", 32))
    n_kv = config.get("num_key_value_heads")
    n_kv = n_head if n_kv is None else int(n_kv)
    eps = float(config.get("rms_norm_eps", 1e-6))
    theta = float(config.get("rope_theta", 10000.0))
    act = _act(config.get("hidden_act", "silu"), "llama")
    if config.get("rope_scaling") is not None:
        raise CheckpointError("llama: rope_scaling is not supported by the reference")
    if n_head % n_kv != 0:
        raise CheckpointError("llama: num_attention_heads %d is not a multiple of "
                              "num_key_value_heads %d" % (n_head, n_kv))

    emb = W("embed_tokens.weight")
    x = emb[ids]
    dh = int(config.get("head_dim") or x.shape[-1] // n_head)
    cos, sin = rope_cos_sin(ids.shape[1], dh, theta)
    group = n_head // n_kv

    def lin(name, x):  # nn.Linear: weight is [out, in]; bias only if present
        y = x @ W(name + ".weight").T
        if W.has(name + ".bias"):
            y = y + W(name + ".bias")
        return y

    for i in range(n_layer):
        p = "layers.%d." % i
        h = rms_norm(x, W(p + "input_layernorm.weight"), eps)
        q = split_heads(lin(p + "self_attn.q_proj", h), n_head)
        k = split_heads(lin(p + "self_attn.k_proj", h), n_kv)
        v = split_heads(lin(p + "self_attn.v_proj", h), n_kv)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if kv_quant:
            k = split_heads(kv_quant(merge_heads(k), n_kv), n_kv)
            v = split_heads(kv_quant(merge_heads(v), n_kv), n_kv)
        # query head j reads key/value head j // group
        k = np.repeat(k, group, axis=1)
        v = np.repeat(v, group, axis=1)
        a = merge_heads(attention(q, k, v, causal=True, scale=1.0 / math.sqrt(dh),
                                  window=window, sinks=sinks))
        x = x + lin(p + "self_attn.o_proj", a)
        h = rms_norm(x, W(p + "post_attention_layernorm.weight"), eps)
        h = act(lin(p + "mlp.gate_proj", h)) * lin(p + "mlp.up_proj", h)
        x = x + lin(p + "mlp.down_proj", h)
    x = rms_norm(x, W("norm.weight"), eps)
    if bool(config.get("tie_word_embeddings", False)):
        head = emb
    elif "lm_head.weight" in tensors:
        head = tensors["lm_head.weight"].astype(np.float64)
    else:
        raise CheckpointError("llama: lm_head.weight missing and tie_word_embeddings is false")
    return x @ head.T


# --------------------------------------------------------------------------

FORWARDS = {"gpt2": gpt2_forward, "bert": bert_forward, "llama": llama_forward}
OUTPUT_NAMES = {"gpt2": "logits", "bert": "last_hidden_state", "llama": "logits"}


def forward(ckpt_dir, ids, dtype=np.float32, **decoder_options):
    """Reference output for int ids of shape [B, S] (or [S]); returns (name, array).
    Decoders (gpt2, llama) also take window=W and sinks=K (sliding-window
    causal attention with attention sinks) and kv_quant=f(x, heads), applied
    to the keys and values ([B, S, heads * dh]) before attention."""
    config, tensors = load_checkpoint(ckpt_dir)
    mt = config.get("model_type")
    if mt not in FORWARDS:
        raise CheckpointError("%s: unsupported model_type %r"
                              % (os.path.join(ckpt_dir, "config.json"), mt))
    ids = np.asarray(ids).astype(np.int64)
    if ids.ndim == 1:
        ids = ids[None]
    out = FORWARDS[mt](config, tensors, ids, **decoder_options)
    return OUTPUT_NAMES[mt], out.astype(dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--input", required=True, help="int64 .npy of input ids [B, S]")
    ap.add_argument("--output", required=True, help=".npy to write")
    ap.add_argument("--float64", action="store_true", help="write float64 instead of float32")
    args = ap.parse_args(argv)
    try:
        ids = np.load(args.input)
        name, out = forward(args.checkpoint, ids,
                            np.float64 if args.float64 else np.float32)
    except (CheckpointError, OSError, ValueError, KeyError) as e:
        print("reference.py: error: %s" % e, file=sys.stderr)
        return 1
    np.save(args.output, out)
    print("%s %s %s" % (name, out.dtype, list(out.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
