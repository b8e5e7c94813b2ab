"""Activation layers beyond ReLU/Sigmoid/Tanh, with PyTorch's arguments, defaults, reprs and state-dict
keys; each calls its function in tinynn.nn.functional."""
import numpy as np

from . import functional as F
from . import init as nn_init
from .module import Module
from .parameter import Parameter
from ..tensor import check_device


def _inplace_repr(inplace):
    return ", inplace=True" if inplace else ""


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope x otherwise."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"


class SiLU(Module):
    """y = x sigmoid(x) (the swish of Ramachandran et al., 2017; Elfwing et al., 2018)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """y = x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2016)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class Softplus(Module):
    """y = ln(1 + e^(beta x)) / beta, and y = x where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """y = min(max(x, min_val), max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6) (Hardtanh with min_val=0, max_val=6, as PyTorch's subclass)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _InplaceActivation(Module):
    """An activation whose only option is inplace (PyTorch's repr shows it when True)."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SELU(_InplaceActivation):
    """y = scale (max(0, x) + min(0, alpha (e^x - 1))), alpha = 1.6732632..., scale = 1.0507009...
    (Klambauer et al., 2017, "Self-Normalizing Neural Networks")."""

    function = staticmethod(F.selu)


class Mish(_InplaceActivation):
    """y = x tanh(softplus(x)) (Misra, 2019)."""

    function = staticmethod(F.mish)


class Hardsigmoid(_InplaceActivation):
    """y = 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between (Howard et al., 2019, MobileNetV3)."""

    function = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""  # PyTorch's repr never shows inplace here


class Hardswish(_InplaceActivation):
    """y = x hardsigmoid(x) (Howard et al., 2019, MobileNetV3)."""

    function = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""  # PyTorch's repr never shows inplace here


class CELU(Module):
    """y = max(0, x) + min(0, alpha (e^(x / alpha) - 1)) (Barron, 2017)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace)}"


class _Stateless(Module):
    function = None

    def forward(self, input):
        return type(self).function(input)


class Softsign(_Stateless):
    """y = x / (1 + |x|)."""

    function = staticmethod(F.softsign)


class Tanhshrink(_Stateless):
    """y = x - tanh(x)."""

    function = staticmethod(F.tanhshrink)


class LogSigmoid(_Stateless):
    """y = log(1 / (1 + e^-x))."""

    function = staticmethod(F.logsigmoid)


class Softshrink(Module):
    """y = x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""

    function = staticmethod(F.softshrink)

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self).function(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """y = x for |x| > lambd, else 0."""

    function = staticmethod(F.hardshrink)


class Softmin(Module):
    """y_i = e^(-x_i) / sum_j e^(-x_j) along dim."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W): softmax along dim -3."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected an input of 3 or 4 dimensions, got shape {tuple(input.shape)}")
        return F.softmax(input, -3)


class GLU(Module):
    """y = a sigmoid(b), a and b the halves of the input along dim (Dauphin et al., 2017)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """y = x for x > 0, a x otherwise, with a learnt slope a: one shared (num_parameters=1) or one per
    channel (dim 1); weight (num_parameters,) starts at `init` (He et al., 2015)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        check_device(device, "PReLU")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.empty((num_parameters,), dtype=np.dtype(np.float32 if dtype is None else dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """y = x for x > 0, a x otherwise, with a ~ U(lower, upper) per element in training and
    a = (lower + upper) / 2 in eval() (Xu et al., 2015, "Empirical Evaluation of Rectified Activations in
    Convolutional Network")."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_repr(self.inplace)}"
