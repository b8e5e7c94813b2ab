"""DataLoader: batches of Tensors from a dataset, in the order of a sampler (or of an IterableDataset's
stream), optionally loaded in the background."""
import hashlib
import itertools
import warnings

import numpy as np

from ..tensor import Tensor
from ..random import check_generator, numpy_generator
from .background import in_order, round_robin
from .collate import default_collate, default_convert
from .iterable import IterableDataset, _InfiniteConstantSampler
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Iterate over a dataset in batches of Tensors (torch.utils.data.DataLoader's arguments; an unknown
    keyword is a TypeError naming it).

    The order: shuffle=True draws a new permutation each pass from `generator` (a tn.Generator) or
    tinynn's seeded default one; sampler= gives the indices instead (exclusive with shuffle); batch_sampler=
    gives whole batches of indices (exclusive with batch_size, shuffle, sampler and drop_last);
    batch_size=None turns batching off (each sample passes through collate_fn or default_convert).
    drop_last drops a final incomplete batch. Datasets with `get_batch` (TensorDataset) are read a
    batch at a time with one indexing operation, giving the list default_collate would; as in PyTorch,
    every batch is a new tensor (a sequential slice is copied), so changing one in place leaves the
    dataset as it was.

    num_workers > 0 fetches up to num_workers * prefetch_factor (default 2) batches ahead in background
    threads and yields them in exactly the order of num_workers=0; an exception in a worker is raised
    in the loop. Threads, not processes: NumPy's copies and the compiled kernels release the GIL, the
    dataset need not be picklable, and no process is forked under the kernels' OpenMP threads. Random
    transforms in a dataset draw from the shared generator in whatever order the threads reach it, so
    with num_workers > 0 the samples come in a reproducible order but their augmentations may differ.
    pin_memory, multiprocessing_context and pin_memory_device are accepted and do nothing (CPU only);
    persistent_workers is accepted (the threads live for one pass).

    An IterableDataset is read from the front of its stream: no sampler, batch_sampler or shuffle (a
    ValueError, as in PyTorch); batches of batch_size consecutive items (drop_last drops a short last
    one), or the items themselves with batch_size=None; len() is len(dataset) in batches, a TypeError
    when the dataset has no __len__ (and a warning if the stream then yields more batches). With
    num_workers > 0 each worker thread iterates its own shallow copy of the dataset (copy.copy:
    attributes a worker sets are its own, the arrays they refer to are shared) and the batches come
    from the workers in turn; an __iter__ splits the stream between them with get_worker_info().
    Inside a worker, get_worker_info() gives (id, num_workers, seed, dataset); worker_init_fn(id) runs
    first in each. Differences from PyTorch's processes: the workers are threads (a map-style dataset is
    one object they share), and the base seed (seed - id) is derived from the generator's state without
    advancing it -- so the order is that of num_workers=0 -- rather than drawn from it; tinynn's
    generators are not reseeded in the workers."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative int (0: load in the loop), got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (or leave it None)")
        if num_workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value!r}")
            sampler = _InfiniteConstantSampler()
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None disables batching and is mutually exclusive with drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        check_generator(generator, "DataLoader")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.dataset, self.batch_size, self.shuffle = dataset, None if batch_size is None else int(batch_size), bool(shuffle)
        self.sampler, self.drop_last = sampler, bool(drop_last)
        self._given_batches = batch_sampler  # the caller's batch_sampler, or None: batches cut from `sampler`
        # As in PyTorch, .batch_sampler is set whenever batching is on (the one given, or the one implied).
        self.batch_sampler = batch_sampler if batch_sampler is not None or batch_size is None else \
            BatchSampler(sampler, self.batch_size, self.drop_last)
        self.collate_fn, self.generator, self.num_workers = collate_fn, generator, int(num_workers)
        self.prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.pin_memory, self.persistent_workers = pin_memory, persistent_workers
        self._passes, self._reported_len = 0, None  # passes with workers so far; len() of an IterableDataset's loader

    def __len__(self):
        if self._given_batches is not None:
            return len(self._given_batches)
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            self._reported_len = n if self.batch_size is None else \
                n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return self._reported_len
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        """None for 0..n-1 in order, else an int64 array of indices."""
        s = self.sampler
        if s is None or (type(s) is SequentialSampler and len(s) == len(self.dataset)):
            return None
        idx = s.indices() if hasattr(s, "indices") and callable(s.indices) else list(s)
        return np.asarray(idx, dtype=np.int64)

    def _jobs(self):
        """What each batch is made of, in order: a slice, an index array, or one index (batch_size=None)."""
        if self._given_batches is not None:
            yield from (np.asarray(b, dtype=np.int64) for b in self._given_batches)
            return
        order = self._order()
        n = len(self.dataset) if order is None else len(order)
        if self.batch_size is None:
            yield from (range(n) if order is None else order.tolist())
            return
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            yield slice(start, end) if order is None else order[start:end]

    def _fetch(self, job):
        """The batch for one job of _jobs()."""
        if self.batch_size is None and self._given_batches is None:
            sample = self.dataset[job]
            return self.collate_fn(sample) if self.collate_fn is not None else default_convert(sample)
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            # (what default_collate makes of the samples' tuples: a list of stacked Tensors)
            return [_fresh(t) for t in self.dataset.get_batch(job)]
        items = list(range(job.start, job.stop)) if isinstance(job, slice) else job.tolist()
        if callable(getattr(self.dataset, "__getitems__", None)):  # a dataset that reads many samples at once
            return (self.collate_fn or default_collate)(self.dataset.__getitems__(items))
        return (self.collate_fn or default_collate)([self.dataset[i] for i in items])

    def _stream(self, dataset):
        """The batches of an IterableDataset: batch_size consecutive items at a time, collated (the last
        batch shorter, or dropped with drop_last), or each item converted when batch_size is None."""
        items = iter(dataset)
        if self.batch_size is None:
            for item in items:
                yield self.collate_fn(item) if self.collate_fn is not None else default_convert(item)
            return
        while batch := list(itertools.islice(items, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield (self.collate_fn or default_collate)(batch)

    def _base_seed(self):
        """The workers' base seed for this pass: a hash of the generator's state, which is left as it was
        (so the draws of the sampler and the order are those of num_workers=0), and of the pass number."""
        rng = numpy_generator(self.generator, "DataLoader")
        digest = hashlib.sha256(f"{rng.bit_generator.state}/{self._passes}".encode()).digest()
        self._passes += 1
        return int.from_bytes(digest[:8], "little") >> 1  # in [0, 2^63), as PyTorch's

    def _counted(self, batches):
        """`batches`, with PyTorch's warning once the stream yields more than len(loader) said."""
        try:
            for n, batch in enumerate(batches, 1):
                if self._reported_len is not None and n > self._reported_len:
                    warnings.warn(f"DataLoader: the IterableDataset's length was reported to be {self._reported_len} "
                                  f"(when len(dataloader) was read), but {n} batches have been fetched", stacklevel=2)
                yield batch
        finally:
            batches.close()

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            batches = self._stream(self.dataset) if self.num_workers == 0 else round_robin(
                self._stream, self.dataset, self.num_workers, self.prefetch_factor, self.timeout, self.worker_init_fn,
                self._base_seed())
            return self._counted(batches)
        if self.num_workers == 0:
            return map(self._fetch, self._jobs())
        return in_order(self._fetch, self._jobs(), self.num_workers, self.prefetch_factor, self.timeout,
                        self.worker_init_fn, self.dataset, self._base_seed())


def _fresh(t):
    """t, or a copy of it if it is a view into the dataset's arrays (a sequential slice)."""
    return t if t._data.flags.owndata else Tensor._wrap(t._data.copy(), False)
