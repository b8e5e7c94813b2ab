"""Loss modules: thin wrappers around tinynn.nn.functional, with PyTorch's arguments and defaults."""
from ..ops import REDUCTIONS
from . import functional as F
from .module import Module


class _Loss(Module):
    allowed = REDUCTIONS

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction, self.allowed)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """l_i = (x_i - y_i)^2, reduced by mean (default), sum or none."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against int64 class indices (N,):
    l_n = -sum_c q_nc log softmax(x_n)_c with q = (1 - e) onehot(t_n) + e / C, e = label_smoothing."""

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """l_n = -x_{n, t_n} for log-probabilities x (N, C)."""

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """l_i = -(y_i max(ln x_i, -100) + (1 - y_i) max(ln(1 - x_i), -100)) for probabilities x."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """l_i = max(x_i, 0) - x_i y_i + ln(1 + e^-|x_i|): BCE on sigmoid(x), computed stably from logits."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class KLDivLoss(_Loss):
    """l_i = p_i (ln p_i - x_i) for log-probabilities x and probabilities p (log p if log_target);
    reductions mean (over elements), batchmean (sum / N: the KL divergence per sample), sum, none."""

    allowed = REDUCTIONS + ("batchmean",)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
