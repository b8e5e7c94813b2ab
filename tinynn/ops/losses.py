"""Elementwise losses that need care at the edges (clamped logs, stable logits), as single nodes,
and the class-index terms of NLL and cross-entropy with PyTorch's weights and ignore_index."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor


def _same_shape(op, x, t):
    if x.shape != t.shape:
        raise ValueError(f"{op}: target shape {t.shape} differs from input shape {x.shape}; they must match")


class BinaryCrossEntropy(Function):
    """l = -(t max(ln p, -100) + (1 - t) max(ln(1 - p), -100)), elementwise, p in [0, 1].

    dl/dp = (p - t) / max(p (1 - p), 1e-12),  dl/dt = max(ln(1 - p), -100) - max(ln p, -100)."""

    __slots__ = ('p', 't')

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

    def forward(self, x, t):
        _same_shape("binary_cross_entropy_with_logits", x, t)
        self.x, self.t = x, t
        return backend.active.binary_cross_entropy_with_logits(x, t)

    def backward(self, g):
        gx, gt = backend.active.binary_cross_entropy_with_logits_backward(self.x, self.t, g)
        return (gx if self.needs_grad[0] else None), (gt if self.needs_grad[1] else None)


def class_terms(op, logp, target, weight, ignore_index):
    """The per-sample terms of PyTorch's NLL loss on log-probabilities logp (N, C, d1, ...) and
    integer class indices target (N, d1, ...): (l, w) with w_n = weight[t_n] (1 without weights)
    and l_n = -w_n logp[n, t_n], both 0 where t_n == ignore_index. A differentiable Tensor l and a
    constant array w (so that a weighted mean is sum(l) / sum(w), as PyTorch divides)."""
    t = target._data
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    if logp.ndim < 2 or t.shape != logp.shape[:1] + logp.shape[2:]:
        expected = "(N, C) and target (N,)" if logp.ndim <= 2 else "(N, C, d1, ...) and target (N, d1, ...)"
        raise ValueError(f"{op}: expected {'logits' if op == 'cross_entropy' else 'input'} {expected}, "
                         f"got {logp.shape} and {t.shape}")
    c = logp.shape[1]
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"{op}: class index {t[bad][0]} is out of range for {c} classes")
    safe = np.where(keep, t, 0)
    w = np.ones(c, logp.dtype) if weight is None else class_weight(op, weight, c).astype(logp.dtype)
    wt = np.where(keep, w[safe], 0).astype(logp.dtype)
    picked = logp.gather(1, np.expand_dims(safe, 1)).reshape(t.shape)
    return -(picked * Tensor._wrap(wt, False)), wt


def class_weight(op, weight, classes):
    """weight (C,) as an array, checked against the number of classes."""
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{op}: weight of shape {w.shape} does not match {classes} classes (expected ({classes},))")
    return w


def weighted_reduce(loss, weights, reduction):
    """PyTorch's reduction of a class-index loss: none, sum, or the weighted mean sum(l) / sum(w)
    (NaN when every target is ignored, 0 / 0)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / Tensor._wrap(np.asarray(weights.sum(), dtype=weights.dtype), False)
