"""Creation functions, PyTorch's: each takes `dtype=`, `device=` ("cpu" only) and `requires_grad=`.

Floating results default to `get_default_dtype()` (float32); integer ones to int64. Random ones
draw from tinynn's seeded generator (`tn.manual_seed`).
"""
import numpy as np

from .dtypes import checked_dtype, get_default_dtype, int64
from .random import generator
from .tensor import Tensor, _checked_array, as_tensor, check_device, shape_argument


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


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, start + step, ...) below end; int64 when every argument is an int, else the default dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    integer = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    values = np.arange(start, end, step, dtype=np.int64 if integer else np.float64)
    return _leaf(values, dtype or (int64 if integer else get_default_dtype()), device, requires_grad, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    return _leaf(np.linspace(start, end, int(steps)), _float(dtype), device, requires_grad, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    return _leaf(np.power(base, np.linspace(start, end, int(steps))), _float(dtype), device, requires_grad, "logspace")


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1), from tinynn's seeded generator."""
    return _leaf(generator().random(_shape(size, "rand")), _float(dtype), device, requires_grad, "rand")


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Samples of the standard normal N(0, 1), from tinynn's seeded generator."""
    return _leaf(generator().standard_normal(_shape(size, "randn")), _float(dtype), device, requires_grad, "randn")


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high) (`randint(high, size)` means low = 0); int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing the size argument, as in randint(low, high, size)")
    values = generator().integers(low, high, size=_shape((size,), "randint"))
    return _leaf(values, dtype or int64, device, requires_grad, "randint")


def randperm(n, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1; int64."""
    return _leaf(generator().permutation(int(n)), dtype or int64, device, requires_grad, "randperm")


def _like(fn):
    def like(input, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        """`{name}(input.shape, ...)` with input's dtype unless `dtype` is given."""
        dtype = input.dtype if dtype is None else dtype
        if fn is full:
            return full(input.shape, *args, dtype=dtype, device=device, requires_grad=requires_grad)
        if fn is randint:
            low, high = (0, args[0]) if len(args) == 1 else args
            return randint(low, high, input.shape, dtype=dtype, device=device, requires_grad=requires_grad)
        return fn(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad)

    like.__name__ = like.__qualname__ = f"{fn.__name__}_like"
    like.__doc__ = like.__doc__.replace("{name}", fn.__name__)
    return like


zeros_like, ones_like, empty_like, full_like = _like(zeros), _like(ones), _like(empty), _like(full)
rand_like, randn_like, randint_like = _like(rand), _like(randn), _like(randint)

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "eye", "arange",
           "linspace", "logspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like",
           "empty_like", "full_like", "rand_like", "randn_like", "randint_like"]
