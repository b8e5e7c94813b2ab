"""Small helpers for a backward written once that runs on arrays (first order, the fast path) and
on Tensors (under create_graph, recorded: autograd/higher.py): the few steps that NumPy and Tensor
spell differently. On arrays each is the NumPy call the backward made before; on Tensors the op."""
import numpy as np

from ..tensor import Tensor
from .shape import Concatenate, Stack


def values(a):
    """The array behind a (the array itself, or a Tensor's data): for masks and shapes."""
    return a._data if isinstance(a, Tensor) else np.asarray(a)


def concatenate(parts, axis):
    """parts joined along axis (np.concatenate, or the recorded Concatenate op)."""
    if any(isinstance(p, Tensor) for p in parts):
        return Concatenate.apply(*parts, axis=axis)
    return np.concatenate(parts, axis=axis)


def contiguous(a):
    """a in C order (a copy of a strided array: the kernels' fast path); a Tensor as it is."""
    return a if isinstance(a, Tensor) else np.ascontiguousarray(a)


def per_step(like):
    """Room for one result per step along axis 0 of `like`: an empty array of its shape and dtype,
    filled in place; for a Tensor a list, joined by `stacked`."""
    return [None] * like.shape[0] if isinstance(like, Tensor) else np.empty_like(like)


def per_step_of(shape, like):
    """per_step for results of `shape` (a new array of like's dtype, or a list of shape[0])."""
    return [None] * shape[0] if isinstance(like, Tensor) else np.empty(shape, values(like).dtype)


def stacked(steps):
    """What per_step filled, as one array or Tensor (a Stack op over the list)."""
    return Stack.apply(*steps, axis=0) if isinstance(steps, list) else steps
