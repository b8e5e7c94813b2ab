"""Parameter: a Tensor that a Module registers as learnable."""
import numpy as np

from ..tensor import Tensor, _checked_array


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient (unless asked not to) and that `Module`
    registers automatically when assigned as an attribute.

    `Parameter(t)` shares the array of a Tensor `t` (as PyTorch shares storage);
    any other array-like is copied under tinynn's dtype rules (Python floats -> float32).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            array = _checked_array(data, op="Parameter")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"Parameter: only floating-point arrays can require gradients, got dtype {array.dtype}")
        self._data, self._grad, self._node, self.requires_grad = array, None, None, bool(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):  # copy.deepcopy / pickle keep the subclass
        return (Parameter, (self._data.copy(), self.requires_grad))
