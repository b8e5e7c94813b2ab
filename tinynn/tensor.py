"""The Tensor: an ndarray value, an optional gradient, and the node that produced it.

This file holds what a Tensor *is*: its value under tinynn's dtype rules, its gradient, its node,
conversions and the creation functions. What a Tensor *does* (`+`, `@`, `exp`, `sum`, `reshape`,
...) records an op of `tinynn/ops`, which record Tensors and so come after this file: those
methods are written in `tinynn/ops/methods.py`, next to the ops, and set on Tensor from there.
"""
import numpy as np

from .dtypes import checked_dtype as _checked_dtype, get_default_dtype, scalar_dtype
from .printing import tensor_repr


def _checked_array(data, dtype=None, op="tensor"):
    """An ndarray for `data` under PyTorch's dtype rules (Python floats -> the default dtype, ints
    -> int64, bools -> bool; ndarrays keep their dtype). A copy unless `copy=False` allows sharing."""
    if isinstance(data, Tensor):
        data = data._data
    dtype = None if dtype is None else _checked_dtype(dtype, op)
    with np.errstate(over="ignore"):  # 1e308 as float32 is inf, silently, as in PyTorch
        try:
            array = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__}: {exc}") from None
        if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and array.dtype.kind in "fiu":
            array = array.astype(get_default_dtype() if array.dtype.kind == "f" else np.int64)
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


def as_tensor(value, dtype=None, device=None, like=()):
    """`value` as a Tensor, sharing memory when it already is one (or an ndarray) of `dtype`.
    For an op's operand (`like`, the op's other operands), a Python number takes the dtype of the
    Tensor it meets, so `x * 2.0` stays float32 when x is (as in PyTorch)."""
    if dtype is None and device is None and isinstance(value, Tensor):  # every op's inputs pass here
        return value
    check_device(device, "as_tensor")
    if dtype is not None:
        dtype = _checked_dtype(dtype, "as_tensor")
        if getattr(value, "dtype", dtype) != dtype:
            value = value.to(dtype) if isinstance(value, Tensor) else np.asarray(value).astype(dtype)
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value if dtype is None else value.astype(dtype, copy=False), False)
    if isinstance(value, (bool, int, float)) and dtype is None:
        for other in like:
            if isinstance(other, Tensor):
                kind = other.dtype.kind
                if kind == "f" or (kind in "iu" and isinstance(value, int)) or (kind == "b" and isinstance(value, bool)):
                    return Tensor._wrap(np.asarray(value, dtype=other.dtype), False)
                break
    return Tensor._wrap(_checked_array(value, dtype, "as_tensor"), False)


class device(str):
    """tinynn computes on the CPU only: `tn.device("cpu")`, which compares equal to "cpu"."""

    def __new__(cls, kind="cpu"):
        return str.__new__(cls, check_device(kind, "device"))

    type = property(lambda self: str(self))
    __repr__ = lambda self: f"device(type='{self}')"  # noqa: E731


def check_device(kind, op):
    """None or "cpu" (or a device) pass; any other device is a RuntimeError naming the op."""
    if kind is None or str(kind) in ("cpu", "cpu:0"):
        return "cpu"
    raise RuntimeError(f"{op}: device {kind!r} is not available; tinynn computes on the CPU only (device='cpu')")


CPU = str.__new__(device, "cpu")


class Size(tuple):
    """A tensor's shape, as `t.size()` gives it: a tuple, with PyTorch's `numel()`."""

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self):
        return f"tinynn.Size({list(self)})"


def _checked_dim(dim, ndim, op):
    """dim in [-ndim, ndim) as a non-negative axis (a 0-d tensor accepts 0 and -1, as PyTorch does)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    `data` holds the value (a numpy.ndarray); `grad` receives d L / d self after
    `L.backward()` when `requires_grad` is True. Its operators, math methods and `backward` are
    set by tinynn/ops/methods.py."""

    __slots__ = ("_data", "_grad", "requires_grad", "_node", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data, self._grad, self._node, self.requires_grad = _checked_array(data, dtype), None, None, False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad, node=None):
        t = cls.__new__(cls)
        t._data, t._grad, t.requires_grad, t._node = array, None, requires_grad, node
        return t

    def requires_grad_(self, flag=True):
        """Ask (or stop asking) for gradients of this leaf; only floating-point tensors can."""
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    # ------------------------------------------------------------ attributes
    @property
    def data(self):
        """The values as a Tensor sharing this tensor's memory, outside the graph (no gradient);
        assigning `t.data = v` makes v's values this tensor's (its shape and dtype too)."""
        return Tensor._wrap(self._data, False)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else _checked_array(value, op="data") \
            if not isinstance(value, np.ndarray) else value

    @property
    def grad(self):
        """d L / d self after L.backward() (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor._wrap(np.asarray(value), False)
            if value.shape != self._data.shape:
                raise RuntimeError(f"grad: assigned grad of shape {value.shape} to a tensor of shape {self._data.shape}")
        self._grad = value
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    is_leaf = property(lambda self: self._node is None)
    device = property(lambda self: CPU)
    grad_fn = property(lambda self: self._node)  # the Function node that made this tensor, or None

    def size(self, dim=None):
        """The shape as a `tn.Size` (a tuple), or its length along `dim`."""
        if dim is None:
            return Size(self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"size: dimension {dim} given, but a 0-d tensor has no dimensions")
        return self._data.shape[_checked_dim(dim, self._data.ndim, "size")]

    def stride(self, dim=None):
        """Elements to step over to the next index along each dim (NumPy's byte strides / itemsize), or along `dim`."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        if self._data.ndim == 0:
            raise IndexError(f"stride: dimension {dim} given, but a 0-d tensor has no dimensions")
        return strides[_checked_dim(dim, self._data.ndim, "stride")]

    def dim(self):
        """Number of dimensions (ndim)."""
        return self._data.ndim

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numel(self):
        """Number of elements."""
        return self._data.size

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def is_floating_point(self):
        """True for a float16/32/64 tensor."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        """True when the values are laid out in C order (what view() and contiguous() rely on)."""
        return self._data.flags.c_contiguous

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __contains__(self, element):
        """`element in t`: whether some element of t equals it (PyTorch's rule)."""
        return bool(np.any(self._data == (element._data if isinstance(element, Tensor) else element)))

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def numpy(self):
        """The value as a numpy.ndarray (shares memory with the tensor)."""
        return self._data

    def tolist(self):
        return self._data.tolist()

    def detach(self):
        """A new leaf with the same data (shared memory) and no graph."""
        return Tensor._wrap(self._data, False)

    def detach_(self):
        """Make this tensor a leaf outside the graph, in place (its node dropped, no gradient asked)."""
        self._node, self.requires_grad = None, False
        return self

    def contiguous(self):
        """This tensor when its values are laid out in C order, else a copy that is (clone)."""
        return self if self._data.flags.c_contiguous else self.clone()

    def zero_grad(self):
        self._grad = None

    def __repr__(self):  # str() and print() show it too (rules and options: printing.py)
        return tensor_repr(self)

    def __array__(self, dtype=None, copy=None):
        array = np.asarray(self._data)
        return array if dtype is None else array.astype(dtype)

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
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(np.asarray(fn(self._data, other)), False)

    def __eq__(self, other): return False if other is None else self._compare(other, np.equal)  # t == None: False (PyTorch)
    def __ne__(self, other): return True if other is None else self._compare(other, np.not_equal)
    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)

    def argmax(self, axis=None, dim=None, keepdims=False):
        """Index of the largest value along `axis` (all elements flattened when None); int64."""
        result = np.argmax(self._data, axis=pick_axis(axis, dim), keepdims=keepdims)
        return Tensor._wrap(np.asarray(result, dtype=np.int64), False)

    def argmin(self, axis=None, dim=None, keepdims=False):
        """Index of the smallest value along `axis` (all elements flattened when None); int64."""
        result = np.argmin(self._data, axis=pick_axis(axis, dim), keepdims=keepdims)
        return Tensor._wrap(np.asarray(result, dtype=np.int64), False)
