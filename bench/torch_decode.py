#!/usr/bin/env python3
"""PyTorch peer of the decoding benchmark: a plain cached decoder (GPT-2 or
LLaMA with grouped-query heads) written with torch ops, greedy generation
from the same checkpoint, timed in this process.

Each step appends the new keys and values to preallocated fp32 cache tensors
and attends over the filled part: the textbook KV cache, what Hugging Face's
`use_cache=True` does. Run with Debian's /usr/bin/python3 (python3-torch);
bench/decode_bench.py starts it with OpenBLAS and two threads. Prints one
JSON line: prefill and decode times, tokens per second, the generated ids
and the peak RSS. `--device cuda` runs it on a GPU (tools/gpu-check.sh's
peer for decoding builds).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "e2e"))
import reference  # noqa: E402  (the suite's safetensors reader)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_gpt2 import peak_rss_mib  # noqa: E402

F = torch.nn.functional


class Gpt2:
    def __init__(self, cfg, w, max_tokens, device):
        self.cfg, self.w = cfg, w
        self.d, self.heads = cfg["n_embd"], cfg["n_head"]
        self.dh = self.d // self.heads
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        n = cfg["n_layer"]
        self.k = torch.zeros(n, self.heads, max_tokens, self.dh, device=device)
        self.v = torch.zeros(n, self.heads, max_tokens, self.dh, device=device)

    def step(self, ids, pos):
        w, d, heads, dh = self.w, self.d, self.heads, self.dh
        s = ids.shape[0]
        x = w["wte.weight"][ids] + w["wpe.weight"][pos:pos + s]
        for i in range(self.cfg["n_layer"]):
            p = "h.%d." % i
            h = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], self.eps)
            qkv = torch.addmm(w[p + "attn.c_attn.bias"], h, w[p + "attn.c_attn.weight"])
            q, k, v = (t.view(s, heads, dh).transpose(0, 1) for t in qkv.split(d, dim=-1))
            self.k[i, :, pos:pos + s] = k
            self.v[i, :, pos:pos + s] = v
            o = attend(q, self.k[i, :, :pos + s], self.v[i, :, :pos + s], pos)
            x = x + torch.addmm(w[p + "attn.c_proj.bias"], o.transpose(0, 1).reshape(s, d),
                                w[p + "attn.c_proj.weight"])
            h = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], self.eps)
            f = F.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], h, w[p + "mlp.c_fc.weight"]),
                       approximate="tanh")
            x = x + torch.addmm(w[p + "mlp.c_proj.bias"], f, w[p + "mlp.c_proj.weight"])
        x = F.layer_norm(x[-1:], (d,), w["ln_f.weight"], w["ln_f.bias"], self.eps)
        return (x @ w["wte.weight"].t())[0]


class Llama:
    def __init__(self, cfg, w, max_tokens, device):
        self.cfg = cfg
        self.w = {k[len("model."):] if k.startswith("model.") else k: v for k, v in w.items()}
        self.heads = cfg["num_attention_heads"]
        self.kv = cfg.get("num_key_value_heads") or self.heads
        self.d = cfg["hidden_size"]
        self.dh = self.d // self.heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        theta = cfg.get("rope_theta", 10000.0)
        inv = 1.0 / theta ** (torch.arange(0, self.dh, 2, dtype=torch.float32) / self.dh)
        angles = torch.outer(torch.arange(max_tokens, dtype=torch.float32), inv)
        emb = torch.cat([angles, angles], dim=-1)
        self.cos, self.sin = emb.cos().to(device), emb.sin().to(device)
        n = cfg["num_hidden_layers"]
        self.k = torch.zeros(n, self.kv, max_tokens, self.dh, device=device)
        self.v = torch.zeros(n, self.kv, max_tokens, self.dh, device=device)

    def norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    def rope(self, x, pos):
        s = x.shape[1]
        cos, sin = self.cos[pos:pos + s], self.sin[pos:pos + s]
        half = self.dh // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin

    def step(self, ids, pos):
        w, dh = self.w, self.dh
        s = ids.shape[0]
        x = w["embed_tokens.weight"][ids]
        group = self.heads // self.kv
        for i in range(self.cfg["num_hidden_layers"]):
            p = "layers.%d." % i
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].t()).view(s, self.heads, dh).transpose(0, 1)
            k = (h @ w[p + "self_attn.k_proj.weight"].t()).view(s, self.kv, dh).transpose(0, 1)
            v = (h @ w[p + "self_attn.v_proj.weight"].t()).view(s, self.kv, dh).transpose(0, 1)
            q, k = self.rope(q, pos), self.rope(k, pos)
            self.k[i, :, pos:pos + s] = k
            self.v[i, :, pos:pos + s] = v
            keys = self.k[i, :, :pos + s].repeat_interleave(group, dim=0)
            values = self.v[i, :, :pos + s].repeat_interleave(group, dim=0)
            o = attend(q, keys, values, pos).transpose(0, 1).reshape(s, self.d)
            x = x + o @ w[p + "self_attn.o_proj.weight"].t()
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = F.silu(h @ w[p + "mlp.gate_proj.weight"].t()) * (h @ w[p + "mlp.up_proj.weight"].t())
            x = x + g @ w[p + "mlp.down_proj.weight"].t()
        x = self.norm(x[-1:], w["norm.weight"])
        head = w.get("lm_head.weight", w["embed_tokens.weight"])
        return (x @ head.t())[0]


def attend(q, k, v, pos):
    """q: [H, s, dh] for positions pos.., k, v: [H, pos + s, dh]."""
    s, n = q.shape[1], k.shape[1]
    scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
    if s > 1:
        mask = torch.full((s, n), float("-inf"), device=q.device).triu(pos + 1)
        scores = scores + mask
    return scores.softmax(-1) @ v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--input-ids", required=True, help="prompt ids .npy [1, S]")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg, tensors = reference.load_checkpoint(args.checkpoint)
    w = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in tensors.items()}
    prompt = torch.from_numpy(np.load(args.input_ids).reshape(-1)).to(device)
    total = prompt.shape[0] + args.max_new_tokens
    model = (Gpt2 if cfg["model_type"] == "gpt2" else Llama)(cfg, w, total, device)
    ids = []
    with torch.no_grad():
        t0 = time.perf_counter()
        logits = model.step(prompt, 0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        ids.append(int(logits.argmax()))
        pos = prompt.shape[0]
        while len(ids) < args.max_new_tokens:
            logits = model.step(torch.tensor([ids[-1]], device=device), pos)
            pos += 1
            ids.append(int(logits.argmax()))
        t2 = time.perf_counter()
    steps = len(ids) - 1
    print(json.dumps({
        "prefill_ms": (t1 - t0) * 1e3, "decode_ms": (t2 - t1) * 1e3,
        "prefill_tokens_per_s": prompt.shape[0] / (t1 - t0),
        "decode_tokens_per_s": steps / (t2 - t1) if steps else 0.0,
        "ids": ids, "peak_rss_mib": peak_rss_mib(),
        "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
