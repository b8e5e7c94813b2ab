"""Sorting and order statistics with PyTorch's arguments: sort, argsort, topk, median. The order is
the backend's stable argsort (NaN after every number, as in PyTorch); the values are gathered at
it (the Gather op), so each value's gradient goes to the element it came from, to any order.
(PyTorch leaves the order of ties unspecified unless stable=True; here it is always the stable one.)"""
from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .. import backend
from .dims import one_dim
from .index import Gather
from .reduction import Max
from .shape import Where

SortResult = namedtuple("sort", ["values", "indices"])  # torch.return_types.sort
TopkResult = namedtuple("topk", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])


def _order(self, op, dim, descending):
    """(int64 indices that sort self along dim, that dim); a 0-d tensor is its own one-element dim."""
    d = one_dim(op, dim, self.ndim)
    if self.ndim == 0:
        return np.zeros((), np.int64), 0
    return np.asarray(backend.active.argsort(self._data, axis=d, descending=bool(descending)), np.int64), d


def _along(index, d, start, stop):
    """index[..., start:stop, ...] along dim d (a 0-d index is itself)."""
    return index[(slice(None),) * d + (slice(start, stop),)] if index.ndim else index


def sort(self, dim=-1, descending=False, *, stable=False):
    """(values, indices): self's elements along dim in ascending (descending) order, and where each
    came from: values = self.gather(dim, indices). NaN counts as the largest value."""
    index, d = _order(self, "sort", dim, descending)
    return SortResult(Gather.apply(self, dim=d, index=index), Tensor._wrap(index, False))


def argsort(self, dim=-1, descending=False, *, stable=False):
    """sort(self, dim, descending).indices: int64."""
    return Tensor._wrap(_order(self, "argsort", dim, descending)[0], False)


def topk(self, k, dim=None, largest=True, sorted=True):  # noqa: A002 - PyTorch's argument name
    """(values, indices) of the k largest (largest=False: smallest) elements along dim (the last
    when None), largest first (smallest first); sorted=False allows any order, and gives this one."""
    if self.dtype == np.bool_:
        raise RuntimeError("topk: not supported for bool tensors (as in PyTorch)")
    dim = -1 if dim is None else dim
    n = self.shape[one_dim("topk", dim, self.ndim)] if self.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k = {k} out of range for dim {dim} of size {n} (shape {self.shape})")
    index, d = _order(self, "topk", dim, largest)
    index = _along(index, d, 0, k)
    return TopkResult(Gather.apply(self, dim=d, index=index), Tensor._wrap(index, False))


def median(self, dim=None, keepdim=False):
    """The lower median, sorted x at position (n - 1) // 2 (NaN when a NaN is there). Without dim,
    over every element, the gradient shared evenly by the elements equal to it (as PyTorch's, and
    max's); with dim, the named tuple (values, indices), the gradient going to indices."""
    if self.dtype == np.bool_:
        raise TypeError("median: not implemented for bool tensors (as in PyTorch)")
    if dim is None:
        return _median_all(self.reshape(-1))
    d = one_dim("median", dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if n == 0:
        raise IndexError(f"median: expected reduction dim {d} to have non-zero size (shape {self.shape})")
    index, d = _order(self, "median", d, False)
    position = np.full(index.shape[:d] + (1,) + index.shape[d + 1:] if index.ndim else (), (n - 1) // 2)
    if self.dtype.kind == "f":  # NaNs sort last: the first of them (in the input's order too) is the median
        nans = np.isnan(self._data).sum(axis=d if self.ndim else None, keepdims=True).reshape(position.shape)
        position = np.where(nans > 0, n - nans, position)
    index = np.take_along_axis(index, position, axis=d) if index.ndim else index
    values = Gather.apply(self, dim=d, index=index)
    if not keepdim and self.ndim:
        index = index.squeeze(d)
        values = values.reshape(index.shape)
    return MedianResult(values, Tensor._wrap(index, False))


def _median_all(flat):
    """median() of a 1-d tensor: its value m as the max of the elements equal to m, so that Max shares
    the gradient evenly among them (PyTorch's evenly_distribute_backward; with m = -inf too)."""
    n = flat.shape[0]
    if n == 0:
        if flat.dtype.kind != "f":
            raise IndexError("median: cannot take the median of an empty integer tensor")
        return Tensor._wrap(np.asarray(np.nan, flat.dtype), False)
    m = flat._data[backend.active.argsort(flat._data)[(n - 1) // 2]]
    if flat.dtype.kind != "f":
        return Tensor._wrap(np.asarray(m), False)
    nan = np.isnan(flat._data)
    if nan.any():  # NaN, its gradient shared by the NaNs: their mean (Max would not find them equal)
        return Where.apply(flat, Tensor._wrap(np.zeros((), flat.dtype), False), condition=nan).sum() / float(nan.sum())
    return Max.apply(flat[Tensor._wrap(np.flatnonzero(flat._data == m), False)])
