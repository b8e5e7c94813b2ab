"""In-place initialisers with PyTorch's formulas and defaults; randomness from tinynn's seeded generator.

For a weight of shape (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k)."""
import math

import numpy as np

from ..random import numpy_generator
from ..tensor import Tensor


def _array(tensor, op):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor or Parameter, got {type(tensor).__name__}")
    return tensor._data


def _fill(tensor, values):
    tensor._data[...] = values.astype(tensor.dtype, copy=False)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """Recommended gain: linear/identity/sigmoid/conv*/conv_transpose* 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope^2)) (slope default 0.01), selu 3/4."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor, op="init"):
    shape = _array(tensor, op).shape
    if len(shape) < 2:
        raise ValueError(f"{op}: fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode, op):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, op)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b) (from `generator`, default tinynn's seeded one; so below)."""
    shape = _array(tensor, "uniform_").shape
    return _fill(tensor, numpy_generator(generator, "uniform_").uniform(a, b, size=shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    shape = _array(tensor, "normal_").shape
    return _fill(tensor, numpy_generator(generator, "normal_").normal(mean, std, size=shape))


def constant_(tensor, val):
    """Fill with the constant val."""
    _array(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: U(-bound, bound) with bound = gain sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: N(0, std^2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples of N(mean, std^2) conditioned on [a, b] (values outside are drawn again)."""
    shape = _array(tensor, "trunc_normal_").shape
    if not a < b:
        raise ValueError(f"trunc_normal_: the interval [a, b] = [{a}, {b}] is empty")
    rng, values = numpy_generator(generator, "trunc_normal_"), np.empty(shape, np.float64)
    todo = np.ones(shape, bool)
    for _ in range(1000):  # each round keeps P(a <= x <= b) of the draws left
        values[todo] = rng.normal(mean, std, size=int(todo.sum()))
        todo &= (values < a) | (values > b)
        if not todo.any():
            return _fill(tensor, values)
    raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] lies too far in the tails of N({mean}, {std}^2)")


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix (Saxe et al., 2013, "Exact solutions to the nonlinear dynamics
    of learning in deep linear neural networks"), times gain: the Q of the QR decomposition of a
    standard normal (rows, prod(other dims)) matrix, each column's sign fixed by R's diagonal, so
    W W^T = gain^2 I (rows <= cols) or W^T W = gain^2 I (rows > cols)."""
    shape = _array(tensor, "orthogonal_").shape
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {shape}")
    if 0 in shape:
        return tensor
    rows = shape[0]
    cols = int(np.prod(shape)) // rows
    flat = numpy_generator(generator, "orthogonal_").normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(shape))


def eye_(tensor):
    """Fill the 2-D tensor with the identity matrix (ones on the diagonal, zeros elsewhere)."""
    shape = _array(tensor, "eye_").shape
    if len(shape) != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {shape}")
    return _fill(tensor, np.eye(*shape))


def dirac_(tensor, groups=1):
    """Fill the {3, 4, 5}-D convolution weight (out, in, *k) with the Dirac delta, so the convolution
    copies its input channels (the first min(out/groups, in) of each group) unchanged."""
    shape = _array(tensor, "dirac_").shape
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 or 5-D tensors are supported, got shape {shape}")
    if shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({shape[0]}) must be divisible by groups={groups}")
    out_per_group = shape[0] // groups
    values = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)
