"""torch.linalg's products: matrix_power, multi_dot (in the cheapest order), vecdot, matmul, diagonal and
vander, compositions of ops (their gradients are the ops')."""
import numpy as np

from ..ops import where
from ..ops.linalg import inv
from ..tensor import Tensor


def matrix_power(A, n):
    """A^n for square A (..., m, m) by repeated squaring; n < 0: (A^-1)^|n|; n = 0: I (its gradient to A zero)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{' by '.join(map(str, A.shape[-2:]))} matrices (shape {tuple(A.shape)})")
    if n == 0:
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape)
        return where(Tensor._wrap(np.ones((), bool), False), Tensor._wrap(eye.copy(), False), A)
    if n < 0:
        A, n = inv(A), -int(n)
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result.clone() if result is A else result


def _chain_order(sizes):
    """split[i][j]: where the cheapest product of matrices i..j splits, for matrix k of shape sizes[k] x sizes[k + 1]
    (the textbook dynamic program: cost(i, j) = min_s cost(i, s) + cost(s + 1, j) + p_i p_(s+1) p_(j+1))."""
    count = len(sizes) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min((cost[i][s] + cost[s + 1][j] + sizes[i] * sizes[s + 1] * sizes[j + 1], s)
                                          for s in range(i, j))
    return split


def multi_dot(tensors):
    """A_1 A_2 ... A_N in the order of fewest multiplications; A_1 may be a vector (a row), A_N one (a column),
    the others matrices."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        allowed, where_ = ((1, 2), "first" if i == 0 else "last") if i in (0, len(tensors) - 1) else ((2,), f"{i}")
        if t.ndim not in allowed:
            raise RuntimeError(f"multi_dot(): the {where_} tensor must be {' or '.join(f'{d}D' for d in allowed)} "
                               f"but got {t.ndim}D")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have the same dtype but tensor 0 is {tensors[0].dtype} "
                               f"and tensor {i} {t.dtype}")
    row, column = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [tensors[0].unsqueeze(0) if row else tensors[0], *tensors[1:-1],
            tensors[-1].unsqueeze(-1) if column else tensors[-1]]
    for i, (a, b) in enumerate(zip(mats, mats[1:])):
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    split = _chain_order([mats[0].shape[0]] + [m.shape[1] for m in mats])

    def product(i, j):
        return mats[i] if i == j else product(i, split[i][j]) @ product(split[i][j] + 1, j)
    y = product(0, len(mats) - 1)
    y = y.squeeze(-1) if column else y
    return y.squeeze(0) if row else y


def vecdot(x, y, *, dim=-1):
    """sum_i x_i y_i along dim (inputs broadcast)."""
    for t in (x, y):
        if t.dtype.kind != "f":
            raise RuntimeError(f"linalg.vecdot: Expected a floating point tensor as input. Got {t.dtype}")
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {x.dtype} "
                           f"and y of type {y.dtype} instead")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise RuntimeError(f"linalg.vecdot: shapes {tuple(x.shape)} and {tuple(y.shape)} do not broadcast") from None
    return (x * y).sum(dim)


def matmul(input, other):  # noqa: A002 - PyTorch's name
    """input @ other (torch.matmul)."""
    return input @ other


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """A's diagonal `offset` in the matrices of dims dim1, dim2, as a last dim (a view; A.diagonal with other defaults)."""
    return A.diagonal(offset, dim1, dim2)


def vander(x, *, N=None):  # noqa: N803
    """The Vandermonde matrix [x_i^0, x_i^1, ..., x_i^(N-1)] per element of x (..., n): (..., n, N), N = n when None."""
    if x.ndim < 1:
        raise RuntimeError(f"linalg.vander: Expected x to have at least one dimension (shape {tuple(x.shape)})")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1 (got {n})")
    return x.unsqueeze(-1) ** Tensor._wrap(np.arange(n).astype(x.dtype), False)
