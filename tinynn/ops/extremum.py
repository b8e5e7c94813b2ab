"""max/min with a dim (PyTorch's `(values, indices)` named tuple, the gradient to the index
returned), amax/amin, argmax/argmin: Tensor methods on the ops Max, Min (reduction.py) and Gather."""
from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .dims import reduce_dims, reduction_method
from .index import Gather
from .reduction import Max, Min, check_nonempty
from .shape import Reshape

MaxResult = namedtuple("max", ["values", "indices"])  # torch.return_types.max
MinResult = namedtuple("min", ["values", "indices"])


def _arg(x, find, op, dim, keepdim, axis, keepdims):
    """find (np.argmax/argmin) over one dim, or over the flattened tensor when dim is None; int64."""
    dim, keepdim = reduce_dims(op, x.ndim, dim, keepdim, axis, keepdims)
    if isinstance(dim, tuple):
        raise TypeError(f"{op}: takes one dim, got {dim}")
    check_nonempty(op, x._data.shape, dim)
    data = x._data if x.ndim else x._data.reshape(1)
    found = find(data, axis=dim, keepdims=keepdim and dim is not None)
    if dim is None and keepdim:
        found = np.reshape(found, (1,) * x.ndim)
    return Tensor._wrap(np.asarray(found, dtype=np.int64), False), dim


def _along(x, find, result, op, dim, keepdim, axis, keepdims):
    """(values, indices) along dim: values gathered at the first extremum (PyTorch's index), so
    the gradient goes to that one element, ties or not."""
    index, d = _arg(x, find, op, dim, True, axis, None)
    keep = keepdim if keepdims is None else keepdims
    values = Gather.apply(x, dim=d or 0, index=index._data)
    if not keep and x.ndim:
        index = Tensor._wrap(index._data.squeeze(d), False)
        values = Reshape.apply(values, shape=index.shape)
    return result(values, index)


def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001 - torch's name
    """max over every element (the gradient shared evenly by ties, as PyTorch's max()); with a dim,
    the named tuple (values, indices) of the first maximum; with a Tensor, `maximum(self, other)`."""
    if isinstance(dim, Tensor):
        return self.maximum(dim)
    if dim is None and axis is None:
        return Max.apply(self)
    return _along(self, np.argmax, MaxResult, "max", dim, keepdim, axis, keepdims)


def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001 - torch's name
    """min over every element (the gradient shared evenly by ties); with a dim, the named tuple
    (values, indices) of the first minimum; with a Tensor, `minimum(self, other)`."""
    if isinstance(dim, Tensor):
        return self.minimum(dim)
    if dim is None and axis is None:
        return Min.apply(self)
    return _along(self, np.argmin, MinResult, "min", dim, keepdim, axis, keepdims)


amax = reduction_method(Max, "amax", "max_i x_i (ties share the gradient evenly)")
amin = reduction_method(Min, "amin", "min_i x_i (ties share the gradient evenly)")


def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the first largest value along dim (of the flattened tensor when None); int64."""
    return _arg(self, np.argmax, "argmax", dim, keepdim, axis, keepdims)[0]


def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the first smallest value along dim (of the flattened tensor when None); int64."""
    return _arg(self, np.argmin, "argmin", dim, keepdim, axis, keepdims)[0]
