"""PyTorch's names and arguments for the special functions of ops/special.py, and the elementwise
functions written from other ops: the torch.<name> functions and Tensor methods lgamma, digamma,
polygamma, mvlgamma, erfc, erfinv, logit, xlogy, sinc, i0, hypot, logaddexp, logaddexp2, heaviside,
nextafter, copysign, ldexp, float_power, deg2rad, rad2deg, sgn, nan_to_num, signbit, isneginf,
isposinf (and the methods isclose, allclose); their in-place forms (`x.lgamma_()`); and the
functions only torch.special has (ndtr, ndtri, log_ndtr, i0e, i1, i1e, entr, xlog1py), which
tinynn/special/__init__.py exports. tinynn/__init__.py installs FUNCTIONS and METHODS."""
import math

import numpy as np

from ..creation import tensor
from ..dtypes import get_default_dtype
from ..ops import logical
from ..ops.inplace import inplace
from ..ops.shape import Where
from ..ops.special import BINARY_SPECIAL, UNARY_SPECIAL, Heaviside, Polygamma
from ..tensor import Tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else tensor(x)


def _floating(x):
    """x as a Tensor, an integer or bool one in the default float dtype (PyTorch's unary float ops)."""
    x = _tensor(x)
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


def _unary(cls):
    def function(input):  # noqa: A002 - PyTorch's argument name
        return cls.apply(input)
    function.__name__ = function.__qualname__ = cls.kernel
    function.__doc__ = cls.__doc__
    return function


def _binary(cls):
    def function(input, other):  # noqa: A002
        return cls.apply(input, other)
    function.__name__ = function.__qualname__ = cls.kernel
    function.__doc__ = cls.__doc__
    return function


SPECIAL = {name: _unary(cls) for name, cls in UNARY_SPECIAL.items()}  # lgamma, ..., ndtr, i0e, entr
SPECIAL.update({name: _binary(cls) for name, cls in BINARY_SPECIAL.items()})  # xlogy, hypot, ...


def polygamma(n, input):  # noqa: A002
    """psi^(n)(x), the n-th derivative of digamma (n >= 0); d/dx psi^(n)(x) = psi^(n+1)(x)."""
    return Polygamma.apply(input, n=n)


def mvlgamma(input, p):  # noqa: A002
    """ln Gamma_p(x) = p (p - 1) / 4 ln pi + sum_{i=0..p-1} ln Gamma(x - i/2), the multivariate
    log-gamma function (of the Wishart distribution); its gradient is the sum of the digammas."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be an integer greater than or equal to 1, got {p!r}")
    x = _floating(input)
    halves = Tensor._wrap(np.arange(p, dtype=x.dtype) / 2, False)
    return SPECIAL["lgamma"](x.unsqueeze(-1) - halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def logit(input, eps=None):  # noqa: A002
    """ln(z / (1 - z)), z = x clamped to [eps, 1 - eps] when eps is given (then the gradient is 0
    outside that interval, as PyTorch's); without eps -inf at 0, inf at 1, NaN outside [0, 1]."""
    x = _floating(input)
    return SPECIAL["logit"](x if eps is None else x.clamp(eps, 1 - eps))


def heaviside(input, values):  # noqa: A002
    """H(x) = 0 for x < 0, values at x = 0, 1 for x > 0 (two tensors of one dtype); no gradient."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside: values must be a Tensor, got {type(values).__name__}")
    return Heaviside.apply(_tensor(input), values)


def ldexp(input, other):  # noqa: A002
    """x 2^other, differentiable in both (an integer `other` taken in x's float dtype, which the result keeps)."""
    x, other = _floating(input), _tensor(other)
    return x * 2.0 ** (other if other.dtype.kind == "f" else other.to(x.dtype))


def float_power(input, exponent):  # noqa: A002
    """x^exponent in float64, whatever the operands' dtypes (PyTorch's float_power)."""
    exponent = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return _tensor(input).double() ** exponent


def deg2rad(input):  # noqa: A002
    """x pi / 180."""
    return _floating(input) * (math.pi / 180)


def rad2deg(input):  # noqa: A002
    """x 180 / pi."""
    return _floating(input) * (180 / math.pi)


def sgn(input):  # noqa: A002
    """sign(x) for a real tensor (x / |x| for a complex one in PyTorch; tinynn has no complex dtype)."""
    return _tensor(input).sign()


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """x with NaN, +inf and -inf replaced by nan, posinf and neginf (by default 0 and the dtype's
    largest and lowest finite values); the gradient passes where x is finite and is 0 elsewhere."""
    x = _tensor(input)
    if x.dtype.kind != "f":
        return x.clone()
    data, info = x._data, np.finfo(x.dtype)
    fill = np.where(np.isnan(data), nan, np.where(data > 0, info.max if posinf is None else posinf,
                                                  info.min if neginf is None else neginf)).astype(x.dtype)
    return Where.apply(x, Tensor._wrap(fill, False), condition=np.isfinite(data))


def _mask(name, floats, otherwise):
    def function(input):  # noqa: A002
        data = _tensor(input)._data
        return Tensor._wrap(floats(data) if data.dtype.kind == "f" else otherwise(data), False)
    function.__name__ = function.__qualname__ = name
    return function


signbit = _mask("signbit", np.signbit, lambda a: a < 0 if a.dtype.kind == "i" else np.zeros(a.shape, bool))
signbit.__doc__ = "True where the sign bit of x is set (-0.0 and -NaN too); a bool tensor."
isposinf = _mask("isposinf", lambda a: a == np.inf, lambda a: np.zeros(a.shape, bool))
isposinf.__doc__ = "x == +inf; a bool tensor."
isneginf = _mask("isneginf", lambda a: a == -np.inf, lambda a: np.zeros(a.shape, bool))
isneginf.__doc__ = "x == -inf; a bool tensor."

FUNCTIONS = {name: SPECIAL[name] for name in ("lgamma", "digamma", "erfc", "erfinv", "sinc", "i0", "xlogy", "hypot",
                                              "logaddexp", "logaddexp2", "copysign", "nextafter")}
FUNCTIONS.update(polygamma=polygamma, mvlgamma=mvlgamma, logit=logit, heaviside=heaviside, ldexp=ldexp,
                 float_power=float_power, deg2rad=deg2rad, rad2deg=rad2deg, sgn=sgn, nan_to_num=nan_to_num,
                 signbit=signbit, isposinf=isposinf, isneginf=isneginf)


def _float_power_(self, exponent):
    if self.dtype != np.float64:
        raise RuntimeError(f"float_power_: the result is float64 but the tensor is {self.dtype} (as in PyTorch)")
    return inplace(self, "float_power_", lambda s: float_power(s, exponent))


def _inplace(name):
    def method(self, *args, **kwargs):
        return inplace(self, name + "_", lambda s: FUNCTIONS[name](s, *args, **kwargs))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"self <- {name}(self, ...)."
    return method


METHODS = {name: FUNCTIONS[name] for name in FUNCTIONS}
METHODS.update(polygamma=lambda self, n: polygamma(n, self), isclose=logical.isclose, allclose=logical.allclose)
METHODS.update({name + "_": _inplace(name) for name in (
    "lgamma", "digamma", "erfc", "erfinv", "sinc", "i0", "xlogy", "hypot", "nextafter", "copysign", "mvlgamma",
    "logit", "heaviside", "ldexp", "deg2rad", "rad2deg", "sgn", "nan_to_num")})
METHODS.update(polygamma_=lambda self, n: inplace(self, "polygamma_", lambda s: polygamma(n, s)),
               float_power_=_float_power_)
