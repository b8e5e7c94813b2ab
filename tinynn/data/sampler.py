"""Samplers: the order in which a DataLoader visits a dataset's indices (PyTorch's names)."""
import numpy as np

from ..random import generator as default_generator


class Sampler:
    """An iterable over dataset indices, with a length."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., n - 1."""

    def __init__(self, data_source):
        self.n = len(data_source)

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class RandomSampler(Sampler):
    """A fresh random permutation of 0..n-1 on each pass (replacement=True: num_samples draws with
    replacement), from `generator` (a numpy Generator) or else tinynn's seeded generator."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got {replacement!r}")
        self.n, self.replacement, self.generator = len(data_source), replacement, generator
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got {num_samples!r}")
        self.num_samples = self.n if num_samples is None else num_samples

    def indices(self):
        rng = self.generator or default_generator()
        if self.n == 0:
            return np.zeros(0, dtype=np.int64)
        if self.replacement:
            return rng.integers(0, self.n, size=self.num_samples)
        perm = rng.permutation(self.n)
        while len(perm) < self.num_samples:  # more samples than items: further permutations
            perm = np.concatenate([perm, rng.permutation(self.n)])
        return perm[:self.num_samples]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order on each pass (from `generator` or tinynn's)."""

    def __init__(self, indices, generator=None):
        self.idx, self.generator = np.asarray(indices, dtype=np.int64), generator

    def indices(self):
        return self.idx[(self.generator or default_generator()).permutation(len(self.idx))]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return len(self.idx)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
