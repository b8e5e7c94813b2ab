"""What a tensor is, in PyTorch's words: nelement, ndimension, nbytes, itemsize, data_ptr, storage_offset,
retains_grad, layout, is_cpu/is_cuda/is_sparse/is_quantized/is_meta/is_nested/is_complex, is_signed,
is_nonzero, is_same_size, equal; tn.is_tensor, tn.is_floating_point, tn.clone; and the casts byte(), char(),
short() (bfloat16(), cfloat(), cdouble(), chalf() raise: tinynn has no bfloat16 or complex dtypes)."""
import numpy as np

from ..autograd import hooks
from ..autograd.versions import owner
from ..ops.logical import equal as _equal
from ..tensor import Tensor


class layout:  # noqa: N801 - PyTorch's name (torch.layout)
    """How a tensor's elements are laid out in memory; tinynn has one: `tn.strided` (dense, with strides)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tinynn.{self.name}"


strided = layout("strided")


def data_ptr(self):
    """The address of the tensor's first element (NumPy's data pointer)."""
    return self._data.ctypes.data


def storage_offset(self):
    """How many elements into its memory (the array that owns it) the tensor starts."""
    return (self._data.ctypes.data - owner(self._data).ctypes.data) // self._data.itemsize


def _retains_grad(self):
    """True for a non-leaf on which retain_grad() was called."""
    if self._node is None:
        return False
    entry = hooks.lookup(id(self._node), self._node)
    return bool(entry is not None and entry.retains)


def nelement(self):
    """numel(): the number of elements."""
    return self.numel()


def ndimension(self):
    """dim(): the number of dimensions."""
    return self.ndim


def is_complex(self):
    """False: tinynn has no complex dtypes."""
    return False


def equal(self, other):
    """True when other has self's shape and equal values (tn.equal)."""
    return _equal(self, other)


def is_signed(self):
    """True for the signed dtypes: floats and int8/16/32/64 (not uint8 or bool)."""
    return self.dtype.kind in "fi"


def is_nonzero(self):
    """bool(x != 0) of a one-element tensor (NaN counts as nonzero); a RuntimeError for any other size."""
    if self.numel() != 1:
        which = "no values" if self.numel() == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {which} is ambiguous")
    return bool(self._data.reshape(()) != 0)


def is_same_size(self, other):
    """self.shape == other.shape."""
    return tuple(self.shape) == tuple(other.shape)


def _cast(dtype, name):
    def method(self, memory_format=None):
        return self.astype(dtype)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"self cast to {np.dtype(dtype).name} (itself when it has that dtype; floats truncate, "
                      "out of range wraps).")
    return method


def _missing(name, dtype):
    def method(self, memory_format=None):
        raise TypeError(f"{name}(): tinynn has no {dtype} dtype (NumPy has no bfloat16, and tinynn no complex tensors); "
                        "use float(), double() or half()")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Not available: tinynn has no {dtype} dtype (a TypeError saying so)."
    return method


def is_tensor(obj):
    """True when obj is a tinynn Tensor (a Parameter too)."""
    return isinstance(obj, Tensor)


def _tensor_only(name):
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tn.{name}(input, ...) = input.{name}(...) (input a Tensor)."
    return function


def clone(input, *, memory_format=None):  # noqa: A002
    """A copy of input in new memory; the gradient passes through."""
    return _tensor_only("clone")(input)


_ALWAYS = {"is_cpu": True, "is_cuda": False, "is_sparse": False, "is_quantized": False, "is_meta": False,
           "is_nested": False}
METHODS = {name: property(lambda self, value=value: value, doc=f"{value} (tinynn: dense CPU tensors only).")
           for name, value in _ALWAYS.items()}
METHODS.update({
    "nelement": nelement, "ndimension": ndimension,
    "nbytes": property(lambda self: self.numel() * self._data.itemsize, doc="numel() * itemsize."),
    "itemsize": property(lambda self: self._data.itemsize, doc="Bytes per element."),
    "layout": property(lambda self: strided, doc="tn.strided: tinynn's tensors are dense."),
    "retains_grad": property(_retains_grad, doc=_retains_grad.__doc__),
    "data_ptr": data_ptr, "storage_offset": storage_offset, "is_complex": is_complex, "is_signed": is_signed,
    "is_nonzero": is_nonzero, "is_same_size": is_same_size, "equal": equal,
    "byte": _cast(np.uint8, "byte"), "char": _cast(np.int8, "char"), "short": _cast(np.int16, "short"),
    "bfloat16": _missing("bfloat16", "bfloat16"), "cfloat": _missing("cfloat", "complex64"),
    "cdouble": _missing("cdouble", "complex128"), "chalf": _missing("chalf", "complex32"),
})
FUNCTIONS = {"layout": layout, "strided": strided, "is_tensor": is_tensor, "clone": clone,
             **{name: _tensor_only(name) for name in ("is_floating_point", "is_nonzero", "is_complex", "is_signed",
                                                       "is_same_size")}}
