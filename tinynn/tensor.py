"""The Tensor: an ndarray value, an optional gradient, and the node that produced it.

This file holds what a Tensor *is*: its value under tinynn's dtype rules, its gradient, its node,
conversions and the creation functions. What a Tensor *does* (`+`, `@`, `exp`, `sum`, `reshape`,
...) records an op of `tinynn/ops`, which record Tensors and so come after this file: those
methods are written in `tinynn/ops/methods.py`, next to the ops, and set on Tensor from there.
"""
import numpy as np

from .random import generator


float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8, bool_ = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_
SUPPORTED_DTYPES = frozenset(np.dtype(t) for t in (float16, float32, float64, int8, int16, int32, int64, uint8, bool_))


def _checked_dtype(dtype, op="tensor"):
    """np.dtype(dtype) if tinynn supports it, else a TypeError naming the op."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}") from None
    if dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{op}: unsupported dtype {dtype}; supported: {sorted(str(d) for d in SUPPORTED_DTYPES)}")
    return dtype


def _checked_array(data, dtype=None, op="tensor"):
    """An ndarray for `data` under tinynn's dtype rules (Python floats -> float32, ints -> int64)."""
    if isinstance(data, Tensor):
        data = data.data
    dtype = None if dtype is None else _checked_dtype(dtype, op)
    try:
        array = np.array(data, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__}: {exc}") from None
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and array.dtype.kind in "fiu":
        array = array.astype(np.float32 if array.dtype.kind == "f" else np.int64)
    _checked_dtype(array.dtype, op)
    return array


def pick_axis(axis, dim):
    """`dim=` is accepted everywhere as PyTorch's name for `axis=`."""
    return axis if dim is None else dim


def shape_argument(shape):
    """reshape(2, 3) and reshape((2, 3)) both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def as_tensor(value, like=()):
    """A constant Tensor for an operand; a Python number takes the dtype of the Tensor it meets,
    so `x * 2.0` stays float32 when x is (as in PyTorch)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        for other in like:
            if isinstance(other, Tensor):
                kind = other.dtype.kind
                if kind == "f" or (kind in "iu" and isinstance(value, int)) or (kind == "b" and isinstance(value, bool)):
                    return Tensor._wrap(np.asarray(value, dtype=other.dtype), False)
                break
    return Tensor._wrap(_checked_array(value), False)


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    `data` holds the value (a numpy.ndarray); `grad` receives d L / d self after
    `L.backward()` when `requires_grad` is True. Its operators, math methods and `backward` are
    set by tinynn/ops/methods.py."""

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data, self.grad, self._node, self.requires_grad = _checked_array(data, dtype), None, None, False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad, node=None):
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t._node = array, None, requires_grad, node
        return t

    def requires_grad_(self, flag=True):
        """Ask (or stop asking) for gradients of this leaf; only floating-point tensors can."""
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    # ------------------------------------------------------------ attributes
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._node is None)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numel(self):
        """Number of elements."""
        return self.data.size

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The value as a numpy.ndarray (shares memory with the tensor)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self):
        """A new leaf with the same data and no graph."""
        return Tensor._wrap(self.data, False)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.dtype != np.float32:
            extra = f", dtype={self.dtype}" + extra
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------ comparisons (no gradient)
    def _compare(self, other, fn):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(np.asarray(fn(self.data, other)), False)

    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)
    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)

    def argmax(self, axis=None, dim=None, keepdims=False):
        """Index of the largest value along `axis` (all elements flattened when None); int64."""
        result = np.argmax(self.data, axis=pick_axis(axis, dim), keepdims=keepdims)
        return Tensor._wrap(np.asarray(result, dtype=np.int64), False)

    def argmin(self, axis=None, dim=None, keepdims=False):
        """Index of the smallest value along `axis` (all elements flattened when None); int64."""
        result = np.argmin(self.data, axis=pick_axis(axis, dim), keepdims=keepdims)
        return Tensor._wrap(np.asarray(result, dtype=np.int64), False)


# ---------------------------------------------------------------- factories
def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data`.
    Python floats -> float32, Python ints -> int64; ndarrays keep their dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _shape(shape, op):
    shape = shape_argument(shape)
    if any((not isinstance(n, (int, np.integer))) or n < 0 for n in shape):
        raise ValueError(f"{op}: invalid shape {shape}")
    return shape


def _factory(array, requires_grad):
    t = Tensor._wrap(array, False)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, dtype=np.float32, requires_grad=False):
    """A tensor of zeros."""
    return _factory(np.zeros(_shape(shape, "zeros"), dtype=_checked_dtype(dtype)), requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    """A tensor of ones."""
    return _factory(np.ones(_shape(shape, "ones"), dtype=_checked_dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=np.float32, requires_grad=False):
    """A tensor of `fill_value`."""
    return _factory(np.full(_shape(shape, "full"), fill_value, dtype=_checked_dtype(dtype)), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """[start, start + step, ...) below end; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    dtype = dtype or (np.int64 if values.dtype.kind in "iu" else np.float32)
    return _factory(values.astype(_checked_dtype(dtype)), requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False):
    """Samples of the standard normal N(0, 1), from tinynn's seeded generator."""
    return _factory(generator().standard_normal(_shape(shape, "randn")).astype(_checked_dtype(dtype)), requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False):
    """Samples of U[0, 1), from tinynn's seeded generator."""
    return _factory(generator().random(_shape(shape, "rand")).astype(_checked_dtype(dtype)), requires_grad)
