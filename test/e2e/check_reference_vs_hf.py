#!/usr/bin/env python3
"""Cross-check test/e2e/reference.py against Hugging Face transformers.

Not part of the regular test suite (it needs torch and transformers, which CI
does not install). On Debian 12:

  apt-get install python3-torch
  /usr/bin/python3 -m pip install --break-system-packages 'transformers==4.36.2' safetensors
  /usr/bin/python3 test/e2e/check_reference_vs_hf.py

Two directions are checked, each in float64 (HF built with float64 as default
dtype, so any difference is a difference of semantics, not of rounding) and in
float32 (what a real HF run gives):

  A. HF builds a randomly initialised model, its parameters are redrawn with a
     larger spread (so every term matters), it writes the checkpoint with
     save_pretrained (HF's own tensor names, prefixes, tied weights), and the
     reference reads that directory.
  B. test/Import/Inputs/make_checkpoint.py writes a checkpoint (the kind the
     end-to-end tests use) and HF loads its tensors by name.

It prints one line per case with the max relative error
max|ref - hf| / max|hf| and exits non-zero if any float64 case exceeds 1e-9 or
any float32 case exceeds 1e-5.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402

MAKE_CHECKPOINT = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")

TOL64 = 1e-9
TOL32 = 1e-5

try:
    import torch
    import transformers
    from transformers import (BertConfig, BertModel, GPT2Config, GPT2LMHeadModel,
                              LlamaConfig, LlamaForCausalLM)
except ImportError as e:  # pragma: no cover
    print("check_reference_vs_hf.py: needs torch and transformers: %s" % e, file=sys.stderr)
    sys.exit(2)


# Configurations for direction A (HF-built models).
HF_CASES = [
    ("gpt2", GPT2Config, GPT2LMHeadModel, dict(
        vocab_size=101, n_positions=64, n_embd=64, n_layer=3, n_head=4)),
    ("gpt2-layer-scaled", GPT2Config, GPT2LMHeadModel, dict(
        vocab_size=97, n_positions=40, n_embd=48, n_layer=2, n_head=2, n_inner=80,
        layer_norm_epsilon=1e-3, scale_attn_by_inverse_layer_idx=True)),
    ("bert", BertConfig, BertModel, dict(
        vocab_size=101, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=128, max_position_embeddings=64, type_vocab_size=2,
        add_pooling_layer=None)),
    ("llama-gqa", LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=101, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=96, max_position_embeddings=64,
        rms_norm_eps=1e-5)),
    ("llama-tied-theta", LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=89, hidden_size=64, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=1, intermediate_size=72, max_position_embeddings=64,
        rope_theta=500000.0, tie_word_embeddings=True)),
]

# Direction B: every checkpoint variant the end-to-end suite uses (same
# arguments, seeds and weight scaling), plus a few other spellings.
import test_e2e  # noqa: E402

MC_CASES = [(test_e2e.variant_name(m, seed, scale), test_e2e.MODELS[m] + extra, seed, scale)
            for m, seed, scale, extra, _ in test_e2e.VARIANTS] + [
    ("bert legacy-names", test_e2e.MODELS["bert"] + ["--legacy-names"], 2, 5.0),
    ("llama mha shards", ["--type", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
                          "--vocab", "100", "--shards", "3"], 3, 5.0),
    ("gpt2 n_inner", ["--type", "gpt2", "--layers", "2", "--hidden", "64", "--heads", "8",
                      "--ffn", "96", "--vocab", "100"], 4, 5.0),
]

SEQ_LENS = [1, 7, 16, 33]
CLASSES = {"gpt2": (GPT2Config, GPT2LMHeadModel), "bert": (BertConfig, BertModel),
           "llama": (LlamaConfig, LlamaForCausalLM)}


def rel_err(out, ref):
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(out - ref)) / max(np.max(np.abs(ref)), 1e-30))


class _TorchWithF64For32:
    """Stands in for the torch module inside modeling_llama: torch.float32 is float64."""
    float32 = torch.float64

    def __getattr__(self, name):
        return getattr(torch, name)


def _llama_float64(model):
    """HF's llama (4.36) computes RMSNorm, the attention softmax, the rotary
    frequencies and the logits in float32 even in a float64 model. For the
    float64 comparison redo those in float64: rebuild the rotary cache from a
    float64 inv_freq here, and (in hf_output) run the module with torch.float32
    mapped to float64 and take the logits from the last hidden state."""
    for mod in model.modules():
        if hasattr(mod, "inv_freq") and hasattr(mod, "_set_cos_sin_cache"):
            inv = 1.0 / (mod.base ** (torch.arange(0, mod.dim, 2, dtype=torch.float64)
                                      / mod.dim))
            mod.register_buffer("inv_freq", inv, persistent=False)
            mod._set_cos_sin_cache(seq_len=mod.max_seq_len_cached, device=inv.device,
                                   dtype=torch.float64)
    model._tmc_float64 = True


def hf_output(model, ids):
    # HF builds masks in the default dtype; make that the model's dtype.
    old = torch.get_default_dtype()
    torch.set_default_dtype(next(model.parameters()).dtype)
    inp = torch.from_numpy(ids)
    try:
        with torch.no_grad():
            if getattr(model, "_tmc_float64", False):
                ml = sys.modules[type(model).__module__]
                saved = ml.torch
                ml.torch = _TorchWithF64For32()
                try:
                    hidden = model.model(input_ids=inp).last_hidden_state
                finally:
                    ml.torch = saved
                return (hidden @ model.lm_head.weight.T).numpy()
            res = model(input_ids=inp)
    finally:
        torch.set_default_dtype(old)
    if hasattr(res, "logits"):
        return res.logits.numpy()
    return res.last_hidden_state.numpy()


def randomize(model, seed):
    """Redraws every parameter: norms around 1, everything else N(0, 0.3^2)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype)
            if "norm" in name.lower() or name.endswith("ln_1.weight") or \
               name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                if name.endswith(".weight"):
                    p.copy_(1.0 + 0.2 * noise)
                else:
                    p.copy_(0.2 * noise)
            else:
                p.copy_(0.3 * noise)


def build_hf(cfg_cls, model_cls, kwargs, dtype):
    kwargs = dict(kwargs)
    kwargs.pop("add_pooling_layer", None)
    cfg = cfg_cls(**kwargs)
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        if model_cls is BertModel:
            model = model_cls(cfg, add_pooling_layer=False)
        else:
            model = model_cls(cfg)
    finally:
        torch.set_default_dtype(old)
    return model.eval()


def direction_a(tmp, results):
    for idx, (label, cfg_cls, model_cls, kwargs) in enumerate(HF_CASES):
        # Build once in float64, write it, and reuse the same numbers for float32.
        m64 = build_hf(cfg_cls, model_cls, kwargs, torch.float64)
        randomize(m64, seed=1234 + idx)
        ckpt = os.path.join(tmp, "hf-" + label)
        m64.save_pretrained(ckpt, safe_serialization=True)
        if model_cls is LlamaForCausalLM:
            _llama_float64(m64)
        m32 = build_hf(cfg_cls, model_cls, kwargs, torch.float32)
        m32.load_state_dict({k: v.float() for k, v in m64.state_dict().items()})
        # save_pretrained writes float64 tensors; the reference reads them as
        # stored, so for the float32 comparison write a float32 copy too.
        ckpt32 = os.path.join(tmp, "hf32-" + label)
        m32.save_pretrained(ckpt32, safe_serialization=True)
        rng = np.random.default_rng(idx)
        for s in SEQ_LENS:
            ids = rng.integers(0, kwargs["vocab_size"], size=(1, s), dtype=np.int64)
            _, ref64 = reference.forward(ckpt, ids, dtype=np.float64)
            e64 = rel_err(ref64, hf_output(m64, ids))
            _, ref32 = reference.forward(ckpt32, ids, dtype=np.float32)
            e32 = rel_err(ref32, hf_output(m32, ids))
            results.append(("A", label, s, e64, e32))


def load_into_hf(ckpt, dtype):
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg_dict = json.load(f)
    cfg_cls, model_cls = CLASSES[cfg_dict["model_type"]]
    kwargs = {k: v for k, v in cfg_dict.items() if k not in ("model_type", "architectures")}
    model = build_hf(cfg_cls, model_cls, kwargs, dtype)
    _, tensors = reference.load_checkpoint(ckpt)
    # As from_pretrained does: legacy LayerNorm names gamma/beta are weight/bias.
    tensors = {re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight",
                      re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", k)): v
               for k, v in tensors.items()}
    target = model.state_dict()
    prefixes = ["", "transformer.", "bert.", "model."]
    state = {}
    for key in target:
        for cand in [key] + [key[len(p):] for p in prefixes if p and key.startswith(p)] + \
                [p + key for p in prefixes if p]:
            if cand in tensors:
                state[key] = torch.from_numpy(tensors[cand].astype(np.float64)).to(dtype)
                break
    missing = [k for k in target if k not in state]
    # Tied output heads are filled by tie_weights(); everything else must be present.
    tied = {"lm_head.weight"}
    really_missing = [k for k in missing if k not in tied]
    if really_missing:
        raise RuntimeError("%s: HF parameters not found in the checkpoint: %s"
                           % (ckpt, ", ".join(really_missing)))
    model.load_state_dict(state, strict=False)
    if "lm_head.weight" in missing:
        if not model.config.tie_word_embeddings:
            raise RuntimeError("%s: lm_head.weight missing and not tied" % ckpt)
        model.tie_weights()
    used = set()
    for key in state:
        for cand in [key] + [key[len(p):] for p in prefixes if p and key.startswith(p)] + \
                [p + key for p in prefixes if p]:
            if cand in tensors:
                used.add(cand)
                break
    unused = sorted(set(tensors) - used)
    return model.eval(), cfg_dict, unused


def direction_b(tmp, results):
    if not os.path.exists(MAKE_CHECKPOINT):
        print("SKIP direction B: %s not found" % os.path.normpath(MAKE_CHECKPOINT))
        return
    for idx, (label, args, seed, scale) in enumerate(MC_CASES):
        ckpt = os.path.join(tmp, "mc-%d" % idx)
        subprocess.run([sys.executable, MAKE_CHECKPOINT] + args + ["--seed", str(seed), ckpt],
                       check=True, stdout=subprocess.DEVNULL)
        if scale != 1.0:
            if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
                rescale_shards(ckpt, scale)
            else:
                test_e2e.rescale_checkpoint(ckpt, scale)
        m64, cfg, unused = load_into_hf(ckpt, torch.float64)
        if isinstance(m64, LlamaForCausalLM):
            _llama_float64(m64)
        m32, _, _ = load_into_hf(ckpt, torch.float32)
        if unused:
            print("note: %s: tensors HF does not use: %s" % (label, ", ".join(unused)))
        rng = np.random.default_rng(100 + idx)
        for s in SEQ_LENS:
            ids = rng.integers(0, cfg["vocab_size"], size=(1, s), dtype=np.int64)
            _, ref64 = reference.forward(ckpt, ids, dtype=np.float64)
            _, ref32 = reference.forward(ckpt, ids, dtype=np.float32)
            e64 = rel_err(ref64, hf_output(m64, ids))
            e32 = rel_err(ref32, hf_output(m32, ids))
            results.append(("B", label, s, e64, e32))


def rescale_shards(ckpt, factor):
    with open(os.path.join(ckpt, "model.safetensors.index.json")) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    for shard in shards:
        # rescale_checkpoint works on model.safetensors; move each shard through it.
        tmp = os.path.join(ckpt, "model.safetensors")
        os.rename(os.path.join(ckpt, shard), tmp)
        test_e2e.rescale_checkpoint(ckpt, factor)
        os.rename(tmp, os.path.join(ckpt, shard))


def main():
    ap = argparse.ArgumentParser(description="Compare reference.py with HF transformers.")
    ap.add_argument("--keep", help="write checkpoints here instead of a temp dir")
    args = ap.parse_args()
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    print("torch %s, transformers %s, numpy %s"
          % (torch.__version__, transformers.__version__, np.__version__))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = args.keep or tmp
        direction_a(tmp, results)
        direction_b(tmp, results)
    bad = 0
    print("%-3s %-24s %4s %12s %12s" % ("dir", "case", "S", "rel64", "rel32"))
    for d, label, s, e64, e32 in results:
        flag = ""
        if e64 > TOL64 or e32 > TOL32:
            flag = "  <-- FAIL"
            bad += 1
        print("%-3s %-24s %4d %12.3e %12.3e%s" % (d, label, s, e64, e32, flag))
    print("max rel error: float64 %.3e, float32 %.3e over %d cases"
          % (max(r[3] for r in results), max(r[4] for r in results), len(results)))
    print("%d passed, %d failed" % (len(results) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
