"""Compile a tfm model into a model directory, as tmc-compile does."""

import json
import os
import tempfile

from tmc import _tools
from tmc.errors import TmcError

__all__ = ["compile", "CompiledModel"]


class CompiledModel:
    """A compiled model directory (docs/ABI.md): `out_dir`, its memory
    report as a dict (`report`), and `load()` to run it."""

    def __init__(self, out_dir):
        self.out_dir = os.path.abspath(out_dir)

    @property
    def report(self):
        """report.json as a dict (arena_bytes, buffers, weights_bytes_*, ...)."""
        with open(os.path.join(self.out_dir, "report.json")) as f:
            return json.load(f)

    def load(self):
        """Loads the model with the runtime: a tmc.Model."""
        from tmc.runtime import Model
        return Model(self.out_dir)

    def __fspath__(self):
        return self.out_dir

    def __repr__(self):
        return "<tmc.CompiledModel %s>" % self.out_dir


def _is_mlir_text(model):
    if "\n" in model:
        return True
    head = model.lstrip()
    return head.startswith(("module", "func.func", "#", "{-#", "//"))


def compile(model, out_dir, *, seq_len=128, target="cpu", gpu_arch=None,
            gpu_attention="fused", gpu_tensor_cores="auto",
            gpu_decode_split=None, gpu_kernel_options=None,
            attention=None, attention_block_q=64, attention_block_k=64,
            quantize="none", quantize_calibration=None, quantize_error=True,
            prune="none",
            low_rank="none", low_rank_activation_aware=False,
            low_rank_calibration=None, low_rank_force=False, linformer=0,
            remat="none", memory_budget=None, train=False, loss=None,
            decode=None,
            kv_cache="f32", kv_sinks=0, cpu="native", kernels=True,
            plan_buffers=True, progress=True):
    """Compiles `model` into `out_dir` and returns a CompiledModel.

    `model` is a tmc.ModelBuilder, MLIR text, or the path of a .mlir or
    .mlirbc file (a relative `tfm.weights_file` resolves against the file's
    directory). The options are tmc-compile's flags (docs/Python.md):
    seq_len (--seq-len), target ("cpu" or "cuda"), gpu_arch (--gpu-arch,
    e.g. "sm_80"; None: tmc-compile's default), gpu_attention ("fused" or
    "tiles", --gpu-attention), gpu_tensor_cores ("auto", "none", "f16",
    "bf16" or "tf32", --gpu-tensor-cores), gpu_decode_split (cached positions per
    block of a CUDA decoding build's attention, --gpu-decode-split; 0: no
    split; None: tmc-compile's default), gpu_kernel_options
    (tmc-cuda-pipeline options for other kernel shapes, e.g.
    "matmul-min-blocks=0", --gpu-kernel-options), attention (None: as the
    model says), attention_block_q/_k, quantize (with quantize_calibration:
    an .npy of token ids for the output error it reports, and
    quantize_error=False to skip that measurement), prune, low_rank
    (with low_rank_activation_aware, low_rank_calibration: an .npy of token
    ids, low_rank_force), linformer (projected length), remat, memory_budget
    (e.g. "512MiB"), train and loss ("cross_entropy", "mse", "kl_div:T";
    None: the model's default; docs/Training.md), decode (True or a maximum number of tokens;
    seq_len is then the prefill chunk), kv_cache ("f32", "int8", "int4"),
    kv_sinks, cpu, kernels (False: --no-kernels), plan_buffers (False:
    --no-plan-buffers). With progress
    (the default) tmc-compile's line per stage is shown on stderr as the
    stage runs; a callable receives each line instead. Raises TmcError with
    the compiler's message on failure."""
    args = []
    if int(seq_len) <= 0:
        raise ValueError("seq_len must be positive, got %r" % seq_len)
    args.append("--seq-len=%d" % int(seq_len))
    # Only what differs from tmc-compile's defaults is passed on.
    for flag, value, default in (("target", target, "cpu"),
                                 ("gpu-arch", gpu_arch, None),
                                 ("gpu-attention", gpu_attention, "fused"),
                                 ("gpu-tensor-cores", gpu_tensor_cores,
                                  "auto"),
                                 ("gpu-decode-split", gpu_decode_split, None),
                                 ("gpu-kernel-options", gpu_kernel_options,
                                  None),
                                 ("attention", attention, None),
                                 ("attention-block-q", attention_block_q, 64),
                                 ("attention-block-k", attention_block_k, 64),
                                 ("quantize", quantize, "none"),
                                 ("prune", prune, "none"),
                                 ("low-rank", low_rank, "none"),
                                 ("remat", remat, "none"),
                                 ("loss", loss, None),
                                 ("kv-cache", kv_cache, "f32"),
                                 ("kv-sinks", kv_sinks, 0),
                                 ("cpu", cpu, "native")):
        if value != default:
            args.append("--%s=%s" % (flag, value))
    if not quantize_error:
        args.append("--no-quantize-error")
    if quantize_calibration is not None:
        args.append("--quantize-calibration=%s" % os.fspath(quantize_calibration))
    if low_rank_activation_aware:
        args.append("--low-rank-activation-aware")
    if low_rank_calibration is not None:
        args.append("--low-rank-calibration=%s" % os.fspath(low_rank_calibration))
    if low_rank_force:
        args.append("--low-rank-force")
    if int(linformer):
        args.append("--linformer=%d" % int(linformer))
    if memory_budget is not None:
        args.append("--memory-budget=%s" % memory_budget)
    if train:
        args.append("--train")
    if decode is True:
        args.append("--decode")
    elif decode not in (None, False):
        args.append("--decode=%d" % int(decode))
    if not kernels:
        args.append("--no-kernels")
    if not plan_buffers:
        args.append("--no-plan-buffers")
    if not progress:
        args.append("--quiet")

    out_dir = os.fspath(out_dir)
    with tempfile.TemporaryDirectory(prefix="tmc-compile-") as tmp:
        if hasattr(model, "to_mlir"):
            path = os.path.join(tmp, "model.mlir")
            with open(path, "w") as f:
                f.write(model.to_mlir())
        elif isinstance(model, str) and _is_mlir_text(model):
            path = os.path.join(tmp, "model.mlir")
            with open(path, "w") as f:
                f.write(model)
        elif isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
            if not os.path.isfile(path):
                raise TmcError("%s: no such model file" % path)
        else:
            raise TypeError("compile: model must be a ModelBuilder, MLIR text or "
                            "a path, got %s" % type(model).__name__)
        _tools.run_tool("tmc-compile", [path, "-o", out_dir] + args,
                        progress=progress)
    return CompiledModel(out_dir)
