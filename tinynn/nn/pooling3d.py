"""Volumetric (NCDHW) pooling: MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d and their
functions. Average pooling copies the windows into columns with vol2col (as conv3d does) and sums each
column, so its gradient is col2vol's; max pooling finds each window's maximum in those columns, then
gathers it from x (its gradient a scatter to the chosen element); the adaptive pools reuse the 2-D
ones (averages are separable) and Tensor.max (maxima)."""
import math

import numpy as np

from ..autograd import no_grad
from ..ops.conv3d import Vol2col
from ..ops.methods import stack
from ..ops.pool import pool_output_size
from ..tensor import Tensor, as_tensor
from .conv import pad
from .conv3d import triple
from .pooling import _Pool, adaptive_avg_pool2d


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _batched(op, input):
    """(input as (N, C, D, H, W), whether it came unbatched (C, D, H, W)), or ValueError naming op."""
    input = _tensor(input)
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float input, got dtype {input.dtype}")
    return (input.unsqueeze(0), True) if input.ndim == 4 else (input, False)


def _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling rules: stride defaults to the kernel, padding at most half the kernel, every
    output at least 1 long. Returns (kernel, stride, padding, dilation, output size, padding after
    each axis that makes exactly those windows; below zero it crops)."""
    kernel = triple(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else triple(op, "stride", stride, 1)
    padding, dilation = triple(op, "padding", padding, 0), triple(op, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of the kernel size {kernel}")
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
                         f"(input shape {tuple(x.shape)}, padding {padding}): the output would be {out}")
    after = tuple((o - 1) * s + d * (k - 1) + 1 - n - p
                  for n, k, s, p, d, o in zip(x.shape[2:], kernel, stride, padding, dilation, out))
    return kernel, stride, padding, dilation, out, after


def _first_taps(n, k, s, p, d, o):
    """Per window along one axis: the first tap inside the input, ceil((p - s i) / d) (at least 0)."""
    return np.minimum(np.maximum(0, -((np.arange(o) * s - p) // d)), k - 1)


def _holds_input(n, k, s, p, d, o):
    """Per window along one axis: whether any of its taps s i - p + d u lies inside the input."""
    where = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
    return ((where >= 0) & (where < n)).any(axis=1)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """y[n, c, i, j, l] = max_{t, u, v} x[n, c, s_D i - p_D + d_D t, s_H j - p_H + d_H u, s_W l - p_W + d_W v]
    (implicit -inf padding); with return_indices, also the flat index (d H + h) W + w of each maximum:
    PyTorch's rule, the first maximum in (t, u, v) order, or the last NaN of a window holding one. y is
    the gather of x at those indices, so the gradient goes to that element."""
    op = "max_pool3d"
    x, unbatched = _batched(op, input)
    kernel, stride, padding, dilation, out, after = _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c = x.shape[:2]
    amounts = tuple(v for p, a in reversed(tuple(zip(padding, after))) for v in (p, a))  # F.pad: last axis first
    with no_grad():  # the windows, to find each one's maximum: y is then a gather of x, its gradient a scatter
        cols = Vol2col.apply(pad(x.detach(), amounts, value=-math.inf),
                             geometry=(kernel, dilation, ((0, 0),) * 3, stride))
    values = cols._data.reshape(n, c, int(np.prod(kernel)), -1)
    nan = np.isnan(values)
    last_nan = values.shape[2] - 1 - np.argmax(nan[:, :, ::-1], axis=2)
    tap = np.where(nan.any(axis=2), last_nan, np.argmax(values, axis=2))              # (N, C, L)
    firsts = [_first_taps(*args) for args in zip(x.shape[2:], kernel, stride, padding, dilation, out)]
    first = ((firsts[0][:, None, None] * kernel[1] + firsts[1][None, :, None]) * kernel[2]
             + firsts[2][None, None, :]).reshape(-1)
    tap = np.where(values.max(axis=2, initial=-np.inf) == -np.inf, first, tap)  # nothing above -inf: the first inside
    taps = np.unravel_index(tap.reshape(n, c, *out), kernel)
    where = [np.arange(o).reshape([-1 if a == axis else 1 for a in range(3)]) * s - p + t * d
             for axis, (o, s, p, d, t) in enumerate(zip(out, stride, padding, dilation, taps))]
    h, w = x.shape[3:]
    index = ((where[0] * h + where[1]) * w + where[2]).astype(np.int64).reshape(n, c, -1)
    inside = (index >= 0) & (index < x.shape[2] * h * w)   # (a window of padding only holds no input)
    y = x.reshape(n, c, -1).gather(2, np.where(inside, index, 0))
    holds = [_holds_input(*args) for args in zip(x.shape[2:], kernel, stride, padding, dilation, out)]
    empty = ~(holds[0][:, None, None] & holds[1][None, :, None] & holds[2][None, None, :]).reshape(-1)
    if empty.any():  # a window of padding only is -inf; PyTorch still sends its gradient to x[index]
        y = y + np.where(empty, -np.inf, 0.0).astype(x.dtype)
    if not inside.all():
        y = y.masked_fill(Tensor._wrap(~inside, False), -math.inf)
    y, index = y.reshape(n, c, *out), Tensor._wrap(index.reshape(n, c, *out), False)
    if unbatched:
        y, index = y[0], index[0]
    return (y, index) if return_indices else y


def _divisors(size, kernel, stride, padding, out, count_include_pad):
    """PyTorch's divisor per output along one axis: the window clipped to the padded input (with
    count_include_pad), or to the input itself (without)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    return end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """y[n, c, i, j, l] = (1 / D_ijl) sum_{t, u, v} x[n, c, s_D i - p_D + t, s_H j - p_H + u, s_W l - p_W + v]
    (zero padding), D_ijl = divisor_override, or the window's size within the padded input
    (count_include_pad) or within the input."""
    op = "avg_pool3d"
    x, unbatched = _batched(op, input)
    kernel, stride, padding, _, out, after = _geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero number, got {divisor_override!r}")
    n, c = x.shape[:2]
    cols = Vol2col.apply(x, geometry=(kernel, (1, 1, 1), tuple(zip(padding, after)), stride))
    total = cols.reshape(n, c, int(np.prod(kernel)), -1).sum(2).reshape(n, c, *out)
    if divisor_override is not None:
        y = total / float(divisor_override)
    else:
        dd, dh, dw = (_divisors(*args, count_include_pad)
                      for args in zip(x.shape[2:], kernel, stride, padding, out))
        y = total / (dd[:, None, None] * dh[None, :, None] * dw[None, None, :]).astype(x.dtype)
    return y[0] if unbatched else y


def _adaptive_size(op, x, output_size):
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(sizes) != 3:
        raise ValueError(f"{op}: output_size must be an int or a triple, got {output_size!r}")
    sizes = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes) or min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: output_size must hold ints >= 1 (or None) and the input must not be empty, got "
                         f"output_size {output_size!r} and input shape {tuple(x.shape)}")
    return sizes


def adaptive_avg_pool3d(input, output_size):
    """y[n, c, i, j, l] = mean of x over the window [floor(i D / Do), ceil((i + 1) D / Do)) x (likewise along H, W).
    Separable: pool (H, W) per depth slice, then D (averages of equal-weight averages are the means)."""
    x, unbatched = _batched("adaptive_avg_pool3d", input)
    sizes = _adaptive_size("adaptive_avg_pool3d", x, output_size)
    n, c, d, h, w = x.shape
    y = adaptive_avg_pool2d(x.reshape(n, c * d, h, w), sizes[1:])
    y = adaptive_avg_pool2d(y.reshape(n, c, d, sizes[1] * sizes[2]), (sizes[0], sizes[1] * sizes[2]))
    y = y.reshape(n, c, *sizes)
    return y[0] if unbatched else y


def _windows(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """y[n, c, i, j, l] = max of x over the window [floor(i D / Do), ceil((i + 1) D / Do)) x (likewise along H, W);
    with return_indices, also the flat index (d H + h) W + w of each maximum (the first one), where the
    gradient goes."""
    x, unbatched = _batched("adaptive_max_pool3d", input)
    sizes = _adaptive_size("adaptive_max_pool3d", x, output_size)
    n, c, d, h, w = x.shape
    cells, indices = [], []
    for d0, d1 in _windows(d, sizes[0]):
        for h0, h1 in _windows(h, sizes[1]):
            for w0, w1 in _windows(w, sizes[2]):
                value, where = x[:, :, d0:d1, h0:h1, w0:w1].reshape(n, c, -1).max(dim=-1)
                cells.append(value)
                t, u, v = np.unravel_index(where._data, (d1 - d0, h1 - h0, w1 - w0))
                indices.append(((d0 + t) * h + h0 + u) * w + w0 + v)
    y = stack(cells, -1).reshape(n, c, *sizes)
    index = Tensor._wrap(np.stack(indices, -1).reshape(n, c, *sizes).astype(np.int64), False)
    if unbatched:
        y, index = y[0], index[0]
    return (y, index) if return_indices else y


class MaxPool3d(_Pool):
    """y = max_pool3d(x): the maximum over each kernel_size window, stride apart (default: kernel_size)."""

    shown = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size=kernel_size, stride=stride if stride is not None else kernel_size,
                         padding=padding, dilation=dilation, return_indices=return_indices, ceil_mode=ceil_mode)

    def forward(self, x):
        return max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool3d(_Pool):
    """y = avg_pool3d(x): the mean over each kernel_size window, stride apart (default: kernel_size)."""

    shown = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size=kernel_size, stride=stride if stride is not None else kernel_size,
                         padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divisor_override=divisor_override)

    def forward(self, x):
        return avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AdaptiveAvgPool3d(_Pool):
    """y = adaptive_avg_pool3d(x, output_size): means over windows that tile the input into output_size."""

    def __init__(self, output_size):
        super().__init__(output_size=output_size)

    def forward(self, x):
        return adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(_Pool):
    """y = adaptive_max_pool3d(x, output_size): maxima over windows that tile the input into output_size."""

    shown = ("output_size",)

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size=output_size, return_indices=return_indices)

    def forward(self, x):
        return adaptive_max_pool3d(x, self.output_size, self.return_indices)
