"""Writing into, and finding, positions: select_scatter, slice_scatter, diagonal_scatter (x with src embedded
where select / a slice / diagonal would read: IndexPut, so dL/dsrc = g there and dL/dx = g elsewhere),
fill_diagonal_, unravel_index, argwhere and unique_consecutive."""
import numpy as np

from .. import backend
from ..ops.dims import one_dim
from ..ops.diagonals import _diagonal_places
from ..ops.inplace import IndexPut, inplace
from ..tensor import Tensor, shape_argument
from .shape import _int


def _embedded(op, self, src, index):
    """self with src written at self[index]; src must have exactly that part's shape (no broadcasting)."""
    part = np.zeros(self.shape, bool)[index].shape
    if tuple(src.shape) != part:
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(part)}")
    if src.dtype != self.dtype:  # cast to self's dtype, as PyTorch does (float -> float keeps the gradient)
        same_kind = src.dtype.kind == self.dtype.kind == "f"
        src = src.to(self.dtype) if same_kind else Tensor._wrap(src._data.astype(self.dtype), False)
    return IndexPut.apply(self, src, index=index)


def select_scatter(self, src, dim, index):
    """y = x with y.select(dim, index) = src."""
    if self.ndim == 0:
        raise IndexError("select_scatter: select() cannot be applied to a 0-dim tensor.")
    d, i = one_dim("select_scatter", dim, self.ndim), _int("select_scatter", index, "index")
    if not -self.shape[d] <= i < self.shape[d]:
        raise IndexError(f"select_scatter: index {i} out of range for tensor of size {list(self.shape)} at dimension {d}")
    return _embedded("select_scatter", self, src, (slice(None),) * d + (i % self.shape[d],))


def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
    """y = x with y[..., start:end:step, ...] (along dim) = src."""
    if step <= 0:
        raise RuntimeError(f"slice_scatter: slice step must be positive, got {step}")
    d = one_dim("slice_scatter", dim, self.ndim)
    return _embedded("slice_scatter", self, src, (slice(None),) * d + (slice(start, end, step),))


def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
    """y = x with y.diagonal(offset, dim1, dim2) = src (src: the diagonal's shape, the rest of x's dims then
    the diagonal's length)."""
    d1, d2 = one_dim("diagonal_scatter", dim1, self.ndim), one_dim("diagonal_scatter", dim2, self.ndim)
    if d1 == d2 or self.ndim < 2:
        raise RuntimeError(f"diagonal_scatter: dim1 {dim1} and dim2 {dim2} must be two different dims "
                           f"(shape {tuple(self.shape)})")
    rows, cols = _diagonal_places(self.shape[d1], self.shape[d2], offset)
    rest = [a for a in range(self.ndim) if a not in (d1, d2)]
    index = [None] * self.ndim
    for k, a in enumerate(rest):  # each other dim in its own place of the diagonal's (rest..., L) shape
        index[a] = np.arange(self.shape[a]).reshape([-1 if j == k else 1 for j in range(len(rest) + 1)])
    index[d1], index[d2] = rows, cols
    return _embedded("diagonal_scatter", self, src, tuple(index))


def fill_diagonal_(self, fill_value, wrap=False):
    """In place: the main diagonal x[i, i, ..., i] <- fill_value (every dim of equal length when more than 2);
    a tall matrix with wrap=True starts again N + 1 rows down (the places k (cols + 1) of its flat memory)."""
    if self.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got shape {tuple(self.shape)}")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got {tuple(self.shape)}")
    n = min(self.shape)
    if self.ndim == 2:
        step = self.shape[1] + 1
        count = -(-self.numel() // step) if wrap and self.shape[0] > self.shape[1] else n
    else:
        step, count = sum(int(np.prod(self.shape[a + 1:])) for a in range(self.ndim)), n
    places = (np.arange(count, dtype=np.int64) * step,)
    value = fill_value if isinstance(fill_value, Tensor) else Tensor._wrap(np.asarray(fill_value).astype(self.dtype), False)
    return inplace(self, "fill_diagonal_", lambda s: IndexPut.apply(s.reshape(-1), value, index=places).reshape(s.shape))


def unravel_index(indices, shape):
    """The coordinates of flat (row-major) indices in a tensor of `shape`: one int64 tensor per dim, each
    indices' shape; coordinate d = floor(i / prod(shape[d+1:])) mod shape[d] (out-of-range indices wrap, as
    PyTorch's)."""
    array = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got {array.dtype}")
    shape = shape_argument((shape,) if isinstance(shape, (int, np.integer)) else (tuple(shape),))
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {shape}")
    coords, rest = [], array.astype(np.int64)
    for n in reversed(shape):
        coords.append(rest % n if n else np.zeros_like(rest))
        rest = rest // n if n else rest
    return tuple(Tensor._wrap(c, False) for c in reversed(coords))


def argwhere(self):
    """The coordinates of the nonzero elements, one row each, in row-major order: int64 (N, ndim)."""
    return self.nonzero()


def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
    """The first element of each run of equal neighbours (of the flattened tensor, or slices along dim);
    with return_inverse each element's run (int64), with return_counts each run's length (int64).
    The values are gathered from the input, so its gradient reaches them."""
    d = None if dim is None else one_dim("unique_consecutive", dim, self.ndim)
    starts, inverse, counts = backend.active.unique_consecutive(self._data, d)
    starts = Tensor._wrap(np.asarray(starts, np.int64), False)
    values = self.reshape(-1)[starts] if d is None else self.index_select(d, starts)
    extra = ((Tensor._wrap(np.asarray(inverse, np.int64), False),) if return_inverse else ()) + \
        ((Tensor._wrap(np.asarray(counts, np.int64), False),) if return_counts else ())
    return (values, *extra) if extra else values


METHODS = {name: globals()[name] for name in (
    "select_scatter", "slice_scatter", "diagonal_scatter", "fill_diagonal_", "argwhere", "unique_consecutive")}
FUNCTIONS = {"unravel_index": unravel_index}
