#!/usr/bin/env python3
"""Randomized test of the buffer planner: random small tfm programs, each
compiled twice (with the buffer plan, and with --no-plan-buffers so that every
intermediate buffer is a heap allocation), run on the same random input, with
bit-identical outputs required, and each report.json's plan re-checked here.

  python3 test/e2e/test_plan_random.py --bin-dir build/bin [--seed N] [--count N]
                                       [-j N] [--keep] [-v]

The programs are random DAGs on [1, S, D] activations: tfm.linear (both weight
layouts, with and without bias), tfm.add of two earlier values (long live
ranges), tfm.activation, tfm.gated_activation, tfm.layer_norm, tfm.rms_norm,
tfm.attention (causal or not, grouped-query or not), tfm.split, some inside
tfm.layer regions, some starting from token ids (tfm.embedding and
tfm.positions), with random inline weights (dense<...> and dense_resource).

Both compiles run the same code on the same data; only where the buffers live
differs. A planner that lets two buffers live at the same time overlap makes
one overwrite the other, which changes the output, so the outputs must be
equal bit for bit, not merely close. The planned compile also runs
tmc-check-buffer-plan, which fails the compile on any overlap it can see.

tfm.rope is left out: its angles are compile-time constants, and LLVM folds
the sine and cosine of some of them at compile time (correctly rounded) while
the others call libm's sincosf at run time (which can be 1 ulp off). Which
ones are folded depends on unrolling decisions, which depend on the alias
information that arena views and heap allocations give, so the two builds of
a rope program can differ in the last bit with a correct plan.

The report check is independent of the compiler's code: every two buffers
whose [first_use, last_use] intersect must be disjoint in [offset, offset +
size), every buffer must fit in arena_bytes, the lower bound must equal the
peak of live bytes recomputed from the buffers, and arena_bytes must be at
least that lower bound.

Prints one line per failing program (every program with -v) and a summary:
"plan-random: N programs, N passed, N failed; N buffers; arena/lower bound
mean R, worst R". Exits non-zero if any program failed. Needs only numpy.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover
    print("test_plan_random.py: numpy is required (python3 -m pip install numpy)",
          file=sys.stderr)
    sys.exit(1)

# Per-command limit: anything slower is reported as a hang.
COMMAND_TIMEOUT = 120

DIMS = (4, 6, 8, 12, 16, 24, 32)
ACTIVATIONS = ("gelu_erf", "gelu_tanh", "relu", "silu")


def tensor(d):
    return "tensor<1x?x%dxf32>" % d


class Program:
    """Builds the text of one random tfm module."""

    def __init__(self, rng):
        self.rng = rng
        self.resources = []  # (name, hex blob)
        self.n_params = 0
        self.n_values = 0
        self.n_layers = 0
        self.uses_ids = False
        self.vocab = 0
        self.used = set()

    # ---- weights ----------------------------------------------------------

    def param(self, prefix, shape, scale, indent):
        """Declares a parameter with random inline values; returns its name."""
        self.n_params += 1
        name = "%sp%d" % (prefix, self.n_params)
        values = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        type_text = "tensor<%sxf32>" % "x".join(str(d) for d in shape)
        kind = self.rng.integers(0, 4)
        if kind == 0:
            # A splat: every element the same.
            value = "dense<%r> : %s" % (float(values.flat[0]), type_text)
        elif kind == 1:
            value = "dense<%s> : %s" % (
                json.dumps(values.tolist()), type_text)
        else:
            key = "blob_%d" % self.n_params
            self.resources.append((key, "0x04000000" + values.tobytes().hex()))
            value = "dense_resource<%s> : %s" % (key, type_text)
        ssa = "%%w%d" % self.n_params
        self.lines.append('%s%s = tfm.param "%s" {value = %s} : %s' % (
            indent, ssa, name, value, type_text))
        return ssa

    # ---- values -----------------------------------------------------------

    def new_value(self):
        self.n_values += 1
        return "%%v%d" % self.n_values

    def pick(self, values, d=None):
        """A value, of feature size `d` if given: mostly recent, sometimes old
        (an old operand keeps its buffer live for a long time)."""
        pool = [v for v in values if d is None or v[1] == d]
        if not pool:
            return None
        if self.rng.random() < 0.3:
            v = pool[self.rng.integers(0, len(pool))]
        else:
            v = pool[-1 - min(self.rng.integers(0, 3), len(pool) - 1)]
        self.used.add(v[0])
        return v

    # ---- ops --------------------------------------------------------------

    def linear(self, values, prefix, indent, x=None, d_out=None):
        rng = self.rng
        x = x or self.pick(values)
        self.used.add(x[0])
        d_in = x[1]
        d_out = d_out or int(rng.choice(DIMS))
        in_out = rng.random() < 0.5
        shape = (d_in, d_out) if in_out else (d_out, d_in)
        w = self.param(prefix, shape, 1.0 / np.sqrt(d_in), indent)
        operands, types = [x[0], w], [tensor(d_in), "tensor<%dx%dxf32>" % shape]
        if rng.random() < 0.6:
            operands.append(self.param(prefix, (d_out,), 0.1, indent))
            types.append("tensor<%dxf32>" % d_out)
        attrs = " {layout = #tfm<layout in_out>}" if in_out else ""
        y = self.new_value()
        self.lines.append("%s%s = tfm.linear %s%s : %s" % (
            indent, y, ", ".join(operands), attrs, ", ".join(types)))
        return (y, d_out)

    def attention(self, values, prefix, indent):
        rng = self.rng
        head_dim = int(rng.choice((2, 4, 8)))
        kv_heads = int(rng.choice((1, 2)))
        heads = kv_heads * int(rng.choice((1, 2)))
        x = self.pick(values)
        dq, dkv = heads * head_dim, kv_heads * head_dim
        if rng.random() < 0.5:
            # One fused projection, split into queries, keys and values.
            qkv = self.linear(values, prefix, indent, x=x, d_out=dq + 2 * dkv)
            s = self.new_value()
            self.lines.append("%s%s:3 = tfm.split %s [%d, %d, %d] : %s" % (
                indent, s, qkv[0], dq, dkv, dkv, tensor(qkv[1])))
            q, k, v = (s + "#0", dq), (s + "#1", dkv), (s + "#2", dkv)
        else:
            q = self.linear(values, prefix, indent, x=x, d_out=dq)
            k = self.linear(values, prefix, indent, x=self.pick(values), d_out=dkv)
            v = self.linear(values, prefix, indent, x=self.pick(values), d_out=dkv)
        attrs = ["num_heads = %d" % heads, "num_kv_heads = %d" % kv_heads]
        if rng.random() < 0.5:
            attrs.append("causal")
        if rng.random() < 0.3:
            attrs.append("scale = %r" % float(rng.uniform(0.1, 1.0)))
        y = self.new_value()
        self.lines.append("%s%s = tfm.attention %s, %s, %s {%s} : %s, %s, %s" % (
            indent, y, q[0], k[0], v[0], ", ".join(attrs), tensor(dq),
            tensor(dkv), tensor(dkv)))
        return (y, dq)

    def op(self, values, prefix, indent):
        """Appends one random op; returns the values it defines."""
        rng = self.rng
        kind = rng.choice(["linear", "linear", "add", "add", "activation",
                           "gated", "layer_norm", "rms_norm", "attention",
                           "split"])
        if kind == "linear":
            return [self.linear(values, prefix, indent)]
        if kind == "attention":
            return [self.attention(values, prefix, indent)]
        if kind in ("add", "gated"):
            a = self.pick(values)
            b = self.pick(values, a[1])
            if b is None or b[0] == a[0] and rng.random() < 0.5:
                b = self.linear(values, prefix, indent, x=self.pick(values),
                                d_out=a[1])
            y = self.new_value()
            if kind == "add":
                self.lines.append("%s%s = tfm.add %s, %s : %s" % (
                    indent, y, a[0], b[0], tensor(a[1])))
            else:
                act = rng.choice(ACTIVATIONS)
                self.lines.append("%s%s = tfm.gated_activation %s %s, %s : %s" % (
                    indent, y, act, a[0], b[0], tensor(a[1])))
            return [(y, a[1])]
        x = self.pick(values)
        d = x[1]
        y = self.new_value()
        if kind == "activation":
            self.lines.append("%s%s = tfm.activation %s %s : %s" % (
                indent, y, rng.choice(ACTIVATIONS), x[0], tensor(d)))
            return [(y, d)]
        if kind in ("layer_norm", "rms_norm"):
            g = self.param(prefix, (d,), 1.0, indent)
            eps = " {epsilon = 0.001}" if rng.random() < 0.3 else ""
            if kind == "layer_norm":
                b = self.param(prefix, (d,), 0.1, indent)
                self.lines.append("%s%s = tfm.layer_norm %s, %s, %s%s : %s, %s" % (
                    indent, y, x[0], g, b, eps, tensor(d), "tensor<%dxf32>" % d))
            else:
                self.lines.append("%s%s = tfm.rms_norm %s, %s%s : %s, %s" % (
                    indent, y, x[0], g, eps, tensor(d), "tensor<%dxf32>" % d))
            return [(y, d)]
        # split
        if d < 8:
            self.n_values -= 1
            return [self.linear(values, prefix, indent, x=x)]
        cut = int(rng.integers(1, d // 2)) * 2
        self.lines.append("%s%s:2 = tfm.split %s [%d, %d] : %s" % (
            indent, y, x[0], cut, d - cut, tensor(d)))
        return [(y + "#0", cut), (y + "#1", d - cut)]

    def block(self, values, n_ops, prefix, indent):
        for _ in range(n_ops):
            values.extend(self.op(values, prefix, indent))

    def layer(self, values, indent):
        """A tfm.layer of one or two inputs; its body is a random block that
        yields a value of the first input's size."""
        rng = self.rng
        n = self.n_layers
        self.n_layers += 1
        inputs = [self.pick(values)]
        if rng.random() < 0.4:
            inputs.append(self.pick(values))
        args = [("%%l%da%d" % (n, i), v[1]) for i, v in enumerate(inputs)]
        out = self.new_value()
        d = inputs[0][1]
        self.lines.append('%s%s = tfm.layer "blk.%d" index %d(%s) : (%s) -> %s {' % (
            indent, out, n, n, ", ".join(v[0] for v in inputs),
            ", ".join(tensor(v[1]) for v in inputs), tensor(d)))
        self.lines.append("%s^bb0(%s):" % (indent, ", ".join(
            "%s: %s" % (a[0], tensor(a[1])) for a in args)))
        body = list(args)
        inner = indent + "  "
        prefix = "blk.%d." % n
        self.block(body, int(rng.integers(2, 7)), prefix, inner)
        last = body[-1]
        if last[1] != d:
            last = self.linear(body, prefix, inner, x=last, d_out=d)
        y = self.new_value()
        self.lines.append("%s%s = tfm.add %s, %s : %s" % (
            inner, y, args[0][0], last[0], tensor(d)))
        self.lines.append("%stfm.yield %s : %s" % (inner, y, tensor(d)))
        self.lines.append("%s}" % indent)
        return (out, d)

    def build(self):
        rng = self.rng
        self.lines = []
        indent = "    "
        d0 = int(rng.choice(DIMS))
        if rng.random() < 0.25:
            self.uses_ids = True
            self.vocab = int(rng.integers(5, 40))
            signature = "%ids: tensor<1x?xi64> {tfm.name = \"ids\"}"
            wte = self.param("", (self.vocab, d0), 1.0, indent)
            e = self.new_value()
            self.lines.append("%s%s = tfm.embedding %s[%%ids] : tensor<%dx%dxf32>, "
                              "tensor<1x?xi64>" % (indent, e, wte, self.vocab, d0))
            values = [(e, d0)]
            if rng.random() < 0.5:
                pos = self.new_value()
                self.lines.append("%s%s = tfm.positions like %%ids : tensor<1x?xi64>"
                                  % (indent, pos))
                wpe = self.param("", (64, d0), 1.0, indent)
                p = self.new_value()
                self.lines.append("%s%s = tfm.embedding %s[%s] : tensor<64x%dxf32>, "
                                  "tensor<1x?xi64>" % (indent, p, wpe, pos, d0))
                s = self.new_value()
                self.lines.append("%s%s = tfm.add %s, %s : %s" % (
                    indent, s, e, p, tensor(d0)))
                values.append((s, d0))
        else:
            signature = "%%x: %s {tfm.name = \"x\"}" % tensor(d0)
            values = [("%x", d0)]
        self.d0 = d0
        for _ in range(int(rng.integers(3, 9))):
            if rng.random() < 0.3:
                values.append(self.layer(values, indent))
            else:
                values.extend(self.op(values, "", indent))
        # Every value that nothing uses reaches an output, so that no op is
        # dead: the unused values of one size are summed into one output
        # (at most three outputs; other sizes are projected to the last's).
        sinks = [v for v in values[1:] if v[0] not in self.used]
        groups = {}
        for v in sinks:
            groups.setdefault(v[1], []).append(v)
        sizes = sorted(groups, key=lambda d: -max(sinks.index(v) for v in groups[d]))
        last = sizes[0]
        for d in sizes[3:]:
            for v in groups.pop(d):
                groups[last].append(self.linear(values, "", indent, x=v, d_out=last))
        outputs = []
        for d in sizes[:3]:
            acc = groups[d][0]
            for v in groups[d][1:]:
                y = self.new_value()
                self.lines.append("%s%s = tfm.add %s, %s : %s" % (
                    indent, y, acc[0], v[0], tensor(d)))
                acc = (y, d)
            outputs.append(acc)
        self.outputs = [("y%d" % i, v[1]) for i, v in enumerate(outputs)]
        results = ", ".join("%s {tfm.name = \"y%d\"}" % (tensor(v[1]), i)
                            for i, v in enumerate(outputs))
        text = ["module {",
                "  func.func @forward(%s) -> (%s) {" % (signature, results)]
        text += self.lines
        text.append("    return %s : %s" % (", ".join(v[0] for v in outputs),
                                              ", ".join(tensor(v[1]) for v in outputs)))
        text += ["  }", "}"]
        if self.resources:
            text += ["", "{-#", "  dialect_resources: {", "    builtin: {"]
            text += ['      %s: "%s",' % r for r in self.resources[:-1]]
            text.append('      %s: "%s"' % self.resources[-1])
            text += ["    }", "  }", "#-}"]
        return "\n".join(text) + "\n"


class Failure(Exception):
    pass


def run(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("%s timed out after %ds" % (os.path.basename(argv[0]),
                                                   COMMAND_TIMEOUT))
    if p.returncode != 0:
        err = (p.stderr or p.stdout).decode("utf-8", "replace").strip()
        raise Failure("%s exited %d: %s" % (os.path.basename(argv[0]), p.returncode,
                                            err[:2000]))
    return p.stdout.decode("utf-8", "replace")


def live_bytes_peak(buffers):
    """The most bytes live at one program point."""
    events = []
    for b in buffers:
        events.append((b["first_use"], b["size"]))
        events.append((b["last_use"] + 1, -b["size"]))
    peak = live = 0
    for _, delta in sorted(events):
        live += delta
        peak = max(peak, live)
    return peak


def check_report(report):
    """Re-checks a planned report.json; returns the number of buffers."""
    buffers = report["buffers"]
    arena = report["arena_bytes"]
    for b in buffers:
        if b["size"] <= 0 or b["offset"] < 0 or b["offset"] + b["size"] > arena:
            raise Failure("buffer %s [%d, %d) is outside the arena of %d bytes" % (
                b["name"], b["offset"], b["offset"] + b["size"], arena))
        if b["first_use"] > b["last_use"]:
            raise Failure("buffer %s has an empty live range [%d, %d]" % (
                b["name"], b["first_use"], b["last_use"]))
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            live = a["first_use"] <= b["last_use"] and b["first_use"] <= a["last_use"]
            overlap = (a["offset"] < b["offset"] + b["size"] and
                       b["offset"] < a["offset"] + a["size"])
            if live and overlap:
                raise Failure("buffers %s and %s are live together (%d..%d, %d..%d) "
                              "and overlap ([%d, %d), [%d, %d))" % (
                                  a["name"], b["name"], a["first_use"], a["last_use"],
                                  b["first_use"], b["last_use"], a["offset"],
                                  a["offset"] + a["size"], b["offset"],
                                  b["offset"] + b["size"]))
    peak = live_bytes_peak(buffers)
    if report["lower_bound_bytes"] != peak:
        raise Failure("lower_bound_bytes is %d, but the buffers peak at %d live bytes"
                      % (report["lower_bound_bytes"], peak))
    if arena < peak:
        raise Failure("arena_bytes %d is below the lower bound %d" % (arena, peak))
    if report["buffers_total_bytes"] != sum(b["size"] for b in buffers):
        raise Failure("buffers_total_bytes is not the sum of the buffers' sizes")
    return len(buffers)


def one_program(index, seed, bin_dir, tmp):
    """Generates, compiles twice, runs and compares one program. Returns a
    dict of results; raises Failure."""
    rng = np.random.default_rng([seed, index])
    program = Program(rng)
    text = program.build()
    base = os.path.join(tmp, "p%03d" % index)
    os.makedirs(base)
    model = os.path.join(base, "model.mlir")
    with open(model, "w") as f:
        f.write(text)
    seq_len = int(rng.integers(1, 13))

    # The same random input for both runs.
    inputs = []
    if program.uses_ids:
        ids = rng.integers(0, program.vocab, size=(1, seq_len), dtype=np.int64)
        path = os.path.join(base, "ids.npy")
        np.save(path, ids)
        inputs = ["--input", "ids=" + path]
    else:
        x = rng.standard_normal((1, seq_len, program.d0)).astype(np.float32)
        path = os.path.join(base, "x.npy")
        np.save(path, x)
        inputs = ["--input", "x=" + path]

    outputs = {}
    reports = {}
    for variant, flags in (("plan", []), ("heap", ["--no-plan-buffers"])):
        out = os.path.join(base, variant)
        run([os.path.join(bin_dir, "tmc-compile"), model, "-o", out,
             "--seq-len", str(seq_len), "--quiet"] + flags)
        argv = [os.path.join(bin_dir, "tmc-run"), out] + inputs
        for name, _ in program.outputs:
            argv += ["--output", "%s=%s" % (name, os.path.join(out, name + ".npy"))]
        run(argv)
        outputs[variant] = {name: np.load(os.path.join(out, name + ".npy"))
                            for name, _ in program.outputs}
        with open(os.path.join(out, "report.json")) as f:
            reports[variant] = json.load(f)

    for name, d in program.outputs:
        a, b = outputs["plan"][name], outputs["heap"][name]
        if a.shape != (1, seq_len, d) or b.shape != a.shape:
            raise Failure("output %s has shape %s (planned) and %s (heap), expected %s"
                          % (name, a.shape, b.shape, (1, seq_len, d)))
        if not np.all(np.isfinite(b)):
            raise Failure("output %s of the heap build is not finite" % name)
        if a.tobytes() != b.tobytes():
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            diff[np.isnan(diff)] = np.inf
            raise Failure("output %s differs between the planned and the heap build: "
                          "%d of %d elements, max |diff| %.3g" % (
                              name, int(np.count_nonzero(a.view(np.uint32) !=
                                                         b.view(np.uint32))),
                              a.size, float(np.max(diff))))

    heap = reports["heap"]
    if heap["arena_bytes"] != 0 or heap["buffers"]:
        raise Failure("--no-plan-buffers still planned %d buffers in %d bytes" % (
            len(heap["buffers"]), heap["arena_bytes"]))
    n_buffers = check_report(reports["plan"])
    plan = reports["plan"]
    ratio = (plan["arena_bytes"] / plan["lower_bound_bytes"]
             if plan["lower_bound_bytes"] else None)
    return {"buffers": n_buffers, "ratio": ratio, "seq_len": seq_len,
            "arena": plan["arena_bytes"], "bound": plan["lower_bound_bytes"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", required=True,
                        help="directory holding tmc-compile and tmc-run")
    parser.add_argument("--seed", type=int, default=2024,
                        help="seed of the program generator (default 2024)")
    parser.add_argument("--count", type=int, default=40,
                        help="number of random programs (default 40)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="programs checked in parallel (default: CPUs)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated programs and compiled models")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print a line for every program")
    args = parser.parse_args()
    bin_dir = os.path.abspath(args.bin_dir)
    for tool in ("tmc-compile", "tmc-run"):
        if not os.access(os.path.join(bin_dir, tool), os.X_OK):
            print("test_plan_random.py: no %s in %s" % (tool, bin_dir), file=sys.stderr)
            return 1

    tmp = tempfile.mkdtemp(prefix="tmc-plan-random-")
    start = time.time()
    results, failures = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one_program, i, args.seed, bin_dir, tmp): i
                   for i in range(args.count)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            where = os.path.join(tmp, "p%03d" % i, "model.mlir")
            try:
                r = future.result()
                results[i] = r
                if args.verbose:
                    print("PASS program %3d: S=%2d, %2d buffers, arena %6d, "
                          "lower bound %6d" % (i, r["seq_len"], r["buffers"],
                                               r["arena"], r["bound"]), flush=True)
            except Failure as e:
                failures.append(i)
                print("FAIL program %d (seed %d, %s): %s" % (i, args.seed, where, e),
                      flush=True)
            except Exception as e:  # a bug in this driver
                failures.append(i)
                print("FAIL program %d (seed %d, %s): driver error: %s: %s" % (
                    i, args.seed, where, type(e).__name__, e), flush=True)

    ratios = [r["ratio"] for r in results.values() if r["ratio"] is not None]
    n_buffers = sum(r["buffers"] for r in results.values())
    print("plan-random: %d programs, %d passed, %d failed; %d buffers; "
          "arena/lower bound mean %.3f, worst %.3f (seed %d, %.1f s)" % (
              args.count, len(results), len(failures), n_buffers,
              float(np.mean(ratios)) if ratios else 0.0,
              max(ratios) if ratios else 0.0, args.seed, time.time() - start))
    if failures or args.keep:
        print("programs kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
