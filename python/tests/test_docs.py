"""The examples of the documentation are the tested code.

- Every ```python block of docs/Python.md and of the README's "Python quick
  start" runs, in order, in one namespace per document, in a scratch
  directory that holds `examples/` and a small gpt2 checkpoint in
  `checkpoint/`. Blocks that import torch run in test_torch.py, under
  Debian's PyTorch.
- A code block of docs/Embedding.md or README.md preceded by
  `<!-- file: PATH -->` is the whole of that file of the repository (the
  tests build and run it); one preceded by `<!-- excerpt: PATH -->` is a
  part of it.
"""

import pytest

import helpers
from helpers import DOCS, README, blocks, needs_torch, python_blocks, run_block


def test_python_guide(tmp_path):
    namespace = {"__name__": "__doc__"}
    codes = [c for c in python_blocks(DOCS / "Python.md") if not needs_torch(c)]
    assert len(codes) >= 3
    for code in codes:
        run_block(code, tmp_path, namespace)


def test_readme_python_quick_start(tmp_path):
    codes = python_blocks(README, "Python quick start")
    assert codes
    namespace = {"__name__": "__doc__"}
    for code in codes:
        run_block(code, tmp_path, namespace)


@pytest.mark.parametrize("doc", [DOCS / "Embedding.md", README, DOCS / "Python.md"])
def test_code_shown_is_the_tested_code(doc):
    checked = 0
    for _, code, kind, path in blocks(open(doc).read()):
        if not kind:
            continue
        source = open(helpers.REPO / path).read()
        if kind == "file":
            assert code == source, "%s: the block marked %s differs from the file" % (
                doc.name, path)
        else:
            assert code in source, "%s: the excerpt of %s is not in the file" % (
                doc.name, path)
        checked += 1
    if doc.name == "Embedding.md":
        assert checked >= 3
