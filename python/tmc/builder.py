"""Write a transformer in a few lines of Python and get a tfm module.

    import numpy as np
    import tmc

    m = tmc.ModelBuilder("tiny", max_positions=64)
    ids = m.input_ids()
    x = m.embedding(ids, np.random.randn(128, 32), name="wte")
    x = x + m.embedding(m.positions(ids), np.random.randn(64, 32), name="wpe")
    m.output("logits", m.linear(x, np.random.randn(128, 32), name="lm_head"))
    text = m.to_mlir()      # tfm IR that tmc-opt and tmc-compile accept

Each method adds one tfm op (docs/Rationale.md gives their exact meaning)
and returns the `Value` it produces; shapes are checked as the model is
written, so mistakes are reported here rather than by the compiler. Weights
are numpy arrays (stored as float32 `dense_resource` blobs in the module) or
`Param`s made with `ModelBuilder.param`, which can be shared between ops
(tied embeddings). The sequence dimension of the inputs stays dynamic (`?`)
until `tmc.compile(..., seq_len=N)` fixes it.
"""

import re

import numpy as np

__all__ = ["ModelBuilder", "Value", "Param"]

_DTYPES = {"f32": np.float32, "i64": np.int64, "i32": np.int32}
_ACTIVATIONS = ("gelu_erf", "gelu_tanh", "relu", "silu")


def _float_literal(x):
    """An MLIR float literal for x (MLIR wants a '.' in every literal)."""
    text = repr(float(x))
    if "inf" in text or "nan" in text:
        raise ValueError("non-finite attribute value %r" % x)
    if "." not in text:
        mantissa, _, exponent = text.partition("e")
        text = mantissa + ".0" + ("e" + exponent if exponent else "")
    return text


def _shape_text(shape):
    return "x".join("?" if d is None else str(d) for d in shape)


def _tensor_type(shape, dtype):
    return "tensor<%sx%s>" % (_shape_text(shape), dtype)


class Value:
    """A tensor produced by an op (or an input) of the model being built.

    `shape` is a tuple with None for the dynamic sequence dimension; `dtype`
    is "f32" or "i64"/"i32". `a + b` adds two values (tfm.add).
    """

    __slots__ = ("builder", "shape", "dtype", "region", "op", "index")

    def __init__(self, builder, shape, dtype, region, op=None, index=0):
        self.builder = builder
        self.shape = tuple(shape)
        self.dtype = dtype
        self.region = region
        self.op = op
        self.index = index

    @property
    def type(self):
        """The MLIR type, e.g. tensor<1x?x64xf32>."""
        return _tensor_type(self.shape, self.dtype)

    def __add__(self, other):
        return self.builder.add(self, other)

    def __radd__(self, other):
        return self.builder.add(other, self)

    def __repr__(self):
        return "<tmc.Value %s>" % self.type


class Param:
    """A named model parameter (weight); use it in several ops to share it."""

    __slots__ = ("name", "array", "key")

    def __init__(self, name, array, key):
        self.name = name
        self.array = array
        self.key = key

    @property
    def shape(self):
        return self.array.shape

    def __repr__(self):
        return "<tmc.Param %r %s>" % (self.name, list(self.array.shape))


class _Op:
    """One op: its results, operands, and how to print it."""

    __slots__ = ("results", "operands", "printer", "body", "param")

    def __init__(self, operands, printer, body=None):
        self.param = None  # the Param of a tfm.param
        self.results = []
        self.operands = list(operands)
        self.printer = printer  # (names: callable Value -> str) -> [lines]
        self.body = body  # _Region of a tfm.layer


class _Region:
    def __init__(self, parent, name_prefix):
        self.parent = parent
        self.ops = []
        self.args = []
        self.yields = []
        self.prefix = name_prefix
        self.param_values = {}  # Param.key -> Value in this region


class ModelBuilder:
    """Builds a tfm model: one `func.func @forward` with named inputs and
    outputs. See the module docstring for an example."""

    def __init__(self, name="model", max_positions=None):
        self.name = name
        self.max_positions = max_positions
        self._top = _Region(None, "")
        self._region = self._top
        self._inputs = []  # (name, Value)
        self._outputs = []  # (name, Value)
        self._params = {}  # name -> Param
        self._keys = set()
        self._counters = {}
        self._layer_index = 0

    # ------------------------------------------------------------------
    # Inputs, outputs, parameters
    # ------------------------------------------------------------------

    def input(self, name, shape, dtype="i64"):
        """Adds a model input. `shape` uses None for the sequence dimension,
        e.g. (1, None) for token ids or (1, None, 64) for hidden states."""
        if self._region is not self._top:
            raise ValueError("inputs must be added outside of layers")
        if dtype not in _DTYPES:
            raise ValueError("input %r: dtype must be one of %s, got %r"
                             % (name, ", ".join(_DTYPES), dtype))
        if any(n == name for n, _ in self._inputs):
            raise ValueError("duplicate input name %r" % name)
        value = Value(self, shape, dtype, self._top)
        self._inputs.append((name, value))
        return value

    def input_ids(self, name="input_ids"):
        """The usual first input: int64 token ids of shape [1, S]."""
        return self.input(name, (1, None), "i64")

    def output(self, name, value):
        """Makes `value` a model output called `name` (e.g. "logits")."""
        self._check_value(value, "output %r" % name)
        if value.region is not self._top:
            raise ValueError("output %r: the value is defined inside a layer; "
                             "return it from the layer function" % name)
        if any(n == name for n, _ in self._outputs):
            raise ValueError("duplicate output name %r" % name)
        self._outputs.append((name, value))
        return value

    def param(self, name, array):
        """Declares a parameter `name` holding `array` (stored as float32)."""
        if name in self._params:
            raise ValueError("duplicate parameter name %r" % name)
        arr = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        if arr.ndim == 0:
            raise ValueError("parameter %r must have at least one dimension" % name)
        key = re.sub(r"[^A-Za-z0-9_.]", "_", name)
        if not re.match(r"[A-Za-z_]", key):
            key = "p_" + key
        base, n = key, 1
        while key in self._keys:
            key = "%s_%d" % (base, n)
            n += 1
        self._keys.add(key)
        p = Param(name, arr, key)
        self._params[name] = p
        return p

    @property
    def inputs(self):
        return [n for n, _ in self._inputs]

    @property
    def outputs(self):
        return [n for n, _ in self._outputs]

    @property
    def parameters(self):
        """{name: float32 array} of every parameter declared so far."""
        return {n: p.array for n, p in self._params.items()}

    # ------------------------------------------------------------------
    # Ops
    # ------------------------------------------------------------------

    def positions(self, ids, offset=0, stride=1):
        """Position ids shaped like `ids`: offset + stride * s (tfm.positions)."""
        self._check_value(ids, "positions", dtypes=("i64", "i32"), rank=2)
        attrs = []
        if offset:
            attrs.append("offset = %d : i64" % offset)
        if stride != 1:
            attrs.append("stride = %d : i64" % stride)
        attr_text = " {%s}" % ", ".join(attrs) if attrs else ""

        def printer(r, n):
            return ["%s = tfm.positions like %s%s : %s"
                    % (r, n(ids), attr_text, ids.type)]
        return self._add_op([ids], printer, [(ids.shape, ids.dtype)])

    def embedding(self, ids, table, name=None):
        """Rows of `table` [vocab, dim] for `ids` [B, S] -> [B, S, dim]."""
        self._check_value(ids, "embedding", dtypes=("i64", "i32"), rank=2)
        t = self._weight(table, name, "embedding", "weight", rank=2)

        def printer(r, n):
            return ["%s = tfm.embedding %s[%s] : %s, %s"
                    % (r, n(t), n(ids), t.type, ids.type)]
        return self._add_op([t, ids], printer,
                            [(ids.shape + (t.shape[1],), "f32")])

    def linear(self, x, weight, bias=None, layout="out_in", name=None):
        """x W^T + b with W stored [out, in] (`layout="out_in"`, nn.Linear)
        or [in, out] (`layout="in_out"`, GPT-2's Conv1D)."""
        self._check_value(x, "linear", dtypes=("f32",))
        if layout not in ("out_in", "in_out"):
            raise ValueError("linear: layout must be 'out_in' or 'in_out', got %r"
                             % layout)
        w = self._weight(weight, name, "linear", "weight", rank=2)
        k, n_out = (w.shape[1], w.shape[0]) if layout == "out_in" else w.shape
        if x.shape[-1] != k:
            raise ValueError("linear%s: input has %s features but the weight %s "
                             "(layout %s) expects %d"
                             % (self._label(name), x.shape[-1], list(w.shape),
                                layout, k))
        operands = [x, w]
        b = None
        if bias is not None:
            b = self._weight(bias, name, "linear", "bias", rank=1)
            if b.shape != (n_out,):
                raise ValueError("linear%s: bias has shape %s, expected [%d]"
                                 % (self._label(name), list(b.shape), n_out))
            operands.append(b)
        layout_text = " {layout = #tfm<layout in_out>}" if layout == "in_out" else ""

        def printer(r, n):
            types = ", ".join(v.type for v in operands)
            return ["%s = tfm.linear %s%s : %s"
                    % (r, ", ".join(n(v) for v in operands), layout_text, types)]
        return self._add_op(operands, printer, [(x.shape[:-1] + (n_out,), "f32")])

    def layer_norm(self, x, weight, bias, eps=1e-5, name=None):
        """Layer normalization over the last dimension (biased variance)."""
        self._check_value(x, "layer_norm", dtypes=("f32",))
        g = self._weight(weight, name, "layer_norm", "weight", rank=1)
        b = self._weight(bias, name, "layer_norm", "bias", rank=1)
        for p in (g, b):
            if p.shape != (x.shape[-1],):
                raise ValueError("layer_norm%s: parameter of shape %s for %s features"
                                 % (self._label(name), list(p.shape), x.shape[-1]))
        eps_text = _float_literal(eps)

        def printer(r, n):
            return ["%s = tfm.layer_norm %s, %s, %s {epsilon = %s : f64} : %s, %s"
                    % (r, n(x), n(g), n(b), eps_text, x.type, g.type)]
        return self._add_op([x, g, b], printer, [(x.shape, "f32")])

    def rms_norm(self, x, weight, eps=1e-6, name=None):
        """Root-mean-square normalization over the last dimension (LLaMA)."""
        self._check_value(x, "rms_norm", dtypes=("f32",))
        g = self._weight(weight, name, "rms_norm", "weight", rank=1)
        if g.shape != (x.shape[-1],):
            raise ValueError("rms_norm%s: weight of shape %s for %s features"
                             % (self._label(name), list(g.shape), x.shape[-1]))
        eps_text = _float_literal(eps)

        def printer(r, n):
            return ["%s = tfm.rms_norm %s, %s {epsilon = %s : f64} : %s, %s"
                    % (r, n(x), n(g), eps_text, x.type, g.type)]
        return self._add_op([x, g], printer, [(x.shape, "f32")])

    def rope(self, x, head_dim, theta=10000.0, offset=0):
        """Rotary position embedding of every head (half-rotation convention)."""
        self._check_value(x, "rope", dtypes=("f32",), rank=3)
        if head_dim <= 0 or head_dim % 2 or x.shape[-1] % head_dim:
            raise ValueError("rope: head_dim %d must be even and divide %s"
                             % (head_dim, x.shape[-1]))
        attrs = "head_dim = %d : i64, theta = %s : f64" % (head_dim, _float_literal(theta))
        if offset:
            attrs += ", offset = %d : i64" % offset

        def printer(r, n):
            return ["%s = tfm.rope %s {%s} : %s" % (r, n(x), attrs, x.type)]
        return self._add_op([x], printer, [(x.shape, "f32")])

    def attention(self, q, k, v, num_heads, num_kv_heads=None, causal=False,
                  scale=None):
        """Multi-head (or grouped-query) scaled dot-product attention of
        q [B, S, H*dh] with k, v [B, S, Hkv*dh]; scale defaults to 1/sqrt(dh)."""
        for t, what in ((q, "query"), (k, "key"), (v, "value")):
            self._check_value(t, "attention " + what, dtypes=("f32",), rank=3)
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if num_heads <= 0 or num_kv_heads <= 0 or num_heads % num_kv_heads:
            raise ValueError("attention: num_heads %d must be a positive multiple "
                             "of num_kv_heads %d" % (num_heads, num_kv_heads))
        if q.shape[-1] % num_heads:
            raise ValueError("attention: %d query features do not split into %d heads"
                             % (q.shape[-1], num_heads))
        head_dim = q.shape[-1] // num_heads
        for t, what in ((k, "key"), (v, "value")):
            if t.shape[-1] != num_kv_heads * head_dim:
                raise ValueError("attention: %s has %d features, expected %d "
                                 "(%d heads of %d)" % (what, t.shape[-1],
                                                       num_kv_heads * head_dim,
                                                       num_kv_heads, head_dim))
        attrs = []
        if causal:
            attrs.append("causal")
        attrs.append("num_heads = %d : i64" % num_heads)
        attrs.append("num_kv_heads = %d : i64" % num_kv_heads)
        if scale is not None:
            attrs.append("scale = %s : f64" % _float_literal(scale))
        attr_text = ", ".join(attrs)

        def printer(r, n):
            return ["%s = tfm.attention %s, %s, %s {%s} : %s, %s, %s"
                    % (r, n(q), n(k), n(v), attr_text, q.type, k.type, v.type)]
        return self._add_op([q, k, v], printer, [(q.shape, "f32")])

    def activation(self, kind, x):
        """An elementwise activation: gelu_erf, gelu_tanh, relu or silu."""
        self._check_value(x, "activation", dtypes=("f32",))
        if kind not in _ACTIVATIONS:
            raise ValueError("activation: unknown kind %r (known: %s)"
                             % (kind, ", ".join(_ACTIVATIONS)))

        def printer(r, n):
            return ["%s = tfm.activation %s %s : %s" % (r, kind, n(x), x.type)]
        return self._add_op([x], printer, [(x.shape, "f32")])

    def gelu(self, x, approximate="tanh"):
        """GELU: approximate="tanh" (GPT-2) or "none" (exact erf, BERT)."""
        if approximate not in ("tanh", "none"):
            raise ValueError("gelu: approximate must be 'tanh' or 'none'")
        return self.activation("gelu_tanh" if approximate == "tanh" else "gelu_erf", x)

    def relu(self, x):
        return self.activation("relu", x)

    def silu(self, x):
        return self.activation("silu", x)

    def gated_activation(self, kind, gate, up):
        """act(gate) * up elementwise (SwiGLU with "silu")."""
        self._check_value(gate, "gated_activation", dtypes=("f32",))
        self._check_value(up, "gated_activation", dtypes=("f32",))
        if kind not in _ACTIVATIONS:
            raise ValueError("gated_activation: unknown kind %r" % kind)
        if gate.type != up.type:
            raise ValueError("gated_activation: gate %s and up %s differ"
                             % (gate.type, up.type))

        def printer(r, n):
            return ["%s = tfm.gated_activation %s %s, %s : %s"
                    % (r, kind, n(gate), n(up), gate.type)]
        return self._add_op([gate, up], printer, [(gate.shape, "f32")])

    def add(self, a, b):
        """Elementwise (residual) addition of two values of one type."""
        self._check_value(a, "add", dtypes=("f32",))
        self._check_value(b, "add", dtypes=("f32",))
        if a.type != b.type:
            raise ValueError("add: operands of different types %s and %s"
                             % (a.type, b.type))

        def printer(r, n):
            return ["%s = tfm.add %s, %s : %s" % (r, n(a), n(b), a.type)]
        return self._add_op([a, b], printer, [(a.shape, "f32")])

    def split(self, x, sizes):
        """Cuts the last dimension into consecutive parts; returns a tuple."""
        self._check_value(x, "split", dtypes=("f32",))
        sizes = [int(s) for s in sizes]
        if not sizes or any(s <= 0 for s in sizes) or sum(sizes) != x.shape[-1]:
            raise ValueError("split: sizes %s must be positive and add up to %s"
                             % (sizes, x.shape[-1]))
        size_text = "[%s]" % ", ".join(str(s) for s in sizes)

        def printer(r, n):
            return ["%s = tfm.split %s %s : %s" % (r, n(x), size_text, x.type)]
        return tuple(self._add_op([x], printer,
                                  [(x.shape[:-1] + (s,), "f32") for s in sizes],
                                  single=False))

    def layer(self, name, fn, *inputs, index=None):
        """One transformer block as a unit (tfm.layer): calls `fn` with
        values standing for `inputs` inside the layer and returns what it
        returns (a value or a tuple). Parameters made inside are named
        "<name>.<...>"; values from outside must be passed as inputs."""
        if not inputs:
            raise ValueError("layer %r: needs at least one input" % name)
        for v in inputs:
            self._check_value(v, "layer %r input" % name)
        if index is None:
            index = self._layer_index
        self._layer_index = max(self._layer_index, index + 1)
        outer = self._region
        prefix = outer.prefix + name + "."
        region = _Region(outer, prefix)
        region.args = [Value(self, v.shape, v.dtype, region) for v in inputs]
        self._region = region
        try:
            result = fn(*region.args)
            results = result if isinstance(result, (tuple, list)) else (result,)
            if not results:
                raise ValueError("layer %r: the function returned no value" % name)
            for v in results:
                self._check_value(v, "layer %r result" % name)
        finally:
            self._region = outer
        region.yields = list(results)
        in_types = ", ".join(v.type for v in inputs)
        out_types = ", ".join(v.type for v in results)
        if len(results) > 1:
            out_types = "(%s)" % out_types

        def printer(r, n, body_lines):
            head = ("%s = tfm.layer \"%s\" index %d (%s) : (%s) -> %s {"
                    % (r, name, index, ", ".join(n(v) for v in inputs),
                       in_types, out_types))
            args = ", ".join("%s: %s" % (n(a), a.type) for a in region.args)
            yields = "tfm.yield %s : %s" % (", ".join(n(v) for v in results),
                                            ", ".join(v.type for v in results))
            return ([head, "^bb0(%s):" % args] + ["  " + l for l in body_lines]
                    + ["  " + yields, "}"])
        values = self._add_op(list(inputs), printer,
                              [(v.shape, v.dtype) for v in results],
                              single=False, body=region)
        return values[0] if not isinstance(result, (tuple, list)) else tuple(values)

    # ------------------------------------------------------------------
    # Output
    # ------------------------------------------------------------------

    def to_mlir(self):
        """The model as MLIR text (tfm dialect); unused ops are left out."""
        if not self._inputs:
            raise ValueError("the model has no inputs")
        if not self._outputs:
            raise ValueError("the model has no outputs (call output(name, value))")
        live = self._live_ops()
        names = {}
        counter = [0]

        def name_of(value):
            if value not in names:
                raise ValueError("internal error: a value is used before it is "
                                 "defined")
            return names[value]

        def define(op):
            if op.body is None and len(op.results) == 1:
                r = "%%%d" % counter[0]
                names[op.results[0]] = r
            else:
                base = "%%%d" % counter[0]
                r = "%s:%d" % (base, len(op.results)) if len(op.results) > 1 else base
                for i, v in enumerate(op.results):
                    names[v] = "%s#%d" % (base, i) if len(op.results) > 1 else base
            counter[0] += 1
            return r

        def emit(region):
            lines = []
            for op in region.ops:
                if id(op) not in live:
                    continue
                if op.body is not None:
                    for i, a in enumerate(op.body.args):
                        names[a] = "%%a%d_%d" % (counter[0], i)
                    body = emit(op.body)
                    r = define(op)
                    lines += op.printer(r, name_of, body)
                else:
                    r = define(op)
                    lines += op.printer(r, name_of)
            return lines

        for i, (_, v) in enumerate(self._inputs):
            names[v] = "%%arg%d" % i
        body = emit(self._top)
        args = ", ".join("%s: %s {tfm.name = \"%s\"}" % (names[v], v.type, n)
                         for n, v in self._inputs)
        results = ", ".join("%s {tfm.name = \"%s\"}" % (v.type, n)
                            for n, v in self._outputs)
        attrs = []
        if self.max_positions is not None:
            attrs.append("tfm.max_positions = %d : i64" % self.max_positions)
        attrs.append("tfm.model_type = \"%s\"" % self.name.replace("\"", "'"))
        out = ["module {",
               "  func.func @forward(%s) -> (%s) attributes {%s} {"
               % (args, results, ", ".join(attrs))]
        out += ["    " + l for l in body]
        out.append("    return %s : %s" % (", ".join(names[v] for _, v in self._outputs),
                                           ", ".join(v.type for _, v in self._outputs)))
        out += ["  }", "}"]
        used = [p for p in self._params.values() if p.key in self._used_keys]
        if used:
            out += ["", "{-#", "  dialect_resources: {", "    builtin: {"]
            blobs = []
            for p in used:
                # A blob is its alignment (4 bytes, little-endian) and its data.
                blobs.append("      %s: \"0x04000000%s\"" % (p.key, p.array.tobytes().hex().upper()))
            out.append(",\n".join(blobs))
            out += ["    }", "  }", "#-}"]
        return "\n".join(out) + "\n"

    def save(self, path):
        """Writes the model to `path` (MLIR text) and returns the path."""
        with open(path, "w") as f:
            f.write(self.to_mlir())
        return path

    def __str__(self):
        return self.to_mlir()

    # ------------------------------------------------------------------
    # Internals
    # ------------------------------------------------------------------

    def _label(self, name):
        return " %r" % name if name else ""

    def _check_value(self, value, what, dtypes=None, rank=None):
        if not isinstance(value, Value):
            raise TypeError("%s: expected a tmc Value, got %s" % (what, type(value).__name__))
        if value.builder is not self:
            raise ValueError("%s: the value belongs to another ModelBuilder" % what)
        if dtypes and value.dtype not in dtypes:
            raise ValueError("%s: expected a %s tensor, got %s"
                             % (what, " or ".join(dtypes), value.type))
        if rank is not None and len(value.shape) != rank:
            raise ValueError("%s: expected rank %d, got %s" % (what, rank, value.type))
        # tfm.layer is isolated from above: a layer only sees its inputs.
        region = self._region
        while region is not None and region is not value.region:
            region = region.parent
        if region is None:
            raise ValueError("%s: the value is defined in a layer that has ended" % what)
        if region is not self._region:
            raise ValueError("%s: the value is defined outside the current layer; "
                             "pass it to the layer as an input" % what)

    def _unique(self, base):
        n = self._counters.get(base, 0)
        self._counters[base] = n + 1
        return "%s_%d" % (base, n)

    def _weight(self, array_or_param, name, op_kind, role, rank):
        """The Value of a weight in the current region, declaring a Param
        for an array."""
        if isinstance(array_or_param, Value):
            raise TypeError("%s: weights must be arrays or Params, not computed "
                            "values" % op_kind)
        if isinstance(array_or_param, Param):
            param = array_or_param
            if self._params.get(param.name) is not param:
                raise ValueError("%s: parameter %r belongs to another ModelBuilder"
                                 % (op_kind, param.name))
        else:
            base = name if name else self._unique(op_kind)
            param = self.param(self._region.prefix + base + "." + role, array_or_param)
        if param.array.ndim != rank:
            raise ValueError("%s: parameter %r has shape %s, expected rank %d"
                             % (op_kind, param.name, list(param.array.shape), rank))
        region = self._region
        if param.key not in region.param_values:
            ty = _tensor_type(param.array.shape, "f32")
            shape = param.array.shape

            def printer(r, n, param=param, ty=ty):
                return ["%s = tfm.param \"%s\" {value = dense_resource<%s> : %s} : %s"
                        % (r, param.name, param.key, ty, ty)]
            region.param_values[param.key] = self._add_op([], printer, [(shape, "f32")])
            region.param_values[param.key].op.param = param
        return region.param_values[param.key]

    def _add_op(self, operands, printer, result_types, single=True, body=None):
        op = _Op(operands, printer, body)
        op.results = [Value(self, shape, dtype, self._region, op, i)
                      for i, (shape, dtype) in enumerate(result_types)]
        self._region.ops.append(op)
        return op.results[0] if single else op.results

    def _live_ops(self):
        """The ops that the outputs depend on (ids of _Op), and the keys of
        the parameters they use (self._used_keys)."""
        live = set()
        self._used_keys = set()
        work = [v for _, v in self._outputs]
        seen = set()
        while work:
            v = work.pop()
            if id(v) in seen:
                continue
            seen.add(id(v))
            op = v.op
            if op is None:
                if v.region is not self._top:
                    # A layer argument: the layer's operand is marked with it.
                    pass
                continue
            if id(op) in live:
                continue
            live.add(id(op))
            param = getattr(op, "param", None)
            if param is not None:
                self._used_keys.add(param.key)
            work.extend(op.operands)
            if op.body is not None:
                work.extend(op.body.yields)
        return live
