"""The reference's kernels for tinynn/ops/math_more.py and tinynn/math_extras/: the inverse hyperbolic
functions, atan2, the NaN-ignoring fmax/fmin, gcd/lcm, frexp, bit shifts with PyTorch's rule for out-of-range
shift counts, histogram counts over given bin edges, and set membership. NumPy's own functions, where NumPy
has them."""
import numpy as np

arccosh, arcsinh, arctanh = np.arccosh, np.arcsinh, np.arctanh  # acosh x = ln(x + sqrt(x^2 - 1)), ...
arctan2 = np.arctan2  # atan2(y, x): the angle of the point (x, y), in [-pi, pi]
fmax, fmin = np.fmax, np.fmin  # max(a, b) / min(a, b), the number where one of a, b is NaN
gcd, lcm = np.gcd, np.lcm  # gcd(a, b) >= 0, gcd(0, 0) = 0; lcm(a, b) = |a b| / gcd(a, b), lcm(0, b) = 0


def frexp(x):
    """(m, e) with x = m 2^e, 1/2 <= |m| < 1 (m = x, e = 0 for 0, inf and NaN); e int32."""
    mantissa, exponent = np.frexp(x)
    return mantissa, exponent.astype(np.int32)


def _shift_count(b, dtype):
    """(b as a valid shift count, where b is one): a count below 0 or of at least the bit width is out of range."""
    bits = np.dtype(dtype).itemsize * 8
    valid = (b >= 0) & (b < bits)
    return np.where(valid, b, 0).astype(dtype), valid


def left_shift(a, b):
    """a 2^b in a's integer type (wrapping), 0 where the count b is < 0 or >= the bit width (PyTorch's rule)."""
    count, valid = _shift_count(b, a.dtype)
    return np.where(valid, np.left_shift(a, count), 0).astype(a.dtype)


def right_shift(a, b):
    """floor(a / 2^b) (an arithmetic shift), and where the count b is < 0 or >= the bit width, -1 for a < 0
    and 0 otherwise (PyTorch's rule)."""
    count, valid = _shift_count(b, a.dtype)
    return np.where(valid, np.right_shift(a, count), np.where(a < 0, -1, 0)).astype(a.dtype)


def histogram(x, edges, weights=None):
    """h_k = the number (the summed weights) of the x_i with e_k <= x_i < e_{k+1}, the last bin also taking
    x_i = e_K; x_i outside [e_0, e_K], and NaN, are not counted. In x's dtype."""
    keep = ~np.isnan(x)
    counts, _ = np.histogram(x[keep], bins=edges, weights=None if weights is None else weights[keep])
    return counts.astype(x.dtype)


def isin(elements, test_elements, assume_unique=False, invert=False):
    """Whether each element equals some test element (never for NaN); its negation when invert."""
    return np.isin(elements, test_elements, assume_unique=assume_unique, invert=invert)
