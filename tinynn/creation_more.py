"""More of PyTorch's creation functions: the signal windows (hann, hamming, blackman, bartlett, kaiser), the
deprecated torch.range and scalar_tensor. Each takes `dtype=` (a floating one; the default dtype when
None), `device=` ("cpu") and `requires_grad=`, as creation.py's do.

A window of length N is periodic by default (PyTorch's choice, for spectral analysis): the symmetric window
of length N + 1 without its last point. With M = N - 1 (symmetric) or N (periodic) and n = 0, ..., N - 1
(Oppenheim & Schafer, "Discrete-Time Signal Processing", 3rd ed., section 7.5; Kaiser & Schafer 1980):
    hann      w_n = 1/2 - 1/2 cos(2 pi n / M)
    hamming   w_n = alpha - beta cos(2 pi n / M)
    blackman  w_n = 0.42 - 0.5 cos(2 pi n / M) + 0.08 cos(4 pi n / M)
    bartlett  w_n = 1 - |2 n / M - 1|
    kaiser    w_n = I0(beta sqrt(1 - (2 n / M - 1)^2)) / I0(beta)
A window of length 1 is [1]; of length 0, empty."""
import math
import warnings

import numpy as np

from .creation import _leaf
from .dtypes import checked_dtype, get_default_dtype


def _window(op, window_length, periodic, dtype, device, requires_grad, shape):
    """The window w_n = shape(n / M), n = 0..N-1, as a new leaf tensor (PyTorch's checks first)."""
    dtype = checked_dtype(get_default_dtype() if dtype is None else dtype, op)
    if dtype.kind != "f":
        raise RuntimeError(f"{op}: expects floating point dtypes, got {dtype}")
    n = int(window_length)
    if n < 0:
        raise RuntimeError(f"{op}: requires non-negative window_length, got window_length={window_length}")
    if n <= 1:
        return _leaf(np.ones(n), dtype, device, requires_grad, op)
    m = n if periodic else n - 1
    return _leaf(shape(np.arange(n) / m), dtype, device, requires_grad, op)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window, w_n = 1/2 - 1/2 cos(2 pi n / M)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 0.5 - 0.5 * np.cos(2 * math.pi * t))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """The Hamming window, w_n = alpha - beta cos(2 pi n / M)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: alpha - beta * np.cos(2 * math.pi * t))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window, w_n = 0.42 - 0.5 cos(2 pi n / M) + 0.08 cos(4 pi n / M)."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 0.42 - 0.5 * np.cos(2 * math.pi * t) + 0.08 * np.cos(4 * math.pi * t))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window, w_n = 1 - |2 n / M - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 1.0 - np.abs(2.0 * t - 1.0))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """The Kaiser window, w_n = I0(beta sqrt(1 - (2 n / M - 1)^2)) / I0(beta), I0 the modified Bessel function
    of the first kind of order 0 (J. F. Kaiser and R. W. Schafer, "On the use of the I0-sinh window for
    spectrum analysis", IEEE Trans. ASSP 28(1), 1980)."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: np.i0(beta * np.sqrt(np.clip(1.0 - (2.0 * t - 1.0) ** 2, 0.0, None))) / np.i0(beta))


def range(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: A001
    """start, start + step, ..., up to and including end: floor((end - start) / step) + 1 values, in the
    default float dtype unless `dtype` is given (deprecated in PyTorch, which warns; arange excludes end)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        raise TypeError("range: missing the required argument 'end'")
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound {end} and lower bound {start} inconsistent with step sign {step}")
    count = int(math.floor((end - start) / step)) + 1
    return _leaf(start + step * np.arange(count, dtype=np.float64), get_default_dtype() if dtype is None else dtype,
                 device, requires_grad, "range")


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number s, in the default float dtype unless `dtype` is given."""
    if hasattr(s, "item") and getattr(s, "ndim", 0) == 0:
        s = s.item()
    if not isinstance(s, (bool, int, float, np.number)):
        raise TypeError(f"scalar_tensor: argument 's' must be a number, not {type(s).__name__}")
    return _leaf(np.asarray(s, np.float64), get_default_dtype() if dtype is None else dtype, device, requires_grad,
                 "scalar_tensor")
