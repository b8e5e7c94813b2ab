"""Benchmark tinynn's blocked GEMM against NumPy (OpenBLAS) at the same thread count.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_matmul.py
    python benchmarks/bench_matmul.py --threads 1 --shapes 1024 --dtype float64
    python benchmarks/bench_matmul.py --no-int8 --simd avx512 avx2     (one tinynn row per SIMD path)

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, force a slower OpenBLAS kernel; unset them
for this command only (as above) so the comparison is against OpenBLAS at its best.  On an AVX-512
machine, OPENBLAS_CORETYPE=Haswell with --simd avx2 compares tinynn's AVX2 path with the kernel
OpenBLAS picks on an AVX2-only core (a stand-in for such a machine, not one).  The
OpenBLAS kernel actually used is printed (threadpoolctl).  NumPy's thread pool is limited
with threadpoolctl, tinynn's with num_threads=; both run on the same inputs, in alternating
rounds (with a pause at each switch on several threads, so that neither library's idle workers
take a core from the other), and the table reports medians in GFLOPS (2 m k n / time) and
the ratio tinynn / numpy (> 1: tinynn is faster).

The int8 rows time kernels.int8_matmul (exact int32 accumulation) in GOPS and compare it
with NumPy's float32 matmul on the same shape.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))                   # _timing
from _timing import median_times_in_turns, parse_args  # noqa: E402

QUICK = ["--threads", "1", "--min-time", "0.1"]  # --quick: about a minute

SQUARE = (256, 512, 1024, 2048)
MLP = ((64, 784, 128), (256, 1024, 1024))
INT8 = ((1024, 1024, 1024), (256, 1024, 1024))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shapes", nargs="+", default=None,
                        help="square sizes n or m,k,n triples (default: 256 512 1024 2048 and the MLP shapes)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 rows")
    parser.add_argument("--simd", nargs="+", default=["auto"],
                        help="tinynn's SIMD paths to time, in turns with NumPy in the same rounds (auto, "
                             "portable, avx2, avx512: kernels.simd_paths())")
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds to spend per shape and library")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: elapsed time (default); cpu: this thread's CPU time, which ignores time "
                             "spent descheduled on a busy machine (1-thread rows only; others stay wall)")
    args = parse_args(parser, QUICK, argv)

    from threadpoolctl import threadpool_info, threadpool_limits

    import tinynn  # noqa: F401  (sets the OpenMP wait policy before the extension loads)
    from tinynn import kernels

    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) if "," in s else (int(s),) * 3 for s in args.shapes]
    else:
        shapes = [(n, n, n) for n in SQUARE] + list(MLP)
    dtype = np.dtype(args.dtype)

    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var}={os.environ[var]} is set and may slow OpenBLAS; "
                  f"run under `env -u {var}` for a fair comparison", file=sys.stderr)
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    for info in blas:
        print(f"NumPy {np.__version__} BLAS: {info.get('internal_api')} {info.get('version')} "
              f"kernel={info.get('architecture')} threading={info.get('threading_layer')}")
    print(f"tinynn kernels: {kernels.info()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    print()

    rng = np.random.default_rng(0)
    header = f"{'op':<7}{'m x k x n':<20}{'thr':>4}{'simd':>9}{'tinynn':>10}{'numpy':>10}{'ratio':>8}"
    print(header + f"    (GFLOPS / GOPS, medians of {args.clock} time)")
    print("-" * len(header))
    rows = []
    for nt in args.threads:
        clock = time.thread_time if (args.clock == "cpu" and nt == 1) else time.perf_counter
        with threadpool_limits(limits=nt, user_api="blas"):
            for m, k, n in shapes:
                a = rng.standard_normal((m, k)).astype(dtype)
                b = rng.standard_normal((k, n)).astype(dtype)
                c = np.empty((m, n), dtype)
                *t_ours, t_np = median_times_in_turns([_on_path(kernels, p, kernels.matmul, a, b, out=c, num_threads=nt)
                                                       for p in args.simd] + [lambda: np.matmul(a, b, out=c)],
                                                      args.min_time, settle=0.25 if nt > 1 else 0.0, clock=clock)
                for path, t in zip(args.simd, t_ours):
                    rows.append((f"f{dtype.itemsize * 8}", m, k, n, nt, path, t, t_np))
                    print(_row(*rows[-1]), flush=True)
            if not args.no_int8:
                for m, k, n in INT8:
                    a8 = rng.integers(-128, 128, (m, k), dtype=np.int8)
                    b8 = rng.integers(-128, 128, (k, n), dtype=np.int8)
                    a = a8.astype(np.float32)
                    b = b8.astype(np.float32)
                    c = np.empty((m, n), np.float32)
                    t_ours, t_np = median_times_in_turns([lambda: kernels.int8_matmul(a8, b8, num_threads=nt),
                                                          lambda: np.matmul(a, b, out=c)], args.min_time,
                                                         settle=0.25 if nt > 1 else 0.0, clock=clock)
                    rows.append(("int8", m, k, n, nt, kernels.get_simd(), t_ours, t_np))
                    print(_row(*rows[-1]) + "   (numpy: float32)", flush=True)
    return rows


def _on_path(kernels, path, fn, *args, **kwargs):
    """fn(*args, **kwargs) on SIMD path `path` (the previous path restored after each call)."""
    def call():
        previous = kernels.set_simd(path)
        try:
            fn(*args, **kwargs)
        finally:
            kernels.set_simd(previous)
    return call


def _row(op, m, k, n, nt, path, t_ours, t_np):
    flops = 2.0 * m * k * n
    return (f"{op:<7}{f'{m}x{k}x{n}':<20}{nt:>4}{path:>9}{flops / t_ours / 1e9:>10.1f}{flops / t_np / 1e9:>10.1f}"
            f"{t_np / t_ours:>8.2f}")


if __name__ == "__main__":
    main()
