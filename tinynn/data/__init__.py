"""Datasets, samplers and the DataLoader (PyTorch's torch.utils.data, for in-memory arrays;
also importable as tinynn.utils.data).

    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    for xb, yb in loader:        # Tensors; integer labels as int64
        ...

Shuffling draws from tinynn's default generator, so `tn.manual_seed` makes the order reproducible, or from
the `generator=` given (a `tn.Generator`) to random_split, DataLoader and the random samplers.
"""
from . import transforms
from .dataset import Dataset, TensorDataset, Subset, ConcatDataset, StackDataset, random_split
from .iterable import IterableDataset, ChainDataset
from .background import WorkerInfo, get_worker_info
from .sampler import (
    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler,
)
from .collate import default_collate, default_convert
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "DataLoader", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate",
           "default_convert", "random_split", "transforms", "StackDataset", "IterableDataset", "ChainDataset",
           "WorkerInfo", "get_worker_info"]
