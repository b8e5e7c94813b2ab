"""2-D max, average and adaptive average pooling (NCHW), with their arguments checked once."""
from ..autograd.function import Function
from .. import backend
from ..backend.reference_conv import pool_output_size
from .conv import pair


def _check_input(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float input, got dtype {x.dtype}")


def pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The one check of a pooling call: returns (kernel, stride, padding, dilation) as pairs.
    PyTorch's rules: stride defaults to the kernel, padding at most half the kernel, and every
    output at least 1 long."""
    _check_input(op, x)
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else pair(op, "stride", stride, 1)
    padding, dilation = pair(op, "padding", padding, 0), pair(op, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of the kernel size {kernel}")
    out = [pool_output_size(s, k, st, p, d, ceil_mode)
           for s, k, st, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)]
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
                         f"(input shape {x.shape}, padding {padding}): the output would be {tuple(out)}")
    return kernel, stride, padding, dilation


class MaxPool2d(Function):
    """y[n, c, i, j] = max_{u, v} x[n, c, s_h i - p_h + d_h u, s_w j - p_w + d_w v] (padding is -inf);
    dL/dx sends g[n, c, i, j] to the element chosen (the first maximum, as PyTorch)."""

    __slots__ = ("indices", "shape")
    exact_gradients = True
    differentiable = True  # create_graph: max_pool2d_backward is an op (ops/derivatives_conv.py)

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, indices_out=None):
        kernel, stride, padding, dilation = pool_geometry("MaxPool2d", x, kernel_size, stride, padding, dilation,
                                                          ceil_mode)
        y, self.indices = backend.active.max_pool2d(x, kernel, stride, padding, dilation, bool(ceil_mode))
        self.shape = x.shape
        if indices_out is not None:  # F.max_pool2d(return_indices=True) takes them from here
            indices_out.append(self.indices)
        return y

    def backward(self, g):
        return backend.active.max_pool2d_backward(g, self.indices, self.shape)


class AvgPool2d(Function):
    """y[n, c, i, j] = (1 / D_ij) sum_{u, v} x[n, c, s_h i - p_h + u, s_w j - p_w + v] (padding is 0),
    D_ij the window's size within the padded input (count_include_pad) or within the input;
    dL/dx[h, w] = sum over the windows holding (h, w) of g_ij / D_ij."""

    __slots__ = ("args", "shape")
    exact_gradients = True
    differentiable = True  # create_graph: avg_pool2d_backward is an op (ops/derivatives_conv.py)

    def forward(self, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        kernel, stride, padding, _ = pool_geometry("AvgPool2d", x, kernel_size, stride, padding, 1, ceil_mode)
        self.args, self.shape = (kernel, stride, padding, bool(ceil_mode), bool(count_include_pad)), x.shape
        return backend.active.avg_pool2d(x, *self.args)

    def backward(self, g):
        return backend.active.avg_pool2d_backward(g, self.shape, *self.args)


def adaptive_output_size(op, x, output_size):
    """(Ho, Wo) from an int or a pair whose entries may be None (that axis keeps the input's size)."""
    _check_input(op, x)
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"{op}: output_size must hold ints >= 1 (or None), got {output_size!r}")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: input of shape {x.shape} has an empty spatial axis")
    return sizes


class AdaptiveAvgPool2d(Function):
    """y[n, c, i, j] = mean of x[n, c, floor(i H / Ho) : ceil((i + 1) H / Ho), (likewise along W)];
    dL/dx spreads g[n, c, i, j] evenly over window (i, j)."""

    __slots__ = ("shape",)
    exact_gradients = True
    differentiable = True  # create_graph: adaptive_avg_pool2d_backward is an op (ops/derivatives_conv.py)

    def forward(self, x, output_size):
        size = adaptive_output_size("AdaptiveAvgPool2d", x, output_size)
        self.shape = x.shape
        return backend.active.adaptive_avg_pool2d(x, size)

    def backward(self, g):
        return backend.active.adaptive_avg_pool2d_backward(g, self.shape)
