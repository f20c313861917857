#!/usr/bin/python3
"""Training-step tests: checkpoint -> tmc-import -> tmc-compile --train ->
tmc-run, with the loss and every parameter gradient checked against PyTorch
autograd in float64 (torch_reference.py), plus rematerialization modes that
must reproduce the stored-activation gradients, and bad inputs that must fail
cleanly.

  /usr/bin/python3 test/e2e/test_train.py --bin-dir build/bin [-j N] [-k FILTER] [--keep] [-v]

Prints one PASS/FAIL line per case and closes with "train: N passed, N
failed"; exits non-zero if any case failed, and with 77 (ctest's skip code)
when PyTorch is missing. Needs numpy and PyTorch (Debian's python3-torch,
hence /usr/bin/python3).
"""

import json
import os
import re
import sys
import tempfile
import threading
import time

SKIP = 77
try:
    import numpy as np
except ImportError:  # pragma: no cover
    print("test_train.py: numpy is required", file=sys.stderr)
    sys.exit(1)
try:
    import torch
except ImportError:
    _WHY = ("PyTorch is not installed for %s (Debian: apt-get install python3-torch; "
            "run with /usr/bin/python3)" % sys.executable)
    if __name__ != "__main__":  # collected by pytest: skip, do not exit the run
        import pytest
        pytest.skip(_WHY, allow_module_level=True)
    print("test_train.py: skipped: " + _WHY)
    sys.exit(SKIP)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import torch_reference  # noqa: E402
import test_e2e  # noqa: E402
from test_e2e import (CRASH_MARKERS, MODELS, MAKE_CHECKPOINT, CaseFailure,  # noqa: E402
                      missing_prerequisites, rescale_checkpoint, run_tasks, suite_main,
                      _first_line, _rc_text)


# Tolerance for the loss and for each gradient g of a parameter:
#   max|g - g_ref| / max(max|g_ref|, tiny) <= 1e-4.
#
# The compiled step computes forward and backward in float32 (unit roundoff
# 6e-8) with its own summation orders and exp/tanh/erf/rsqrt approximations;
# torch_reference.py computes in float64, so the reference's own error is
# ~1e-15 and the whole difference is TMC's float32 rounding. The forward alone
# stays below ~5e-6 of max|out| on these sizes (see test_e2e.py); the backward
# pass is a second chain of the same depth through the transposed operations
# (plus the softmax/norm Jacobians, which reuse forward values), so its
# rounding is of the same order, and sums over S positions (embedding and
# bias gradients: at most 13 terms here) add at most a factor of a few.
# 1e-4 keeps a >10x margin over that while a wrong derivative (a missing
# 1/sqrt(dh), a transposed weight gradient, a GQA group summed into the wrong
# head, a tied weight that gets only one of its two uses, an unscaled mean)
# is off by O(1). The error is normalised per gradient by that gradient's
# largest entry: gradients differ in scale by orders of magnitude across
# parameters, and element-wise relative error is meaningless near zero.
TOLERANCE = 1e-4
# Rematerialization recomputes the same float32 operations on the same
# inputs, so its gradients should equal --remat=none's up to (at most) a
# different evaluation order: 1e-5 of max|g|, relative as above.
REMAT_TOLERANCE = 1e-5
TINY = 1e-30

COMMAND_TIMEOUT = 600
SEQ_LENS = (8, 13)  # a power of two and a prime

# (model, seed, weight scale, make_checkpoint.py extra arguments, lengths).
# The x10 variants make attention sharp (see test_e2e.py) and use the other
# spellings: prefixed gpt2 names, a tied llama head and another rope_theta.
VARIANTS = [
    ("gpt2", 0, 1.0, [], SEQ_LENS),
    ("gpt2", 1, 10.0, ["--prefixed"], SEQ_LENS),
    ("bert", 0, 1.0, [], SEQ_LENS),
    ("llama", 0, 1.0, [], SEQ_LENS),
    ("llama", 1, 10.0, ["--set", "tie_word_embeddings=true",
                        "--set", "rope_theta=500000.0"], SEQ_LENS),
]

# Extra cases on one checkpoint each: (name, variant index, S, compile flags,
# loss, temperature). The loss name is what the inputs and the reference use.
LOSS_CASES = [
    ("bert seed=0 --loss=mse S=13", 2, 13, ["--loss=mse"], "mse", 1.0),
    ("gpt2 seed=0 --loss=kl_div:2 S=8", 0, 8, ["--loss=kl_div:2"], "kl_div", 2.0),
    ("gpt2 seed=1 x10 --loss=kl_div:2 S=13", 1, 13, ["--loss=kl_div:2"], "kl_div", 2.0),
]

# Rematerialization: each variant at one length, every mode; `optimal` under
# a budget halfway between the smallest that fits and --remat=none's arena.
REMAT_CASES = [(1, 13), (4, 8), (2, 8)]
REMAT_MODES = ("all", "sqrt", "optimal")

BAD_CASES = ["wrong-loss-bert-cross_entropy", "unknown-loss", "budget-1KiB",
             "missing-seq-len"]

_SMALLEST = re.compile(r"smallest planned activation arena is (\d+) bytes")


def smallest_budget(message, given=1024):
    """The smallest budget that tmc-compile's --memory-budget error names
    ("... the smallest planned activation arena is N bytes ..."), or None."""
    m = _SMALLEST.search(message)
    return int(m.group(1)) if m else None

def param_names(mlir_path):
    """The tfm.param names of an imported model, in order."""
    with open(mlir_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    names = []
    for m in re.finditer(r'tfm\.param\s+"([^"]+)"', text):
        if m.group(1) not in names:
            names.append(m.group(1))
    return names


_PREFIXES = ("transformer.", "bert.", "model.")


def checkpoint_name(tmc_name, ref_names):
    """The checkpoint tensor that TMC parameter `tmc_name` stands for: the
    same name, or the same name with a wrapper prefix added or removed (the
    importer may keep or strip `transformer.`, `bert.`, `model.`), or a bert
    LayerNorm's legacy gamma/beta spelling. None if nothing matches."""
    bare = tmc_name
    for p in _PREFIXES:
        if bare.startswith(p):
            bare = bare[len(p):]
            break
    candidates = [tmc_name, bare] + [p + bare for p in _PREFIXES]
    for c in list(candidates):
        for a, b in ((".weight", ".gamma"), (".bias", ".beta")):
            if c.endswith(a) and "LayerNorm" in c:
                candidates.append(c[:-len(a)] + b)
    for c in candidates:
        if c in ref_names:
            return c
    return None


# Some gradients are zero in exact arithmetic: a key bias shifts every score
# of a query row by the same amount, which softmax ignores, so its gradient is
# a sum of terms that cancel. float32 leaves a residue of the terms' size times
# its rounding error, so such a gradient is measured against a floor of
# ZERO_FLOOR times the model's largest gradient entry instead of its own norm.
ZERO_FLOOR = 1e-5


def rel_err(got, ref, floor=TINY):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    diff = np.abs(got - ref)
    return float(np.max(diff)) / max(float(np.max(np.abs(ref))), floor, TINY), diff


class Runner(test_e2e.Runner):
    command_timeout = COMMAND_TIMEOUT
    name_width = 44

    def __init__(self, bin_dir, tmp, verbose):
        super().__init__(bin_dir, tmp, verbose)
        self.torch_lock = threading.Lock()
        self.prepared = {}  # variant index -> (ckpt, mlir, base, vocab, hidden) or CaseFailure
        self.prep_lock = threading.Lock()

    # ---- set-up: checkpoint + import, once per variant -------------------

    def prepare(self, index):
        with self.prep_lock:
            if index not in self.prepared:
                try:
                    self.prepared[index] = self._prepare(index)
                except CaseFailure as e:
                    self.prepared[index] = e
            got = self.prepared[index]
        if isinstance(got, CaseFailure):
            raise CaseFailure("setup: %s" % got)
        return got

    def _prepare(self, index):
        model, seed, scale, extra, _ = VARIANTS[index]
        base = os.path.join(self.tmp, "%s-%d-x%g" % (model, seed, scale))
        ckpt = os.path.join(base, "ckpt")
        mlir = os.path.join(base, "model.mlir")
        os.makedirs(base)
        self.must_succeed([sys.executable, MAKE_CHECKPOINT] + MODELS[model] + extra
                          + ["--seed", str(seed), ckpt], "make_checkpoint.py")
        if scale != 1.0:
            rescale_checkpoint(ckpt, scale)
        self.must_succeed([self.tool("tmc-import"), ckpt, "-o", mlir], "tmc-import")
        if not os.path.isfile(mlir):
            raise CaseFailure("tmc-import succeeded but wrote no %s" % mlir)
        with open(os.path.join(ckpt, "config.json")) as f:
            config = json.load(f)
        hidden = int(config.get("hidden_size") or config.get("n_embd"))
        return ckpt, mlir, base, int(config["vocab_size"]), hidden

    # ---- one training step -----------------------------------------------

    def loss_inputs(self, loss, s, vocab, hidden, rng, base, tag):
        """The second model input for `loss`: (name, file, array)."""
        if loss == "cross_entropy":
            name = "labels"
            arr = rng.integers(0, vocab, size=(1, s), dtype=np.int64)
            arr[0, -1] = vocab - 1  # the last class
        elif loss == "mse":
            name = "target"
            arr = rng.standard_normal((1, s, hidden)).astype(np.float32)
        else:
            name = "teacher_logits"
            arr = (rng.standard_normal((1, s, vocab)) * 3).astype(np.float32)
        path = os.path.join(base, "%s-%s.npy" % (name, tag))
        np.save(path, arr)
        return name, path, arr

    def step(self, index, s, flags, loss, tag, seed_offset=0):
        """Compiles with --train + flags, runs one step on random inputs and
        returns (outdir, loss value, {tmc param name: gradient}, inputs)."""
        ckpt, mlir, base, vocab, hidden = self.prepare(index)
        rng = np.random.default_rng(100 * index + s + seed_offset)
        ids = rng.integers(0, vocab, size=(1, s), dtype=np.int64)
        ids[0, 0] = vocab - 1          # the last embedding row
        ids[0, 1:3] = ids[0, 3]        # repeated tokens: embedding gradients accumulate
        ids_path = os.path.join(base, "ids-%s.npy" % tag)
        np.save(ids_path, ids)
        lname, lpath, larr = self.loss_inputs(loss, s, vocab, hidden, rng, base, tag)
        outdir = os.path.join(base, "out-%s" % tag)
        self.must_succeed([self.tool("tmc-compile"), mlir, "-o", outdir, "--seq-len=%d" % s,
                           "--train"] + flags, "tmc-compile --train " + " ".join(flags))
        params = param_names(mlir)
        if not params:
            raise CaseFailure("no tfm.param in %s" % mlir)
        gdir = os.path.join(outdir, "grads")
        os.makedirs(gdir, exist_ok=True)
        files = {"loss": os.path.join(gdir, "loss.npy")}
        argv = [self.tool("tmc-run"), outdir, "--input", "input_ids=" + ids_path,
                "--input", "%s=%s" % (lname, lpath), "--output", "loss=" + files["loss"]]
        for i, p in enumerate(params):
            files["grad." + p] = os.path.join(gdir, "g%03d.npy" % i)
            argv += ["--output", "grad.%s=%s" % (p, files["grad." + p])]
        text = self.must_succeed(argv, "tmc-run")
        # The model's outputs are exactly loss, then one grad.<param> per parameter.
        outs = re.findall(r"^\s*output\s+(\S+):", text, re.M)
        want = ["loss"] + ["grad." + p for p in params]
        if outs and outs[0] != "loss":
            raise CaseFailure("first output is %r, expected 'loss'" % outs[0])
        if outs and sorted(outs) != sorted(want):
            extra = sorted(set(outs) - set(want))
            missing = sorted(set(want) - set(outs))
            raise CaseFailure("outputs differ from loss + grad.<param>: extra %s, missing %s"
                              % (extra[:4], missing[:4]))
        got = {}
        for key, path in files.items():
            if not os.path.isfile(path):
                raise CaseFailure("tmc-run wrote no %s" % key)
            arr = np.load(path)
            if arr.dtype != np.float32:
                raise CaseFailure("%s has dtype %s, expected float32" % (key, arr.dtype))
            if not np.all(np.isfinite(arr)):
                raise CaseFailure("%s has %d non-finite values"
                                  % (key, int(np.sum(~np.isfinite(arr)))))
            got[key] = arr
        if got["loss"].shape != (1,):
            raise CaseFailure("loss has shape %s, expected [1]" % list(got["loss"].shape))
        grads = {p: got["grad." + p] for p in params}
        return outdir, float(got["loss"][0]), grads, (ckpt, ids, larr)

    def reference(self, ckpt, ids, loss, larr, temperature):
        with self.torch_lock:  # one autograd graph at a time; the tools run in parallel
            return torch_reference.loss_and_grads(ckpt, ids, loss, larr, temperature)

    def compare(self, loss_value, grads, ref_loss, ref_grads):
        """Checks the loss and every gradient; returns a summary."""
        lerr = abs(loss_value - ref_loss) / max(abs(ref_loss), 1.0)
        if lerr > TOLERANCE:
            raise CaseFailure("loss %.7g, reference %.7g: rel error %.2e > %.0e"
                              % (loss_value, ref_loss, lerr, TOLERANCE))
        matched, worst, worst_name = set(), 0.0, ""
        bad = []
        floor = ZERO_FLOOR * max(float(np.max(np.abs(r))) for r in ref_grads.values())
        for p, g in grads.items():
            name = checkpoint_name(p, ref_grads)
            if name is None:
                raise CaseFailure("grad.%s matches no checkpoint tensor the loss depends on"
                                  % p)
            if name in matched:
                raise CaseFailure("two gradients for checkpoint tensor %s" % name)
            matched.add(name)
            ref = ref_grads[name]
            if g.shape != ref.shape:
                raise CaseFailure("grad.%s has shape %s, expected %s"
                                  % (p, list(g.shape), list(ref.shape)))
            err, diff = rel_err(g, ref, floor)
            if err > worst:
                worst, worst_name = err, p
            if err > TOLERANCE:
                where = np.unravel_index(int(np.argmax(diff)), diff.shape)
                bad.append("grad.%s rel error %.2e (at %s: got %.6g, want %.6g)"
                           % (p, err, list(map(int, where)), float(g[where]),
                              float(ref[where])))
        missing = sorted(set(ref_grads) - matched)
        if missing:
            raise CaseFailure("no gradient for %d tensors the loss depends on: %s"
                              % (len(missing), ", ".join(missing[:4])))
        if bad:
            raise CaseFailure("%d of %d gradients above %.0e: %s"
                              % (len(bad), len(grads), TOLERANCE, "; ".join(bad[:3])))
        return ("loss rel error %.1e; %d gradients, worst %.2e (%s)"
                % (lerr, len(grads), worst, worst_name))

    def check_report(self, outdir, mode, loss, budget=None):
        """The report's `train` object is there and consistent with the flags."""
        path = os.path.join(outdir, "report.json")
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            raise CaseFailure("cannot read report.json: %s" % e)
        train = report.get("train")
        if not isinstance(train, dict):
            raise CaseFailure("report.json has no 'train' object")
        for key in ("loss", "remat", "gradient_bytes"):
            if key not in train:
                raise CaseFailure("report.json train has no %r" % key)
        if not str(train["loss"]).startswith(loss):
            raise CaseFailure("report.json train.loss is %r, expected %s"
                              % (train["loss"], loss))
        remat = train["remat"]
        for key in ("mode", "budget_bytes", "arena_bytes", "forward_flops",
                    "recompute_flops", "layers"):
            if key not in remat:
                raise CaseFailure("report.json train.remat has no %r" % key)
        if remat["mode"] != mode:
            raise CaseFailure("train.remat.mode is %r, expected %r" % (remat["mode"], mode))
        if budget is None and remat["budget_bytes"] is not None:
            raise CaseFailure("train.remat.budget_bytes is %r without a budget"
                              % remat["budget_bytes"])
        if budget is not None:
            if remat["budget_bytes"] != budget:
                raise CaseFailure("train.remat.budget_bytes is %r, expected %d"
                                  % (remat["budget_bytes"], budget))
            if remat["arena_bytes"] > budget:
                raise CaseFailure("train.remat.arena_bytes %d exceeds the budget %d"
                                  % (remat["arena_bytes"], budget))
        if mode == "none" and remat["recompute_flops"] != 0:
            raise CaseFailure("--remat=none recomputes %r FLOPs" % remat["recompute_flops"])
        if mode == "all" and not remat["recompute_flops"] > 0:
            raise CaseFailure("--remat=all recomputes nothing")
        if not isinstance(remat["layers"], list) or not all(
                isinstance(l, dict) and "index" in l and "decision" in l
                for l in remat["layers"]):
            raise CaseFailure("train.remat.layers is not a list of {index, decision}")
        return remat

    # ---- cases -----------------------------------------------------------

    def default_loss_case(self, index, s):
        model = VARIANTS[index][0]
        loss = torch_reference.DEFAULT_LOSS[model]
        outdir, value, grads, (ckpt, ids, larr) = self.step(index, s, [], loss,
                                                            "default-S%d" % s)
        self.check_report(outdir, "none", loss)
        ref_loss, ref_grads = self.reference(ckpt, ids, loss, larr, 1.0)
        return self.compare(value, grads, ref_loss, ref_grads)

    def loss_case(self, index, s, flags, loss, temperature, tag):
        outdir, value, grads, (ckpt, ids, larr) = self.step(index, s, flags, loss, tag)
        self.check_report(outdir, "none", loss)
        ref_loss, ref_grads = self.reference(ckpt, ids, loss, larr, temperature)
        return self.compare(value, grads, ref_loss, ref_grads)

    def min_budget(self, index, s, tag):
        """The smallest budget, from the error of --memory-budget=1KiB."""
        _, mlir, base, _, _ = self.prepare(index)
        outdir = os.path.join(base, "out-%s-1KiB" % tag)
        rc, out, err = self.run([self.tool("tmc-compile"), mlir, "-o", outdir,
                                 "--seq-len=%d" % s, "--train", "--remat=optimal",
                                 "--memory-budget=1KiB"])
        if rc == 0:
            raise CaseFailure("--memory-budget=1KiB compiled (no activation arena fits 1KiB)")
        n = smallest_budget(out + err)
        if n is None:
            raise CaseFailure("the --memory-budget=1KiB error names no smallest budget: %s"
                              % _first_line(out + err))
        return n

    def remat_chain(self, index, s):
        """--remat=none, then all / sqrt / optimal (budget halfway between the
        smallest and none's arena, and exactly the smallest); each must give
        none's gradients and pass against torch."""
        model, seed, scale = VARIANTS[index][:3]
        name0 = "%s seed=%d%s S=%d --remat=" % (model, seed, "" if scale == 1 else " x%g" % scale,
                                                s)
        loss = torch_reference.DEFAULT_LOSS[model]
        t0 = time.time()
        try:
            outdir, v0, g0, (ckpt, ids, larr) = self.step(index, s, ["--remat=none"], loss,
                                                          "remat-none-S%d" % s, seed_offset=7)
            remat0 = self.check_report(outdir, "none", loss)
            ref_loss, ref_grads = self.reference(ckpt, ids, loss, larr, 1.0)
            detail = self.compare(v0, g0, ref_loss, ref_grads)
            self.record(name0 + "none", True, detail, time.time() - t0)
        except (CaseFailure, Exception) as e:
            msg = str(e) if isinstance(e, CaseFailure) else "driver error: %s: %s" % (
                type(e).__name__, e)
            self.record(name0 + "none", False, msg, time.time() - t0)
            for m in REMAT_MODES + ("optimal(min)",):
                self.record(name0 + m, False, "setup: --remat=none failed", 0.0)
            return

        def one(mode, flags, budget=None):
            out, v, g, _ = self.step(index, s, flags, loss, "remat-%s-S%d" % (
                mode.replace("(", "").replace(")", ""), s), seed_offset=7)
            remat = self.check_report(out, "optimal" if mode.startswith("optimal") else mode,
                                      loss, budget)
            lerr = abs(v - v0) / max(abs(v0), 1.0)
            if lerr > REMAT_TOLERANCE:
                raise CaseFailure("loss %.7g differs from --remat=none's %.7g (%.2e)"
                                  % (v, v0, lerr))
            worst = 0.0
            for p in g0:
                err, _ = rel_err(g[p], g0[p])
                if err > REMAT_TOLERANCE:
                    raise CaseFailure("grad.%s differs from --remat=none's by %.2e > %.0e"
                                      % (p, err, REMAT_TOLERANCE))
                worst = max(worst, err)
            self.compare(v, g, ref_loss, ref_grads)
            return ("arena %d (none %d), recompute %.2f of forward; vs none %.1e; vs torch ok"
                    % (remat["arena_bytes"], remat0["arena_bytes"],
                       remat["recompute_flops"] / max(remat["forward_flops"], 1), worst))

        self.guarded(name0 + "all", one, "all", ["--remat=all"])
        self.guarded(name0 + "sqrt", one, "sqrt", ["--remat=sqrt"])
        t1 = time.time()
        try:
            smallest = self.min_budget(index, s, "S%d" % s)
            budget = (smallest + remat0["arena_bytes"]) // 2
            if smallest > remat0["arena_bytes"]:
                raise CaseFailure("the smallest budget %d exceeds --remat=none's arena %d"
                                  % (smallest, remat0["arena_bytes"]))
        except CaseFailure as e:
            self.record(name0 + "optimal", False, str(e), time.time() - t1)
            self.record(name0 + "optimal(min)", False, str(e), 0.0)
            return
        self.guarded(name0 + "optimal", one, "optimal",
                     ["--remat=optimal", "--memory-budget=%d" % budget], budget)
        self.guarded(name0 + "optimal(min)", one, "optimal(min)",
                     ["--remat=optimal", "--memory-budget=%d" % smallest], smallest)

    # ---- bad inputs ------------------------------------------------------

    def expect_clean_failure(self, name, argv, must_mention, no_file=None):
        """Non-zero exit (not a signal), no crash markers, a first error line
        that mentions each group of must_mention, and no complete-looking
        output left behind. Compile diagnostics may quote the source line
        under the message, so more than one line is allowed."""
        if no_file and os.path.exists(no_file):
            os.remove(no_file)
        rc, out, err = self.run(argv, timeout=120)
        text = out + err
        if rc is None:
            raise CaseFailure("timed out (hang)")
        if rc == 0:
            raise CaseFailure("exited 0 on bad input")
        if rc < 0 or rc >= 128:
            raise CaseFailure("killed by a signal (%s): %s" % (_rc_text(rc), _first_line(text)))
        for m in CRASH_MARKERS:
            if m.lower() in text.lower():
                raise CaseFailure("output contains %r: %s" % (m, _first_line(text)))
        if "unknown command line argument" in text.lower():
            # The option itself must exist; its value is what is wrong.
            raise CaseFailure("option not recognised: %s" % _first_line(text))
        lines = [l for l in text.splitlines() if l.strip()]
        if not lines:
            raise CaseFailure("failed without a message")
        msg = next((l for l in lines if "error" in l.lower()), lines[0])
        for group in must_mention:
            if not any(g.lower() in msg.lower() for g in group):
                raise CaseFailure("message does not mention %s: %s"
                                  % (" or ".join(repr(g) for g in group), msg))
        if no_file and os.path.exists(no_file):
            raise CaseFailure("left %s behind after failing" % os.path.basename(no_file))
        return "rc=%d: %s" % (rc, msg.strip())

    def bad_cases(self, want):
        compile_ = self.tool("tmc-compile")

        def case(tag, index, args, mention, check=None):
            name = "bad-input " + tag
            if not want(name):
                return

            def body():
                _, mlir, base, _, _ = self.prepare(index)
                out = os.path.join(base, "bad-" + tag)
                detail = self.expect_clean_failure(
                    name, [compile_, mlir, "-o", out] + args, mention,
                    no_file=os.path.join(out, "model.so"))
                if check:
                    detail = check(out, detail)
                return detail
            self.guarded(name, body)

        case("wrong-loss-bert-cross_entropy", 2,
             ["--seq-len=8", "--train", "--loss=cross_entropy"],
             [["cross_entropy", "cross-entropy"],
              ["bert", "last_hidden_state", "logits", "mse"]])
        case("unknown-loss", 0, ["--seq-len=8", "--train", "--loss=hinge"], [["hinge"]])

        def names_budget(out, detail):
            n = smallest_budget(detail)
            if n is None:
                raise CaseFailure("the message names no smallest budget: %s" % detail)
            return detail + " [smallest %d bytes]" % n
        case("budget-1KiB", 0, ["--seq-len=8", "--train", "--remat=optimal",
                                "--memory-budget=1KiB"],
             [["budget", "memory"]], names_budget)


def variant_name(index):
    model, seed, scale = VARIANTS[index][:3]
    return "%s seed=%d%s" % (model, seed, "" if scale == 1.0 else " x%g" % scale)


def run_all(bin_dir, jobs=None, pattern=None, keep=False, verbose=False):
    bin_dir = os.path.abspath(bin_dir)
    problems = missing_prerequisites(bin_dir)
    if problems:
        for p in problems:
            print("FAIL %s" % p, flush=True)
        return 0, len(problems)
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="tmc-train-")
    runner = Runner(bin_dir, tmp, verbose)

    def want(name):
        return not pattern or re.search(pattern, name)

    tasks = []
    for i, (_, _, _, _, lens) in enumerate(VARIANTS):
        for s in lens:
            name = "%s S=%d" % (variant_name(i), s)
            if want(name):
                tasks.append((runner.guarded, (name, runner.default_loss_case, i, s)))
    for name, i, s, flags, loss, temperature in LOSS_CASES:
        if want(name):
            tasks.append((runner.guarded, (name, runner.loss_case, i, s, flags, loss,
                                           temperature, "loss-%s-S%d" % (loss, s))))
    for i, s in REMAT_CASES:
        if any(want("%s S=%d --remat=%s" % (variant_name(i), s, m))
               for m in ("none",) + REMAT_MODES):
            tasks.append((runner.remat_chain, (i, s)))
    if any(want("bad-input " + c) for c in BAD_CASES):
        tasks.insert(0, (runner.bad_cases, (want,)))
    return run_tasks(runner, tasks, jobs, "train", tmp, keep)


def main(argv=None):
    return suite_main(argv, "TMC training-step gradient tests", "train", run_all)


if __name__ == "__main__":
    sys.exit(main())
