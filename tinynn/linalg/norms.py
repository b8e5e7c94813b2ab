"""torch.linalg's matrix norms: matrix_norm (every ord, "nuc", 2 and -2 from the singular values) and norm,
which picks vector_norm or matrix_norm as PyTorch's does. Compositions of ops: their gradients are the ops'."""
import numpy as np

from ..ops.dims import one_dim
from ..ops.linalg import floating, vector_norm
from .decompositions import svdvals


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002 - PyTorch's name
    """Over the two dims `dim`: "fro": sqrt(sum_ij A_ij^2); "nuc": sum_i s_i, 2 (-2): max_i s_i (min_i s_i), s
    the singular values (a tie's gradient shared evenly, as PyTorch's); 1 (-1): the max (min) over columns of
    sum_i |A_ij|; inf (-inf): the max (min) over rows of sum_j |A_ij|."""
    A = floating("linalg.matrix_norm", A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions (shape {tuple(A.shape)})")
    d0, d1 = (one_dim("linalg.matrix_norm", d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        y = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        return y.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)) if keepdim else y
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, other = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    y = sums.amax(other, keepdim=True) if ord > 0 else sums.amin(other, keepdim=True)
    return y if keepdim else y.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """vector_norm when dim is one dim (or None with ord None, over every element, or A is 1-D), matrix_norm
    when dim is two dims (or None and A is 2-D): ord None is 2 for vectors, "fro" for matrices."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, ord, None, keepdim, dtype=dtype)
