"""`tinynn bench`: the scripts benchmarks/bench_*.py of the source checkout (each prints its own
table), found next to the imported tinynn or, for an installed tinynn run inside its clone, above
the current folder; outside a checkout, a built-in timing of kernels.matmul against NumPy."""
import ast
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..train import format_table, times_in_turns
from .common import EXIT_FAILURE, CLIError, add_common, setup

NOISY = 0.10  # half the interquartile range over the median: wider than this, a figure is not to be trusted
BUILTIN = "kernels.matmul vs NumPy's matmul, float32 (built in; needs no checkout)"


def add_parser(sub):
    b = sub.add_parser("bench", help="run the benchmarks", description=__doc__,
                       epilog="Arguments after -- go to every script, e.g. tinynn bench overhead -- --rounds 10")
    b.add_argument("names", nargs="*", help="benchmarks to run, e.g. train overhead builtin (default: all)")
    b.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    b.add_argument("--quick", action="store_true", help="small settings (each script's --quick: about a minute each)")
    b.add_argument("--dir", help="benchmarks folder (default: the checkout's benchmarks/)")
    add_common(b, data=False)
    b.set_defaults(func=run, script_args=[])


def find_benchmarks(package_root, cwd):
    """benchmarks/ of the tinynn checkout at `package_root` (the folder holding the imported
    tinynn), else of the checkout holding `cwd` or one of its parents; None outside a checkout."""
    for root in (package_root, cwd, *cwd.parents):
        folder = root / "benchmarks"
        if (root / "tinynn" / "__init__.py").is_file() and any(folder.glob("bench_*.py")):
            return folder
    return None


def run(args):
    import tinynn as tn

    setup(args)
    package_root = Path(tn.__file__).resolve().parent.parent
    if args.dir:
        folder = Path(args.dir).resolve()  # the scripts run from their own folder: a relative path would double
        if not any(folder.glob("bench_*.py")):
            raise CLIError(f"--dir {args.dir}: no such folder, or no bench_*.py in it")
    else:
        folder = find_benchmarks(package_root, Path.cwd().resolve())
    scripts = {s.stem.removeprefix("bench_"): s for s in sorted(folder.glob("bench_*.py"))} if folder else {}
    names = [n.removesuffix(".py").removeprefix("bench_") for n in args.names]
    unknown = [n for n in names if n not in scripts and n != "builtin"]
    if unknown:
        where = "" if folder else " (the scripts are in benchmarks/ of a source checkout: run from one, or give --dir)"
        raise CLIError(f"no benchmark named {', '.join(unknown)}; available: {', '.join([*scripts, 'builtin'])}{where}")
    if args.list:
        for name in names or [*scripts, "builtin"]:
            print(f"{name:<14} {_first_doc_line(scripts[name]) if name in scripts else BUILTIN}")
        return 0
    if not names and not scripts:
        print("benchmarks/ not found: the scripts come with a source checkout (run inside one, or give --dir); "
              "running the built-in timing instead")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    status = 0
    for name in names or list(scripts) or ["builtin"]:
        if name == "builtin":
            print(builtin_report(args.quick, args.seed, args.threads), flush=True)
            continue
        extra = [*args.script_args, *(["--quick"] if args.quick else [])]
        print(f"$ python {scripts[name]} {' '.join(extra)}".rstrip(), flush=True)
        # PYTHONPATH: the scripts measure this tinynn, not another copy (say, the checkout's unbuilt source)
        rc = subprocess.run([sys.executable, str(scripts[name]), *extra], cwd=folder, env=env).returncode
        if rc != 0:
            print(f"tinynn bench: {scripts[name].name} exited with status {rc}", file=sys.stderr)
            status = EXIT_FAILURE
    return status


def _first_doc_line(path):
    try:
        doc = ast.get_docstring(ast.parse(path.read_text()))
    except (SyntaxError, OSError):
        doc = None
    return " ".join(doc.strip().split("\n\n")[0].split()) if doc else ""


def spread(samples):
    """(median, s): s = half the interquartile range over the median, the +-s written beside a figure."""
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return float(median), float((q3 - q1) / 2 / median) if median else 0.0


def noise_note(spreads):
    """A sentence for the figures of {label: spread} spread wider than NOISY, or "" if none is."""
    wide = {label: s for label, s in spreads.items() if s > NOISY}
    if not wide:
        return ""
    worst = max(wide, key=wide.get)
    return (f"spread too wide to trust: {len(wide)} of {len(spreads)} figures vary by more than +-{NOISY:.0%} "
            f"(worst: {worst}, +-{wide[worst]:.0%}); the machine is busy, so rerun on an idle one before "
            "drawing conclusions from these numbers")


def builtin_report(quick=False, seed=0, threads=None):
    """kernels.matmul against NumPy's matmul on float32 n x n x n products, each on `threads` threads
    (default 1: two thread pools on the same cores disturb each other), timed in turns (one call
    of each per round); every figure is a median with its spread, the speed-up the median of the
    per-round ratios t_numpy / t_tinynn."""
    try:
        from .. import kernels
    except ImportError as exc:
        raise CLIError(f"the built-in timing needs tinynn's compiled kernels ({exc})") from None
    threads = threads or 1
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not a dependency of tinynn
        threadpool_limits, numpy_threads = lambda n: contextlib.nullcontext(), " (numpy: all its BLAS threads)"
    else:
        numpy_threads = ""
    rng = np.random.default_rng(seed)
    rows, spreads = [], {}
    with threadpool_limits(threads):
        for n in (64, 128, 256) if quick else (64, 128, 256, 512):
            a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
            t_k, t_np = times_in_turns([lambda: kernels.matmul(a, b, num_threads=threads), lambda: a @ b],
                                       rounds=15 if quick else 41)
            row, gflop = [f"{n}x{n}x{n}"], 2 * n ** 3 / 1e9
            for label, samples in (("tinynn", t_k), ("numpy", t_np)):
                median, spreads[f"{n} {label}"] = spread(samples)
                row += [f"{median * 1e3:.3f} +-{spreads[f'{n} {label}']:.0%}", f"{gflop / median:.1f}"]
            ratio, spreads[f"{n} speed-up"] = spread(np.array(t_np) / np.array(t_k))
            rows.append(row + [f"{ratio:.2f}x +-{spreads[f'{n} speed-up']:.0%}"])
    lines = [f"kernels.matmul vs numpy (float32, {threads} thread{'s' if threads > 1 else ''} each{numpy_threads}; "
             "medians +- half their interquartile range, timed in turns)",
             format_table(["size", "tinynn ms", "GFLOP/s", "numpy ms", "GFLOP/s", "tinynn speed-up"], rows)]
    return "\n".join(lines + [noise_note(spreads)]).rstrip()
