"""PyTorch's random sampling functions: `tn.normal`, `tn.bernoulli`, `tn.multinomial`, `tn.poisson`,
and the Tensor samplers `bernoulli`, `multinomial`, `bernoulli_`, `exponential_`, `geometric_`,
`cauchy_`, `log_normal_` and `random_` (uniform_ and normal_ live with the other in-place ops).

    g = tn.Generator().manual_seed(0)
    idx = tn.multinomial(tn.tensor([0.1, 0.0, 0.9]), 2, generator=g)  # two distinct categories, never 1

Every draw comes from `generator=` (a tn.Generator) when given, else from the default generator
(tn.manual_seed), so a seed fixes the samples; the numbers are NumPy's PCG64 stream's, not PyTorch's
(random.py). As in PyTorch, sampling does not differentiate through the draw: a sample depends on a
parameter that requires grad with gradient zero (torch.normal(mean, std) is not mean + std * z).
"""
import math
import warnings

import numpy as np

from .autograd.grad_mode import is_grad_enabled
from .creation import _leaf, _random_float, _shape
from .ops import where
from .ops.inplace import _constant, inplace
from .random import numpy_generator
from .tensor import Tensor

_INTEGERS = (int, np.integer)


def _linked(result, *sources):
    """`result` (a new Tensor of samples) made to depend on those `sources` that require grad, with
    gradient zero: PyTorch's derivative of a sample with respect to its distribution's parameters.
    y = where(false, x, y) is y, with dy/dx = 0."""
    needing = [s for s in sources if isinstance(s, Tensor) and s.requires_grad]
    if not needing or not is_grad_enabled():
        return result
    never = np.zeros(result.shape, dtype=bool)
    for s in needing:
        result = where(never, s.to(result.dtype), result)
    return result


def _number(x, op, name):
    """A Python number (a 0-d Tensor's value too), else a TypeError naming op and argument."""
    if isinstance(x, Tensor) and x.ndim == 0:
        return x.item()
    if isinstance(x, (bool, float, *_INTEGERS, np.floating)):
        return float(x)
    raise TypeError(f"{op}: {name} must be a number or a Tensor, got {type(x).__name__}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std^2): x = mean + std z, z ~ N(0, 1), elementwise over broadcast(mean, std).

    PyTorch's four forms: normal(mean Tensor, std Tensor), normal(mean Tensor, std=1.0),
    normal(mean float, std Tensor) -- the result has the shape both broadcast to and the dtype of the
    Tensor mean (else of std) -- and normal(mean float, std float, size) (dtype= or the default float
    dtype; device=, requires_grad= as rand's). std must be >= 0."""
    rng = numpy_generator(generator, "normal")
    if size is not None or not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
        if size is None:
            raise TypeError("normal: with a number mean and std, give the size: normal(mean, std, size)")
        mean, std = _number(mean, "normal", "mean"), _number(std, "normal", "std")
        if not std >= 0:
            raise RuntimeError(f"normal: expects std >= 0.0, but found std {std}")
        dtype, shape = _random_float(dtype, "normal"), _shape((size,), "normal")
        return _leaf(mean + std * rng.standard_normal(shape), dtype, device, requires_grad, "normal")
    if dtype is not None or device is not None or requires_grad:
        raise TypeError("normal: dtype=, device= and requires_grad= go with normal(mean, std, size) only")
    for name, x in (("mean", mean), ("std", std)):
        if not isinstance(x, Tensor):
            _number(x, "normal", name)
    out = (mean if isinstance(mean, Tensor) else std).dtype
    if out.kind != "f":
        raise NotImplementedError(f"normal: not implemented for {out} (the mean, or else std, must be a floating "
                                  "tensor)")
    m, s = (x._data if isinstance(x, Tensor) else np.float64(x) for x in (mean, std))
    if not np.all(s >= 0):
        raise RuntimeError("normal: expects all elements of std >= 0.0" if isinstance(std, Tensor) else
                           f"normal: expects std >= 0.0, but found std {std}")
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    except ValueError:
        raise RuntimeError(f"normal: the shapes of mean {tuple(np.shape(m))} and std {tuple(np.shape(s))} "
                           "cannot be broadcast together") from None
    draw = m.astype(np.float64) + s.astype(np.float64) * rng.standard_normal(shape)
    return _linked(Tensor._wrap(draw.astype(out), False), mean, std)


def _probabilities(p, op, name="p"):
    """The ndarray of a probability Tensor (floating, every value in [0, 1]), or errors naming op."""
    if p.dtype.kind != "f":
        raise NotImplementedError(f"{op}: {name} must be a floating tensor of probabilities, got {p.dtype}")
    if not np.all((p._data >= 0) & (p._data <= 1)):
        raise RuntimeError(f"{op}: expects every probability in {name} to be in [0, 1]")
    return p._data


def _probability(p, op):
    """A number p in [0, 1] (bool too: True is 1), else errors naming op."""
    if isinstance(p, Tensor) or not isinstance(p, (float, *_INTEGERS, np.floating)):
        raise TypeError(f"{op}: p must be a float, got {type(p).__name__}")
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op}: expects p to be in [0, 1], but got p={p}")
    return float(p)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002 - PyTorch's argument name
    """x_i ~ Bernoulli(input_i): 1 with probability input_i, else 0; or, given a float p, every x_i ~
    Bernoulli(p). The result has input's shape and dtype (with p, input may be an integer or bool
    tensor; without it, input holds the probabilities and must be floating)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    rng = numpy_generator(generator, "bernoulli")
    chance = _probabilities(input, "bernoulli", "input") if p is None else _probability(p, "bernoulli")
    draw = rng.random(input.shape) < chance
    return _linked(Tensor._wrap(draw.astype(input.dtype), False), input)


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """num_samples category indices per row of `input` (1-D: one distribution; 2-D: one per row),
    drawn with probabilities P(i) = w_i / sum_j w_j from the row's non-negative weights w (they need
    not sum to 1). With replacement, each draw inverts the cumulative distribution; without, the
    indices are those of the num_samples smallest keys E_i / w_i, E_i ~ Exp(1) -- the same law as
    drawing one at a time and removing it (Efraimidis and Spirakis, "Weighted random sampling with a
    reservoir", 2006) -- in the order they were drawn. A zero weight is never drawn, except without
    replacement once the positive ones are used up (as in PyTorch). int64, shape (num_samples,) or
    (rows, num_samples)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    if isinstance(num_samples, Tensor) and num_samples.ndim == 0 and num_samples.dtype.kind in "iu":
        num_samples = num_samples.item()
    if isinstance(num_samples, bool) or not isinstance(num_samples, _INTEGERS):
        raise TypeError(f"multinomial: num_samples must be an int, got {type(num_samples).__name__}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"multinomial: replacement must be a bool, got {type(replacement).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: the probabilities must be 1-D or 2-D, got shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got {input.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples <= 0 samples, got {num_samples}")
    w = np.atleast_2d(input._data).astype(np.float64)
    rows, k = w.shape
    if not replacement and num_samples > k:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} > {k} categories without replacement")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise RuntimeError("multinomial: the probability tensor contains either inf, nan or an element < 0")
    if rows and (k == 0 or not np.all(w.max(axis=1) > 0)):
        raise RuntimeError("multinomial: invalid distribution (a row's sum of probabilities is <= 0)")
    rng = numpy_generator(generator, "multinomial")
    w = w / (w.max(axis=1, keepdims=True) if rows else 1.0)  # each row's largest weight 1: its sum cannot overflow
    if replacement:
        cdf = np.cumsum(w, axis=1)
        u = rng.random((rows, num_samples)) * cdf[:, -1:]
        last = k - 1 - np.argmax(w[:, ::-1] > 0, axis=1)  # each row's last category of positive weight
        out = np.stack([np.minimum(np.searchsorted(c, x, side="right"), j) for c, x, j in zip(cdf, u, last)]
                       ) if rows else np.zeros((0, num_samples), np.int64)
    else:
        e = rng.standard_exponential((rows, k))
        with np.errstate(divide="ignore"):
            keys = np.where(w > 0, e / w, np.inf)
        out = np.lexsort((e, keys), axis=-1)[:, :num_samples]  # zero weights last, in a random order
    out = out.astype(np.int64)
    return Tensor._wrap(out if input.ndim == 2 else out[0], False)


def poisson(input, generator=None):  # noqa: A002 - PyTorch's argument name
    """x_i ~ Poisson(input_i): P(x_i = k) = rate^k e^{-rate} / k!, rate = input_i >= 0; input's shape
    and (floating) dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"poisson: not implemented for {input.dtype} (the rates must be a floating tensor)")
    rates = input._data.astype(np.float64)
    if not np.all(rates >= 0):
        raise RuntimeError("poisson: invalid Poisson rate, expected every rate to be non-negative (and not nan)")
    try:
        draw = numpy_generator(generator, "poisson").poisson(rates)
    except ValueError as error:  # an infinite or astronomically large rate
        raise RuntimeError(f"poisson: a rate is too large to sample ({error}); the largest is about 9.2e18") from None
    return _linked(Tensor._wrap(draw.astype(input.dtype), False), input)


# ---------------------------------------------------------------- the Tensor samplers, in place


def _fill(t, op, draw, *sources):
    """t's every element <- `draw` (an ndarray of t's shape), as uniform_ and normal_ fill: in t's own
    memory, recorded under autograd with gradient zero to what t was (and to `sources`)."""
    values = Tensor._wrap(np.asarray(draw).astype(t.dtype), False)
    if t.dtype.kind == "f":
        values = _linked(values, *sources)
    return inplace(t, op, lambda s: _constant(s, values))


def _positive(value, op, name):
    if not value > 0:
        raise RuntimeError(f"{op}: expects {name} > 0.0, but found {name}={value}")


def _float_only(t, op, error=RuntimeError):
    if t.dtype.kind != "f":
        raise error(f"{op}: draws from a continuous distribution; the tensor must be floating, got {t.dtype}")


def bernoulli_(self, p=0.5, *, generator=None):
    """Every element <- a sample of Bernoulli(p): 1 with probability p, else 0. p is a float or a
    floating Tensor of probabilities broadcast to self's shape; self may be of any dtype."""
    if isinstance(p, Tensor):
        chance = _probabilities(p, "bernoulli_")
        try:
            fits = np.broadcast_shapes(chance.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"bernoulli_: p of shape {tuple(p.shape)} cannot be broadcast to the tensor's "
                               f"shape {tuple(self.shape)}")
    else:
        chance = _probability(p, "bernoulli_")
    draw = numpy_generator(generator, "bernoulli_").random(self.shape) < chance
    return _fill(self, "bernoulli_", draw, p)


def exponential_(self, lambd=1.0, *, generator=None):
    """Every element <- a sample of Exp(lambd): density lambd e^{-lambd x}, x > 0 (0 itself is never
    drawn, as in PyTorch)."""
    _float_only(self, "exponential_")
    _positive(lambd, "exponential_", "lambda")
    draw = (numpy_generator(generator, "exponential_").standard_exponential(self.shape) / lambd).astype(self.dtype)
    if math.isfinite(lambd):  # a value below the dtype's smallest positive number: that number, not 0
        draw = np.maximum(draw, np.nextafter(self.dtype.type(0), self.dtype.type(1)))
    return _fill(self, "exponential_", draw)


def geometric_(self, p, *, generator=None):
    """Every element <- a sample of Geometric(p): the trial of the first success, P(X = k) =
    (1 - p)^{k-1} p for k = 1, 2, ... (0 < p < 1; integer tensors too, not bool)."""
    if self.dtype == np.bool_:
        raise NotImplementedError("geometric_: not implemented for bool tensors")
    if isinstance(p, Tensor) or not 0 < p < 1:
        raise RuntimeError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    return _fill(self, "geometric_", numpy_generator(generator, "geometric_").geometric(p, self.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Every element <- a sample of Cauchy(median, sigma): density (1/pi) sigma / ((x - median)^2 + sigma^2)."""
    _float_only(self, "cauchy_")
    _positive(sigma, "cauchy_", "sigma")
    return _fill(self, "cauchy_", median + sigma * numpy_generator(generator, "cauchy_").standard_cauchy(self.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Every element <- e^y, y ~ N(mean, std^2): mean and std are the underlying normal's, the density
    1 / (x std sqrt(2 pi)) e^{-(ln x - mean)^2 / (2 std^2)}."""
    _float_only(self, "log_normal_", NotImplementedError)
    _positive(std, "log_normal_", "std")
    draw = np.exp(mean + std * numpy_generator(generator, "log_normal_").standard_normal(self.shape))
    return _fill(self, "log_normal_", draw)


# random_()'s default range on a floating dtype: [0, 2^digits], the integers it holds exactly
_MANTISSA_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def _random_range(dtype, args, bounds):
    """random_'s [low, high] (both included) from its arguments: random_(), random_(to),
    random_(from, to) with to = None meaning the dtype's largest value; `to=` and `from=` by keyword."""
    if len(args) > 2 or set(bounds) - {"from", "to"}:
        raise TypeError("random_: takes (), (to) or (from, to), ints, and generator= by keyword")
    if len(args) == 2 or "from" in bounds or (len(args) == 1 and "to" in bounds):
        if "to" not in bounds and len(args) < 2:
            raise TypeError("random_: from= needs to= as well: random_(from, to)")
        low = bounds["from"] if "from" in bounds else args[0]
        high = bounds["to"] if "to" in bounds else args[-1]
    else:
        low, high = 0, (args[0] if args else bounds.get("to"))
        if high is None and (args or "to" in bounds):
            raise TypeError("random_: random_(to) needs an int to")
    for name, v in (("from", low), ("to", high)):
        if not (isinstance(v, _INTEGERS) or (v is None and name == "to")):
            raise TypeError(f"random_: {name} must be an int, got {type(v).__name__}")
    if dtype.kind == "f":
        top = 2 ** _MANTISSA_DIGITS[dtype]
        lo_limit, hi_limit = -top, top
    else:
        info = np.iinfo(dtype) if dtype != np.bool_ else np.iinfo(np.uint8)
        lo_limit, hi_limit = int(info.min), (1 if dtype == np.bool_ else int(info.max))
    if high is not None and int(low) >= int(high):
        raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got from={low} >= to={high}")
    low, high = int(low), (hi_limit if high is None else int(high) - 1)
    if dtype.kind != "f" and not lo_limit <= low <= hi_limit:
        raise RuntimeError(f"random_: from={low} is out of bounds for {dtype}")
    if dtype.kind != "f" and not lo_limit <= high <= hi_limit:
        raise RuntimeError(f"random_: to - 1 = {high} is out of bounds for {dtype}")
    if dtype.kind == "f" and not (lo_limit <= low and high <= hi_limit):
        warnings.warn(f"random_: [{low}, {high}] exceeds [-2^{_MANTISSA_DIGITS[dtype]}, 2^{_MANTISSA_DIGITS[dtype]}], "
                      f"where {dtype} holds every integer; some draws are rounded", UserWarning, stacklevel=3)
    return low, high


def random_(self, *args, generator=None, **bounds):
    """Every element <- an integer drawn uniformly from [from, to - 1]: random_(to) means from = 0;
    without `to`, up to the dtype's largest value (a floating dtype's: 2^mantissa digits, which it
    holds exactly: 2^24 for float32, 2^53 for float64)."""
    low, high = _random_range(self.dtype, args, bounds)
    rng = numpy_generator(generator, "random_")  # (high <= 2^63 - 1: int64 is the widest dtype)
    return _fill(self, "random_", rng.integers(low, high, size=self.shape, dtype=np.int64, endpoint=True))


METHODS = {"bernoulli": bernoulli, "multinomial": multinomial, "bernoulli_": bernoulli_,
           "exponential_": exponential_, "geometric_": geometric_, "cauchy_": cauchy_, "log_normal_": log_normal_,
           "random_": random_}
for _name, _method in METHODS.items():  # Tensor's sampling methods, set as ops/methods.py sets the others
    setattr(Tensor, _name, _method)
del _name, _method

__all__ = ["normal", "bernoulli", "multinomial", "poisson"]
