"""Stateless functions behind the nn layers and losses (PyTorch's torch.nn.functional).

Losses take `reduction` in {"mean", "sum", "none"} ("batchmean" too for kl_div)."""
import numpy as np

from .. import ops
from ..ops import REDUCTIONS
from ..random import generator
from ..tensor import Tensor, as_tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; choose one of {allowed}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_target(op, input, target):
    """Targets of regression-style losses: a Tensor with the input's float dtype."""
    target = _tensor(target)
    if target.dtype != input.dtype:
        if target.dtype.kind not in "fiub":
            raise TypeError(f"{op}: target dtype {target.dtype} is not numeric")
        target = target.astype(input.dtype) if target.dtype.kind == "f" else Tensor._wrap(target._data.astype(input.dtype), False)
    if target.shape != input.shape:
        raise ValueError(f"{op}: target shape {target.shape} differs from input shape {input.shape}; they must match")
    return target


# ---------------------------------------------------------------- activations
def relu(input):
    """relu(x) = max(x, 0)."""
    return ops.ReLU.apply(input)


def sigmoid(input):
    """sigmoid(x) = 1 / (1 + e^-x)."""
    return ops.Sigmoid.apply(input)


def tanh(input):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""
    return ops.Tanh.apply(input)


def softmax(input, dim=-1, axis=None):
    """softmax(x)_i = e^(x_i) / sum_j e^(x_j) along `dim`."""
    return ops.Softmax.apply(input, axis=dim if axis is None else axis)


def log_softmax(input, dim=-1, axis=None):
    """log_softmax(x)_i = x_i - log sum_j e^(x_j) along `dim`."""
    return ops.LogSoftmax.apply(input, axis=dim if axis is None else axis)


def linear(input, weight, bias=None):
    """y = x W^T + b, x (..., in), W (out, in), b (out,) (one fused op)."""
    if bias is None:
        return ops.Linear.apply(input, weight)
    return ops.Linear.apply(input, weight, bias)


def dropout(input, p=0.5, training=True):
    """Inverted dropout: y = x m / (1 - p), m_i ~ Bernoulli(1 - p) from tinynn's seeded generator;
    the identity when not training or p = 0 (and all zeros for p = 1)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    input = _tensor(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = generator().random(input.shape) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return ops.Mul.apply(input, Tensor._wrap(mask, False))


# ---------------------------------------------------------------- losses
def mse_loss(input, target, reduction="mean"):
    """l_i = (x_i - y_i)^2, then mean/sum/none. Shapes must match (no silent broadcasting)."""
    _check_reduction("mse_loss", reduction)
    input = _tensor(input)
    target = _float_target("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits x (N, C) against int class indices t (N,):
    l_n = -sum_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C; mean over n by default.
    Float targets raise TypeError, indices outside [0, C) IndexError (ops.CrossEntropy checks)."""
    input, target = _tensor(input), _tensor(target)
    if input.ndim == 1 and target.ndim == 0:  # one unbatched sample
        out = ops.CrossEntropy.apply(input.reshape(1, -1), target.reshape(1), label_smoothing=float(label_smoothing), reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    return ops.CrossEntropy.apply(input, target, label_smoothing=float(label_smoothing), reduction=reduction)


def nll_loss(input, target, reduction="mean"):
    """l_n = -x_{n, t_n} for log-probabilities x (N, C) and int class indices t (N,)."""
    _check_reduction("nll_loss", reduction)
    input, target = _tensor(input), _tensor(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {target.dtype}")
    if input.ndim != 2 or target.shape != input.shape[:1]:
        raise ValueError(f"nll_loss: expected input (N, C) and target (N,), got {input.shape} and {target.shape}")
    c = input.shape[1]
    t = target._data
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"nll_loss: class index {t[(t < 0) | (t >= c)][0]} is out of range for {c} classes")
    return _reduce(-input[np.arange(len(t)), t], reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """l_i = -(y_i max(ln x_i, -100) + (1 - y_i) max(ln(1 - x_i), -100)) for probabilities x in [0, 1]."""
    _check_reduction("binary_cross_entropy", reduction)
    input = _tensor(input)
    target = _float_target("binary_cross_entropy", input, target)
    return _reduce(ops.BinaryCrossEntropy.apply(input, target), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """l_i = max(x_i, 0) - x_i y_i + ln(1 + e^-|x_i|) = BCE(sigmoid(x_i), y_i), stable for any logit."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input = _tensor(input)
    target = _float_target("binary_cross_entropy_with_logits", input, target)
    return _reduce(ops.BinaryCrossEntropyWithLogits.apply(input, target), reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """KL divergence with PyTorch's conventions: `input` holds log-probabilities log q,
    `target` probabilities p (or log p when log_target=True);
    l_i = p_i (ln p_i - log q_i) (0 where p_i = 0), then
    "mean" (over all elements), "batchmean" (sum / N, the true KL per sample), "sum" or "none"."""
    _check_reduction("kl_div", reduction, REDUCTIONS + ("batchmean",))
    input = _tensor(input)
    target = _float_target("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target._data > 0
        safe = ops.Where.apply(target, Tensor._wrap(np.ones((), input.dtype), False), condition=positive)
        entropy_term = ops.Where.apply(target * safe.log(), Tensor._wrap(np.zeros((), input.dtype), False), condition=positive)
        loss = entropy_term - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- convolution, pooling, batch norm, pad
from .conv import conv1d, conv2d, pad  # noqa: E402 - defined beside their layers
from .pooling import max_pool1d, max_pool2d, avg_pool2d, adaptive_avg_pool2d  # noqa: E402
from .normalization import batch_norm  # noqa: E402
