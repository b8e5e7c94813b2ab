"""Iterable-style datasets (torch.utils.data's): IterableDataset, a stream of samples read in order, and
ChainDataset, several streams one after another.

    class Squares(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = get_worker_info()         # None unless in a DataLoader worker
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return (i * i for i in range(start, self.n, step))   # each worker its share

    DataLoader(Squares(10), batch_size=4, num_workers=2)   # every square exactly once

A DataLoader reads such a dataset from the front (no sampler, no shuffle) and cuts batches out of the
stream; with num_workers > 0 each worker iterates its own copy (background.py).
"""
import collections.abc

from .dataset import Dataset


class IterableDataset(Dataset, collections.abc.Iterable):
    """A dataset that is a stream: subclasses implement `__iter__` (abstract, as in collections.abc.Iterable:
    a subclass without it cannot be instantiated); `__len__` is optional. `a + b` chains two streams."""

    def __len__(self):  # without a __len__ of the subclass's, len() is Python's own TypeError (as in PyTorch)
        raise TypeError(f"object of type {type(self).__name__!r} has no len()")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The streams of `datasets` (IterableDatasets) one after another: x_1 ... x_n, y_1 ... y_m, ...
    (each is iterated afresh on every pass, so the chaining is lazy, as in PyTorch: a dataset that is
    not an IterableDataset is a TypeError when the pass reaches it). len() is the sum of theirs."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from _iterable(d)

    def __len__(self):
        return sum(len(_iterable(d)) for d in self.datasets)


def _iterable(d):
    if not isinstance(d, IterableDataset):
        raise TypeError(f"ChainDataset only supports IterableDatasets, got a {type(d).__name__}")
    return d


class _InfiniteConstantSampler:
    """DataLoader.sampler for an IterableDataset (PyTorch's): None, forever -- the stream itself
    decides what comes next and when it ends."""

    def __iter__(self):
        while True:
            yield None
