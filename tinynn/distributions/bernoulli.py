"""The Bernoulli distribution: 1 with probability p, else 0."""
import math

from ..autograd import no_grad
from ..creation import arange
from ..ops import where
from ..sampling import bernoulli
from ..tensor import Size
from . import constraints
from .exp_family import ExponentialFamily
from .utils import (bce_with_logits, broadcast_all, is_number, lazy_property, logits_to_probs,
                    probs_to_logits)


def probs_or_logits(probs, logits, op):
    """The one of probs / logits that was given (ValueError naming op if neither or both were)."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{op}: Either `probs` or `logits` must be specified, but not both.")
    return ("probs", probs) if probs is not None else ("logits", logits)


class Bernoulli(ExponentialFamily):
    """Bernoulli(p) with p = probs, or p = sigma(logits) (one of the two):

        log P(x) = x log p + (1 - x) log(1 - p) = -BCEWithLogits(logits, x),  x in {0, 1}
        mean = p,   variance = p (1 - p),   H = BCEWithLogits(logits, p)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = probs_or_logits(probs, logits, "Bernoulli")
        (param,) = broadcast_all(value, op="Bernoulli")
        setattr(self, name, param)
        self._param = param
        super().__init__(Size() if is_number(value) else param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(Bernoulli, batch_shape, _instance, (("probs", 0), ("logits", 0)))
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        return new

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
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value, op="Bernoulli.log_prob")
        return -bce_with_logits(logits, value)

    def entropy(self):
        return bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self._param.dtype).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values

    @property
    def _natural_params(self):
        return (self.probs.log() - (-self.probs).log1p(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
