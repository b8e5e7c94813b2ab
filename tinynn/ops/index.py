"""Ops that pick elements by an index tensor along one dim: gather, scatter, index_select,
masked_fill. The index is data, not an input: it gets no gradient (as in PyTorch)."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor
from .array_or_tensor import values
from .derivatives import IndexAdd, index_add
from .dims import one_dim
from .shape import Where


def _grid(index, dim):
    """The full index tuple of `index` used along `dim`: position i of the result reads
    x[i_0, ..., index[i], ..., i_n] (an open grid elsewhere, so index may be smaller than x)."""
    grid = list(np.ix_(*[np.arange(n) for n in index.shape]))
    grid[dim] = index
    return tuple(grid)


def _check_index(op, x, dim, index):
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != x.ndim:
        raise ValueError(f"{op}: index has {index.ndim} dims but the input has {x.ndim} (shapes {index.shape}, {x.shape})")
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise ValueError(f"{op}: index of shape {index.shape} is larger than the input {x.shape} outside dim {dim}")
    if index.size and (index.min() < 0 or index.max() >= x.shape[dim]):  # no negative indices (PyTorch)
        raise IndexError(f"{op}: index out of range [0, {x.shape[dim]}) along dim {dim} of shape {x.shape}")


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1);  dL/dx[i][index[i][j][k]][k] += g[i][j][k]."""

    __slots__ = ('shape', 'grid', 'dim')
    exact_gradients = True
    differentiable = True

    def forward(self, x, dim, index):
        index = np.asarray(index)
        self.shape = x.shape
        dim = one_dim("gather", dim, x.ndim)
        _check_index("gather", np.atleast_1d(x), dim, np.atleast_1d(index))
        self.grid, self.dim = _grid(np.atleast_1d(index), dim), dim  # a 0-d gather is the 1-element one
        return np.atleast_1d(x)[self.grid].reshape(index.shape)

    def backward(self, g):
        g, shape = g.reshape(self.grid[self.dim].shape), self.shape or (1,)
        if not isinstance(g, Tensor):
            return index_add(shape, self.grid, g).reshape(self.shape)
        return IndexAdd.apply(g, shape=shape, index=self.grid).reshape(self.shape)  # create_graph: recorded


class Scatter(Function):
    """y = x with y[i][index[i][j][k]][k] = src[i][j][k] (for dim = 1);  dL/dx = g with the written
    places zeroed, dL/dsrc[i][j][k] = g[i][index[i][j][k]][k] (summed for a scalar src)."""

    __slots__ = ('grid', 'src_shape')
    differentiable = True

    def forward(self, x, src, dim, index):
        index = np.asarray(index)
        dim = one_dim("scatter", dim, x.ndim)
        _check_index("scatter", x, dim, index)
        if src.ndim and any(i > n for i, n in zip(index.shape, src.shape)):
            raise ValueError(f"scatter: index of shape {index.shape} is larger than src of shape {src.shape}")
        self.grid, self.src_shape = _grid(index, dim), src.shape
        y = x.copy()
        y[self.grid] = src if src.ndim == 0 else src[tuple(slice(0, n) for n in index.shape)]
        return y

    def backward(self, g):
        written = np.zeros(g.shape, dtype=bool)
        written[self.grid] = True
        gx = backend.active.where(written, np.zeros((), values(g).dtype), g)
        picked = g[self.grid]
        if not self.src_shape:
            return gx, picked.sum()
        corner = tuple(slice(0, n) for n in picked.shape)  # index smaller than src: the rest gets 0
        if isinstance(picked, Tensor):
            return gx, IndexAdd.apply(picked, shape=self.src_shape, index=corner)
        return gx, index_add(self.src_shape, corner, picked)


def _index(index):
    return np.asarray(index._data if isinstance(index, Tensor) else index)


def gather(self, dim, index):
    """out[i][j][k] = self[i][index[i][j][k]][k] for dim = 1 (likewise for every dim)."""
    return Gather.apply(self, dim=dim, index=_index(index))


def scatter(self, dim, index, src=None, value=None):
    """A copy of self with src[i][j][k] (or `value`) written at [i][index[i][j][k]][k] for dim = 1.
    As in PyTorch, the result has self's dtype: a number `value` is cast to it, and src must have it."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    src = value if src is None else src
    if not isinstance(src, Tensor):   # a number (value=) or an array: cast to self's dtype (a constant)
        try:
            src = np.asarray(src, dtype=self.dtype)
        except OverflowError:  # an integer out of the dtype's range: PyTorch refuses it too
            raise OverflowError(f"scatter: value {src} cannot be converted to {self.dtype} without overflow") from None
    elif src.dtype != self.dtype:
        raise TypeError(f"scatter: src has dtype {src.dtype} but the input has {self.dtype} (they must match)")
    return Scatter.apply(self, src, dim=dim, index=_index(index))


def index_select(self, dim, index):
    """The slices at `index` (a 1-d integer tensor) along dim; gradients of repeated indices add up."""
    index = _index(index)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise TypeError(f"index_select: index must be a 0-d or 1-d integer tensor, got shape {index.shape} dtype {index.dtype}")
    d = one_dim("index_select", dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if index.size and (index.min() < 0 or index.max() >= n):  # no negative indices (PyTorch)
        raise IndexError(f"index_select: index out of range [0, {n}) along dim {d} of shape {self.shape}")
    return self[(slice(None),) * d + (index.reshape(-1),)]


def masked_fill(self, mask, value):
    """self with `value` (a number or a 0-d tensor) where mask (a bool tensor) is True, in self's
    dtype (a float filled into an integer tensor is truncated, as PyTorch does); self and mask
    broadcast together. value gets the gradient of the places it fills when it is a tensor."""
    mask = _index(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be bool, got {mask.dtype}")
    try:
        shape = np.broadcast_shapes(mask.shape, self.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {self.shape}") from None
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        if value.dtype != self.dtype:
            value = value.to(self.dtype) if value.dtype.kind == self.dtype.kind == "f" else \
                Tensor._wrap(value._data.astype(self.dtype), False)
    else:
        value = Tensor._wrap(np.asarray(value).astype(self.dtype), False)
    return Where.apply(value, self, condition=np.broadcast_to(mask, shape))
