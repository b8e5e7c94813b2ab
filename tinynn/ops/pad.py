"""Padding with PyTorch's F.pad argument: (left, right) of the last axis, then of the one before, ..."""
from ..autograd.function import Function
from .. import backend

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_width(op, shape, pad, mode):
    """NumPy's ((before, after) per axis) from PyTorch's flat `pad` (last axis first), checked."""
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or any(isinstance(p, bool) or not isinstance(p, int)
                                                                 for p in pad):
        raise ValueError(f"{op}: pad must be a tuple of an even number of ints, got {pad!r}")
    if len(pad) // 2 > len(shape):
        raise ValueError(f"{op}: pad {tuple(pad)} pads {len(pad) // 2} axes but the input has shape {shape}")
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {PAD_MODES}, got {mode!r}")
    width = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        width[len(shape) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for size, (before, after) in zip(shape, width):
        if size + min(before, 0) + min(after, 0) < 0:  # cropping to nothing is allowed, as in PyTorch
            raise ValueError(f"{op}: pad {tuple(pad)} crops more than an axis of the input of shape {shape} holds")
        if mode != "constant" and (before or after):
            if min(before, after) < 0:
                raise ValueError(f"{op}: mode {mode!r} takes no negative padding, got {tuple(pad)}")
            limit = size - 1 if mode == "reflect" else (size if mode == "circular" else None)
            if size == 0 or (limit is not None and max(before, after) > limit):
                raise ValueError(f"{op}: {mode} padding {tuple(pad)} must be smaller than the padded axis "
                                 f"(input shape {shape})")
    return tuple(width)


class Pad(Function):
    """y = x padded (constant value, reflect, replicate or circular; a negative constant pad crops);
    dL/dx[i] = sum of g over the positions of y that copy x[i]."""

    __slots__ = ("width", "mode", "shape")
    exact_gradients = True
    differentiable = True  # create_graph: pad_backward is an op (ops/derivatives_conv.py)

    def forward(self, x, pad, mode="constant", value=0.0):
        self.width, self.mode, self.shape = pad_width("pad", x.shape, pad, mode), mode, x.shape
        return backend.active.pad(x, self.width, mode, value)

    def backward(self, g):
        return backend.active.pad_backward(g, self.width, self.mode, self.shape)
