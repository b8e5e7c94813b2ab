"""PyTorch's elementwise functions that need kernels of their own: acosh/asinh/atanh, atan2, the NaN-ignoring
fmax/fmin and frexp's mantissa, each an op with its derivative beside it. (The compositions of existing ops
-- addcmul, dist, cov, histogram, ... -- are tinynn/math_extras/, outside the core.)"""
import numpy as np

from ..autograd.function import Function
from .. import backend
from .pairwise import _broadcast
from .unary import _unary

Acosh = _unary("Acosh", "arccosh", "y = acosh x = ln(x + sqrt(x^2 - 1));  dy/dx = 1 / sqrt(x^2 - 1).",
               lambda B, x, y: 1 / B.sqrt(x * x - 1))
Asinh = _unary("Asinh", "arcsinh", "y = asinh x = ln(x + sqrt(x^2 + 1));  dy/dx = 1 / sqrt(x^2 + 1).",
               lambda B, x, y: 1 / B.sqrt(x * x + 1))
Atanh = _unary("Atanh", "arctanh", "y = atanh x = ln((1 + x) / (1 - x)) / 2;  dy/dx = 1 / (1 - x^2).",
               lambda B, x, y: 1 / (1 - x * x))


class Atan2(Function):
    """z = atan2(a, b), the angle of the point (b, a) in [-pi, pi];  dz/da = b / (a^2 + b^2),
    dz/db = -a / (a^2 + b^2). Integers are computed in the default float dtype."""

    __slots__ = ('a', 'b')
    promotes = "float"
    differentiable = True

    def forward(self, a, b):
        _broadcast("atan2", a, b)
        self.a, self.b = a, b
        return backend.active.arctan2(a, b)

    def backward(self, g):
        B = backend.active
        with np.errstate(divide="ignore", invalid="ignore"):
            r = B.divide(g, B.add(B.multiply(self.a, self.a), B.multiply(self.b, self.b)))
            return B.multiply(r, self.b), B.negative(B.multiply(r, self.a))


class _NanIgnoring(Function):
    """z = fmax(a, b) (fmin): max(a, b) (min), the number where one of a, b is NaN, NaN where both are;
    the gradient goes to a where a >= b (a <= b) or b is NaN, else to b (a tie goes to a, as PyTorch's)."""

    __slots__ = ('to_a',)
    differentiable = True
    promotes = "common"
    kernel = None

    def forward(self, a, b):
        _broadcast(self.kernel, a, b)
        with np.errstate(invalid="ignore"):
            self.to_a = (a >= b) if self.kernel == "fmax" else (a <= b)
        if b.dtype.kind == "f":
            self.to_a = self.to_a | np.isnan(b)
        return getattr(backend.active, self.kernel)(a, b)

    def backward(self, g):
        zero, where = np.zeros((), g.dtype), backend.active.where
        return where(self.to_a, g, zero), where(self.to_a, zero, g)


FMax = type("FMax", (_NanIgnoring,), {"__slots__": (), "kernel": "fmax", "__doc__": _NanIgnoring.__doc__})
FMin = type("FMin", (_NanIgnoring,), {"__slots__": (), "kernel": "fmin", "__doc__": _NanIgnoring.__doc__})


class Frexp(Function):
    """m with x = m 2^e, 1/2 <= |m| < 1 and e an integer (m = x, e = 0 at 0, inf, NaN);  dm/dx = 2^-e (e is
    piecewise constant)."""

    __slots__ = ('scale',)
    differentiable = True
    exact_gradients = True
    constants = ('scale',)

    def forward(self, x):
        B = backend.active
        mantissa, exponent = B.frexp(x)
        with np.errstate(over="ignore"):
            self.scale = B.exp2(B.negative(exponent).astype(x.dtype))
        return mantissa

    def backward(self, g):
        return backend.active.multiply(g, self.scale.astype(g.dtype))


def _op_method(cls):
    def method(self, *args):
        return cls.apply(self, *args)
    method.__doc__ = cls.__doc__
    return method


METHODS = {name: _op_method(cls) for names, cls in (
    (("acosh", "arccosh"), Acosh), (("asinh", "arcsinh"), Asinh), (("atanh", "arctanh"), Atanh),
    (("atan2", "arctan2"), Atan2), (("fmax",), FMax), (("fmin",), FMin)) for name in names}
FUNCTION_NAMES = tuple(METHODS)  # torch.<name>(input, ...) = input.<name>(...)
