"""Two ops the compositions of tinynn/tensor_extras/ need: ScatterReduce (scatter_reduce, index_reduce and
the legacy scatter(reduce=)) and Unfold (Tensor.unfold, a strided view)."""
import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .derivatives import IndexAdd, index_add


def _places(index, shape, dtype):
    """How many of the index's places land on each element of `shape`, as `dtype`."""
    return index_add(shape, index, np.ones((), dtype))


class ScatterReduce(Function):
    """y = x except at each place p the advanced index (a tuple of int arrays of src's shape) picks:
    y_p = reduce({x_p if include_self} u {src_k : index_k = p}). Gradients, as PyTorch defines them:
    sum: dL/dx = g, dL/dsrc_k = g[index_k];  mean: both divided by N_p = include_self + #{k : index_k = p};
    prod: dL/dx_p = g_p prod_k src_k, dL/dsrc_k = g_p y_p / src_k (the product of the others where src_k = 0);
    amax/amin: g_p shared evenly among x_p and the src_k equal to y_p. With include_self False, x gets no
    gradient where it was left out. `legacy` (scatter(reduce='add'|'multiply')) has no derivative, as in PyTorch."""

    __slots__ = ('x', 'src', 'y', 'index', 'reduce', 'include_self', 'legacy')
    differentiable = True
    exact_gradients = True
    outputs = ('y',)

    def forward(self, x, src, index, reduce, include_self=True, legacy=False):
        self.index, self.reduce, self.include_self, self.legacy = index, reduce, include_self, legacy
        y = backend.active.scatter_reduce(x, index, src, reduce, include_self)
        if reduce in ("prod", "amax", "amin"):   # the only reductions whose gradient reads the values
            self.x, self.src, self.y = x, src, y
        return y

    def _reduced(self, x, src):
        if isinstance(x, Tensor) or isinstance(src, Tensor):  # create_graph: recorded, so differentiable again
            return ScatterReduce.apply(x, src, index=self.index, reduce="prod", include_self=self.include_self)
        return backend.active.scatter_reduce(x, self.index, src, "prod", self.include_self)

    def backward(self, g):
        if self.legacy:
            raise RuntimeError(f"scatter(reduce={self.legacy!r}): the derivative is not implemented (as in PyTorch); "
                               "use scatter_reduce, which has one")
        B, shape, index, dtype = backend.active, np.shape(g), self.index, np.asarray(g).dtype
        zero = np.zeros((), dtype)
        if self.reduce == "sum":
            gx, gsrc = g, g[index]
        elif self.reduce == "mean":
            n = np.maximum(_places(index, shape, dtype) + self.include_self, 1)
            gx, gsrc = B.divide(g, n), B.divide(g[index], n[index])
        elif self.reduce == "prod":
            gx, gsrc = self._prod_backward(B, g, zero)
        else:  # amax, amin: PyTorch counts x_p among the ties even when include_self is False
            x, src, y = (np.asarray(a) for a in (self.x, self.src, self.y))
            x_hit, src_hit = (x == y).astype(dtype), (src == y[index]).astype(dtype)
            share = B.divide(g, x_hit + index_add(shape, index, src_hit))
            gx, gsrc = B.multiply(share, x_hit), B.multiply(share[index], src_hit)
        if not self.include_self:
            written = np.zeros(shape, bool)
            written[index] = True
            gx = B.where(written, zero, gx)
        return gx, gsrc

    def _prod_backward(self, B, g, zero):
        x, src, y, index = self.x, self.src, self.y, self.index
        one = np.ones((), zero.dtype)
        x_zero, src_zero = np.asarray(x) == 0, np.asarray(src) == 0
        others = self._reduced(B.where(x_zero, one, x), src)   # prod_k src_k (times x_p where x_p != 0)
        gx = B.divide(B.multiply(g, others), B.where(x_zero, one, x))
        zeros_at = index_add(np.shape(g), index, src_zero.astype(zero.dtype))
        lone = src_zero & (zeros_at[index] == 1)             # the only zero at its place
        if isinstance(g, Tensor) and (zeros_at > 1).any():
            raise RuntimeError("scatter_reduce: double backward is unsupported for src when more than one zero of "
                               "src is scattered to the same place (as in PyTorch)")
        rest = self._reduced(x, B.where(lone, one, src))       # the product of the others, for a lone zero
        by_value = B.divide(B.multiply(g, y)[index], B.where(src_zero, one, src))
        return gx, B.where(lone, B.multiply(g, rest)[index], by_value)


class Unfold(Function):
    """y[..., i, ..., j] = x[..., i step + j, ...]: the windows of `size` elements every `step` along dim,
    in a new last dim; a view sharing x's memory (and version counter), as PyTorch's.
    dL/dx[..., p, ...] = sum over the (i, j) with i step + j = p of g[..., i, ..., j]."""

    __slots__ = ('shape', 'index')
    exact_gradients = True
    differentiable = True

    def forward(self, x, dim, size, step):
        self.shape = x.shape
        count = (x.shape[dim] - size) // step + 1
        shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
        strides = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:] + (x.strides[dim],)
        grid = list(np.ix_(*[np.arange(n) for n in shape]))
        grid[dim] = grid[dim] * step + grid[-1]
        self.index = tuple(grid[:-1])
        owner = x
        while isinstance(owner.base, np.ndarray):  # built on the memory's owner: a view NumPy knows is one
            owner = owner.base
        try:
            y = np.ndarray(shape, x.dtype, buffer=owner, offset=x.ctypes.data - owner.ctypes.data, strides=strides)
        except (TypeError, ValueError):  # an owner that is no buffer: the strided view itself
            y = np.lib.stride_tricks.as_strided(x, shape, strides)
        # overlapping windows are read-only: tinynn's in-place ops write whole arrays back, which would not
        # give an element seen twice both updates (a loud error instead of a silently different result)
        y.flags.writeable = x.flags.writeable and not (step < size and count > 1)
        return y

    def backward(self, g):
        if isinstance(g, Tensor):
            return IndexAdd.apply(g, shape=self.shape, index=self.index)
        return index_add(self.shape, self.index, g)
