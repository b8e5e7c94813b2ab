"""AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d and their functions, built on the
2-D pools (a 1-D signal is an image of height 1) and, for the adaptive maximum, on Tensor.max."""
import math

import numpy as np

from ..ops.methods import stack
from ..tensor import Tensor, as_tensor
from .pooling import _Pool, _height_one, adaptive_avg_pool2d, avg_pool2d


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _as_image(op, input, ndim):
    """(input (N, C, 1, L), unbatched) from input (N, C, L) or (C, L)."""
    if input.ndim not in (ndim - 1, ndim):
        raise ValueError(f"{op}: expected a {ndim - 1}-D or {ndim}-D input, got shape {tuple(input.shape)}")
    unbatched = input.ndim == ndim - 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _single(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """y[n, c, i] = (1 / D_i) sum_u x[n, c, s i - p + u] over windows of kernel_size (zero padding;
    D_i as in avg_pool2d) for input (N, C, L) or (C, L)."""
    x, unbatched = _as_image("avg_pool1d", _tensor(input), 3)
    y = avg_pool2d(x.unsqueeze(2), (1, _single(kernel_size)), None if stride is None else (1, _single(stride)),
                   _height_one(padding, 0), ceil_mode, count_include_pad).squeeze(2)
    return y[0] if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """y[n, c, i] = mean of x[n, c, floor(i L / Lo) : ceil((i + 1) L / Lo)]."""
    x, unbatched = _as_image("adaptive_avg_pool1d", _tensor(input), 3)
    y = adaptive_avg_pool2d(x.unsqueeze(2), (1, _single(output_size))).squeeze(2)
    return y[0] if unbatched else y


def _windows(size, out):
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out)) for i in range(out)]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """y[n, c, i, j] = max of x[n, c, floor(i H / Ho) : ceil((i + 1) H / Ho), floor(j W / Wo) : ceil((j + 1) W / Wo)]
    (None in output_size keeps that size); with return_indices, also the flat index h W + w of each
    maximum (the first one). The gradient goes to that one element, as PyTorch's."""
    x, unbatched = _as_image("adaptive_max_pool2d", _tensor(input), 4)
    h, w = x.shape[-2:]
    oh, ow = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else output_size
    oh, ow = h if oh is None else oh, w if ow is None else ow
    if oh < 0 or ow < 0 or (x.numel() and (oh == 0 or ow == 0)) or 0 in x.shape[-2:]:
        raise ValueError(f"adaptive_max_pool2d: output_size ({oh}, {ow}) and input shape {tuple(input.shape)} must "
                         "both be non-empty")
    rows, index_rows = [], []
    for top, bottom in _windows(h, oh):
        cells, indices = [], []
        for left, right in _windows(w, ow):
            window = x[:, :, top:bottom, left:right]
            value, where = window.reshape(*x.shape[:2], -1).max(dim=-1)
            cells.append(value)
            k = where._data
            indices.append((top + k // (right - left)) * w + left + k % (right - left))
        rows.append(stack(cells, -1))
        index_rows.append(np.stack(indices, -1))
    y = stack(rows, -2)
    idx = Tensor._wrap(np.stack(index_rows, -2).astype(np.int64), False)
    if unbatched:
        y, idx = y[0], idx[0]
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """y[n, c, i] = max of x[n, c, floor(i L / Lo) : ceil((i + 1) L / Lo)] (indices index L)."""
    x, unbatched = _as_image("adaptive_max_pool1d", _tensor(input), 3)
    y, idx = adaptive_max_pool2d(x.unsqueeze(2), (1, _single(output_size)), True)
    y, idx = y.squeeze(2), idx.squeeze(2)
    if unbatched:
        y, idx = y[0], idx[0]
    return (y, idx) if return_indices else y


class AvgPool1d(_Pool):
    """y = avg_pool1d(x): the mean over each window of x (N, C, L), stride apart (default: kernel_size)."""

    shown = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        def one(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)
        super().__init__(kernel_size=one(kernel_size), stride=one(stride if stride is not None else kernel_size),
                         padding=one(padding), ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    def forward(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AdaptiveAvgPool1d(_Pool):
    """y = adaptive_avg_pool1d(x, output_size)."""

    def __init__(self, output_size):
        super().__init__(output_size=output_size)

    def forward(self, x):
        return adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(_Pool):
    """y = adaptive_max_pool2d(x, output_size): maxima over windows that tile the input into output_size."""

    shown = ("output_size",)

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size=output_size, return_indices=return_indices)

    def forward(self, x):
        return adaptive_max_pool2d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """y = adaptive_max_pool1d(x, output_size)."""

    def forward(self, x):
        return adaptive_max_pool1d(x, self.output_size, self.return_indices)
