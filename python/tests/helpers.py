"""Shared helpers of the Python package's tests: paths, the numpy reference
(test/e2e/reference.py), and a runner for machines without pytest."""

import inspect
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import traceback

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))  # the tmc package, from the source tree
sys.path.insert(0, str(REPO / "test" / "e2e"))

import reference  # noqa: E402,F401  (test/e2e/reference.py)

# Documentation examples run in scratch directories: keep the tools' path
# valid there.
if os.environ.get("TMC_BIN_DIR"):
    os.environ["TMC_BIN_DIR"] = os.path.abspath(os.environ["TMC_BIN_DIR"])

MAKE_CHECKPOINT = REPO / "test" / "Import" / "Inputs" / "make_checkpoint.py"
EXAMPLES = REPO / "examples"

# max|out - ref| / max|ref|, as in test/e2e (docs/Testing.md): float32
# evaluation against a float64 reference.
TOLERANCE = 1e-4

SKIP = 77  # exit status of a skipped script (ctest SKIP_RETURN_CODE)

# --------------------------------------------------------------------------
# Documentation examples (test_docs.py, test_torch.py)
# --------------------------------------------------------------------------

DOCS = REPO / "docs"
README = REPO / "README.md"

_FENCE = re.compile(r"(<!-- (file|excerpt): (\S+) -->\n)?```(\w[\w+-]*)\n(.*?)\n```",
                    re.S)


def blocks(text):
    """(language, code, marker kind, marker path) for each fenced block."""
    return [(m.group(4), m.group(5) + "\n", m.group(2), m.group(3))
            for m in _FENCE.finditer(text)]


def section(text, title):
    """The text of the `## title` section of a markdown document."""
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
    assert m, "no section '## %s'" % title
    return m.group(1)


def python_blocks(path, title=None):
    text = open(path).read()
    if title:
        text = section(text, title)
    return [code for lang, code, _, _ in blocks(text) if lang == "python"]


def needs_torch(code):
    return re.search(r"^\s*import torch", code, re.M) is not None


def scratch_directory(tmp_path):
    """A directory with examples/ and a small gpt2 checkpoint/."""
    if not (tmp_path / "examples").exists():
        os.symlink(EXAMPLES, tmp_path / "examples")
        subprocess.run([sys.executable, str(MAKE_CHECKPOINT), "--type", "gpt2",
                        "--layers", "1", "--hidden", "32", "--heads", "2",
                        "--vocab", "64", "--max-pos", "32",
                        str(tmp_path / "checkpoint")],
                       check=True, stdout=subprocess.DEVNULL)
    return tmp_path


def run_block(code, tmp_path, namespace=None):
    cwd = os.getcwd()
    os.chdir(scratch_directory(tmp_path))
    try:
        exec(compile(code, "<documentation example>", "exec"),
             namespace if namespace is not None else {"__name__": "__doc__"})
    finally:
        os.chdir(cwd)


def relative_error(out, ref):
    import numpy as np
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-30))


def run_as_script(module_globals):
    """Runs every test_* function of a test module without pytest: a
    `tmp_path` argument gets a fresh directory. Returns an exit status."""
    tests = [(n, f) for n, f in sorted(module_globals.items())
             if n.startswith("test_") and callable(f)]
    failed = 0
    for name, fn in tests:
        kwargs = {}
        if "tmp_path" in inspect.signature(fn).parameters:
            kwargs["tmp_path"] = pathlib.Path(tempfile.mkdtemp(prefix="tmc-test-"))
        try:
            fn(**kwargs)
            print("PASS", name, flush=True)
        except Exception:
            failed += 1
            print("FAIL", name, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    return 1 if failed else 0
