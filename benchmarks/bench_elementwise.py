"""Activation kernels: tinynn.kernels vs the straightforward NumPy versions (reference).

    python benchmarks/bench_elementwise.py [--n 1000000] [--dtype float32] [--simd avx512 avx2 portable]

Medians over repeats; NumPy's BLAS pool pinned to 1 thread (threadpoolctl, if installed);
tinynn timed with 1 and 2 OpenMP threads on each SIMD path (default: every path this CPU has).
A forced path is fairly compared with the NumPy of a CPU that has only that path: on an AVX-512 CPU,

    NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" python benchmarks/bench_elementwise.py --simd avx2

makes NumPy dispatch as on an AVX2-only CPU (the header prints which build each ufunc runs)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_us, limits, median_time, numpy_dispatch, parse_args, print_table  # noqa: E402

import tinynn as tn  # noqa: E402
from tinynn import kernels  # noqa: E402
from tinynn.backend import reference as ref  # noqa: E402

QUICK = ["--n", "100000"]  # --quick: about a minute


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--simd", nargs="+", default=kernels.simd_paths()[::-1], help="SIMD paths to time")
    args = parse_args(ap, QUICK)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(args.n) * 3).astype(args.dtype)
    g = rng.standard_normal(args.n).astype(args.dtype)
    print(f"n={args.n:,} {args.dtype}, kernels.info()={kernels.info()}")
    print(f"NumPy's SIMD build per ufunc: {numpy_dispatch(('maximum', 'exp', 'tanh', 'multiply'), args.dtype)}")
    rows = []
    with limits():
        for name in ("relu", "sigmoid", "tanh"):
            y = getattr(ref, name)(x)
            first = x if name == "relu" else y
            cases = [("forward", lambda: getattr(ref, name)(x), lambda: getattr(kernels, name)(x)),
                     ("backward", lambda: getattr(ref, name + "_backward")(first, g),
                      lambda: getattr(kernels, name + "_backward")(first, g))]
            for kind, numpy_fn, tinynn_fn in cases:
                t_np = median_time(numpy_fn)
                row = [name, kind, fmt_us(t_np)]
                for simd in args.simd:
                    kernels.set_simd(simd)
                    for threads in (1, 2):
                        tn.set_num_threads(threads)
                        t = median_time(tinynn_fn)
                        row += [fmt_us(t), f"{t_np / t:.1f}x"]
                kernels.set_simd("auto")
                rows.append(row)
    tn.set_num_threads(2)
    print_table(rows, ["op", "pass", "numpy us"] + [f"{simd} {t}T {col}" for simd in args.simd for t in (1, 2)
                                                     for col in ("us", "ratio")])


if __name__ == "__main__":
    main()
