"""PixelShuffle and PixelUnshuffle (Shi et al., 2016, "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network") and ChannelShuffle (Zhang et al., 2018,
"ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices"): each a reshape
and a permutation, so exact and differentiable through the shape ops."""
import numbers

from ..tensor import Tensor, as_tensor
from .module import Module


def _check(op, input, factor, what):
    if isinstance(factor, bool) or not isinstance(factor, int) or factor <= 0:
        raise ValueError(f"{op}: {what} must be a positive int, got {factor!r}")
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           "dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]: (*, C r^2, H, W) -> (*, C, H r, W r)."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    r = upscale_factor
    _check("pixel_shuffle", x, r, "upscale_factor")
    *batch, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w).permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    r = downscale_factor
    _check("pixel_unshuffle", x, r, "downscale_factor")
    *batch, c, h, w = x.shape
    for name, size, axis in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({axis})={size} is not divisible by {r}")
    n = len(batch)
    y = x.reshape(*batch, c, h // r, r, w // r, r).permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*batch, c * r * r, h // r, w // r)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = downscale_factor."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


def channel_shuffle(input, groups):
    """ShuffleNet's channel shuffle: the C = g k channels of x (N, C, *) (at least 3-D) seen as a (g, k) grid
    and read column by column: y[:, i g + j] = x[:, j k + i] (i < k, j < g)."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"channel_shuffle: groups must be an int, got {groups!r}")
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(x.shape)}")
    if groups <= 0:
        raise RuntimeError(f"channel_shuffle: Number of groups to divide channels in must be positive. "
                           f"Value of groups:{groups}")
    n, c, *rest = x.shape
    if c % groups:
        raise RuntimeError(f"channel_shuffle: Number of channels must be divisible by groups. Got {c} channels and "
                           f"{groups} groups.")
    groups = int(groups)
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def native_channel_shuffle(input, groups):
    """channel_shuffle (PyTorch's native kernel of it; the same values)."""
    return channel_shuffle(input, groups)


class ChannelShuffle(Module):
    """y = channel_shuffle(x, groups): (N, g k, *) -> (N, g k, *), channel i g + j from channel j k + i."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
