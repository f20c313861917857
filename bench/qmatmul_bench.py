#!/usr/bin/env python3
"""Benchmark the TMC runtime's weight-quantized matmuls against its f32 one.

Times `_mlir_ciface_tmc_rt_matmul_nt_f32` (C += A * W^T with an f32 weight)
and each `_mlir_ciface_tmc_rt_qmatmul_*_f32` kernel (the same product with
the weight packed as int8, int4 with f32 or fp16 scales, ternary, binary,
fp16 or bf16) on the linear layers of GPT-2 small, for M = 1 (decoding, a
matrix-vector product bound by the bytes of the weight) and M = 128. Prints
the time, the GB/s of weight bytes read (packed weights plus scales and zero
points) and the speedup over f32.

Each figure is the best of repeated runs over at least --min-time seconds.
Weights are re-read from wherever they sit after the previous call (L2, L3
or memory, depending on the size); the machine may be shared, so run it a
few times and keep the best figures.

Example:
    python3 bench/qmatmul_bench.py --lib build/lib/libtmcrt.so
    python3 bench/qmatmul_bench.py --isa avx2 --m 1 --threads 1
"""

import argparse
import ctypes
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES_KN = [(768, 2304), (3072, 768), (768, 3072)]
KINDS = ["f32", "int8", "int4", "int4h", "ternary", "binary", "f16", "bf16"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", help="path to libtmcrt.so (default: "
                        "build/lib, then build-*/lib under the repository)")
    parser.add_argument("--threads", type=int, default=2,
                        help="TMC_NUM_THREADS (default 2)")
    parser.add_argument("--isa", default="auto",
                        help="TMC kernels: auto, avx512, avx2 or generic")
    parser.add_argument("--m", type=int, nargs="+", default=[1, 128],
                        help="values of M (default 1 128)")
    parser.add_argument("--group", type=int, default=128,
                        help="int4 group size (default 128)")
    parser.add_argument("--kinds", nargs="+", default=KINDS,
                        help="kernels to time (default: all)")
    parser.add_argument("--min-time", type=float, default=0.3,
                        help="seconds to spend on each measurement")
    return parser.parse_args()


def find_library(explicit):
    if explicit:
        return explicit
    candidates = [os.path.join(ROOT, "build", "lib", "libtmcrt.so")]
    for entry in sorted(os.listdir(ROOT)):
        if entry.startswith("build-"):
            candidates.append(os.path.join(ROOT, entry, "lib", "libtmcrt.so"))
    for path in candidates:
        if os.path.exists(path):
            return path
    sys.exit("qmatmul_bench: libtmcrt.so not found; build it "
             "(ninja -C build tmcrt) or pass --lib")


class Memref2D(ctypes.Structure):
    _fields_ = [("allocated", ctypes.c_void_p),
                ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64),
                ("sizes", ctypes.c_int64 * 2),
                ("strides", ctypes.c_int64 * 2)]


def memref(array):
    assert array.ndim == 2
    item = array.itemsize
    ptr = array.ctypes.data
    return Memref2D(ptr, ptr, 0, (array.shape[0], array.shape[1]),
                    (array.strides[0] // item, array.strides[1] // item))


def pack_weights(np, rng, kind, n, k, group):
    """Returns (operands W, S, Z as arrays, dequantized f32 weight)."""
    one = np.zeros((1, 1), np.float32)
    if kind == "int8":
        q = rng.integers(-128, 128, (n, k), dtype=np.int8)
        s = (rng.random((n, 1), dtype=np.float32) * 0.02 + 0.01)
        return (q, s, one), q.astype(np.float32) * s
    if kind in ("int4", "int4h"):
        q = rng.integers(0, 16, (n, k), dtype=np.uint8)
        packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
        g = k // group
        s = (rng.random((n, g), dtype=np.float32) * 0.05 + 0.01)
        if kind == "int4":  # symmetric, f32 scales
            signed = np.where(q < 8, q, q.astype(np.int16) - 16)
            w = signed.astype(np.float32) * np.repeat(s, group, axis=1)
            return (packed, s, one), w
        # asymmetric, fp16 scales and zero points
        z = rng.integers(0, 16, (n, g)).astype(np.float16)
        s16 = s.astype(np.float16)
        w = ((q.astype(np.float32) - np.repeat(z.astype(np.float32), group, 1))
             * np.repeat(s16.astype(np.float32), group, axis=1))
        return (packed, s16.view(np.uint16), z.view(np.uint16)), w
    if kind == "ternary":
        codes = rng.integers(0, 3, (n, k), dtype=np.uint8)
        packed = (codes[:, 0::4] | (codes[:, 1::4] << 2) |
                  (codes[:, 2::4] << 4) | (codes[:, 3::4] << 6)).astype(np.uint8)
        s = np.full((1, 1), 0.37, np.float32)
        w = np.choose(codes, [0.0, 1.0, -1.0]).astype(np.float32) * 0.37
        return (packed, s, one), w
    if kind == "binary":
        bits = rng.integers(0, 2, (n, k), dtype=np.uint8)
        packed = np.packbits(bits, axis=1, bitorder="little")
        s = rng.random((n, 1), dtype=np.float32) + 0.1
        return (packed, s, one), (bits.astype(np.float32) * 2 - 1) * s
    if kind == "f16":
        w = rng.standard_normal((n, k)).astype(np.float16)
        return (w.view(np.uint16), one, one), w.astype(np.float32)
    if kind == "bf16":
        w = rng.standard_normal((n, k), dtype=np.float32)
        bits = (w.view(np.uint32) >> 16).astype(np.uint16)
        deq = (bits.astype(np.uint32) << 16).view(np.float32)
        return (bits, one, one), deq
    raise ValueError(kind)


def main():
    args = parse_args()
    os.environ["TMC_NUM_THREADS"] = str(args.threads)
    import numpy as np

    lib_path = find_library(args.lib)
    lib = ctypes.CDLL(lib_path)
    ref = ctypes.POINTER(Memref2D)
    fns = {"f32": lib._mlir_ciface_tmc_rt_matmul_nt_f32}
    for kind in KINDS[1:]:
        fns[kind] = getattr(lib, f"_mlir_ciface_tmc_rt_qmatmul_{kind}_f32")
    for kind, fn in fns.items():
        fn.argtypes = [ref] * (3 if kind == "f32" else 5)
        fn.restype = None
    lib.tmc_rt_set_matmul_isa.argtypes = [ctypes.c_char_p]
    lib.tmc_rt_set_matmul_isa.restype = ctypes.c_int
    lib.tmc_rt_matmul_isa.restype = ctypes.c_char_p
    if lib.tmc_rt_set_matmul_isa(args.isa.encode()) != 0:
        sys.exit(f"qmatmul_bench: this CPU cannot run the '{args.isa}' kernels")

    def best_seconds(fn):
        time.sleep(0.05)
        fn()
        best, spent, runs = float("inf"), 0.0, 0
        while spent < args.min_time or runs < 5:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            best = min(best, elapsed)
            spent += elapsed
            runs += 1
        return best

    rng = np.random.default_rng(0)
    print(f"libtmcrt: {lib_path}")
    print(f"TMC kernels: {lib.tmc_rt_matmul_isa().decode()}, threads: "
          f"{args.threads}, int4 group {args.group} (int4: symmetric, f32 "
          f"scales; int4h: asymmetric, fp16 scales and zero points)")
    header = (f"{'M':>4} {'K':>5} {'N':>5} {'kernel':>8} | {'us':>9} "
              f"{'GB/s W':>7} {'x f32':>6}")
    print(header)
    print("-" * len(header))
    speedups = {kind: [] for kind in args.kinds if kind != "f32"}
    for m in args.m:
        for k, n in SHAPES_KN:
            a = rng.standard_normal((m, k), dtype=np.float32)
            c = np.zeros((m, n), dtype=np.float32)
            ma, mc = memref(a), memref(c)
            t_f32 = None
            for kind in ["f32"] + [x for x in args.kinds if x != "f32"]:
                if kind == "f32":
                    w = rng.standard_normal((n, k), dtype=np.float32)
                    ops, deq = (w,), w
                else:
                    ops, deq = pack_weights(np, rng, kind, n, k, args.group)
                descs = [memref(x) for x in ops]
                refs = [ctypes.byref(ma)] + [ctypes.byref(d) for d in descs]
                refs.append(ctypes.byref(mc))
                fn = fns[kind]
                c.fill(0)
                fn(*refs)
                expected = a @ deq.T
                tol = 1e-4 * np.abs(a) @ np.abs(deq).T
                if not (np.abs(c - expected) <= tol + 1e-6).all():
                    sys.exit(f"qmatmul_bench: wrong {kind} result at "
                             f"{m}x{k}x{n}")
                seconds = best_seconds(lambda: fn(*refs))
                nbytes = sum(x.nbytes for x in ops if x.size > 1)
                if kind == "f32":
                    t_f32 = seconds
                    ratio = ""
                else:
                    speedups[kind].append((m, t_f32 / seconds))
                    ratio = f"{t_f32 / seconds:5.2f}x"
                print(f"{m:>4} {k:>5} {n:>5} {kind:>8} | {seconds * 1e6:9.1f} "
                      f"{nbytes / seconds / 1e9:7.1f} {ratio:>6}")
                sys.stdout.flush()
    print("geometric mean speedup over f32:")
    for m in args.m:
        parts = []
        for kind, values in speedups.items():
            xs = [v for mm, v in values if mm == m]
            if xs:
                parts.append(f"{kind} {float(np.exp(np.mean(np.log(xs)))):.2f}x")
        print(f"  M={m}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
