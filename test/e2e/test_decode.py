#!/usr/bin/env python3
"""Text generation with a KV cache (tmc-compile --decode, tmc-generate),
checked against recomputing the whole sequence without a cache.

For gpt2 and llama checkpoints (llama with grouped-query heads), a prompt
that spans several prefill chunks (the last one padded) is extended greedily
by tmc-generate; each generated token's logits must match

- the numpy reference (test/e2e/reference.py) run on the whole sequence so
  far, within max |tmc - ref| / max |ref| <= 1e-4 (fp32 cache), and
- the same model compiled without --decode and run by tmc-run on the whole
  sequence (the recomputation the cache saves), with the same greedy ids.

Sliding-window caches (a ring buffer, with and without attention sinks) are
checked against the reference with the same window mask over more tokens
than the ring holds. int8 and int4 caches are checked against the reference
with the keys and values quantized the same way (symmetric, one scale per
token and head; int4 per group of 32 values), within 1e-3: a value that the
fp32 compiled model and the float64 reference round to different levels
moves its logits by about one level's share. Bad input (a prompt longer than
the cache, generation past it, a token id outside the vocabulary, a
non-decoding build, an encoder model) must fail with a clear message.

Usage: test_decode.py --bin-dir build/bin [-k REGEX] [--keep]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import reference  # noqa: E402
from test_e2e import rescale_checkpoint  # noqa: E402

MAKE_CHECKPOINT = os.path.join(REPO, "test", "Import", "Inputs", "make_checkpoint.py")
TOL = 1e-4
TOL_QUANT = 1e-3

MODELS = {
    "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "128", "--heads", "4",
             "--vocab", "97", "--max-pos", "64"],
    "llama": ["--type", "llama", "--layers", "2", "--hidden", "128", "--heads", "4",
              "--kv-heads", "2", "--ffn", "160", "--vocab", "101", "--max-pos", "64"],
    "bert": ["--type", "bert", "--layers", "1", "--hidden", "64", "--heads", "4",
             "--vocab", "100", "--max-pos", "64"],
}


def run(argv, expect_ok=True):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=300, text=True)
    if expect_ok and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                    p.stderr.strip()))
    return p


def quantizer(bits):
    """Quantize-dequantize of keys/values [B, S, heads * dh], as the cache."""
    def qdq(x, heads):
        b, s, f = x.shape
        group = (f // heads) if bits == 8 else 32
        qmax = 127.0 if bits == 8 else 7.0
        g = x.reshape(b, s, f // group, group)
        amax = np.abs(g).max(axis=-1, keepdims=True).astype(np.float32)
        scale = np.where(amax > 0, amax / np.float32(qmax), np.float32(1.0))
        q = np.clip(np.round(g.astype(np.float32) / scale), -qmax, qmax)
        return (q * scale).reshape(b, s, f).astype(np.float64)
    return qdq


class Suite:
    def __init__(self, bin_dir, tmp, pattern):
        self.bin = bin_dir
        self.tmp = tmp
        self.pattern = re.compile(pattern)
        self.failed = 0
        self.passed = 0
        self.models = {}

    def tool(self, name):
        return os.path.join(self.bin, name)

    def case(self, name, fn):
        if not self.pattern.search(name):
            return
        try:
            detail = fn()
            print("PASS %s%s" % (name, " (%s)" % detail if detail else ""))
            self.passed += 1
        except AssertionError as e:
            print("FAIL %s: %s" % (name, e))
            self.failed += 1

    def model(self, kind):
        """Checkpoint dir and imported model of `kind` (weights x10 so that
        attention is sharp and every position matters)."""
        if kind not in self.models:
            ckpt = os.path.join(self.tmp, "ckpt-" + kind)
            run([sys.executable, MAKE_CHECKPOINT] + MODELS[kind] + ["--seed", "3", ckpt])
            rescale_checkpoint(ckpt, 10.0)
            mlir = os.path.join(self.tmp, kind + ".mlir")
            run([self.tool("tmc-import"), ckpt, "-o", mlir])
            self.models[kind] = (ckpt, mlir)
        return self.models[kind]

    def compile(self, kind, tag, flags):
        _, mlir = self.model(kind)
        out = os.path.join(self.tmp, "%s-%s" % (kind, tag))
        run([self.tool("tmc-compile"), mlir, "-o", out, "--quiet"] + flags)
        return out

    def generate(self, outdir, prompt, count, extra=()):
        ids = os.path.join(outdir, "prompt.npy")
        np.save(ids, np.array([prompt], dtype=np.int64))
        new = os.path.join(outdir, "new.npy")
        logits = os.path.join(outdir, "logits.npy")
        p = run([self.tool("tmc-generate"), outdir, "--input-ids", ids,
                 "--max-new-tokens", str(count), "--output", new,
                 "--logits-output", logits] + list(extra))
        printed = [int(t) for t in p.stdout.splitlines()[0].split()]
        generated = np.load(new)[0].tolist()
        assert printed == generated, "printed ids %s != written %s" % (printed, generated)
        return generated, np.load(logits), p.stdout

    # ---- cases -------------------------------------------------------------

    def check_against_reference(self, kind, flags, prompt, count, tol, **ref):
        ckpt, _ = self.model(kind)
        tag = re.sub(r"[^a-z0-9]+", "_", "-".join(flags))
        outdir = self.compile(kind, tag, flags)
        generated, logits, _ = self.generate(outdir, prompt, count)
        seq = list(prompt) + generated
        _, full = reference.forward(ckpt, np.array([seq[:-1]]), np.float64, **ref)
        worst = 0.0
        for i, token in enumerate(generated):
            want = full[0, len(prompt) - 1 + i]
            err = np.max(np.abs(logits[i] - want)) / np.max(np.abs(want))
            worst = max(worst, err)
            assert err <= tol, "step %d: logits rel. error %.3g > %g" % (i, err, tol)
            assert token == int(np.argmax(logits[i])), "step %d: not greedy" % i
            assert token == int(np.argmax(want)), \
                "step %d: id %d, reference %d" % (i, token, int(np.argmax(want)))
        return "%d tokens, max rel. error %.2g" % (count, worst)

    def check_recompute(self, kind):
        """Cache vs the same model recomputed on the whole sequence by tmc-run."""
        prompt, count = [5, 17, 3, 60, 8, 41, 2], 12
        cached = self.compile(kind, "recompute-cached", ["--decode=32", "--seq-len=4"])
        generated, logits, _ = self.generate(cached, prompt, count)
        seq = prompt + generated
        plain = self.compile(kind, "recompute-plain", ["--seq-len=%d" % (len(seq) - 1)])
        ids = os.path.join(plain, "ids.npy")
        np.save(ids, np.array([seq[:-1]], dtype=np.int64))
        out = os.path.join(plain, "logits.npy")
        run([self.tool("tmc-run"), plain, "--input", "input_ids=" + ids,
             "--output", "logits=" + out])
        full = np.load(out)[0]
        recomputed = [int(np.argmax(full[len(prompt) - 1 + i])) for i in range(count)]
        assert recomputed == generated, "ids %s, recomputed %s" % (generated, recomputed)
        err = max(np.max(np.abs(logits[i] - full[len(prompt) - 1 + i])) /
                  np.max(np.abs(full[len(prompt) - 1 + i])) for i in range(count))
        assert err <= TOL, "logits differ from the recomputation by %.3g" % err
        return "same %d ids, max rel. difference %.2g" % (count, err)

    def check_sampling(self):
        outdir = self.compile("gpt2", "sampling", ["--decode=48", "--seq-len=8"])
        args = ["--top-k", "5", "--temperature", "0.8", "--seed", "7"]
        first, logits, _ = self.generate(outdir, [1, 2, 3], 10, args)
        again, _, _ = self.generate(outdir, [1, 2, 3], 10, args)
        assert first == again, "the same seed gave %s then %s" % (first, again)
        for i, token in enumerate(first):
            top = np.argsort(-logits[i])[:5]
            assert token in top, "step %d: id %d is not among the top 5" % (i, token)
        return "seeded top-k sampling is reproducible and stays in the top k"

    def check_error(self, argv, message):
        p = run(argv, expect_ok=False)
        assert p.returncode != 0, "succeeded: %s" % " ".join(argv)
        text = p.stderr.strip()
        assert re.search(message, text), "message %r does not match %r" % (text, message)
        assert "Traceback" not in text and "Stack dump" not in text, text
        return text.splitlines()[-1][:100]

    def check_errors(self):
        outdir = self.compile("gpt2", "small", ["--decode=8", "--seq-len=4"])

        def generate(prompt, count):
            ids = os.path.join(outdir, "bad.npy")
            np.save(ids, np.array([prompt], dtype=np.int64))
            return [self.tool("tmc-generate"), outdir, "--input-ids", ids,
                    "--max-new-tokens", str(count)]
        self.check_error(generate(list(range(10)), 1),
                         r"10 more tokens after 0 exceed the 8 positions")
        self.check_error(generate([1, 2, 3, 4, 5], 10),
                         r"1 more tokens after 8 exceed the 8 positions")
        self.check_error(generate([1, 2, 300], 2),
                         r"token id 300 \(at index 2\) is outside the vocabulary of 97")
        ids = os.path.join(outdir, "ok.npy")
        np.save(ids, np.array([[1, 2]], dtype=np.int64))
        self.check_error([self.tool("tmc-run"), outdir, "--input", "input_ids=" + ids],
                         r"a decoding build .* runs with tmc-generate")
        plain = self.compile("gpt2", "plain", ["--seq-len=4"])
        self.check_error([self.tool("tmc-generate"), plain, "--input-ids", ids,
                          "--max-new-tokens", "1"], r"not a decoding build")
        _, bert = self.model("bert")
        self.check_error([self.tool("tmc-compile"), bert, "-o",
                          os.path.join(self.tmp, "bert-decode"), "--decode"],
                         r"is not causal: decoding with a KV cache needs causal attention")
        _, gpt2 = self.model("gpt2")
        self.check_error([self.tool("tmc-compile"), gpt2, "-o",
                          os.path.join(self.tmp, "gpt2-long"), "--decode=65"],
                         r"a cache of 65 tokens exceeds the model's maximum of 64 positions")
        self.check_error([self.tool("tmc-compile"), gpt2, "-o",
                          os.path.join(self.tmp, "gpt2-bigbird"), "--decode",
                          "--attention=strided:4"],
                         r"decoding supports dense and sliding-window attention")
        self.check_error([self.tool("tmc-compile"), gpt2, "-o",
                          os.path.join(self.tmp, "gpt2-kv"), "--decode",
                          "--kv-cache=int3"], r"cache-type must be f32, int8 or int4")
        self.check_error([self.tool("tmc-compile"), gpt2, "-o",
                          os.path.join(self.tmp, "gpt2-sinks"), "--decode",
                          "--kv-sinks=2"], r"attention sinks need a sliding-window")
        return "10 bad inputs rejected with their messages"

    def check_window_flat(self):
        """A window cache's size does not depend on how many tokens it sees."""
        a = self.compile("llama", "flat-a", ["--decode=64", "--seq-len=4",
                                             "--attention=window:8"])
        b = self.compile("llama", "flat-b", ["--decode=4096", "--seq-len=4",
                                             "--attention=window:8"])
        sizes = []
        for outdir in (a, b):
            with open(os.path.join(outdir, "report.json")) as f:
                import json
                sizes.append(json.load(f)["kv_cache"]["bytes"])
        assert sizes[0] == sizes[1], "window cache sizes differ: %s" % sizes
        return "%d bytes at 64 and 4096 tokens" % sizes[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tmc-decode-")
    suite = Suite(os.path.abspath(args.bin_dir), tmp, args.k)
    prompt = [5, 17, 3, 60, 8, 41, 2, 33, 19, 7, 21]
    for kind in ("gpt2", "llama"):
        suite.case("%s-f32" % kind, lambda kind=kind: suite.check_against_reference(
            kind, ["--decode", "--seq-len=4"], prompt, 16, TOL))
        suite.case("%s-recompute" % kind, lambda kind=kind: suite.check_recompute(kind))
        # The last chunk's padding runs past the cache (9 tokens in chunks of
        # 4 with room for 10): it must neither be stored nor disturb the rest.
        suite.case("%s-full-cache" % kind, lambda kind=kind: suite.check_against_reference(
            kind, ["--decode=10", "--seq-len=4"], prompt[:9], 2, TOL))
        suite.case("%s-window" % kind, lambda kind=kind: suite.check_against_reference(
            kind, ["--decode=64", "--seq-len=4", "--attention=window:6"], prompt, 30,
            TOL, window=6))
        suite.case("%s-window-sinks" % kind, lambda kind=kind: suite.check_against_reference(
            kind, ["--decode=64", "--seq-len=3", "--attention=window:5", "--kv-sinks=2"],
            prompt, 30, TOL, window=5, sinks=2))
        for bits in (8, 4):
            suite.case("%s-int%d-cache" % (kind, bits),
                       lambda kind=kind, bits=bits: suite.check_against_reference(
                           kind, ["--decode", "--seq-len=4", "--kv-cache=int%d" % bits],
                           prompt, 12, TOL_QUANT, kv_quant=quantizer(bits)))
    suite.case("sampling", suite.check_sampling)
    suite.case("window-flat", suite.check_window_flat)
    suite.case("errors", suite.check_errors)
    print("decode: %d passed, %d failed" % (suite.passed, suite.failed))
    if args.keep:
        print("kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
