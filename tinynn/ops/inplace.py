"""clone and the in-place ops (`add_`, `mul_`, `+=`, `zero_`, ...) with PyTorch's rules.

An in-place op writes into the tensor's own array, so every view of that memory sees the change.
Under autograd that is allowed when nothing needs the old values: on a leaf that requires grad
only inside `no_grad()` (an optimizer's update); on any other tensor it is recorded like the
out-of-place op, the tensor taking the new node, and its version counter goes up, so a backward
that saved the old values raises instead of using the new ones (autograd/function.py).
"""
import numpy as np

from ..autograd import versions
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..random import numpy_generator
from ..tensor import Tensor
from .. import backend
from .arguments import index_argument
from .array_or_tensor import values
from .shape import Where


class Clone(Function):
    """y = a copy of x;  dy/dx = 1."""

    __slots__ = ()
    exact_gradients = True
    differentiable = True

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


class IndexPut(Function):
    """y = x with y[index] = v (v broadcast to x[index], cast to x's dtype);  dL/dx = g with the
    written places zeroed, dL/dv = g[index] (summed back to v's shape), as PyTorch's index_put."""

    __slots__ = ('index', 'written')
    differentiable = True

    def forward(self, x, v, index):
        y = x.copy()
        try:
            y[index] = v
        except (ValueError, IndexError) as exc:
            kind = IndexError if isinstance(exc, IndexError) else RuntimeError
            raise kind(f"tensor[index] = value: {exc} (tensor of shape {x.shape}, value of shape {v.shape})") from None
        self.index, self.written = index, np.zeros(x.shape, dtype=bool)
        self.written[index] = True
        return y

    def backward(self, g):
        gx = backend.active.where(self.written, np.zeros((), values(g).dtype), g) if self.needs_grad[0] else None
        return gx, (g[self.index] if self.needs_grad[1] else None)


def inplace(t, op, compute):
    """Make `compute(t)` (a Tensor of t's shape) t's new value, in t's own memory.

    Recorded when grad mode is on and a gradient is involved: the old value becomes a copy that
    keeps t's node, `compute` runs on that copy, and t takes the new node. A leaf that requires
    grad may change only under no_grad (PyTorch's rule: its old value is what the graph used)."""
    recording = is_grad_enabled() and t.dtype.kind == "f"  # an integer tensor never requires grad
    if recording and t.requires_grad and t._node is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
    if recording:
        previous = t._node
        if previous is not None and any(i.requires_grad and versions.owner(i._data) is versions.owner(t._data)
                                        for i in previous.inputs):
            raise RuntimeError(f"{op}: tinynn cannot change in place a view of a tensor that autograd records "
                               "(PyTorch rewrites the base's history; tinynn would give wrong gradients): "
                               "write through the base, base[index] = value, or change a clone() of the view")
        old = Tensor._wrap(t._data.copy(), t.requires_grad, previous)
        result = compute(old)
        if result.requires_grad:
            _write(t, result._data, op)
            t._node, t.requires_grad = result._node, True
            if previous is not None and result._node is not previous:
                result._node.previous = previous  # the ops that used t before still reach its old node
            versions.bump(t._data)
            return t
    with no_grad():
        _write(t, compute(t)._data, op)
    versions.bump(t._data)
    return t


def _write(t, values, op):
    if values.shape != t._data.shape:
        raise RuntimeError(f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape {list(values.shape)}")
    if not np.can_cast(values.dtype, t._data.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {values.dtype} can't be cast to the desired output type {t.dtype}")
    np.copyto(t._data, values, casting="unsafe")


def _constant(t, values):
    """t's values replaced by `values` (a Tensor or array broadcast to t's shape); the gradient
    goes to `values`, none to the old t."""
    return Where.apply(t, values, condition=np.zeros(t.shape, dtype=bool))


def _floating(t, op):
    if t.dtype.kind != "f":   # PyTorch has no random fill of integer or bool tensors either
        raise RuntimeError(f"{op}: fills floating-point tensors only, got {t.dtype}")


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


class InplaceMethods:
    """Tensor's in-place methods (bound in methods.py): each returns the tensor itself."""

    def add_(self, other, alpha=1):
        """self <- self + alpha other."""
        return inplace(self, "add_", lambda s: s + _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        """self <- self - alpha other."""
        return inplace(self, "sub_", lambda s: s - _scaled(other, alpha))

    def mul_(self, other):
        """self <- self other."""
        return inplace(self, "mul_", lambda s: s * other)

    def div_(self, other):
        """self <- self / other."""
        return inplace(self, "div_", lambda s: s / other)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        """self <- min(max(self, min), max)."""
        return inplace(self, "clamp_", lambda s: s.clamp(min, max))

    clip_ = clamp_

    def fill_(self, value):
        """Every element <- value."""
        return inplace(self, "fill_", lambda s: _constant(s, value if isinstance(value, Tensor) else
                                                         Tensor._wrap(np.asarray(value, dtype=s.dtype), False)))

    def zero_(self):
        """Every element <- 0."""
        return self.fill_(0)

    def copy_(self, src):
        """self <- src's values (broadcast to self's shape, cast to self's dtype); the gradient goes to src."""
        src = src if isinstance(src, Tensor) else Tensor._wrap(np.asarray(src), False)
        if src.dtype != self.dtype:
            src = src.to(self.dtype) if src.dtype.kind == "f" and self.dtype.kind == "f" else \
                Tensor._wrap(src._data.astype(self.dtype), False)
        return inplace(self, "copy_", lambda s: _constant(s, src))

    def uniform_(self, a=0.0, b=1.0, *, generator=None, **bounds):
        """Every element <- a sample of U[a, b), from `generator` (default: tinynn's seeded one;
        PyTorch's keywords `from=` and `to=` name a and b)."""
        a, b = bounds.pop("from", a), bounds.pop("to", b)
        if bounds:
            raise TypeError(f"uniform_: unexpected keyword arguments {sorted(bounds)}")
        _floating(self, "uniform_")
        draw = a + (b - a) * numpy_generator(generator, "uniform_").random(self.shape)
        return inplace(self, "uniform_", lambda s: _constant(s, Tensor._wrap(draw.astype(s.dtype), False)))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Every element <- a sample of N(mean, std^2), from `generator` (default: tinynn's seeded one)."""
        _floating(self, "normal_")
        draw = mean + std * numpy_generator(generator, "normal_").standard_normal(self.shape)
        return inplace(self, "normal_", lambda s: _constant(s, Tensor._wrap(draw.astype(s.dtype), False)))

    def __setitem__(self, index, value):
        """self[index] = value, in place (value broadcast to the selected part, cast to self's dtype;
        a value that requires grad gets the gradient of the places it fills)."""
        index = index_argument(index)
        if not isinstance(value, Tensor):
            value = Tensor._wrap(np.asarray(value), False)
        inplace(self, "__setitem__", lambda s: IndexPut.apply(s, value, index=index))

    def pow_(self, exponent):
        """self <- self ** exponent."""
        return inplace(self, "pow_", lambda s: s ** exponent)

    def __imod__(self, other):
        return inplace(self, "%=", lambda s: s % other)

    def __ifloordiv__(self, other):
        return inplace(self, "//=", lambda s: s // other)

    for _name in ("neg", "abs", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "floor", "ceil", "round", "trunc"):
        def _method(self, _name=_name):
            return inplace(self, _name + "_", lambda s: getattr(s, _name)())
        _method.__name__ = _method.__qualname__ = _name + "_"
        _method.__doc__ = f"self <- self.{_name}()."
        locals()[_name + "_"] = _method
    del _name, _method

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_
    _version = property(lambda self: versions.version(self._data))
