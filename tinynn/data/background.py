"""In-order background loading for DataLoader(num_workers > 0): a pool of threads fetches the next
batches while the caller trains on the current one, and hands them back in submission order."""
import itertools
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as _FutureTimeout


def in_order(fetch, jobs, num_workers, prefetch_factor=2, timeout=0, worker_init_fn=None):
    """Yield fetch(job) for each job of the iterable `jobs`, in order, computed by `num_workers` threads
    with at most num_workers * prefetch_factor fetches in flight. `jobs` is advanced on the caller's
    thread only, so the order (and any random draws of the sampler) are those of a plain loop.

    An exception in a worker is raised here, in the caller, when its batch is due; leaving the loop
    early cancels the fetches not yet started."""
    ids = itertools.count()
    init = None if worker_init_fn is None else (lambda: worker_init_fn(next(ids)))
    pool = ThreadPoolExecutor(num_workers, thread_name_prefix="tinynn-data", initializer=init)
    pending = deque()
    jobs = iter(jobs)
    try:
        for job in itertools.islice(jobs, num_workers * prefetch_factor):
            pending.append(pool.submit(fetch, job))
        while pending:
            try:
                batch = pending.popleft().result(timeout or None)
            except _FutureTimeout:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for a batch") from None
            for job in itertools.islice(jobs, 1):
                pending.append(pool.submit(fetch, job))
            yield batch
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
