"""What a Tensor does: its operators and math methods, each recording one op of this package,
and `backward`. tensor.py defines what a Tensor is; the ops record Tensors, so they come after it
and set these methods on Tensor here. `x.sum()` is `Sum.apply(x)`; `x * y` is `Mul.apply(x, y)`
through autograd's fast path (the same recording in fewer calls)."""
import numpy as np

from ..autograd import engine, hooks
from ..autograd.fast_path import binary_operator
from ..dtypes import ALIASES
from ..tensor import Tensor, _checked_dtype, check_device, pick_axis, shape_argument
from .arguments import index_argument
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .elementwise import Exp, Log, Sqrt, Abs, Clip, ReLU, Sigmoid, Tanh, Cast
from .inplace import Clone, InplaceMethods
from .matmul import MatMul
from .reduction import Sum, Mean, Max, Min
from .shape import Reshape, Transpose, GetItem, Concatenate, Stack, Where
from .softmax import Softmax, LogSoftmax


class TensorMethods:
    """The methods below become Tensor's (see the end of this file)."""

    def backward(self, gradient=None, retain_graph=False, create_graph=False, inputs=None, grad=None):
        """Accumulate d self / d leaf into every leaf's `.grad` (gradient = d L / d self, 1 for a
        scalar; `grad=` is the older spelling); retain_graph=True keeps the graph for another backward."""
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not implemented in tinynn")
        engine.backward(self, gradient if grad is None else grad, retain_graph, create_graph)

    register_hook = hooks.register_hook
    retain_grad = hooks.retain_grad

    def clone(self):
        """A copy of the values in new memory; differentiable (the gradient passes through)."""
        return Clone.apply(self)

    __add__ = binary_operator(Add)
    __sub__ = binary_operator(Sub)
    __mul__ = binary_operator(Mul)
    __truediv__ = binary_operator(Div)
    __pow__ = binary_operator(Pow)
    __matmul__ = binary_operator(MatMul)
    def __radd__(self, other): return Add.apply(other, self)
    def __rsub__(self, other): return Sub.apply(other, self)
    def __rmul__(self, other): return Mul.apply(other, self)
    def __rtruediv__(self, other): return Div.apply(other, self)
    def __rpow__(self, other): return Pow.apply(other, self)
    def __rmatmul__(self, other): return MatMul.apply(other, self)
    def __neg__(self): return Neg.apply(self)
    def __pos__(self): return self

    def exp(self): return Exp.apply(self)
    def log(self): return Log.apply(self)
    def sqrt(self): return Sqrt.apply(self)
    def abs(self): return Abs.apply(self)
    def relu(self): return ReLU.apply(self)
    def sigmoid(self): return Sigmoid.apply(self)
    def tanh(self): return Tanh.apply(self)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return Clip.apply(self, lo=min, hi=max)

    clamp = clip

    def sum(self, axis=None, keepdims=False, dim=None):
        return Sum.apply(self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, dim=None):
        return Mean.apply(self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, dim=None):
        return Max.apply(self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def min(self, axis=None, keepdims=False, dim=None):
        return Min.apply(self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def reshape(self, *shape):
        return Reshape.apply(self, shape=shape_argument(shape))

    view = reshape

    def transpose(self, *axes):
        return Transpose.apply(self, axes=shape_argument(axes) or None)

    permute = transpose

    T = property(lambda self: Transpose.apply(self))
    mT = property(lambda self: Transpose.apply(self, axes=(*range(self.ndim - 2), self.ndim - 1, self.ndim - 2)))

    def flatten(self, start_axis=0, start_dim=None):
        start = start_axis if start_dim is None else start_dim
        start = start + self.ndim if start < 0 else start
        if not 0 <= start <= max(self.ndim - 1, 0):
            raise IndexError(f"flatten: start_axis {start_axis} out of range for a tensor of shape {self.shape}")
        return self.reshape(*self.shape[:start], -1)

    def __getitem__(self, index):
        return GetItem.apply(self, index=index_argument(index))

    def softmax(self, axis=-1, dim=None):
        return Softmax.apply(self, axis=pick_axis(axis, dim))

    def log_softmax(self, axis=-1, dim=None):
        return LogSoftmax.apply(self, axis=pick_axis(axis, dim))

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
        return f"tinynn.{self.dtype}" if dtype is None else self.astype(ALIASES.get(dtype, dtype))


for _name, _method in [*vars(TensorMethods).items(), *vars(InplaceMethods).items()]:
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
        setattr(Tensor, _name, _method)


def concatenate(tensors, axis=0, dim=None):
    """Join tensors along an existing axis; the gradient is split back into the pieces."""
    return Concatenate.apply(*tensors, axis=pick_axis(axis, dim))


cat = concatenate


def stack(tensors, axis=0, dim=None):
    """Join tensors along a new axis."""
    return Stack.apply(*tensors, axis=pick_axis(axis, dim))


def where(condition, a, b):
    """Elementwise choice: a where condition is true, else b (gradient flows to the chosen side)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be bool, got {cond.dtype}")
    return Where.apply(a, b, condition=cond)
