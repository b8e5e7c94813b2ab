"""Root-mean-square layer normalization (Zhang and Sennrich, 2019, "Root Mean Square Layer
Normalization"): RMSNorm and F.rms_norm.

Composed of recorded ops (square, mean, add, rsqrt, multiply), so its gradients, and their
gradients, are those ops' own."""
import numpy as np

from ..tensor import Tensor, as_tensor, check_device
from . import init
from .module import Module
from .parameter import Parameter


def _shape(normalized_shape, op):
    """normalized_shape as a tuple of non-negative ints (an int n is (n,))."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in shape):
        raise ValueError(f"{op}: normalized_shape must be non-negative ints, got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / sqrt(mean(x^2) + eps) * w, the mean over the last len(normalized_shape) dims of x,
    w of shape normalized_shape (optional); eps=None is the machine epsilon of x's dtype
    (np.finfo(dtype).eps, PyTorch's torch.finfo(dtype).eps). The result has x's dtype."""
    input = input if isinstance(input, Tensor) else as_tensor(input)
    shape = _shape(normalized_shape, "rms_norm")
    k = len(shape)
    if k == 0:
        raise ValueError("rms_norm: normalized_shape must have at least one dim, got ()")
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"rms_norm: input of shape {tuple(input.shape)} does not end in normalized_shape {shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"rms_norm: expected a float input, got {input.dtype}")
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else as_tensor(weight)
        if tuple(weight.shape) != shape:
            raise ValueError(f"rms_norm: weight of shape {tuple(weight.shape)} differs from normalized_shape {shape}")
        if weight.dtype != input.dtype:
            weight = weight.to(input.dtype)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


class RMSNorm(Module):
    """y = x / RMS(x) * gamma, RMS(x) = sqrt(mean(x^2) + eps) over the last len(normalized_shape)
    dims of each sample (Zhang and Sennrich, 2019); gamma = 1 at the start (key `weight`; none with
    elementwise_affine=False). eps=None is the machine epsilon of the input's dtype."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "RMSNorm")
        self.normalized_shape = _shape(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.dtype(dtype or np.float32)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        """gamma back to ones."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
