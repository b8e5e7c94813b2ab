"""Concurrency: the kernels release the GIL, and a model evaluated from several Python threads at
once gives exactly the results it gives sequentially; grad mode (no_grad) is per thread."""
import sys
import threading
import time

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn

N_THREADS = 4


def run_threads(fn, n=N_THREADS):
    """Run fn(i) on n threads started together; return their results (re-raising any error)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def make_model():
    tn.manual_seed(1)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(), nn.Linear(64, 10),
                         nn.LogSoftmax(dim=-1))


@pytest.mark.parametrize("num_threads", [1, 2])
def test_same_model_from_four_threads_matches_sequential(backend_name, num_threads):
    previous = tn.get_num_threads()
    tn.set_num_threads(num_threads)
    try:
        model = make_model().eval()
        rng = np.random.default_rng(0)
        batches = [tn.tensor(rng.standard_normal((200, 64)).astype(np.float32)) for _ in range(N_THREADS)]
        with tn.no_grad():
            expected = [model(x).numpy() for x in batches]

        def evaluate(i):
            with tn.no_grad():
                return [model(batches[i]).numpy() for _ in range(5)]

        for i, outs in enumerate(run_threads(evaluate)):
            for out in outs:
                np.testing.assert_array_equal(out, expected[i])
    finally:
        tn.set_num_threads(previous)


def test_training_steps_in_threads_on_separate_models_match_sequential(backend_name):
    """Forward + backward + optimizer step (the in-place kernels) on one model per thread."""
    rng = np.random.default_rng(1)
    x = tn.tensor(rng.standard_normal((64, 64)).astype(np.float32))
    y = tn.tensor(rng.integers(0, 10, 64))

    models = [make_model() for _ in range(N_THREADS + 1)]  # tn.manual_seed is process-wide: init first

    def train(i):
        model = models[i]
        opt = tn.optim.Adam(model.parameters(), lr=1e-2)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(5):
            opt.zero_grad()
            loss_fn(model[:-1](x), y).backward()
            opt.step()
        return [p.numpy().copy() for p in model.parameters()]

    expected = train(N_THREADS)
    for params in run_threads(train):
        for p, e in zip(params, expected):
            np.testing.assert_array_equal(p, e)


def python_progress_during(call):
    """Run call() once while a pure-Python thread stamps the time every millisecond it runs; return
    the share of the call not inside the thread's longest pause: 1 - (longest gap between its
    stamps, the call's start t0 and end t1 counted as stamps) / (t1 - t0).

    Measured inside the one call, not between calls: while the caller holds the GIL no Python
    thread runs at all, so the counting thread pauses for the whole time the C code runs (the
    share is then at most what a thread switch lets in just before the C code is entered or just
    after it returns); a call that releases the GIL leaves the other core to the counting thread,
    whose longest pause is then only what the OS scheduler makes it wait."""
    stamps, stop, running = [], threading.Event(), threading.Event()

    def count():
        last = 0.0
        running.set()
        while not stop.is_set():
            now = time.perf_counter()
            if now - last >= 1e-3:
                stamps.append(now)
                last = now

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-3)
    counter = threading.Thread(target=count)
    counter.start()
    try:
        running.wait(30)
        time.sleep(0.02)
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
    finally:
        stop.set()
        counter.join()
        sys.setswitchinterval(interval)
    inside = np.array([t0] + [t for t in stamps if t0 < t < t1] + [t1])
    return 1.0 - np.diff(inside).max() / (t1 - t0)


def long_product(kernels, seconds=0.25):
    """Square float64 operands whose one-thread product takes at least `seconds` (sizes doubled
    until one call does: a busy machine only makes the call longer, which the measurement likes)."""
    n = 250
    while True:
        a = np.random.default_rng(n).standard_normal((n, n))
        start = time.perf_counter()
        kernels.matmul(a, a, num_threads=1)
        if time.perf_counter() - start >= seconds or n >= 4000:
            return a
        n = int(n * 1.4)


KERNEL_CALLS = {"matmul": lambda k, a: k.matmul(a, a, num_threads=1),
                "linear+tanh": lambda k, a: k.linear(a, a, a[0], "tanh", num_threads=1)}


def median_progress(kernels, name, attempts=3):
    """The median over `attempts` of python_progress_during one long call of KERNEL_CALLS[name]
    (a busy machine may stall the counting thread in one attempt, or delay the call's start)."""
    a = long_product(kernels)
    return float(np.median([python_progress_during(lambda: KERNEL_CALLS[name](kernels, a))
                            for _ in range(attempts)]))


@pytest.mark.parametrize("name", list(KERNEL_CALLS))
def test_kernels_release_the_gil_during_a_call(name):
    """A Python thread keeps running through one long kernel call."""
    kernels = pytest.importorskip("tinynn.kernels")
    progress = median_progress(kernels, name)
    assert progress >= 0.5, f"{name}: a Python thread paused for {1 - progress:.0%} of the call"


@pytest.mark.parametrize("name", list(KERNEL_CALLS))
def test_gil_measurement_sees_a_call_that_holds_the_gil(name):
    """The control: the same kernel call made to keep the GIL (kernels._set_nogil_min) fails the
    same measurement, so the test above can tell a released GIL from a held one."""
    kernels = pytest.importorskip("tinynn.kernels")
    previous = kernels._set_nogil_min(2 ** 62)
    try:
        progress = median_progress(kernels, name)
    finally:
        kernels._set_nogil_min(previous)
    assert progress < 0.5, f"{name}: a Python thread ran through {progress:.0%} of a call that holds the GIL"


def test_no_grad_is_per_thread():
    """no_grad in one thread does not switch grad mode off in another (and vice versa)."""
    inside, entered, release = {}, threading.Event(), threading.Event()
    x = tn.tensor([1.0, 2.0], requires_grad=True)

    def holder():
        with tn.no_grad():
            inside["holder"] = (x * 2).requires_grad
            entered.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    entered.wait(30)
    try:
        assert tn.is_grad_enabled()
        assert (x * 2).requires_grad  # this thread still records graphs
        with tn.no_grad():
            other = {}
            worker = threading.Thread(target=lambda: other.setdefault("g", (x * 3).requires_grad))
            worker.start()
            worker.join()
            assert other["g"] is True  # a new thread starts with grad mode on
    finally:
        release.set()
        t.join()
    assert inside["holder"] is False


def test_backward_in_threads_on_one_shared_input():
    """Separate graphs over one shared leaf, backward from 4 threads: each thread's graph is its own;
    the shared leaf accumulates the sum of all 4 gradients (in any order: they are equal)."""
    w = tn.tensor(np.linspace(-1, 1, 50), dtype=np.float64, requires_grad=True)

    def grad_of(i):
        x = tn.tensor(np.full(50, float(i + 1)))
        loss = ((w * x).tanh() * x).sum()
        loss.backward()
        return True

    assert all(run_threads(grad_of))
    expected = sum((1 - np.tanh(w.numpy() * (i + 1)) ** 2) * (i + 1) ** 2 for i in range(N_THREADS))
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)
