"""Elementwise functions of two tensors with PyTorch's rules, broadcasting: maximum, minimum
(ties split the gradient in half), remainder `%` and floor division `//` (floor semantics: the
remainder has the divisor's sign), fmod (the dividend's sign), clamp with tensor bounds, and lerp;
frac, the remainder of truncation."""
import numpy as np

from ..autograd.function import Function, promoted
from ..dtypes import get_default_dtype
from ..tensor import Tensor, as_tensor
from .. import backend
from .elementwise import Clip
from .shape import Where


def _broadcast(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


class _Extreme(Function):
    """z = max(a, b) (or min);  the gradient goes to the larger (smaller) one, half to each on a tie."""

    __slots__ = ('a', 'b')
    differentiable = True
    promotes = "common"
    constants = ('a', 'b')  # only which one is larger
    kernel = None

    def forward(self, a, b):
        _broadcast(self.name, a, b)
        self.a, self.b = a, b
        return getattr(backend.active, self.kernel)(a, b)

    def backward(self, g):
        wins = (self.a > self.b) if self.kernel == "maximum" else (self.a < self.b)
        share_a = np.where(self.a == self.b, 0.5, wins.astype(g.dtype))
        return backend.active.multiply(g, share_a.astype(g.dtype)), backend.active.multiply(g, (1 - share_a).astype(g.dtype))


class Maximum(_Extreme):
    """z = max(a, b);  dz/da = 1 where a > b, 1/2 where a = b, else 0 (dz/db the rest)."""

    __slots__ = ()
    kernel = "maximum"


class Minimum(_Extreme):
    """z = min(a, b);  dz/da = 1 where a < b, 1/2 where a = b, else 0 (dz/db the rest)."""

    __slots__ = ()
    kernel = "minimum"


class Remainder(Function):
    """z = a - floor(a / b) b (the sign of b, Python's and PyTorch's %);  dz/da = 1, dz/db = -floor(a / b)."""

    __slots__ = ('a', 'b')
    differentiable = True
    promotes = "common"
    constants = ('a', 'b')  # floor(a / b) is piecewise constant

    def forward(self, a, b):
        _broadcast("remainder", a, b)
        _no_integer_zero("remainder", a, b)
        self.a, self.b = a, b
        return backend.active.remainder(a, b)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g, backend.active.negative(backend.active.multiply(g, backend.active.floor_divide(self.a, self.b)))


class Fmod(Function):
    """z = a - trunc(a / b) b (the sign of a, C's fmod);  dz/da = 1, dz/db = -trunc(a / b)."""

    __slots__ = ('a', 'b')
    differentiable = True
    promotes = "common"
    constants = ('a', 'b')  # trunc(a / b) is piecewise constant

    def forward(self, a, b):
        _broadcast("fmod", a, b)
        _no_integer_zero("fmod", a, b)
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.active.fmod(a, b)

    def backward(self, g):
        B = backend.active
        with np.errstate(divide="ignore", invalid="ignore"):
            return g, B.negative(B.multiply(g, B.trunc(B.divide(self.a, self.b)).astype(g.dtype)))


def frac(self):
    """x - trunc(x): the fractional part, with x's sign;  its gradient is 1."""
    if self.dtype.kind != "f":
        raise TypeError(f"frac: needs a floating-point tensor, got {self.dtype} (as in PyTorch)")
    return self - self.trunc()


def lerp(self, end, weight):
    """self + weight (end - self), as PyTorch computes it: end - (end - self) (1 - weight) where
    |weight| >= 1/2 (exact at weight = 1);  d/dself = 1 - weight, d/dend = weight, d/dweight = end - self."""
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a Tensor, got {type(end).__name__}")
    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and other.dtype != self.dtype and (name == "end" or other.ndim):
            raise RuntimeError(f"lerp: expected dtype {self.dtype} for `{name}` but got dtype {other.dtype}")
    if self.dtype.kind != "f":
        raise TypeError(f"lerp: needs floating-point tensors, got {self.dtype} (as in PyTorch)")
    diff = end - self
    if not isinstance(weight, Tensor):
        return self + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
    small = np.abs(weight._data) < 0.5
    return Where.apply(self + weight * diff, end - diff * (1 - weight), condition=small)


def _no_integer_zero(op, a, b):
    """Integer division by zero has no value: PyTorch raises (ZeroDivisionError), NumPy would give 0.
    Nor has a division of bools (PyTorch has no such kernel)."""
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        raise TypeError(f"{op}: not implemented for bool tensors")
    if b.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor of dtype {b.dtype}, shape {b.shape})")


def floor_divide(a, b):
    """floor(a / b), elementwise (PyTorch's `//`, rounding toward -inf), in the operands' PyTorch
    result type (`int // int` stays integer); not differentiable: the result never requires grad
    (its derivative is 0 wherever it exists)."""
    a, b = promoted((a, b), False)
    a, b = as_tensor(a, like=(b,)), as_tensor(b, like=(a,))
    _broadcast("floor_divide", a, b)
    _no_integer_zero("floor_divide", a._data, b._data)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor._wrap(np.asarray(backend.active.floor_divide(a._data, b._data)), False)


class ClampBounds(Function):
    """y = min(max(x, lo), hi) with tensor bounds;  dy/dx = 1 where lo <= x <= hi, dy/dlo = 1 where
    x < lo < hi, dy/dhi = 1 where max(x, lo) > hi (an absent bound is +-inf). At x < lo = hi neither
    bound gets the gradient, as in PyTorch."""

    __slots__ = ('x', 'lo', 'hi')
    differentiable = True
    promotes = "common"
    constants = ('x', 'lo', 'hi')  # only which bound is active

    def forward(self, x, lo, hi):
        _broadcast("clamp", x, np.empty(_broadcast("clamp", lo, hi)))
        self.x, self.lo, self.hi = x, lo, hi
        return backend.active.minimum(backend.active.maximum(x, lo), hi)

    def backward(self, g):
        x, lo, hi, zero, where = self.x, self.lo, self.hi, np.zeros((), g.dtype), backend.active.where
        return (where((x >= lo) & (x <= hi), g, zero), where((x < lo) & (lo < hi), g, zero),
                where(np.maximum(x, lo) > hi, g, zero))


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """min(max(x, min), max) elementwise; each bound a number, a tensor or None (open)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        if x.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
            x = x.to(get_default_dtype())  # an integer tensor clamped to a float bound is float (PyTorch)
        return Clip.apply(x, lo=min, hi=max)
    # an open bound is a Python number that ClampBounds.apply gives x's dtype (as `x * 2.0` does):
    # -inf or inf, or the ends of x's own integer (or bool) type, so the clamp keeps x's dtype (PyTorch)
    if x.dtype.kind == "f":
        low, high = -np.inf, np.inf
    else:
        low, high = (False, True) if x.dtype == np.bool_ else (np.iinfo(x.dtype).min, np.iinfo(x.dtype).max)
    return ClampBounds.apply(x, low if min is None else min, high if max is None else max)
