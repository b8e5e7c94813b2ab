"""The Laplace (double exponential) distribution."""
import numpy as np

from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, is_number, uniform


class Laplace(Distribution):
    """Laplace(mu, b), mu = loc, b = scale > 0:

        log p(x) = -log(2 b) - |x - mu| / b
        F(x) = 1/2 - sign(x - mu) (e^(-|x - mu| / b) - 1) / 2,   F^-1(u) = mu - b sign(u - 1/2) log(1 - 2|u - 1/2|)
        mean = mode = mu,   variance = 2 b^2,   H = 1 + log(2 b)
        rsample: x = mu - b sign(u) log(1 - |u|), u ~ U(-1, 1)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale, op="Laplace")
        batch_shape = Size() if is_number(loc) and is_number(scale) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Laplace, batch_shape, _instance, (("loc", 0), ("scale", 0)))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=Size()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = uniform(self._extended_shape(sample_shape), eps - 1, 1, self.loc.dtype)  # never -1: log(0)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        centred = value - self.loc
        return 0.5 - 0.5 * centred.sign() * (-centred.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
