"""The GELU activation as a module."""
from . import functional as F
from .module import Module


class GELU(Module):
    """y = x Phi(x), Phi the standard normal CDF (approximate="none"), or
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")
    (Hendrycks and Gimpel, 2016, "Gaussian Error Linear Units")."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"
