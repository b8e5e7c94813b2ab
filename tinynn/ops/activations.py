"""Activations beyond relu/sigmoid/tanh, with PyTorch's formulas, defaults and subgradients at the
kinks: leaky_relu, silu, elu, softplus, hardtanh. Each is one backend kernel and its derivative."""
from ..autograd.function import Function
from .. import backend


class LeakyReLU(Function):
    """y = x for x > 0, s x otherwise;  dy/dx = 1 for x > 0, s for x <= 0 (s at 0, as PyTorch)."""

    __slots__ = ('x', 'slope')
    promotes = "float"
    exact_gradients = True

    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        return backend.active.leaky_relu(x, negative_slope)

    def backward(self, g):
        return backend.active.leaky_relu_backward(self.x, g, self.slope)


class SiLU(Function):
    """y = x sigmoid(x) (swish);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x)."""

    __slots__ = ('x',)
    promotes = "float"
    exact_gradients = True

    def forward(self, x):
        self.x = x
        return backend.active.silu(x)

    def backward(self, g):
        return backend.active.silu_backward(self.x, g)


class ELU(Function):
    """y = x for x > 0, alpha (e^x - 1) otherwise;  dy/dx = 1 for x > 0, alpha e^x for x <= 0."""

    __slots__ = ('x', 'alpha')
    promotes = "float"
    exact_gradients = True

    def forward(self, x, alpha=1.0):
        self.x, self.alpha = x, alpha
        return backend.active.elu(x, alpha)

    def backward(self, g):
        return backend.active.elu_backward(self.x, g, self.alpha)


class Softplus(Function):
    """y = ln(1 + e^(beta x)) / beta, and y = x where beta x > threshold (PyTorch's linear regime);
    dy/dx = sigmoid(beta x), and 1 where beta x > threshold."""

    __slots__ = ('x', 'beta', 'threshold')
    promotes = "float"
    exact_gradients = True

    def forward(self, x, beta=1.0, threshold=20.0):
        if beta == 0:
            raise ValueError("softplus: beta must be nonzero (the formula divides by it)")
        self.x, self.beta, self.threshold = x, beta, threshold
        return backend.active.softplus(x, beta, threshold)

    def backward(self, g):
        return backend.active.softplus_backward(self.x, g, self.beta, self.threshold)


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val);  dy/dx = 1 for min_val < x < max_val, else 0 (also at the
    bounds, as PyTorch)."""

    __slots__ = ('x', 'bounds')
    promotes = "float"
    exact_gradients = True

    def forward(self, x, min_val=-1.0, max_val=1.0):
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.x, self.bounds = x, (min_val, max_val)
        return backend.active.hardtanh(x, min_val, max_val)

    def backward(self, g):
        return backend.active.hardtanh_backward(self.x, g, *self.bounds)
