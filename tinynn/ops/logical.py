"""Elementwise tests and logic, without gradients (PyTorch's results here are bool or integer
tensors): the comparisons by name (`eq ne lt le gt ge`), `& | ^ ~` (bitwise on integers, logical
on bools), `logical_and/or/xor/not`, `isnan isinf isfinite`, and `equal allclose isclose nonzero`.
The operands of a binary one promote as PyTorch's (dtypes.result_type); a float operand of a
bitwise operator is a TypeError, as in PyTorch."""
import numpy as np

from ..dtypes import result_type
from ..tensor import Tensor


def _array(x, dtype=None):
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    return a if dtype is None or a.dtype == dtype else a.astype(dtype)


def _wrap(array):
    return Tensor._wrap(np.asarray(array), False)


def _broadcast(op, a, b):
    try:
        return np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together") from None


def _bitwise(op, fn):
    """x <op> y for integer or bool operands, in their PyTorch result type."""
    def method(self, other):
        dtype = result_type(self, other)
        if dtype.kind == "f":
            raise TypeError(f"{op}: bitwise operators need integer or bool tensors, got {dtype}")
        a, b = _array(self, dtype), _array(other, dtype)
        _broadcast(op, a, b)
        return _wrap(fn(a, b))
    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"Elementwise x {op} y: bitwise on integers, logical on bools."
    return method


def _reflected(method):
    def reflected(self, other):
        return method(other if isinstance(other, Tensor) else Tensor._wrap(np.asarray(other), False), self)
    return reflected


def invert(self):
    """~x: logical not of a bool tensor, bitwise not of an integer one."""
    if self.dtype.kind == "f":
        raise TypeError(f"~ (bitwise_not): needs an integer or bool tensor, got {self.dtype}")
    return _wrap(np.invert(self._data))


def _logical(op, fn):
    def function(self, other):
        a, b = _array(self), _array(other)
        _broadcast(op, a, b)
        return _wrap(fn(a != 0, b != 0))
    function.__name__ = function.__qualname__ = op
    function.__doc__ = f"Elementwise {op} of x != 0 and y != 0; a bool tensor."
    return function


def logical_not(self):
    """x == 0, elementwise; a bool tensor."""
    return _wrap(self._data == 0)


def _test(name, fn):
    def method(self):
        data = self._data
        if data.dtype.kind != "f":  # an integer or bool is finite, never nan or inf
            return _wrap(np.full(data.shape, name == "isfinite"))
        return _wrap(fn(data))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"np.{name} elementwise; a bool tensor."
    return method


def _comparison(name, fn):
    def method(self, other):
        return fn(self, other)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"self {name} other, elementwise (the `{fn.__name__}` operator); a bool tensor."
    return method


def equal(input, other):  # noqa: A002 - PyTorch's argument name
    """True when both have the same shape and the same values (a Python bool)."""
    a, b = _array(input), _array(other)
    return a.shape == b.shape and bool(np.all(a == b))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol |other|, elementwise; a bool tensor."""
    return _wrap(np.isclose(_array(input), _array(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """isclose(...) everywhere (a Python bool)."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def nonzero(self, *, as_tuple=False):
    """The indices of the nonzero elements: an int64 tensor (n, ndim), or with as_tuple one 1-d
    tensor per dim (a 0-d input counts as 1-d)."""
    data = self._data if self.ndim else self._data.reshape(1)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(data))
    return _wrap(np.argwhere(self._data).astype(np.int64))


METHODS = {
    "__and__": _bitwise("&", np.bitwise_and), "__or__": _bitwise("|", np.bitwise_or),
    "__xor__": _bitwise("^", np.bitwise_xor), "__invert__": invert, "bitwise_not": invert,
    "logical_not": logical_not, "logical_and": _logical("logical_and", np.logical_and),
    "logical_or": _logical("logical_or", np.logical_or), "logical_xor": _logical("logical_xor", np.logical_xor),
    "isnan": _test("isnan", np.isnan), "isinf": _test("isinf", np.isinf), "isfinite": _test("isfinite", np.isfinite),
    "eq": _comparison("eq", Tensor.__eq__), "ne": _comparison("ne", Tensor.__ne__),
    "lt": _comparison("lt", Tensor.__lt__), "le": _comparison("le", Tensor.__le__),
    "gt": _comparison("gt", Tensor.__gt__), "ge": _comparison("ge", Tensor.__ge__),
    "nonzero": nonzero,
}
METHODS.update({"bitwise_and": METHODS["__and__"], "bitwise_or": METHODS["__or__"], "bitwise_xor": METHODS["__xor__"],
                "__rand__": _reflected(METHODS["__and__"]), "__ror__": _reflected(METHODS["__or__"]),
                "__rxor__": _reflected(METHODS["__xor__"]), "greater": METHODS["gt"], "less": METHODS["lt"]})
FUNCTIONS = {"equal": equal, "isclose": isclose, "allclose": allclose}
