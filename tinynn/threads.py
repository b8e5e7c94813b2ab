"""How many threads the compiled kernels use."""
import os

_threads = None


def get_num_threads():
    """Threads the compiled kernels use (default: TINYNN_NUM_THREADS, else the cores available)."""
    global _threads
    if _threads is None:
        env = os.environ.get("TINYNN_NUM_THREADS", "")
        _threads = int(env) if env.isdigit() and int(env) > 0 else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return _threads


def set_num_threads(n):
    """Use n >= 1 threads in the compiled kernels."""
    global _threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: need an int >= 1, got {n!r}")
    _threads = n
