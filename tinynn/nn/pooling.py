"""Pooling layers MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and their functions (NCHW / NCL)."""
from .. import ops
from ..tensor import Tensor, as_tensor
from .module import Module


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _unbatched(fn, input, *args, **kwargs):
    """fn on a batch of one when input lacks the batch axis (C, H, W) / (C, L), as PyTorch allows."""
    out = fn(input.reshape(1, *input.shape), *args, **kwargs)
    return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """y[n, c, i, j] = max_{u, v} x[n, c, s_h i - p_h + d_h u, s_w j - p_w + d_w v] (implicit -inf padding);
    with return_indices, also the flat index h W + w of each maximum (the first one, as PyTorch)."""
    input = _tensor(input)
    if input.ndim == 3:
        return _unbatched(max_pool2d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    kept = [] if return_indices else None
    y = ops.MaxPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                            ceil_mode=ceil_mode, indices_out=kept)
    return (y, Tensor._wrap(kept[0], False)) if return_indices else y


def _height_one(value, fill):
    """(fill, v) from a 1-D argument v or (v,): the same pooling on images of height 1."""
    return (fill, value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """max_pool2d along the last axis of input (N, C, L) (or (C, L)); indices index L."""
    input = _tensor(input)
    if input.ndim == 2:
        return _unbatched(max_pool1d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if input.ndim != 3:
        raise ValueError(f"MaxPool1d: expected an input (N, C, L), got shape {input.shape}")
    out = max_pool2d(input.reshape(input.shape[0], input.shape[1], 1, input.shape[2]), _height_one(kernel_size, 1),
                     None if stride is None else _height_one(stride, 1), _height_one(padding, 0),
                     _height_one(dilation, 1), ceil_mode, return_indices)
    if return_indices:
        y, idx = out
        return y.reshape(*y.shape[:2], y.shape[3]), idx.reshape(*idx.shape[:2], idx.shape[3])
    return out.reshape(*out.shape[:2], out.shape[3])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """y[n, c, i, j] = (1 / D_ij) sum_{u, v} x[n, c, s_h i - p_h + u, s_w j - p_w + v] (zero padding),
    D_ij = the window's size within the padded input (count_include_pad) or within the input."""
    input = _tensor(input)
    if input.ndim == 3:
        return _unbatched(avg_pool2d, input, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return ops.AvgPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                               count_include_pad=count_include_pad)


def adaptive_avg_pool2d(input, output_size):
    """y[n, c, i, j] = mean of x[n, c, floor(i H / Ho) : ceil((i + 1) H / Ho), floor(j W / Wo) : ceil((j + 1) W / Wo)]."""
    input = _tensor(input)
    if input.ndim == 3:
        return _unbatched(adaptive_avg_pool2d, input, output_size)
    return ops.AdaptiveAvgPool2d.apply(input, output_size=output_size)


class _Pool(Module):
    """Keeps the constructor's arguments as attributes (PyTorch's names) and shows them in repr."""

    shown = None  # the arguments PyTorch's repr shows (all when None)

    def __init__(self, **arguments):
        super().__init__()
        self._arguments = tuple(arguments)
        for name, value in arguments.items():
            setattr(self, name, value)

    def extra_repr(self):
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.shown or self._arguments)


class MaxPool2d(_Pool):
    """y = max_pool2d(x): the maximum over each kernel_size window, stride apart (default: kernel_size)."""

    shown = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size=kernel_size, stride=stride if stride is not None else kernel_size,
                         padding=padding, dilation=dilation, return_indices=return_indices, ceil_mode=ceil_mode)

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class MaxPool1d(MaxPool2d):
    """y = max_pool1d(x): the maximum over each window of x (N, C, L)."""

    def forward(self, x):
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool2d(_Pool):
    """y = avg_pool2d(x): the mean over each kernel_size window, stride apart (default: kernel_size)."""

    shown = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size=kernel_size, stride=stride if stride is not None else kernel_size,
                         padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AdaptiveAvgPool2d(_Pool):
    """y = adaptive_avg_pool2d(x, output_size): means over windows that tile the input into output_size."""

    def __init__(self, output_size):
        super().__init__(output_size=output_size)

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)
