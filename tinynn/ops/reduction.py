"""Reductions: sum, mean, max, min over an axis (or all elements)."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from .arguments import check_axis


def check_nonempty(op, shape, axis):
    """A max/min/argmax over an empty extent has no value (PyTorch raises); over a non-empty one of
    an empty tensor, shape (0, 1) along dim 1, it is the empty result."""
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if any(shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape} along dim {axis}")


def _expand(g, shape, axis):
    """Put back the reduced axes of g (size 1) so it broadcasts against the input (with keepdims g
    has them already, and the reshape keeps its shape)."""
    if axis is not None and shape:  # a 0-d input (sum(0) of a scalar) lost no axis
        axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))  # works on a Tensor too
    return g


class Sum(Function):
    """y = sum_i x_i;  dy/dx_i = 1."""

    __slots__ = ('shape', 'axis')
    exact_gradients = True
    differentiable = True

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis = x.shape, axis   # (the axes were checked by reduce_dims, naming the method)
        if x.dtype.kind in "bu":  # PyTorch sums bools and unsigned integers in int64 (NumPy: uint64)
            x = x.astype(np.int64)
        return np.asarray(backend.active.sum(x, axis=axis, keepdims=keepdims))

    def backward(self, g):
        return backend.active.broadcast_to(_expand(g, self.shape, self.axis), self.shape)


class Mean(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n."""

    __slots__ = ('shape', 'axis', 'count')
    exact_gradients = True
    differentiable = True

    def forward(self, x, axis=None, keepdims=False):  # Tensor.mean checked the dims (reduce_dims)
        if x.dtype.kind != "f":
            raise TypeError(f"mean: needs a floating-point tensor, got {x.dtype}")
        self.shape, self.axis = x.shape, axis
        out = np.asarray(backend.active.mean(x, axis=axis, keepdims=keepdims))
        self.count = x.size // out.size if out.size else 1
        return out

    def backward(self, g):
        scaled = backend.active.divide(g, self.count)
        return backend.active.broadcast_to(_expand(scaled, self.shape, self.axis), self.shape)


class _Extremum(Function):
    """y = max (or min) of x;  the gradient is shared equally among the elements that attain it."""

    __slots__ = ('x', 'axis', 'y')
    exact_gradients = True
    differentiable = True
    constants = ('x', 'y')  # only the mask of where the extremum is

    reduce = None

    def forward(self, x, axis=None, keepdims=False):
        check_axis(self.name, axis, x.ndim)
        check_nonempty(self.name, x.shape, axis)
        self.x, self.axis = x, axis
        self.y = np.asarray(getattr(backend.active, self.reduce)(x, axis=axis, keepdims=True))
        return self.y if keepdims else np.asarray(np.squeeze(self.y, axis=axis))

    def backward(self, g):
        hit = self.x == self.y
        count = hit.sum(axis=self.axis, keepdims=True).astype(self.x.dtype)  # g / k, as PyTorch rounds it
        B = backend.active
        return B.multiply(hit.astype(self.x.dtype), B.divide(_expand(g, self.x.shape, self.axis), count))


class Max(_Extremum):

    __slots__ = ()
    reduce = "amax"


class Min(_Extremum):

    __slots__ = ()
    reduce = "amin"
