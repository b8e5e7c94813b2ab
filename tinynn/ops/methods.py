"""What a Tensor does: its operators and math methods, each recording one op of this package,
and `backward`. tensor.py defines what a Tensor is; the ops record Tensors, so they come after it
and set these methods on Tensor here. `x.sum()` is `Sum.apply(x)`; `x * y` is `Mul.apply(x, y)`
through autograd's fast path (the same recording in fewer calls)."""
import numpy as np

from ..autograd import engine, hooks
from ..autograd.fast_path import binary_operator, unary_method
from ..dtypes import ALIASES
from ..tensor import Tensor, _checked_dtype, check_device, pick_axis, shape_argument
from .arguments import index_argument
from .dims import one_dim, reduction_method
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .elementwise import Exp, Log, Sqrt, Abs, ReLU, Sigmoid, Tanh, Cast
from .inplace import Clone, InplaceMethods
from .matmul import MatMul
from .reduction import Sum, Mean
from .shape import Reshape, Transpose, GetItem, Concatenate, Stack, Where
from .softmax import Softmax, LogSoftmax
from .torch_names import METHODS


# PyTorch's legacy type names, which t.type() returns ('torch.FloatTensor' there)
TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
                "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                "bool": "BoolTensor"}


def _floating(x, dtype, op):
    """x cast to `dtype` when given; a TypeError naming op for an integer or bool x (PyTorch has no such kernel)."""
    x = x if dtype is None else x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got {x.dtype} (pass dtype=, or call .float())")
    return x


class TensorMethods:
    """The methods below become Tensor's (see the end of this file)."""

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, grad=None):
        """Accumulate d self / d leaf into every leaf's `.grad` (gradient = d L / d self, 1 for a
        scalar; `grad=` is the older spelling); retain_graph=True keeps the graph for another backward;
        create_graph=True makes the gradients differentiable; `inputs` limits which `.grad` fill."""
        engine.backward(self, gradient if grad is None else grad, retain_graph, create_graph, inputs)

    register_hook = hooks.register_hook
    retain_grad = hooks.retain_grad

    def clone(self):
        """A copy of the values in new memory; differentiable (the gradient passes through)."""
        return Clone.apply(self)

    __add__, __sub__, __mul__, __truediv__, __pow__, __matmul__ = (
        binary_operator(op) for op in (Add, Sub, Mul, Div, Pow, MatMul))
    __radd__, __rsub__, __rmul__, __rtruediv__, __rpow__ = (
        binary_operator(op, reflected=True) for op in (Add, Sub, Mul, Div, Pow))
    def __rmatmul__(self, other): return MatMul.apply(other, self)
    def __pos__(self): return self
    __neg__, exp, log, sqrt, abs, relu, sigmoid, tanh = (
        unary_method(op) for op in (Neg, Exp, Log, Sqrt, Abs, ReLU, Sigmoid, Tanh))

    sum = reduction_method(Sum, "sum", "sum_i x_i")
    mean = reduction_method(Mean, "mean", "(1/n) sum_i x_i")

    def reshape(self, *shape):
        return Reshape.apply(self, shape=shape_argument(shape))

    def view(self, *shape):
        """The same memory with a new shape (-1: the one size to infer); a RuntimeError when the layout
        cannot be (a transposed tensor, say: use reshape). view(dtype) reinterprets the bytes."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            dtype = _checked_dtype(shape[0], "view")
            return Tensor._wrap(self._data.view(dtype), False)  # (no gradient through a reinterpretation)
        return Reshape.apply(self, shape=shape_argument(shape), view=True)

    def transpose(self, *dims):
        """PyTorch's transpose(dim0, dim1): the two dims swapped. (No argument: every dim reversed.)"""
        if not dims:
            return Transpose.apply(self)
        if len(dims) != 2:
            raise TypeError(f"transpose(dim0, dim1) swaps two dims, got {dims}; permute(*dims) reorders them all")
        a, b = (one_dim("transpose", d, self.ndim) for d in dims)  # a 0-d tensor takes only 0 and -1
        order = list(range(self.ndim))
        if self.ndim:
            order[a], order[b] = order[b], order[a]
        return Transpose.apply(self, axes=tuple(order))

    def permute(self, *dims):
        """The dims reordered: result dim i is input dim dims[i] (negative dims count from the end)."""
        return Transpose.apply(self, axes=shape_argument(dims))

    def t(self):
        """transpose(0, 1) of a tensor with at most 2 dims (a 0-d or 1-d tensor is returned as is)."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with <= 2 dimensions, got shape {self.shape}; use transpose(dim0, dim1)")
        return Transpose.apply(self)

    T = property(lambda self: Transpose.apply(self))
    mT = property(lambda self: self.transpose(-2, -1))

    def __getitem__(self, index):
        return GetItem.apply(self, index=index_argument(index))

    def softmax(self, axis=-1, dim=None, *, dtype=None):
        """e^x_i / sum_j e^x_j along dim (a floating tensor; `dtype` casts it first, as PyTorch)."""
        return Softmax.apply(_floating(self, dtype, "softmax"), axis=pick_axis(axis, dim))

    def log_softmax(self, axis=-1, dim=None, *, dtype=None):
        """x_i - log sum_j e^x_j along dim (a floating tensor; `dtype` casts it first, as PyTorch)."""
        return LogSoftmax.apply(_floating(self, dtype, "log_softmax"), axis=pick_axis(axis, dim))

    def astype(self, dtype):
        """The tensor cast to `dtype` (itself when it has that dtype; a float-to-float cast keeps
        the gradient path)."""
        dtype = _checked_dtype(dtype)
        if dtype == self._data.dtype:
            return self
        if dtype.kind != "f":
            return Tensor._wrap(self._data.astype(dtype), False)
        return Cast.apply(self, dtype=dtype)

    def float(self): return self.astype(np.float32)
    def double(self): return self.astype(np.float64)
    def half(self): return self.astype(np.float16)
    def long(self): return self.astype(np.int64)
    def int(self): return self.astype(np.int32)
    def bool(self): return self.astype(np.bool_)
    def cpu(self): return self

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """t.to(dtype), t.to("cpu"), t.to("cpu", dtype), t.to(other): this tensor, cast if needed."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a not in ALIASES:
                device = a
            else:
                dtype = a
        check_device(device, "to")
        result = self if dtype is None else self.astype(dtype)
        return result.clone() if copy and result is self else result

    def type(self, dtype=None):
        """t.type(dtype) is t.to(dtype); t.type() names the dtype, as in 'tinynn.FloatTensor'."""
        return f"tinynn.{TENSOR_TYPES[self.dtype.name]}" if dtype is None else self.astype(ALIASES.get(dtype, dtype))


for _name, _method in [*vars(TensorMethods).items(), *vars(InplaceMethods).items()]:
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
        setattr(Tensor, _name, _method)
# A class with __getattr__ pays on every attribute access, not only missing ones (CPython then
# neither specializes `t._data` nor takes its generic lookup): a quarter of a small op's cost. So
# Tensor keeps Python's own AttributeError, which names the missing attribute.
for _name, _method in METHODS.items():  # PyTorch's other ops (torch_names.py)
    setattr(Tensor, _name, _method)


def concatenate(tensors, axis=0, dim=None):
    """Join tensors along an existing axis; the gradient is split back into the pieces."""
    return Concatenate.apply(*tensors, axis=pick_axis(axis, dim))


cat = concatenate


def stack(tensors, axis=0, dim=None):
    """Join tensors along a new axis."""
    return Stack.apply(*tensors, axis=pick_axis(axis, dim))


def where(condition, a=None, b=None):
    """Elementwise choice: a where condition is true, else b (gradient flows to the chosen side);
    where(condition) alone is condition.nonzero(as_tuple=True), as in PyTorch."""
    if a is None and b is None:
        return (condition if isinstance(condition, Tensor) else Tensor(condition)).nonzero(as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be bool, got {cond.dtype}")
    return Where.apply(a, b, condition=cond)


Tensor.where = lambda self, condition, other: where(condition, self, other)  # PyTorch's method spelling
