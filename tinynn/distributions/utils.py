"""Helpers the distributions share: parameter broadcasting, lazily computed parameters, the
probabilities <-> logits maps, sums over event dimensions and the standard random draws.

Every formula here goes through tinynn's differentiable Tensor ops, so a log-density built from them
is differentiable with respect to the distribution's parameters.
"""
import numbers

import numpy as np

from ..autograd import enable_grad
from ..creation import empty, rand, randn, tensor
from ..dtypes import get_default_dtype
from ..nn.functional import softplus
from ..tensor import Size, Tensor


def is_number(x):
    """True for a Python or NumPy real number (bools included, as in PyTorch's check)."""
    return isinstance(x, (numbers.Real, np.bool_))


def broadcast_all(*values, op="broadcast_all"):
    """The values (Tensors or numbers) as Tensors expanded to their common broadcast shape. Numbers take
    the dtype of the first Tensor among the values, else the default float dtype."""
    if not all(isinstance(v, Tensor) or is_number(v) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        raise ValueError(f"{op}: input arguments must all be numbers or Tensors, got ({kinds})")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype) for v in values]
    try:
        shape = tuple(np.broadcast_shapes(*[t.shape for t in tensors]))
    except ValueError:
        shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
        raise RuntimeError(f"{op}: the shapes {shapes} cannot be broadcast together") from None
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def broadcast_shape(*shapes, op="broadcast"):
    """The shape the given shapes broadcast to, as a Size (RuntimeError naming op if none)."""
    try:
        return Size(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"{op}: the shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be "
                           "broadcast together") from None


class lazy_property:
    """A parameter computed from another on first use and then cached on the instance (Bernoulli's
    logits from its probs, say). Computed under enable_grad, so it stays in the graph of its source."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.__name__] = value
        return value


def sum_rightmost(value, dim):
    """value summed over its `dim` rightmost dimensions (value itself when dim is 0)."""
    if dim == 0 or not isinstance(value, Tensor):
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps], eps the dtype's machine epsilon (keeps their logits finite)."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Binary: logit(p) = log p - log(1 - p); categorical: log p (probs clamped first)."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


def logits_to_probs(logits, is_binary=False):
    """Binary: sigma(l) = 1 / (1 + e^-l); categorical: softmax(l) along the last dimension."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def bce_with_logits(logits, target):
    """Binary cross-entropy on logits, elementwise: softplus(l) - l t = -[t log sigma(l) + (1-t) log(1-sigma(l))].
    Differentiable in both arguments (a Bernoulli's entropy needs the target's gradient too)."""
    return softplus(logits) - logits * target


def erf(x):
    """erf x = (2 / sqrt(pi)) int_0^x e^(-t^2) dt, elementwise, differentiable. (A 0-d x goes through as
    shape (1,): the backends' erf does not take 0-d arrays yet.)"""
    return x.reshape(1).erf().reshape(()) if x.ndim == 0 else x.erf()


def standard_normal(shape, dtype):
    """A Tensor of N(0, 1) draws from tinynn's default generator (tn.manual_seed seeds it)."""
    return randn(*shape, dtype=dtype)


def standard_uniform(shape, dtype):
    """A Tensor of U[0, 1) draws from tinynn's default generator."""
    return rand(*shape, dtype=dtype)


def uniform(shape, low, high, dtype):
    """A Tensor of U[low, high) draws from tinynn's default generator."""
    return empty(*shape, dtype=dtype).uniform_(low, high)


def standard_exponential(shape, dtype):
    """A Tensor of Exp(1) draws from tinynn's default generator."""
    return empty(*shape, dtype=dtype).exponential_()
