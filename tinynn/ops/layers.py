"""Fused layer ops: a whole Linear(+activation) and softmax + cross-entropy as single nodes,
so the compiled backend can run each as one kernel."""
import numpy as np

from ..autograd import Function
from .. import backend

REDUCTIONS = ("mean", "sum", "none")


class Linear(Function):
    """y = act(x W^T + b) for x (..., in), W (out, in), b (out,);  act in none/relu/sigmoid/tanh.

    With d = g * act'(.):  dL/dx = d W,  dL/dW = d^T x,  dL/db = sum_n d."""

    __slots__ = ('lead', 'x', 'weight', 'activation', 'y')

    def forward(self, x, weight, bias=None, activation="none"):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"Linear: input has {x.shape[-1] if x.ndim else 0} features but the layer expects "
                f"{weight.shape[1] if weight.ndim == 2 else '?'} (input shape {x.shape}, weight shape {weight.shape})"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"Linear: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
        self.lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        self.x, self.weight, self.activation = x2, weight, activation
        self.y = backend.active.linear(x2, weight, bias, activation)
        return self.y.reshape(*self.lead, weight.shape[0]) if x.ndim != 2 else self.y

    def backward(self, g):
        needs = self.needs_grad
        g2 = g.reshape(self.y.shape) if g.ndim != 2 else g
        gx, gw, gb = backend.active.linear_backward(self.x, self.weight, self.y, g2, self.activation,
                                               (needs[0], needs[1], len(needs) > 2 and needs[2]))
        return (None if gx is None else gx.reshape(*self.lead, gx.shape[1]) if len(self.lead) != 1 else gx), gw, gb


class CrossEntropy(Function):
    """loss_n = -sum_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C, reduced.

    dL/dx_n = (softmax(x_n) - q_n) * dL/dloss_n  (divided by N for the mean)."""

    __slots__ = ('target', 'smoothing', 'reduction', 'probs')

    def forward(self, logits, target, label_smoothing=0.0, reduction="mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"cross_entropy: unknown reduction {reduction!r}; choose one of {REDUCTIONS}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
        if logits.ndim != 2 or target.shape != logits.shape[:1]:
            raise ValueError(f"cross_entropy: expected logits (N, C) and target (N,), got {logits.shape} and {target.shape}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
        n, c = logits.shape
        if target.size and (target.min() < 0 or target.max() >= c):
            bad = target[(target < 0) | (target >= c)][0]
            raise IndexError(f"cross_entropy: class index {bad} is out of range for {c} classes")
        self.target, self.smoothing, self.reduction = target, label_smoothing, reduction
        losses, self.probs = backend.active.cross_entropy(logits, target, label_smoothing)
        if reduction == "none":
            return losses
        total = np.asarray(losses.sum(dtype=logits.dtype))
        return total / n if reduction == "mean" else total

    def backward(self, g):
        n = self.probs.shape[0]
        if self.reduction == "none":
            per_sample = g
        else:
            scale = g / n if self.reduction == "mean" else g
            per_sample = np.broadcast_to(scale.astype(self.probs.dtype), (n,))
        return backend.active.cross_entropy_backward(self.probs, self.target, self.smoothing, per_sample), None
