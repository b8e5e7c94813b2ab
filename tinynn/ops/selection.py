"""PyTorch's selection, accumulation and tiling helpers, composed of existing ops (their gradients are
those ops'): masked_select, scatter_add(_), index_add(_), repeat_interleave, tile, broadcast_to,
meshgrid, count_nonzero, clamp_min/clamp_max, var_mean/std_mean."""
import warnings

import numpy as np

from ..tensor import Tensor
from .derivatives import IndexAdd
from .dims import one_dim
from .index import _check_index, _grid
from .inplace import inplace
from .statistics import std, var


def _array(op, index):
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    return index


def _same_dtype(op, self, src):
    if src.dtype != self.dtype:
        raise RuntimeError(f"{op}: Expected self.dtype to be equal to src.dtype ({self.dtype} and {src.dtype})")


def masked_select(self, mask):
    """The elements of self where mask is True (both broadcast), as a 1-D tensor in row-major order."""
    mask = mask if isinstance(mask, Tensor) else Tensor._wrap(np.asarray(mask), False)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got {mask.dtype}")
    shape = np.broadcast_shapes(tuple(self.shape), tuple(mask.shape))
    return self.expand(*shape)[Tensor._wrap(np.broadcast_to(mask._data, shape), False)]


def scatter_add(self, dim, index, src):
    """y = self with y[i][index[i][j]] += src[i][j] (dim = 1; repeated indices accumulate); dL/dself = g,
    dL/dsrc[i][j] = g[i][index[i][j]] (only src's first index.shape elements are used)."""
    index = _array("scatter_add", index)
    dim = one_dim("scatter_add", dim, self.ndim)
    _same_dtype("scatter_add", self, src)
    _check_index("scatter_add", self._data, dim, index)
    if any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"scatter_add: index {index.shape} is larger than src {tuple(src.shape)}")
    part = src[tuple(slice(0, n) for n in index.shape)]
    return self + IndexAdd.apply(part, shape=tuple(self.shape), index=_grid(index, dim))


def index_add(self, dim, index, source, *, alpha=1):
    """y = self with y[..., index[k], ...] += alpha source[..., k, ...] along dim (repeated indices accumulate)."""
    index = _array("index_add", index).reshape(-1)
    dim = one_dim("index_add", dim, max(self.ndim, 1))
    _same_dtype("index_add", self, source)
    expected = tuple(self.shape[:dim]) + (len(index),) + tuple(self.shape[dim + 1:]) if self.ndim else (len(index),)
    if tuple(source.shape) != expected and self.ndim:
        raise RuntimeError(f"index_add: source of shape {tuple(source.shape)} should be {expected}")
    if index.size and (index.min() < 0 or index.max() >= (self.shape[dim] if self.ndim else 1)):
        raise IndexError(f"index_add: index out of range in self (dim {dim}, shape {tuple(self.shape)})")
    grid = list(np.ix_(*[np.arange(n) for n in expected]))
    grid[dim] = index.reshape([-1 if d == dim else 1 for d in range(len(expected))])
    shape = tuple(self.shape) or (1,)
    added = IndexAdd.apply(source.reshape(expected), shape=shape, index=tuple(grid)).reshape(self.shape)
    return self + (added if alpha == 1 else added * alpha)


def scatter_add_(self, dim, index, src):
    """In place: self <- scatter_add(self, dim, index, src)."""
    return inplace(self, "scatter_add_", lambda s: scatter_add(s, dim, index, src))


def index_add_(self, dim, index, source, *, alpha=1):
    """In place: self <- index_add(self, dim, index, source, alpha=alpha)."""
    return inplace(self, "index_add_", lambda s: index_add(s, dim, index, source, alpha=alpha))


def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along dim; of the flattened tensor when dim is None) repeated repeats times
    in place; repeats an int or one count per element. repeat_interleave(counts) alone: arange(n)
    repeated counts[i] times."""
    given = self if repeats is None else repeats
    if isinstance(given, Tensor) and given.dtype not in (np.int32, np.int64):
        raise TypeError(f"repeat_interleave: repeats must be an int32 or int64 tensor (as in PyTorch), got {given.dtype}")
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = _array("repeat_interleave", self)  # the result has the counts' dtype, as PyTorch's
        return Tensor._wrap(np.repeat(np.arange(len(counts), dtype=counts.dtype), counts), False)
    if dim is None:
        self, dim = self.reshape(-1), 0  # noqa: PLW0642
    dim = one_dim("repeat_interleave", dim, self.ndim)
    n = self.shape[dim] if self.ndim else 1
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats).reshape(-1)
    if counts.size == 1:
        counts = np.repeat(counts, n)
    if counts.size != n or (counts.size and counts.min() < 0):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size({dim}) = {n} (and be non-negative)")
    return self.index_select(dim, Tensor._wrap(np.repeat(np.arange(n), counts), False))


def tile(self, *dims):
    """self repeated dims[d] times along each dim d; fewer dims than self has are padded with 1s in front."""
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    return self.repeat(*((1,) * (self.ndim - len(dims)) + tuple(dims)))


def broadcast_to(self, size):
    """self expanded to `size` (a view; -1 keeps a dim)."""
    return self.expand(*size)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of N 0-D/1-D tensors: output i has input i along dim i ("ij"), with the first two
    dims swapped for "xy" (Cartesian). indexing=None is "ij" (PyTorch warns that it will change)."""
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensors, got shape {tuple(t.shape)}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype, got "
                               f"{[str(u.dtype) for u in tensors]}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, a in zip(tensors, axes):
        shape[a] = t.numel()
    return tuple(t.reshape([-1 if d == a else 1 for d in range(len(shape))]).expand(*shape)
                 for t, a in zip(tensors, axes))


def count_nonzero(self, dim=None):
    """The number of nonzero elements over dim (an int or a tuple; every element when None), int64."""
    return (self != 0).sum(dim) if dim is not None else (self != 0).sum()


def clamp_min(self, min):  # noqa: A002 - PyTorch's argument name
    """max(self, min) (clamp with only a lower bound)."""
    return self.clamp(min=min)


def clamp_max(self, max):  # noqa: A002
    """min(self, max) (clamp with only an upper bound)."""
    return self.clamp(max=max)


def var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim, var with correction (1, Bessel's, unless given) as var's."""
    return var(self, dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim=keepdim)


def std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim, std with correction (1 unless given) as std's."""
    return std(self, dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim=keepdim)


METHODS = {"masked_select": masked_select, "scatter_add": scatter_add, "index_add": index_add,
           "scatter_add_": scatter_add_, "index_add_": index_add_, "repeat_interleave": repeat_interleave,
           "tile": tile, "broadcast_to": broadcast_to, "count_nonzero": count_nonzero, "clamp_min": clamp_min,
           "clamp_max": clamp_max}
FUNCTION_NAMES = tuple(METHODS) + ("var_mean", "std_mean")
