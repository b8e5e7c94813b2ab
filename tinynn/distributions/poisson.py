"""The Poisson distribution: counts of events that occur at rate lambda."""
from ..autograd import no_grad
from ..sampling import poisson
from ..tensor import Size
from . import constraints
from .exp_family import ExponentialFamily
from ..special import gammaln, xlogy
from .utils import broadcast_all, is_number


class Poisson(ExponentialFamily):
    """Poisson(lambda), lambda = rate >= 0, on k = 0, 1, 2, ...:

        log P(k) = k log lambda - lambda - log Gamma(k + 1),   mean = variance = lambda,   mode = floor(lambda)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate, op="Poisson")
        super().__init__(Size() if is_number(rate) else self.rate.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Poisson, batch_shape, _instance, (("rate", 0),))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return poisson(self.rate.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value, op="Poisson.log_prob")
        return xlogy(value, rate) - rate - gammaln(value + 1)

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
