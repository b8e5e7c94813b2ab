"""Elementwise functions and their derivatives."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from .derivatives import astype


class Exp(Function):
    """y = e^x;  dy/dx = y."""

    __slots__ = ('y',)
    promotes = "float"
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x):
        self.y = backend.active.exp(x)
        return self.y

    def backward(self, g):
        return backend.active.multiply(g, self.y)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x.  ln 0 = -inf, as in NumPy."""

    __slots__ = ('x',)
    promotes = "float"
    exact_gradients = True
    differentiable = True

    def forward(self, x):
        self.x = x
        return backend.active.log(x)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.active.divide(g, self.x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    __slots__ = ('y',)
    promotes = "float"
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x):
        self.y = backend.active.sqrt(x)
        return self.y

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.active.divide(g, 2 * self.y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0, as in PyTorch)."""

    __slots__ = ('x',)
    exact_gradients = True
    differentiable = True

    def forward(self, x):
        self.x = x
        return backend.active.absolute(x)

    def backward(self, g):
        return backend.active.multiply(g, backend.active.sign(self.x))


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (PyTorch's clamp rule)."""

    __slots__ = ('x', 'lo', 'hi')
    differentiable = True
    constants = ('x',)

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clamp: at least one of min and max must be given")
        self.x, self.lo, self.hi = x, lo, hi
        return backend.active.clip(x, lo, hi)

    def backward(self, g):
        inside = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.x >= self.lo
        if self.hi is not None:
            inside &= self.x <= self.hi
        return backend.active.where(inside, g, np.zeros((), g.dtype))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 for x > 0 and 0 otherwise (relu'(0) = 0, as in PyTorch). The mask
    x > 0 is read from y > 0, so, as in PyTorch, only the output is saved (x may change in place)."""

    __slots__ = ('y',)
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x):
        self.y = backend.active.relu(x)
        return self.y

    def backward(self, g):
        return backend.active.relu_backward(self.y, g)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).  Stable for |x| up to float max."""

    __slots__ = ('y',)
    promotes = "float"
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x):
        self.y = backend.active.sigmoid(x)
        return self.y

    def backward(self, g):
        return backend.active.sigmoid_backward(self.y, g)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""

    __slots__ = ('y',)
    promotes = "float"
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x):
        self.y = backend.active.tanh(x)
        return self.y

    def backward(self, g):
        return backend.active.tanh_backward(self.y, g)


class Cast(Function):
    """y = x as another float dtype;  dy/dx = 1 (the gradient is cast back)."""

    __slots__ = ('dtype',)
    exact_gradients = True
    differentiable = True

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return astype(g, self.dtype)
