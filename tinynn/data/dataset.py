"""Map-style datasets: Dataset, TensorDataset (in-memory arrays), Subset, ConcatDataset, StackDataset,
random_split."""
import bisect
import math

import numpy as np

from ..random import numpy_generator
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: subclasses implement `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _as_array(a, i):
    if isinstance(a, Tensor):
        a = a._data  # a Tensor keeps its dtype, as in PyTorch
    else:
        a = np.asarray(a)
        if a.dtype.kind in "iu" and a.dtype != np.int64:
            a = a.astype(np.int64)  # NumPy labels become int64, as PyTorch's cross-entropy expects
    if a.ndim == 0:
        raise ValueError(f"TensorDataset: array {i} is 0-dimensional; each needs a first (sample) axis")
    return a


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: dataset[i] = (a_1[i], a_2[i], ...) as Tensors.

    Tensors keep their dtype; NumPy arrays (and lists) of integers are stored as int64 (once, here). `transform`, if given, is applied to the
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
    """The samples of `dataset` at `indices` (kept as given, a list from random_split, as in PyTorch)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    @property
    def indices(self):
        return self._indices

    @indices.setter
    def indices(self, value):
        self._indices, self._array = value, np.asarray(value, dtype=np.int64)

    def __getitem__(self, i):
        if isinstance(i, list):
            return self.dataset[[int(self._array[j]) for j in i]]
        return self.dataset[int(self._array[i])]

    def get_batch(self, index):
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(self._array[index])
        raise AttributeError("get_batch")

    def __len__(self):
        return len(self._array)


class ConcatDataset(Dataset):
    """The samples of several datasets one after another: index i falls in the first dataset whose
    cumulative size exceeds it (cumulative_sizes holds the running totals)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: index {idx} is out of range for {n} samples")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} samples")
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


class StackDataset(Dataset):
    """Several datasets of one length side by side: sample i is (a[i], b[i], ...) for
    StackDataset(a, b, ...), or {"x": a[i], "y": b[i]} for StackDataset(x=a, y=b) (not both forms at once)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets either positionally (samples are tuples) or by "
                             "keyword (samples are dicts), not both")
        if not (args or kwargs):
            raise ValueError("StackDataset: at least one dataset should be passed")
        self.datasets = args if args else kwargs
        lengths = [len(d) for d in (args or kwargs.values())]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths {lengths}")
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """The samples at `indices`, a list (each dataset with a __getitems__ of its own reads them at once)."""
        named = isinstance(self.datasets, dict)
        columns = []
        for d in (self.datasets.values() if named else self.datasets):
            items = d.__getitems__(indices) if callable(getattr(d, "__getitems__", None)) else [d[i] for i in indices]
            if len(items) != len(indices):
                raise ValueError(f"StackDataset: a dataset's __getitems__ returned {len(items)} samples for "
                                 f"{len(indices)} indices")
            columns.append(items)
        rows = zip(*columns)
        return [dict(zip(self.datasets, row)) for row in rows] if named else [tuple(row) for row in rows]

    def __len__(self):
        return self._length


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths, randomly (a permutation from `generator`,
    a tn.Generator, or else tinynn's seeded default one). Lengths summing to 1 (at most) are fractions,
    as in PyTorch: split i gets floor(n f_i) samples, and the remaining ones go round-robin from split 0."""
    rng = numpy_generator(generator, "random_split")
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not sum to the dataset size {n}")
    perm = rng.permutation(n)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out
