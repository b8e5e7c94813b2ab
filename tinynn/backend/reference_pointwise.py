"""The NumPy reference of the elementwise functions PyTorch defines with particular values at 0, at
infinity or outside their domain (torch.sinc, special.entr, logit, xlogy, special.xlog1py, hypot,
logaddexp, logaddexp2, copysign, nextafter, heaviside). Floating operands of one dtype in, that
dtype out (the ops promote first); NumPy's floating-point warnings are off: these values are results."""
import numpy as np


def _quiet(fn):
    def kernel(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    kernel.__name__, kernel.__qualname__, kernel.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    kernel.__wrapped__ = fn
    return kernel


@_quiet
def sinc(x):
    """sin(pi x) / (pi x), and 1 at x = 0 (NaN at +-inf)."""
    px = np.pi * x
    return np.where(x == 0, np.ones((), x.dtype), np.sin(px) / px)


@_quiet
def entr(x):
    """-x ln x for x > 0; 0 at x = 0; -inf for x < 0 (and NaN at NaN), as PyTorch's special.entr."""
    y = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf)).astype(x.dtype)
    return np.where(np.isnan(x), x, y)


@_quiet
def logit(x):
    """ln(x / (1 - x)): -inf at 0, inf at 1, NaN outside [0, 1]."""
    return np.log(x / (1 - x))


@_quiet
def xlogy(x, y):
    """x ln y, and 0 where x = 0 unless y is NaN (PyTorch's convention: 0 ln 0 = 0)."""
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), np.result_type(x, y)), x * np.log(y))


@_quiet
def xlog1py(x, y):
    """x ln(1 + y), and 0 where x = 0 unless y is NaN."""
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), np.result_type(x, y)), x * np.log1p(y))


@_quiet
def hypot(a, b):
    """sqrt(a^2 + b^2) without overflow or underflow in the squares (C's hypot)."""
    return np.hypot(a, b)


@_quiet
def logaddexp(a, b):
    """ln(e^a + e^b) = max(a, b) + ln(1 + e^-|a - b|), without overflow (inf where either is inf)."""
    return np.logaddexp(a, b)


@_quiet
def logaddexp2(a, b):
    """log2(2^a + 2^b) = max(a, b) + log2(1 + 2^-|a - b|)."""
    return np.logaddexp2(a, b)


@_quiet
def copysign(a, b):
    """|a| with the sign bit of b (-0.0 and -NaN count as negative)."""
    return np.copysign(a, b)


@_quiet
def nextafter(a, b):
    """The floating-point number next to a in the direction of b (b itself where a = b)."""
    return np.nextafter(a, b)


def heaviside(x, values):
    """H(x) = 0 for x < 0, `values` at x = 0, 1 for x > 0 (and 0 at NaN, as PyTorch); x's dtype."""
    return np.where(x == 0, values, x > 0).astype(np.result_type(x, values))
