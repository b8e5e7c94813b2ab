"""Creation functions, PyTorch's: each takes `dtype=`, `device=` ("cpu" only) and `requires_grad=`.

Floating results default to `get_default_dtype()` (float32); integer ones to int64. Random ones
draw from `generator=` (a `tn.Generator`) when given, else from the default generator (`tn.manual_seed`).
"""
import math

import numpy as np

from .dtypes import checked_dtype, get_default_dtype, int64
from .random import numpy_generator
from .tensor import Tensor, _checked_array, as_tensor, check_device, shape_argument  # noqa: F401


def _leaf(array, dtype, device, requires_grad, op):
    """The new leaf Tensor: `array` cast to `dtype` (when given), on the one device, maybe requiring grad."""
    check_device(device, op)
    if dtype is not None:
        array = array.astype(checked_dtype(dtype, op), copy=False)
    else:
        checked_dtype(array.dtype, op)
    t = Tensor._wrap(array, False)
    return t.requires_grad_(True) if requires_grad else t


def _shape(shape, op):
    shape = shape_argument(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: invalid shape {shape} (a negative dimension)")
    return shape


def _float(dtype):
    return get_default_dtype() if dtype is None else dtype


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data`.
    Python floats -> the default dtype (float32), ints -> int64, bools -> bool; ndarrays keep theirs."""
    return _leaf(_checked_array(data, dtype), None, device, requires_grad, "tensor")


def from_numpy(array):
    """A tensor sharing memory with the ndarray `array` (writes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return _leaf(array, None, None, False, "from_numpy")


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros."""
    return _leaf(np.zeros(_shape(size, "zeros"), _float(dtype)), None, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _leaf(np.ones(_shape(size, "ones"), _float(dtype)), None, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of unspecified values (zeros here: NumPy's uninitialised memory gains nothing)."""
    return _leaf(np.zeros(_shape(size, "empty"), _float(dtype)), None, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of `fill_value`; its dtype is that of the Python number unless `dtype` is given."""
    dtype = np.asarray(fill_value).dtype if dtype is None and isinstance(fill_value, (bool, int)) else _float(dtype)
    return _leaf(np.full(_shape((size,), "full"), fill_value, dtype), None, device, requires_grad, "full")


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (ones on the diagonal)."""
    return _leaf(np.eye(n, n if m is None else m, dtype=_float(dtype)), None, device, requires_grad, "eye")


def arange(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, start + step, ...) below end (above it for a negative step): ceil((end - start) / step)
    values; int64 when every argument is an int, else the default dtype. With an integer `dtype`,
    PyTorch truncates the arguments to integers first (int64: all three, and the count follows)."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError(f"arange: upper bound {end} and lower bound {start} inconsistent with step sign {step}")
    integer = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = checked_dtype(dtype or (int64 if integer else get_default_dtype()), "arange")
    if dtype == np.bool_:
        raise TypeError("arange: not implemented for dtype bool")
    if dtype.kind == "f":
        values = np.arange(start, end, step, dtype=np.int64 if integer else np.float64)
    else:
        count = math.ceil((end - start) / step)
        if dtype == int64:
            start, end, step = int(start), int(end), int(step)
            if step == 0:
                raise ValueError("arange: step must be nonzero (after truncation to an integer)")
            count = -((start - end) // step)  # ceil((end - start) / step), exactly, on the truncated values
        values = int(start) + int(step) * np.arange(max(count, 0), dtype=np.int64)
    return _leaf(values, dtype, device, requires_grad, "arange")


def _ends(start, end, dtype, op):
    """linspace/logspace's ends: an integer `dtype` truncates them to integers first (PyTorch)."""
    dtype = checked_dtype(_float(dtype), op)
    if dtype.kind != "f":
        start, end = int(start), int(end)
    return start, end, dtype


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    start, end, dtype = _ends(start, end, dtype, "linspace")
    return _leaf(np.linspace(start, end, int(steps)), dtype, device, requires_grad, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    start, end, dtype = _ends(start, end, dtype, "logspace")
    return _leaf(np.power(base, np.linspace(start, end, int(steps))), dtype, device, requires_grad, "logspace")


def _random_float(dtype, op):
    """The floating dtype a random fill gets: integer ones have no uniform/normal draw (PyTorch refuses)."""
    dtype = checked_dtype(_float(dtype), op)
    if dtype.kind != "f":
        raise NotImplementedError(f"{op}: draws floating-point values only, got dtype {dtype}")
    return dtype


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1), from `generator` (default: tinynn's seeded one)."""
    dtype = _random_float(dtype, "rand")
    values = numpy_generator(generator, "rand").random(_shape(size, "rand"))
    return _leaf(values, _float(dtype), device, requires_grad, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of the standard normal N(0, 1), from `generator` (default: tinynn's seeded one)."""
    dtype = _random_float(dtype, "randn")
    values = numpy_generator(generator, "randn").standard_normal(_shape(size, "randn"))
    return _leaf(values, _float(dtype), device, requires_grad, "randn")


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, *, generator=None):
    """Integers drawn uniformly from [low, high) (`randint(high, size)` means low = 0); int64; from
    `generator` (default: tinynn's seeded one)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing the size argument, as in randint(low, high, size)")
    values = numpy_generator(generator, "randint").integers(low, high, size=_shape((size,), "randint"))
    return _leaf(values, dtype or int64, device, requires_grad, "randint")


def randperm(n, dtype=None, device=None, requires_grad=False, *, generator=None):
    """A random permutation of 0 .. n-1; int64; from `generator` (default: tinynn's seeded one)."""
    values = numpy_generator(generator, "randperm").permutation(int(n))
    return _leaf(values, dtype or int64, device, requires_grad, "randperm")


def _randint_bounds(args, kwargs):
    """randint_like's (low, high): given as (high) or (low, high), positionally or by keyword; low = 0 by default."""
    if len(args) == 1:
        args = (kwargs.pop("low", 0),) + args
    bound = dict(zip(("low", "high"), args))
    for name in ("low", "high"):
        if name in kwargs:
            if name in bound:
                raise TypeError(f"randint_like: got multiple values for argument {name!r}")
            bound[name] = kwargs.pop(name)
    if len(args) > 2 or "high" not in bound:
        raise TypeError("randint_like: takes (input, high) or (input, low, high)")
    return bound.get("low", 0), bound["high"]


def _like(fn):
    def like(input, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        """`{name}(input.shape, ...)` with input's dtype unless `dtype` is given."""
        dtype = input.dtype if dtype is None else dtype
        if fn is full:
            if len(args) > 1 or (args and "fill_value" in kwargs):
                raise TypeError("full_like: takes (input, fill_value)")
            fill = args[0] if args else kwargs.pop("fill_value")
            return full(input.shape, fill, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
        if fn is randint:
            low, high = _randint_bounds(args, kwargs)
            return randint(low, high, input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
        if args:
            raise TypeError(f"{fn.__name__}_like: takes the input tensor only, got {len(args)} more positional "
                            "arguments")
        return fn(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)

    like.__name__ = like.__qualname__ = f"{fn.__name__}_like"
    like.__doc__ = like.__doc__.replace("{name}", fn.__name__)
    return like


def _new(fn):
    def new(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        """`{name}(...)` with this tensor's dtype unless `dtype` is given (PyTorch's Tensor.new_* methods)."""
        return fn(*args, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad,
                  **kwargs)
    new.__name__ = new.__qualname__ = f"new_{fn.__name__}"
    new.__doc__ = new.__doc__.replace("{name}", fn.__name__)
    return new


NEW_METHODS = {"new_zeros": _new(zeros), "new_ones": _new(ones), "new_empty": _new(empty), "new_full": _new(full),
               "new_tensor": _new(tensor)}
zeros_like, ones_like, empty_like, full_like = _like(zeros), _like(ones), _like(empty), _like(full)
rand_like, randn_like, randint_like = _like(rand), _like(randn), _like(randint)

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "eye", "arange",
           "linspace", "logspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like",
           "empty_like", "full_like", "rand_like", "randn_like", "randint_like"]
