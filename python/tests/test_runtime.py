"""tmc.compile and tmc.Model: options, progress, the report, and errors."""

import os

import numpy as np
import pytest

import helpers

import tmc

needs_ptxas = pytest.mark.skipif(
    not os.path.exists(os.environ.get("CUDA_HOME", "/usr/local/cuda") +
                       "/bin/ptxas"),
    reason="needs the CUDA toolkit's ptxas")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The bundled GPT-2 example compiled for 8 tokens (compiled once)."""
    lines = []
    out = tmc.compile(helpers.EXAMPLES / "gpt2.mlir",
                      tmp_path_factory.mktemp("gpt2") / "out",
                      seq_len=8, progress=lines.append)
    return out, lines


def test_compile_reports_progress_and_memory(compiled):
    out, lines = compiled
    assert any("generating code" in line for line in lines), lines
    report = out.report
    assert {"arena_bytes", "lower_bound_bytes", "weights_bytes_before",
            "weights_bytes_after", "buffers"} <= set(report)
    for b in report["buffers"]:
        assert b["offset"] + b["size"] <= report["arena_bytes"]


def test_model_runs_and_describes_itself(compiled):
    out, _ = compiled
    with out.load() as model:
        assert [i.name for i in model.inputs] == ["input_ids"]
        assert model.outputs[0].shape == (1, 8, 128)
        assert model.weights_bytes > 0 and "input input_ids i64" in model.signature
        ids = np.arange(8, dtype=np.int32).reshape(1, 8)  # any integer dtype
        logits = model.run({"input_ids": ids})["logits"]
        assert logits.dtype == np.float32 and np.isfinite(logits).all()
        again = model(input_ids=ids.astype(np.int64))["logits"]
        np.testing.assert_array_equal(logits, again)


def test_model_refuses_bad_inputs(compiled):
    out, _ = compiled
    model = out.load()
    with pytest.raises(ValueError, match=r"expected shape \[1, 8\], got \[1, 7\]"):
        model.run(input_ids=np.zeros((1, 7), np.int64))
    with pytest.raises(TypeError, match="expected integers"):
        model.run(input_ids=np.zeros((1, 8), np.float32))
    with pytest.raises(ValueError, match="missing input 'input_ids'"):
        model.run()
    with pytest.raises(ValueError, match="unknown input 'ids'"):
        model.run(ids=np.zeros((1, 8), np.int64))
    model.close()
    with pytest.raises(tmc.TmcError, match="closed"):
        model.run(input_ids=np.zeros((1, 8), np.int64))


def test_errors_carry_the_tools_message(tmp_path):
    with pytest.raises(tmc.TmcError, match="no-such-dir"):
        tmc.Model(tmp_path / "no-such-dir")
    with pytest.raises(tmc.TmcError, match="error"):
        tmc.compile("func.func @forward(%x: tensor<2xf32>) {\n  return %y\n}\n",
                    tmp_path / "bad", progress=False)
    with pytest.raises(tmc.TmcError, match="bogus"):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "q", seq_len=8,
                    quantize="bogus", progress=False)
    with pytest.raises(tmc.TmcError, match="no such model file"):
        tmc.compile(tmp_path / "missing.mlir", tmp_path / "m", progress=False)


def test_transform_options_reach_the_compiler(tmp_path):
    rng = np.random.default_rng(5)
    m = tmc.ModelBuilder("q")
    x = m.embedding(m.input_ids(), rng.normal(0, 1, (64, 64)), name="wte")
    m.output("out", m.linear(x, rng.normal(0, 1, (128, 64)), name="proj"))
    report = tmc.compile(m, tmp_path / "q", seq_len=4, quantize="int8",
                         progress=False).report
    assert report["weights_bytes_after"] < report["weights_bytes_before"]


def test_decoding_build_generates_like_full_recomputation(tmp_path):
    """A --decode build's greedy ids equal argmax of the plain build's logits
    recomputed on the whole sequence; errors come back as TmcError."""
    prompt = [3, 1, 4, 1, 5]
    decoder = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "decode",
                          seq_len=4, decode=16, kv_cache="f32", progress=False)
    with decoder.load() as model:
        info = model.decoder_info
        assert info["max_tokens"] == 16 and info["chunk"] == 4 and info["vocab"] == 128
        ids = model.generate(prompt, max_new_tokens=6)
        assert model.position == len(prompt) + 5
        with pytest.raises(tmc.TmcError, match="exceed the 16 positions"):
            model.prefill(list(range(12)))
        with pytest.raises(tmc.TmcError, match="outside the vocabulary of 128"):
            model.step(500)
        with pytest.raises(tmc.TmcError, match="runs with prefill/step/generate"):
            model.run(input_ids=np.zeros((1, 4), dtype=np.int64))
    seq = prompt + ids
    plain = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "plain",
                        seq_len=len(seq) - 1, progress=False)
    with plain.load() as model:
        assert model.decoder_info is None
        logits = model.run(input_ids=np.array([seq[:-1]]))["logits"][0]
    assert ids == [int(np.argmax(logits[len(prompt) - 1 + i])) for i in range(len(ids))]


@needs_ptxas
def test_cuda_target_and_gpu_arch_reach_the_compiler(tmp_path):
    # Compiling needs no GPU; running does (docs/GPU.md), so only the files
    # and the report are checked here.
    out = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "cuda",
                      seq_len=8, target="cuda", gpu_arch="sm_80",
                      progress=False)
    assert out.report["target"] == "cuda sm_80"
    ptx = (tmp_path / "cuda" / "tmc_kernels.ptx").read_text()
    assert ".target sm_80" in ptx
    assert (tmp_path / "cuda" / "tmc_kernels.cubin").stat().st_size > 0


@needs_ptxas
def test_cuda_decoding_build(tmp_path):
    # A decoding build for the GPU: the KV cache in device memory, its
    # append and attention kernels in the PTX (running needs a GPU).
    out = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "decode",
                      seq_len=8, target="cuda", decode=32, kv_cache="int8",
                      progress=False)
    assert out.report["target"] == "cuda sm_90"
    assert out.report["kv_cache"]["type"] == "int8"
    ptx = (tmp_path / "decode" / "tmc_kernels.ptx").read_text()
    assert ".visible .entry prefill_kernel" in ptx
    assert ".visible .entry decode_kernel" in ptx
    header = (tmp_path / "decode" / "model.h").read_text()
    assert "except position and length, which are host" in header
    # Split into pieces of 8 cached positions: one more (combining) kernel
    # per attention layer in each of prefill and decode.
    split = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "split",
                        seq_len=8, target="cuda", decode=32, kv_cache="int8",
                        gpu_decode_split=8, progress=False)
    layers = (helpers.EXAMPLES / "gpt2.mlir").read_text().count(
        "tfm.attention ")
    assert layers > 0
    assert split.report["gpu_kernels"] == out.report["gpu_kernels"] + 2 * layers


@needs_ptxas
def test_gpu_attention_reaches_the_compiler(tmp_path):
    # Fused attention: one kernel per attention op, each query's chunk of
    # scores in local memory; tiles: host loops launching more, smaller
    # kernels.
    fused = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "fused",
                        seq_len=8, target="cuda", progress=False)
    tiles = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "tiles",
                        seq_len=8, target="cuda", gpu_attention="tiles",
                        progress=False)
    assert "__local_depot" in (tmp_path / "fused" / "tmc_kernels.ptx").read_text()
    assert "__local_depot" not in (tmp_path / "tiles" / "tmc_kernels.ptx").read_text()
    assert tiles.report["gpu_kernels"] > fused.report["gpu_kernels"]
    with pytest.raises(tmc.TmcError, match="gpu-attention"):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "bad", seq_len=8,
                    target="cuda", gpu_attention="flash", progress=False)


@needs_ptxas
def test_gpu_kernel_options_reach_the_compiler(tmp_path):
    # A decode step's one-row matmuls: the row kernel (blocks of 256
    # threads, sums in workgroup memory) by default, the tiled kernel
    # without it; a bad option is the pipeline's error.
    def decode_ptx(name, **options):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / name, seq_len=8,
                    target="cuda", decode=32, progress=False, **options)
        return (tmp_path / name / "tmc_kernels.ptx").read_text()
    rows = decode_ptx("rows")
    tiled = decode_ptx("tiled", gpu_kernel_options="matmul-row-kernel-rows=0")
    assert rows.count(".maxntid 256, 1, 1") > tiled.count(".maxntid 256, 1, 1")
    with pytest.raises(tmc.TmcError, match="row-kernel-rows must be in"):
        decode_ptx("bad", gpu_kernel_options="matmul-row-kernel-rows=17")


@needs_ptxas
def test_gpu_tensor_cores_reach_the_compiler(tmp_path):
    # f16 attention on tensor cores for an f32 model; tf32 the f32 matmuls;
    # none keeps the fp16 weights' matmuls scalar too.
    f16 = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "f16",
                      seq_len=16, target="cuda", gpu_tensor_cores="f16",
                      progress=False)
    tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "tf32", seq_len=16,
                target="cuda", gpu_tensor_cores="tf32", progress=False)
    assert "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32" in (
        tmp_path / "tf32" / "tmc_kernels.ptx").read_text()
    none = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "none",
                       seq_len=16, target="cuda", quantize="fp16",
                       gpu_tensor_cores="none", progress=False)
    assert "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" in (
        tmp_path / "f16" / "tmc_kernels.ptx").read_text()
    assert "mma" not in (tmp_path / "none" / "tmc_kernels.ptx").read_text()
    assert f16.report["gpu_kernels"] > 0 and none.report["gpu_kernels"] > 0
    with pytest.raises(tmc.TmcError, match="gpu-tensor-cores"):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "bad", seq_len=8,
                    target="cuda", gpu_tensor_cores="tf16", progress=False)
    with pytest.raises(tmc.TmcError, match="sm_80 or later"):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "old", seq_len=8,
                    target="cuda", gpu_arch="sm_75", gpu_tensor_cores="tf32",
                    progress=False)


def test_quantize_calibration_reaches_the_report(tmp_path):
    """The quantize record measures its output error on the given ids."""
    ids = tmp_path / "ids.npy"
    np.save(ids, np.array([[1, 2, 3, 4, 5, 6]], dtype=np.int64))
    out = tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "q8", seq_len=8,
                      quantize="int8", quantize_calibration=ids, progress=False)
    record = [t for t in out.report["transforms"] if t["pass"] == "tfm-quantize"][0]
    assert 0 < record["output_rel_l2"] < 0.1, record.get("output_error_skipped")
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([[1, 2, 500]], dtype=np.int64))
    with pytest.raises(tmc.TmcError, match="holds token id 500 outside"):
        tmc.compile(helpers.EXAMPLES / "gpt2.mlir", tmp_path / "bad", seq_len=8,
                    quantize="int8", quantize_calibration=bad, progress=False)
