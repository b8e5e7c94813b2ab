"""Normalising the arguments ops take (indices, axes); no math here."""
import numpy as np

from ..tensor import Tensor


def index_argument(index):
    """Tensors inside an index become their arrays; lists become integer/bool arrays."""

    def convert(item):
        if isinstance(item, Tensor):
            return item._data
        if isinstance(item, list):
            return np.asarray(item)
        return item

    if isinstance(index, tuple):
        return tuple(convert(i) for i in index)
    return convert(index)


def check_axis(op, axis, ndim):
    """Raise IndexError naming the op when an axis is outside [-ndim, ndim)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if a is not None and not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
