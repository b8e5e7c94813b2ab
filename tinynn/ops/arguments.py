"""Normalising the arguments ops take (axis/dim, shapes, indices); no math here."""
import numpy as np


def pick_axis(axis, dim):
    """`dim=` is accepted everywhere as PyTorch's name for `axis=`."""
    return axis if dim is None else dim


def shape_argument(shape):
    """reshape(2, 3) and reshape((2, 3)) both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def index_argument(index):
    """Tensors inside an index become their arrays; lists become integer/bool arrays."""
    from ..tensor import Tensor

    def convert(item):
        if isinstance(item, Tensor):
            return item.data
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
