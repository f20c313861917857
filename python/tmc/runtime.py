"""Run compiled models from Python through libtmcrt's C API (ctypes).

    model = tmc.Model("out/")
    outputs = model.run(input_ids=np.array([[1, 2, 3]]))   # {"logits": array}

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
