"""The categorical distribution over {0, ..., K-1}."""
import math

import numpy as np

from ..autograd import no_grad
from ..creation import arange, full
from ..sampling import multinomial
from ..tensor import Size, Tensor
from . import constraints
from .bernoulli import probs_or_logits
from .distribution import Distribution
from .utils import broadcast_shape, lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """Categorical(p) over the K = probs.size(-1) categories, batched over probs.shape[:-1]. Given probs
    (non-negative, with a positive sum) they are normalised, p = probs / sum(probs); given logits (any
    reals) p = softmax(logits), and `logits` is kept normalised, logits - logsumexp(logits):

        log P(k) = log p_k,   H = -sum_k p_k log p_k
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = probs_or_logits(probs, logits, "Categorical")
        if not isinstance(value, Tensor):
            raise TypeError(f"Categorical: `{name}` must be a Tensor, got {type(value).__name__}")
        if value.ndim < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if name == "probs":
            self.probs = value / value.sum(-1, keepdim=True)
        else:
            self.logits = value - value.logsumexp(dim=-1, keepdim=True)
        self._param = self.__dict__[name]
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(Categorical, batch_shape, _instance, (("probs", 1), ("logits", 1)))
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        count = int(np.prod(shape[:len(shape) - len(self._batch_shape)], dtype=np.int64))
        with no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            if count == 0 or probs_2d.shape[0] == 0:
                return full(shape, 0, dtype=np.int64)
            return multinomial(probs_2d, count, True).T.reshape(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        shape = broadcast_shape(index.shape, self.logits.shape, op="Categorical.log_prob")
        index = index.expand(tuple(shape[:-1]) + (1,))
        return self.logits.expand(shape).gather(-1, index).squeeze(-1)

    def entropy(self):
        smallest = float(np.finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=smallest) * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events, dtype=np.int64).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
