"""Datasets, samplers and the DataLoader (PyTorch's torch.utils.data, for in-memory arrays).

    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    for xb, yb in loader:        # Tensors; integer labels as int64
        ...

Shuffling draws from tinynn's generator, so `tn.manual_seed` makes the order reproducible.
"""
import math

import numpy as np

from ..random import generator
from ..tensor import Tensor
from . import transforms

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "default_collate", "random_split", "transforms"]


class Dataset:
    """A map-style dataset: subclasses implement `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


def _as_array(a, i):
    if isinstance(a, Tensor):
        a = a.data
    a = np.asarray(a)
    if a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)  # labels are int64, as PyTorch's cross-entropy expects
    if a.ndim == 0:
        raise ValueError(f"TensorDataset: array {i} is 0-dimensional; each needs a first (sample) axis")
    return a


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: dataset[i] = (a_1[i], a_2[i], ...) as Tensors.

    Integer arrays are stored as int64 (once, here). `transform`, if given, is applied to the
    first array's rows (a single sample or a whole batch) when they are fetched."""

    def __init__(self, *arrays, transform=None):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = tuple(_as_array(a, i) for i, a in enumerate(arrays))
        n = len(self.arrays[0])
        lengths = [len(a) for a in self.arrays]
        if any(m != n for m in lengths):
            raise ValueError(f"TensorDataset: arrays have different first dimensions {lengths}")
        self.transform = transform

    @property
    def tensors(self):
        return tuple(Tensor._wrap(a, False) for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])

    def get_batch(self, index):
        """Rows `index` (an int, a slice -- a view, no copy -- or an index array) of every array, as Tensors."""
        parts = [a[index] for a in self.arrays]
        if self.transform is not None:
            parts[0] = self.transform(parts[0])
        return tuple(Tensor._wrap(np.asarray(p), False) for p in parts)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)) and not -len(self) <= index < len(self):
            raise IndexError(f"TensorDataset: index {index} out of range for {len(self)} samples")
        return self.get_batch(index)


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __getitem__(self, i):
        return self.dataset[int(self.indices[i])]

    def get_batch(self, index):
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(self.indices[index])
        raise AttributeError("get_batch")

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1), randomly."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not sum to the dataset size {n}")
    perm = generator().permutation(n)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out


# ---------------------------------------------------------------- samplers
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
    """A fresh random permutation of 0..n-1 on each pass, from tinynn's generator."""

    def __init__(self, data_source):
        self.n = len(data_source)

    def indices(self):
        return generator().permutation(self.n)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.n


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order on each pass."""

    def __init__(self, indices):
        self.idx = np.asarray(indices, dtype=np.int64)

    def indices(self):
        return self.idx[generator().permutation(len(self.idx))]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return len(self.idx)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

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


# ---------------------------------------------------------------- loading
def default_collate(samples):
    """Stack a list of samples (tuples of Tensors/arrays/numbers) field by field into batch Tensors.
    Python ints become int64, Python floats float32."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    arrays = [s.data if isinstance(s, Tensor) else s for s in samples]
    if isinstance(first, bool):
        stacked = np.array(arrays, dtype=np.bool_)
    elif isinstance(first, int):
        stacked = np.array(arrays, dtype=np.int64)
    elif isinstance(first, float):
        stacked = np.array(arrays, dtype=np.float32)
    else:
        stacked = np.stack([np.asarray(a) for a in arrays])
        if stacked.dtype.kind in "iu" and stacked.dtype != np.int64:
            stacked = stacked.astype(np.int64)
    return Tensor._wrap(stacked, False)


class DataLoader:
    """Iterate over a dataset in batches of Tensors.

    shuffle=True draws a new permutation from tinynn's generator at the start of each pass
    (reproducible after tn.manual_seed); sampler= gives the order instead (any iterable of
    indices with a length, e.g. DistributedSampler; exclusive with shuffle). drop_last drops a
    final incomplete batch. Datasets with `get_batch` (TensorDataset) are read a batch at a time
    with one indexing operation -- a view (no copy) when the order is sequential."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, drop_last=False,
                 collate_fn=None, num_workers=0, **unused):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.shuffle = dataset, int(batch_size), bool(shuffle)
        self.sampler, self.drop_last, self.collate_fn = sampler, bool(drop_last), collate_fn
        self.num_workers = num_workers

    def __len__(self):
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        """None for 0..n-1 in order, else an int64 array of indices."""
        if self.sampler is not None:
            s = self.sampler
            idx = s.indices() if hasattr(s, "indices") and callable(s.indices) else list(s)
            return np.asarray(idx, dtype=np.int64)
        if self.shuffle:
            return generator().permutation(len(self.dataset))
        return None

    def __iter__(self):
        order = self._order()
        n = len(self.dataset) if order is None else len(order)
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        fast = self.collate_fn is None and hasattr(self.dataset, "get_batch")
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            index = slice(start, end) if order is None else order[start:end]
            if fast:
                yield self.dataset.get_batch(index)
            else:
                items = range(start, end) if order is None else index.tolist()
                samples = [self.dataset[i] for i in items]
                yield (self.collate_fn or default_collate)(samples)
