"""PyTorch's remaining index ops: take, take_along_dim, index_fill, index_copy, index_put, index_reduce,
scatter_reduce, scatter(reduce=), masked_scatter, put, and their in-place forms (`_`). Each is one op of
tinynn (GetItem, Gather, Where, IndexPut, IndexAdd, ScatterReduce), so its gradient is that op's; the index
is data and gets none. Integer-index dtypes, bounds and errors follow PyTorch's (int64 only where it wants
a long tensor)."""
import numpy as np

from ..ops.derivatives import IndexAdd
from ..ops.dims import one_dim
from ..ops.index import _grid, gather, masked_fill, scatter as plain_scatter
from ..ops.index_more import ScatterReduce
from ..ops.inplace import IndexPut, inplace
from ..ops.shape import Where
from ..tensor import Tensor

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _index(op, index, dtypes=(np.int64,), kind=RuntimeError):
    """index's integer array; `kind` (PyTorch's error type for this op) when its dtype is not one of `dtypes`."""
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype not in dtypes:
        raise kind(f"{op}: Expected a long tensor for index, but got {array.dtype}" if dtypes == (np.int64,) else
                   f"{op}: Expected dtype int32/int64 for index, but got {array.dtype}")
    return array


def _in_range(op, index, n, negative=True, kind=IndexError):
    """index (negative ones counted from the end when allowed) as positions in [0, n)."""
    low = -n if negative else 0
    if index.size and (index.min() < low or index.max() >= n):
        bad = index[(index < low) | (index >= n)].reshape(-1)[0]
        raise kind(f"{op}: index {bad} is out of bounds for a dimension with size {n}")
    return index % n if negative and n else index


def _same_dtype(op, self, other, name="source"):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(other).__name__}")
    if other.dtype != self.dtype:
        raise RuntimeError(f"{op}: self and {name} expected to have the same dtype, but got {self.dtype} and {other.dtype}")


def take(self, index):
    """y = x.flatten()[index] (index an int64 tensor of any shape, negative ones from the end): index's shape."""
    index = _in_range("take", _index("take", index), self.numel())
    return self.reshape(-1)[index]


def take_along_dim(self, indices, dim=None):
    """gather(dim, indices) after self and indices are broadcast to each other outside dim; of the flattened
    self and indices when dim is None."""
    index = _index("take_along_dim", indices)
    if dim is None:
        return gather(self.reshape(-1), 0, index.reshape(-1))
    if index.ndim != self.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {self.ndim} dimensions for input, and {index.ndim} dimensions for indices")
    d = one_dim("take_along_dim", dim, self.ndim)
    try:
        shape = list(np.broadcast_shapes(*(tuple(s[:d]) + (1,) + tuple(s[d + 1:]) for s in (self.shape, index.shape))))
    except ValueError:
        raise RuntimeError(f"take_along_dim: shapes {tuple(self.shape)} and {index.shape} do not broadcast outside "
                           f"dim {d}") from None
    x = self.expand(*shape[:d], self.shape[d], *shape[d + 1:])
    return gather(x, d, np.broadcast_to(index, tuple(shape[:d]) + (index.shape[d],) + tuple(shape[d + 1:])))


def _along(self, dim, index, op):
    """(d, index as positions in [0, size)) for the 1-d index ops; a 0-d self counts as 1-d."""
    d = one_dim(op, dim, self.ndim)
    if index.ndim > 1:
        raise RuntimeError(f"{op}: Index has to be a vector/scalar, got shape {index.shape}")
    return d, index.reshape(-1)


def index_fill(self, dim, index, value):
    """y = x with every element whose index along dim is in `index` set to value (a number or a 0-d tensor,
    which then gets the gradient of those places)."""
    d, index = _along(self, dim, _index("index_fill", index, kind=IndexError), "index_fill")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    n = self.shape[d] if self.ndim else 1
    chosen = np.zeros(n, bool)
    chosen[_in_range("index_fill", index, n)] = True
    mask = chosen.reshape([-1 if a == d else 1 for a in range(self.ndim)]) if self.ndim else chosen.reshape(())
    return masked_fill(self, Tensor._wrap(np.broadcast_to(mask, self.shape), False), value)


def index_copy(self, dim, index, source):
    """y = x with y[..., index[k], ...] = source[..., k, ...] along dim (source: x's shape but len(index) along
    dim);  dL/dx = g with those places zeroed, dL/dsource = g.index_select(dim, index)."""
    index = _index("index_copy", index)
    _same_dtype("index_copy", self, source)
    if self.ndim == 0:
        return index_copy(self.reshape(1), 0, index, source.reshape(-1)).reshape(())
    d, index = _along(self, dim, index, "index_copy")
    expected = tuple(self.shape[:d]) + (len(index),) + tuple(self.shape[d + 1:])
    if tuple(source.shape) != expected:
        raise IndexError(f"index_copy_(): source of shape {tuple(source.shape)} should be {expected} (Number of "
                         f"indices ({len(index)}) should be equal to source.size(dim))")
    index = _in_range("index_copy_()", index, self.shape[d], negative=False)
    return IndexPut.apply(self, source, index=(slice(None),) * d + (index,))


def _put_index(op, self, indices):
    """PyTorch's index_put indices (a tuple of integer or bool tensors) as a NumPy index, bools as positions."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of tensors, got {type(indices).__name__}")
    parts = []
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"{op}: expected Tensor as element {k} in argument indices, but got {type(i).__name__}")
        if i.dtype == np.bool_:
            parts.extend(np.nonzero(i._data))
        elif i.dtype in (np.int64, np.int32):
            parts.append(i._data)
        else:
            raise IndexError(f"{op}: tensors used as indices must be long, int or bool tensors, got {i.dtype}")
    if len(parts) > self.ndim:
        raise IndexError(f"{op}: too many indices for tensor of dimension {self.ndim} (got {len(parts)})")
    for a, p in enumerate(parts):
        _in_range(op, p, self.shape[a])
    return tuple(parts)


def index_put(self, indices, values, accumulate=False):
    """y = x with y[indices] = values (broadcast; added to x there, repeated places adding up, when accumulate);
    dL/dvalues = g[indices] summed back to values' shape, dL/dx = g (zeroed at the written places unless accumulate)."""
    index = _put_index("index_put", self, indices)
    _same_dtype("index_put", self, values, "values")
    if not accumulate:
        return IndexPut.apply(self, values, index=index)
    picked = np.zeros(self.shape, bool)[index].shape
    try:
        spread = values.expand(*picked)
    except ValueError:
        raise RuntimeError(f"index_put: values of shape {tuple(values.shape)} cannot be broadcast to the indexed "
                           f"shape {picked}") from None
    return self + IndexAdd.apply(spread, shape=tuple(self.shape), index=index)


def _scattered(op, self, dim, index, src):
    """(the advanced index putting src[k] at self[..., index[k], ...], src cut to index's shape) for scatter-like ops."""
    index = _index(op, index, (np.int64, np.int32))
    if not (index.ndim == self.ndim == src.ndim):
        raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as self and src tensors "
                           f"(shapes {index.shape}, {tuple(self.shape)}, {tuple(src.shape)})")
    d = one_dim(op, dim, self.ndim)
    if any(i > s for i, s in zip(index.shape, src.shape)) or \
            any(i > s for a, (i, s) in enumerate(zip(index.shape, self.shape)) if a != d):
        raise RuntimeError(f"{op}: Expected index {index.shape} to be smaller than self {tuple(self.shape)} apart "
                           f"from dimension {d} and to be smaller size than src {tuple(src.shape)}")
    _in_range(op, index, self.shape[d], negative=False, kind=RuntimeError)
    if tuple(src.shape) != index.shape:
        src = src[tuple(slice(0, n) for n in index.shape)]
    return _grid(index, d), src


def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
    """y = x with y[..., index[k], ...] = reduce(x there (if include_self), every src[k] sent there), along dim
    (element-wise: index and src have x's number of dims); reduce one of sum, prod, mean, amax, amin."""
    if reduce not in REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _same_dtype("scatter_reduce", self, src, "src")
    if reduce == "mean" and self.dtype == np.bool_:
        raise NotImplementedError("scatter_reduce: reduce='mean' is not implemented for bool (as in PyTorch)")
    if self.ndim == 0:
        return scatter_reduce(self.reshape(1), 0, np.reshape(_index("scatter_reduce", index, (np.int64, np.int32)), 1),
                              src.reshape(1), reduce, include_self=include_self).reshape(())
    grid, src = _scattered("scatter_reduce", self, dim, index, src)
    return ScatterReduce.apply(self, src, index=grid, reduce=reduce, include_self=include_self)


def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    """y = x with y[..., index[k], ...] = reduce(x there (if include_self), every source[..., k, ...] sent there)
    along dim (index 1-d); reduce one of prod, mean, amax, amin (integer means round down)."""
    if reduce not in REDUCTIONS[1:]:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    _same_dtype("index_reduce", self, source)
    index = _index("index_reduce", index, (np.int64, np.int32))
    if self.ndim == 0:
        return index_reduce(self.reshape(1), 0, index.reshape(-1), source.reshape(-1), reduce,
                            include_self=include_self).reshape(())
    d, index = _along(self, dim, index, "index_reduce")
    expected = tuple(self.shape[:d]) + (len(index),) + tuple(self.shape[d + 1:])
    if tuple(source.shape) != expected:
        raise RuntimeError(f"index_reduce: source of shape {tuple(source.shape)} should be {expected}")
    index = _in_range("index_reduce", index, self.shape[d], negative=False)
    grid = list(np.ix_(*[np.arange(n) for n in expected]))
    grid[d] = index.reshape([-1 if a == d else 1 for a in range(self.ndim)])
    return ScatterReduce.apply(self, source, index=tuple(grid), reduce=reduce, include_self=include_self)


def scatter(self, dim, index, src=None, value=None, *, reduce=None):
    """Tensor.scatter (tinynn/ops/index.py), with PyTorch's legacy reduce='add' or 'multiply': the src values
    (or `value`) added to (multiplied into) x at the scattered places; that form has no gradient, as in PyTorch."""
    if reduce is None:
        return plain_scatter(self, dim, index, src, value)
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    if src is not None and not isinstance(src, Tensor):  # a number: PyTorch's scatter(dim, index, value, reduce=)
        src, value = None, src
    if src is None:
        src = Tensor._wrap(np.full(np.shape(_index("scatter", index, (np.int64, np.int32))), value, self.dtype), False)
    _same_dtype("scatter", self, src, "src")
    grid, src = _scattered("scatter", self, dim, index, src)
    return ScatterReduce.apply(self, src, index=grid, reduce="sum" if reduce == "add" else "prod", legacy=reduce)


def masked_scatter(self, mask, source):
    """y = x with the places where mask (bool, broadcast with x) is True filled, in row-major order, with
    source's first elements;  dL/dsource = g at those places (zero for source's unused rest)."""
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    _same_dtype("masked_scatter", self, source)
    try:
        shape = np.broadcast_shapes(mask.shape, tuple(self.shape))
    except ValueError:
        raise RuntimeError(f"masked_scatter: mask of shape {mask.shape} does not broadcast with "
                           f"{tuple(self.shape)}") from None
    mask = np.broadcast_to(mask, shape)
    taken = int(mask.sum())
    if source.numel() < taken:
        raise RuntimeError(f"masked_scatter: Number of elements of source ({source.numel()}) < number of ones in mask "
                           f"({taken})")
    if source.numel() == 0:
        return Where.apply(self, self, condition=mask)  # x broadcast to the mask's shape, a copy
    order = np.maximum(np.cumsum(mask.reshape(-1)) - 1, 0).reshape(shape)  # the source element for each place
    return Where.apply(source.reshape(-1)[Tensor._wrap(order, False)], self, condition=mask)


def put(self, index, source, accumulate=False):
    """y = x with y.flatten()[index[k]] = source[k] (added when accumulate; index and source of equal numel,
    negative indices from the end);  dL/dsource[k] = g.flatten()[index[k]]."""
    index = _index("put_()", index)
    _same_dtype("put_()", self, source)
    if index.size != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.size}")
    flat_index = (_in_range("put_()", index.reshape(-1), self.numel()),)
    flat, values = self.reshape(-1), source.reshape(-1)
    if accumulate:
        return (flat + IndexAdd.apply(values, shape=(self.numel(),), index=flat_index)).reshape(self.shape)
    return IndexPut.apply(flat, values, index=flat_index).reshape(self.shape)


def _inplace(name, fn):
    def method(self, *args, **kwargs):
        return inplace(self, name, lambda s: fn(s, *args, **kwargs))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: self <- self.{fn.__name__}(...)."
    return method


_OUT_OF_PLACE = (take, take_along_dim, index_fill, index_copy, index_put, index_reduce, scatter_reduce, scatter,
                 masked_scatter, put)
METHODS = {fn.__name__: fn for fn in _OUT_OF_PLACE}
METHODS.update({fn.__name__ + "_": _inplace(fn.__name__ + "_", fn) for fn in _OUT_OF_PLACE[2:]})
FUNCTION_NAMES = ("take", "take_along_dim", "index_fill", "index_copy", "index_put", "index_put_", "index_reduce",
                  "scatter_reduce", "masked_scatter", "put")
