"""Ops that pick elements by an index tensor along one dim: gather, scatter, index_select,
masked_fill. The index is data, not an input: it gets no gradient (as in PyTorch)."""
import numpy as np

from ..autograd.function import Function
from .dims import one_dim


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
    if index.size and (index.min() < -x.shape[dim] or index.max() >= x.shape[dim]):
        raise IndexError(f"{op}: index out of range [{-x.shape[dim]}, {x.shape[dim]}) along dim {dim} of shape {x.shape}")


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1);  dL/dx[i][index[i][j][k]][k] += g[i][j][k]."""

    __slots__ = ('shape', 'grid', 'dim')
    exact_gradients = True

    def forward(self, x, dim, index):
        index = np.asarray(index)
        self.shape = x.shape
        dim = one_dim("gather", dim, x.ndim)
        _check_index("gather", np.atleast_1d(x), dim, np.atleast_1d(index))
        self.grid, self.dim = _grid(np.atleast_1d(index), dim), dim  # a 0-d gather is the 1-element one
        return np.atleast_1d(x)[self.grid].reshape(index.shape)

    def backward(self, g):
        grad = np.zeros(self.shape or (1,), dtype=g.dtype)
        np.add.at(grad, self.grid, g.reshape(self.grid[self.dim].shape))
        return grad.reshape(self.shape)
