"""Tensor's operators (+ - * / ** @, reflected too) and one-input methods (exp, tanh, ...),
recorded in fewer Python calls.

Arithmetic on small tensors is the hottest path of the library (a training step of a small MLP
is hundreds of them, each worth about a microsecond), and `Function.apply` is written to be read,
not to save calls. `binary_operator` and `unary_method` build the operator or method of one op:
what `Function.apply` then `record` do, spelled out in one frame, and handed to the general path
whenever anything is unusual (grad mode off, anomaly detection on, an operand that is neither a
Tensor nor a Python number, operands of two dtypes or integers, which Function.apply promotes).
A Python number meeting a floating tensor is the one promotion done here: PyTorch gives it the
tensor's dtype (`x * 2.0` stays float32), so it becomes a 0-d array of that dtype, as
`as_tensor` makes it. tests/unit/test_tensor.py proves the paths give the same values, graph
and gradients.
"""
import numpy as np

from ..tensor import Tensor
from .function import creation_order
from .grad_mode import GRAD, current

_new_tensor = object.__new__  # Tensor._wrap without its call


def binary_operator(cls, reflected=False):
    """Tensor's operator for the binary op `cls`: `a <op> b` is `cls.apply(a, b)`, or
    `cls.apply(b, a)` for the reflected operator (`2.0 * x` calls x.__rmul__(2.0))."""

    to_float = cls.promotes == "float"  # int / int is float: Function.apply promotes

    def operator(a, b):  # a: the Tensor (or Parameter) whose operator this is
        x = a._data
        if isinstance(b, Tensor):
            y = b._data
            if x.dtype is not y.dtype or (to_float and x.dtype.kind != "f") or current() != GRAD:
                return cls.apply(b, a) if reflected else cls.apply(a, b)
        elif (type(b) is float or type(b) is int) and x.dtype.kind == "f" and current() == GRAD:
            y = np.array(b, x.dtype)
            b = _new_tensor(Tensor)
            b._data, b._grad, b.requires_grad, b._node = y, None, False, None
        else:
            return cls.apply(b, a) if reflected else cls.apply(a, b)
        if reflected:
            a, b, x, y = b, a, y, x
        node = cls()
        node.needs_grad = needs = (a.requires_grad, b.requires_grad)
        result = _new_tensor(Tensor)
        result._data, result._grad = node.forward(x, y), None
        if needs[0] or needs[1]:
            node.inputs, node.order, node.output_grad = (a, b), next(creation_order), None
            result.requires_grad, result._node = True, node
        else:
            result.requires_grad, result._node = False, None
        return result

    operator.__name__ = operator.__qualname__ = f"binary_operator({cls.__name__}{', reflected' if reflected else ''})"
    operator.op = cls
    return operator


def unary_method(cls):
    """Tensor's method for the one-input op `cls` (no options): `x.f()` is `cls.apply(x)`."""

    to_float = cls.promotes == "float"  # exp of an integer tensor is float: Function.apply promotes

    def method(self):
        if current() != GRAD or (to_float and self._data.dtype.kind != "f"):
            return cls.apply(self)
        node = cls()
        node.needs_grad = (self.requires_grad,)  # before forward, as Function.apply: it may save less
        out = _new_tensor(Tensor)
        out._data, out._grad = node.forward(self._data), None
        out.requires_grad = self.requires_grad
        if self.requires_grad:
            node.inputs, node.order, node.output_grad = (self,), next(creation_order), None
        out._node = node if self.requires_grad else None
        return out

    method.__name__ = method.__qualname__ = cls.__name__.lower()
    method.__doc__ = cls.__doc__
    method.op = cls
    return method
