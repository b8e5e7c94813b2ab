"""Elementwise functions and their derivatives."""
import numpy as np

from ..autograd import Function
from ..backend import current as backend


class Exp(Function):
    """y = e^x;  dy/dx = y."""

    def forward(self, x):
        self.y = backend().exp(x)
        return self.y

    def backward(self, g):
        return backend().multiply(g, self.y)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x.  ln 0 = -inf, as in NumPy."""

    def forward(self, x):
        self.x = x
        return backend().log(x)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend().divide(g, self.x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    def forward(self, x):
        self.y = backend().sqrt(x)
        return self.y

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend().divide(g, 2 * self.y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0, as in PyTorch)."""

    def forward(self, x):
        self.x = x
        return backend().absolute(x)

    def backward(self, g):
        return backend().multiply(g, backend().sign(self.x))


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (PyTorch's clamp rule)."""

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("Clip: at least one of min and max must be given")
        self.x, self.lo, self.hi = x, lo, hi
        return backend().clip(x, lo, hi)

    def backward(self, g):
        inside = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.x >= self.lo
        if self.hi is not None:
            inside &= self.x <= self.hi
        return backend().where(inside, g, 0).astype(g.dtype, copy=False)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 for x > 0 and 0 otherwise (relu'(0) = 0, as in PyTorch)."""

    def forward(self, x):
        self.x = x
        return backend().relu(x)

    def backward(self, g):
        return backend().relu_backward(self.x, g)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).  Stable for |x| up to float max."""

    def forward(self, x):
        self.y = backend().sigmoid(x)
        return self.y

    def backward(self, g):
        return backend().sigmoid_backward(self.y, g)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""

    def forward(self, x):
        self.y = backend().tanh(x)
        return self.y

    def backward(self, g):
        return backend().tanh_backward(self.y, g)


class Cast(Function):
    """y = x as another float dtype;  dy/dx = 1 (the gradient is cast back)."""

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype)
