"""How many threads the compiled kernels use.

`set_num_threads(n)` / `get_num_threads()` control the OpenMP loops inside
`tinynn.kernels` (the kernels use one thread for small arrays whatever n is).
NumPy's own BLAS pool is not touched: use threadpoolctl for that.

At import, before the extension (and with it the OpenMP runtime) is loaded, this
module sets GOMP_SPINCOUNT=20000 unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT:
an idle OpenMP worker spins for a few tens of microseconds, then sleeps. Never sleeping
(libgomp's default spins ~300,000 times, ACTIVE forever) steals cores from NumPy's OpenBLAS
threads or other processes between kernels; sleeping at once (PASSIVE) makes every kernel
call wake its workers, which on a VM's idle vCPU costs as much as a small GEMM (measured:
2-thread 64x784x128 fell to 0.67x OpenBLAS with PASSIVE, 0.93x with this spin count).
"""
import os
import sys

SPIN_COUNT = "20000"
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT

_threads = None


def _default_threads():
    env = os.environ.get("TINYNN_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _push(n):
    # Tell the compiled kernels, if they are loaded (the cython backend calls sync() when it loads them).
    kernels = sys.modules.get("tinynn.kernels")
    if kernels is not None and hasattr(kernels, "set_num_threads"):
        kernels.set_num_threads(n)


def get_num_threads():
    """Threads the compiled kernels use (default: TINYNN_NUM_THREADS, else the cores available)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n):
    """Use n >= 1 threads in the compiled kernels' OpenMP loops."""
    global _threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: need an int >= 1, got {n!r}")
    _threads = n
    _push(n)


def sync():
    """Push the current thread count into tinynn.kernels (called when the extension loads)."""
    _push(get_num_threads())
