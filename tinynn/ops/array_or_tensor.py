"""For a backward written once that runs on arrays (first order, the fast path) and on Tensors
(create_graph, recorded: autograd/higher.py): the few steps NumPy and Tensor spell differently."""
import numpy as np

from ..tensor import Tensor
from .shape import Concatenate, Stack
from .views import Flip


def values(a):
    """The array behind a (itself, or a Tensor's data, which np.asarray reads through Tensor.__array__
    without a copy): for masks, shapes and dtypes."""
    return np.asarray(a)


def constant(a):
    """a as a Tensor of the recorded graph: an array becomes a Tensor that needs no gradient (a
    constant there); a Tensor, or None (no such input), stays as it is."""
    return a if a is None or isinstance(a, Tensor) else Tensor._wrap(np.asarray(a), False)


def concatenate(parts, axis):
    """parts joined along axis: np.concatenate, or the recorded Concatenate op."""
    return Concatenate.apply(*parts, axis=axis) if any(isinstance(p, Tensor) for p in parts) \
        else np.concatenate(parts, axis=axis)


def flipped(a, axis):
    """a reversed along axis: NumPy's view, or the recorded Flip op."""
    return Flip.apply(a, axes=(axis,)) if isinstance(a, Tensor) else np.flip(a, axis)


def contiguous(a):
    """a in C order (a strided array copied: the kernels' fast path); a Tensor as it is."""
    return a if isinstance(a, Tensor) else np.ascontiguousarray(a)


def per_step(shape, like):
    """Room for results along axis 0: an empty array (like's dtype), or for a Tensor a list to stack."""
    return [None] * shape[0] if isinstance(like, Tensor) else np.empty(shape, values(like).dtype)


def stacked(steps):
    """What per_step filled, as one array or Tensor (a Stack op over the list, along its default axis 0)."""
    return Stack.apply(*steps) if isinstance(steps, list) else steps
