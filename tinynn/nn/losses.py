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
        return ""  # PyTorch's losses print no options: MSELoss(), even with reduction="sum"


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


class _MarginLoss(_Loss):
    def __init__(self, margin, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """l_i = max(0, -y_i (x1_i - x2_i) + margin), y_i in {1, -1}."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """l_i = x_i if y_i = 1, max(0, margin - x_i) if y_i = -1."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """l_n = 1 - cos(x1_n, x2_n) if y_n = 1, max(0, cos(x1_n, x2_n) - margin) if y_n = -1."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """l_i = ln(1 + e^(-y_i x_i)), y_i in {1, -1}."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """l_n = -(1 / C) sum_c w_c (y_nc ln sigmoid(x_nc) + (1 - y_nc) ln sigmoid(-x_nc))."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class TripletMarginLoss(_MarginLoss):
    """l_n = max(d(a_n, p_n) - d(a_n, n_n) + margin, 0), d the p-norm distance (Balntas et al., 2016)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.p, self.eps, self.swap = p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """l_i = e^(x_i) - y_i x_i (log_input) or x_i - y_i ln(x_i + eps), + Stirling's term with full."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """l_i = (ln max(var_i, eps) + (x_i - y_i)^2 / max(var_i, eps)) / 2 (+ ln(2 pi) / 2 with full)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)
