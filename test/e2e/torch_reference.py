#!/usr/bin/python3
"""PyTorch (float64, autograd) reference for the Hugging Face forward passes
of reference.py, and the training losses of `tmc-compile --train`.

The forwards are line-for-line the numerics of reference.py (which follows
Hugging Face): gpt2 (GPT2LMHeadModel, Conv1D weights [in, out], tanh gelu,
tied head), bert (BertModel last_hidden_state, erf gelu, gamma/beta
LayerNorm names), llama (LlamaForCausalLM, RMSNorm, rotate_half rope,
grouped-query attention, optionally tied head). Every parameter is a float64
leaf tensor with requires_grad, keyed by the checkpoint's own tensor name, so
torch autograd gives the gradient of any loss with respect to each tensor of
the checkpoint.

Needs PyTorch (Debian's python3-torch: run with /usr/bin/python3) and numpy;
reads checkpoints with reference.py's safetensors reader.

  /usr/bin/python3 test/e2e/torch_reference.py --self-check   # against reference.py
"""

import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402

DTYPE = torch.float64
CheckpointError = reference.CheckpointError


# --------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------

def load_params(ckpt_dir):
    """Returns (config, {checkpoint tensor name: float64 leaf tensor requiring grad})."""
    config, tensors = reference.load_checkpoint(ckpt_dir)
    params = {}
    for name, array in tensors.items():
        t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64)).clone()
        params[name] = t.requires_grad_(True)
    return config, params


class _Weights:
    """Name lookup that tolerates the usual wrapper prefixes, as reference._Weights."""

    def __init__(self, params, prefixes):
        self.p = params
        self.prefixes = prefixes

    def has(self, name):
        return any(p + name in self.p for p in self.prefixes)

    def __call__(self, name):
        for p in self.prefixes:
            if p + name in self.p:
                return self.p[p + name]
        raise CheckpointError("missing tensor %s (tried prefixes %s)"
                              % (name, ", ".join(repr(p) for p in self.prefixes)))


# --------------------------------------------------------------------------
# building blocks (float64)
# --------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased variance, eps inside the sqrt
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + torch.exp(-x))


def relu(x):
    return torch.clamp(x, min=0.0)


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


def split_heads(x, n_heads):
    """[B, S, H*dh] -> [B, H, S, dh]"""
    b, s, d = x.shape
    return x.reshape(b, s, n_heads, d // n_heads).permute(0, 2, 1, 3)


def merge_heads(x):
    """[B, H, S, dh] -> [B, S, H*dh]"""
    b, h, s, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, s, h * dh)


def attention(q, k, v, causal, scale):
    """q, k, v: [B, H, S, dh] (k, v already expanded for grouped-query attention)."""
    scores = torch.einsum("bhqd,bhkd->bhqk", q, k) * scale
    if causal:
        s = q.shape[2]
        future = torch.triu(torch.ones((s, s), dtype=torch.bool), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
    return torch.einsum("bhqk,bhkd->bhqd", torch.softmax(scores, dim=-1), v)


def _ids(ids):
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    return ids[None] if ids.dim() == 1 else ids


# --------------------------------------------------------------------------
# gpt2 (GPT2LMHeadModel) -> logits
# --------------------------------------------------------------------------

def gpt2_forward(config, params, ids):
    W = _Weights(params, ["", "transformer."])
    n_layer = int(config.get("n_layer", 12))
    n_head = int(config.get("n_head", 12))
    eps = float(config.get("layer_norm_epsilon", 1e-5))
    act = _act(config.get("activation_function", "gelu_new"), "gpt2")
    scale_attn = bool(config.get("scale_attn_weights", True))
    by_layer = bool(config.get("scale_attn_by_inverse_layer_idx", False))

    ids = _ids(ids)
    wte = W("wte.weight")
    wpe = W("wpe.weight")
    s = ids.shape[1]
    if s > wpe.shape[0]:
        raise CheckpointError("gpt2: sequence length %d exceeds n_positions %d"
                              % (s, wpe.shape[0]))
    x = wte[ids] + wpe[torch.arange(s)][None]
    dh = x.shape[-1] // n_head
    for i in range(n_layer):
        p = "h.%d." % i
        h = layer_norm(x, W(p + "ln_1.weight"), W(p + "ln_1.bias"), eps)
        qkv = h @ W(p + "attn.c_attn.weight") + W(p + "attn.c_attn.bias")  # Conv1D [in, out]
        q, k, v = torch.split(qkv, qkv.shape[-1] // 3, dim=-1)
        scale = 1.0
        if scale_attn:
            scale /= math.sqrt(dh)
        if by_layer:
            scale /= float(i + 1)
        a = attention(split_heads(q, n_head), split_heads(k, n_head),
                      split_heads(v, n_head), causal=True, scale=scale)
        x = x + (merge_heads(a) @ W(p + "attn.c_proj.weight") + W(p + "attn.c_proj.bias"))
        h = layer_norm(x, W(p + "ln_2.weight"), W(p + "ln_2.bias"), eps)
        h = act(h @ W(p + "mlp.c_fc.weight") + W(p + "mlp.c_fc.bias"))
        x = x + (h @ W(p + "mlp.c_proj.weight") + W(p + "mlp.c_proj.bias"))
    x = layer_norm(x, W("ln_f.weight"), W("ln_f.bias"), eps)
    if bool(config.get("tie_word_embeddings", True)) or "lm_head.weight" not in params:
        head = wte
    else:
        head = params["lm_head.weight"]
    return x @ head.t()


# --------------------------------------------------------------------------
# bert (BertModel) -> last_hidden_state
# --------------------------------------------------------------------------

def bert_forward(config, params, ids):
    W = _Weights(params, ["", "bert."])
    n_layer = int(config.get("num_hidden_layers", 12))
    n_head = int(config.get("num_attention_heads", 12))
    eps = float(config.get("layer_norm_eps", 1e-12))
    act = _act(config.get("hidden_act", "gelu"), "bert")
    pet = config.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise CheckpointError("bert: unsupported position_embedding_type %r" % pet)

    def ln(prefix, x):
        if W.has(prefix + ".weight"):
            return layer_norm(x, W(prefix + ".weight"), W(prefix + ".bias"), eps)
        return layer_norm(x, W(prefix + ".gamma"), W(prefix + ".beta"), eps)

    def dense(prefix, x):  # nn.Linear: weight is [out, in]
        return x @ W(prefix + ".weight").t() + W(prefix + ".bias")

    ids = _ids(ids)
    s = ids.shape[1]
    pos = W("embeddings.position_embeddings.weight")
    if s > pos.shape[0]:
        raise CheckpointError("bert: sequence length %d exceeds max_position_embeddings %d"
                              % (s, pos.shape[0]))
    x = (W("embeddings.word_embeddings.weight")[ids]
         + pos[torch.arange(s)][None]
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
# llama (LlamaForCausalLM) -> logits
# --------------------------------------------------------------------------

def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rope_cos_sin(s, dh, theta):
    cos, sin = reference.rope_cos_sin(s, dh, theta)  # constants: same float64 values
    return torch.from_numpy(cos), torch.from_numpy(sin)


def llama_forward(config, params, ids):
    W = _Weights(params, ["model.", ""])
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

    ids = _ids(ids)
    emb = W("embed_tokens.weight")
    x = emb[ids]
    dh = int(config.get("head_dim") or x.shape[-1] // n_head)
    cos, sin = rope_cos_sin(ids.shape[1], dh, theta)
    group = n_head // n_kv

    def lin(name, x):
        y = x @ W(name + ".weight").t()
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
        # query head j reads key/value head j // group
        k = torch.repeat_interleave(k, group, dim=1)
        v = torch.repeat_interleave(v, group, dim=1)
        a = merge_heads(attention(q, k, v, causal=True, scale=1.0 / math.sqrt(dh)))
        x = x + lin(p + "self_attn.o_proj", a)
        h = rms_norm(x, W(p + "post_attention_layernorm.weight"), eps)
        h = act(lin(p + "mlp.gate_proj", h)) * lin(p + "mlp.up_proj", h)
        x = x + lin(p + "mlp.down_proj", h)
    x = rms_norm(x, W("norm.weight"), eps)
    if bool(config.get("tie_word_embeddings", False)):
        head = emb
    elif "lm_head.weight" in params:
        head = params["lm_head.weight"]
    else:
        raise CheckpointError("llama: lm_head.weight missing and tie_word_embeddings is false")
    return x @ head.t()


FORWARDS = {"gpt2": gpt2_forward, "bert": bert_forward, "llama": llama_forward}
OUTPUT_NAMES = reference.OUTPUT_NAMES


def forward(config, params, ids):
    """The model's output (float64 tensor, in the autograd graph of params)."""
    mt = config.get("model_type")
    if mt not in FORWARDS:
        raise CheckpointError("unsupported model_type %r" % mt)
    return FORWARDS[mt](config, params, ids)


# --------------------------------------------------------------------------
# training losses (the semantics of `tmc-compile --train --loss=...`)
# --------------------------------------------------------------------------

DEFAULT_LOSS = {"gpt2": "cross_entropy", "llama": "cross_entropy", "bert": "mse"}


def cross_entropy(logits, labels):
    """Mean over all B*S positions of -log softmax(logits)[label]; labels are
    the target of each position (not shifted)."""
    v = logits.shape[-1]
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64)).reshape(-1)
    logp = torch.log_softmax(logits.reshape(-1, v), dim=-1)
    return -logp.gather(1, labels[:, None]).mean()


def mse(out, target):
    """Mean over all elements of (out - target)^2."""
    target = torch.as_tensor(np.asarray(target, dtype=np.float64))
    return ((out - target) ** 2).mean()


def kl_div(logits, teacher_logits, temperature=1.0):
    """T^2 * mean over positions of sum_c t * (log t - log s), t = softmax(teacher / T),
    s = softmax(logits / T)."""
    v = logits.shape[-1]
    t_logits = torch.as_tensor(np.asarray(teacher_logits, dtype=np.float64)).reshape(-1, v)
    log_t = torch.log_softmax(t_logits / temperature, dim=-1)
    log_s = torch.log_softmax(logits.reshape(-1, v) / temperature, dim=-1)
    per_row = (log_t.exp() * (log_t - log_s)).sum(-1)
    return per_row.mean() * temperature * temperature


def loss_and_grads(ckpt_dir, ids, loss, loss_input, temperature=1.0):
    """Runs forward + loss + backward in float64. Returns (loss value as
    float, {checkpoint name: gradient as float64 numpy array}) for every
    tensor that the loss depends on (tensors the model does not read, such as
    bert's pooler, are left out)."""
    config, params = load_params(ckpt_dir)
    out = forward(config, params, ids)
    if loss == "cross_entropy":
        value = cross_entropy(out, loss_input)
    elif loss == "mse":
        value = mse(out, loss_input)
    elif loss == "kl_div":
        value = kl_div(out, loss_input, temperature)
    else:
        raise ValueError("unknown loss %r" % loss)
    value.backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in params.items()
             if p.grad is not None}
    return float(value.detach()), grads


# --------------------------------------------------------------------------
# self-check against the numpy reference
# --------------------------------------------------------------------------

def self_check(tmp=None):
    """Builds tiny checkpoints of each family (including the prefixed, legacy
    and tied spellings) and compares this forward with reference.py's float64
    forward, the losses with torch.nn.functional's, and autograd with a
    central difference; returns the largest relative difference seen (the
    finite-difference one scaled by 1e-3, since its own limit is 1e-7)."""
    import importlib.util
    import shutil
    import tempfile
    spec = importlib.util.spec_from_file_location(
        "make_checkpoint",
        os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py"))
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    work = tmp or tempfile.mkdtemp(prefix="tmc-torch-ref-")
    cases = [
        ("gpt2", ["--type", "gpt2", "--layers", "2", "--hidden", "32", "--heads", "4",
                  "--vocab", "37"]),
        ("gpt2-prefixed", ["--type", "gpt2", "--layers", "2", "--hidden", "32",
                           "--heads", "4", "--vocab", "37", "--prefixed"]),
        ("bert", ["--type", "bert", "--layers", "2", "--hidden", "32", "--heads", "4",
                  "--vocab", "41"]),
        ("bert-legacy", ["--type", "bert", "--layers", "2", "--hidden", "32", "--heads",
                         "4", "--vocab", "41", "--prefixed", "--legacy-names"]),
        ("llama-gqa", ["--type", "llama", "--layers", "3", "--hidden", "32", "--heads",
                       "4", "--kv-heads", "2", "--ffn", "80", "--vocab", "43"]),
        ("llama-tied", ["--type", "llama", "--layers", "2", "--hidden", "32", "--heads",
                        "4", "--kv-heads", "1", "--ffn", "80", "--vocab", "43",
                        "--set", "tie_word_embeddings=true",
                        "--set", "rope_theta=500000.0"]),
    ]
    worst = 0.0
    rng = np.random.default_rng(0)
    try:
        for tag, args in cases:
            ckpt = os.path.join(work, tag)
            mc.main(args + [ckpt])
            config, tensors = reference.load_checkpoint(ckpt)
            # x10 weights, as the e2e tests' sharp-attention variants
            for name, t in tensors.items():
                tensors[name] = (10.0 * t).astype(np.float32)
            vocab = int(config["vocab_size"])
            for s in (1, 7, 13):
                ids = rng.integers(0, vocab, size=(1, s), dtype=np.int64)
                ref = reference.FORWARDS[config["model_type"]](config, tensors, ids)
                params = {n: torch.from_numpy(t.astype(np.float64)).requires_grad_(True)
                          for n, t in tensors.items()}
                out = forward(config, params, ids).detach().numpy()
                err = float(np.max(np.abs(out - ref)) / max(np.max(np.abs(ref)), 1e-300))
                worst = max(worst, err)
                print("%-14s S=%-2d max rel diff %.2e" % (tag, s, err))
            # The losses against torch.nn.functional, and autograd against a
            # central difference along one random direction of all parameters.
            s = 7
            ids = rng.integers(0, vocab, size=(1, s), dtype=np.int64)
            params = {n: torch.from_numpy(t.astype(np.float64) / 10.0).requires_grad_(True)
                      for n, t in tensors.items()}
            out = forward(config, params, ids)
            F = torch.nn.functional
            if config["model_type"] == "bert":
                target = rng.standard_normal(tuple(out.shape))
                loss = mse(out, target)
                want = F.mse_loss(out, torch.from_numpy(target))
                lossf = lambda o: mse(o, target)  # noqa: E731
            else:
                labels = rng.integers(0, vocab, size=(1, s))
                teacher = rng.standard_normal(tuple(out.shape)) * 3
                loss = cross_entropy(out, labels)
                want = F.cross_entropy(out.reshape(-1, vocab),
                                       torch.from_numpy(labels.reshape(-1)))
                kl = kl_div(out, teacher, 2.0)
                kl_want = F.kl_div(F.log_softmax(out.reshape(-1, vocab) / 2.0, -1),
                                   F.softmax(torch.from_numpy(teacher).reshape(-1, vocab)
                                             / 2.0, -1), reduction="batchmean") * 4.0
                err = abs(float(kl - kl_want)) / abs(float(kl_want))
                worst = max(worst, err)
                print("%-14s kl_div:2 vs F.kl_div rel diff %.2e" % (tag, err))
                lossf = lambda o: cross_entropy(o, labels)  # noqa: E731
            err = abs(float(loss - want)) / abs(float(want))
            worst = max(worst, err)
            loss.backward()
            direction = {n: torch.from_numpy(rng.standard_normal(tuple(p.shape)))
                         for n, p in params.items()}
            slope = sum(float((p.grad * direction[n]).sum())
                        for n, p in params.items() if p.grad is not None)
            eps = 1e-6
            with torch.no_grad():
                def shifted(sign):
                    q = {n: p + sign * eps * direction[n] for n, p in params.items()}
                    return float(lossf(forward(config, q, ids)))
                numeric = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
            # A central difference is good to about eps^2 (truncation) plus
            # 1e-16 / eps (rounding), i.e. ~1e-10 relative here: limit 1e-7.
            fd = abs(numeric - slope) / max(abs(slope), 1e-12)
            print("%-14s loss vs torch.nn.functional rel diff %.2e; autograd vs "
                  "finite difference %.2e" % (tag, err, fd))
            worst = max(worst, fd * 1e-3)
    finally:
        if tmp is None:
            shutil.rmtree(work, ignore_errors=True)
    return worst


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-check", action="store_true",
                    help="compare with reference.py's forward on tiny checkpoints (<= 1e-10)")
    args = ap.parse_args(argv)
    if not args.self_check:
        ap.print_help()
        return 0
    worst = self_check()
    ok = worst <= 1e-10
    print("torch_reference self-check: worst %.2e (%s, limit 1e-10)"
          % (worst, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
