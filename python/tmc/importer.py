"""Import models into TMC: Hugging Face-style checkpoints (through
tmc-import) and PyTorch modules (traced with torch.fx).

    path = tmc.import_checkpoint("ckpt/")              # a .mlir file
    m = tmc.from_torch(module, torch.tensor([[1, 2, 3]]))   # a ModelBuilder

`from_torch` supports the subset of PyTorch that the tfm dialect expresses
(docs/Python.md lists it): nn.Embedding, nn.Linear, nn.LayerNorm, GELU,
ReLU, SiLU, residual additions, dropout (as the identity, in eval mode),
attention written with matmul/softmax over heads split by view/transpose
(with an optional causal mask), nn.MultiheadAttention (batch_first) and
F.scaled_dot_product_attention where PyTorch has it. Anything else is
refused with an UnsupportedOperationError that names the operation.
PyTorch is imported only when from_torch is called.
"""

import math
import operator
import os
import tempfile

import numpy as np

from tmc import _tools
from tmc.builder import ModelBuilder
from tmc.errors import TmcError, UnsupportedOperationError

__all__ = ["import_checkpoint", "from_torch"]


def import_checkpoint(checkpoint_dir, output=None, *, inline_weights=False,
                      progress=False):
    """Imports a checkpoint directory (config.json + model.safetensors, of
    a gpt2, bert or llama model) with tmc-import and returns the path of
    the model file written: `output` (.mlir text, or bytecode for .mlirbc),
    or model.mlir in a new temporary directory. Without inline_weights the
    module names the safetensors file instead of holding the weights.
    Raises TmcError with tmc-import's message on a bad checkpoint."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    if output is None:
        output = os.path.join(tempfile.mkdtemp(prefix="tmc-import-"), "model.mlir")
    output = os.fspath(output)
    args = [checkpoint_dir, "-o", output]
    if inline_weights:
        args.append("--inline-weights")
    _tools.run_tool("tmc-import", args, progress=progress)
    return output


# --------------------------------------------------------------------------
# PyTorch (torch.fx)
# --------------------------------------------------------------------------

class _Act:
    """A float activation: a tfm value [B, S, F] and how PyTorch sees it.

    view: "plain" ([B, S, F]), "heads" ([B, S, H, dh]), "heads_t"
    ([B, H, S, dh]) or "heads_tT" ([B, H, dh, S]). `activation` remembers
    (kind, input) when the value is an activation's result, for gated units.
    """

    def __init__(self, value, view="plain", heads=None, activation=None):
        self.value = value
        self.view = view
        self.heads = heads
        self.activation = activation


class _Ids:
    def __init__(self, value):
        self.value = value


class _Positions:
    """torch.arange over the sequence (optionally unsqueezed to [1, S])."""

    def __init__(self, offset, batched):
        self.offset = offset
        self.batched = batched


class _Scores:
    """q k^T of an attention (and then its probabilities after softmax)."""

    def __init__(self, q, k, heads, kv_heads, scale=1.0, causal=False, probs=False):
        self.q, self.k, self.heads, self.kv_heads = q, k, heads, kv_heads
        self.scale, self.causal, self.probs = scale, causal, probs

    def with_(self, **changes):
        s = _Scores(self.q, self.k, self.heads, self.kv_heads, self.scale,
                    self.causal, self.probs)
        for k, v in changes.items():
            setattr(s, k, v)
        return s


class _Sym:
    """A shape computation (x.size(), its items, arithmetic on them)."""

    def __init__(self, value):
        self.value = value


class _Const:
    """A tensor that does not depend on the model's inputs (a buffer, a
    mask), with its value for the example input."""

    def __init__(self, value):
        self.value = value


class _Param:
    """A parameter of the module (get_attr of an nn.Parameter)."""

    def __init__(self, name, tensor):
        self.name = name
        self.tensor = tensor


class _Tuple:
    def __init__(self, items):
        self.items = items


def _contains_tensor(torch, value):
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(_contains_tensor(torch, v) for v in value)
    if isinstance(value, dict):
        return any(_contains_tensor(torch, v) for v in value.values())
    return False


def _is_scalar(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _FxImporter:
    def __init__(self, torch, gm, values, builder):
        self.torch = torch
        self.F = torch.nn.functional
        self.gm = gm
        self.values = values
        self.m = builder
        self.env = {}
        self.params = {}  # id(tensor) -> builder Param
        self.ids = None
        self.seq_len = None
        self._setup_tables()

    # ---- helpers -----------------------------------------------------------

    def unsupported(self, node, why=None):
        what = self.describe(node)
        msg = "from_torch: unsupported operation %s (node '%s')" % (what, node.name)
        if why:
            msg += ": " + why
        msg += "; docs/Python.md lists the supported subset"
        raise UnsupportedOperationError(msg)

    def describe(self, node):
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            return "module '%s' (%s.%s)" % (node.target, type(mod).__module__,
                                              type(mod).__name__)
        if node.op == "call_method":
            return "tensor method .%s()" % node.target
        if node.op == "call_function":
            t = node.target
            mod = getattr(t, "__module__", None) or ""
            name = getattr(t, "__name__", repr(t))
            if mod in ("_operator", "operator"):
                return "operator '%s'" % name
            if mod.startswith("torch._C") or not mod:
                mod = "torch"
            return "function %s.%s" % (mod, name)
        return "%s %s" % (node.op, node.target)

    def shape(self, node):
        v = self.values[node]
        return tuple(v.shape) if hasattr(v, "shape") else None

    def param(self, tensor, name):
        """The builder Param for a module parameter (shared when tied)."""
        key = id(tensor)
        if key not in self.params:
            array = tensor.detach().cpu().float().numpy()
            self.params[key] = self.m.param(name, array)
        return self.params[key]

    def arg(self, node, i, name, default=None):
        if len(node.args) > i:
            return node.args[i]
        return node.kwargs.get(name, default)

    def repr_of(self, x):
        """The representation of an fx argument (a node or a constant)."""
        fx = self.torch.fx
        if isinstance(x, fx.Node):
            return self.env[x]
        if isinstance(x, (list, tuple)):
            return type(x)(self.repr_of(i) for i in x)
        return x

    def act(self, node, x, what, view="plain"):
        r = self.repr_of(x)
        if not isinstance(r, _Act):
            self.unsupported(node, "%s must be a float activation of the model" % what)
        if view is not None and r.view != view:
            self.unsupported(node, "%s is a tensor split into heads where a "
                             "[batch, seq, features] tensor is expected" % what)
        return r

    def scalar(self, x):
        r = self.repr_of(x)
        if isinstance(r, _Sym):
            r = r.value
        if isinstance(r, _Const) and r.value.numel() == 1:
            r = r.value.item()
        return float(r) if _is_scalar(r) else None

    # ---- conversion --------------------------------------------------------

    def run(self, output_names):
        for node in self.gm.graph.nodes:
            if node.op == "output":
                self.output(node, output_names)
            else:
                self.env[node] = self.convert(node)

    def convert(self, node):
        torch = self.torch
        if node.op == "placeholder":
            return self.placeholder(node)
        if node.op == "get_attr":
            obj = self.fetch_attr(node.target)
            if isinstance(obj, torch.nn.Parameter):
                return _Param(node.target, obj)
            if isinstance(obj, torch.Tensor):
                return _Const(obj)
            self.unsupported(node, "an attribute that is not a tensor")

        if node.op == "call_function" and node.target is torch.arange:
            return self.fn_arange(node)
        value = self.values.get(node)
        # Shape computations (sizes, devices, dtypes) and tensors that do not
        # depend on the inputs.
        if not _contains_tensor(torch, value):
            return _Sym(value)
        inputs = [self.env[n] for n in node.all_input_nodes]
        if isinstance(value, torch.Tensor) and all(
                isinstance(r, (_Const, _Sym)) for r in inputs):
            return _Const(value)

        if node.op == "call_module":
            return self.call_module(node)
        if node.op == "call_method":
            handler = self.methods.get(node.target)
        else:
            handler = self.functions.get(node.target)
        if handler is None:
            self.unsupported(node)
        return handler(node)

    def fetch_attr(self, target):
        obj = self.gm
        for part in target.split("."):
            obj = getattr(obj, part)
        return obj

    def placeholder(self, node):
        torch = self.torch
        value = self.values[node]
        if not isinstance(value, torch.Tensor):
            self.unsupported(node, "model inputs must be tensors")
        name = node.target
        if value.dtype in (torch.int64, torch.int32) and value.dim() == 2:
            v = self.m.input(name, (value.shape[0], None),
                             "i64" if value.dtype == torch.int64 else "i32")
            if self.ids is None:
                self.ids = v
                self.seq_len = value.shape[1]
            return _Ids(v)
        if value.dtype == torch.float32 and value.dim() == 3:
            if self.seq_len is None:
                self.seq_len = value.shape[1]
            return _Act(self.m.input(name, (value.shape[0], None, value.shape[2]), "f32"))
        self.unsupported(node, "input %r must be int64 ids [batch, seq] or float32 "
                         "[batch, seq, features], got %s %s"
                         % (name, value.dtype, list(value.shape)))

    def output(self, node, output_names):
        result = node.args[0]
        if isinstance(result, dict):
            items = list(result.items())
        elif isinstance(result, (tuple, list)):
            names = list(output_names or ["output_%d" % i for i in range(len(result))])
            if len(names) != len(result):
                raise ValueError("from_torch: %d output names for %d outputs"
                                 % (len(names), len(result)))
            items = list(zip(names, result))
        else:
            names = list(output_names or ["logits"])
            if len(names) != 1:
                raise ValueError("from_torch: %d output names for 1 output" % len(names))
            items = [(names[0], result)]
        for name, x in items:
            r = self.repr_of(x)
            if not isinstance(r, _Act) or r.view != "plain":
                self.unsupported(node, "output %r is not a [batch, seq, features] "
                                 "activation" % name)
            self.m.output(name, r.value)

    # ---- modules -----------------------------------------------------------

    def call_module(self, node):
        nn = self.torch.nn
        mod = self.gm.get_submodule(node.target)
        x = node.args[0] if node.args else None
        if isinstance(mod, nn.Embedding):
            if mod.max_norm is not None:
                self.unsupported(node, "max_norm is not supported")
            return self.embedding(node, x, mod.weight, node.target + ".weight",
                                  mod.num_embeddings)
        if isinstance(mod, nn.Linear):
            a = self.act(node, x, "the input")
            w = self.param(mod.weight, node.target + ".weight")
            b = None if mod.bias is None else self.param(mod.bias, node.target + ".bias")
            return _Act(self.m.linear(a.value, w, b))
        if isinstance(mod, nn.LayerNorm):
            return self.layer_norm(node, x, mod.normalized_shape, mod.weight,
                                   mod.bias, mod.eps, node.target)
        if isinstance(mod, nn.GELU):
            return self.activation(node, x, "gelu_tanh" if mod.approximate == "tanh"
                                   else "gelu_erf")
        if isinstance(mod, nn.ReLU):
            return self.activation(node, x, "relu")
        if isinstance(mod, nn.SiLU):
            return self.activation(node, x, "silu")
        if isinstance(mod, (nn.Dropout, nn.Identity)):
            return self.repr_of(x)
        if isinstance(mod, nn.MultiheadAttention):
            return self.multihead_attention(node, mod)
        self.unsupported(node)

    def embedding(self, node, ids, weight, name, num_embeddings):
        r = self.repr_of(ids)
        if isinstance(r, _Positions):
            if self.ids is None:
                self.unsupported(node, "position ids need an int64 ids input")
            if self.m.max_positions is None or num_embeddings < self.m.max_positions:
                self.m.max_positions = num_embeddings
            ids_value = self.m.positions(self.ids, offset=r.offset)
        elif isinstance(r, _Ids):
            ids_value = r.value
        else:
            self.unsupported(node, "the indices must be the model's ids input or "
                             "torch.arange over the sequence")
        table = self.param(weight, name)
        return _Act(self.m.embedding(ids_value, table))

    def layer_norm(self, node, x, normalized_shape, weight, bias, eps, prefix):
        a = self.act(node, x, "the input")
        shape = tuple(normalized_shape)
        if len(shape) != 1 or shape[0] != a.value.shape[-1]:
            self.unsupported(node, "only normalization over the last dimension")
        n = shape[0]
        g = (self.param(weight, prefix + ".weight") if weight is not None
             else self.m.param(prefix + ".weight", np.ones(n, np.float32)))
        b = (self.param(bias, prefix + ".bias") if bias is not None
             else self.m.param(prefix + ".bias", np.zeros(n, np.float32)))
        return _Act(self.m.layer_norm(a.value, g, b, eps=eps))

    def activation(self, node, x, kind):
        a = self.act(node, x, "the input")
        return _Act(self.m.activation(kind, a.value), activation=(kind, a.value))

    def multihead_attention(self, node, mod):
        torch = self.torch
        if not mod.batch_first:
            self.unsupported(node, "only batch_first=True ([batch, seq, features])")
        q, k, v = (self.arg(node, i, n) for i, n in enumerate(("query", "key", "value")))
        if not (q is k is v):
            self.unsupported(node, "only self-attention (query, key and value the "
                             "same tensor)")
        if self.arg(node, 4, "key_padding_mask") is not None:
            self.unsupported(node, "key_padding_mask is not supported")
        if mod.bias_k is not None or mod.add_zero_attn:
            self.unsupported(node, "add_bias_kv and add_zero_attn are not supported")
        if not mod._qkv_same_embed_dim:
            self.unsupported(node, "kdim/vdim different from embed_dim")
        causal = False
        mask = self.arg(node, 6, "attn_mask")
        if mask is not None:
            causal = self.causal_mask(node, self.repr_of(mask))
        a = self.act(node, q, "the input")
        d = mod.embed_dim
        w = self.param(mod.in_proj_weight, node.target + ".in_proj_weight")
        b = (None if mod.in_proj_bias is None
             else self.param(mod.in_proj_bias, node.target + ".in_proj_bias"))
        qkv = self.m.linear(a.value, w, b)
        qv, kv, vv = self.m.split(qkv, [d, d, d])
        heads = mod.num_heads
        o = self.m.attention(qv, kv, vv, num_heads=heads, causal=causal,
                             scale=1.0 / math.sqrt(d // heads))
        ow = self.param(mod.out_proj.weight, node.target + ".out_proj.weight")
        ob = (None if mod.out_proj.bias is None
              else self.param(mod.out_proj.bias, node.target + ".out_proj.bias"))
        return _Tuple([_Act(self.m.linear(o, ow, ob)), _Const(torch.zeros(0))])

    # ---- functions and methods ---------------------------------------------

    def _setup_tables(self):
        torch, F = self.torch, self.F
        f = {}

        def add(targets, handler):
            for t in targets:
                if t is not None:
                    f[t] = handler
        add([operator.add, torch.add, operator.iadd], self.fn_add)
        add([operator.mul, torch.mul], self.fn_mul)
        add([operator.truediv, torch.div], self.fn_div)
        add([operator.matmul, torch.matmul, torch.bmm], self.fn_matmul)
        add([torch.softmax, F.softmax], self.fn_softmax)
        add([F.gelu], lambda n: self.activation(
            n, n.args[0], "gelu_tanh" if self.arg(n, 1, "approximate", "none") == "tanh"
            else "gelu_erf"))
        add([F.relu, torch.relu], lambda n: self.activation(n, n.args[0], "relu"))
        add([F.silu], lambda n: self.activation(n, n.args[0], "silu"))
        add([F.dropout, torch.dropout], lambda n: self.repr_of(n.args[0]))
        add([F.linear], self.fn_linear)
        add([F.layer_norm], lambda n: self.layer_norm(
            n, n.args[0], self.arg(n, 1, "normalized_shape"),
            self.weight_tensor(n, self.arg(n, 2, "weight")),
            self.weight_tensor(n, self.arg(n, 3, "bias")),
            self.arg(n, 4, "eps", 1e-5), n.name))
        add([F.embedding], self.fn_embedding)
        add([torch.arange], self.fn_arange)
        add([torch.transpose], self.fn_transpose)
        add([torch.permute], self.fn_permute)
        add([torch.reshape], self.fn_view)
        add([torch.split], self.fn_split)
        add([torch.chunk], self.fn_chunk)
        add([torch.unsqueeze], self.fn_unsqueeze)
        add([operator.getitem], self.fn_getitem)
        add([getattr(F, "scaled_dot_product_attention", None)], self.fn_sdpa)
        self.functions = f
        self.methods = {
            "view": self.fn_view, "reshape": self.fn_view,
            "transpose": self.fn_transpose, "permute": self.fn_permute,
            "contiguous": self.identity, "float": self.identity,
            "type_as": self.identity, "to": self.fn_to,
            "split": self.fn_split, "chunk": self.fn_chunk,
            "softmax": self.fn_softmax, "masked_fill": self.fn_masked_fill,
            "unsqueeze": self.fn_unsqueeze,
            "relu": lambda n: self.activation(n, n.args[0], "relu"),
            "add": self.fn_add, "mul": self.fn_mul, "div": self.fn_div,
            "matmul": self.fn_matmul,
        }

    def identity(self, node):
        return self.repr_of(node.args[0])

    def fn_to(self, node):
        value = self.values[node]
        if isinstance(value, self.torch.Tensor) and value.dtype != self.torch.float32:
            self.unsupported(node, "conversion to %s" % value.dtype)
        return self.repr_of(node.args[0])

    def weight_tensor(self, node, x):
        if x is None:
            return None
        r = self.repr_of(x)
        if not isinstance(r, _Param):
            self.unsupported(node, "weights must be parameters of the module")
        return r.tensor

    def fn_linear(self, node):
        a = self.act(node, node.args[0], "the input")
        w = self.repr_of(self.arg(node, 1, "weight"))
        b = self.repr_of(self.arg(node, 2, "bias"))
        if not isinstance(w, _Param) or (b is not None and not isinstance(b, _Param)):
            self.unsupported(node, "weights must be parameters of the module")
        return _Act(self.m.linear(a.value, self.param(w.tensor, w.name),
                                  None if b is None else self.param(b.tensor, b.name)))

    def fn_embedding(self, node):
        w = self.repr_of(self.arg(node, 1, "weight"))
        if not isinstance(w, _Param):
            self.unsupported(node, "the table must be a parameter of the module")
        return self.embedding(node, node.args[0], w.tensor, w.name, w.tensor.shape[0])

    def fn_add(self, node):
        a, b = (self.repr_of(x) for x in node.args[:2])
        if isinstance(b, _Scores):
            a, b = b, a
        if isinstance(a, _Scores) and isinstance(b, _Const) and not a.probs:
            if not self.is_causal_additive(b.value):
                self.unsupported(node, "only a causal mask (-inf above the "
                                 "diagonal, 0 elsewhere) can be added to scores")
            return a.with_(causal=True)
        if isinstance(a, _Act) and isinstance(b, _Act):
            if a.view != "plain" or b.view != "plain":
                self.unsupported(node, "addition of tensors split into heads")
            if a.value.type != b.value.type:
                self.unsupported(node, "addition of %s and %s (no broadcasting)"
                                 % (a.value.type, b.value.type))
            return _Act(self.m.add(a.value, b.value))
        self.unsupported(node, "only residual additions of two activations and "
                         "causal masks added to attention scores")

    def fn_mul(self, node):
        a, b = (self.repr_of(x) for x in node.args[:2])
        if isinstance(b, _Scores):
            a, b = b, a
            node_args = (node.args[1], node.args[0])
        else:
            node_args = node.args
        if isinstance(a, _Scores) and not a.probs:
            c = self.scalar(node_args[1])
            if c is None:
                self.unsupported(node, "scores can only be scaled by a number")
            return a.with_(scale=a.scale * c)
        if isinstance(a, _Act) and isinstance(b, _Act):
            for gate, up in ((a, b), (b, a)):
                if gate.activation is not None and up.view == "plain":
                    kind, gate_input = gate.activation
                    if gate_input.type == up.value.type:
                        return _Act(self.m.gated_activation(kind, gate_input, up.value))
            self.unsupported(node, "only act(gate) * up (a gated unit) multiplies "
                             "two activations")
        self.unsupported(node, "only attention scores times a number and gated "
                         "units")

    def fn_div(self, node):
        a = self.repr_of(node.args[0])
        c = self.scalar(node.args[1])
        if isinstance(a, _Scores) and not a.probs and c:
            return a.with_(scale=a.scale / c)
        self.unsupported(node, "only attention scores divided by a number")

    def fn_matmul(self, node):
        a, b = (self.repr_of(x) for x in node.args[:2])
        if isinstance(a, _Act) and isinstance(b, _Act):
            if a.view == "heads_t" and b.view == "heads_tT":
                if a.value.shape[-1] // a.heads != b.value.shape[-1] // b.heads:
                    self.unsupported(node, "query and key head sizes differ")
                return _Scores(a.value, b.value, a.heads, b.heads)
        if isinstance(a, _Scores) and a.probs and isinstance(b, _Act) \
                and b.view == "heads_t":
            return self.emit_attention(node, a, b.value, b.heads)
        if isinstance(a, _Act) and a.view == "plain" and isinstance(b, _Param) \
                and b.tensor.dim() == 2:
            return _Act(self.m.linear(a.value, self.param(b.tensor, b.name),
                                      layout="in_out"))
        self.unsupported(node, "matmul is supported for attention (q @ k^T, "
                         "softmax(...) @ v over heads) and activation @ parameter")

    def emit_attention(self, node, scores, v, v_heads):
        if v_heads != scores.kv_heads:
            self.unsupported(node, "keys and values have different head counts")
        if scores.heads != scores.kv_heads:
            self.unsupported(node, "query and key head counts differ")
        out = self.m.attention(scores.q, scores.k, v, num_heads=scores.heads,
                               num_kv_heads=scores.kv_heads, causal=scores.causal,
                               scale=scores.scale)
        return _Act(out, "heads_t", scores.heads)

    def fn_softmax(self, node):
        a = self.repr_of(node.args[0])
        dim = self.arg(node, 1, "dim")
        if isinstance(a, _Scores) and not a.probs and dim in (-1, 3):
            return a.with_(probs=True)
        self.unsupported(node, "softmax is supported over the keys of attention "
                         "scores (q @ k^T)")

    def fn_masked_fill(self, node):
        a = self.repr_of(node.args[0])
        mask = self.repr_of(node.args[1])
        fill = self.scalar(node.args[2])
        if isinstance(a, _Scores) and not a.probs and isinstance(mask, _Const) \
                and fill is not None and (fill == -math.inf or fill <= -1e9):
            if self.is_causal_bool(mask.value):
                return a.with_(causal=True)
        self.unsupported(node, "masked_fill is supported for a causal mask of "
                         "attention scores filled with -inf")

    def causal_mask(self, node, r):
        if isinstance(r, _Const) and (self.is_causal_bool(r.value)
                                      or self.is_causal_additive(r.value)):
            return True
        self.unsupported(node, "only a causal attn_mask")

    def _future(self, shape):
        s = shape[-1]
        return np.triu(np.ones((s, s), dtype=bool), k=1)

    def is_causal_bool(self, t):
        if t.dtype != self.torch.bool or t.dim() < 2 or t.shape[-1] != t.shape[-2]:
            return False
        m = t.cpu().numpy().reshape(-1, t.shape[-2], t.shape[-1])
        return bool((m == self._future(t.shape)).all())

    def is_causal_additive(self, t):
        if not t.is_floating_point() or t.dim() < 2 or t.shape[-1] != t.shape[-2]:
            return False
        m = t.cpu().double().numpy().reshape(-1, t.shape[-2], t.shape[-1])
        future = self._future(t.shape)
        return bool(((m <= -1e9) == future).all() and (m[:, ~future] == 0).all())

    def fn_sdpa(self, node):
        q, k, v = (self.repr_of(self.arg(node, i, n))
                   for i, n in enumerate(("query", "key", "value")))
        if not all(isinstance(t, _Act) and t.view == "heads_t" for t in (q, k, v)):
            self.unsupported(node, "query, key and value must be [batch, heads, seq, "
                             "head_dim] views of activations")
        if self.arg(node, 3, "attn_mask") is not None:
            self.unsupported(node, "attn_mask is not supported (use is_causal)")
        causal = bool(self.arg(node, 5, "is_causal", False))
        scale = node.kwargs.get("scale")
        if scale is None:
            scale = 1.0 / math.sqrt(q.value.shape[-1] // q.heads)
        scores = _Scores(q.value, k.value, q.heads, k.heads, scale, causal, True)
        return self.emit_attention(node, scores, v.value, v.heads)

    def fn_arange(self, node):
        value = self.values[node]
        if self.ids is None or value.dim() != 1 or value.shape[0] != self.seq_len:
            self.unsupported(node, "only torch.arange over the sequence of the ids")
        start = int(value[0]) if value.numel() else 0
        if not bool((value == self.torch.arange(start, start + self.seq_len)).all()):
            self.unsupported(node, "only torch.arange(start, start + seq) with step 1")
        return _Positions(start, batched=False)

    def fn_unsqueeze(self, node):
        a = self.repr_of(node.args[0])
        dim = self.arg(node, 1, "dim")
        if isinstance(a, _Positions) and not a.batched and dim == 0:
            return _Positions(a.offset, batched=True)
        self.unsupported(node, "unsqueeze is supported for torch.arange position ids")

    def dims(self, node, first):
        rest = node.args[first:]
        if len(rest) == 1 and isinstance(rest[0], (tuple, list)):
            rest = rest[0]
        return [r.value if isinstance(r, _Sym) else r
                for r in (self.repr_of(x) for x in rest)]

    def fn_view(self, node):
        a = self.act(node, node.args[0], "the input", view=None)
        src = self.shape(node.args[0])
        dst = self.shape(node)
        if src == dst:
            return a
        if a.view == "plain" and len(src) == 3 and len(dst) == 4 \
                and dst[:2] == src[:2] and dst[2] * dst[3] == src[2]:
            return _Act(a.value, "heads", dst[2])
        if a.view == "heads" and len(src) == 4 and len(dst) == 3 \
                and dst[:2] == src[:2] and dst[2] == src[2] * src[3]:
            return _Act(a.value)
        self.unsupported(node, "reshaping %s to %s (only splitting the features "
                         "into heads and merging them back)" % (list(src), list(dst)))

    _SWAPS = {("heads", (1, 2)): "heads_t", ("heads_t", (1, 2)): "heads",
              ("heads_t", (2, 3)): "heads_tT", ("heads_tT", (2, 3)): "heads_t"}
    _PERMUTES = {("heads", (0, 2, 1, 3)): "heads_t", ("heads_t", (0, 2, 1, 3)): "heads",
                 ("heads", (0, 2, 3, 1)): "heads_tT"}

    def fn_transpose(self, node):
        a = self.act(node, node.args[0], "the input", view=None)
        d0, d1 = (self.repr_of(self.arg(node, i, n)) for i, n in ((1, "dim0"), (2, "dim1")))
        rank = len(self.shape(node.args[0]))
        pair = tuple(sorted((d0 % rank, d1 % rank)))
        view = self._SWAPS.get((a.view, pair))
        if view is None:
            self.unsupported(node, "transposing dimensions %s of a %s tensor"
                             % (pair, a.view))
        return _Act(a.value, view, a.heads)

    def fn_permute(self, node):
        a = self.act(node, node.args[0], "the input", view=None)
        perm = tuple(d % 4 for d in self.dims(node, 1))
        view = self._PERMUTES.get((a.view, perm))
        if view is None:
            self.unsupported(node, "permuting a %s tensor by %s" % (a.view, perm))
        return _Act(a.value, view, a.heads)

    def last_dim(self, node, dim):
        rank = len(self.shape(node.args[0]))
        if dim is None or dim % rank != rank - 1:
            self.unsupported(node, "only splitting the last dimension")

    def fn_split(self, node):
        a = self.act(node, node.args[0], "the input")
        size = self.repr_of(self.arg(node, 1, "split_size_or_sections"))
        if size is None:
            size = self.repr_of(self.arg(node, 1, "split_size"))
        dim = self.arg(node, 2, "dim", 0)
        self.last_dim(node, dim)
        total = a.value.shape[-1]
        if isinstance(size, _Sym):
            size = size.value
        if isinstance(size, int):
            sizes = [size] * (total // size) + ([total % size] if total % size else [])
        else:
            sizes = [s.value if isinstance(s, _Sym) else s for s in size]
        return _Tuple([_Act(v) for v in self.m.split(a.value, sizes)])

    def fn_chunk(self, node):
        a = self.act(node, node.args[0], "the input")
        chunks = self.repr_of(self.arg(node, 1, "chunks"))
        dim = self.arg(node, 2, "dim", 0)
        self.last_dim(node, dim)
        total = a.value.shape[-1]
        if total % chunks:
            self.unsupported(node, "chunks of unequal size")
        return _Tuple([_Act(v) for v in self.m.split(a.value, [total // chunks] * chunks)])

    def fn_getitem(self, node):
        a = self.repr_of(node.args[0])
        if isinstance(a, _Tuple) and isinstance(node.args[1], int):
            return a.items[node.args[1]]
        self.unsupported(node, "indexing or slicing an activation")


_VALUE = "tmc_value"
_FACTORIES = ("arange", "ones", "zeros", "full", "empty")


def _forward_argument_names(module):
    import inspect
    params = inspect.signature(module.forward).parameters.values()
    names = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError("from_torch: forward(*args, **kwargs) cannot be traced; "
                             "name the arguments")
        names.append(p.name)
    return names


def _concrete_tracer(torch):
    """A torch.fx tracer that also runs every op on the example inputs and
    keeps the value in node.meta: shapes are then known everywhere, and
    `B, S, D = x.size()` can be traced (plain symbolic tracing cannot
    iterate a proxy)."""
    fx = torch.fx

    class ConcreteTracer(fx.Tracer):
        def __init__(self, example_args):
            super().__init__()
            self.example_args = list(example_args)
            self.placeholders = 0
            # True while a leaf module runs on concrete values: it is not
            # traced into the graph.
            self.concrete = False
            self.buffer_proxies = {}

        def call_module(self, m, forward, args, kwargs):
            if self.concrete:
                return forward(*args, **kwargs)
            return super().call_module(m, forward, args, kwargs)

        def getattr(self, attr, attr_val, parameter_proxy_cache):
            if self.concrete:
                return attr_val
            # Buffers (masks) become graph nodes too, so that slicing them
            # by a traced length can be traced.
            if isinstance(attr_val, torch.Tensor) and \
                    not isinstance(attr_val, torch.nn.Parameter):
                for name, buffer in self.root.named_buffers():
                    if buffer is attr_val:
                        if name not in self.buffer_proxies:
                            self.buffer_proxies[name] = self.create_proxy(
                                "get_attr", name, (), {})
                        return self.buffer_proxies[name]
            return super().getattr(attr, attr_val, parameter_proxy_cache)

        def create_proxy(self, kind, target, args, kwargs, name=None,
                         type_expr=None, proxy_factory_fn=None):
            proxy = super().create_proxy(kind, target, args, kwargs, name,
                                         type_expr, proxy_factory_fn)
            node = proxy.node
            a = fx.node.map_arg(node.args, self.value_of)
            k = fx.node.map_arg(node.kwargs, self.value_of)
            if kind == "placeholder":
                if self.placeholders >= len(self.example_args):
                    raise ValueError("from_torch: not enough example inputs")
                value = self.example_args[self.placeholders]
                self.placeholders += 1
            elif kind == "get_attr":
                value = self.attribute(target)
            elif kind == "call_function":
                value = target(*a, **k)
            elif kind == "call_method":
                value = getattr(a[0], target)(*a[1:], **k)
            elif kind == "call_module":
                self.concrete = True
                try:
                    value = self.root.get_submodule(target)(*a, **k)
                finally:
                    self.concrete = False
            else:
                value = None
            node.meta[_VALUE] = value
            return proxy

        def attribute(self, target):
            saved, self.concrete = self.concrete, True
            try:
                value = self.root
                for part in target.split("."):
                    value = getattr(value, part)
                return value
            finally:
                self.concrete = saved

        def value_of(self, node):
            if _VALUE not in node.meta:
                # Parameters passed as arguments become get_attr nodes
                # without a proxy.
                if node.op != "get_attr":
                    raise ValueError("from_torch: no value for node %s" % node.name)
                node.meta[_VALUE] = self.attribute(node.target)
            return node.meta[_VALUE]

        def trace(self, root, concrete_args=None):
            # Tensor factories called with a traced size (torch.arange(S))
            # reject proxies before PyTorch's dispatch sees them: record
            # them as graph nodes instead.
            originals = {}

            def wrap(name, fn):
                def wrapper(*args, **kwargs):
                    found = []
                    fx.node.map_aggregate((args, kwargs), lambda x: found.append(x)
                                          if isinstance(x, fx.Proxy) else None)
                    if found:
                        return self.create_proxy("call_function", fn, args, kwargs)
                    return fn(*args, **kwargs)
                return wrapper

            for name in _FACTORIES:
                originals[name] = getattr(torch, name)
                setattr(torch, name, wrap(name, originals[name]))
            # Unpacking a proxy (`q, k, v = x.split(...)`, `B, T, C =
            # x.shape`) goes through the tracer, which knows the length from
            # the concrete value; PyTorch 1.13's own Proxy.__iter__ reads the
            # caller's bytecode in a way that Python 3.11 breaks.
            original_iter = fx.Proxy.__iter__
            fx.Proxy.__iter__ = lambda proxy: proxy.tracer.iter(proxy)
            try:
                return super().trace(root, concrete_args)
            finally:
                fx.Proxy.__iter__ = original_iter
                for name, fn in originals.items():
                    setattr(torch, name, fn)

        def iter(self, obj):
            value = obj.node.meta.get(_VALUE)
            if isinstance(value, (tuple, list, torch.Size)):
                return iter([obj[i] for i in range(len(value))])
            return super().iter(obj)

    return ConcreteTracer


def from_torch(module, example_inputs, *, output_names=None, name=None):
    """Traces `module` (a torch.nn.Module, in eval mode) with torch.fx and
    returns a ModelBuilder holding the same model in the tfm dialect.

    `example_inputs` is a tensor, a tuple of tensors or a dict {argument
    name: tensor}: int64 token ids [batch, seq] and/or float32 hidden
    states [batch, seq, features]. The model is traced once on them; the
    sequence dimension stays dynamic in the result (tmc.compile's seq_len
    fixes it). Outputs are named by `output_names`, by the keys of a dict
    that forward returns, or "logits" for a single tensor. Raises
    UnsupportedOperationError naming the first operation outside the
    supported subset."""
    try:
        import torch
        import torch.fx
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise TmcError("from_torch needs PyTorch (%s)" % e)

    module = module.eval()
    forward_args = _forward_argument_names(module)
    if isinstance(example_inputs, dict):
        missing = [a for a in forward_args if a not in example_inputs]
        if missing:
            raise ValueError("from_torch: no example input for %r" % missing[0])
        args = [example_inputs[a] for a in forward_args]
    elif isinstance(example_inputs, (tuple, list)):
        args = list(example_inputs)
    else:
        args = [example_inputs]
    if len(args) != len(forward_args):
        raise ValueError("from_torch: %d example inputs for the %d arguments of "
                         "forward" % (len(args), len(forward_args)))

    tracer = _concrete_tracer(torch)(args)
    try:
        with torch.no_grad():
            graph = tracer.trace(module)
    except UnsupportedOperationError:
        raise
    except Exception as e:  # torch.fx raises many kinds of errors
        raise UnsupportedOperationError(
            "from_torch: torch.fx cannot trace %s: %s: %s"
            % (type(module).__name__, type(e).__name__, e))
    gm = torch.fx.GraphModule(tracer.root, graph)
    values = {}
    for node in gm.graph.nodes:
        if node.op != "output":
            values[node] = tracer.value_of(node)

    builder = ModelBuilder(name or type(module).__name__)
    _FxImporter(torch, gm, values, builder).run(output_names)
    return builder
