"""+ - * / ** and unary minus, broadcasting like NumPy.

The engine sums each returned gradient back to its input's shape, so these return
gradients in the broadcast shape of the output. When a call's operands share one shape and
dtype, forward says so in `exact_gradients` and the engine skips that work."""
import numpy as np

from ..autograd.function import Function
from .. import backend


def _broadcast_error(op, a, b):
    return ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together")


def _no_bool(op, operands):
    """PyTorch refuses `-` with a bool operand (a tensor or a Python bool): a TypeError naming the op."""
    for x in operands:
        if isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == np.bool_:
            raise TypeError(f"{op}: subtraction, the `-` operator, with a bool tensor is not supported "
                               "(as in PyTorch); use `~` or logical_not() to invert a mask")


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    __slots__ = ('exact_gradients',)
    differentiable = True
    promotes = "common"

    def forward(self, a, b):
        B = backend.active
        self.exact_gradients = B.same_layout(a, b)
        try:
            return B.add(a, b)
        except ValueError:
            raise _broadcast_error("Add", a, b) from None

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    __slots__ = ('exact_gradients',)
    differentiable = True
    promotes = "common"

    @classmethod
    def apply(cls, *inputs, **options):
        _no_bool("Sub", inputs)  # before promotion turns a bool operand into a number
        return super().apply(*inputs, **options)

    def forward(self, a, b):
        if a.dtype.kind == "b" or b.dtype.kind == "b":  # (the fast path of `-` calls forward directly)
            _no_bool("Sub", (a, b))
        B = backend.active
        self.exact_gradients = B.same_layout(a, b)
        try:
            return B.subtract(a, b)
        except ValueError:
            raise _broadcast_error("Sub", a, b) from None

    def backward(self, g):
        return g, (backend.active.negative(g) if self.needs_grad[1] else None)


class Mul(Function):
    """z = a b;  dz/da = b, dz/db = a. Each factor is saved only when the other one's gradient is
    needed (as PyTorch saves them), so changing the other in place afterwards is no error."""

    __slots__ = ('a', 'b', 'exact_gradients')
    differentiable = True
    promotes = "common"

    def forward(self, a, b):
        B, needs = backend.active, self.needs_grad
        self.a, self.b, self.exact_gradients = (a if needs[1] else None), (b if needs[0] else None), B.same_layout(a, b)
        try:
            return B.multiply(a, b)
        except ValueError:
            raise _broadcast_error("Mul", a, b) from None

    def backward(self, g):
        needs, mul = self.needs_grad, backend.active.multiply
        return mul(g, self.b) if needs[0] else None, mul(g, self.a) if needs[1] else None


class Div(Function):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b^2."""

    __slots__ = ('a', 'b', 'exact_gradients')
    differentiable = True
    promotes = "float"

    def forward(self, a, b):
        B = backend.active
        self.a, self.b, self.exact_gradients = a, b, B.same_layout(a, b)
        try:
            return B.divide(a, b)
        except ValueError:
            raise _broadcast_error("Div", a, b) from None

    def backward(self, g):
        B = backend.active
        ga = B.divide(g, self.b) if self.needs_grad[0] else None
        gb = B.negative(B.divide(B.multiply(g, self.a), B.multiply(self.b, self.b))) if self.needs_grad[1] else None
        return ga, gb


class Pow(Function):
    """z = a^b;  dz/da = b a^(b-1), dz/db = a^b ln a, with PyTorch's values at 0: dz/da = 0 where
    b = 0 (a^0 is the constant 1, even at a = 0), dz/db = 0 where a = 0 and b >= 0."""

    __slots__ = ('a', 'b', 'z', 'exact_gradients')
    differentiable = True
    outputs = ('z',)
    promotes = "common"

    def forward(self, a, b):
        B = backend.active
        self.a, self.b, self.exact_gradients = a, b, B.same_layout(a, b)
        if a.dtype == np.bool_ and b.dtype == np.bool_:
            raise TypeError("Pow: not implemented for bool tensors (as in PyTorch)")
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise _broadcast_error("Pow", a, b) from None
        if b.dtype.kind in "iu" and a.dtype.kind in "iu" and np.any(b < 0):
            raise ValueError(f"Pow: integers to negative integer powers are not allowed (dtype {a.dtype})")
        self.z = B.power(a, b)
        return self.z

    def backward(self, g):
        B, a, b = backend.active, self.a, self.b
        a0, b0 = np.asarray(a), np.asarray(b)  # the masks are constants (arrays) under create_graph too
        ga = B.multiply(g, _zero_where(b0 == 0, lambda: B.multiply(b, B.power(a, b - 1)))) if self.needs_grad[0] else None
        gb = B.multiply(g, _zero_where((a0 == 0) & (b0 >= 0), lambda: B.multiply(self.z, B.log(a)))) if self.needs_grad[1] else None
        return ga, gb


def _zero_where(mask, value):
    """value() set to 0 where mask: where PyTorch takes a formula's 0 * inf (or 0 * nan) at 0 as 0."""
    if not mask.any():
        return value()
    with np.errstate(divide="ignore", invalid="ignore"):
        return backend.active.where(mask, 0, value())


class Neg(Function):
    """z = -a;  dz/da = -1."""

    __slots__ = ()
    differentiable = True
    exact_gradients = True

    def forward(self, a):
        return backend.active.negative(a)

    def backward(self, g):
        return backend.active.negative(g)
