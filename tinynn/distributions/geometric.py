"""The geometric distribution: the number of failures before the first success."""
import numpy as np

from ..autograd import no_grad
from ..creation import zeros_like
from ..ops import where
from ..tensor import Size
from . import constraints
from .bernoulli import probs_or_logits
from .distribution import Distribution
from .utils import (bce_with_logits, broadcast_all, is_number, lazy_property, logits_to_probs,
                    probs_to_logits, uniform)


class Geometric(Distribution):
    """Geometric(p), p = probs in (0, 1] (or p = sigma(logits)), on k = 0, 1, 2, ... failures:

        log P(k) = k log(1 - p) + log p,   mean = 1/p - 1,   variance = (1/p - 1) / p
        H = BCEWithLogits(logits, p) / p = -[p log p + (1 - p) log(1 - p)] / p
        sample: floor(log u / log(1 - p)), u ~ U(0, 1)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = probs_or_logits(probs, logits, "Geometric")
        (param,) = broadcast_all(value, op="Geometric")
        setattr(self, name, param)
        super().__init__(Size() if is_number(value) else param.size(), validate_args=validate_args)
        if self._validate_args and name == "probs" and not (param > 0).all().item():
            raise ValueError(f"Expected parameter probs ({type(param).__name__} of shape {tuple(param.shape)}) of "
                             f"distribution {self!r} to be positive but found invalid values:\n"
                             f"{param.detach()[~(param > 0)]}")

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Geometric, batch_shape, _instance, (("probs", 0), ("logits", 0)))

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        tiny = float(np.finfo(self.probs.dtype).tiny)
        with no_grad():
            u = uniform(shape, tiny, 1, self.probs.dtype)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs, op="Geometric.log_prob")
        probs = where((probs == 1) & (value == 0), 0.0, probs)  # 0 log 0 = 0: P(0) = 1 when p = 1
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return bce_with_logits(self.logits, self.probs) / self.probs
