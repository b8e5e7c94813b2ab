"""More activations of torch.nn.functional, composed from tinynn's differentiable ops (so gradients of
any order come for free), with PyTorch's formulas, defaults, errors and subgradients at the kinks:
selu celu mish softsign relu6 hardsigmoid hardswish prelu logsigmoid softmin glu threshold tanhshrink
softshrink hardshrink rrelu, and the in-place spellings relu_ elu_ leaky_relu_
hardtanh_ threshold_ rrelu_. Part of tinynn.nn.functional, which re-exports them."""
import numpy as np

from .. import ops
from ..ops import activations as act
from ..ops.inplace import inplace as _inplace
from ..ops.methods import where
from ..random import generator
from ..tensor import Tensor, as_tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _floating(op, input):
    """input as a Tensor; PyTorch implements these only for floating dtypes, and so does tinynn."""
    input = _tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: not implemented for dtype {input.dtype} (expected a floating-point input)")
    return input


def _apply(name, input, inplace, compute):
    """compute(input), or with inplace=True written into input's own memory (PyTorch's `name`_)."""
    return _inplace(input, name + "_", compute) if inplace else compute(input)


def _const(value, like):
    return Tensor._wrap(np.asarray(value, dtype=like.dtype), False)


def selu(input, inplace=False):
    """selu(x) = scale (max(0, x) + min(0, alpha (e^x - 1))), alpha = 1.67326..., scale = 1.05070...
    (Klambauer et al., 2017, "Self-Normalizing Neural Networks"); gradient scale alpha at 0."""
    input = _floating("selu", input)
    return _apply("selu", input, inplace, lambda x: act.ELU.apply(x, alpha=SELU_ALPHA) * SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    """celu(x) = max(0, x) + min(0, alpha (e^(x / alpha) - 1)) = alpha elu(x / alpha)
    (Barron, 2017, "Continuously Differentiable Exponential Linear Units"); alpha = 0 is an error."""
    input = _floating("celu", input)
    if alpha == 0:
        raise ZeroDivisionError("celu: alpha cannot be 0 for CELU")
    alpha = float(alpha)
    return _apply("celu", input, inplace, lambda x: act.ELU.apply(x * (1.0 / alpha), alpha=1.0) * alpha)


def mish(input, inplace=False):
    """mish(x) = x tanh(softplus(x)) (Misra, 2019, "Mish: A Self Regularized Non-Monotonic Activation")."""
    input = _floating("mish", input)
    return _apply("mish", input, inplace, lambda x: x * act.Softplus.apply(x, beta=1.0, threshold=20.0).tanh())


def softsign(input):
    """softsign(x) = x / (1 + |x|)."""
    input = _tensor(input)
    return input / (input.abs() + 1)


def tanhshrink(input):
    """tanhshrink(x) = x - tanh(x)."""
    input = _tensor(input)
    return input - input.tanh()


def relu6(input, inplace=False):
    """relu6(x) = min(max(x, 0), 6) = hardtanh(x, 0, 6) (gradient 0 at 0 and 6, as PyTorch)."""
    input = _tensor(input)
    if input.dtype.kind in "iu":  # PyTorch keeps integer dtypes here (a clamp)
        return Tensor._wrap(np.clip(input._data, 0, 6), False) if not inplace else input.clamp_(0, 6)
    return _apply("hardtanh", input, inplace, lambda x: act.Hardtanh.apply(x, min_val=0.0, max_val=6.0))


def hardsigmoid(input, inplace=False):
    """hardsigmoid(x) = 0 for x <= -3, 1 for x >= 3, (x + 3) / 6 between; gradient 1/6 for -3 < x < 3,
    else 0 (NaN in, NaN out with gradient 0, as PyTorch) (Howard et al., 2019, "Searching for MobileNetV3")."""
    input = _floating("hardsigmoid", input)

    def compute(x):
        v = x._data
        inside = (v > -3.0) & (v < 3.0)
        outside = np.where(v >= 3.0, 1.0, np.where(v <= -3.0, 0.0, v)).astype(v.dtype)  # 1, 0 or NaN
        return where(inside, (x + 3.0) / 6.0, Tensor._wrap(outside, False))
    return _apply("hardsigmoid", input, inplace, compute)


def hardswish(input, inplace=False):
    """hardswish(x) = x relu6(x + 3) / 6: 0 x for x <= -3, x for x >= 3, x (x + 3) / 6 between; gradient
    0 for x <= -3, x / 3 + 1/2 for -3 < x < 3, 1 for x >= 3 (and NaN), as PyTorch (Howard et al., 2019)."""
    input = _floating("hardswish", input)

    def compute(x):
        v = x._data
        inside = (v > -3.0) & (v < 3.0)
        xm = where(inside, x, _const(0, x))  # the quadratic only ever sees finite inputs (no 0 * inf in backward)
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in PyTorch
            return where(inside, xm * (xm + 3.0) / 6.0, where(v <= -3.0, x * 0.0, x))
    return _apply("hardswish", input, inplace, compute)


def logsigmoid(input):
    """logsigmoid(x) = log(1 / (1 + e^-x)) = -softplus(-x), computed without overflow."""
    input = _floating("logsigmoid", input)
    return 0.0 - act.Softplus.apply(-input, beta=1.0, threshold=np.inf)  # 0 - 0 = +0 for large x, as PyTorch


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmin(x)_i = e^(-x_i) / sum_j e^(-x_j) = softmax(-x) along dim (x cast to dtype first)."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:  # PyTorch's legacy implicit choice, as F.softmax makes it
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return ops.Softmax.apply(-input, axis=dim)


def glu(input, dim=-1):
    """glu(a, b) = a sigmoid(b), a and b the two halves of input along dim (Dauphin et al., 2017,
    "Language Modeling with Gated Convolutional Networks")."""
    input = _floating("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu: glu does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for an input of {input.ndim} dimensions")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim % input.ndim} is size {size}")
    a, b = input.split(size // 2, dim)
    return a * b.sigmoid()


def threshold(input, threshold, value, inplace=False):
    """threshold(x) = x if x > threshold else value (gradient 0 where x <= threshold)."""
    input = _tensor(input)

    def compute(x):
        return where((x <= threshold)._data, _const(value, x), x)
    return _apply("threshold", input, inplace, compute)


def _check_lambd(op, lambd):
    if not lambd >= 0:
        raise RuntimeError(f"{op}: lambda must be >= 0, but found {lambd}")


def _shrink(op, input, lambd, outer):
    """outer(x) where |x| > lambd; 0 on [-lambd, lambd] and NaN at NaN, both with gradient 0 (PyTorch's)."""
    input = _floating(op, input)
    if not lambd >= 0:
        raise RuntimeError(f"{op}: lambda must be >= 0, but found {lambd}")
    v = input._data
    keep = (v < -lambd) | (v > lambd)
    return where(keep, outer(input), Tensor._wrap(np.where(np.isnan(v), v, 0).astype(v.dtype), False))


def softshrink(input, lambd=0.5):
    """softshrink(x) = x - lambd for x > lambd, x + lambd for x < -lambd, else 0 (gradient 0 on
    [-lambd, lambd]); lambd >= 0 (Donoho's soft thresholding)."""
    return _shrink("softshrink", input, lambd, lambda x: x - where(x._data > 0, _const(lambd, x), _const(-lambd, x)))


def hardshrink(input, lambd=0.5):
    """hardshrink(x) = x for |x| > lambd, else 0 (gradient 0 on [-lambd, lambd])."""
    input = _floating("hardshrink", input)
    if lambd < 0:  # PyTorch accepts any lambd here: a negative one keeps every x
        return where(np.isnan(input._data), Tensor._wrap(input._data.copy(), False), input)
    return _shrink("hardshrink", input, lambd, lambda x: x)


def prelu(input, weight):
    """prelu(x) = x for x > 0, a_c x otherwise, a (1,) shared or (C,) one per channel (dim 1; a 1-D
    input has one channel) (He et al., 2015, "Delving Deep into Rectifiers")."""
    input, weight = _floating("prelu", input), _tensor(weight)
    if input.ndim == 0:
        raise RuntimeError("prelu: Not allow zero-dim input tensor.")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    a = weight.reshape(()) if weight.numel() == 1 else weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return where((input > 0)._data, input, input * a)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al., 2015, "Empirical Evaluation of Rectified Activations in Convolutional
    Network"): rrelu(x) = x for x > 0, a x otherwise; in training a ~ U(lower, upper) drawn per element from
    tinynn's generator (the gradient is the drawn a, at x = 0 too), else a = (lower + upper) / 2 (leaky_relu).
    Note PyTorch's default training=False."""
    input = _floating("rrelu", input)
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound, got lower={lower} "
                           f"and upper={upper}")
    if not training:
        return _apply("rrelu", input, inplace, lambda x: act.LeakyReLU.apply(x, negative_slope=(lower + upper) / 2))
    slope = np.where(input._data <= 0, lower + (upper - lower) * generator().random(input.shape), 1.0)
    return _apply("rrelu", input, inplace, lambda x: ops.Mul.apply(x, _const(slope, x)))


# ---------------------------------------------------------------- in-place spellings
def relu_(input):
    """relu written into input itself."""
    return _apply("relu", _tensor(input), True, ops.ReLU.apply)


def elu_(input, alpha=1.0):
    """elu written into input itself."""
    return _apply("elu", _tensor(input), True, lambda x: act.ELU.apply(x, alpha=float(alpha)))


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu written into input itself."""
    return _apply("leaky_relu", _tensor(input), True,
                  lambda x: act.LeakyReLU.apply(x, negative_slope=float(negative_slope)))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh written into input itself."""
    if min_val > max_val:
        raise ValueError(f"hardtanh_: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _apply("hardtanh", _tensor(input), True,
                  lambda x: act.Hardtanh.apply(x, min_val=float(min_val), max_val=float(max_val)))


def threshold_(input, threshold, value):
    """threshold written into input itself."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def celu_(input, alpha=1.0):
    """celu written into input itself."""
    return celu(input, alpha, inplace=True)


def selu_(input):
    """selu written into input itself."""
    return selu(input, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu written into input itself."""
    return rrelu(input, lower, upper, training, inplace=True)


__all__ = ["selu", "celu", "mish", "softsign", "tanhshrink", "relu6", "hardsigmoid", "hardswish", "logsigmoid",
           "softmin", "glu", "threshold", "softshrink", "hardshrink", "prelu", "relu_", "elu_", "leaky_relu_",
           "hardtanh_", "threshold_", "celu_", "selu_", "rrelu", "rrelu_"]
