"""PyTorch's remaining shape ops, composed of tinynn's reshape, transpose, indexing, flip, expand, sum and
cat (their gradients are those ops'): unbind, select, tensor_split, hsplit/vsplit/dsplit, split_with_sizes,
swapaxes/swapdims, atleast_1d/2d/3d, broadcast_tensors, broadcast_shapes, column_stack, row_stack, fliplr,
flipud, rot90, ravel, view_as, reshape_as, type_as, sum_to_size and Tensor.unfold (the Unfold op, a view).
A view (select, unbind, the splits, swapaxes, atleast_*, ravel of a contiguous tensor, unfold) shares the
input's memory and version counter, as PyTorch's."""
import operator

import numpy as np

from ..ops.dims import one_dim
from ..ops.index_more import Unfold
from ..ops.views import hstack, narrow, vstack
from ..tensor import Size, Tensor, shape_argument


def _int(op, value, what):
    """An int argument (or a 0-d integer tensor), else a TypeError naming the op."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int, got {type(value).__name__}") from None


def select(self, dim, index):
    """x[..., index, ...] with `index` taken along dim (that dim removed): a view; index may be negative."""
    if self.ndim == 0:
        raise IndexError("select(): cannot be applied to a 0-dim tensor.")
    d, i = one_dim("select", dim, self.ndim), _int("select", index, "index")
    n = self.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(self.shape)} at dimension {d}")
    return self[(slice(None),) * d + (i % n, Ellipsis)]  # (Ellipsis: NumPy then gives a 0-d view, not a scalar copy)


def unbind(self, dim=0):
    """(x.select(dim, 0), x.select(dim, 1), ...): the slices along dim, each a view."""
    if self.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = one_dim("unbind", dim, self.ndim)
    return tuple(select(self, d, i) for i in range(self.shape[d]))


def _pieces(self, d, bounds):
    """Views x[b_k : b_{k+1}] along d for consecutive bounds (a piece that would end before it starts is empty)."""
    return tuple(narrow(self, d, a, max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


def tensor_split(self, indices_or_sections=None, dim=0, *, sections=None, indices=None):
    """Views along dim: `sections` n pieces, the first size % n of them one element longer
    (ceil(size / n), then floor(size / n)); or split before each of the `indices` (negative ones count from
    the end, all clamped to [0, size]). A 0-d integer tensor means sections, a 1-d one indices (int64)."""
    given = [a for a in (indices_or_sections, sections, indices) if a is not None]
    if len(given) != 1:
        raise TypeError("tensor_split: give exactly one of indices_or_sections, sections and indices")
    spec = given[0]
    if isinstance(spec, Tensor):
        if spec.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{spec.dtype}")
        if spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if self.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = one_dim("tensor_split", dim, self.ndim)
    n = self.shape[d]
    if isinstance(spec, (list, tuple)):
        cuts = [min(max(i + n if i < 0 else i, 0), n) for i in (_int("tensor_split", i, "an index") for i in spec)]
        return _pieces(self, d, [0, *cuts, n])
    count = _int("tensor_split", spec, "sections")
    if count <= 0:
        raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {count}")
    small, extra = divmod(n, count)
    bounds = [k * small + min(k, extra) for k in range(count + 1)]
    return _pieces(self, d, bounds)


def _split_along(op, self, spec, least, dim):
    if self.ndim < least:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {least} dimension, but got a tensor with "
                           f"{self.ndim} dimensions!")
    if not isinstance(spec, (list, tuple, Tensor)):
        count = _int(op, spec, "sections")
        if count == 0 or self.shape[dim] % count:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{self.shape[dim]} is not divisible by the split_size {count}!")
    return tensor_split(self, spec, dim)


def hsplit(self, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for a 1-d tensor); n sections must divide the size evenly."""
    return _split_along("hsplit", self, indices_or_sections, 1, 1 if self.ndim > 1 else 0)


def vsplit(self, indices_or_sections):
    """tensor_split along dim 0 of a tensor with at least 2 dims; n sections must divide the size evenly."""
    return _split_along("vsplit", self, indices_or_sections, 2, 0)


def dsplit(self, indices_or_sections):
    """tensor_split along dim 2 of a tensor with at least 3 dims; n sections must divide the size evenly."""
    return _split_along("dsplit", self, indices_or_sections, 3, 2)


def split_with_sizes(self, split_sizes, dim=0):
    """Views of split_sizes[k] elements each along dim (non-negative, summing to the dim's size)."""
    d = one_dim("split_with_sizes", dim, self.ndim)
    sizes = [_int("split_with_sizes", s, "a split size") for s in split_sizes]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={sizes}")
    if sum(sizes) != self.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {self.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={sizes}")
    return _pieces(self, d, list(np.cumsum([0, *sizes])))


def swapaxes(self, axis0, axis1):
    """transpose(axis0, axis1): a view with the two dims swapped (NumPy's name)."""
    return self.transpose(axis0, axis1)


def swapdims(self, dim0, dim1):
    """transpose(dim0, dim1): a view with the two dims swapped."""
    return self.transpose(dim0, dim1)


def _at_least(op, least, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    elif len(tensors) == 1:
        tensors = tensors[0]
    for t in tensors if isinstance(tensors, tuple) else (tensors,):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expects tensors, got {type(t).__name__}")

    def widen(t):
        shape = t.shape
        if len(shape) >= least:
            return t
        shape = {0: (1,) * least, 1: (1,) + shape + (1,) * (least - 2), 2: shape + (1,)}[len(shape)]
        return t.view(shape)
    return widen(tensors) if isinstance(tensors, Tensor) else tuple(widen(t) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim: () -> (1,); one tensor in, one out (else a tuple)."""
    return _at_least("atleast_1d", 1, tensors)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims: () -> (1, 1), (n,) -> (1, n)."""
    return _at_least("atleast_2d", 2, tensors)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _at_least("atleast_3d", 3, tensors)


def broadcast_shapes(*shapes):
    """The shape the given shapes (ints or sequences) broadcast to: aligned from the right, each dim the one
    size other than 1 (NumPy's and PyTorch's rule), as a tn.Size."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError(f"broadcast_shapes: Attempting to broadcast a dimension with negative length! ({shapes})")
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {shapes} cannot be broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded (views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} cannot be broadcast "
                           "together") from None
    return tuple(t.expand(*shape) for t in tensors)


def column_stack(tensors):
    """hstack of the tensors with 0-d and 1-d ones made columns first: () -> (1, 1), (n,) -> (n, 1)."""
    return hstack([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors])


def row_stack(tensors):
    """vstack (PyTorch's older name)."""
    return vstack(tensors)


def fliplr(self):
    """flip(1): the columns (dim 1) in reverse order; a copy of a tensor with >= 2 dims."""
    if self.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d, got shape {tuple(self.shape)}")
    return self.flip(1)


def flipud(self):
    """flip(0): the rows (dim 0) in reverse order; a copy of a tensor with >= 1 dim."""
    if self.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d, got a 0-d tensor")
    return self.flip(0)


def rot90(self, k=1, dims=(0, 1)):
    """The plane of dims (d0, d1) turned k quarter turns from d0 towards d1: k = 1 is y[i, j] = x[j, n-1-i]
    (flip d1, then swap), k = 2 flips both, k = 3 flips d0 then swaps; a copy, as PyTorch's."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {self.ndim}")
    d0, d1 = (one_dim("rot90", d, self.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k = _int("rot90", k, "k") % 4
    if k == 0:
        return self.clone()
    if k == 2:
        return self.flip(d0, d1)
    return self.flip(d1 if k == 1 else d0).transpose(d0, d1)


def ravel(self):
    """The elements in row-major order as a 1-d tensor (a view when the memory allows, else a copy)."""
    return self.reshape(-1)


def view_as(self, other):
    """view(other.shape)."""
    return self.view(tuple(other.shape))


def reshape_as(self, other):
    """reshape(other.shape)."""
    return self.reshape(tuple(other.shape))


def type_as(self, other):
    """self cast to other's dtype (self itself when it already has it)."""
    return self.astype(other.dtype)


def sum_to_size(self, *size):
    """self summed over the dims that broadcasting `size` to self's shape would stretch or add, so the result
    has `size` (self itself when it already has it): the gradient of expand."""
    size = shape_argument(size)
    lead = self.ndim - len(size)
    if lead < 0 or any(n != 1 and n != self.shape[lead + i] for i, n in enumerate(size)):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size {list(self.shape)}")
    if size == tuple(self.shape):
        return self
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size) if n == 1 and self.shape[lead + i] != 1)
    return self.sum(dims, keepdim=True).reshape(size) if dims else self.reshape(size)


def unfold(self, dimension, size, step):
    """The windows of `size` elements every `step` along `dimension`, in a new last dim (a view):
    y[..., i, ..., j] = x[..., i step + j, ...], i < (n - size) // step + 1."""
    size, step = _int("unfold", size, "size"), _int("unfold", step, "step")
    d = one_dim("unfold", dimension, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if not 0 <= size <= n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if self.ndim == 0:
        return self.reshape(1)[:size]
    return Unfold.apply(self, dim=d, size=size, step=step)


METHODS = {name: globals()[name] for name in (
    "select", "unbind", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "swapaxes", "swapdims",
    "fliplr", "flipud", "rot90", "ravel", "view_as", "reshape_as", "type_as", "sum_to_size", "unfold")}
FUNCTIONS = {name: globals()[name] for name in (
    "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "column_stack", "row_stack")}
