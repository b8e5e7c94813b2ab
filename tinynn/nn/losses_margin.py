"""Multi-class hinge losses (Weston & Watkins, 1999; Crammer & Singer, 2001) with PyTorch's formulas,
arguments, shapes and reductions: F.multi_margin_loss / nn.MultiMarginLoss (one class per sample) and
F.multilabel_margin_loss / nn.MultiLabelMarginLoss (several classes per sample, the list ended by -1).
Composed from tinynn's differentiable ops, so gradients of every order follow. The hinge max(0, z) is
relu(z): its gradient at z = 0 is 0, as PyTorch's."""
import numpy as np

from ..tensor import Tensor, as_tensor
from .module import Module
from .reductions import check_reduction, legacy_reduction, reduce_loss

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "MultiMarginLoss", "MultiLabelMarginLoss"]


def _reduction(op, size_average, reduce, reduction):
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    return reduction


def _matrix(op, input):
    """input as a float (N, C) Tensor (a vector or a scalar is one sample), and its own ndim; PyTorch's shape rules."""
    input = input if isinstance(input, Tensor) else as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    if input.ndim > 2 or (input.ndim == 2 and input.shape[1] == 0) or (input.ndim == 1 and input.shape[0] == 0):
        raise RuntimeError(f"{op}: expected a non-empty vector or matrix (N, C) with an optional 0-dim batch size, "
                           f"got shape {tuple(input.shape)}")
    return input.reshape(-1, max(input.numel(), 1) if input.ndim < 2 else input.shape[1]), input.ndim


def _labels(op, target):
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    return t.astype(np.int64)


def _constant(array, dtype):
    return Tensor._wrap(np.asarray(array, dtype=dtype), False)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss of scores x (N, C) (or (C,)) against class indices y (N,) (or ()):

        l_n = (1 / C) sum_{i != y_n} w_{y_n} max(0, margin - x_{n, y_n} + x_{n, i})^p,   p in {1, 2},

    w (C,) the class weights (1 without; the weight multiplies the p-th power, as PyTorch computes it;
    PyTorch's documentation writes it inside), then mean over n, sum, or none ((N,); for one sample
    the target's shape). The weight gets no gradient, as in PyTorch."""
    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p!r}")
    x, ndim = _matrix(op, input)
    n, c = x.shape
    t = _labels(op, target)
    if t.ndim > 1 or t.size != n or (ndim == 2 and t.ndim != 1):
        raise RuntimeError(f"{op}: target should be 1-D with one class index per sample: expected size [{n}], "
                           f"got {list(t.shape)} for input of shape {(n, c) if ndim == 2 else (c,)[:ndim]}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"{op}: target {int(t[(t < 0) | (t >= c)][0])} is out of range for {c} classes")
    shape, t = t.shape, t.reshape(-1)  # one sample: the loss has the target's shape, () or (1,)
    z = (x - x.gather(1, t[:, None]) + margin).relu()
    z = z * z if p == 2 else z
    scale = np.ones((n, c), x.dtype)
    scale[np.arange(n), t] = 0  # the target class itself does not count
    if weight is not None:
        if isinstance(weight, Tensor) and weight.requires_grad:
            raise RuntimeError(f"{op}: the loss is not differentiable with respect to weight (as in PyTorch); "
                               "pass a weight that does not require grad")
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.ndim != 1 or w.shape[0] != c:
            raise ValueError(f"{op}: weight must be one-dimensional with {c} entries (one per class), got shape "
                             f"{tuple(w.shape)}")
        scale *= w.astype(x.dtype)[t][:, None]
    loss = (z * _constant(scale, x.dtype)).sum(1) / c
    return reduce_loss(loss if ndim == 2 else loss.reshape(shape), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss of scores x (N, C) (or (C,)) against targets y of the same shape holding the
    sample's class indices, ended by the first -1 (the rest is ignored):

        l_n = (1 / C) sum_{j in J_n} sum_{i not in J_n} max(0, 1 - (x_{n, j} - x_{n, i})),

    J_n = {y_{n,0}, ..., y_{n,k-1}} the indices before the first -1 (a repeated index counts as often as it
    appears); then mean over n, sum, or none ((N,), or () for one sample)."""
    op = "multilabel_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    x, ndim = _matrix(op, input)
    n, c = x.shape
    t = _labels(op, target)
    in_shape = tuple((input if isinstance(input, Tensor) else as_tensor(input)).shape)
    if t.shape != in_shape and not (ndim < 2 and t.size == c and t.ndim <= 1):
        raise RuntimeError(f"{op}: inconsistent target size {list(t.shape)} for input of size {list(in_shape)}")
    if t.size and (t.min() < -1 or t.max() >= c):
        raise IndexError(f"{op}: target {int(t[(t < -1) | (t >= c)][0])} is out of range: expected class indices "
                         f"in [0, {c}) or -1 (the end of the list)")
    t = t.reshape(n, c)
    listed = np.cumprod(t >= 0, axis=1).astype(bool)          # the slots before the first -1
    safe = np.where(listed, t, 0)
    member = np.zeros((n, c), bool)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, c))
    member[rows[listed], safe[listed]] = True                  # class i is one of the sample's targets
    pairs = listed[:, :, None] & ~member[:, None, :]           # (n, slot j, class i)
    z = (1 - x.gather(1, safe).unsqueeze(2) + x.unsqueeze(1)).relu()
    loss = (z * _constant(pairs, x.dtype)).sum((1, 2)) / c
    return reduce_loss(loss if ndim == 2 else loss.reshape(()), reduction)


class MultiMarginLoss(Module):
    """l_n = (1 / C) sum_{i != y_n} w_{y_n} max(0, margin - x_{n, y_n} + x_{n, i})^p, p = 1 or 2 (see
    F.multi_margin_loss); the class weight is a buffer."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p!r}")
        if weight is not None and np.ndim(weight._data if isinstance(weight, Tensor) else weight) != 1:
            raise ValueError("MultiMarginLoss: weight must be one-dimensional")
        self.reduction = _reduction("MultiMarginLoss", size_average, reduce, reduction)
        self.p, self.margin = p, margin
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(Module):
    """l_n = (1 / C) sum_{j in J_n} sum_{i not in J_n} max(0, 1 - (x_{n, j} - x_{n, i})), J_n the target
    indices before the first -1 (see F.multilabel_margin_loss)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _reduction("MultiLabelMarginLoss", size_average, reduce, reduction)

    def forward(self, input, target):
        return multilabel_margin_loss(input, target, reduction=self.reduction)
