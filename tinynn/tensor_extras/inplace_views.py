"""The in-place view ops: unsqueeze_, squeeze_, t_, transpose_, swapaxes_, swapdims_. Each gives the tensor
the view's shape and strides over the same memory (no copy), bumps its version counter, and, when recorded,
the view's node, as PyTorch does; a leaf that requires grad may change only under no_grad (PyTorch's rule)."""
from ..autograd import versions
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


def inplace_view(t, op, view):
    """t becomes view(t): its array the view's (the same memory), its node the view's node when one is
    recorded (that node's `previous` is t's node before, so ops that used t earlier still reach it)."""
    if is_grad_enabled() and t.requires_grad and t._node is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
    previous = t._node
    result = view(Tensor._wrap(t._data, t.requires_grad, previous))  # t as it was, for the view op's node
    t._data = result._data
    if result._node is not None and result._node is not previous:
        result._node.previous = previous
        t._node = result._node
    versions.bump(t._data)
    return t


def unsqueeze_(self, dim):
    """In place: self <- self.unsqueeze(dim)."""
    return inplace_view(self, "unsqueeze_", lambda s: s.unsqueeze(dim))


def squeeze_(self, dim=None):
    """In place: self <- self.squeeze(dim)."""
    return inplace_view(self, "squeeze_", lambda s: s.squeeze(dim))


def t_(self):
    """In place: self <- self.t() (a tensor with at most 2 dims)."""
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return inplace_view(self, "t_", lambda s: s.t())


def transpose_(self, dim0, dim1):
    """In place: self <- self.transpose(dim0, dim1)."""
    return inplace_view(self, "transpose_", lambda s: s.transpose(dim0, dim1))


def swapaxes_(self, axis0, axis1):
    """In place: self <- self.swapaxes(axis0, axis1)."""
    return inplace_view(self, "swapaxes_", lambda s: s.transpose(axis0, axis1))


def swapdims_(self, dim0, dim1):
    """In place: self <- self.swapdims(dim0, dim1)."""
    return inplace_view(self, "swapdims_", lambda s: s.transpose(dim0, dim1))


METHODS = {"unsqueeze_": unsqueeze_, "squeeze_": squeeze_, "t_": t_, "transpose_": transpose_, "swapaxes_": swapaxes_,
           "swapdims_": swapdims_}
