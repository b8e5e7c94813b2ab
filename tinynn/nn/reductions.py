"""The `reduction` argument of the losses (PyTorch's "mean" | "sum" | "none", and the deprecated
size_average/reduce flags), shared by tinynn.nn.functional and the loss files beside it."""
from ..ops import REDUCTIONS


def check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; choose one of {allowed}")


def reduce_loss(loss, reduction):
    """mean or sum of the elementwise loss, or the loss itself ("none")."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce flags mapped onto `reduction` (when either is given)."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"
