"""More reductions: prod, cumsum, cumprod and norm as ops; var, std, logsumexp, nansum, nanmean
composed of ops (so their gradients are the ops'); all and any (bool, no gradient). PyTorch's arguments."""
import math

import numpy as np

from ..autograd.function import Function
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .. import backend
from .array_or_tensor import concatenate, flipped, values
from .dims import no_out, one_dim, reduce_dims
from .shape import Where


def _accumulated(x):
    """x as the dtype PyTorch accumulates it in: integers and bools as int64 (a uint8 sum is int64)."""
    return x.astype(np.int64) if x.dtype.kind in "biu" and x.dtype != np.int64 else x


def _exclusive_products(x, axis):
    """p_i = prod_{j != i} x_j along axis, without dividing (exact when some x_j are 0): the running
    products before i times those after i, each one cumprod (an array, or recorded on a Tensor)."""
    n, lead = x.shape[axis], (slice(None),) * axis
    if n == 0:
        return x
    ones = np.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], values(x).dtype)
    but_last = lead + (slice(-1),)
    before = backend.active.cumprod(concatenate([ones, x[but_last]], axis), axis=axis)
    after = flipped(backend.active.cumprod(concatenate([ones, flipped(x, axis)[but_last]], axis), axis=axis), axis)
    return backend.active.multiply(before, after)


class Prod(Function):
    """y = prod_i x_i over one dim (prod() runs on the flattened tensor);  dy/dx_i = prod_{j != i} x_j
    (so with one zero only the zero gets a gradient, with two none does, as in PyTorch); its
    derivative is Cumprod's."""

    __slots__ = ('x', 'axis', 'keepdims')
    exact_gradients = True
    differentiable = True

    def forward(self, x, axis, keepdims=False):
        x = _accumulated(x)
        self.x, self.axis, self.keepdims = x, axis, keepdims
        return np.asarray(backend.active.prod(x, axis=axis, keepdims=keepdims))

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(self.x.shape[:self.axis] + (1,) + self.x.shape[self.axis + 1:])
        return backend.active.multiply(_exclusive_products(self.x, self.axis), g)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along a dim;  dL/dx_i = sum_{j >= i} g_j."""

    __slots__ = ('axis',)
    exact_gradients = True
    differentiable = True

    def forward(self, x, axis):
        self.axis = axis
        return backend.active.cumsum(_accumulated(x), axis=axis)

    def backward(self, g):
        return flipped(backend.active.cumsum(flipped(g, self.axis), axis=self.axis), self.axis)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along a dim;  dL/dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k."""

    __slots__ = ('x', 'axis')
    exact_gradients = True
    differentiable = True

    def forward(self, x, axis):
        x = _accumulated(x)
        self.x, self.axis = x, axis
        return backend.active.cumprod(x, axis=axis)

    def backward(self, g):
        B, x, axis = backend.active, self.x, self.axis
        n, lead = x.shape[axis], (slice(None),) * axis
        position = np.arange(n).reshape((n,) + (1,) * (len(x.shape) - axis - 1))
        parts = []
        for i in range(n):  # O(n^2) along the dim, but exact with zeros (no division)
            later = lead + (slice(i, None),)
            running = B.cumprod(B.where(position == i, np.ones((), values(x).dtype), x), axis=axis)  # with x_i = 1
            parts.append(B.sum(B.multiply(running[later], g[later]), axis=axis, keepdims=True))
        return concatenate(parts, axis) if parts else g  # an empty dim: g is the (empty) gradient


class Norm(Function):
    """y = (sum_i |x_i|^p)^(1/p) over dims (p = inf: max |x_i|);  dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1)
    (p = inf: sign(x_i) shared by the maxima), 0 where y = 0 (PyTorch's subgradient) or x_i = 0 with p < 1."""

    __slots__ = ('x', 'p', 'axis', 'keepdims', 'y')
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x, p=2.0, axis=None, keepdims=False):
        self.x, self.p, self.axis, self.keepdims = x, p, axis, keepdims
        a = np.abs(x)
        if p == np.inf and 0 in [x.shape[d] for d in (range(x.ndim) if axis is None else np.atleast_1d(axis))]:
            raise ValueError(f"norm: the inf norm over an empty dim is undefined (max has no identity), "
                             f"input shape {x.shape}, dim {axis}")
        self.y = np.asarray(a.max(axis=axis, keepdims=True) if p == np.inf
                            else (a ** p).sum(axis=axis, keepdims=True) ** (1 / p))
        return self.y if keepdims else np.squeeze(self.y, axis=axis)

    def backward(self, g):
        B, x, y, p = backend.active, self.x, self.y, self.p
        xv, yv, g = values(x), values(y), g.reshape(values(y).shape)
        sign = B.sign(x)  # recorded under create_graph (its derivative is 0), as PyTorch's sgn
        if p == np.inf:  # the gradient goes to the maxima, shared
            hit = np.abs(xv) == yv
            d = B.multiply(sign, (hit / np.maximum(hit.sum(axis=self.axis, keepdims=True), 1)).astype(xv.dtype))
        elif p == 1:
            d = sign
        else:  # a zero y (then every x_i = 0) divides by 1 instead, and the gradient there is 0
            nonzero = (yv != 0).astype(xv.dtype)
            y_or_1 = B.add(y, 1 - nonzero)
            if p == 2:  # times the 0/1 constant: PyTorch's masked 1 / y, so the second derivative at 0 is 0 too
                d = B.multiply(B.divide(x, y_or_1), nonzero)
            else:  # |x_i| read as 1 where x_i = 0: sign(x_i) = 0 makes those 0, and no 0^(p-1) is inf
                scaled = B.power(B.add(B.absolute(x), (xv == 0).astype(xv.dtype)), p - 1)
                d = B.divide(B.multiply(sign, scaled), B.power(y_or_1, p - 1))
        return B.multiply(d, g)


def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """sum_i (x_i - mean)^2 / (n - correction) over dim; correction = 1 (Bessel's) unless given
    (unbiased=False means correction = 0, PyTorch's older spelling; `var(False)` is `var(unbiased=False)`)."""
    if isinstance(dim, bool):  # PyTorch's overload var(unbiased): a bool is never a dim
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    dim, keepdim = reduce_dims("var", self.ndim, dim, keepdim, axis, keepdims)
    n = math.prod(self.shape[d] for d in (range(self.ndim) if dim is None else dim if isinstance(dim, tuple) else (dim,)))
    centered = self - self.mean(dim, keepdim=True)
    return (centered * centered).sum(dim, keepdim=keepdim) / max(n - correction, 0)


def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """sqrt(var(...)) with the same arguments (its gradient 0 where the std is 0, as PyTorch's)."""
    return StdRoot.apply(var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


class StdRoot(Function):
    """y = sqrt(v), v a variance;  dy/dv = 1 / (2 y), and 0 where y = 0 (PyTorch's std_backward: a
    constant input has std 0 and gradient 0, not 0/0)."""

    __slots__ = ('y',)
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, v):
        self.y = backend.active.sqrt(v)
        return self.y

    def backward(self, g):
        B, zero = backend.active, values(self.y) == 0
        if not zero.any():
            return B.divide(g, 2 * self.y)
        return B.where(zero, np.zeros((), g.dtype), B.divide(g, 2 * self.y + zero.astype(values(self.y).dtype)))


def logsumexp(self, dim, keepdim=False):
    """log sum_i e^(x_i) over dim, shifted by the maximum m (a constant) so large x stays finite:
    m + log sum_i e^(x_i - m);  its gradient is softmax(x) along dim."""
    dim, keepdim = reduce_dims("logsumexp", self.ndim, dim, keepdim)
    if self.dtype.kind != "f":  # integers and bools: in the default float dtype (PyTorch)
        self = self.to(get_default_dtype())  # noqa: PLW0642
    m = np.asarray(self._data.max(axis=dim, keepdims=True))
    m = Tensor._wrap(np.where(np.isfinite(m), m, 0).astype(self.dtype), False)
    out = (self - m).exp().sum(dim, keepdim=True).log() + m
    return out if keepdim else out.reshape(np.squeeze(out._data, axis=dim).shape)


def norm(self, p="fro", dim=None, keepdim=False):
    """The p-norm over dim (every element when None): p = 2 and "fro" the Euclidean, p = inf the max |x|."""
    if self.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating-point tensor, got {self.dtype} (as in PyTorch)")
    p = 2.0 if p in ("fro", None) else float(p)
    if not p > 0:
        raise ValueError(f"norm: p must be positive (or inf or 'fro'), got {p}")
    dim, keepdim = reduce_dims("norm", self.ndim, dim, keepdim)
    return Norm.apply(self, p=p, axis=dim, keepdims=keepdim)


def prod(self, dim=None, keepdim=False, *, dtype=None):
    """prod_i x_i over one dim (every element when None: the flattened tensor's dim 0; a 0-d
    tensor's dim 0 or -1 is itself); `dtype` casts the input first, as PyTorch does."""
    self = self if dtype is None else self.to(dtype)  # noqa: PLW0642
    if dim is None or not self.ndim:
        if dim is not None:
            one_dim("prod", dim, 0)
        return Prod.apply(self.flatten(), axis=0)
    return Prod.apply(self, axis=one_dim("prod", dim, self.ndim), keepdims=keepdim)


def _running(cls, op, self, dim):
    """cls (Cumsum or Cumprod) along dim; a 0-d tensor runs as the 1-element one."""
    if self.ndim == 0:
        one_dim(op, dim, 0)
        return cls.apply(self.reshape(1), axis=0).reshape(())
    return cls.apply(self, axis=one_dim(op, dim, self.ndim))


def cumsum(self, dim, *, dtype=None):
    """Running sums along dim (integers and bools accumulate in int64; `dtype` casts the input first)."""
    return _running(Cumsum, "cumsum", self if dtype is None else self.to(dtype), dim)


def cumprod(self, dim, *, dtype=None):
    """Running products along dim (integers and bools accumulate in int64; `dtype` casts the input first)."""
    return _running(Cumprod, "cumprod", self if dtype is None else self.to(dtype), dim)


def nansum(self, dim=None, keepdim=False, *, dtype=None):
    """sum over dim with the NaNs counted as 0 (and given gradient 0)."""
    x = self if dtype is None else self.to(dtype)
    if x.dtype.kind == "f":
        x = Where.apply(Tensor._wrap(np.zeros((), x.dtype), False), x, condition=np.isnan(x._data))
    return x.sum(dim, keepdim)


def nanmean(self, dim=None, keepdim=False, *, dtype=None):
    """nansum over dim divided by the number of its elements that are not NaN (NaN where all are)."""
    x = self if dtype is None else self.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"nanmean: needs a floating-point tensor, got {x.dtype} (pass dtype=, or call .float())")
    axis, keep = reduce_dims("nanmean", x.ndim, dim, keepdim)
    count = backend.active.sum(~np.isnan(x._data), axis=axis, keepdims=keep)
    with np.errstate(divide="ignore", invalid="ignore"):
        return nansum(x, dim, keepdim) / Tensor._wrap(np.asarray(count, x.dtype), False)


def _logical_result(found, dtype):
    """all/any's result: bool, but uint8 for a uint8 input (PyTorch's legacy byte masks)."""
    return np.asarray(found, dtype=np.uint8 if dtype == np.uint8 else np.bool_)


def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):  # noqa: A001 - torch's name
    """True where every element (over dim) is nonzero; a bool tensor without gradient."""
    no_out("all", out)
    dim, keepdim = reduce_dims("all", self.ndim, dim, keepdim, axis, keepdims)
    return Tensor._wrap(_logical_result(np.all(self._data, axis=dim, keepdims=keepdim), self.dtype), False)


def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):  # noqa: A001 - torch's name
    """True where some element (over dim) is nonzero; a bool tensor without gradient."""
    no_out("any", out)
    dim, keepdim = reduce_dims("any", self.ndim, dim, keepdim, axis, keepdims)
    return Tensor._wrap(_logical_result(np.any(self._data, axis=dim, keepdims=keepdim), self.dtype), False)
