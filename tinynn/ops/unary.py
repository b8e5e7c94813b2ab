"""Elementwise functions of one tensor that PyTorch has beyond exp/log/sqrt/abs: trigonometric and
hyperbolic, exp2/log2/log1p/expm1/erf, rsqrt/reciprocal, and the roundings (zero gradient).
Each is a kernel name of the backend and its derivative, written as dy/dx of x and y."""
import numpy as np

from ..autograd.function import Function
from .. import backend

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_LN2 = float(np.log(2.0))


class Unary(Function):
    """y = f(x) for f the backend kernel `kernel`;  dL/dx = g f'(x), with f' from `derivative(x, y)`.
    An integer tensor is computed in float32, PyTorch's default dtype."""

    __slots__ = ('x', 'y')
    exact_gradients = True
    kernel = None

    def forward(self, x):
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self.x, self.y = x, getattr(backend.active, self.kernel)(x)
        return self.y

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return backend.active.multiply(g, self.derivative(self.x, self.y).astype(g.dtype, copy=False))

    def derivative(self, x, y):
        raise NotImplementedError


def _unary(name, kernel, formula, derivative):
    """A Unary subclass `name` running `kernel`, with the docstring `formula` and f'(x, y)."""
    return type(name, (Unary,), {"__slots__": (), "kernel": kernel, "__doc__": formula,
                                 "derivative": lambda self, x, y: derivative(x, y)})


Sin = _unary("Sin", "sin", "y = sin x;  dy/dx = cos x.", lambda x, y: np.cos(x))
Cos = _unary("Cos", "cos", "y = cos x;  dy/dx = -sin x.", lambda x, y: -np.sin(x))
Tan = _unary("Tan", "tan", "y = tan x;  dy/dx = 1 + y^2.", lambda x, y: 1 + y * y)
Sinh = _unary("Sinh", "sinh", "y = sinh x;  dy/dx = cosh x.", lambda x, y: np.cosh(x))
Cosh = _unary("Cosh", "cosh", "y = cosh x;  dy/dx = sinh x.", lambda x, y: np.sinh(x))
Asin = _unary("Asin", "arcsin", "y = asin x;  dy/dx = 1 / sqrt(1 - x^2).", lambda x, y: 1 / np.sqrt(1 - x * x))
Acos = _unary("Acos", "arccos", "y = acos x;  dy/dx = -1 / sqrt(1 - x^2).", lambda x, y: -1 / np.sqrt(1 - x * x))
Atan = _unary("Atan", "arctan", "y = atan x;  dy/dx = 1 / (1 + x^2).", lambda x, y: 1 / (1 + x * x))
Exp2 = _unary("Exp2", "exp2", "y = 2^x;  dy/dx = y ln 2.", lambda x, y: y * _LN2)
Log2 = _unary("Log2", "log2", "y = log2 x;  dy/dx = 1 / (x ln 2).", lambda x, y: 1 / (x * _LN2))
Log1p = _unary("Log1p", "log1p", "y = ln(1 + x);  dy/dx = 1 / (1 + x).", lambda x, y: 1 / (1 + x))
Expm1 = _unary("Expm1", "expm1", "y = e^x - 1;  dy/dx = y + 1.", lambda x, y: y + 1)
Erf = _unary("Erf", "erf", "y = erf x;  dy/dx = (2 / sqrt(pi)) e^(-x^2).", lambda x, y: _TWO_OVER_SQRT_PI * np.exp(-x * x))
Floor = _unary("Floor", "floor", "y = floor x;  dy/dx = 0.", lambda x, y: np.zeros_like(x))
Ceil = _unary("Ceil", "ceil", "y = ceil x;  dy/dx = 0.", lambda x, y: np.zeros_like(x))
Round = _unary("Round", "round", "y = x rounded to the nearest integer, halves to even;  dy/dx = 0.",
               lambda x, y: np.zeros_like(x))
Trunc = _unary("Trunc", "trunc", "y = x rounded toward 0;  dy/dx = 0.", lambda x, y: np.zeros_like(x))
Sign = _unary("Sign", "sign", "y = sign x (-1, 0 or 1);  dy/dx = 0.", lambda x, y: np.zeros_like(x))
UNARY = {"sin": Sin, "cos": Cos, "tan": Tan, "sinh": Sinh, "cosh": Cosh, "asin": Asin, "acos": Acos, "atan": Atan,
         "exp2": Exp2, "log2": Log2, "log1p": Log1p, "expm1": Expm1, "erf": Erf,
         "floor": Floor, "ceil": Ceil, "round": Round, "trunc": Trunc, "sign": Sign}
