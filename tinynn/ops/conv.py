"""2-D convolution (NCHW; Conv1d runs as a convolution of height 1), with its arguments checked once.

The backward of a convolution is itself a pair of convolutions: dL/dx is the transposed
convolution of g with W, dL/dW the correlation of x with g (docs/12-convolution.md). Each is its
own backend kernel (conv2d_backward_input, conv2d_backward_weight), so the engine can
differentiate them again."""
import numbers

from ..autograd.function import Function
from .. import backend

PADDING_MODES = ("same", "valid")


def pair(op, what, value, minimum):
    """(a, b) from an int or a pair of ints, each >= minimum; ValueError naming op otherwise."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if (len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values)
            or min(values) < minimum):
        raise ValueError(f"{op}: {what} must be an int >= {minimum} or a pair of them, got {value!r}")
    return tuple(int(v) for v in values)


def conv_padding(op, padding, kernel, stride, dilation):
    """(top, bottom, left, right) from an int, a pair, "valid" (none) or "same" (PyTorch's: the
    output keeps the input's size at stride 1; total d (k - 1) per axis, the odd one after)."""
    if isinstance(padding, str):
        if padding not in PADDING_MODES:
            raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a pair of ints, got {padding!r}")
        if padding == "valid":
            return (0, 0, 0, 0)
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
    ph, pw = pair(op, "padding", padding, 0)
    return (ph, ph, pw, pw)


def check_operands(op, x, weight, bias, groups, weight_layout="(out, in/groups, kh, kw)"):
    """What every convolution call checks first: 4-D input and weight, one float dtype, groups >= 1."""
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) and weight {weight_layout}, "
                         f"got shapes {x.shape} and {weight.shape}")
    if x.dtype != weight.dtype or x.dtype.kind != "f" or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share one float dtype, got {x.dtype}, {weight.dtype}"
                        f"{'' if bias is None else ', ' + str(bias.dtype)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")


def conv_geometry(op, x, weight, bias, stride, padding, dilation, groups):
    """The one check of a convolution call (the backends and kernels trust it); returns
    (stride, (top, bottom, left, right), dilation, groups)."""
    check_operands(op, x, weight, bias, groups)
    out_channels, per_group = weight.shape[:2]
    if out_channels % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the {out_channels} output channels "
                         f"(weight shape {weight.shape})")
    if x.shape[1] != per_group * groups:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but the weight {weight.shape} with groups={groups} "
                         f"expects {per_group * groups} (input shape {x.shape})")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
    stride, dilation = pair(op, "stride", stride, 1), pair(op, "dilation", dilation, 1)
    pads = conv_padding(op, padding, weight.shape[2:], stride, dilation)
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:]))
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(f"{op}: kernel size {reach} (dilated) is larger than the padded input {padded} "
                         f"(input shape {x.shape}, weight shape {weight.shape}, padding {pads})")
    return stride, pads, dilation, groups


class Conv2d(Function):
    """y[n, o] = b_o + sum_c W[o, c] * x[n, g(o) C/G + c]  (* a 2-D cross-correlation with stride s,
    zero padding p and dilation d; G groups, g(o) = o // (O/G)).

    dL/dx = conv2d_backward_input(g, W) (the transposed convolution),
    dL/dW = conv2d_backward_weight(g, x) (x correlated with g),  dL/db_o = sum_{n, i, j} g[n, o, i, j]."""

    __slots__ = ("x", "weight", "geometry")
    exact_gradients = True
    differentiable = True  # create_graph: its backward kernels are ops (ops/derivatives_conv.py)

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, name="Conv2d", geometry=None):
        # geometry: the checked (stride, pads, dilation, groups) of a convolution recorded by a backward
        self.geometry = geometry or conv_geometry(name, x, weight, bias, stride, padding, dilation, groups)
        self.x, self.weight = x, weight
        return backend.active.conv2d(x, weight, bias, *self.geometry)

    def backward(self, g):
        B, needs = backend.active, self.needs_grad
        gx = B.conv2d_backward_input(g, self.weight, self.x.shape, *self.geometry) if needs[0] else None
        gw = B.conv2d_backward_weight(g, self.x, self.weight.shape, *self.geometry) if needs[1] else None
        gb = B.sum(g, axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb
