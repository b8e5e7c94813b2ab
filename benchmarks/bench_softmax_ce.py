"""softmax / log_softmax and fused cross-entropy: tinynn.kernels vs straightforward NumPy (reference).

    python benchmarks/bench_softmax_ce.py [--simd avx512 avx2 portable]

"fwd+bwd" is the training step's work: cross_entropy then cross_entropy_backward
(softmax then softmax_backward).  Medians; NumPy's BLAS pool pinned to 1 thread."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_us, limits, median_time, parse_args, print_table  # noqa: E402

import tinynn as tn  # noqa: E402
from tinynn import kernels  # noqa: E402
from tinynn.backend import reference as ref  # noqa: E402

QUICK = []  # --quick: the defaults already take about a minute


def ce_step(mod, x, t, e, g):
    loss, probs = mod.cross_entropy(x, t, e)
    return mod.cross_entropy_backward(probs, t, e, g)


def sm_step(mod, x, g):
    y = mod.softmax(x)
    return mod.softmax_backward(y, g)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--simd", nargs="+", default=["auto"], help="SIMD paths to time (kernels.simd_paths())")
    args = parse_args(parser, QUICK)
    rng = np.random.default_rng(0)
    print(f"kernels.info()={kernels.info()}")
    rows = []
    with limits():
        for n, c in ((256, 10), (4096, 1000)):
            x = rng.standard_normal((n, c)).astype(np.float32)
            t = rng.integers(0, c, n)
            g = np.full(n, 1.0 / n, np.float32)
            gx = rng.standard_normal((n, c)).astype(np.float32)
            cases = [("cross_entropy fwd+bwd (e=0)", lambda m: ce_step(m, x, t, 0.0, g)),
                     ("cross_entropy fwd+bwd (e=0.1)", lambda m: ce_step(m, x, t, 0.1, g)),
                     ("softmax fwd+bwd", lambda m: sm_step(m, x, gx)),
                     ("log_softmax fwd", lambda m: m.log_softmax(x))]
            for label, fn in cases:
                t_np = median_time(lambda: fn(ref))
                for simd in args.simd:
                    kernels.set_simd(simd)
                    row = [f"{n}x{c}", label, kernels.get_simd(), fmt_us(t_np)]
                    for threads in (1, 2):
                        tn.set_num_threads(threads)
                        tt = median_time(lambda: fn(kernels))
                        row += [fmt_us(tt), f"{t_np / tt:.1f}x"]
                    rows.append(row)
                kernels.set_simd("auto")
    tn.set_num_threads(2)
    print_table(rows, ["shape", "op", "simd", "numpy us", "tinynn 1T us", "ratio", "tinynn 2T us", "ratio"])


if __name__ == "__main__":
    main()
