"""Group normalization (Wu and He, "Group Normalization", 2018) and instance normalization (Ulyanov,
Vedaldi and Lempitsky, "Instance Normalization: The Missing Ingredient for Fast Stylization", 2016):
GroupNorm, InstanceNorm1d, InstanceNorm2d, F.group_norm and F.instance_norm.

A group of sample n is a row of x reshaped to (N, G, C/G * L): the LayerNorm op normalizes each row
(its forward and backward are layer norm's), then the per-channel affine map follows as recorded ops."""
import math
import warnings

import numpy as np

from .. import ops
from ..autograd import no_grad
from ..tensor import Tensor, as_tensor, check_device
from . import init
from .module import Module
from .normalization import _NormBase, batch_norm
from .parameter import Parameter


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """y[n, c] = (x[n, c] - mu_ng) / sqrt(var_ng + eps) gamma_c + beta_c for input (N, C, *), where mu_ng and
    the biased var_ng are taken over the C/G channels of group g = c // (C/G) and all their positions;
    gamma, beta optional (1, 0)."""
    input = _tensor(input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input (N, C, *) of at least 2 dims, got shape {input.shape}")
    n, c = input.shape[:2]
    bad = isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1
    if bad or c % num_groups:
        raise ValueError(f"group_norm: expected the number of channels in the input to be divisible by num_groups, "
                         f"got input of shape {input.shape} and num_groups={num_groups!r}")
    if input.dtype.kind != "f":
        raise TypeError(f"group_norm: expected a float input, got {input.dtype}")
    affine = [_tensor(p) for p in (weight, bias) if p is not None]
    for p in affine:
        if p.shape != (c,):
            raise ValueError(f"group_norm: expected weight and bias of shape ({c},) (the input's channels), got "
                             f"{p.shape} for input of shape {input.shape}")
        if p.dtype != input.dtype:
            raise TypeError(f"group_norm: input, weight and bias must share one dtype, got {input.dtype} and {p.dtype}")
    if n * c // num_groups * math.prod(input.shape[2:]) == 1:  # (PyTorch's check, as written)
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups, *input.shape[2:]]}")
    size = math.prod(input.shape[1:]) // num_groups
    y = input
    if size:  # (an input with no positions has nothing to normalize)
        rows = input.reshape(n, num_groups, size)
        y = ops.LayerNorm.apply(rows, normalized_shape=(size,), eps=eps, affine=(False, False)).reshape(input.shape)
    channel = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * _tensor(weight).reshape(channel)
    if bias is not None:
        y = y + _tensor(bias).reshape(channel)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """y[n, c] = (x[n, c] - mu_nc) / sqrt(var_nc + eps) gamma_c + beta_c for input (N, C, *): each channel of each
    sample normalized over its own positions (group_norm with G = C). With running statistics given, they move
    toward the batch mean of the instances' statistics, r <- (1 - momentum) r + momentum mean_n s_nc (the unbiased
    var L / (L - 1) var_nc for running_var). use_input_stats=False: mu, var are running_mean, running_var."""
    input = _tensor(input)
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input (N, C, *), got shape {input.shape}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = math.prod(input.shape[2:])
    if positions == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    y = group_norm(input, input.shape[1], weight, bias, eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            x = input.detach().reshape(input.shape[0], input.shape[1], positions)
            for running, stat in ((running_mean, lambda: x.mean(2)), (running_var, lambda: x.var(2, correction=1))):
                if running is not None:
                    running.mul_(1 - momentum).add_(stat().mean(0).to(running.dtype) * momentum)
    return y


def _reset_affine(module):
    """gamma = 1, beta = 0 (PyTorch's reset_parameters of its normalization layers)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class GroupNorm(Module):
    """y = group_norm(x, G, gamma, beta, eps): x (N, C, *) normalized over each group of C/G channels of each
    sample; gamma = 1 and beta = 0 at the start, shape (C,) (keys `weight`, `bias`; none with affine=False,
    no beta with bias=False)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        check_device(device, "GroupNorm")
        for name, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"GroupNorm: {name} must be a positive int, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.register_parameter("weight", Parameter(np.ones(self.num_channels, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.num_channels, dtype=dtype)) if affine and bias
                                else None)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    """PyTorch's defaults: affine=False (gamma = 1, beta = 0 when True) and track_running_stats=False (buffers
    running_mean = 0, running_var = 1, num_batches_tracked when True: training updates them, eval() uses them)."""

    layer, dims = "InstanceNorm2d", 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, input):
        input = _tensor(input)
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.ndim}D input)")
        channels = input.shape[input.ndim - self.dims - 1]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={input.ndim - self.dims - 1} to match num_features "
                                 f"({self.num_features}), but got: {channels}.")
            warnings.warn(f"input's size at dim={input.ndim - self.dims - 1} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        batched = input if input.ndim == self.dims + 2 else input.reshape(1, *input.shape)
        y = instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y if input.ndim == self.dims + 2 else y.reshape(input.shape)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm2d(_InstanceNorm):
    """y = instance_norm(x): each channel of each image of x (N, C, H, W) (or (C, H, W)) normalized over its H W
    positions, then gamma_c, beta_c (affine=True)."""

    layer, dims = "InstanceNorm2d", 2


class InstanceNorm1d(_InstanceNorm):
    """y = instance_norm(x): each channel of each sample of x (N, C, L) (or (C, L)) normalized over its L positions."""

    layer, dims = "InstanceNorm1d", 1


class InstanceNorm3d(_InstanceNorm):
    """y = instance_norm(x): each channel of each volume of x (N, C, D, H, W) (or (C, D, H, W)) normalized over its
    D H W positions, then gamma_c, beta_c (affine=True)."""

    layer, dims = "InstanceNorm3d", 3
