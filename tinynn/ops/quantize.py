"""Fake quantization with the clipped straight-through estimator (quantization-aware training)."""
import numpy as np

from ..autograd.function import Function
from .. import backend


class FakeQuantize(Function):
    """y = s (clamp(round_half_even(x / s) + z, qmin, qmax) - z), s and z constants broadcast
    against x.  Clipped straight-through estimator: dL/dx = dL/dy where qmin <= round(x/s) + z <= qmax,
    0 outside (rounding counts as the identity, clipping as a constant)."""

    __slots__ = ('inside',)
    differentiable = True

    def forward(self, x, scale=1.0, zero_point=0, qmin=-128, qmax=127):
        if qmin > qmax:
            raise ValueError(f"FakeQuantize: qmin {qmin} > qmax {qmax}")
        y, self.inside = backend.active.fake_quantize(x, scale, zero_point, qmin, qmax)
        return y

    def backward(self, g):
        return backend.active.where(self.inside, g, np.zeros((), g.dtype))
