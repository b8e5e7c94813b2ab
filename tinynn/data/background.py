"""Background loading for DataLoader(num_workers > 0), in threads: `in_order` (a map-style dataset: a pool
fetches the next batches while the caller trains on the current one, handed back in submission order)
and `round_robin` (an IterableDataset: each worker iterates its own copy of the dataset, and their
batches are taken in turn), and get_worker_info(), which tells code running in a worker which one it is."""
import copy
import dataclasses
import itertools
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as _FutureTimeout

_local = threading.local()  # a worker thread's WorkerInfo


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns in a worker (torch.utils.data's, read-only): its `id` in
    0 .. num_workers-1, `num_workers`, `seed` = base_seed + id (base_seed drawn once per pass over the
    loader from its generator, else the default one) and `dataset`: for an IterableDataset the
    worker's own shallow copy, which worker_init_fn may configure; for a map-style dataset the
    loader's dataset itself, which the worker threads share."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """The WorkerInfo of the DataLoader worker this code runs in, or None outside one (in the main
    loop, or with num_workers=0). An IterableDataset's __iter__ uses it to split the stream: worker
    `id` takes, say, the items id, id + num_workers, id + 2 num_workers, ..."""
    return getattr(_local, "info", None)


def _become(info, worker_init_fn):
    """Run in a new worker thread: it is `info`'s worker, then worker_init_fn(info.id) runs."""
    _local.info = info
    if worker_init_fn is not None:
        worker_init_fn(info.id)


def in_order(fetch, jobs, num_workers, prefetch_factor=2, timeout=0, worker_init_fn=None, dataset=None, seed=0):
    """Yield fetch(job) for each job of the iterable `jobs`, in order, computed by `num_workers` threads
    with at most num_workers * prefetch_factor fetches in flight. `jobs` is advanced on the caller's
    thread only, so the order (and any random draws of the sampler) are those of a plain loop. Each
    thread, when it starts, gets its WorkerInfo (seed + id, `dataset`) and runs worker_init_fn(id).

    An exception in a worker is raised here, in the caller, when its batch is due; leaving the loop
    early cancels the fetches not yet started."""
    ids = itertools.count()

    def init():
        worker = next(ids)
        _become(WorkerInfo(worker, num_workers, seed + worker, dataset), worker_init_fn)

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


_END = object()  # a worker's stream is exhausted
_POLL = 0.05     # seconds a blocked worker waits before it checks whether the loop was left


def _stream_worker(info, batches, worker_init_fn, out, stop):
    """One IterableDataset worker: put each of batches(info.dataset)'s batches on `out` (at most its
    maxsize ahead of the caller), then _END; an exception is put in place of the batch it spoiled."""
    def put(item):
        while not stop.is_set():
            try:
                out.put(item, timeout=_POLL)
                return True
            except queue.Full:
                pass
        return False

    try:
        _become(info, worker_init_fn)
        for batch in batches(info.dataset):
            if not put((True, batch)):
                return
        put((True, _END))
    except BaseException as error:  # noqa: BLE001 - raised again in the caller's loop
        put((False, error))


def round_robin(batches, dataset, num_workers, prefetch_factor=2, timeout=0, worker_init_fn=None, seed=0):
    """Yield the batches of an IterableDataset read by `num_workers` threads: worker k iterates
    batches(copy_k), copy_k = copy.copy(dataset), with at most prefetch_factor batches ahead, and the
    caller takes one batch from each worker in turn (0, 1, ..., num_workers-1, 0, ...), skipping the
    workers whose stream has ended, as PyTorch's DataLoader orders them. Without sharding by
    get_worker_info(), every worker yields the whole stream (duplicates, as in PyTorch).

    An exception in a worker is raised here when its turn comes; leaving the loop early stops the workers."""
    stop = threading.Event()
    queues = [queue.Queue(maxsize=prefetch_factor) for _ in range(num_workers)]
    try:
        copies = [copy.copy(dataset) for _ in range(num_workers)]
    except Exception as error:
        raise RuntimeError(f"DataLoader: each worker iterates its own copy of the dataset, but copy.copy "
                           f"failed on {type(dataset).__name__}: {error}") from error
    for k in range(num_workers):
        info = WorkerInfo(k, num_workers, seed + k, copies[k])
        threading.Thread(target=_stream_worker, args=(info, batches, worker_init_fn, queues[k], stop),
                         name=f"tinynn-data-{k}", daemon=True).start()
    active = deque(range(num_workers))
    try:
        while active:
            k = active.popleft()
            try:
                ok, item = queues[k].get(timeout=timeout or None)
            except queue.Empty:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for a batch") from None
            if not ok:
                raise item
            if item is not _END:
                active.append(k)
                yield item
    finally:
        stop.set()
