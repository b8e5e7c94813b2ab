"""Transposed convolutions ConvTranspose2d and ConvTranspose1d (also called fractionally strided
convolution or "deconvolution"; Zeiler et al., "Deconvolutional Networks", 2010) and their functions
conv_transpose2d and conv_transpose1d (the 1-D one runs as a 2-D one on images of height 1)."""

from ..ops.conv import check_operands, pair
from ..ops.conv_transpose import ConvTranspose2d as _ConvTranspose2dOp
from ..tensor import Tensor, as_tensor, check_device
from .conv import _single, _tuple, check_channels, make_conv_parameters, reset_conv_parameters
from .module import Module


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _geometry(x, weight, bias, stride, padding, output_padding, groups, dilation, op="conv_transpose2d"):
    """The one check of a conv_transpose2d call; returns ((stride, (top, bottom, left, right), dilation,
    groups) of the adjoint conv2d, the conv2d input shape, the zero rows and columns that follow it)."""
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


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """y = conv1d's adjoint in its input, plus b: y[n, o, s i - p + d u] += x[n, c, i] W[c, o', u] (o in c's
    group), input (N, C_in, L) (or (C_in, L)), weight (C_in, C_out/groups, k), output (N, C_out, L_out) with
    L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1: conv_transpose2d on images of height 1."""
    op = "conv_transpose1d"
    input, weight = _tensor(input), _tensor(weight)
    if input.ndim == 2:  # one unbatched sequence
        return conv_transpose1d(input.reshape(1, *input.shape), weight, bias, stride, padding, output_padding,
                                groups, dilation)[0]
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C_in, L) (or (C_in, L)) and weight (C_in, C_out/groups, k), "
                         f"got shapes {input.shape} and {weight.shape}")
    stride, dilation = _single(op, "stride", stride), _single(op, "dilation", dilation)
    padding, output_padding = _single(op, "padding", padding, 0), _single(op, "output_padding", output_padding, 0)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    x4 = input.reshape(input.shape[0], input.shape[1], 1, input.shape[2])
    w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
    params = (x4, w4) if bias is None else (x4, w4, _tensor(bias))
    geometry, shape, zeros = _geometry(x4._data, w4._data, None if bias is None else params[2]._data, (1, stride),
                                       (0, padding), (0, output_padding), groups, (1, dilation), op)
    y = _ConvTranspose2dOp.apply(*params, geometry=geometry, shape=shape, zeros=zeros)
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


class _ConvTransposeNd(Module):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's arguments, weight (C_in, C_out/groups, *kernel)
    and bias (C_out,), initialised as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = W.shape[1] prod(kernel) =
    C_out/groups prod(kernel). forward(x, output_size=None): output_size picks output_padding."""

    dims = 2
    layer = "ConvTranspose2d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        op, dims = self.layer, self.dims
        check_device(device, op)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {op}, got padding_mode={padding_mode!r}')
        check_channels(op, in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _tuple(op, "kernel_size", kernel_size, dims, 1)
        self.stride = _tuple(op, "stride", stride, dims, 1)
        self.padding = _tuple(op, "padding", padding, dims, 0)
        self.output_padding = _tuple(op, "output_padding", output_padding, dims, 0)
        self.dilation = _tuple(op, "dilation", dilation, dims, 1)
        self.transposed, self.padding_mode = True, padding_mode
        make_conv_parameters(self, (self.in_channels, self.out_channels // self.groups, *self.kernel_size), bias, dtype)

    def reset_parameters(self):
        reset_conv_parameters(self)

    def _output_padding(self, x, output_size):
        """PyTorch's: output_size - the smallest output, each in [min, min + stride - 1]."""
        if output_size is None:
            return self.output_padding
        size, dims = [int(n) for n in output_size], self.dims
        batched = x.ndim == dims + 2
        if len(size) == dims + 1 + batched:
            size = size[1 + batched:]
        if len(size) != dims:
            raise ValueError(f"ConvTranspose{dims}D: for {x.ndim}D input, output_size must have {dims} or "
                             f"{dims + 1 + batched} elements (got {len(size)})")
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(x.shape[-dims:], self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(size, smallest, largest)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from {smallest} to "
                             f"{largest} (for an input of {tuple(x.shape[-dims:])})")
        return tuple(n - m for n, m in zip(size, smallest))

    def forward(self, input, output_size=None):
        input = _tensor(input)
        fn = conv_transpose2d if self.dims == 2 else conv_transpose1d
        return fn(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                  self.groups, self.dilation)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ConvTranspose2d(_ConvTransposeNd):
    """y = conv_transpose2d(x, W, b): x (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) s - 2 p + d (k - 1) + output_padding + 1; W (C_in, C_out/groups, kh, kw), b (C_out,)
    (initialisation: _ConvTransposeNd). forward(x, output_size=None): output_size (H_out, W_out) (or
    (N, C, H_out, W_out)) picks output_padding."""

    dims = 2


class ConvTranspose1d(_ConvTransposeNd):
    """y = conv_transpose1d(x, W, b): x (N, C_in, L) or (C_in, L) -> (N, C_out, L_out),
    L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1; W (C_in, C_out/groups, k), b (C_out,)
    (initialisation: _ConvTransposeNd). forward(x, output_size=None): output_size (L_out,) (or
    (N, C, L_out)) picks output_padding."""

    dims = 1
    layer = "ConvTranspose1d"
