"""The binomial distribution: successes in n independent Bernoulli(p) trials."""
import numpy as np

from ..autograd import no_grad
from ..creation import arange
from ..random import numpy_generator
from ..special import gammaln
from ..tensor import Size, Tensor
from . import constraints
from .bernoulli import probs_or_logits
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


def _clamp_by_zero(x):
    """max(x, 0), with gradient 1/2 at 0 (PyTorch's choice there)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """Binomial(n, p), n = total_count (a non-negative integer), p = probs or sigma(logits):

        log P(k) = log n! - log k! - log (n-k)! + k log p + (n - k) log(1 - p),   k = 0..n
        mean = n p,   variance = n p (1 - p),   mode = min(floor((n + 1) p), n)
        H = -sum_k P(k) log P(k)   (by enumeration; needs one n for the whole batch)

    with log m! = log Gamma(m + 1) (tinynn.special.gammaln, differentiable as PyTorch's lgamma).
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        name, value = probs_or_logits(probs, logits, "Binomial")
        total_count, param = broadcast_all(total_count, value, op="Binomial")
        self.total_count = total_count.to(param.dtype)
        setattr(self, name, param)
        self._param = param
        super().__init__(param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(Binomial, batch_shape, _instance,
                                  (("total_count", 0), ("probs", 0), ("logits", 0)))
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            n = np.broadcast_to(self.total_count.numpy(), shape).astype(np.int64)
            p = np.broadcast_to(self.probs.numpy(), shape)
            draw = numpy_generator(None, "Binomial.sample").binomial(n, p)
        return Tensor._wrap(np.asarray(draw, dtype=self._param.dtype), False)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = gammaln(self.total_count + 1)
        log_factorial_k = gammaln(value + 1)
        log_factorial_nmk = gammaln(self.total_count - value + 1)
        # n log(1 + e^l) = n [max(l, 0) + log(1 + e^-|l|)], stable for either sign of the logits l
        normalizer = self.total_count * (_clamp_by_zero(self.logits) + (-self.logits.abs()).exp().log1p())
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalizer + log_factorial_n

    def _homogeneous_count(self, op):
        total = int(self.total_count.max().item())
        if not self.total_count.min().item() == total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{op}`.")
        return total

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
