"""Elementwise functions of one tensor that PyTorch has beyond exp/log/sqrt/abs: trigonometric and
hyperbolic, exp2/log2/log1p/expm1/erf, rsqrt/reciprocal, and the roundings (zero gradient).
Each is a kernel name of the backend and its derivative, written as dy/dx of x and y."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..dtypes import get_default_dtype
from .derivatives import astype

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_LN2 = float(np.log(2.0))


class Unary(Function):
    """y = f(x) for f the backend kernel `kernel`;  dL/dx = g f'(x), with f' from `derivative(x, y)`.
    An integer tensor is computed in PyTorch's default dtype (float32), but by the functions whose
    values are integers (`integer_valued`: the roundings and sign), which keep its dtype (PyTorch)."""

    __slots__ = ('x', 'y')
    exact_gradients = True
    differentiable = True
    outputs = ('y',)
    kernel = None
    integer_valued = False

    def forward(self, x):
        if x.dtype == np.bool_ and self.integer_valued:
            raise TypeError(f"{self.kernel}: not implemented for bool tensors (as in PyTorch)")
        if x.dtype.kind != "f" and not (self.integer_valued and np.issubdtype(x.dtype, np.integer)):
            x = x.astype(get_default_dtype())
        self.x, self.y = x, getattr(backend.active, self.kernel)(x)
        return self.y

    def backward(self, g):
        B = backend.active
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return B.multiply(g, astype(self.derivative(B, self.x, self.y), g.dtype))

    def derivative(self, B, x, y):
        """f'(x) from x and y = f(x), through the kernels B (arrays, or Tensors under create_graph)."""
        raise NotImplementedError


def _zero(B, x, y):
    return np.zeros(np.shape(x), dtype=np.asarray(x).dtype)  # a constant, under create_graph too


def _unary(name, kernel, formula, derivative):
    """A Unary subclass `name` running `kernel`, with the docstring `formula` and f'(x, y)."""
    return type(name, (Unary,), {"__slots__": (), "kernel": kernel, "__doc__": formula,
                                 "derivative": lambda self, B, x, y: derivative(B, x, y)})


Sin = _unary("Sin", "sin", "y = sin x;  dy/dx = cos x.", lambda B, x, y: B.cos(x))
Cos = _unary("Cos", "cos", "y = cos x;  dy/dx = -sin x.", lambda B, x, y: B.negative(B.sin(x)))
Tan = _unary("Tan", "tan", "y = tan x;  dy/dx = 1 + y^2.", lambda B, x, y: 1 + y * y)
Sinh = _unary("Sinh", "sinh", "y = sinh x;  dy/dx = cosh x.", lambda B, x, y: B.cosh(x))
Cosh = _unary("Cosh", "cosh", "y = cosh x;  dy/dx = sinh x.", lambda B, x, y: B.sinh(x))
Asin = _unary("Asin", "arcsin", "y = asin x;  dy/dx = 1 / sqrt(1 - x^2).", lambda B, x, y: 1 / B.sqrt(1 - x * x))
Acos = _unary("Acos", "arccos", "y = acos x;  dy/dx = -1 / sqrt(1 - x^2).", lambda B, x, y: -1 / B.sqrt(1 - x * x))
Atan = _unary("Atan", "arctan", "y = atan x;  dy/dx = 1 / (1 + x^2).", lambda B, x, y: 1 / (1 + x * x))
Exp2 = _unary("Exp2", "exp2", "y = 2^x;  dy/dx = y ln 2.", lambda B, x, y: y * _LN2)
Log2 = _unary("Log2", "log2", "y = log2 x;  dy/dx = 1 / (x ln 2).", lambda B, x, y: 1 / (x * _LN2))
Log1p = _unary("Log1p", "log1p", "y = ln(1 + x);  dy/dx = 1 / (1 + x).", lambda B, x, y: 1 / (1 + x))
Expm1 = _unary("Expm1", "expm1", "y = e^x - 1;  dy/dx = y + 1.", lambda B, x, y: y + 1)
Erf = _unary("Erf", "erf", "y = erf x;  dy/dx = (2 / sqrt(pi)) e^(-x^2).", lambda B, x, y: _TWO_OVER_SQRT_PI * B.exp(-x * x))
Floor = _unary("Floor", "floor", "y = floor x;  dy/dx = 0.", _zero)
Ceil = _unary("Ceil", "ceil", "y = ceil x;  dy/dx = 0.", _zero)
Round = _unary("Round", "round", "y = x rounded to the nearest integer, halves to even;  dy/dx = 0.",
               _zero)
Trunc = _unary("Trunc", "trunc", "y = x rounded toward 0;  dy/dx = 0.", _zero)


class Sign(_unary("_Sign", "sign", "", _zero)):
    """y = sign x (-1, 0 or 1; 0 at NaN, as PyTorch; a bool tensor is its own sign);  dy/dx = 0."""

    __slots__ = ()

    def forward(self, x):
        if x.dtype == np.bool_:
            self.x = self.y = x.copy()
            return self.y
        y = super().forward(x)
        if y.dtype.kind == "f":
            nan = np.isnan(self.x)
            if nan.any():
                self.y = y = backend.active.where(nan, np.zeros((), y.dtype), y)
        return y


for _integer_valued in (Floor, Ceil, Round, Trunc, Sign):
    _integer_valued.integer_valued = True
UNARY = {"sin": Sin, "cos": Cos, "tan": Tan, "sinh": Sinh, "cosh": Cosh, "asin": Asin, "acos": Acos, "atan": Atan,
         "exp2": Exp2, "log2": Log2, "log1p": Log1p, "expm1": Expm1, "erf": Erf,
         "floor": Floor, "ceil": Ceil, "round": Round, "trunc": Trunc, "sign": Sign}
