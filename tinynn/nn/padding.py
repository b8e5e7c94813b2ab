"""Padding layers with PyTorch's names, arguments and reprs, each one call of F.pad:
ZeroPad1d/2d/3d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d, CircularPad1d/2d/3d.
An int pads every side by that much; a tuple is F.pad's (left, right[, top, bottom[, front, back]])."""
from .conv import pad
from .module import Module


class _PadNd(Module):
    mode, sides, value = "constant", 2, 0.0

    def __init__(self, padding):
        super().__init__()
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * (2 * self.sides)
        padding = tuple(padding)
        if len(padding) != 2 * self.sides:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self.sides} ints, "
                             f"got {padding!r}")
        self.padding = padding

    def forward(self, input):
        spatial = self.sides
        if input.ndim not in (spatial + 1, spatial + 2) and self.mode != "constant":
            raise ValueError(f"{type(self).__name__}: expected a {spatial + 1}-D or {spatial + 2}-D input, got "
                             f"shape {tuple(input.shape)}")
        return pad(input, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`: padding = (left, right)."""

    sides = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with `value`: padding = (left, right, top, bottom)."""

    sides = 2


class ZeroPad1d(_PadNd):
    """Pads the last dim with zeros: padding = (left, right)."""

    sides = 1


class ZeroPad2d(_PadNd):
    """Pads the last two dims with zeros: padding = (left, right, top, bottom)."""

    sides = 2


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its mirror image without the edge (padding < the dim's size)."""

    mode, sides = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last two dims with their mirror image without the edge."""

    mode, sides = "reflect", 2


class ReplicationPad1d(_PadNd):
    """Pads the last dim with copies of its edge values."""

    mode, sides = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last two dims with copies of their edge values."""

    mode, sides = "replicate", 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with `value`: padding = (left, right, top, bottom, front, back)."""

    sides = 3


class ZeroPad3d(_PadNd):
    """Pads the last three dims with zeros: padding = (left, right, top, bottom, front, back)."""

    sides = 3


class ReflectionPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with their mirror image without the edge."""

    mode, sides = "reflect", 3


class ReplicationPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with copies of their edge values."""

    mode, sides = "replicate", 3


class CircularPad1d(_PadNd):
    """Pads the last dim of (C, W) or (N, C, W) periodically: y[i] = x[(i - left) mod W] (padding <= W)."""

    mode, sides = "circular", 1


class CircularPad2d(_PadNd):
    """Pads the last two dims of (C, H, W) or (N, C, H, W) periodically (the input tiled around itself)."""

    mode, sides = "circular", 2


class CircularPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) periodically."""

    mode, sides = "circular", 3
