"""tmc.from_torch: PyTorch modules traced with torch.fx, compiled and run,
checked against the modules' own outputs.

Runs under pytest where PyTorch is installed (skipped otherwise), and as a
script (`/usr/bin/python3 python/tests/test_torch.py`, Debian's PyTorch;
exit status 77 when PyTorch is missing)."""

import math
import sys

import numpy as np

import helpers

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    torch = None
    if __name__ != "__main__":
        import pytest
        pytest.skip("PyTorch is not installed", allow_module_level=True)

import tmc


if torch is not None:
    class Block(nn.Module):
        """A GPT-2 block as minGPT writes it: fused QKV split into heads by
        view/transpose, matmul/softmax attention with a causal buffer."""

        def __init__(self, d, heads, n):
            super().__init__()
            self.n_head = heads
            self.ln_1 = nn.LayerNorm(d)
            self.c_attn = nn.Linear(d, 3 * d)
            self.c_proj = nn.Linear(d, d)
            self.ln_2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.proj = nn.Linear(4 * d, d)
            self.drop = nn.Dropout(0.1)
            self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))

        def attn(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.n_head))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = self.drop(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.drop(self.proj(F.gelu(self.fc(self.ln_2(x)),
                                                  approximate="tanh")))

    class GPT(nn.Module):
        def __init__(self, vocab=67, d=32, heads=4, n=32, layers=2):
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(n, d)
            self.blocks = nn.ModuleList([Block(d, heads, n) for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.lm_head.weight = self.wte.weight  # tied

        def forward(self, input_ids):
            b, t = input_ids.size()
            pos = torch.arange(0, t, dtype=torch.long, device=input_ids.device)
            x = self.wte(input_ids) + self.wpe(pos)
            for block in self.blocks:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    class Encoder(nn.Module):
        """nn.MultiheadAttention, post-norm, a SwiGLU feed-forward, exact
        GELU, and a dict of outputs."""

        def __init__(self, vocab=50, d=32, heads=4):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
            self.norm = nn.LayerNorm(d, eps=1e-6)
            self.gate = nn.Linear(d, 48, bias=False)
            self.up = nn.Linear(d, 48, bias=False)
            self.down = nn.Linear(48, d)
            self.act = nn.GELU()

        def forward(self, input_ids):
            x = self.emb(input_ids)
            a, _ = self.attn(x, x, x, need_weights=False)
            x = self.norm(x + a)
            x = x + self.down(F.silu(self.gate(x)) * self.up(x))
            return {"last_hidden_state": self.act(x)}


def _reset_weights(module, seed):
    # Larger than PyTorch's initial weights, so that attention is sharp and
    # every term of the computation matters to the comparison.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)


def test_gpt_module_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    net = GPT()
    _reset_weights(net, 1)
    ids = torch.randint(0, 67, (1, 12))
    builder = tmc.from_torch(net, ids)
    text = builder.to_mlir()
    assert "causal" in text and text.count("tfm.attention") == 2
    # Traced at 12 tokens, compiled for 12 and for 5 (the sequence stays
    # dynamic in the traced model).
    for seq in (12, 5):
        model = tmc.compile(builder, tmp_path / ("out%d" % seq), seq_len=seq,
                            progress=False).load()
        x = torch.randint(0, 67, (1, seq))
        out = model.run(input_ids=x.numpy())["logits"]
        with torch.no_grad():
            ref = net(x).double().numpy()
        assert helpers.relative_error(out, ref) <= helpers.TOLERANCE


def test_encoder_module_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    net = Encoder()
    _reset_weights(net, 2)
    ids = torch.randint(0, 50, (1, 9))
    builder = tmc.from_torch(net, {"input_ids": ids})
    assert builder.outputs == ["last_hidden_state"]
    model = tmc.compile(builder, tmp_path / "out", seq_len=9, progress=False).load()
    out = model.run(input_ids=ids.numpy())["last_hidden_state"]
    with torch.no_grad():
        ref = net(ids)["last_hidden_state"].double().numpy()
    assert helpers.relative_error(out, ref) <= helpers.TOLERANCE


def _refusal(module, example, expected):
    try:
        tmc.from_torch(module, example)
    except tmc.UnsupportedOperationError as e:
        assert expected in str(e), str(e)
        return
    raise AssertionError("from_torch accepted a model using %s" % expected)


def test_unsupported_operations_are_named():
    class Tanh(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(8, 8)

        def forward(self, x):
            return torch.tanh(self.l(x))

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(8, 8, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    class LastToken(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 8)

        def forward(self, ids):
            return self.emb(ids)[:, -1]

    class Branchy(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    _refusal(Tanh(), torch.zeros(1, 4, 8), "function torch.tanh")
    _refusal(Conv(), torch.zeros(1, 8, 8), "module 'conv' (torch.nn.modules.conv.Conv1d)")
    _refusal(LastToken(), torch.zeros(1, 4, dtype=torch.long), "operator 'getitem'")
    _refusal(Branchy(), torch.zeros(1, 4, 8), "torch.fx cannot trace Branchy")


def test_python_docs_torch_examples(tmp_path):
    blocks = [b for b in helpers.python_blocks(helpers.DOCS / "Python.md")
              if helpers.needs_torch(b)]
    assert blocks, "docs/Python.md has no PyTorch example"
    for block in blocks:
        helpers.run_block(block, tmp_path)


if __name__ == "__main__":
    if torch is None:
        print("SKIP: PyTorch is not installed for %s" % sys.executable)
        sys.exit(helpers.SKIP)
    sys.exit(helpers.run_as_script(globals()))
