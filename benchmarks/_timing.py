"""Shared helpers of the benchmarks: median of repeats, contenders timed in turns, a plain table,
the --quick option.

A benchmark measures the tinynn that `python` imports: the installed one, the checkout with
`pip install -e .`, or the one `tinynn bench` runs it for (PYTHONPATH)."""
import atexit
import contextlib
import statistics
import sys
import time

import numpy as np

SPREADS = []  # per figure: half its repeats' interquartile range over their median
TOO_WIDE = 0.10


def _note_spread(samples):
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    SPREADS.append((q3 - q1) / 2 / median if median > 0 else 0.0)


@atexit.register
def _report_spread():
    """After a benchmark: how far its figures can be trusted (no figure is quoted without this)."""
    if not SPREADS:
        return
    worst = max(SPREADS)
    print(f"spread of the {len(SPREADS)} timed figures (half their repeats' interquartile range / median): "
          f"median +-{statistics.median(SPREADS):.0%}, largest +-{worst:.0%}")
    if worst > TOO_WIDE:
        wide = sum(s > TOO_WIDE for s in SPREADS)
        print(f"spread too wide to trust for {wide} figure(s) (over +-{TOO_WIDE:.0%}): the machine is busy; "
              "rerun when it is quiet")


def numpy_dispatch(ufuncs, dtype="float32"):
    """Which of NumPy's SIMD builds runs each ufunc on `dtype` here, e.g. {'tanh': 'X86_V4'}.

    A forced tinynn path is compared with the NumPy a CPU of that kind would run: with
    NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" NumPy dispatches as on an AVX2-only CPU."""
    try:
        from numpy._core._multiarray_umath import __cpu_targets_info__ as info
    except ImportError:  # NumPy < 2.3 does not say
        return {}
    char = np.dtype(dtype).char
    found = {}
    for name in ufuncs:
        for signature, target in info.get(name, {}).items():
            if signature.startswith(char):
                found[name] = target["current"]
                break
    return found


def median_time(fn, repeat=15, min_time=0.02):
    """Median seconds per call of fn(): each repeat runs enough calls to last >= min_time."""
    fn()
    number = 1
    while True:
        t = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t >= min_time or number >= 1 << 16:
            break
        number *= 2
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    _note_spread(times)
    return float(np.median(times))


def median_times_in_turns(fns, min_time=0.4, rounds=5, settle=0.0, clock=time.perf_counter):
    """Median time (by `clock`) of each fn in `fns`: `rounds` rounds, each running every fn in turn
    for min_time / rounds seconds, after one warm-up call each.  `settle` seconds of sleep before
    each switch let the other library's worker threads go idle: OpenBLAS's spin for about 0.1 s
    after a call, and a spinning worker takes a core from whatever runs next."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            if settle:
                time.sleep(settle)
            end = time.perf_counter() + min_time / rounds
            while True:
                t0 = clock()
                fn()
                ts.append(clock() - t0)
                if time.perf_counter() >= end:
                    break
    for ts in times:
        _note_spread(ts)
    return [statistics.median(ts) for ts in times]


def print_table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def fmt_us(seconds):
    return f"{seconds * 1e6:,.1f}"


def limits():
    """NumPy's BLAS pinned to one thread for the block (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1)
    except ImportError:
        return contextlib.nullcontext()


def parse_args(parser, quick, argv=None):
    """parser.parse_args(argv) with a --quick option: the arguments `quick` (this script's settings
    that finish in about a minute; `tinynn bench --quick` passes --quick) go first, so options
    given on the command line win."""
    parser.add_argument("--quick", action="store_true",
                        help=f"small settings, about a minute: {' '.join(quick) or 'the defaults already are'}")
    argv = sys.argv[1:] if argv is None else list(argv)
    return parser.parse_args([*quick, *argv] if "--quick" in argv else argv)
