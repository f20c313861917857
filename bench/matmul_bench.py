#!/usr/bin/env python3
"""Benchmark the TMC runtime's f32 matmul kernels against numpy's sgemm.

Prints GFLOPS of `_mlir_ciface_tmc_rt_matmul_nt_f32` (C += A * B^T, the
layout of a PyTorch Linear weight) and `_mlir_ciface_tmc_rt_matmul_nn_f32`
(C += A * B) next to numpy's matmul on the same operands, for the linear
layers of GPT-2 small: M tokens by (K, N) in (768, 2304), (768, 768),
(768, 3072), (3072, 768).

Uses the `python3` on PATH with numpy (OpenBLAS-backed from PyPI). Both
sides get the same thread count (--threads, default 2): numpy through
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, the runtime through TMC_NUM_THREADS.
Each figure is the best of repeated runs over at least --min-time seconds,
split into --rounds blocks alternating between the contenders. The machine
may be shared: run it a few times and keep the best figures.

Example:
    python3 bench/matmul_bench.py --lib build/lib/libtmcrt.so
    python3 bench/matmul_bench.py --isa avx2 --m 1 128
"""

import argparse
import ctypes
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES_KN = [(768, 2304), (768, 768), (768, 3072), (3072, 768)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", help="path to libtmcrt.so (default: "
                        "build/lib, then build-*/lib under the repository)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for both numpy and TMC (default 2)")
    parser.add_argument("--isa", default="auto",
                        help="TMC kernels: auto, avx512, avx2 or generic")
    parser.add_argument("--m", type=int, nargs="+", default=[128, 512, 2048],
                        help="values of M (default 128 512 2048)")
    parser.add_argument("--min-time", type=float, default=0.6,
                        help="seconds to spend on each measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over the contenders (default 3)")
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
    sys.exit("matmul_bench: libtmcrt.so not found; build it "
             "(ninja -C build tmcrt) or pass --lib")


def main():
    args = parse_args()
    threads = str(args.threads)
    # Must be set before numpy (OpenBLAS) and libtmcrt start their threads.
    os.environ["OPENBLAS_NUM_THREADS"] = threads
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ["TMC_NUM_THREADS"] = threads
    import numpy as np

    class Memref2D(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p),
                    ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64),
                    ("sizes", ctypes.c_int64 * 2),
                    ("strides", ctypes.c_int64 * 2)]

    def memref(array):
        assert array.dtype == np.float32 and array.ndim == 2
        item = array.itemsize
        ptr = array.ctypes.data
        return Memref2D(ptr, ptr, 0, (array.shape[0], array.shape[1]),
                        (array.strides[0] // item, array.strides[1] // item))

    lib_path = find_library(args.lib)
    lib = ctypes.CDLL(lib_path)
    ref = ctypes.POINTER(Memref2D)
    nt = lib._mlir_ciface_tmc_rt_matmul_nt_f32
    nn = lib._mlir_ciface_tmc_rt_matmul_nn_f32
    for fn in (nt, nn):
        fn.argtypes = [ref, ref, ref]
        fn.restype = None
    lib.tmc_rt_set_matmul_isa.argtypes = [ctypes.c_char_p]
    lib.tmc_rt_set_matmul_isa.restype = ctypes.c_int
    lib.tmc_rt_matmul_isa.restype = ctypes.c_char_p
    if lib.tmc_rt_set_matmul_isa(args.isa.encode()) != 0:
        sys.exit(f"matmul_bench: this CPU cannot run the '{args.isa}' kernels")

    def best_seconds(*fns):
        """Best time of each function over a few rounds. Within a round each
        function runs alone for a block of calls, after a pause: OpenBLAS's
        workers (and, briefly, the runtime's) spin after a call and would
        steal a core from the next contender."""
        best = [float("inf")] * len(fns)
        for _ in range(args.rounds):
            for i, fn in enumerate(fns):
                time.sleep(0.2)
                fn()  # warm up: page faults, thread start, caches
                spent, runs = 0.0, 0
                while spent < args.min_time / args.rounds or runs < 3:
                    start = time.perf_counter()
                    fn()
                    elapsed = time.perf_counter() - start
                    best[i] = min(best[i], elapsed)
                    spent += elapsed
                    runs += 1
        return best

    rng = np.random.default_rng(0)
    print(f"libtmcrt: {lib_path}")
    print(f"TMC kernels: {lib.tmc_rt_matmul_isa().decode()}, "
          f"threads: {args.threads} (numpy {np.__version__})")
    header = (f"{'M':>5} {'K':>5} {'N':>5} | {'numpy':>8} | {'tmc nt':>8} "
              f"{'%np':>5} | {'tmc nn':>8} {'%np':>5}")
    print("GFLOPS, best of repeated runs")
    print(header)
    print("-" * len(header))
    ratios = []
    for m in args.m:
        for k, n in SHAPES_KN:
            a = rng.standard_normal((m, k), dtype=np.float32)
            w_nt = rng.standard_normal((n, k), dtype=np.float32)
            w_nn = np.ascontiguousarray(w_nt.T)
            c = np.zeros((m, n), dtype=np.float32)
            out = np.empty((m, n), dtype=np.float32)
            ma, mnt, mnn, mc = memref(a), memref(w_nt), memref(w_nn), memref(c)

            # Correctness first (C starts at zero, so C == A * B).
            expected = a @ w_nt.T
            tol = 1e-4 * np.sqrt(k) * np.abs(expected).max()
            for fn, mb in ((nt, mnt), (nn, mnn)):
                c.fill(0)
                fn(ctypes.byref(ma), ctypes.byref(mb), ctypes.byref(mc))
                if not np.allclose(c, expected, atol=tol, rtol=0):
                    sys.exit(f"matmul_bench: wrong result at {m}x{k}x{n}")

            flops = 2.0 * m * n * k
            t_np, t_nt, t_nn = best_seconds(
                lambda: np.matmul(a, w_nt.T, out=out),
                lambda: nt(ctypes.byref(ma), ctypes.byref(mnt), ctypes.byref(mc)),
                lambda: nn(ctypes.byref(ma), ctypes.byref(mnn), ctypes.byref(mc)))
            g_np, g_nt, g_nn = flops / t_np / 1e9, flops / t_nt / 1e9, flops / t_nn / 1e9
            ratios.append((g_nt / g_np, g_nn / g_np))
            print(f"{m:>5} {k:>5} {n:>5} | {g_np:8.1f} | {g_nt:8.1f} "
                  f"{100 * g_nt / g_np:4.0f}% | {g_nn:8.1f} {100 * g_nn / g_np:4.0f}%")
            sys.stdout.flush()
    geo = lambda xs: float(np.exp(np.mean(np.log(xs))))
    print(f"geometric mean vs numpy: nt {100 * geo([r[0] for r in ratios]):.0f}%, "
          f"nn {100 * geo([r[1] for r in ratios]):.0f}%")


if __name__ == "__main__":
    main()
