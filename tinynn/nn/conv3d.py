"""Volumetric (NCDHW) convolutions Conv3d and ConvTranspose3d and their functions conv3d and
conv_transpose3d, written the readable way: vol2col copies every window into a column, so a convolution
is one matrix product per group, W (O/G, C/G kD kH kW) @ cols; the transposed convolution is the
adjoint, col2vol(W^T @ x). Their gradients are autograd's: matmul's, and col2vol for vol2col (and back)."""
import numbers

import numpy as np

from ..ops.conv3d import Col2vol, Vol2col
from ..tensor import Tensor, as_tensor, check_device
from .conv import _ConvNd, check_channels, make_conv_parameters, pad
from .conv_transpose import _ConvTransposeNd
from .module import Module


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def triple(op, what, value, minimum):
    """(a, b, c) from an int or three ints, each >= minimum; ValueError naming op otherwise."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3
    if (len(values) != 3 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values)
            or min(values) < minimum):
        raise ValueError(f"{op}: {what} must be an int >= {minimum} or a triple of them, got {value!r}")
    return tuple(int(v) for v in values)


def conv3d_padding(op, padding, kernel, stride, dilation):
    """((before, after),) * 3 from an int, a triple, "valid" (none) or "same" (stride 1 only: a total
    of d (k - 1) per axis, the odd one after, as PyTorch)."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a triple of ints, got {padding!r}")
        if padding == "same" and stride != (1, 1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
        totals = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in triple(op, "padding", padding, 0))


def _check_operands(op, x, weight, bias, groups, layout):
    if x.ndim != 5 or weight.ndim != 5:
        raise ValueError(f"{op}: expected input (N, C, D, H, W) (or (C, D, H, W)) and weight {layout}, "
                         f"got shapes {tuple(x.shape)} and {tuple(weight.shape)}")
    if x.dtype != weight.dtype or x.dtype.kind != "f" or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share one float dtype, got {x.dtype}, {weight.dtype}"
                        f"{'' if bias is None else ', ' + str(bias.dtype)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, i, j, l] = b_o + sum_{c, t, u, v} W[o, c, t, u, v] x_pad[n, g(o) C/G + c, s_D i + d_D t, s_H j + d_H u,
    s_W l + d_W v] for input (N, C, D, H, W) (or (C, D, H, W)), weight (O, C/G, kD, kH, kW), G = groups,
    g(o) = o // (O/G); padding an int, a triple, "valid" or "same" (stride 1 only). Computed as
    y[n, group] = W[group] (O/G, C/G kD kH kW) @ vol2col(x)[n, group] (C/G kD kH kW, Do Ho Wo)."""
    op = "conv3d"
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 4:  # one unbatched volume
        return conv3d(input.reshape(1, *input.shape), weight, bias, stride, padding, dilation, groups)[0]
    bias = None if bias is None else _tensor(bias)
    _check_operands(op, input, weight, bias, groups, "(out, in/groups, kD, kH, kW)")
    (n, c), (o, per_group), kernel = input.shape[:2], weight.shape[:2], tuple(weight.shape[2:])
    if o % groups or c != per_group * groups:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)} do not "
                         f"fit groups={groups} (the weight expects {per_group * groups} input channels, and groups "
                         f"must divide its {o} output channels)")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not match weight of shape "
                         f"{tuple(weight.shape)}")
    stride, dilation = triple(op, "stride", stride, 1), triple(op, "dilation", dilation, 1)
    pads = conv3d_padding(op, padding, kernel, stride, dilation)
    padded = tuple(s + b + a for s, (b, a) in zip(input.shape[2:], pads))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(r > p for r, p in zip(reach, padded)):
        raise ValueError(f"{op}: kernel size {reach} (dilated) is larger than the padded input {padded} "
                         f"(input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)})")
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    cols = Vol2col.apply(input, geometry=(kernel, dilation, pads, stride))      # (N, C kD kH kW, Do Ho Wo)
    cols = cols.reshape(n, groups, per_group * int(np.prod(kernel)), cols.shape[2])
    y = (weight.reshape(groups, o // groups, -1) @ cols).reshape(n, o, *out)  # (N, G, O/G, L) -> NCDHW
    return y if bias is None else y + bias.reshape(o, 1, 1, 1)


def _transposed_geometry(op, x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The one check of a conv_transpose3d call: returns (output size, vol2col geometry of the adjoint conv3d)."""
    _check_operands(op, x, weight, bias, groups, "(C_in, C_out/groups, kD, kH, kW)")
    if weight.shape[0] % groups or x.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} do not fit "
                         f"groups={groups} (the weight expects {weight.shape[0]} input channels, a multiple of groups)")
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not match the {weight.shape[1] * groups} "
                         f"output channels (weight shape {tuple(weight.shape)}, groups={groups})")
    stride, dilation = triple(op, "stride", stride, 1), triple(op, "dilation", dilation, 1)
    pads, extra = triple(op, "padding", padding, 0), triple(op, "output_padding", output_padding, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1
                for n, s, p, d, k, e in zip(x.shape[2:], stride, pads, dilation, kernel, extra))
    if min(out) < 1:
        raise ValueError(f"{op}: the output size {out} is not positive (input shape {tuple(x.shape)}, weight shape "
                         f"{tuple(weight.shape)}, stride {stride}, padding {pads}, dilation {dilation})")
    # the full transposed output F, (n - 1) s + d (k - 1) + 1 long, is cropped to F[p : p + out]
    return out, (kernel, dilation, tuple((p, p - e) for p, e in zip(pads, extra)), stride)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """y = conv3d's adjoint in its input, plus b: <conv3d(x, W), y> = <x, conv_transpose3d(y, W)>, i.e.
    y[n, o, s_D i - p_D + d_D t, ...] += x[n, c, i, j, l] W[c, o', t, u, v] (o in c's group), for input
    (N, C_in, D, H, W) (or unbatched), weight (C_in, C_out/groups, kD, kH, kW); output (N, C_out, Do, Ho, Wo),
    Do = (D - 1) s - 2 p + d (kD - 1) + output_padding + 1. Computed as col2vol(W[group]^T @ x[n, group])."""
    op = "conv_transpose3d"
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 4:  # one unbatched volume
        return conv_transpose3d(input.reshape(1, *input.shape), weight, bias, stride, padding, output_padding,
                                groups, dilation)[0]
    bias = None if bias is None else _tensor(bias)
    out, geometry = _transposed_geometry(op, input, weight, bias, stride, padding, output_padding, groups, dilation)
    n, c = input.shape[:2]
    o = weight.shape[1] * groups
    x = input.reshape(n, groups, c // groups, -1)                                   # (N, G, C/G, L)
    w = weight.reshape(groups, c // groups, -1)                                     # (G, C/G, O/G kD kH kW)
    cols = (w.swapaxes(-1, -2) @ x).reshape(n, o * int(np.prod(geometry[0])), -1)   # (N, O kD kH kW, L)
    y = Col2vol.apply(cols, size=out, geometry=geometry)
    return y if bias is None else y + bias.reshape(o, 1, 1, 1)


class Conv3d(_ConvNd):
    """y = conv3d(x, W, b): x (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out) with
    D_out = floor((D + 2 p_D - d_D (k_D - 1) - 1) / s_D) + 1 (likewise H_out, W_out);
    W (C_out, C_in/groups, kD, kH, kW),
    initialised as Conv2d's (kaiming_uniform_(a=sqrt(5)), fan_in = C_in/groups kD kH kW). padding_mode
    "zeros", "reflect", "replicate" or "circular"."""

    dims, layer = 3, "Conv3d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        op = self.layer
        check_device(device, op)
        check_channels(op, in_channels, out_channels, groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'), "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = triple(op, "kernel_size", kernel_size, 1)
        self.stride, self.dilation = triple(op, "stride", stride, 1), triple(op, "dilation", dilation, 1)
        self.padding = padding if isinstance(padding, str) else triple(op, "padding", padding, 0)
        self.padding_mode = padding_mode
        self._pads = conv3d_padding(op, self.padding, self.kernel_size, self.stride, self.dilation)  # checked now
        make_conv_parameters(self, (self.out_channels, self.in_channels // self.groups, *self.kernel_size), bias, dtype)

    def forward(self, x):
        if self.padding_mode == "zeros":
            return conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        amounts = tuple(v for before_after in reversed(self._pads) for v in before_after)  # F.pad: last axis first
        return conv3d(pad(x, amounts, mode=self.padding_mode), self.weight, self.bias, self.stride, 0,
                      self.dilation, self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    """y = conv_transpose3d(x, W, b): x (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    D_out = (D - 1) s - 2 p + d (k - 1) + output_padding + 1; W (C_in, C_out/groups, kD, kH, kW), b (C_out,),
    initialised as ConvTranspose2d's (fan_in = C_out/groups kD kH kW). forward(x, output_size=None):
    output_size (D_out, H_out, W_out) (or with N, C in front) picks output_padding."""

    dims, layer = 3, "ConvTranspose3d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        op = self.layer
        check_device(device, op)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {op}, got padding_mode={padding_mode!r}')
        check_channels(op, in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = triple(op, "kernel_size", kernel_size, 1)
        self.stride, self.padding = triple(op, "stride", stride, 1), triple(op, "padding", padding, 0)
        self.output_padding = triple(op, "output_padding", output_padding, 0)
        self.dilation = triple(op, "dilation", dilation, 1)
        self.transposed, self.padding_mode = True, padding_mode
        make_conv_parameters(self, (self.in_channels, self.out_channels // self.groups, *self.kernel_size), bias, dtype)

    def forward(self, input, output_size=None):
        input = _tensor(input)
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)
