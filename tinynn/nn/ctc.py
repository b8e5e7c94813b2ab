"""Connectionist temporal classification: F.ctc_loss and nn.CTCLoss (Graves, Fernandez, Gomez &
Schmidhuber, 2006, "Connectionist Temporal Classification: Labelling Unsegmented Sequence Data with
Recurrent Neural Networks"), with PyTorch's arguments, shapes, reductions and zero_infinity.

The forward (alpha) recursion runs in log space on tinynn's differentiable ops, so autograd gives the
gradient (the alpha-beta occupation probabilities, without writing the beta recursion) and gradients of
any order. An unreachable state holds the finite log-probability NEG instead of -inf, so that every
logsumexp and its derivatives stay finite; a loss whose every alignment is impossible is +inf."""
import numpy as np

from ..ops import cat, stack
from ..tensor import Tensor, as_tensor
from .module import Module
from .reductions import check_reduction

__all__ = ["ctc_loss", "CTCLoss"]

NEG = -1e30  # "log 0" of an unreachable state: e^(NEG - x) is exactly 0 for any sensible x


def _constant(value, shape, dtype):
    return Tensor._wrap(np.full(shape, value, dtype=dtype), False)


def _lengths(name, lengths, n):
    """input_lengths / target_lengths (a Tensor, an array, a sequence or an int) as int64 (n,)."""
    a = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must be integral, got dtype {a.dtype}")
    a = a.astype(np.int64).reshape(-1)
    if a.size != n:
        raise RuntimeError(f"ctc_loss: {name} must be of size batch_size ({n}), got {a.size} values")
    if a.size and a.min() < 0:
        raise RuntimeError(f"ctc_loss: expected {name} to have value at least 0, but got value {int(a.min())}")
    return a


def _padded_targets(targets, target_lengths, n, classes, batched):
    """The targets as an int64 (N, S) array, S = max target length, from PyTorch's two layouts: padded
    (N, S') with S' >= S, or 1-D, every sample's labels one after the other (sum of the lengths)."""
    t = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    if t.dtype.kind not in "iuf":
        raise TypeError(f"ctc_loss: targets must hold integer labels, got dtype {t.dtype}")
    t = t.astype(np.int64)
    longest = int(target_lengths.max()) if n else 0
    if t.ndim == 2 or (t.ndim == 1 and not batched):
        t = t.reshape(1, -1) if t.ndim == 1 else t
        if t.shape[0] != n or t.shape[1] < longest:
            raise RuntimeError(f"ctc_loss: padded targets must have shape (N={n}, S) with S >= the longest target "
                               f"length {longest}, got {tuple(t.shape)}")
        t = t[:, :longest]
    elif t.ndim == 1:
        if t.size != int(target_lengths.sum()):
            raise RuntimeError(f"ctc_loss: concatenated 1-D targets must hold sum(target_lengths) = "
                               f"{int(target_lengths.sum())} labels, got {t.size}")
        ends = np.cumsum(target_lengths)
        padded = np.zeros((n, longest), np.int64)
        for i, (end, size) in enumerate(zip(ends, target_lengths)):
            padded[i, :size] = t[end - size:end]
        t = padded
    else:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) or 1-D, got {t.ndim} dimensions")
    used = np.arange(longest) < target_lengths[:, None]
    bad = used & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"ctc_loss: target label {int(t[bad][0])} is out of range for {classes} classes")
    return np.where(used, t, 0)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC loss, -ln p(l | x), of log-probabilities x (T, N, C) (or (T, C), one sample) and label sequences
    l_n (targets (N, S) padded, or 1-D concatenated; of lengths target_lengths), the n-th input lasting
    input_lengths[n] steps. With l' = (b, l_1, b, l_2, ..., l_U, b) (b = blank, U = |l|, |l'| = 2U + 1):

        alpha_1(1) = y^1_b,   alpha_1(2) = y^1_{l_1},
        alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [l'_s a label, l'_s != l'_{s-2}] alpha_{t-1}(s-2)) y^t_{l'_s},
        p(l | x) = alpha_T(|l'|) + alpha_T(|l'| - 1),

    y^t_k = e^(x[t, n, k]), computed in log space (logsumexp). Reduction "mean" divides each loss by its
    target length (at least 1) and averages over the batch; "sum" adds; "none" gives (N,) (or ()). An
    impossible alignment (input shorter than the labels plus their repeats) gives +inf, or 0 with a
    zero gradient when zero_infinity. The gradient is the exact derivative in x (PyTorch's adds
    e^x, which cancels when x = log_softmax(logits): the logits' gradients agree)."""
    check_reduction("ctc_loss", reduction)
    lp = log_probs if isinstance(log_probs, Tensor) else as_tensor(log_probs)
    if lp.dtype not in (np.float32, np.float64):
        raise TypeError(f"ctc_loss: log_probs must be float32 or float64, got dtype {lp.dtype}")
    batched = lp.ndim == 3
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape {tuple(lp.shape)}")
    if not batched:
        lp = lp.unsqueeze(1)
    steps, n, classes = lp.shape
    if lp.numel() == 0:
        raise RuntimeError(f"ctc_loss: log_probs tensor must not be empty, got shape {tuple(lp.shape)}")
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank must be in label range [0, {classes}), got {blank}")
    il, tl = _lengths("input_lengths", input_lengths, n), _lengths("target_lengths", target_lengths, n)
    if il.max() > steps:
        raise RuntimeError(f"ctc_loss: expected input_lengths to have value at most {steps} (log_probs' T), but "
                           f"got value {int(il.max())}")
    labels = _padded_targets(targets, tl, n, classes, batched)
    loss = _negative_log_likelihood(lp, labels, il, tl, blank)
    repeats = (labels[:, 1:] == labels[:, :-1]) & (np.arange(1, labels.shape[1]) < tl[:, None])
    impossible = (il < tl + repeats.sum(1)) | (loss._data > -NEG / 2)
    if impossible.any():
        fill = 0.0 if zero_infinity else np.inf
        loss = loss.where(~impossible, _constant(fill, (), lp.dtype))
    if reduction == "mean":
        return (loss / _constant(np.maximum(tl, 1), (n,), lp.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.reshape(())


def _negative_log_likelihood(lp, labels, input_lengths, target_lengths, blank):
    """-ln p(l_n | x_n) (N,) by the alpha recursion over the extended labels l' (N, 2S + 1); states past a
    sample's own 2 U_n + 1 only receive mass from the left and are never read."""
    steps, n, _ = lp.shape
    width = 2 * labels.shape[1] + 1
    extended = np.full((n, width), blank, np.int64)
    extended[:, 1::2] = labels
    skip = np.zeros((n, width), bool)  # s -> s + 2 allowed into label states differing from the label before
    skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    emit = lp.gather(2, np.broadcast_to(extended, (steps, n, width)))  # x[t, n, l'_s]: (T, N, 2S + 1)
    dtype = lp.dtype
    alpha = np.full((n, width), NEG, dtype)
    alpha[:, 0] = 0  # a virtual state before t = 1: it leads to l'_1 = b and l'_2 = l_1
    alpha = Tensor._wrap(alpha, False)
    edge, never = _constant(NEG, (n, 2), dtype), _constant(NEG, (n, width), dtype)
    for t in range(int(input_lengths.max(initial=0))):
        padded = cat([edge, alpha], 1)  # alpha_{t-1}(s - 1) and alpha_{t-1}(s - 2), NEG before the start
        step = _logsumexp(alpha, padded[:, 1:width + 1], padded[:, :width].where(skip, never)) + emit[t]
        if not (step._data >= NEG).all():  # a -inf log-probability: the state is unreachable
            step = step.where(step._data >= NEG, never)
        active = t < input_lengths
        alpha = step if active.all() else step.where(active[:, None], alpha)
    last = alpha.gather(1, 2 * target_lengths[:, None])[:, 0]
    before = alpha.gather(1, np.maximum(2 * target_lengths - 1, 0)[:, None])[:, 0]
    before = before.where(target_lengths > 0, _constant(NEG, (n,), dtype))
    return -_logsumexp(last, before)


def _logsumexp(*terms):
    """ln sum_i e^(terms_i), elementwise (shifted by the largest term, so it stays finite)."""
    return stack(terms, 0).logsumexp(0)


class CTCLoss(Module):
    """The CTC loss -ln p(l | x) of Graves et al. (2006), summed over every alignment of the labels l to
    the T steps of log-probabilities x (T, N, C) with blank symbols and repeats (see F.ctc_loss).
    forward(log_probs, targets, input_lengths, target_lengths)."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        check_reduction("CTCLoss", reduction)
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
