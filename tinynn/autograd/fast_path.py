"""Tensor's binary operators (+ - * / ** @), recorded in fewer Python calls.

Arithmetic on small tensors is the hottest path of the library (a training step of a small MLP
is hundreds of them, each worth about a microsecond), and `Function.apply` is written to be read,
not to save calls. `binary_operator` builds the operator of one op: what `Function.apply` then
`record` do for two Tensors, spelled out in one frame, and handed to the general path whenever
anything is unusual (an operand that is not a Tensor, grad mode off, anomaly detection on, operands
of two dtypes, which Function.apply promotes).
tests/unit/test_tensor.py proves both paths give the same values, graph and gradients.
"""
from ..tensor import Tensor
from .function import creation_order
from .grad_mode import GRAD, current

_new_tensor = object.__new__  # Tensor._wrap without its call


def binary_operator(cls):
    """Tensor's operator for the binary op `cls`: `a <op> b` is `cls.apply(a, b)`."""

    to_float = cls.promotes == "float"  # int / int is float: Function.apply promotes

    def operator(a, b):  # a: the Tensor (or Parameter) whose operator this is
        if not isinstance(b, Tensor) or current() != GRAD or a._data.dtype is not b._data.dtype \
                or (to_float and a._data.dtype.kind != "f"):
            return cls.apply(a, b)
        node = cls()
        node.needs_grad = needs = (a.requires_grad, b.requires_grad)
        result = _new_tensor(Tensor)
        result._data, result._grad = node.forward(a._data, b._data), None
        if needs[0] or needs[1]:
            node.inputs, node.order, node.output_grad = (a, b), next(creation_order), None
            result.requires_grad, result._node = True, node
        else:
            result.requires_grad, result._node = False, None
        return result

    operator.__name__ = operator.__qualname__ = f"binary_operator({cls.__name__})"
    operator.op = cls
    return operator
