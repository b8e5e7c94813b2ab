"""Transposed convolution ConvTranspose2d (also called fractionally strided convolution or
"deconvolution"; Zeiler et al., "Deconvolutional Networks", 2010) and its function conv_transpose2d."""

from ..ops.conv import check_operands, pair
from ..ops.conv_transpose import ConvTranspose2d as _ConvTranspose2dOp
from ..tensor import Tensor, as_tensor, check_device
from .conv import _tuple, check_channels, make_conv_parameters, reset_conv_parameters
from .module import Module


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _geometry(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The one check of a conv_transpose2d call; returns ((stride, (top, bottom, left, right), dilation,
    groups) of the adjoint conv2d, the conv2d input shape, the zero rows and columns that follow it)."""
    op = "conv_transpose2d"
    check_operands(op, x, weight, bias, groups, "(C_in, C_out/groups, kh, kw)")
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the weight's {weight.shape[0]} input channels "
                         f"(weight shape {weight.shape})")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but the weight {weight.shape} expects "
                         f"{weight.shape[0]} (input shape {x.shape})")
    out_channels = weight.shape[1] * groups
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not match the {out_channels} output channels "
                         f"(weight shape {weight.shape}, groups={groups})")
    stride, dilation = pair(op, "stride", stride, 1), pair(op, "dilation", dilation, 1)
    pads, extra = pair(op, "padding", padding, 0), pair(op, "output_padding", output_padding, 0)
    if any(o >= s and o >= d for o, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(x.shape[2:], stride, dilation, weight.shape[2:])]
    out = [f - 2 * p + o for f, p, o in zip(full, pads, extra)]
    if min(out) < 1:
        raise ValueError(f"{op}: the output size {tuple(out)} is not positive (input shape {x.shape}, weight "
                         f"shape {weight.shape}, stride {stride}, padding {pads}, dilation {dilation})")
    if any(f <= p for f, p in zip(full, pads)):
        raise NotImplementedError(f"{op}: padding {pads} crops all of the transposed convolution (size {tuple(full)}), "
                                  f"leaving only output_padding {extra} zeros (input shape {x.shape})")
    after = [max(p - o, 0) for p, o in zip(pads, extra)]
    zeros = tuple(max(o - p, 0) for p, o in zip(pads, extra))
    shape = (x.shape[0], out_channels, out[0] - zeros[0], out[1] - zeros[1])
    return (stride, (pads[0], after[0], pads[1], after[1]), dilation, groups), shape, zeros


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """y = conv2d's adjoint in its input: <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>, plus b.
    input (N, C_in, H, W) (or (C_in, H, W)), weight (C_in, C_out/groups, kh, kw), output (N, C_out, H_out, W_out)
    with H_out = (H - 1) s - 2 p + d (kh - 1) + output_padding + 1 (likewise W_out)."""
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 3:  # one unbatched image
        return conv_transpose2d(input.reshape(1, *input.shape), weight, bias, stride, padding, output_padding,
                                groups, dilation)[0]
    params = (input, weight) if bias is None else (input, weight, _tensor(bias))
    geometry, shape, zeros = _geometry(input._data, weight._data, None if bias is None else params[2]._data,
                                       stride, padding, output_padding, groups, dilation)
    return _ConvTranspose2dOp.apply(*params, geometry=geometry, shape=shape, zeros=zeros)


class ConvTranspose2d(Module):
    """y = conv_transpose2d(x, W, b): x (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) s - 2 p + d (k - 1) + output_padding + 1; W (C_in, C_out/groups, kh, kw), b (C_out,).
    Initialised as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and
    b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = W.shape[1] * kh * kw = C_out/groups * kh * kw.
    forward(x, output_size=None): output_size (H_out, W_out) (or (N, C, H_out, W_out)) picks output_padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        op = "ConvTranspose2d"
        check_device(device, op)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {op}, got padding_mode={padding_mode!r}')
        check_channels(op, in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _tuple(op, "kernel_size", kernel_size, 2, 1)
        self.stride = _tuple(op, "stride", stride, 2, 1)
        self.padding = _tuple(op, "padding", padding, 2, 0)
        self.output_padding = _tuple(op, "output_padding", output_padding, 2, 0)
        self.dilation = _tuple(op, "dilation", dilation, 2, 1)
        self.transposed, self.padding_mode = True, padding_mode
        make_conv_parameters(self, (self.in_channels, self.out_channels // self.groups, *self.kernel_size), bias, dtype)

    def reset_parameters(self):
        reset_conv_parameters(self)

    def _output_padding(self, x, output_size):
        """PyTorch's: output_size - the smallest output, each in [min, min + stride - 1]."""
        if output_size is None:
            return self.output_padding
        size = [int(n) for n in output_size]
        batched = x.ndim == 4
        if len(size) == 3 + batched:
            size = size[1 + batched:]
        if len(size) != 2:
            raise ValueError(f"ConvTranspose2D: for {x.ndim}D input, output_size must have 2 or {3 + batched} "
                             f"elements (got {len(size)})")
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(x.shape[-2:], self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(size, smallest, largest)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from {smallest} to "
                             f"{largest} (for an input of {tuple(x.shape[-2:])})")
        return tuple(n - m for n, m in zip(size, smallest))

    def forward(self, input, output_size=None):
        input = _tensor(input)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
