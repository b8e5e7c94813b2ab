"""Elementwise losses that need care at the edges (clamped logs, stable logits), as single nodes."""
from ..autograd.function import Function
from .. import backend


def _same_shape(op, x, t):
    if x.shape != t.shape:
        raise ValueError(f"{op}: target shape {t.shape} differs from input shape {x.shape}; they must match")


class BinaryCrossEntropy(Function):
    """l = -(t max(ln p, -100) + (1 - t) max(ln(1 - p), -100)), elementwise, p in [0, 1].

    dl/dp = (p - t) / max(p (1 - p), 1e-12),  dl/dt = max(ln(1 - p), -100) - max(ln p, -100)."""

    __slots__ = ('p', 't')
    differentiable = True  # create_graph: its backward kernel has an op (ops/differentiable.py)

    def forward(self, p, t):
        _same_shape("binary_cross_entropy", p, t)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(f"binary_cross_entropy: every input must be in [0, 1], got values in [{p.min()}, {p.max()}]")
        self.p, self.t = p, t
        return backend.active.binary_cross_entropy(p, t)

    def backward(self, g):
        gp, gt = backend.active.binary_cross_entropy_backward(self.p, self.t, g)
        return (gp if self.needs_grad[0] else None), (gt if self.needs_grad[1] else None)


class BinaryCrossEntropyWithLogits(Function):
    """l = max(x, 0) - x t + ln(1 + e^-|x|) = BCE(sigmoid(x), t) without overflow, elementwise.

    dl/dx = sigmoid(x) - t,  dl/dt = -x."""

    __slots__ = ('x', 't')
    differentiable = True  # create_graph: its backward kernel has an op (ops/differentiable.py)

    def forward(self, x, t):
        _same_shape("binary_cross_entropy_with_logits", x, t)
        self.x, self.t = x, t
        return backend.active.binary_cross_entropy_with_logits(x, t)

    def backward(self, g):
        gx, gt = backend.active.binary_cross_entropy_with_logits_backward(self.x, self.t, g)
        return (gx if self.needs_grad[0] else None), (gt if self.needs_grad[1] else None)
