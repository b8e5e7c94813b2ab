"""Ops that move elements around without arithmetic: reshape, transpose, indexing, joining, where."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor
from .derivatives import IndexAdd, index_add, permute


class Reshape(Function):
    """y = x viewed with a new shape (a copy when the memory layout needs one, but not for `view=True`,
    which raises instead, as PyTorch's view does);  the gradient is reshaped back."""

    __slots__ = ('shape',)
    exact_gradients = True
    differentiable = True

    def forward(self, x, shape, view=False):
        self.shape = x.shape
        if any(size < -1 for size in shape):   # (NumPy reads any negative size as -1; PyTorch refuses)
            raise ValueError(f"reshape: invalid shape dimension {min(shape)} in {shape}: sizes are >= 0, or -1 "
                             "for the one to infer")
        try:
            return np.reshape(x, shape, copy=False if view else None)  # view never copies (PyTorch)
        except ValueError as exc:
            if view and "copy" in str(exc):
                raise RuntimeError(f"view: view size {shape} is not compatible with the input's size {x.shape} and "
                                   f"strides {x.strides} (its memory would need a copy); use .reshape(...) instead") from None
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}") from None

    def backward(self, g):
        return g.reshape(self.shape)


class Transpose(Function):
    """y = x with its axes permuted (reversed when none are given);  the gradient is permuted back."""

    __slots__ = ('axes',)
    exact_gradients = True
    differentiable = True

    def forward(self, x, axes=None):
        if axes is not None:
            if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or \
                    any(not -x.ndim <= a < max(x.ndim, 1) for a in axes):
                raise ValueError(f"permute: dims {axes} are not a permutation of the {x.ndim} dims of shape {x.shape}")
            axes = tuple(a % max(x.ndim, 1) for a in axes)  # backward inverts them: -1 must be ndim-1 there
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        axes = range(g.ndim)[::-1] if self.axes is None else np.argsort([a % g.ndim for a in self.axes])
        return permute(g, tuple(int(a) for a in axes))


class GetItem(Function):
    """y = x[index];  the gradient is scattered back (added, so repeated indices accumulate)."""

    __slots__ = ('shape', 'dtype', 'index')
    exact_gradients = True
    differentiable = True

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        try:
            y = x[index]
            if isinstance(y, np.ndarray):
                return y
            whole = index if isinstance(index, tuple) else (index,)  # all integers: NumPy gave a copy
            return np.asarray(y) if any(i is Ellipsis for i in whole) else x[whole + (Ellipsis,)]  # 0-d view, as PyTorch
        except IndexError as exc:
            raise IndexError(f"tensor[index]: {exc} (tensor of shape {x.shape})") from None

    def backward(self, g):
        if not isinstance(g, Tensor):
            return index_add(self.shape, self.index, g)
        return IndexAdd.apply(g, shape=self.shape, index=self.index)  # create_graph: the same, recorded


class Concatenate(Function):
    """y = [x_1, x_2, ...] along an axis;  each x_k gets its slice of the gradient."""

    __slots__ = ('axis', 'bounds')
    differentiable = True
    promotes = "common"

    def forward(self, *xs, axis=0):
        if not xs:
            raise ValueError("cat: needs at least one tensor")
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] if x.ndim else 0 for x in xs])[:-1]
        try:
            return np.concatenate(xs, axis=axis)
        except (ValueError, np.exceptions.AxisError) as exc:
            raise ValueError(f"cat: shapes {[x.shape for x in xs]} along axis {axis}: {exc}") from None

    def backward(self, g):
        edges, lead = [0, *self.bounds, g.shape[self.axis]], (slice(None),) * (self.axis % g.ndim)
        return tuple(g[lead + (slice(int(a), int(b)),)] for a, b in zip(edges, edges[1:]))


class Stack(Function):
    """y = x_1, x_2, ... joined along a new axis;  each x_k gets its slice of the gradient."""

    __slots__ = ('axis',)
    differentiable = True
    promotes = "common"

    def forward(self, *xs, axis=0):
        if not xs:
            raise ValueError("stack: needs at least one tensor")
        self.axis = axis
        try:
            return np.stack(xs, axis=axis)
        except (ValueError, np.exceptions.AxisError) as exc:
            raise ValueError(f"stack: shapes {[x.shape for x in xs]} along axis {axis}: {exc}") from None

    def backward(self, g):
        lead = (slice(None),) * (self.axis % g.ndim)
        return tuple(g[lead + (k,)] for k in range(g.shape[self.axis]))


class Where(Function):
    """y = a where condition else b;  the gradient goes to the side that was chosen."""

    __slots__ = ('condition',)
    differentiable = True
    promotes = "common"

    def forward(self, a, b, condition):
        self.condition = condition
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise ValueError(f"where: shapes {condition.shape}, {a.shape} and {b.shape} cannot be broadcast together") from None

    def backward(self, g):
        zero, where = np.zeros((), dtype=g.dtype), backend.active.where
        return where(self.condition, g, zero), where(self.condition, zero, g)
