"""Order statistics, running extrema, searching and counting with PyTorch's arguments: cummax, cummin,
logcumsumexp, kthvalue, quantile, nanquantile (values gathered at backend-found indices, so gradients
go to the elements chosen), and the integer-valued unique, bincount, searchsorted, bucketize (no gradient)."""
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .dims import one_dim
from .index import Gather
from .pairwise import lerp
from .shape import Stack
from .sorting import _order

CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _wrap(array, dtype=None):
    return Tensor._wrap(np.asarray(array, dtype), False)


def _running(op, result, self, dim, largest):
    d = one_dim(op, dim, self.ndim)
    if self.ndim == 0:
        return result(self.clone(), _wrap(0, np.int64))
    index = np.asarray(backend.active.cummax_index(self._data, d, largest), np.int64)
    return result(Gather.apply(self, dim=d, index=index), _wrap(index))


def cummax(self, dim):
    """(values, indices): the running maximum along dim and where it was last reached (a NaN is the
    maximum from where it occurs); the gradient goes to those elements."""
    return _running("cummax", CummaxResult, self, dim, True)


def cummin(self, dim):
    """(values, indices): the running minimum along dim and where it was last reached."""
    return _running("cummin", CumminResult, self, dim, False)


class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} exp(x_j) along the last dim;  dL/dx_j = sum_{i >= j} g_i exp(x_j - y_i)
    (each exponent <= 0: no overflow; the n x n table of pairs is built per row)."""

    __slots__ = ('x', 'y')
    differentiable = True
    exact_gradients = True
    outputs = ('y',)

    def forward(self, x):
        self.x, self.y = x, backend.active.logcumsumexp(x, x.ndim - 1)
        return self.y

    def backward(self, g):
        B, shape = backend.active, tuple(np.shape(self.x))
        n, later = shape[-1], np.tri(shape[-1], dtype=bool)  # later[i, j]: i >= j
        diff = B.subtract(self.x.reshape(shape[:-1] + (1, n)), self.y.reshape(shape[:-1] + (n, 1)))
        pairs = B.exp(B.where(later, diff, np.asarray(-np.inf, np.asarray(self.y).dtype)))
        return B.sum(B.multiply(pairs, g.reshape(shape[:-1] + (n, 1))), axis=len(shape) - 1)


def logcumsumexp(self, dim):
    """log(cumsum(exp(x))) along dim, without overflow."""
    if self.dtype.kind != "f":
        raise NotImplementedError(f"logcumsumexp: not implemented for {self.dtype} (as in PyTorch)")
    d = one_dim("logcumsumexp", dim, self.ndim)
    if self.ndim == 0:
        return self * 1
    return LogCumSumExp.apply(self.movedim(d, -1)).movedim(-1, d)


def kthvalue(self, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element along dim (k from 1) and where it is."""
    if self.dtype == np.bool_:
        raise TypeError("kthvalue: not implemented for bool tensors (as in PyTorch)")
    d = one_dim("kthvalue", dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k = {k} out of range for dimension {d} (size {n})")
    index, d = _order(self, "kthvalue", d, False)
    index = index[(slice(None),) * d + (slice(k - 1, k),)] if index.ndim else index
    values = Gather.apply(self, dim=d, index=index)
    if not keepdim and self.ndim:
        index = index.squeeze(d)
        values = values.reshape(index.shape)
    return KthvalueResult(values, _wrap(index))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op, self, q, dim, keepdim, interpolation, ignore_nan):
    if self.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {self.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    if isinstance(q, Tensor) and q.dtype != self.dtype:
        raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor ({q.dtype} and {self.dtype})")
    qs = np.asarray(q._data if isinstance(q, Tensor) else q, np.float64)
    if qs.ndim > 1 or (qs.size and (qs.min() < 0 or qs.max() > 1)):
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor with values in the range [0, 1], got {qs}")
    if self.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    x = self.reshape(-1) if dim is None else self
    d = one_dim(op, 0 if dim is None else dim, x.ndim)
    xs = (x.reshape(1) if x.ndim == 0 else x).movedim(d, -1)
    ordered = xs.sort(-1).values  # NaN last
    nan = np.isnan(xs._data).sum(-1, keepdims=True)
    n = np.full(nan.shape, xs.shape[-1]) - (nan if ignore_nan else 0)
    results = []
    for level in qs.reshape(-1).astype(self.dtype):  # positions in the input's dtype, as PyTorch's
        pos = level * np.maximum(n - 1, 0).astype(self.dtype)
        pos = np.where(nan > 0, xs.shape[-1] - 1, pos) if not ignore_nan else np.where(n == 0, xs.shape[-1] - 1, pos)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        if interpolation in ("lower", "higher", "nearest"):  # an element itself, no arithmetic (inf stays inf)
            nearest = np.round(pos).astype(np.int64)  # half to even, as PyTorch's round
            at = {"lower": lo, "higher": hi, "nearest": nearest}[interpolation]
            results.append(Gather.apply(ordered, dim=xs.ndim - 1, index=at))
            continue
        v_lo, v_hi = Gather.apply(ordered, dim=xs.ndim - 1, index=lo), Gather.apply(ordered, dim=xs.ndim - 1, index=hi)
        weight = (pos - lo).astype(self.dtype) if interpolation == "linear" else np.full(pos.shape, 0.5, self.dtype)
        results.append(lerp(v_lo, v_hi, _wrap(weight)))  # torch.lerp's formula, as PyTorch's quantile
    out = [r.squeeze(-1) for r in results]
    if keepdim:
        out = [r.reshape((1,) * self.ndim) if dim is None else r.unsqueeze(d) for r in out]
    return out[0] if qs.ndim == 0 else Stack.apply(*out, axis=0)


def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles along dim (of every element when None): sorted x at position p = q (n - 1), between
    neighbours by `interpolation` (linear: lerp(x_lo, x_hi, p - lo), PyTorch's lerp: x_lo + w (x_hi - x_lo)
    for w < 1/2, else x_hi - (x_hi - x_lo)(1 - w); lower, higher, nearest: that element itself); NaN where
    the slice has a NaN.
    q a float or a 1-D tensor (then a first dim of its size)."""
    return _quantile("quantile", self, q, dim, keepdim, interpolation, False)


def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile over the elements that are not NaN (NaN where all are)."""
    return _quantile("nanquantile", self, q, dim, keepdim, interpolation, True)


def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (slices along dim) in ascending order; with return_inverse where each element
    went (int64, input's shape), with return_counts how often each occurs (int64)."""
    d = None if dim is None else one_dim("unique", dim, self.ndim)
    values, inverse, counts = backend.active.unique(self._data, d)
    result = (_wrap(values, self.dtype),) + ((_wrap(inverse, np.int64),) if return_inverse else ()) \
        + ((_wrap(counts, np.int64),) if return_counts else ())
    return result if len(result) > 1 else result[0]


def bincount(self, weights=None, minlength=0):
    """c[b] = how many elements equal b (the sum of their weights), b < max(max(x) + 1, minlength): int64,
    or with weights their float dtype (float64 for integer weights)."""
    x = self._data
    if x.ndim != 1 or x.dtype.kind not in "iu" or (x.size and x.min() < 0):  # (bool: not in PyTorch either)
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return _wrap(backend.active.bincount(x, None, minlength), np.int64)
    w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != x.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input ({w.shape}, {x.shape})")
    return _wrap(backend.active.bincount(x, w, minlength), w.dtype if w.dtype.kind == "f" else np.float64)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):  # noqa: A002
    """For each value v, the index i where it would go to keep each row of sorted_sequence sorted:
    s[i-1] < v <= s[i] (right=False, side="left"), s[i-1] <= v < s[i] (right=True, side="right")."""
    if side is not None and side not in ("left", "right") or (side == "left" and right):
        raise RuntimeError(f"searchsorted: side must be 'left' or 'right' and agree with right={right}, got {side!r}")
    side = side or ("right" if right else "left")
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(sorter._data if isinstance(sorter, Tensor) else sorter), -1)
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                           f"boundaries tensor and input value tensor must match (shapes {seq.shape}, {values.shape})")
    if seq.ndim <= 1:
        index = backend.active.searchsorted(seq, values, side)
    else:
        index = np.empty(values.shape, np.int64)
        for row in np.ndindex(*seq.shape[:-1]):
            index[row] = backend.active.searchsorted(seq[row], values[row], side)
    return _wrap(index, np.int32 if out_int32 else np.int64)


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each value by the 1-D boundaries: i with b[i-1] < v <= b[i] (right: b[i-1] <= v < b[i])."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


METHODS = {"cummax": cummax, "cummin": cummin, "logcumsumexp": logcumsumexp, "kthvalue": kthvalue,
           "quantile": quantile, "nanquantile": nanquantile, "unique": unique, "bincount": bincount}
FUNCTIONS = {"searchsorted": searchsorted, "bucketize": bucketize}
