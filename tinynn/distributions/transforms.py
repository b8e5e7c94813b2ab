"""Bijective transforms y = f(x) with log |det df/dx|, for `TransformedDistribution`
(torch.distributions.transforms): ExpTransform, AffineTransform, SigmoidTransform, TanhTransform,
SoftplusTransform, their inverses (`t.inv`), ComposeTransform and IndependentTransform (transform.py).

If X ~ p_X and Y = f(X) with f bijective, then log p_Y(y) = log p_X(x) - log |det J_f(x)|, x = f^-1(y).
`cache_size=1` remembers the last (x, y) pair, so inverting a y the transform just produced returns
its x exactly (TanhTransform(cache_size=1) for a tanh-squashed policy, say).
"""
import math

import numpy as np

from ..creation import full_like
from ..nn.functional import softplus
from ..tensor import Tensor
from . import constraints
from .transform import ComposeTransform, IndependentTransform, Transform, identity_transform
from .utils import broadcast_shape, is_number

__all__ = ["AffineTransform", "ComposeTransform", "ExpTransform", "IndependentTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "Transform", "identity_transform"]


class ExpTransform(Transform):
    """y = e^x, log|dy/dx| = x."""

    domain, codomain, bijective, sign = constraints.real, constraints.positive, True, 1

    def __eq__(self, other):
        return isinstance(other, ExpTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


def _clipped_sigmoid(x):
    """sigma(x) kept inside [tiny, 1 - eps] of x's dtype, so its inverse stays finite."""
    info = np.finfo(x.dtype)
    return x.sigmoid().clamp(min=float(info.tiny), max=1.0 - float(info.eps))


class SigmoidTransform(Transform):
    """y = sigma(x) = 1 / (1 + e^-x), x = log y - log(1 - y), log|dy/dx| = -softplus(-x) - softplus(x)."""

    domain, codomain, bijective, sign = constraints.real, constraints.unit_interval, True, 1

    def __eq__(self, other):
        return isinstance(other, SigmoidTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        info = np.finfo(y.dtype)
        y = y.clamp(min=float(info.tiny), max=1.0 - float(info.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class SoftplusTransform(Transform):
    """y = log(1 + e^x), x = y + log(1 - e^-y), log|dy/dx| = -softplus(-x)."""

    domain, codomain, bijective, sign = constraints.real, constraints.positive, True, 1

    def __eq__(self, other):
        return isinstance(other, SoftplusTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class TanhTransform(Transform):
    """y = tanh x, x = atanh y = (log(1 + y) - log(1 - y)) / 2, log|dy/dx| = 2 (log 2 - x - softplus(-2x))
    (the stable form of log(1 - tanh^2 x)). Prefer cache_size=1: atanh near +-1 loses precision."""

    domain, codomain, bijective, sign = constraints.real, constraints.interval(-1.0, 1.0), True, 1

    def __eq__(self, other):
        return isinstance(other, TanhTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * (y.log1p() - (-y).log1p())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale x (loc, scale numbers or Tensors), log|det J| = log|scale| summed over event_dim dims."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def domain(self):
        return constraints.real if self._event_dim == 0 else constraints.independent(constraints.real, self._event_dim)

    codomain = domain

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        for a, b in ((self.loc, other.loc), (self.scale, other.scale)):
            if is_number(a) and is_number(b):
                if a != b:
                    return False
            elif not bool((a == b).all()):
                return False
        return True

    __hash__ = object.__hash__

    @property
    def sign(self):
        if is_number(self.scale):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if is_number(self.scale):
            result = full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = result.reshape(tuple(result.shape[:result.ndim - self._event_dim]) + (-1,)).sum(-1)
            shape = shape[:len(shape) - self._event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return broadcast_shape(shape, _shape_of(self.loc), _shape_of(self.scale), op="AffineTransform")

    inverse_shape = forward_shape


def _shape_of(x):
    return tuple(x.shape) if isinstance(x, Tensor) else ()
