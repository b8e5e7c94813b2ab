"""Fused layer ops: a whole Linear(+activation) and softmax + cross-entropy as single nodes,
so the compiled backend can run each as one kernel."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..backend import ACTIVATIONS
from ..tensor import Tensor
from .derivatives import astype

REDUCTIONS = ("mean", "sum", "none")  # of every loss (kl_div adds "batchmean")


def _check_linear(x, weight, bias, activation):
    """The one check of a Linear call (the backends and kernels trust it): shapes and activation."""
    shape, out_in = x.shape, weight.shape
    if len(out_in) != 2 or not shape or shape[-1] != out_in[1]:
        raise ValueError(
            f"Linear: input has {shape[-1] if shape else 0} features but the layer expects "
            f"{out_in[1] if len(out_in) == 2 else '?'} (input shape {shape}, weight shape {out_in})"
        )
    if bias is not None and bias.shape != out_in[:1]:
        raise ValueError(f"Linear: bias of shape {bias.shape} does not match weight of shape {out_in}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"Linear: unknown activation {activation!r}; choose one of {ACTIVATIONS}")


class Linear(Function):
    """y = act(x W^T + b) for x (..., in), W (out, in), b (out,);  act in none/relu/sigmoid/tanh.

    With d = g * act'(.):  dL/dx = d W,  dL/dW = d^T x,  dL/db = sum_n d."""

    __slots__ = ("lead", "x", "weight", "activation", "y", "dtypes")
    exact_gradients = True
    differentiable = True
    outputs = ("y",)

    def forward(self, x, weight, bias=None, activation="none"):
        _check_linear(x, weight, bias, activation)
        self.lead = None
        if x.ndim != 2:
            self.lead = x.shape[:-1]
            x = x.reshape(-1, x.shape[-1])
        # mixed dtypes compute in the promoted one; backward casts each gradient back to its input's
        self.dtypes = None
        if x.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
            self.dtypes = (x.dtype, weight.dtype, None if bias is None else bias.dtype)
        y = backend.active.linear(x, weight, bias, activation)
        self.x, self.weight, self.activation, self.y = x, weight, activation, y
        return y if self.lead is None else y.reshape(*self.lead, weight.shape[0])

    def recompute(self, name, inputs):
        """x flattened to 2-D as a Tensor of the input (create_graph). Only x is ever asked for, and only
        when the flattening copied it: weight is an input, y the output, an uncopied x a view of its input."""
        return inputs[0].reshape(self.x.shape)

    def backward(self, g):
        needs = self.needs_grad
        y = self.y
        grads = backend.active.linear_backward(self.x, self.weight, y, g if self.lead is None else g.reshape(y.shape),
                                               self.activation, (needs[0], needs[1], len(needs) > 2 and needs[2]))
        if self.dtypes is not None:
            grads = tuple(None if gr is None else astype(gr, dt) for gr, dt in zip(grads, self.dtypes))
        gx, gw, gb = grads
        if self.lead is not None and gx is not None:
            gx = gx.reshape(*self.lead, gx.shape[1])
        return gx, gw, gb


class CrossEntropy(Function):
    """loss_n = -sum_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C, reduced.

    dL/dx_n = (softmax(x_n) - q_n) * dL/dloss_n  (divided by N for the mean)."""

    __slots__ = ('target', 'smoothing', 'reduction', 'probs')
    exact_gradients = True
    differentiable = True

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
        total = np.add.reduce(losses)  # in the logits' dtype, as the kernel returns it
        if reduction == "sum":
            return np.asarray(total)
        # a float32/float64 quotient computed in double and rounded once is the correctly rounded one
        n = len(losses)
        return np.array(float(total) / n if n else np.nan, dtype=losses.dtype)  # an empty mean is NaN

    def recompute(self, name, inputs):
        return inputs[0].softmax(1) if name == "probs" else None  # create_graph: probs as a Tensor

    def backward(self, g):
        if self.reduction == "none":
            per_sample = g
        elif isinstance(g, Tensor):  # create_graph: the same, on a Tensor
            n = len(self.probs)
            per_sample = backend.active.broadcast_to(g / n if self.reduction == "mean" else g, (n,))
        else:
            n = len(self.probs)
            per_sample = np.empty(n, self.probs.dtype)
            if n:
                per_sample.fill(float(g) / n if self.reduction == "mean" else g)
        return backend.active.cross_entropy_backward(self.probs, self.target, self.smoothing, per_sample), None
