"""GELU, the Gaussian error linear unit (Hendrycks and Gimpel, 2016), exact and tanh forms."""
from ..autograd.function import Function
from .. import backend

APPROXIMATIONS = ("none", "tanh")


class GELU(Function):
    """y = x Phi(x) (approximate="none"), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    (approximate="tanh");  dy/dx = Phi(x) + x phi(x), or the tanh form's derivative
    (reference_attention.gelu_backward writes it out)."""

    __slots__ = ('x', 'approximate')
    promotes = "float"
    exact_gradients = True
    differentiable = True  # create_graph: gelu_backward is a composite of ops (ops/differentiable.py)

    def forward(self, x, approximate="none"):
        if approximate not in APPROXIMATIONS:
            raise ValueError(f"gelu: approximate must be one of {APPROXIMATIONS}, got {approximate!r}")
        self.x, self.approximate = x, approximate
        return backend.active.gelu(x, approximate)

    def backward(self, g):
        return backend.active.gelu_backward(self.x, g, self.approximate)
