"""Stateless functions behind the nn layers and losses (PyTorch's torch.nn.functional).

Losses take `reduction` in {"mean", "sum", "none"} ("batchmean" too for kl_div)."""
import numpy as np

from .. import ops
from ..ops import REDUCTIONS
from ..ops import activations as act
from ..ops.inplace import inplace as _inplace
from ..random import generator
from ..tensor import Tensor, as_tensor
from .reductions import check_reduction as _check_reduction, legacy_reduction as _legacy_reduction
from .reductions import reduce_loss as _reduce


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


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
def relu(input, inplace=False):
    """relu(x) = max(x, 0)."""
    return _activation(ops.ReLU, "relu_", input, inplace)


def sigmoid(input):
    """sigmoid(x) = 1 / (1 + e^-x)."""
    return ops.Sigmoid.apply(input)


def tanh(input):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""
    return ops.Tanh.apply(input)


def _softmax_dim(dim, axis, input):
    """dim (or NumPy's axis); None is PyTorch's legacy implicit choice: 0 for a 0-, 1- or 3-D input, else 1."""
    if axis is not None:
        return axis
    if dim is None:
        return 0 if _tensor(input).ndim in (0, 1, 3) else 1
    return dim


def _cast(input, dtype):
    """input cast to dtype first (F.softmax's dtype=, against overflow), or as it is."""
    input = _tensor(input)
    return input if dtype is None else input.to(dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None, axis=None):
    """softmax(x)_i = e^(x_i) / sum_j e^(x_j) along `dim` (x cast to dtype first when given)."""
    return ops.Softmax.apply(_cast(input, dtype), axis=_softmax_dim(dim, axis, input))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, axis=None):
    """log_softmax(x)_i = x_i - log sum_j e^(x_j) along `dim` (x cast to dtype first when given)."""
    return ops.LogSoftmax.apply(_cast(input, dtype), axis=_softmax_dim(dim, axis, input))


def _activation(op, name, input, inplace, **options):
    """op applied to input; with inplace=True written into input's own memory (PyTorch's `name`)."""
    if inplace:
        return _inplace(_tensor(input), name, lambda s: op.apply(s, **options))
    return op.apply(input, **options)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """leaky_relu(x) = x for x > 0, negative_slope x otherwise (gradient negative_slope at 0)."""
    return _activation(act.LeakyReLU, "leaky_relu_", input, inplace, negative_slope=float(negative_slope))


def silu(input, inplace=False):
    """silu(x) = x sigmoid(x)."""
    return _activation(act.SiLU, "silu_", input, inplace)


def elu(input, alpha=1.0, inplace=False):
    """elu(x) = x for x > 0, alpha (e^x - 1) otherwise."""
    return _activation(act.ELU, "elu_", input, inplace, alpha=float(alpha))


def softplus(input, beta=1.0, threshold=20.0):
    """softplus(x) = ln(1 + e^(beta x)) / beta, and x where beta x > threshold."""
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero (the formula divides by it)")
    return act.Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """hardtanh(x) = min(max(x, min_val), max_val) (gradient 0 at the bounds)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _activation(act.Hardtanh, "hardtanh_", input, inplace, min_val=float(min_val), max_val=float(max_val))


def linear(input, weight, bias=None):
    """y = x W^T + b, x (..., in), W (out, in), b (out,) (one fused op)."""
    if bias is None:
        return ops.Linear.apply(input, weight)
    return ops.Linear.apply(input, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: y = x m / (1 - p), m_i ~ Bernoulli(1 - p) from tinynn's seeded generator;
    the identity when not training (and all zeros for p = 1); inplace=True writes y into x."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    input = _tensor(input)
    if not training:
        return input
    if p == 0.0:
        return input
    if input.dtype.kind != "f" and p < 1.0:  # (p = 1 zeroes any dtype, as PyTorch)
        raise TypeError(f"dropout: expected a floating-point input in training, got dtype {input.dtype}")
    keep = generator().random(input.shape) >= p if p < 1.0 else np.zeros(input.shape, bool)
    mask = Tensor._wrap(keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p) if p < 1.0 else 0.0), False)
    if inplace:
        return _inplace(input, "dropout_", lambda s: ops.Mul.apply(s, mask))
    return ops.Mul.apply(input, mask)


# ---------------------------------------------------------------- losses
def _regression(op, input, target, reduction):
    """(input, target) of a regression-style loss: checked reduction, target cast and shape-checked."""
    _check_reduction(op, reduction)
    input = _tensor(input)
    return input, _float_target(op, input, target)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """l_i = (x_i - y_i)^2, then mean/sum/none. Shapes must match (no silent broadcasting)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _regression("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """l_i = |x_i - y_i|, then mean/sum/none (gradient sign(x_i - y_i), 0 where they are equal)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _regression("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """l_i = 0.5 d_i^2 / beta if |d_i| < beta else |d_i| - 0.5 beta, d = x - y (beta = 0: L1)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _regression("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return _reduce(_smooth_l1(input - target, float(beta)), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """l_i = 0.5 d_i^2 if |d_i| < delta else delta (|d_i| - 0.5 delta), d = x - y (= delta smooth_l1 with beta = delta)."""
    input, target = _regression("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _reduce(_smooth_l1(input - target, float(delta)) * float(delta), reduction)


def _smooth_l1(diff, beta):
    size = diff.abs()
    if beta == 0:
        return size
    inside = size._data < beta
    return ops.Where.apply(diff * diff * (0.5 / beta), size - 0.5 * beta, condition=inside)


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
    (NaN when every target is ignored, 0 / 0, with a zero gradient as PyTorch's: its backward
    skips ignored targets rather than multiplying them by 1 / 0)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if not weights.any():
        return total * 0.0 + Tensor._wrap(np.asarray(np.nan, dtype=total.dtype), False)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / Tensor._wrap(np.asarray(weights.sum(), dtype=weights.dtype), False)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits x (N, C) or (N, C, d1, ...) (or (C,), one sample) against class
    indices t (N, d1, ...) or class probabilities p (x's shape), with class weights w (C,):

    indices: l_n = -(1 - e) w_{t_n} log s_{n, t_n} - (e / C) sum_c w_c log s_{n, c}, s = softmax(x),
    0 where t_n = ignore_index; "mean" divides the sum by sum_n w_{t_n} over the targets not ignored;
    probabilities: l_n = -sum_c w_c q_nc log s_nc with q = (1 - e) p + e / C; "mean" divides by N d1 ...
    The plain case (2-D, no weight, nothing ignored) runs as one fused node."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target = _tensor(input), _tensor(target)
    if input.ndim == 1 and (target.ndim == 0 or (target.dtype.kind == "f" and target.shape == input.shape)):
        out = cross_entropy(input.reshape(1, -1), target.reshape(1, *target.shape), weight, None, ignore_index, None,
                            reduction, label_smoothing)
        return out.reshape(()) if reduction == "none" else out  # one unbatched sample
    if target.dtype.kind == "f" and target.shape == input.shape and input.ndim >= 2:
        target = _float_target("cross_entropy", input, target)
        return _cross_entropy_probabilities(input, target, weight, reduction, float(label_smoothing))
    if weight is None and input.ndim == 2 and not (target._data == ignore_index).any():
        return ops.CrossEntropy.apply(input, target, label_smoothing=float(label_smoothing), reduction=reduction)
    logp = log_softmax(input, dim=1) if input.ndim >= 2 else input
    loss, weights = class_terms("cross_entropy", logp, target, weight, ignore_index)
    loss = weighted_reduce(loss, weights, reduction)
    if not label_smoothing:
        return loss
    c = input.shape[1]
    w = np.ones(c, input.dtype) if weight is None else class_weight("cross_entropy", weight, c).astype(input.dtype)
    kept = (target._data != ignore_index).astype(input.dtype)
    smooth = -(logp * _class_axis(w, input.ndim)).sum(1) * Tensor._wrap(kept, False)
    return loss * (1 - label_smoothing) + weighted_reduce(smooth, weights, reduction) * (label_smoothing / c)


def _class_axis(w, ndim):
    """Class weights (C,) shaped (C, 1, ...) to broadcast along dim 1 of an (N, C, d1, ...) tensor."""
    return Tensor._wrap(w.reshape((-1,) + (1,) * (ndim - 2)), False)


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    c = input.shape[1]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / c
    terms = log_softmax(input, dim=1) * target
    if weight is not None:
        terms = terms * _class_axis(class_weight("cross_entropy", weight, c).astype(input.dtype), input.ndim)
    loss = -terms.sum(1)
    if reduction == "mean":
        samples = input.numel() // c if c else 0
        return loss.sum() / samples if samples else loss.sum() * np.nan  # an empty mean is NaN, as PyTorch
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """l_n = -w_{t_n} x_{n, t_n} for log-probabilities x (N, C) or (N, C, d1, ...) (or (C,)) and class
    indices t (N, d1, ...); 0 where t_n = ignore_index; "mean" is sum_n l_n / sum_n w_{t_n} over the
    targets not ignored (PyTorch's weighted mean)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    input, target = _tensor(input), _tensor(target)
    if input.ndim == 1 and target.ndim == 0:
        out = nll_loss(input.reshape(1, -1), target.reshape(1), weight, None, ignore_index, None, reduction)
        return out.reshape(()) if reduction == "none" else out
    return weighted_reduce(*class_terms("nll_loss", input, target, weight, ignore_index), reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """l_i = -w_i (y_i max(ln x_i, -100) + (1 - y_i) max(ln(1 - x_i), -100)) for probabilities x in [0, 1],
    w broadcast to x's shape; "mean" is the plain mean over elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _regression("binary_cross_entropy", input, target, reduction)
    loss = ops.BinaryCrossEntropy.apply(input, target)
    return _reduce(_weighted("binary_cross_entropy", loss, weight, "weight"), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """l_i = w_i (p y_i ln(1 + e^-x_i) + (1 - y_i) ln(1 + e^x_i)) = BCE(sigmoid(x_i), y_i) weighted,
    stable for any logit; pos_weight p (broadcast along the last dim) weighs the positive term."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _regression("binary_cross_entropy_with_logits", input, target, reduction)
    loss = ops.BinaryCrossEntropyWithLogits.apply(input, target)
    if pos_weight is not None:  # p y softplus(-x) = y softplus(-x) + (p - 1) y softplus(-x)
        extra = _weighted("binary_cross_entropy_with_logits", target, pos_weight, "pos_weight", minus_one=True)
        loss = loss + extra * act.Softplus.apply(-input, beta=1.0, threshold=np.inf)
    return _reduce(_weighted("binary_cross_entropy_with_logits", loss, weight, "weight"), reduction)


def _weighted(op, loss, weight, name, minus_one=False):
    """loss * weight (or * (weight - 1)), weight a constant broadcast to loss's shape (None: loss)."""
    if weight is None:
        return loss
    w = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=loss.dtype)
    try:
        np.broadcast_shapes(w.shape, loss.shape)
    except ValueError:
        raise ValueError(f"{op}: {name} of shape {w.shape} cannot be broadcast to the input's shape {loss.shape}") from None
    return loss * Tensor._wrap(w - 1 if minus_one else w, False)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with PyTorch's conventions: `input` holds log-probabilities log q,
    `target` probabilities p (or log p when log_target=True);
    l_i = p_i (ln p_i - log q_i) (0 where p_i = 0), then
    "mean" (over all elements), "batchmean" (sum / N, the true KL per sample), "sum" or "none"."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
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


# ---------------------------------------------------------------- sequence models
def gelu(input, approximate="none"):
    """GELU(x) = x Phi(x), Phi the standard normal CDF (approximate="none"), or
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""
    return ops.GELU.apply(input, approximate=approximate)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * w + b over the last len(normalized_shape) dims
    (biased variance), w and b optional."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    params = [p for p in (weight, bias) if p is not None]
    return ops.LayerNorm.apply(input, *params, normalized_shape=tuple(int(n) for n in shape), eps=eps,
                               affine=(weight is not None, bias is not None))


# ---------------------------------------------------------------- convolution, pooling, batch norm, pad
from .conv import conv1d, conv2d, pad  # noqa: E402 - defined beside their layers
from .pooling import max_pool1d, max_pool2d, avg_pool2d, adaptive_avg_pool2d  # noqa: E402
from .normalization import batch_norm  # noqa: E402
from .functional_attention import scaled_dot_product_attention  # noqa: E402
from .functional_misc import embedding, one_hot, normalize  # noqa: E402
from .conv_transpose import conv_transpose2d  # noqa: E402
from .group_norm import group_norm, instance_norm  # noqa: E402
from .rms_norm import rms_norm  # noqa: E402
from .upsample import interpolate  # noqa: E402
from .losses_margin import multi_margin_loss, multilabel_margin_loss  # noqa: E402,F401
from .ctc import ctc_loss  # noqa: E402,F401
from .embedding_bag import embedding_bag  # noqa: E402,F401
from .local_response_norm import local_response_norm  # noqa: E402,F401
from .functional_extra import (alpha_dropout, channel_shuffle, conv_transpose1d,  # noqa: E402,F401
                               dropout1d, dropout2d, dropout3d, feature_alpha_dropout, fold,
                               native_channel_shuffle, rrelu, rrelu_, unfold)
from .functional_extra import (  # noqa: E402,F401 - functions of layers in files of their own
    adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, bilinear, celu, celu_,
    cosine_embedding_loss, cosine_similarity, elu_, gaussian_nll_loss, glu, hardshrink, hardsigmoid,
    hardswish, hardtanh_, hinge_embedding_loss, leaky_relu_, logsigmoid, margin_ranking_loss, mish,
    multilabel_soft_margin_loss, pairwise_distance, pixel_shuffle, pixel_unshuffle, poisson_nll_loss, prelu,
    relu6, relu_, selu, selu_, soft_margin_loss, softmin, softshrink, softsign, tanhshrink, threshold,
    threshold_, triplet_margin_loss)
from .functional_extra import (adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, conv3d,  # noqa: E402,F401
                               conv_transpose3d, max_pool3d)
