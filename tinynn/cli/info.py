"""`tinynn info`: version, backend, SIMD level, OpenMP, threads, NumPy and BLAS of this installation."""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from .common import nonneg_int


def add_parser(sub):
    i = sub.add_parser("info", help="version, backend, SIMD, OpenMP, threads, NumPy/BLAS", description=__doc__)
    i.add_argument("--json", action="store_true", help="print as JSON")
    i.add_argument("--seed", type=nonneg_int, default=0, help=argparse.SUPPRESS)  # every command takes --seed
    i.set_defaults(func=run)


def info_rows():
    """[(name, value)] describing this installation."""
    from importlib.metadata import PackageNotFoundError, version

    import tinynn as tn

    rows = [("tinynn", f"{tn.__version__} ({Path(tn.__file__).resolve().parent})"),
            ("python", f"{platform.python_version()} ({sys.executable})"),
            ("platform", f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"),
            ("backend", tn.get_backend())]
    try:
        from .. import kernels

        k = kernels.info()
        rows += [("kernels", "built"),
                 ("SIMD", f"{k.get('simd')} (CPU supports {k.get('simd_available', k.get('simd'))})"),
                 ("kernel paths", ", ".join(f"{f} {p}" for f, p in k.get("paths", {}).items()) or "unknown"),
                 ("OpenMP", "yes" if k.get("openmp") else "no"),
                 ("kernel threads", str(tn.get_num_threads()))]
    except ImportError as exc:
        rows += [("kernels", f"not built ({exc}); the numpy backend is used")]
    rows += [("numpy", np.__version__), *_blas_rows()]
    for mod in ("tqdm", "mpi4py", "matplotlib"):
        try:
            rows.append((mod, version(mod)))
        except PackageNotFoundError:
            rows.append((mod, "not installed"))
    return rows


def _blas_rows():
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return [("BLAS", f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                             f"{p.get('num_threads')} threads)") for p in pools]
    except ImportError:
        pass
    return [("BLAS", "unknown (pip install threadpoolctl to see it, or look at numpy.show_config())")]


def run(args):
    rows = info_rows()
    if args.json:
        print(json.dumps(dict(rows), indent=2))
    else:
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    return 0
