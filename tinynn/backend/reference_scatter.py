"""The reference kernels of scatter_reduce / index_reduce / index_put(accumulate=True) and of
unique_consecutive: reductions into the places an index picks (NumPy's unbuffered `ufunc.at`, so a
place picked twice takes both values), and the runs of equal neighbours.

Part of the reference backend (reference.py imports both names); the compiled backend runs these
same functions. Arguments arrive checked by tinynn/ops/index_more.py and tinynn/tensor_extras/.
"""
import numpy as np

_ACCUMULATE = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a reduction starts from when x itself is left out: 0, 1, -inf / +inf (the extremes of an
    integer dtype, False / True for bool)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def scatter_reduce(x, index, src, reduce, include_self=True):
    """y = x, except at each place p that `index` picks: y_p = reduce({x_p if include_self} u {src_k : index_k = p}),
    reduce one of sum, prod, mean, amax, amin (amax/amin propagate NaN). `index` is a tuple of integer arrays,
    one per dim of x, broadcasting to src's shape (an advanced index: src_k goes to x[index_0[k], index_1[k], ...]).
    mean divides by N_p = include_self + #{k : index_k = p}; integer means round down (floor division)."""
    y = x.copy()
    if not include_self:
        y[index] = _identity(reduce, x.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN propagates (amax/amin), overflow wraps or is inf
        _ACCUMULATE[reduce].at(y, index, src)
    if reduce != "mean":
        return y
    count = np.full(x.shape, 1 if include_self else 0, np.int64)
    np.add.at(count, index, 1)
    count = np.maximum(count, 1)  # a place nothing reached keeps x_p (x_p / 1)
    if y.dtype.kind == "f":
        return (y / count).astype(y.dtype, copy=False)
    return np.floor_divide(y, count).astype(y.dtype, copy=False)


def unique_consecutive(x, axis=None):
    """(starts, inverse, counts) of the runs of equal neighbours of x (flattened when axis is None, else of its
    slices along axis): starts[r] the position where run r begins, inverse[i] the run of element (slice) i
    (x's shape when axis is None), counts[r] its length. NaN != NaN, so each NaN starts a run."""
    rows = x.reshape(-1) if axis is None else np.moveaxis(x, axis, 0)
    n = rows.shape[0]
    differs = (rows[1:] != rows[:-1]).reshape(max(n - 1, 0), int(np.prod(rows.shape[1:]))).any(axis=1)
    new = np.concatenate([np.ones(min(n, 1), bool), differs])
    starts = np.flatnonzero(new)
    inverse = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, n))
    return starts, inverse.reshape(x.shape if axis is None else (n,)), counts
