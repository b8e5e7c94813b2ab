"""Fused optimizer updates: kernels.sgd_step/adam_step (+ *_multi) vs reference, in place.

    python benchmarks/bench_optim.py

Per-tensor on one 1M-element float32 parameter, and a whole "model" of 8 small tensors
(where per-call Python overhead dominates) with the multi-tensor forms."""
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


def main():
    parse_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter), QUICK)
    rng = np.random.default_rng(0)
    print(f"kernels.info()={kernels.info()}")
    rows = []
    with limits():
        for label, shapes in (("1 x 1M params", [(1000, 1000)]),
                              ("8 small tensors (MLP 64-128-128-10)", [(128, 64), (128,), (128, 128), (128,),
                                                                      (10, 128), (10,), (64, 64), (64,)])):
            ps = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            gs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            bs = [np.zeros_like(p) for p in ps]
            ms = [np.zeros_like(p) for p in ps]
            vs = [np.zeros_like(p) for p in ps]
            cases = {
                "sgd momentum+nesterov+wd": (
                    lambda m: m.sgd_step_multi(ps, gs, bs, 1e-3, 0.9, 0.0, 1e-4, True, False),
                    lambda m: [m.sgd_step(p, g, b, 1e-3, 0.9, 0.0, 1e-4, True, False) for p, g, b in zip(ps, gs, bs)]),
                "adamw": (
                    lambda m: m.adam_step_multi(ps, gs, ms, vs, 10, 1e-3, 0.9, 0.999, 1e-8, 1e-2, True),
                    lambda m: [m.adam_step(p, g, a, v, 10, 1e-3, 0.9, 0.999, 1e-8, 1e-2, True)
                               for p, g, a, v in zip(ps, gs, ms, vs)]),
            }
            for name, (multi, single) in cases.items():
                t_np = median_time(lambda: single(ref))
                row = [label, name, fmt_us(t_np)]
                for threads in (1, 2):
                    tn.set_num_threads(threads)
                    t1 = median_time(lambda: single(kernels))
                    t2 = median_time(lambda: multi(kernels))
                    row += [fmt_us(t1), f"{t_np / t1:.1f}x", fmt_us(t2), f"{t_np / t2:.1f}x"]
                rows.append(row)
    tn.set_num_threads(2)
    print_table(rows, ["params", "update", "numpy us", "1T per-tensor us", "ratio", "1T multi us", "ratio",
                       "2T per-tensor us", "ratio", "2T multi us", "ratio"])


if __name__ == "__main__":
    main()
