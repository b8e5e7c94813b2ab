"""How many threads the compiled kernels use.

`set_num_threads(n)` / `get_num_threads()` control the OpenMP loops inside
`tinynn.kernels` (the kernels use one thread for small arrays whatever n is).
NumPy's own BLAS pool is not touched: use threadpoolctl for that.

How long an idle OpenMP worker spins before it sleeps is the OpenMP runtime's own
setting (OMP_WAIT_POLICY, GOMP_SPINCOUNT), read once when the runtime loads; tinynn
leaves it to the user and changes nothing in the process environment. On a machine
whose cores other busy processes share, a short spin (GOMP_SPINCOUNT=20000 set before
Python starts) keeps 2-thread kernels from stalling (measured: several times faster there).
"""
import os
import sys

_threads = None


def _default_threads():
    env = os.environ.get("TINYNN_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def get_num_threads():
    """Threads the compiled kernels use (default: TINYNN_NUM_THREADS, else the cores available)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n):
    """Use n >= 1 threads in the compiled kernels' OpenMP loops.  In a process forked after the
    kernels were loaded (a DataLoader worker, a multiprocessing child) they use one thread
    whatever n is: OpenMP's thread pool does not survive fork."""
    global _threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: need an int >= 1, got {n!r}")
    _threads = n
    sync()


def sync():
    """Push the current thread count into tinynn.kernels if it is loaded (the compiled backend
    calls this when it loads the extension)."""
    global _threads
    kernels = sys.modules.get("tinynn.kernels")
    if kernels is not None and hasattr(kernels, "set_num_threads"):
        kernels.set_num_threads(get_num_threads())
        _threads = kernels.get_num_threads()   # (1 in a forked child, whatever was asked)


def _after_fork_in_child():
    if "tinynn.kernels" in sys.modules:
        sync()


os.register_at_fork(after_in_child=_after_fork_in_child)
