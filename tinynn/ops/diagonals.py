"""The diagonals of matrices, with PyTorch's arguments: diagonal (a view: writes reach the input),
diag, and the triangles tril and triu (copies, through Where with a constant mask)."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .derivatives import IndexAdd, index_add, permute
from .dims import one_dim
from .shape import Concatenate, Where


def _diagonal_places(rows, cols, offset):
    """(i, j): the row and column of each element of diagonal `offset` of a rows x cols matrix."""
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    k = np.arange(length)
    return k + max(-offset, 0), k + max(offset, 0)


class Diagonal(Function):
    """y[..., k] = x[..., i_k, j_k] with x's dims dim1, dim2 moved last and (i_k, j_k) = (k + max(-offset, 0),
    k + max(offset, 0)): a view of x, as PyTorch's;  dL/dx[..., i_k, j_k] = g[..., k], 0 elsewhere."""

    __slots__ = ('moved', 'axes', 'places')
    exact_gradients = True
    differentiable = True

    def forward(self, x, offset, dim1, dim2):
        rest = [a for a in range(x.ndim) if a not in (dim1, dim2)]
        self.moved = tuple(x.shape[a] for a in rest) + (x.shape[dim1], x.shape[dim2])
        self.axes = tuple(int(a) for a in np.argsort(rest + [dim1, dim2]))  # the moved dims back in place
        self.places = (Ellipsis, *_diagonal_places(x.shape[dim1], x.shape[dim2], offset))
        y = np.diagonal(x, offset, dim1, dim2)
        y.flags.writeable = x.flags.writeable  # NumPy hands out a read-only view; PyTorch's is writable
        return y

    def backward(self, g):
        full = IndexAdd.apply(g, shape=self.moved, index=self.places) if isinstance(g, Tensor) \
            else index_add(self.moved, self.places, g)
        return permute(full, self.axes)


def diagonal(self, offset=0, dim1=0, dim2=1):
    """The elements (i, i + offset) of the matrices spanned by dims dim1 and dim2, as a last dim."""
    d1, d2 = one_dim("diagonal", dim1, self.ndim), one_dim("diagonal", dim2, self.ndim)
    if d1 == d2 or self.ndim < 2:
        raise RuntimeError(f"diagonal: dim1 {dim1} and dim2 {dim2} must be two different dims (shape {self.shape})")
    return Diagonal.apply(self, offset=int(offset), dim1=d1, dim2=d2)


def diag(self, diagonal=0):
    """A vector's matrix: zeros of side n + |diagonal| with the vector on that diagonal; a matrix's
    diagonal `diagonal` as a new vector (a copy)."""
    if self.ndim == 2:
        return Diagonal.apply(self, offset=int(diagonal), dim1=0, dim2=1).clone()
    if self.ndim != 1:
        raise RuntimeError(f"diag: supports 1-d or 2-d tensors, got {self.ndim}-d (shape {self.shape})")
    n = self.shape[0]
    side = n + abs(diagonal)
    source = np.full((side, side), n)  # every place reads the zero appended at position n ...
    source[_diagonal_places(side, side, diagonal)] = np.arange(n)  # ... but the diagonal's
    padded = Concatenate.apply(self, Tensor._wrap(np.zeros(1, self.dtype), False), axis=0)
    return padded[Tensor._wrap(source, False)]


def _triangle(op, self, keep):
    if self.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {self.shape}")
    return Where.apply(self, Tensor._wrap(np.zeros((), self.dtype), False), condition=keep(*self.shape[-2:]))


def tril(self, diagonal=0):
    """x[..., i, j] where j - i <= diagonal, else 0 (the lower triangle of the last two dims)."""
    return _triangle("tril", self, lambda rows, cols: np.tri(rows, cols, diagonal, dtype=bool))


def triu(self, diagonal=0):
    """x[..., i, j] where j - i >= diagonal, else 0 (the upper triangle of the last two dims)."""
    return _triangle("triu", self, lambda rows, cols: ~np.tri(rows, cols, diagonal - 1, dtype=bool))
