"""`Distribution`, the base of every probability distribution (torch.distributions.Distribution).

A distribution has a `batch_shape` (independent, differently parameterised copies) and an
`event_shape` (the shape of one draw: () for a scalar, (k,) for a vector); `sample(sample_shape)`
returns sample_shape + batch_shape + event_shape values. `log_prob(x)` is log p(x), one value per
batch element; `rsample` (where `has_rsample`) is a reparameterised draw x = g(parameters, noise)
that gradients flow through (Kingma and Welling, "Auto-Encoding Variational Bayes", 2014).

Validation, as in PyTorch, is on by default (off under `python -O`, or by
`Distribution.set_default_validate_args(False)` or `validate_args=False`): parameters are checked
against `arg_constraints` when the distribution is built, and log_prob's value against `support`.
"""
import warnings

from ..autograd import no_grad
from ..tensor import Size, Tensor
from . import constraints
from .utils import lazy_property


def _size(shape, op):
    """sample_shape / batch_shape as a Size of ints (TypeError naming op otherwise)."""
    if isinstance(shape, Tensor) or not hasattr(shape, "__iter__"):
        raise TypeError(f"{op}: expected a shape (a tuple or list of ints), got {type(shape).__name__}")
    values = tuple(shape)
    if not all(isinstance(n, int) and not isinstance(n, bool) or hasattr(n, "__index__") for n in values):
        raise TypeError(f"{op}: expected a shape of ints, got {values!r}")
    return Size(int(n) for n in values)


class Distribution:
    """The abstract base: subclasses define `arg_constraints`, `support`, `log_prob` and what else
    they have (`rsample`, `mean`, `variance`, `entropy`, `cdf`, `icdf`, `enumerate_support`, `expand`).
    perplexity = exp(entropy); stddev = sqrt(variance)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on (True, the default) or off (False) for distributions built from now on."""
        if value not in (True, False):
            raise ValueError(f"Distribution.set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = bool(value)

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = _size(batch_shape, f"{type(self).__name__}: batch_shape")
        self._event_shape = _size(event_shape, f"{type(self).__name__}: event_shape")
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` "
                              "or initialize the distribution with `validate_args=False` to turn off validation.",
                              stacklevel=2)
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue  # cannot be checked on its own
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # the other parameterisation (logits when probs was given): not computed
                value = getattr(self, param)
                if not constraint.check(value).all().item():
                    raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape "
                                     f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                                     f"{constraint!r}, but found invalid values:\n{constraints.formatted(value)}")

    def expand(self, batch_shape, _instance=None):
        """A new distribution with the parameters expanded (as views) to batch_shape; no re-validation."""
        raise NotImplementedError

    def _expand_params(self, cls, batch_shape, _instance, names, event_shape=None):
        """expand's shared part: a new instance of cls with each parameter in `names` that is set on self
        expanded to batch_shape + its trailing (event) dimensions, and the shapes and validation flag set."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = _size(batch_shape, f"{type(self).__name__}.expand")
        for name, event_dims in names:
            if name in self.__dict__:
                value = self.__dict__[name]
                trailing = tuple(value.shape[value.ndim - event_dims:]) if event_dims else ()
                setattr(new, name, value.expand(batch_shape + trailing))
        Distribution.__init__(new, batch_shape, self.event_shape if event_shape is None else event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """{parameter name: Constraint} for the parameters that validation checks."""
        raise NotImplementedError

    @property
    def support(self):
        """The Constraint the values of this distribution satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        """sqrt(variance)."""
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """sample_shape + batch_shape + event_shape draws, with no gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Reparameterised draws: differentiable with respect to the parameters."""
        raise NotImplementedError

    def sample_n(self, n):
        """sample((n,)) (deprecated, as in PyTorch)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning, stacklevel=2)
        return self.sample((n,))

    def log_prob(self, value):
        """log p(value): the log density (or mass) at value, one per batch element."""
        raise NotImplementedError

    def cdf(self, value):
        """P(X <= value)."""
        raise NotImplementedError

    def icdf(self, value):
        """The inverse of cdf: the x with P(X <= x) = value."""
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """Every value of a finite discrete distribution along dimension 0: shape (n,) + batch_shape +
        event_shape (with expand=False, ones in place of batch_shape)."""
        raise NotImplementedError

    def entropy(self):
        """H = -E[log p(X)], one per batch element."""
        raise NotImplementedError

    def perplexity(self):
        """exp(H), H the entropy."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        """sample_shape + batch_shape + event_shape, as a Size."""
        return Size(_size(sample_shape, f"{type(self).__name__}.sample") + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        """log_prob's (and cdf's) checks of value: a Tensor whose rightmost dimensions are event_shape and
        that broadcasts with batch_shape + event_shape, with every value in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape, event = Size(value.shape), self._event_shape
        if shape[len(shape) - len(event):] != event or len(shape) < len(event):
            raise ValueError(f"The right-most size of value must match event_shape: {shape} vs {event}.")
        expected = self._batch_shape + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {shape} vs "
                                 f"{Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample validation. Please initialize "
                          "the distribution with `validate_args=False` to turn off validation.", stacklevel=2)
            return
        if not support.check(value).all().item():
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                             f"within the support ({support!r}) of the distribution {self!r}, but found invalid "
                             f"values:\n{constraints.formatted(value)}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        shown = []
        for name in names:
            value = self.__dict__[name]
            text = (value.item() if value.ndim == 0 else value) if value.numel() == 1 else value.size()
            shown.append(f"{name}: {text}")
        return f"{type(self).__name__}({', '.join(shown)})"
