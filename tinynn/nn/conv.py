"""Convolution layers Conv1d and Conv2d (NCHW / NCL), their functions conv1d and conv2d, and pad."""
import math

import numpy as np

from .. import ops
from ..ops.conv import conv_padding, pair
from ..tensor import Tensor, as_tensor, check_device
from . import init
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def pad(input, pad, mode="constant", value=0.0):
    """y = input padded by `pad` = (left, right) of the last axis, then (top, bottom) of the one
    before, ...: with `value` ("constant"; a negative amount crops), the mirror image without the
    edge ("reflect"), copies of the edge ("replicate") or the other end ("circular")."""
    return ops.Pad.apply(_tensor(input), pad=tuple(pad) if isinstance(pad, list) else pad, mode=mode,
                         value=0.0 if value is None else value)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, i, j] = b_o + sum_{c, u, v} W[o, c, u, v] x_pad[n, g(o) C/G + c, s_h i + d_h u, s_w j + d_w v]
    for input (N, C, H, W) (or (C, H, W)), weight (O, C/G, kh, kw), G = groups, g(o) = o // (O/G);
    padding an int, a pair, "valid" or "same" (stride 1 only)."""
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 3:  # one unbatched image
        return conv2d(input.reshape(1, *input.shape), weight, bias, stride, padding, dilation, groups)[0]
    params = (input, weight) if bias is None else (input, weight, _tensor(bias))
    return ops.Conv2d.apply(*params, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, i] = b_o + sum_{c, u} W[o, c, u] x_pad[n, g(o) C/G + c, s i + d u] for input (N, C, L)
    (or (C, L)), weight (O, C/G, k): conv2d on images of height 1."""
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 2:  # one unbatched sequence
        return conv1d(input.reshape(1, *input.shape), weight, bias, stride, padding, dilation, groups)[0]
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"Conv1d: expected input (N, C, L) and weight (out, in/groups, k), "
                         f"got shapes {input.shape} and {weight.shape}")
    stride, dilation = _single("Conv1d", "stride", stride), _single("Conv1d", "dilation", dilation)
    padding = padding if isinstance(padding, str) else (0, _single("Conv1d", "padding", padding, 0))
    x4 = input.reshape(input.shape[0], input.shape[1], 1, input.shape[2])
    w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
    params = (x4, w4) if bias is None else (x4, w4, _tensor(bias))
    y = ops.Conv2d.apply(*params, stride=(1, stride), padding=padding, dilation=(1, dilation), groups=groups,
                         name="Conv1d")
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


def _single(op, what, value, minimum=1):
    """v from an int or a 1-tuple of one, >= minimum."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{op}: {what} must be an int >= {minimum}, got {value!r}")
    return value


def _tuple(op, what, value, dims, minimum):
    if dims == 1:
        return (_single(op, what, value, minimum),)
    return pair(op, what, value, minimum)



def check_channels(op, in_channels, out_channels, groups):
    """A convolution layer's channel counts: non-negative ints, groups a positive int dividing both."""
    for name, n in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < (1 if name == "groups" else 0):
            raise ValueError(f"{op}: {name} must be a {'positive' if name == 'groups' else 'non-negative'} int, "
                             f"got {n!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")


def make_conv_parameters(module, weight_shape, bias, dtype):
    """module.weight (weight_shape) and module.bias (out_channels, or None), initialised as PyTorch's
    _ConvNd does (reset_conv_parameters)."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    module.register_parameter("bias", Parameter(np.empty(module.out_channels, dtype=dtype)) if bias else None)
    module.reset_parameters()


def reset_conv_parameters(module):
    """PyTorch's _ConvNd.reset_parameters: W ~ kaiming_uniform_(a = sqrt 5), b ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), fan_in = W.shape[1] * kernel taps (in/groups, or out/groups when transposed)."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in = module.weight.shape[1] * int(np.prod(module.weight.shape[2:]))
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)

class _ConvNd(Module):
    """What Conv1d and Conv2d share: PyTorch's arguments, weight (out, in/groups, *kernel) and bias
    (out,), initialised as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in/groups * prod(kernel)."""

    dims = 2
    layer = "Conv2d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        op, dims = self.layer, self.dims
        check_device(device, op)
        check_channels(op, in_channels, out_channels, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _tuple(op, "kernel_size", kernel_size, dims, 1)
        self.stride = _tuple(op, "stride", stride, dims, 1)
        self.dilation = _tuple(op, "dilation", dilation, dims, 1)
        self.padding = padding if isinstance(padding, str) else _tuple(op, "padding", padding, dims, 0)
        self.padding_mode = padding_mode
        # (top, bottom, left, right) checks a padding string now, as PyTorch does at construction
        self._pads = conv_padding(op, self.padding if isinstance(self.padding, str) else (0,) * (2 - dims) + self.padding,
                                  (1,) * (2 - dims) + self.kernel_size, (1,) * (2 - dims) + self.stride,
                                  (1,) * (2 - dims) + self.dilation)
        make_conv_parameters(self, (self.out_channels, self.in_channels // self.groups, *self.kernel_size), bias, dtype)

    def reset_parameters(self):
        reset_conv_parameters(self)

    def _conv(self, x, padding):
        fn = conv2d if self.dims == 2 else conv1d
        return fn(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, x):
        if self.padding_mode == "zeros":
            return self._conv(x, self.padding)
        pt, pb, pl, pr = self._pads  # F.pad's order: last axis first
        amounts = (pl, pr) if self.dims == 1 else (pl, pr, pt, pb)
        mode = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}[self.padding_mode]
        return self._conv(pad(x, amounts, mode=mode), 0)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """y = conv2d(x, W, b): x (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = floor((H + 2 p_h - d_h (k_h - 1) - 1) / s_h) + 1 (likewise W_out); W (C_out, C_in/groups, k_h, k_w)."""

    dims, layer = 2, "Conv2d"


class Conv1d(_ConvNd):
    """y = conv1d(x, W, b): x (N, C_in, L) -> (N, C_out, L_out), L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1;
    W (C_out, C_in/groups, k)."""

    dims, layer = 1, "Conv1d"
