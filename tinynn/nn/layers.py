"""Layers: Linear, the activations, Flatten, Unflatten, Dropout (the containers are in containers.py)."""
import math

import numpy as np

from .. import ops
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from ..tensor import check_device


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features) and b (out_features,).

    Initialised as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)). Runs as one fused op (ops.Linear), with the next activation when a
    Sequential finds one (fuses_activation)."""

    fuses_activation = True

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "Linear")
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x, activation="none"):
        params = (self.weight,) if self.bias is None else (self.weight, self.bias)
        return ops.Linear.apply(x, *params, activation=activation)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """y = max(x, 0) (written into x itself with inplace=True, PyTorch's argument)."""

    activation = "relu"

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=True) if self.inplace else ops.ReLU.apply(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)."""

    activation = "sigmoid"

    def forward(self, x):
        return ops.Sigmoid.apply(x)


class Tanh(Module):
    """y = tanh x."""

    activation = "tanh"

    def forward(self, x):
        return ops.Tanh.apply(x)


class Identity(Module):
    """y = x (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Softmax(Module):
    """y_i = e^(x_i) / sum_j e^(x_j) along dim (dim=None: PyTorch's legacy choice, 0 for 0-, 1- and
    3-D inputs and 1 otherwise)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y_i = x_i - log sum_j e^(x_j) along dim (dim=None: the legacy choice, as Softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, a, b) -> (N, a*b) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = x.shape
        nd = len(shape)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if nd == 0 and start in (0, -1) and end in (0, -1):
            return x.reshape(1)  # a 0-d tensor flattens to (1,) (as torch.flatten), for dims 0 or -1 only
        if not (0 <= start < nd and 0 <= end < nd) or start > end:
            raise IndexError(f"Flatten: start_dim {self.start_dim} / end_dim {self.end_dim} out of range for shape {shape}")
        merged = int(np.prod(shape[start:end + 1]))
        return x.reshape(*shape[:start], merged, *shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout in training: y = x m / (1 - p), m ~ Bernoulli(1 - p); identity in eval()
    (written into x itself with inplace=True)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Unflatten(Module):
    """Split axis dim into unflattened_size: (N, 12) -> (N, 3, 4) with Unflatten(1, (3, 4)) (one
    entry may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


from .containers import Sequential, ModuleList, ModuleDict  # noqa: E402,F401 - importable from here too
