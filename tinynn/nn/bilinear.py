"""The bilinear layer y = x1^T A x2 + b and F.bilinear."""
import math

import numpy as np

from . import init
from .module import Module
from .parameter import Parameter
from ..tensor import Tensor, as_tensor, check_device


def bilinear(input1, input2, weight, bias=None):
    """y_k = sum_ij x1_i A_kij x2_j + b_k for x1 (..., in1), x2 (..., in2), A (out, in1, in2), b (out,)."""
    x1 = input1 if isinstance(input1, Tensor) else as_tensor(input1)
    x2 = input2 if isinstance(input2, Tensor) else as_tensor(input2)
    if weight.ndim != 3 or x1.shape[:-1] != x2.shape[:-1] or x1.shape[-1:] != weight.shape[1:2] \
            or x2.shape[-1:] != weight.shape[2:]:
        raise RuntimeError(f"bilinear: expected input1 (..., in1), input2 (..., in2) with the same leading dims and "
                           f"weight (out, in1, in2), got {tuple(x1.shape)}, {tuple(x2.shape)} and "
                           f"{tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    lead = x1.shape[:-1]
    a = x1.reshape(-1, in1) @ weight.permute(1, 0, 2).reshape(in1, out * in2)  # (M, out * in2)
    y = (a.reshape(-1, out, in2) * x2.reshape(-1, 1, in2)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out)


class Bilinear(Module):
    """y = x1^T A x2 + b, A (out_features, in1_features, in2_features), b (out_features,); both start as
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as in PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "Bilinear")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
