"""Run compiled models from Python through libtmcrt's C API (ctypes).

    model = tmc.Model("out/")
    outputs = model.run(input_ids=np.array([[1, 2, 3]]))   # {"logits": array}

    decoder = tmc.Model("decode-out/")                      # tmc-compile --decode
    ids = decoder.generate([1, 2, 3], max_new_tokens=16)    # greedy

The runtime library is loaded once per process (tmc._tools.runtime_library,
else the copy in the first model directory opened); every compiled model
links it by its soname, so all models share that one copy.
"""

import ctypes
import os
import threading

import numpy as np

from tmc import _tools
from tmc.errors import TmcError

__all__ = ["Model", "TensorInfo"]

# tmc_dtype of tmc-rt/Runtime.h -> numpy dtype (bf16 as its uint16 bits).
_DTYPES = {0: np.dtype(np.float32), 1: np.dtype(np.float16), 2: np.dtype(np.uint16),
           3: np.dtype(np.int64), 4: np.dtype(np.int32), 5: np.dtype(np.int8)}
_DTYPE_NAMES = {0: "f32", 1: "f16", 2: "bf16", 3: "i64", 4: "i32", 5: "i8"}


class _CDecoderInfo(ctypes.Structure):
    _fields_ = [("cache_bytes", ctypes.c_uint64),
                ("max_tokens", ctypes.c_int64),
                ("chunk", ctypes.c_int64),
                ("vocab", ctypes.c_int64),
                ("window", ctypes.c_int64),
                ("sinks", ctypes.c_int64),
                ("cache_type", ctypes.c_char_p)]


class _CTensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int64),
                ("dims", ctypes.POINTER(ctypes.c_int64)),
                ("num_elements", ctypes.c_int64),
                ("num_bytes", ctypes.c_uint64)]


_lib = None
_lib_lock = threading.Lock()


def _declare(lib):
    vp, sz, cp = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p
    lib.tmc_model_load.argtypes = [cp, cp, sz]
    lib.tmc_model_load.restype = vp
    lib.tmc_model_free.argtypes = [vp]
    lib.tmc_model_free.restype = None
    for f in (lib.tmc_model_num_inputs, lib.tmc_model_num_outputs):
        f.argtypes = [vp]
        f.restype = sz
    for f in (lib.tmc_model_input_info, lib.tmc_model_output_info):
        f.argtypes = [vp, sz, ctypes.POINTER(_CTensorInfo)]
        f.restype = ctypes.c_int
    for f in (lib.tmc_model_weights_size, lib.tmc_model_arena_size):
        f.argtypes = [vp]
        f.restype = ctypes.c_uint64
    lib.tmc_model_signature_text.argtypes = [vp]
    lib.tmc_model_signature_text.restype = cp
    lib.tmc_model_run.argtypes = [vp, ctypes.POINTER(vp), ctypes.POINTER(vp), cp, sz]
    lib.tmc_model_run.restype = ctypes.c_int
    lib.tmc_rt_num_threads.argtypes = []
    lib.tmc_rt_num_threads.restype = ctypes.c_int
    lib.tmc_decoder_get_info.argtypes = [vp, ctypes.POINTER(_CDecoderInfo)]
    lib.tmc_decoder_get_info.restype = ctypes.c_int
    lib.tmc_decoder_prefill.argtypes = [vp, ctypes.POINTER(ctypes.c_int64), sz,
                                        ctypes.POINTER(ctypes.c_float), cp, sz]
    lib.tmc_decoder_prefill.restype = ctypes.c_int
    lib.tmc_decoder_step.argtypes = [vp, ctypes.c_int64, ctypes.POINTER(ctypes.c_float),
                                     cp, sz]
    lib.tmc_decoder_step.restype = ctypes.c_int
    lib.tmc_decoder_position.argtypes = [vp]
    lib.tmc_decoder_position.restype = ctypes.c_int64
    lib.tmc_decoder_reset.argtypes = [vp]
    lib.tmc_decoder_reset.restype = None


def _runtime(model_dir):
    global _lib
    with _lib_lock:
        if _lib is None:
            path = _tools.runtime_library() or os.path.join(model_dir, "libtmcrt.so")
            try:
                lib = ctypes.CDLL(os.path.abspath(path))
            except OSError as e:
                raise TmcError("cannot load TMC's runtime library %s: %s" % (path, e))
            _declare(lib)
            _lib = lib
        return _lib


class TensorInfo:
    """An input or output of a compiled model: name, numpy dtype, shape."""

    def __init__(self, c_info):
        self.name = c_info.name.decode()
        self.dtype = _DTYPES[c_info.dtype]
        self.dtype_name = _DTYPE_NAMES[c_info.dtype]
        self.shape = tuple(c_info.dims[i] for i in range(c_info.rank))
        self.num_bytes = c_info.num_bytes

    def __repr__(self):
        return "%s: %s %s" % (self.name, self.dtype_name, list(self.shape))


class Model:
    """A compiled model directory loaded with the runtime (docs/Runtime.md).

    `inputs` and `outputs` describe its tensors; `run(**arrays)` runs it
    once and returns {output name: numpy array}."""

    def __init__(self, out_dir):
        self.out_dir = os.path.abspath(os.fspath(out_dir))
        self._lib = _runtime(self.out_dir)
        err = ctypes.create_string_buffer(1024)
        self._handle = self._lib.tmc_model_load(self.out_dir.encode(), err, len(err))
        if not self._handle:
            raise TmcError(err.value.decode("utf-8", "replace")
                           or "cannot load the model in %s" % self.out_dir)
        self.inputs = self._infos(self._lib.tmc_model_num_inputs,
                                  self._lib.tmc_model_input_info)
        self.outputs = self._infos(self._lib.tmc_model_num_outputs,
                                   self._lib.tmc_model_output_info)
        self._decoder = self._read_decoder_info()

    def _infos(self, count, describe):
        infos = []
        for i in range(count(self._handle)):
            c_info = _CTensorInfo()
            if describe(self._handle, i, ctypes.byref(c_info)) != 0:
                raise TmcError("%s: cannot describe tensor %d" % (self.out_dir, i))
            infos.append(TensorInfo(c_info))
        return infos

    @property
    def weights_bytes(self):
        return int(self._lib.tmc_model_weights_size(self._check_open()))

    @property
    def arena_bytes(self):
        return int(self._lib.tmc_model_arena_size(self._check_open()))

    @property
    def signature(self):
        return self._lib.tmc_model_signature_text(self._check_open()).decode()

    def _check_open(self):
        if not self._handle:
            raise TmcError("the model in %s is closed" % self.out_dir)
        return self._handle

    def run(self, inputs=None, **named):
        """Runs the model once on numpy arrays given by input name (as
        keywords or a dict) and returns {output name: array}. Each array
        must have the input's shape; integer inputs take any integer array,
        float inputs any float array (converted to the input's dtype)."""
        handle = self._check_open()
        if self._decoder is not None:
            raise TmcError("%s: a decoding build runs with prefill/step/generate"
                           % self.out_dir)
        given = dict(inputs or {}, **named)
        unknown = sorted(set(given) - {i.name for i in self.inputs})
        if unknown:
            raise ValueError("unknown input %r (the model's inputs: %s)"
                             % (unknown[0], ", ".join(i.name for i in self.inputs)))
        arrays = []
        for info in self.inputs:
            if info.name not in given:
                raise ValueError("missing input %r (%s)" % (info.name, info))
            arr = np.asarray(given[info.name])
            if info.dtype.kind in "iu" and arr.dtype.kind not in "iu":
                raise TypeError("input %r: expected integers (%s), got %s"
                                % (info.name, info.dtype_name, arr.dtype))
            if info.dtype.kind == "f" and arr.dtype.kind not in "fiu":
                raise TypeError("input %r: expected numbers, got %s" % (info.name, arr.dtype))
            if tuple(arr.shape) != info.shape:
                raise ValueError("input %r: expected shape %s, got %s"
                                 % (info.name, list(info.shape), list(arr.shape)))
            arrays.append(np.ascontiguousarray(arr, dtype=info.dtype))
        results = [np.empty(info.shape, dtype=info.dtype) for info in self.outputs]
        in_ptrs = (ctypes.c_void_p * max(len(arrays), 1))(
            *[a.ctypes.data for a in arrays])
        out_ptrs = (ctypes.c_void_p * max(len(results), 1))(
            *[r.ctypes.data for r in results])
        err = ctypes.create_string_buffer(1024)
        status = self._lib.tmc_model_run(handle, in_ptrs, out_ptrs, err, len(err))
        if status != 0:
            raise TmcError(err.value.decode("utf-8", "replace")
                           or "running the model failed (status %d)" % status)
        return {info.name: r for info, r in zip(self.outputs, results)}

    __call__ = run

    # ---- decoding builds (tmc-compile --decode, docs/Decoding.md) ----------

    def _read_decoder_info(self):
        info = _CDecoderInfo()
        if self._lib.tmc_decoder_get_info(self._handle, ctypes.byref(info)) != 0:
            return None
        return {"cache_bytes": int(info.cache_bytes), "max_tokens": int(info.max_tokens),
                "chunk": int(info.chunk), "vocab": int(info.vocab),
                "window": int(info.window), "sinks": int(info.sinks),
                "cache_type": info.cache_type.decode()}

    @property
    def decoder_info(self):
        """For a decoding build, {cache_bytes, max_tokens, chunk, vocab,
        window, sinks, cache_type}; None for other builds."""
        self._check_open()
        return dict(self._decoder) if self._decoder else None

    def _decoder_call(self, call, *args):
        self._check_open()
        info = self._decoder
        if info is None:
            raise TmcError("%s: not a decoding build (compile it with decode=...)"
                           % self.out_dir)
        logits = np.empty(info["vocab"], dtype=np.float32)
        err = ctypes.create_string_buffer(1024)
        status = call(self._handle, *args,
                      logits.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), err, len(err))
        if status != 0:
            raise TmcError(err.value.decode("utf-8", "replace")
                           or "decoding failed (status %d)" % status)
        return logits

    def prefill(self, ids):
        """Appends the token ids to the KV cache and returns the last one's
        logits (float32 [vocab])."""
        ids = np.ascontiguousarray(np.asarray(ids).reshape(-1), dtype=np.int64)
        if ids.size == 0:
            raise ValueError("prefill needs at least one token")
        return self._decoder_call(self._lib.tmc_decoder_prefill,
                                  ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                  ids.size)

    def step(self, token):
        """Appends one token and returns its logits."""
        return self._decoder_call(self._lib.tmc_decoder_step, int(token))

    @property
    def position(self):
        """The number of tokens in the KV cache."""
        return int(self._lib.tmc_decoder_position(self._check_open()))

    def reset(self):
        """Empties the KV cache."""
        self._lib.tmc_decoder_reset(self._check_open())

    def generate(self, prompt, max_new_tokens, top_k=0, temperature=0.0, seed=0):
        """Empties the cache, runs the prompt and returns `max_new_tokens`
        new ids: greedy, or sampled from softmax(logits / temperature) over
        the top_k most likely tokens (0: all) when either is given."""
        if max_new_tokens <= 0:
            raise ValueError("max_new_tokens must be positive, got %r" % max_new_tokens)
        rng = np.random.default_rng(seed)

        def choose(logits):
            if not top_k and not temperature:
                return int(np.argmax(logits))
            order = np.argsort(-logits, kind="stable")[:top_k or logits.size]
            z = (logits[order] - logits[order[0]]) / (temperature or 1.0)
            p = np.exp(z.astype(np.float64))
            return int(order[rng.choice(order.size, p=p / p.sum())])

        self.reset()
        ids = [choose(self.prefill(prompt))]
        while len(ids) < max_new_tokens:
            ids.append(choose(self.step(ids[-1])))
        return ids

    def close(self):
        """Unloads the model (also done when the object is collected)."""
        if getattr(self, "_handle", None):
            self._lib.tmc_model_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        return "<tmc.Model %s: %s -> %s>" % (
            self.out_dir, ", ".join(map(repr, self.inputs)),
            ", ".join(map(repr, self.outputs)))
