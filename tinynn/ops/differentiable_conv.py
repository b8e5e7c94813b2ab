"""The convolution family's kernels under create_graph (see ops/differentiable.py): called with a
Tensor among the arguments, each kernel name is the op that records it. The forward kernels are
the family's own ops (Conv2d, AvgPool2d, AdaptiveAvgPool2d, Pad), taking the checked arguments the
backward kernels receive; the backward kernels are the ops of derivatives_conv.py; batch norm's
backward is a composite of recorded ops, so its derivatives are theirs."""
from .array_or_tensor import constant
from .conv import Conv2d
from .derivatives_conv import (Conv2dBackwardInput, Conv2dBackwardWeight, MaxPool2dBackward, AvgPool2dBackward,
                               AdaptiveAvgPool2dBackward, PadBackward)
from .pad import Pad
from .pool import AvgPool2d, AdaptiveAvgPool2d


def conv2d(x, weight, bias, stride, padding, dilation, groups):
    """The Conv2d op on an already checked geometry (padding as (top, bottom, left, right)). Only the
    backward kernels' own backwards call it, always without a bias: a None bias is left out of the inputs."""
    params = (p for p in (x, weight, bias) if p is not None)
    return Conv2d.apply(*params, geometry=(stride, padding, dilation, groups))


def pad(x, pad_width, mode, value):
    """The Pad op from NumPy's ((before, after) per axis), as PyTorch's flat pad, last axis first."""
    flat = tuple(v for before_after in reversed(pad_width) for v in before_after)
    return Pad.apply(x, pad=flat, mode=mode, value=value)


def _channel(v):
    return v.reshape(1, -1, 1)


def batch_norm_backward(grad, x, mean, var, weight, eps, needs=(True, True, True)):
    """With r = 1 / sqrt(var + eps), xhat = (x - mu) r and M = N L values per channel of x (N, C, L):
    dL/dx = gamma r (g - (sum g) / M - xhat (sum g xhat) / M),  dL/dgamma = sum g xhat,  dL/dbeta = sum g."""
    grad, x, mean, var, weight = map(constant, (grad, x, mean, var, weight))
    m = x.shape[0] * x.shape[2]
    invstd = 1.0 / (var + eps).sqrt()
    xhat = (x - _channel(mean)) * _channel(invstd)
    sum_g, sum_gx = grad.sum((0, 2)), (grad * xhat).sum((0, 2))
    gx = None
    if needs[0]:
        scale = invstd if weight is None else invstd * weight
        gx = _channel(scale) * (grad - _channel(sum_g / m) - xhat * _channel(sum_gx / m))
    return gx, (sum_gx if needs[1] else None), (sum_g if needs[2] else None)


CONV = {
    "conv2d": conv2d,
    "conv2d_backward_input": lambda g, weight, input_shape, *geometry: Conv2dBackwardInput.apply(
        g, weight, shape=input_shape, geometry=geometry),
    "conv2d_backward_weight": lambda g, x, weight_shape, *geometry: Conv2dBackwardWeight.apply(
        g, x, shape=weight_shape, geometry=geometry),
    "max_pool2d_backward": lambda g, indices, shape: MaxPool2dBackward.apply(g, indices=indices, shape=shape),
    "avg_pool2d": lambda x, kernel, stride, padding, ceil_mode, count_include_pad: AvgPool2d.apply(
        x, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad),
    "avg_pool2d_backward": lambda g, shape, *args: AvgPool2dBackward.apply(g, shape=shape, args=args),
    "adaptive_avg_pool2d": lambda x, size: AdaptiveAvgPool2d.apply(x, output_size=tuple(size)),
    "adaptive_avg_pool2d_backward": lambda g, shape: AdaptiveAvgPool2dBackward.apply(g, shape=shape),
    "pad": pad,
    "pad_backward": lambda g, width, mode, shape: PadBackward.apply(g, width=width, mode=mode, shape=shape),
    "batch_norm_backward": batch_norm_backward,
}
