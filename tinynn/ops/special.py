"""The special functions as ops: the gamma family (lgamma, digamma, polygamma), the error-function
family (erfc, erfinv, ndtr, ndtri, log_ndtr), the Bessel functions I0, I1 (and e^-|x| scaled), sinc,
entr, logit, and the binary xlogy, xlog1py, hypot, logaddexp, logaddexp2, copysign, nextafter and
heaviside. Each is a backend kernel and its derivative, written once through `backend.active` so it
runs again on Tensors under create_graph (every order). tinynn/special/ gives them PyTorch's names."""
import math

import numpy as np

from ..autograd.function import Function
from ..dtypes import get_default_dtype
from .. import backend
from .array_or_tensor import values
from .unary import Unary, _unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LN2 = math.log(2.0)


def _at_zero(B, x, value, formula):
    """formula(xs), xs = x with 1 in place of 0, and `value` where x = 0: a derivative that divides
    by x and has the limit `value` there (a constant at 0, under create_graph too)."""
    zero = values(x) == 0
    if not zero.any():
        return formula(x)
    return B.where(zero, value, formula(B.where(zero, 1.0, x)))


def _logit_derivative(B, x, y):
    outside = (values(x) < 0) | (values(x) > 1)  # PyTorch: NaN off [0, 1]
    return B.where(outside, math.nan, 1 / (x * (1 - x)))


Lgamma = _unary("Lgamma", "lgamma", "y = ln |Gamma(x)|;  dy/dx = psi(x).", lambda B, x, y: B.digamma(x))
Digamma = _unary("Digamma", "digamma", "y = psi(x) = d/dx ln Gamma(x);  dy/dx = psi^(1)(x).",
                 lambda B, x, y: B.polygamma(1, x))
Erfc = _unary("Erfc", "erfc", "y = erfc x = 1 - erf x;  dy/dx = -(2 / sqrt(pi)) e^(-x^2).",
              lambda B, x, y: B.exp(-x * x) * -_TWO_OVER_SQRT_PI)
Erfinv = _unary("Erfinv", "erfinv", "y = erf^-1(x);  dy/dx = (sqrt(pi) / 2) e^(y^2).",
                lambda B, x, y: B.exp(y * y) * (1 / _TWO_OVER_SQRT_PI))
Ndtr = _unary("Ndtr", "ndtr", "y = Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dy/dx = phi(x) = e^(-x^2/2) / sqrt(2 pi).",
              lambda B, x, y: B.exp(x * x * -0.5 - _HALF_LOG_2PI))
Ndtri = _unary("Ndtri", "ndtri", "y = Phi^-1(x);  dy/dx = 1 / phi(y) = sqrt(2 pi) e^(y^2/2).",
               lambda B, x, y: B.exp(y * y * 0.5 + _HALF_LOG_2PI))
LogNdtr = _unary("LogNdtr", "log_ndtr", "y = ln Phi(x);  dy/dx = phi(x) / Phi(x) = e^(-x^2/2 - ln sqrt(2 pi) - y).",
                 lambda B, x, y: B.exp(x * x * -0.5 - _HALF_LOG_2PI - y))
I0 = _unary("I0", "i0", "y = I0(x), the modified Bessel function of order 0;  dy/dx = I1(x).", lambda B, x, y: B.i1(x))
I0e = _unary("I0e", "i0e", "y = e^-|x| I0(x);  dy/dx = e^-|x| I1(x) - sign(x) y.",
             lambda B, x, y: B.i1e(x) - y * B.sign(values(x)))
I1 = _unary("I1", "i1", "y = I1(x), the modified Bessel function of order 1;  dy/dx = I0(x) - y / x (1/2 at 0).",
            lambda B, x, y: _at_zero(B, x, 0.5, lambda xs: B.i0(x) - y / xs))
I1e = _unary("I1e", "i1e", "y = e^-|x| I1(x);  dy/dx = e^-|x| I0(x) - y (sign(x) + 1/x) (1/2 at 0).",
             lambda B, x, y: _at_zero(B, x, 0.5, lambda xs: B.i0e(x) - y * (B.sign(values(x)) + 1 / xs)))
Sinc = _unary("Sinc", "sinc", "y = sin(pi x) / (pi x) (1 at 0);  dy/dx = (cos(pi x) - y) / x (0 at 0).",
              lambda B, x, y: _at_zero(B, x, 0.0, lambda xs: (B.cos(x * math.pi) - y) / xs))
Entr = _unary("Entr", "entr", "y = -x ln x (0 at 0, -inf for x < 0);  dy/dx = -(1 + ln x).",
              lambda B, x, y: -(B.log(x) + 1))
Logit = _unary("Logit", "logit", "y = ln(x / (1 - x));  dy/dx = 1 / (x (1 - x)) (NaN off [0, 1], as PyTorch).",
               _logit_derivative)


class Polygamma(Unary):
    """y = psi^(n)(x), the n-th derivative of digamma (n >= 0);  dy/dx = psi^(n+1)(x)."""

    __slots__ = ('n',)
    kernel = "polygamma"

    def forward(self, x, n):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise RuntimeError(f"polygamma(n, x): n must be an integer >= 0, got {n!r}")
        x = x if x.dtype.kind == "f" else x.astype(get_default_dtype())
        self.n, self.x, self.y = int(n), x, backend.active.polygamma(int(n), x)
        return self.y

    def derivative(self, B, x, y):
        return B.polygamma(self.n + 1, x)


class _Binary(Function):
    """z = f(a, b) for the backend kernel `kernel`, broadcasting, the operands promoted as PyTorch's
    (integers to the default float dtype). `floating`: PyTorch has no integer kernel, so two integer
    or bool operands are a TypeError."""

    __slots__ = ('a', 'b', 'z', 'exact_gradients')
    differentiable = True
    promotes = "float"
    outputs = ('z',)
    kernel = None
    floating = False

    @classmethod
    def apply(cls, *inputs, **options):
        if cls.floating and not any(values(t).dtype.kind == "f" for t in inputs):
            raise TypeError(f"{cls.kernel}: not implemented for {' and '.join(str(values(t).dtype) for t in inputs)} "
                            "operands (as in PyTorch); pass a floating-point tensor")
        return super().apply(*inputs, **options)

    def forward(self, a, b):
        B = backend.active
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{self.kernel}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
        self.a, self.b, self.exact_gradients = a, b, B.same_layout(a, b)
        self.z = getattr(B, self.kernel)(a, b)
        return self.z

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            da, db = self.partials(backend.active, self.a, self.b, self.z)
        mul, needs = backend.active.multiply, self.needs_grad
        return (mul(g, da) if needs[0] else None), (mul(g, db) if needs[1] else None)

    def partials(self, B, a, b, z):
        """(dz/da, dz/db) from a, b and z = f(a, b)."""
        raise NotImplementedError


def _nonzero(a):
    """1 where a != 0, else 0, in a's dtype (a constant)."""
    return (values(a) != 0).astype(values(a).dtype)


class Xlogy(_Binary):
    """z = a ln b, 0 where a = 0 (unless b is NaN);  dz/da = xlogy(a != 0, b), dz/db = a / b (PyTorch's)."""

    __slots__ = ()
    kernel = "xlogy"

    def partials(self, B, a, b, z):
        return B.xlogy(_nonzero(a), b), a / b


class Xlog1py(_Binary):
    """z = a ln(1 + b), 0 where a = 0 (unless b is NaN);  dz/da = xlog1py(a != 0, b), dz/db = a / (1 + b)."""

    __slots__ = ()
    kernel = "xlog1py"

    def partials(self, B, a, b, z):
        return B.xlog1py(_nonzero(a), b), a / (b + 1)


class Hypot(_Binary):
    """z = sqrt(a^2 + b^2);  dz/da = a / z, dz/db = b / z."""

    __slots__ = ()
    kernel = "hypot"
    floating = True

    def partials(self, B, a, b, z):
        return a / z, b / z


class Logaddexp(_Binary):
    """z = ln(e^a + e^b);  dz/da = sigmoid(a - b), dz/db = sigmoid(b - a)."""

    __slots__ = ()
    kernel = "logaddexp"
    floating = True

    def partials(self, B, a, b, z):
        return B.sigmoid(a - b), B.sigmoid(b - a)


class Logaddexp2(_Binary):
    """z = log2(2^a + 2^b);  dz/da = sigmoid((a - b) ln 2), dz/db = sigmoid((b - a) ln 2)."""

    __slots__ = ()
    kernel = "logaddexp2"
    floating = True

    def partials(self, B, a, b, z):
        return B.sigmoid((a - b) * _LN2), B.sigmoid((b - a) * _LN2)


class Copysign(_Binary):
    """z = |a| with the sign of b;  dz/da = z / a (+-1; 0 at a = 0, NaN at a = +-inf, as PyTorch's), dz/db = 0."""

    __slots__ = ()
    kernel = "copysign"

    def partials(self, B, a, b, z):
        a, z = values(a), values(z)  # piecewise constant: constants under create_graph
        return B.where(a == 0, 0.0, B.divide(z, a)), _zeros(a, b)


class Nextafter(_Binary):
    """z = the float next to a toward b;  dz/da = [a != b], dz/db = 0 (PyTorch's)."""

    __slots__ = ()
    kernel = "nextafter"
    floating = True

    def partials(self, B, a, b, z):
        return (values(a) != values(b)).astype(values(a).dtype), _zeros(a, b)


def _zeros(a, b):
    """A zero gradient of the broadcast shape of a and b (a constant)."""
    return np.zeros(np.broadcast_shapes(np.shape(values(a)), np.shape(values(b))), values(a).dtype)


class Heaviside(Function):
    """z = 0 for x < 0, `values` at x = 0, 1 for x > 0, in their one dtype; no derivative (as in PyTorch)."""

    __slots__ = ()
    differentiable = True

    def forward(self, x, at_zero):
        if x.dtype != at_zero.dtype:
            raise RuntimeError(f"heaviside: input and values have different dtypes ({x.dtype} and {at_zero.dtype}); "
                               "PyTorch does not implement that")
        try:
            np.broadcast_shapes(x.shape, at_zero.shape)
        except ValueError:
            raise ValueError(f"heaviside: shapes {x.shape} and {at_zero.shape} cannot be broadcast together") from None
        return backend.active.heaviside(x, at_zero)

    def backward(self, g):
        raise RuntimeError("heaviside: the derivative is not implemented (as in PyTorch)")


UNARY_SPECIAL = {cls.kernel: cls for cls in (Lgamma, Digamma, Erfc, Erfinv, Ndtr, Ndtri, LogNdtr, I0, I0e, I1, I1e,
                                             Sinc, Entr, Logit)}
BINARY_SPECIAL = {cls.kernel: cls for cls in (Xlogy, Xlog1py, Hypot, Logaddexp, Logaddexp2, Copysign, Nextafter)}
# the kernels as recorded ops, for backend.active under create_graph (ops/differentiable.py)
SPECIAL = {name: cls.apply for name, cls in {**UNARY_SPECIAL, **BINARY_SPECIAL}.items()}
SPECIAL.update(polygamma=lambda n, x: Polygamma.apply(x, n=n), heaviside=Heaviside.apply)
