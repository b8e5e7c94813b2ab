"""A process forked after the kernels ran on several threads (a DataLoader worker, a multiprocessing
child) still runs them: GNU OpenMP's thread pool does not survive fork, so a forked child that
entered a region of two threads would wait forever for threads it does not have."""
import multiprocessing

import numpy as np
import pytest

import tinynn as tn
from tinynn import kernels

pytestmark = pytest.mark.skipif(not kernels.info()["openmp"], reason="built without OpenMP: no thread pool")


def _threaded_kernels(results):
    """Run a 2-thread GEMM and max-pool (as explicit num_threads=2 asks) and report what they gave."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 256), dtype=np.float32), rng.standard_normal((256, 256), dtype=np.float32)
    x = rng.standard_normal((8, 16, 64, 64), dtype=np.float32)
    c = kernels.matmul(a, b, num_threads=2)
    y, _ = kernels.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), False, num_threads=2)
    expected_y = x.reshape(8, 16, 32, 2, 32, 2).max(axis=(3, 5))
    results.put((float(np.abs(c - a.astype(np.float64) @ b).max()), bool(np.array_equal(y, expected_y)),
                 tn.get_num_threads(), kernels.get_num_threads()))


def test_a_forked_child_runs_threaded_kernels_on_one_thread():
    _threaded_kernels(multiprocessing.Queue())   # the parent's OpenMP pool now has its threads
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_threaded_kernels, args=(results,))
    child.start()
    child.join(120)
    if child.is_alive():
        child.kill()
        pytest.fail("a forked child hung in a 2-thread kernel (OpenMP's pool does not survive fork)")
    assert child.exitcode == 0
    gemm_error, pool_equal, threads, kernel_threads = results.get(timeout=10)
    assert gemm_error < 1e-3 and pool_equal
    assert threads == kernel_threads == 1   # what the child's kernels really use, and tinynn says so


def test_a_forked_child_keeps_one_thread_when_asked_for_more():
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def child_body(q):
        tn.set_num_threads(4)
        q.put((tn.get_num_threads(), kernels.get_num_threads()))

    _threaded_kernels(multiprocessing.Queue())
    child = context.Process(target=child_body, args=(results,))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and results.get(timeout=10) == (1, 1)
    assert tn.get_num_threads() >= 1 and kernels.get_num_threads() == tn.get_num_threads()
