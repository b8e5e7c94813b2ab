"""tinynn.special, PyTorch's torch.special: elementwise special functions, differentiable to any order,
float32/float64 (integer and bool inputs are computed in the default float dtype, as PyTorch's):

    gammaln (torch.lgamma), digamma (psi), polygamma, multigammaln (torch.mvlgamma)
    erf, erfc, erfinv, ndtr, ndtri, log_ndtr
    i0, i0e, i1, i1e (modified Bessel functions of the first kind, e^-|x| scaled)
    expit (sigmoid), logit, exp2, expm1, log1p, xlogy, xlog1py, entr, sinc, round
    logsumexp, softmax, log_softmax

Methods and accuracy: tinynn/backend/reference_special.py and reference_bessel.py. What torch.special has
beyond these (airy_ai, bessel_j0, erfcx, zeta, gammainc, the orthogonal polynomials, ...) raises
AttributeError naming it.
"""
from ..creation import tensor as _tensor_of
from ..tensor import Tensor as _Tensor
from .torch_names import SPECIAL as _SPECIAL, logit, polygamma, mvlgamma as multigammaln

gammaln = _SPECIAL["lgamma"]
psi = digamma = _SPECIAL["digamma"]
erfc, erfinv, ndtr, ndtri, log_ndtr = (_SPECIAL[n] for n in ("erfc", "erfinv", "ndtr", "ndtri", "log_ndtr"))
i0, i0e, i1, i1e = (_SPECIAL[n] for n in ("i0", "i0e", "i1", "i1e"))
entr, sinc, xlogy, xlog1py = (_SPECIAL[n] for n in ("entr", "sinc", "xlogy", "xlog1py"))


def _t(x):
    return x if isinstance(x, _Tensor) else _tensor_of(x)


def expit(input):  # noqa: A002 - PyTorch's argument name
    """1 / (1 + e^-x), the logistic sigmoid."""
    return _t(input).sigmoid()


def erf(input):  # noqa: A002
    """(2 / sqrt(pi)) int_0^x e^(-t^2) dt."""
    return _t(input).erf()


def exp2(input):  # noqa: A002
    """2^x."""
    return _t(input).exp2()


def expm1(input):  # noqa: A002
    """e^x - 1, accurate for small x."""
    return _t(input).expm1()


def log1p(input):  # noqa: A002
    """ln(1 + x), accurate for small x."""
    return _t(input).log1p()


def round(input, *, decimals=0):  # noqa: A001, A002 - PyTorch's names
    """x rounded half to even, to `decimals` places: round(x 10^d) / 10^d (round(x / 10^-d) 10^-d
    for d < 0), as PyTorch computes it."""
    x = _t(input)
    if decimals == 0:
        return x.round()
    scale = 10.0 ** abs(decimals)
    return (x * scale).round() / scale if decimals > 0 else (x / scale).round() * scale


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """ln sum_i e^(x_i) along dim, computed stably."""
    return _t(input).logsumexp(dim, keepdim)


def softmax(input, dim, *, dtype=None):  # noqa: A002
    """e^(x_i) / sum_j e^(x_j) along dim."""
    return _t(input).softmax(dim=dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):  # noqa: A002
    """x_i - ln sum_j e^(x_j) along dim."""
    return _t(input).log_softmax(dim=dim, dtype=dtype)


__all__ = ["gammaln", "psi", "digamma", "polygamma", "multigammaln", "erf", "erfc", "erfinv",
           "ndtr", "ndtri", "log_ndtr", "i0", "i0e", "i1", "i1e", "expit", "logit", "exp2", "expm1", "log1p",
           "xlogy", "xlog1py", "entr", "sinc", "round", "logsumexp", "softmax", "log_softmax"]


def __getattr__(name):
    raise AttributeError(f"module 'tinynn.special' has no attribute {name!r}: tinynn does not have torch.special.{name}")
