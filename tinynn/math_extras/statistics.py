"""PyTorch's statistics beyond the basic reductions: aminmax, mode, nanmedian, msort, cov, corrcoef, the
trapezoidal rule (trapezoid, trapz, cumulative_trapezoid), and the gradient-free histc, histogram and isin.
Values are gathered (the Gather op) at backend-sorted indices or composed of tinynn's ops, so the gradients,
to any order, are those ops'."""
import warnings
from collections import namedtuple

import numpy as np

from ..dtypes import get_default_dtype, result_type
from ..tensor import Tensor
from .. import backend
from ..ops.dims import one_dim
from ..ops.index import Gather
from ..ops.sorting import _order, median, sort

AminmaxResult = namedtuple("aminmax", ["min", "max"])  # torch.return_types.*
ModeResult = namedtuple("mode", ["values", "indices"])
NanmedianResult = namedtuple("nanmedian", ["values", "indices"])
HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])


def _wrap(array):
    return Tensor._wrap(np.asarray(array), False)


def aminmax(self, *, dim=None, keepdim=False):
    """(min, max) over dim (every element when None): amin and amax, each tie sharing the gradient evenly."""
    if self.numel() == 0 or (dim is not None and self.ndim and self.shape[one_dim("aminmax", dim, self.ndim)] == 0):
        raise RuntimeError(f"aminmax: cannot compute aminmax over an empty dimension as the operation has no "
                           f"identity (shape {tuple(self.shape)})")
    if dim is None:
        low, high = self.amin(), self.amax()
        return AminmaxResult(*((t.reshape((1,) * self.ndim) for t in (low, high)) if keepdim else (low, high)))
    return AminmaxResult(self.amin(dim, keepdim), self.amax(dim, keepdim))


def msort(self):
    """self sorted along dim 0, ascending (NaN last): sort(self, dim=0).values."""
    return sort(self, 0).values


def _gathered(result, self, index, d, keepdim):
    """result(values, indices) for int64 indices along d with a kept size-1 dim d."""
    values = Gather.apply(self, dim=d, index=index)
    if not keepdim:
        index = index.squeeze(d)
        values = values.reshape(index.shape)
    return result(values, _wrap(index))


def mode(self, dim=-1, keepdim=False):
    """(values, indices): along dim the value occurring most often (the smallest of equally frequent ones)
    and the last index where it occurs; the gradient goes to that element. (Each NaN counts as a value
    of its own.)"""
    d = one_dim("mode", dim, self.ndim)
    if self.ndim == 0:
        return ModeResult(self.clone(), _wrap(np.int64(0)))
    n = self.shape[d]
    if n == 0:
        raise IndexError(f"mode: expected reduction dim {d} to have non-zero size (shape {tuple(self.shape)})")
    order, _ = _order(self, "mode", d, False)
    order = np.moveaxis(order, d, -1)
    ranked = np.take_along_axis(np.moveaxis(self._data, d, -1), order, -1)
    starts = np.ones(ranked.shape, bool)
    starts[..., 1:] = ranked[..., 1:] != ranked[..., :-1]  # a run of equal values begins (NaN != NaN)
    ends = np.ones(ranked.shape, bool)
    ends[..., :-1] = starts[..., 1:]
    place = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts, place, 0), axis=-1)
    best = np.argmax(np.where(ends, place - run_start + 1, 0), axis=-1)[..., None]  # the first longest run
    index = np.moveaxis(np.take_along_axis(order, best, -1), -1, d)
    return _gathered(ModeResult, self, index, d, keepdim)


def nanmedian(self, dim=None, keepdim=False):
    """median ignoring NaNs: the lower median of the non-NaN values (NaN when all are NaN); without dim over
    every element, the gradient shared evenly by the elements equal to it; with dim, (values, indices)."""
    if self.dtype == np.bool_:
        raise TypeError("nanmedian: not implemented for bool tensors (as in PyTorch)")
    if self.dtype.kind != "f":
        return median(self) if dim is None else NanmedianResult(*median(self, dim, keepdim))
    if dim is None:
        flat = self.reshape(-1)
        keep = ~np.isnan(flat._data)
        return median(flat if keep.all() or not keep.any() else flat[_wrap(np.flatnonzero(keep))])
    d = one_dim("nanmedian", dim, self.ndim)
    if self.ndim and self.shape[d] == 0:
        raise IndexError(f"nanmedian: expected reduction dim {d} to have non-zero size (shape {tuple(self.shape)})")
    if self.ndim == 0:
        return NanmedianResult(self.clone(), _wrap(np.int64(0)))
    order, _ = _order(self, "nanmedian", d, False)  # NaNs last
    count = (~np.isnan(self._data)).sum(axis=d, keepdims=True)
    index = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, axis=d)  # all NaN: the first NaN
    return _gathered(NanmedianResult, self, index, d, keepdim)


def cov(self, *, correction=1, fweights=None, aweights=None):
    """The covariance of the variables in input's rows (observations in its columns):
    C = (X - m)(w (X - m))^T / (sum_i w_i - correction c), w = fweights aweights (1 when absent), m_j =
    sum_i w_i x_ji / sum_i w_i, and c = sum_i w_i a_i / sum_i w_i with aweights a (else 1); a 0-d result for
    one variable. (PyTorch's, which follows numpy.cov.)"""
    if self.ndim > 2:
        raise RuntimeError(f"cov: expected input to have two or fewer dimensions but got {self.ndim} dimensions")
    x = self.reshape(1, -1) if self.ndim < 2 else self
    x = x if x.dtype.kind == "f" else x.to(get_default_dtype())
    n, w = x.shape[1], None
    for name, weights, kinds in (("fweights", fweights, "iu"), ("aweights", aweights, "f")):
        if weights is None:
            continue
        if weights.ndim > 1 or weights.numel() != n:
            raise RuntimeError(f"cov: expected {name} to be a scalar or 1-D tensor with one entry per observation "
                               f"({n}), got shape {tuple(weights.shape)}")
        if weights.dtype.kind not in kinds:
            raise RuntimeError(f"cov: expected {name} to have {'integral' if kinds == 'iu' else 'floating point'} "
                               f"dtype but got {weights.dtype}")
        if (weights._data < 0).any():
            raise RuntimeError(f"cov: {name} cannot be negative")
        w = weights if w is None else w * weights
    if w is None:
        mean, norm = x.mean(1), float(n - correction)
    else:
        total = w.sum().reshape(1)  # (1-d: NumPy makes a 0-d product a scalar, which create_graph loses track of)
        mean = (x * w).sum(1) / total
        norm = total - (correction * (w * aweights).sum().reshape(1) / total if aweights is not None and correction
                        else correction)
    if np.any(np.asarray(norm._data if isinstance(norm, Tensor) else norm) <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = norm.clamp(min=0) if isinstance(norm, Tensor) else 0.0
    centred = x - mean.unsqueeze(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (centred @ (centred if w is None else centred * w).mT) / norm
    return c.reshape(()) if c.shape == (1, 1) else c


def corrcoef(self):
    """Pearson's correlation coefficients of input's rows: R_ij = C_ij / sqrt(C_ii C_jj), C = cov(input),
    clamped to [-1, 1]."""
    c = cov(self)
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN for a constant variable, as PyTorch's
        if c.ndim == 0:
            return c / c
        std = c.diagonal().sqrt()
        return (c / std.unsqueeze(1) / std.unsqueeze(0)).clamp(-1.0, 1.0)


def _trapezoid_parts(op, y, x, dx, dim):
    """(dim, the sample spacings along it as a Tensor or a number, y_{i+1} + y_i along it)."""
    if y.dtype == np.bool_:
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is not None and dx is not None:
        raise TypeError(f"{op}: pass either x or dx, not both")
    if y.ndim == 0:
        raise IndexError(f"{op}: dimension {dim} is out of range for a 0-d tensor")
    d = one_dim(op, dim, y.ndim)
    n = y.shape[d]
    if x is None:
        spacing = 1 if dx is None else dx
    else:
        x = x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x), False)
        if (x.shape[0] if x.ndim == 1 else x.shape[one_dim(op, dim, x.ndim)]) != n:
            raise RuntimeError(f"{op}: there must be one `x` value for each sample point (x of shape "
                               f"{tuple(x.shape)}, y of shape {tuple(y.shape)}, dim {dim})")
        along = [max(n - 1, 0) if i == d else 1 for i in range(y.ndim)]  # a 1-D x lies along dim
        spacing = x.diff().reshape(along) if x.ndim == 1 else x.diff(dim=dim)
    pairs = y.narrow(d, min(n, 1), max(n - 1, 0)) + y.narrow(d, 0, max(n - 1, 0))
    return d, spacing, pairs


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """int y along dim by the trapezoidal rule: sum_i (x_{i+1} - x_i) (y_{i+1} + y_i) / 2 at the points x,
    or dx (sum_i y_i - (y_0 + y_last) / 2) for a constant spacing dx (default 1); 0 for no points."""
    d, spacing, pairs = _trapezoid_parts("trapezoid", y, x, dx, dim)
    if isinstance(spacing, Tensor):
        return (spacing * pairs).sum(d) / 2.0
    if y.shape[d] == 0:
        return y.sum(d) * 0.0
    return (y.sum(d) - (y.narrow(d, 0, 1) + y.narrow(d, -1, 1)).squeeze(d) * 0.5) * spacing


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid(y, x, dim=dim) or trapezoid(y, dx=dx, dim=dim) (PyTorch's older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along dim: out_k = sum_{i <= k} (x_{i+1} - x_i) (y_{i+1} + y_i) / 2
    (spacing dx, default 1, without x); one value fewer than y along dim."""
    d, spacing, pairs = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    if isinstance(spacing, Tensor):
        return (spacing * pairs).cumsum(d) / 2.0
    return (pairs * (spacing / 2.0)).cumsum(d)


def _edges(low, high, bins, dtype, op):
    if not np.isfinite([low, high]).all():
        raise RuntimeError(f"{op}: range of [{low}, {high}] is not finite")
    return np.linspace(low, high, bins + 1).astype(dtype)


def _floating_input(self, op):
    if not isinstance(self, Tensor) or self.dtype.kind != "f":
        raise TypeError(f"{op}: not implemented for {getattr(self, 'dtype', type(self).__name__)} (needs a "
                        "floating-point tensor, as in PyTorch)")


def _data_range(self):
    data = self._data
    return (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)


def histc(self, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's argument names
    """The counts of input's elements in `bins` equal-width bins over [min, max] (the data's own range when
    both are 0; widened by 1 on each side when they are equal); elements outside, and NaN, not counted."""
    _floating_input(self, "histc")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    low, high = (float(min), float(max)) if (min, max) != (0, 0) else _data_range(self)
    if low > high:
        raise RuntimeError(f"histc: max must be larger than min (got min {min}, max {max})")
    low, high = (low - 1, high + 1) if low == high else (low, high)
    edges = _edges(low, high, int(bins), self.dtype, "histc")
    return _wrap(backend.active.histogram(self._data.reshape(-1), edges))


def histogram(self, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges): the counts (summed weights) of input's elements in the bins [e_k, e_k+1) (the
    last closed), the edges `bins` (a 1-D increasing tensor) or `bins` equal-width ones over `range` (the
    data's own, widened by 1/2 on each side when it is one point); density divides by the total times the
    bin width."""
    _floating_input(self, "histogram")
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size < 1 or edges.dtype != self.dtype:
            raise RuntimeError(f"histogram: bins must be a 1-D tensor of input's dtype {self.dtype}, got shape "
                               f"{tuple(bins.shape)} and dtype {bins.dtype}")
        if (np.diff(edges) < 0).any():
            raise ValueError(f"histogram: bin edges must increase monotonically, got {edges.tolist()}")
    else:
        if bins <= 0:
            raise RuntimeError(f"histogram: bins must be > 0, but got {bins}")
        low, high = (float(range[0]), float(range[1])) if range is not None else (
            _data_range(self) if self.numel() else (0.0, 1.0))
        if low > high:
            raise RuntimeError(f"histogram: min should not exceed max, but got min {low} max {high}")
        low, high = (low - 0.5, high + 0.5) if low == high else (low, high)
        edges = _edges(low, high, int(bins), self.dtype, "histogram")
    if weight is not None and (weight.shape != self.shape or weight.dtype != self.dtype):
        raise RuntimeError(f"histogram: weight must have input's shape {tuple(self.shape)} and dtype {self.dtype}, "
                           f"got {tuple(weight.shape)} and {weight.dtype}")
    hist = _wrap(backend.active.histogram(self._data.reshape(-1), edges,
                                          None if weight is None else weight._data.reshape(-1)))
    edges = _wrap(edges)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / (hist.sum() * edges.diff())
    return HistogramResult(hist, edges)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` equals some element of `test_elements` (a bool tensor of elements'
    shape; never for NaN); its negation when invert. Either may be a number, not both."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: expected elements or test_elements to be a Tensor, got two numbers")
    dtype = result_type(elements, test_elements)
    a, b = (np.asarray(t._data if isinstance(t, Tensor) else t).astype(dtype, copy=False)
            for t in (elements, test_elements))
    return _wrap(backend.active.isin(a, b, assume_unique, invert))


METHODS = {"aminmax": aminmax, "msort": msort, "mode": mode, "nanmedian": nanmedian, "cov": cov,
           "corrcoef": corrcoef, "histc": histc, "histogram": histogram}
FUNCTIONS = {"trapezoid": trapezoid, "trapz": trapz, "cumulative_trapezoid": cumulative_trapezoid, "isin": isin}
