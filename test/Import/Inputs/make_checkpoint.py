#!/usr/bin/env python3
"""Writes a small random Hugging Face-style checkpoint for TMC's tests.

The output directory gets `config.json` and `model.safetensors` (or, with
--shards, `model-0000K-of-0000N.safetensors` files and
`model.safetensors.index.json`) for a gpt2, bert or llama model with the
tensor names of the Hugging Face implementations. The safetensors files are
written by hand (8-byte little-endian header length, JSON header, data), so
only numpy is needed.

Weights and biases are drawn from N(0, 0.02), norm weights from
1 + N(0, 0.02), with numpy's default generator seeded by --seed: the same
arguments always give the same bytes.

--set edits config.json only (after the defaults); tensors always follow the
sizes given on the command line, so --set can also make a config that
disagrees with its tensors. --corrupt damages the checkpoint on purpose to
test error handling.

Examples:
  make_checkpoint.py --type gpt2 --layers 2 --hidden 64 --heads 4 out/gpt2
  make_checkpoint.py --type llama --layers 2 --hidden 64 --heads 4 \\
      --kv-heads 2 --ffn 128 out/llama
  make_checkpoint.py --type bert --set hidden_act='"relu"' out/bad
  make_checkpoint.py --type gpt2 --corrupt shape out/bad-shape

As a module, `read_safetensors(path)` returns {name: numpy array} and
`build_tensors(...)` the tensors that a checkpoint would hold.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

TYPES = ("gpt2", "bert", "llama")
CORRUPTIONS = {
    "truncate": "cut the end of the data section off the file",
    "offsets": "point the target tensor's data_offsets past the data",
    "header-length": "write a header length larger than the file",
    "json": "make the JSON header invalid",
    "overlap": "make the target tensor's bytes overlap the previous tensor's",
    "size-mismatch": "give the target tensor a shape its bytes do not fit",
    "unknown-dtype": "give the target tensor the unknown dtype 'Q4'",
    "shape": "store the target tensor with its last dimension one too small",
    "dtype": "store the target tensor as F16 instead of F32",
    "missing": "leave the target tensor out",
}

NP_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}


def default_config(args):
    """Returns the config.json of the model described by `args`."""
    d, h, layers = args.hidden, args.heads, args.layers
    if args.type == "gpt2":
        return {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "n_embd": d, "n_head": h, "n_layer": layers,
            "n_positions": args.max_pos, "n_ctx": args.max_pos,
            "vocab_size": args.vocab,
            "n_inner": None if args.ffn == 4 * d else args.ffn,
            "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new",
            "scale_attn_weights": True,
            "scale_attn_by_inverse_layer_idx": False,
            "reorder_and_upcast_attn": False,
            "attn_pdrop": 0.1, "embd_pdrop": 0.1, "resid_pdrop": 0.1,
            "use_cache": True,
        }
    if args.type == "bert":
        return {
            "model_type": "bert",
            "architectures": ["BertModel"],
            "hidden_size": d, "num_attention_heads": h,
            "num_hidden_layers": layers, "intermediate_size": args.ffn,
            "max_position_embeddings": args.max_pos,
            "vocab_size": args.vocab, "type_vocab_size": 2,
            "layer_norm_eps": 1e-12, "hidden_act": "gelu",
            "position_embedding_type": "absolute", "is_decoder": False,
            "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1,
            "pad_token_id": 0,
        }
    return {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": d, "num_attention_heads": h,
        "num_key_value_heads": args.kv_heads, "num_hidden_layers": layers,
        "intermediate_size": args.ffn,
        "max_position_embeddings": args.max_pos, "vocab_size": args.vocab,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None,
        "hidden_act": "silu", "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": False,
        "torch_dtype": "float32",
    }


def build_tensors(model_type, layers, hidden, heads, kv_heads, ffn, vocab,
                  max_pos, seed=0, prefixed=False, legacy_names=False,
                  tie_word_embeddings=False):
    """Returns the checkpoint's tensors as an ordered {name: float32 array}."""
    rng = np.random.default_rng(seed)
    tensors = {}

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def add(name, array):
        tensors[name] = array

    def weight(name, *shape):
        add(name, normal(*shape))

    def norm(name, n, bias=True, w="weight", b="bias"):
        add(f"{name}.{w}", (1.0 + normal(n)).astype(np.float32))
        if bias:
            add(f"{name}.{b}", normal(n))

    d, f = hidden, ffn
    if model_type == "gpt2":
        p = "transformer." if prefixed else ""
        weight(f"{p}wte.weight", vocab, d)
        weight(f"{p}wpe.weight", max_pos, d)
        for i in range(layers):
            h = f"{p}h.{i}"
            norm(f"{h}.ln_1", d)
            weight(f"{h}.attn.c_attn.weight", d, 3 * d)
            weight(f"{h}.attn.c_attn.bias", 3 * d)
            weight(f"{h}.attn.c_proj.weight", d, d)
            weight(f"{h}.attn.c_proj.bias", d)
            norm(f"{h}.ln_2", d)
            weight(f"{h}.mlp.c_fc.weight", d, f)
            weight(f"{h}.mlp.c_fc.bias", f)
            weight(f"{h}.mlp.c_proj.weight", f, d)
            weight(f"{h}.mlp.c_proj.bias", d)
        norm(f"{p}ln_f", d)
    elif model_type == "bert":
        p = "bert." if prefixed else ""
        w, b = ("gamma", "beta") if legacy_names else ("weight", "bias")
        weight(f"{p}embeddings.word_embeddings.weight", vocab, d)
        weight(f"{p}embeddings.position_embeddings.weight", max_pos, d)
        weight(f"{p}embeddings.token_type_embeddings.weight", 2, d)
        norm(f"{p}embeddings.LayerNorm", d, w=w, b=b)
        for i in range(layers):
            h = f"{p}encoder.layer.{i}"
            for m in ("query", "key", "value"):
                weight(f"{h}.attention.self.{m}.weight", d, d)
                weight(f"{h}.attention.self.{m}.bias", d)
            weight(f"{h}.attention.output.dense.weight", d, d)
            weight(f"{h}.attention.output.dense.bias", d)
            norm(f"{h}.attention.output.LayerNorm", d, w=w, b=b)
            weight(f"{h}.intermediate.dense.weight", f, d)
            weight(f"{h}.intermediate.dense.bias", f)
            weight(f"{h}.output.dense.weight", d, f)
            weight(f"{h}.output.dense.bias", d)
            norm(f"{h}.output.LayerNorm", d, w=w, b=b)
        # The pooler is part of real checkpoints; the importer ignores it.
        weight(f"{p}pooler.dense.weight", d, d)
        weight(f"{p}pooler.dense.bias", d)
    else:
        hd = d // heads
        weight("model.embed_tokens.weight", vocab, d)
        for i in range(layers):
            h = f"model.layers.{i}"
            norm(f"{h}.input_layernorm", d, bias=False)
            weight(f"{h}.self_attn.q_proj.weight", heads * hd, d)
            weight(f"{h}.self_attn.k_proj.weight", kv_heads * hd, d)
            weight(f"{h}.self_attn.v_proj.weight", kv_heads * hd, d)
            weight(f"{h}.self_attn.o_proj.weight", d, heads * hd)
            norm(f"{h}.post_attention_layernorm", d, bias=False)
            weight(f"{h}.mlp.gate_proj.weight", f, d)
            weight(f"{h}.mlp.up_proj.weight", f, d)
            weight(f"{h}.mlp.down_proj.weight", d, f)
        norm("model.norm", d, bias=False)
        if not tie_word_embeddings:
            weight("lm_head.weight", vocab, d)
    return tensors


def default_target(model_type, prefixed):
    """Returns the tensor that --corrupt damages by default."""
    if model_type == "gpt2":
        return ("transformer." if prefixed else "") + "h.0.attn.c_attn.weight"
    if model_type == "bert":
        return (("bert." if prefixed else "") +
                "encoder.layer.0.attention.self.query.weight")
    return "model.layers.0.self_attn.q_proj.weight"


def encode_safetensors(tensors, corrupt=None, target=None, misalign=False):
    """Returns the bytes of a safetensors file holding `tensors`, damaged as
    `corrupt` says (target: the tensor to damage). With `misalign`, the data
    section starts at an odd offset (valid, but no tensor is aligned)."""
    header, chunks, offset = {}, [], 0
    names = list(tensors)
    for name in names:
        array = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(v): k for k, v in NP_DTYPES.items()}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    data_size = offset
    header["__metadata__"] = {"format": "pt"}

    if target is not None and target in header:
        entry = header[target]
        begin, end = entry["data_offsets"]
        if corrupt == "offsets":
            past = data_size + 16
            entry["data_offsets"] = [past, past + end - begin]
        elif corrupt == "overlap":
            i = names.index(target)
            other = names[i - 1] if i else names[1]
            ob = header[other]["data_offsets"][0]
            entry["data_offsets"] = [ob, ob + end - begin]
        elif corrupt == "size-mismatch":
            entry["shape"] = entry["shape"][:-1] + [entry["shape"][-1] + 1]
        elif corrupt == "unknown-dtype":
            entry["dtype"] = "Q4"

    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad to 8 bytes, as the reference writer
    if misalign:
        text += b" "
    if corrupt == "json":
        text = text.replace(b"}", b",", 1)
    length = len(text)
    if corrupt == "header-length":
        length = 8 + len(text) + data_size + 1000
    blob = struct.pack("<Q", length) + text + b"".join(chunks)
    if corrupt == "truncate":
        blob = blob[: len(blob) - max(1, data_size // 2)]
    return blob


def read_safetensors(path):
    """Reads a safetensors file (not an index) into {name: numpy array}."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = np.dtype(NP_DTYPES[entry["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(
            entry["shape"])
    return out


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog="corruptions:\n" + "\n".join(
            f"  {k:14} {v}" for k, v in CORRUPTIONS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--type", required=True, choices=TYPES,
                        help="model family (config model_type)")
    parser.add_argument("--layers", type=int, metavar="N", default=2,
                        help="number of transformer blocks (default 2)")
    parser.add_argument("--hidden", type=int, metavar="D", default=64,
                        help="hidden size D (default 64)")
    parser.add_argument("--heads", type=int, metavar="H", default=4,
                        help="attention heads (default 4)")
    parser.add_argument("--kv-heads", type=int, metavar="H", default=None,
                        help="llama key/value heads (default: --heads)")
    parser.add_argument("--ffn", type=int, metavar="F", default=None,
                        help="feed-forward size (default 4*D)")
    parser.add_argument("--vocab", type=int, metavar="V", default=128,
                        help="vocabulary size (default 128)")
    parser.add_argument("--max-pos", type=int, metavar="P", default=64,
                        help="maximum positions (default 64)")
    parser.add_argument("--seed", type=int, metavar="S", default=0,
                        help="random seed (default 0)")
    parser.add_argument("--set", action="append", default=[],
                        metavar="KEY=JSON",
                        help="set a config.json field to a JSON value, e.g. "
                             "--set rope_theta=500000.0 or "
                             "--set hidden_act='\"relu\"' (repeatable)")
    parser.add_argument("--unset", action="append", default=[], metavar="KEY",
                        help="remove a config.json field (repeatable)")
    parser.add_argument("--prefixed", action="store_true",
                        help="name tensors as the task models save them: "
                             "gpt2 under 'transformer.', bert under 'bert.'")
    parser.add_argument("--legacy-names", action="store_true",
                        help="bert: name LayerNorm parameters gamma/beta")
    parser.add_argument("--shards", type=int, metavar="N", default=1,
                        help="split the weights over N files with a "
                             "model.safetensors.index.json (default 1)")
    parser.add_argument("--misalign", action="store_true",
                        help="pad the JSON header so that the data section "
                             "starts at an odd offset (valid, but unaligned)")
    parser.add_argument("--corrupt", choices=sorted(CORRUPTIONS),
                        metavar="KIND",
                        help="damage the checkpoint: one of the corruptions "
                             "below")
    parser.add_argument("--corrupt-tensor", metavar="NAME",
                        help="tensor that --corrupt damages (default: the "
                             "first block's query projection)")
    parser.add_argument("outdir", help="output directory (created)")
    args = parser.parse_args(argv)
    if args.kv_heads is None:
        args.kv_heads = args.heads
    if args.ffn is None:
        args.ffn = 4 * args.hidden
    if args.hidden % args.heads:
        parser.error("--hidden must be a multiple of --heads")
    if args.heads % args.kv_heads:
        parser.error("--heads must be a multiple of --kv-heads")
    if args.shards < 1:
        parser.error("--shards must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    config = default_config(args)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"make_checkpoint.py: --set needs KEY=JSON, got {item!r}")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError as e:
            sys.exit(f"make_checkpoint.py: --set {key}: invalid JSON: {e}")
    for key in args.unset:
        config.pop(key, None)

    tensors = build_tensors(
        args.type, args.layers, args.hidden, args.heads, args.kv_heads,
        args.ffn, args.vocab, args.max_pos, seed=args.seed,
        prefixed=args.prefixed, legacy_names=args.legacy_names,
        tie_word_embeddings=bool(config.get("tie_word_embeddings", False)))

    target = args.corrupt_tensor or default_target(args.type, args.prefixed)
    if args.corrupt and target not in tensors:
        sys.exit(f"make_checkpoint.py: no tensor {target!r} to corrupt")
    if args.corrupt == "missing":
        del tensors[target]
    elif args.corrupt == "shape":
        t = tensors[target]
        tensors[target] = np.ascontiguousarray(t[..., :-1])
    elif args.corrupt == "dtype":
        tensors[target] = tensors[target].astype(np.float16)

    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    names = list(tensors)
    if args.shards == 1:
        groups = [("model.safetensors", names)]
    else:
        per = -(-len(names) // args.shards)
        groups = [(f"model-{k + 1:05d}-of-{args.shards:05d}.safetensors",
                   names[k * per:(k + 1) * per]) for k in range(args.shards)]
    weight_map = {}
    for file, group in groups:
        part = {n: tensors[n] for n in group}
        damaged = target in part or args.corrupt in ("truncate", "json",
                                                     "header-length")
        blob = encode_safetensors(
            part, args.corrupt if damaged else None, target, args.misalign)
        with open(os.path.join(args.outdir, file), "wb") as f:
            f.write(blob)
        weight_map.update({n: file for n in group})
    if args.shards > 1:
        total = sum(t.nbytes for t in tensors.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        with open(os.path.join(args.outdir, "model.safetensors.index.json"),
                  "w") as f:
            json.dump(index, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
