"""The continuous uniform distribution U[low, high)."""
import math

from ..ops import where
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, is_number, standard_uniform


class Uniform(Distribution):
    """U[low, high), batched over the broadcast shape of low and high (low < high):

        log p(x) = -log(high - low) on [low, high), -inf elsewhere
        F(x) = clamp((x - low) / (high - low), 0, 1),   F^-1(u) = low + u (high - low)
        mean = (low + high) / 2,   variance = (high - low)^2 / 12,   H = log(high - low)
        rsample: x = low + u (high - low), u ~ U[0, 1)
    """

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high, op="Uniform")
        batch_shape = Size() if is_number(low) and is_number(high) else self.low.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Uniform, batch_shape, _instance, (("low", 0), ("high", 0)))

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        u = standard_uniform(self._extended_shape(sample_shape), self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return where(inside, 0.0, -math.inf) - (self.high - self.low).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()
