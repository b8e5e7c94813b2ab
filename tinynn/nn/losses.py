"""Loss modules: thin wrappers around tinynn.nn.functional, with PyTorch's arguments (in PyTorch's
positional order, deprecated size_average/reduce included), defaults and buffers (class weights
are buffers, so they are in the state dict and move with the module)."""
from ..ops import REDUCTIONS
from . import functional as F
from .module import Module


class _Loss(Module):
    allowed = REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = F._legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(type(self).__name__, reduction, self.allowed)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """l_i = (x_i - y_i)^2, reduced by mean (default), sum or none."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """l_i = |x_i - y_i|, reduced by mean (default), sum or none."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """l_i = 0.5 d_i^2 / beta if |d_i| < beta else |d_i| - 0.5 beta, d = x - y (Girshick, Fast R-CNN, 2015)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """l_i = 0.5 d_i^2 if |d_i| < delta else delta (|d_i| - 0.5 delta), d = x - y (Huber, 1964)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices or class
    probabilities: l_n = -sum_c w_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C (or
    (1 - e) p_n + e / C), e = label_smoothing; targets equal to ignore_index count for nothing, and
    the mean over class indices is weighted: sum_n l_n / sum_n w_{t_n}."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """l_n = -w_{t_n} x_{n, t_n} for log-probabilities x (N, C) or (N, C, d1, ...); targets equal to
    ignore_index count for nothing; the mean is sum_n l_n / sum_n w_{t_n}."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """l_i = -w_i (y_i max(ln x_i, -100) + (1 - y_i) max(ln(1 - x_i), -100)) for probabilities x."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """l_i = w_i (p y_i ln(1 + e^-x_i) + (1 - y_i) ln(1 + e^x_i)): BCE on sigmoid(x), computed stably
    from logits; pos_weight p (per class, along the last dim) weighs the positives."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """l_i = p_i (ln p_i - x_i) for log-probabilities x and probabilities p (log p if log_target);
    reductions mean (over elements), batchmean (sum / N: the KL divergence per sample), sum, none."""

    allowed = REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
