"""Map-style datasets: Dataset, TensorDataset (in-memory arrays), Subset, random_split."""
import math

import numpy as np

from ..random import generator as default_generator
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: subclasses implement `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


def _as_array(a, i):
    if isinstance(a, Tensor):
        a = a._data
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


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1), randomly
    (a permutation from `generator`, a numpy Generator, or else tinynn's seeded one)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not sum to the dataset size {n}")
    perm = (generator or default_generator()).permutation(n)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out
