"""Activations beyond relu/sigmoid/tanh, with PyTorch's formulas and subgradients at the kinks:
leaky_relu, silu, elu, softplus, hardtanh. Each is a backend kernel `name(x, **params)` and its
derivative `name_backward(x, grad, **params)` (the formulas and kink choices are written there,
in tinynn/backend/reference.py); tinynn.nn.functional checks the parameters and gives the defaults."""
from ..autograd.function import Function
from .. import backend


class Activation(Function):
    """y = f(x; params) with the kernel `kernel`;  dL/dx = g f'(x; params) with `kernel`_backward."""

    __slots__ = ('x', 'params')
    promotes = "float"
    exact_gradients = True
    differentiable = True  # create_graph: each `kernel`_backward is a composite of ops (ops/differentiable.py)
    kernel = None

    def forward(self, x, **params):
        self.x, self.params = x, params
        return getattr(backend.active, self.kernel)(x, **params)

    def backward(self, g):
        return getattr(backend.active, self.kernel + "_backward")(self.x, g, **self.params)


def _activation(name, kernel, formula):
    return type(name, (Activation,), {"__slots__": (), "kernel": kernel, "__doc__": formula})


LeakyReLU = _activation("LeakyReLU", "leaky_relu", "y = x for x > 0, s x otherwise;  dy/dx = 1 for x > 0, "
                        "s for x <= 0 (s at 0, as PyTorch). Option: negative_slope = s.")
SiLU = _activation("SiLU", "silu", "y = x sigmoid(x) (swish);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x).")
ELU = _activation("ELU", "elu", "y = x for x > 0, alpha (e^x - 1) otherwise;  dy/dx = 1 for x > 0, "
                  "alpha e^x for x <= 0. Option: alpha.")
Softplus = _activation("Softplus", "softplus", "y = ln(1 + e^(beta x)) / beta, and x where beta x > threshold "
                       "(PyTorch's linear regime);  dy/dx = sigmoid(beta x), and 1 there. Options: beta, threshold.")
Hardtanh = _activation("Hardtanh", "hardtanh", "y = min(max(x, min_val), max_val);  dy/dx = 1 for "
                       "min_val < x < max_val, else 0 (at the bounds too, as PyTorch). Options: min_val, max_val.")
