"""Reading tensors and gradients as NumPy arrays: `.grad` is a Tensor (PyTorch's type), and a
gradient handed in as an ndarray is accepted too. The optimizers and nn.utils go through these."""
import numpy as np

from ..tensor import Tensor


def array_of(t):
    """The ndarray holding t's values, sharing memory with it (t a Tensor, or an array-like)."""
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def grad_array(p, maximize=False):
    """p.grad as an ndarray sharing its memory (None if unset); maximize=True gives -p.grad instead
    (a new array), PyTorch's first move when an optimizer maximizes."""
    if p.grad is None:
        return None
    g = array_of(p.grad)
    return -g if maximize else g
