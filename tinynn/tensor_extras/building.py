"""PyTorch's constructions from tensors, composed of tinynn's differentiable ops (their gradients are those
ops'): block_diag, cartesian_prod, combinations, diag_embed, diagflat, vander; and the index constructions
tril_indices and triu_indices (integer tensors, no gradient)."""
import itertools

import numpy as np

from ..dtypes import checked_dtype, get_default_dtype, result_type
from ..ops import cat, stack
from ..ops.derivatives import IndexAdd
from ..ops.diagonals import _diagonal_places
from ..ops.dims import one_dim
from ..ops.selection import meshgrid
from ..tensor import Tensor, check_device


def _constant(array):
    return Tensor._wrap(np.asarray(array), False)


def block_diag(*tensors):
    """The tensors (0-d as 1 x 1, 1-d (n,) as 1 x n, 2-d as they are) along the diagonal of a matrix of zeros:
    B = [[A_1, 0, ...], [0, A_2, ...], ...], of the tensors' result dtype."""
    for k, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has "
                               f"{t.ndim} dimensions")
    if not tensors:
        return _constant(np.zeros((1, 0), get_default_dtype()))
    dtype = result_type(*tensors)
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    blocks = [b if b.dtype == dtype else b.to(dtype) for b in blocks]
    width = sum(b.shape[1] for b in blocks)
    rows, before = [], 0
    for b in blocks:
        r, c = b.shape
        left, right = (_constant(np.zeros((r, w), dtype)) for w in (before, width - before - c))
        rows.append(cat([left, b, right], dim=1))
        before += c
    return cat(rows, dim=0)


def cartesian_prod(*tensors):
    """The rows (a_i, b_j, ...) of every combination of the 1-d tensors' elements, the last varying fastest
    (itertools.product's order): shape (prod_k n_k, K); one tensor is returned as it is."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: Expect a 1D vector, but got shape {list(t.shape)}")
    if not tensors:
        raise RuntimeError("cartesian_prod: expects a non-empty list of tensors")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], dim=1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002 - PyTorch's argument name
    """The r-element combinations of a 1-d tensor's elements in itertools' order, as rows (C, r):
    C = n choose r, or (n + r - 1) choose r with_replacement; r = 0 gives an empty 1-d tensor."""
    if input.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return _constant(np.zeros(0, input.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[_constant(index)]


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """Each vector along input's last dim on diagonal `offset` of a square matrix of zeros (side n + |offset|)
    spanned by the result's dims dim1 and dim2: y[..., i_k, ..., j_k] = x[..., k], (i_k, j_k) the k-th place
    of that diagonal, 0 elsewhere;  dL/dx[..., k] = g[..., i_k, ..., j_k]."""
    ndim = input.ndim + 1
    d1, d2 = one_dim("diag_embed", dim1, ndim), one_dim("diag_embed", dim2, ndim)
    if input.ndim == 0:
        raise IndexError(f"diag_embed: dim {dim1} is out of range for a result with 1 dimension")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    side = input.shape[-1] + abs(offset)
    places = (Ellipsis, *_diagonal_places(side, side, offset))
    square = IndexAdd.apply(input, shape=tuple(input.shape[:-1]) + (side, side), index=places)
    return square.movedim((-2, -1), (d1, d2))


def diagflat(input, offset=0):  # noqa: A002
    """input flattened, on diagonal `offset` of a square matrix of zeros (side numel + |offset|)."""
    return input.reshape(-1).diag(offset)


def vander(x, N=None, increasing=False):  # noqa: N803 - PyTorch's argument name
    """The Vandermonde matrix V[i, j] = x_i^(N-1-j) (x_i^j when increasing), N columns (len(x) when None),
    powers by repeated products (exact gradients, none of 0^-1); bool and integer x give int64."""
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape {list(x.shape)}")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {n}")
    if x.dtype.kind != "f":
        x = x.to(np.int64)
    if n == 0:
        return _constant(np.zeros((x.shape[0], 0), x.dtype))
    powers = [_constant(np.ones(x.shape, x.dtype))]
    for _ in range(n - 1):
        powers.append(x if len(powers) == 1 else powers[-1] * x)
    return stack(powers if increasing else powers[::-1], dim=1)


def _triangle_indices(op, row, col, offset, dtype, device, rows_cols):
    check_device(device, op)
    dtype = checked_dtype(dtype, op)
    if dtype.kind not in "iu":
        raise RuntimeError(f"{op}: not implemented for {dtype} (an integer dtype is needed)")
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{op}: {name} must be non-negative, got {n}")
    return _constant(np.stack(rows_cols(row, offset, col)).astype(dtype))


def tril_indices(row, col, offset=0, *, dtype=np.int64, device=None, layout=None):
    """The (row, column) coordinates, as a (2, N) tensor in row-major order, of the lower triangle of a
    row x col matrix: the places with j - i <= offset."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, np.tril_indices)


def triu_indices(row, col, offset=0, *, dtype=np.int64, device=None, layout=None):
    """The (row, column) coordinates, as a (2, N) tensor in row-major order, of the upper triangle of a
    row x col matrix: the places with j - i >= offset."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, np.triu_indices)


METHODS = {"diag_embed": diag_embed, "diagflat": diagflat}
FUNCTIONS = {name: globals()[name] for name in (
    "block_diag", "cartesian_prod", "combinations", "diag_embed", "diagflat", "vander", "tril_indices", "triu_indices")}
