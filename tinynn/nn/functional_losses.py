"""More losses and distances of torch.nn.functional, composed from tinynn's differentiable ops, with
PyTorch's formulas, argument names (deprecated size_average/reduce included), defaults and reductions:
margin_ranking_loss hinge_embedding_loss soft_margin_loss multilabel_soft_margin_loss
cosine_embedding_loss triplet_margin_loss poisson_nll_loss gaussian_nll_loss, and cosine_similarity,
pairwise_distance. Part of tinynn.nn.functional, which re-exports them."""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import activations as act
from ..ops.methods import where
from ..tensor import Tensor, as_tensor
from .reductions import check_reduction as _check_reduction, legacy_reduction as _legacy_reduction
from .reductions import reduce_loss as _reduce

__all__ = ["cosine_similarity", "pairwise_distance", "margin_ranking_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss"]


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _float(x):
    x = _tensor(x)
    return x if x.dtype.kind == "f" else x.float()


def _constant(array):
    return Tensor._wrap(np.asarray(array), False)


def _clamped_norm(x, dim, eps):
    """||x||_2 along dim (kept), raised to eps as PyTorch does it: under no_grad, so the gradient
    is that of the unclamped norm (the shift is a constant)."""
    norm = x.norm(2, dim=dim, keepdim=True)
    with no_grad():
        shift = norm.clamp(min=eps) - norm
    return norm + shift


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos(x1, x2) = sum_d (x1_d / max(||x1||, eps)) (x2_d / max(||x2||, eps)) along dim (inputs broadcast)."""
    x1, x2 = _float(x1), _float(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"cosine_similarity: shapes {tuple(x1.shape)} and {tuple(x2.shape)} cannot be broadcast "
                           "together") from None
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """d(x1, x2) = ||x1 - x2 + eps||_p along the last dim (the eps keeps the gradient finite at x1 = x2)."""
    x1, x2 = _float(x1), _float(x2)
    diff = x1 - x2 + eps
    return diff.norm(p, dim=max(x1.ndim, x2.ndim) - 1, keepdim=keepdim) if diff.ndim else diff.abs()


def _loss_reduction(op, size_average, reduce, reduction):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    return reduction


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """l_i = max(0, -y_i (x1_i - x2_i) + margin), y_i in {1, -1} (y = 1: x1 should rank higher)."""
    reduction = _loss_reduction("margin_ranking_loss", size_average, reduce, reduction)
    input1, input2, target = _tensor(input1), _tensor(input2), _tensor(target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss: All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)}")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """l_i = x_i if y_i = 1, max(0, margin - x_i) if y_i = -1 (PyTorch's formula: the first term counts
    wherever y_i != -1, the second wherever y_i != 1)."""
    reduction = _loss_reduction("hinge_embedding_loss", size_average, reduce, reduction)
    input, target = _tensor(input), _tensor(target)
    zero = _constant(np.zeros((), input.dtype))
    y = target._data
    return _reduce(where(y != 1, (margin - input).clamp(min=0), zero) + where(y != -1, input, zero), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """l_i = ln(1 + e^(-y_i x_i)) (two-class logistic loss, y_i in {1, -1}), computed without overflow."""
    reduction = _loss_reduction("soft_margin_loss", size_average, reduce, reduction)
    input, target = _tensor(input), _tensor(target)
    return _reduce(act.Softplus.apply(-target * input, beta=1.0, threshold=np.inf), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """l_n = -(1 / C) sum_c w_c (y_nc ln sigmoid(x_nc) + (1 - y_nc) ln sigmoid(-x_nc)), x (N, C), y in {0, 1}."""
    from .functional_activations import logsigmoid
    reduction = _loss_reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    input, target = _tensor(input), _tensor(target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(input.ndim - 1) / input.shape[-1], reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """l_n = 1 - cos(x1_n, x2_n) if y_n = 1, max(0, cos(x1_n, x2_n) - margin) if y_n = -1; cos along
    dim 1 of (N, D) inputs (or a single pair of (D,) vectors with a 0-d target), with
    cos = <x1, x2> / sqrt((||x1||^2 + 1e-12)(||x2||^2 + 1e-12)) as PyTorch computes it."""
    reduction = _loss_reduction("cosine_embedding_loss", size_average, reduce, reduction)
    input1, input2, target = _float(input1), _float(input2), _tensor(target)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 or input2.ndim != input1.ndim:
        raise RuntimeError(f"cosine_embedding_loss: expected inputs (N, D) with target (N,) or (D,) with a 0-d "
                           f"target, got {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    cos = dot / (((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)).sqrt()
    zero, y = _constant(np.zeros((), cos.dtype)), target._data
    return _reduce(where(y == 1, 1 - cos, zero) + where(y == -1, (cos - margin).clamp(min=0), zero), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """l_n = max(d(a_n, p_n) - d(a_n, n_n) + margin, 0), d = pairwise_distance(., ., p, eps); with swap,
    d(a_n, n_n) is replaced by min(d(a_n, n_n), d(p_n, n_n)) (Balntas et al., 2016)."""
    reduction = _loss_reduction("triplet_margin_loss", size_average, reduce, reduction)
    anchor, positive, negative = _tensor(anchor), _tensor(positive), _tensor(negative)
    if not anchor.ndim == positive.ndim == negative.ndim or anchor.ndim not in (1, 2):
        raise RuntimeError(f"triplet_margin_loss: expected anchor, positive and negative all (N, D) or all (D,), got "
                           f"{tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = where((d_swap < d_neg)._data, d_swap, d_neg)
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of target ~ Poisson(rate): l_i = e^(x_i) - y_i x_i with x = log(rate)
    (log_input=True), or x_i - y_i ln(x_i + eps) with x = rate; full adds Stirling's
    y ln y - y + ln(2 pi y) / 2 where y > 1."""
    reduction = _loss_reduction("poisson_nll_loss", size_average, reduce, reduction)
    input, target = _tensor(input), _tensor(target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        above = target._data > 1
        safe = where(above, target, _constant(np.ones((), loss.dtype)))
        loss = loss + where(above, safe * safe.log() - safe + 0.5 * (safe * (2 * math.pi)).log(),
                            _constant(np.zeros((), loss.dtype)))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of target ~ N(input, var): l_i = (ln max(var_i, eps) + (x_i - y_i)^2 /
    max(var_i, eps)) / 2 (+ ln(2 pi) / 2 with full); var the input's shape, or one dim short, or 1 along
    one dim (shared). The clamp to eps is invisible to the gradient, as in PyTorch."""
    input, target = _tensor(input), _tensor(target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = _constant(np.full(input.shape, var, input.dtype))
    var = _tensor(var)
    if (var._data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input "
                             f"{tuple(input.shape)}")
    _check_reduction("gaussian_nll_loss", reduction)
    with no_grad():
        shift = var.clamp(min=eps) - var
    var = var + shift
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
