"""Shared driver of the weight-transform numerics tests (test_quantize.py,
test_prune.py): small gpt2, bert and llama checkpoints, compiled with one
tmc-compile transform flag per scheme and compared with the Hugging Face
forward of reference.py run on weights the test transforms in numpy.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402

# Linear weights per model type: (name regex, stored [in, out]?).
LINEARS = {
    "gpt2": [(r"h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$", True)],
    "bert": [(r"encoder\.layer\.\d+\..*(query|key|value|dense)\.weight$", False)],
    "llama": [(r"layers\.\d+\..*_proj\.weight$", False), (r"^lm_head\.weight$", False)],
}

# make_checkpoint.py arguments of the three models (hidden 64: every int4
# group size and 2:4 divide it).
MODELS = {
    "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "64", "--heads", "4",
             "--vocab", "96"],
    "bert": ["--type", "bert", "--layers", "2", "--hidden", "64", "--heads", "4",
             "--vocab", "96"],
    "llama": ["--type", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
              "--kv-heads", "2", "--ffn", "128", "--vocab", "96"],
}


# The checkpoint generator.
CHECKPOINT_GEN = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("%s failed (%d): %s%s" % (os.path.basename(cmd[0]), p.returncode,
                                                   p.stdout[-500:], p.stderr[-1500:]))


# Embedding tables per model type ([vocab, dim], transformed as a weight of
# `vocab` outputs when the transform covers embeddings).
EMBEDDINGS = {
    "gpt2": r"^(wte|wpe)\.weight$",
    "bert": r"embeddings\.(word|position|token_type)_embeddings\.weight$",
    "llama": r"embed_tokens\.weight$",
}


def transformed_reference(ckpt, ids, transform, embeddings=None):
    """The reference output with `transform` ([out, in] float32 -> same)
    applied to every linear layer's weight and `embeddings` (the same kind of
    function, or None) to every embedding table. A transform with a `fit`
    method first gets all the linear weights ({name: [out, in]})."""
    config, tensors = reference.load_checkpoint(ckpt)
    mt = config["model_type"]
    tensors = dict(tensors)
    if hasattr(transform, "fit"):
        # A transform that looks at all the linear weights first (global
        # pruning): each weight once, [out, in], by name.
        weights = {}
        for name in tensors:
            for pattern, in_out in LINEARS[mt]:
                if re.search(pattern, name):
                    w = tensors[name].astype(np.float32)
                    weights[name] = w.T if in_out else w
        if mt == "gpt2":
            weights["wte.weight"] = tensors["wte.weight"].astype(np.float32)
        transform.fit(weights)
    for name in list(tensors):
        for pattern, in_out in LINEARS[mt]:
            if re.search(pattern, name):
                w = tensors[name].astype(np.float32)
                tensors[name] = transform(w.T).T if in_out else transform(w)
    if mt == "gpt2":
        # The tied LM head is transformed, as a linear layer.
        tensors["lm_head.weight"] = transform(tensors["wte.weight"].astype(np.float32))
        config = dict(config, tie_word_embeddings=False)
    if embeddings:
        for name in list(tensors):
            if re.search(EMBEDDINGS[mt], name):
                tensors[name] = embeddings(tensors[name].astype(np.float32))
    return reference.FORWARDS[mt](config, tensors, ids)


def run_cases(bin_dir, name_filter, flag, schemes, transform_for, tolerance,
              checkpoint_seed, ids_seed, check_report=None, embeddings=False):
    """Compiles each model with `--FLAG=SCHEME` for every scheme and compares
    with the reference on weights (and, with `embeddings`, embedding tables)
    transformed by `transform_for(scheme)`.
    `check_report(report_dir)` may add a condition and a message. Prints a
    line per case; returns the number of failures."""
    b = lambda t: os.path.join(bin_dir, t)
    gen = os.path.join(HERE, "..", "Import", "Inputs", "make_checkpoint.py")
    work = tempfile.mkdtemp(prefix="tmc-%s-" % flag)
    seq = 7
    ids = np.random.default_rng(ids_seed).integers(0, 96, (1, seq)).astype(np.int64)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    failed = total = 0
    for mt, gen_args in MODELS.items():
        ckpt = os.path.join(work, mt)
        run([sys.executable, gen, *gen_args, "--seed", str(checkpoint_seed), ckpt])
        model = os.path.join(work, mt + ".mlir")
        run([b("tmc-import"), ckpt, "-o", model])
        out_name = reference.OUTPUT_NAMES[mt]
        for spec in schemes:
            name = "%s %s" % (mt, spec)
            if name_filter and not re.search(name_filter, name):
                continue
            total += 1
            out = os.path.join(work, "%s-%s" % (mt, re.sub(r"\W", "_", spec)))
            try:
                run([b("tmc-compile"), model, "-o", out, "--seq-len=%d" % seq,
                     "--%s=%s" % (flag, spec), "--quiet"])
                result = os.path.join(out, "out.npy")
                run([b("tmc-run"), out, "--input", "input_ids=" + ids_path,
                     "--output", "%s=%s" % (out_name, result)])
                got = np.load(result)
                transform = transform_for(spec)
                ref = transformed_reference(ckpt, ids, transform,
                                            transform if embeddings else None)
                err = float(np.abs(got - ref).max() / np.abs(ref).max())
                ok, msg = err <= tolerance, "max rel error %.2e" % err
                if check_report:
                    extra_ok, extra = check_report(out)
                    ok, msg = ok and extra_ok, msg + "; " + extra
            except RuntimeError as e:
                ok, msg = False, str(e)
            failed += not ok
            print("%s %-26s %s" % ("PASS" if ok else "FAIL", name, msg))
    shutil.rmtree(work, ignore_errors=True)
    print("%s: %d passed, %d failed" % (flag, total - failed, failed))
    return failed
