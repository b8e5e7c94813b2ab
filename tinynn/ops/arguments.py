"""Normalising the arguments ops take (indices, axes); no math here."""
import numpy as np

from ..tensor import Tensor


def index_argument(index):
    """PyTorch's index as NumPy reads it: Tensors become their arrays, lists integer/bool arrays
    (an empty list an empty int64 one), a uint8 tensor a bool mask (PyTorch's legacy byte masks),
    and a short list holding a sequence, Tensor, slice, None or Ellipsis a tuple of indices
    (`t[[[0, 1], [1, 0]]]` is `t[[0, 1], [1, 0]]`, as PyTorch reads it). A negative slice step is a
    ValueError, as in PyTorch (flip() reverses)."""

    def convert(item):
        if type(item) is slice and item.step is not None and item.step < 0:
            raise ValueError(f"step must be greater than zero (index {item}); use .flip(dim) to reverse")
        if isinstance(item, Tensor):
            item = item._data
            return item.astype(np.bool_) if item.dtype == np.uint8 else item
        if isinstance(item, list):
            return np.asarray(item, dtype=None if item else np.int64)
        return item

    if isinstance(index, list) and len(index) < 32 and any(
            isinstance(i, (Tensor, list, tuple, slice)) or i is None or i is Ellipsis for i in index):
        index = tuple(index)
    if isinstance(index, tuple):
        return tuple(convert(i) for i in index)
    return convert(index)


def check_axis(op, axis, ndim):
    """Raise IndexError naming the op when an axis is outside [-ndim, ndim)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if a is not None and not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
