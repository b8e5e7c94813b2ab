"""Samplers: the order in which a DataLoader visits a dataset's indices (PyTorch's names)."""
import numpy as np

from ..random import check_generator, numpy_generator
from ..tensor import Tensor


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
    replacement), from `generator` (a tn.Generator) or else tinynn's seeded default one."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got {replacement!r}")
        self.n, self.replacement = len(data_source), replacement
        self.generator = check_generator(generator, "RandomSampler")
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got {num_samples!r}")
        self.num_samples = self.n if num_samples is None else num_samples

    def indices(self):
        rng = numpy_generator(self.generator, "RandomSampler")
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
        self.idx = np.asarray(indices, dtype=np.int64)
        self.generator = check_generator(generator, "SubsetRandomSampler")

    def indices(self):
        return self.idx[numpy_generator(self.generator, "SubsetRandomSampler").permutation(len(self.idx))]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return len(self.idx)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with P(i) = w_i / sum_j w_j (torch.multinomial's sampling, from
    `generator` or tinynn's seeded default one). Without replacement each draw is taken from what is
    left, renormalised, as Efraimidis and Spirakis' keys E_i / w_i (E_i ~ Exp(1), smallest first) give
    it ("Weighted random sampling with a reservoir", 2006); zero weights then come last."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, "
                             f"got {num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, got {replacement!r}")
        w = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence, got shape {w.shape}")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (the weights must be "
                               f"finite, non-negative and not all zero), got {w.tolist()[:8]}")
        if not replacement and num_samples > w.size:
            raise RuntimeError(f"WeightedRandomSampler: cannot sample {num_samples} > {w.size} samples "
                               "without replacement")
        self.weights = Tensor._wrap(w.copy(), False)
        self.num_samples, self.replacement = int(num_samples), replacement
        self.generator = check_generator(generator, "WeightedRandomSampler")

    def indices(self):
        rng, w = numpy_generator(self.generator, "WeightedRandomSampler"), self.weights.numpy()
        if self.replacement:  # inverse CDF: u in [F(i-1), F(i)) picks i
            cdf = np.cumsum(w) / w.sum()
            picks = np.searchsorted(cdf, rng.random(self.num_samples), side="right")
            return np.minimum(picks, w.size - 1).astype(np.int64)
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(w.size) / w
        return np.argsort(keys, kind="stable")[:self.num_samples].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples


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
