"""Fused layer ops: a whole Linear(+activation) and softmax + cross-entropy as single nodes,
so the compiled backend can run each as one kernel."""
import numpy as np

from ..autograd import Function
from .. import backend

REDUCTIONS = ("mean", "sum", "none")


class Linear(Function):
    """y = act(x W^T + b) for x (..., in), W (out, in), b (out,);  act in none/relu/sigmoid/tanh.

    With d = g * act'(.):  dL/dx = d W,  dL/dW = d^T x,  dL/db = sum_n d."""

    __slots__ = ("lead", "x", "weight", "activation", "y", "dtypes")
    exact_gradients = True

    def forward(self, x, weight, bias=None, activation="none"):
        shape, out_in = x.shape, weight.shape
        if len(out_in) != 2 or not shape or shape[-1] != out_in[1]:
            raise ValueError(
                f"Linear: input has {shape[-1] if shape else 0} features but the layer expects "
                f"{out_in[1] if len(out_in) == 2 else '?'} (input shape {shape}, weight shape {out_in})"
            )
        if bias is not None and bias.shape != out_in[:1]:
            raise ValueError(f"Linear: bias of shape {bias.shape} does not match weight of shape {out_in}")
        self.lead = None
        if len(shape) != 2:
            self.lead = shape[:-1]
            x = x.reshape(-1, shape[-1])
        # mixed dtypes compute in the promoted one; backward casts each gradient back to its input's
        self.dtypes = None
        if x.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
            self.dtypes = (x.dtype, weight.dtype, None if bias is None else bias.dtype)
        self.x, self.weight, self.activation = x, weight, activation
        self.y = y = backend.active.linear(x, weight, bias, activation)
        return y if self.lead is None else y.reshape(*self.lead, out_in[0])

    def backward(self, g):
        needs = self.needs_grad
        y = self.y
        grads = backend.active.linear_backward(self.x, self.weight, y, g if self.lead is None else g.reshape(y.shape),
                                               self.activation, (needs[0], needs[1], len(needs) > 2 and needs[2]))
        if self.dtypes is not None:
            grads = tuple(None if gr is None else gr.astype(dt) for gr, dt in zip(grads, self.dtypes))
        gx, gw, gb = grads
        if self.lead is not None and gx is not None:
            gx = gx.reshape(*self.lead, gx.shape[1])
        return gx, gw, gb


class CrossEntropy(Function):
    """loss_n = -sum_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C, reduced.

    dL/dx_n = (softmax(x_n) - q_n) * dL/dloss_n  (divided by N for the mean)."""

    __slots__ = ('target', 'smoothing', 'reduction', 'probs')
    exact_gradients = True

    def forward(self, logits, target, label_smoothing=0.0, reduction="mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"cross_entropy: unknown reduction {reduction!r}; choose one of {REDUCTIONS}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
        if logits.ndim != 2 or target.shape != logits.shape[:1]:
            raise ValueError(f"cross_entropy: expected logits (N, C) and target (N,), got {logits.shape} and {target.shape}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.target, self.smoothing, self.reduction = target, label_smoothing, reduction
        losses, self.probs = backend.active.cross_entropy(logits, target, label_smoothing)  # checks the indices
        if reduction == "none":
            return losses
        total = np.add.reduce(losses, dtype=logits.dtype)
        return np.asarray(total / len(losses) if reduction == "mean" else total)

    def backward(self, g):
        n = self.probs.shape[0]
        if self.reduction == "none":
            per_sample = g
        else:
            per_sample = np.full(n, g / n if self.reduction == "mean" else g, dtype=self.probs.dtype)
        return backend.active.cross_entropy_backward(self.probs, self.target, self.smoothing, per_sample), None
