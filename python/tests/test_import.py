"""tmc.import_checkpoint: checkpoints imported with tmc-import, compiled and
run from Python, checked against the numpy reference of test/e2e."""

import json
import subprocess
import sys

import numpy as np
import pytest

import helpers

import tmc

CHECKPOINTS = {
    "gpt2": ["--type", "gpt2", "--layers", "2", "--hidden", "32", "--heads", "4",
             "--vocab", "53", "--max-pos", "32"],
    "llama": ["--type", "llama", "--layers", "2", "--hidden", "32", "--heads", "4",
              "--kv-heads", "2", "--ffn", "48", "--vocab", "47", "--max-pos", "32"],
}


def make_checkpoint(kind, directory):
    subprocess.run([sys.executable, str(helpers.MAKE_CHECKPOINT)] + CHECKPOINTS[kind]
                   + ["--seed", "3", str(directory)], check=True,
                   stdout=subprocess.DEVNULL)
    return directory


@pytest.mark.parametrize("kind", sorted(CHECKPOINTS))
def test_checkpoint_matches_reference(kind, tmp_path):
    ckpt = make_checkpoint(kind, tmp_path / "ckpt")
    model_path = tmc.import_checkpoint(ckpt, tmp_path / "model.mlir")
    assert "tfm.weights_file" in open(model_path).read()
    seq = 11
    model = tmc.compile(model_path, tmp_path / "out", seq_len=seq,
                        progress=False).load()
    vocab = json.load(open(ckpt / "config.json"))["vocab_size"]
    ids = np.random.default_rng(7).integers(0, vocab, (1, seq))
    out = model.run(input_ids=ids)["logits"]
    name, ref = helpers.reference.forward(str(ckpt), ids, np.float64)
    assert name == "logits"
    assert helpers.relative_error(out, ref) <= helpers.TOLERANCE


def test_inline_weights_and_temporary_output(tmp_path):
    ckpt = make_checkpoint("gpt2", tmp_path / "ckpt")
    path = tmc.import_checkpoint(ckpt, inline_weights=True)
    text = open(path).read()
    assert "dense_resource<" in text and "tfm.weights_file" not in text


def test_bad_checkpoint_is_refused_with_the_importers_message(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(tmc.TmcError, match="config.json"):
        tmc.import_checkpoint(tmp_path / "empty", tmp_path / "m.mlir")
