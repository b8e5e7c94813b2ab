"""PyTorch's shape ops on top of reshape and indexing: unsqueeze, squeeze, expand, flatten,
unflatten, repeat, flip, roll, movedim, chunk, split, narrow, hstack, vstack, dstack. Only expand,
repeat and flip are ops of their own; the rest are reshapes, permutations, slices or joins, whose
gradients are those ops'."""
import itertools
import math

import numpy as np

from ..autograd.function import Function
from .dims import one_dim
from ..tensor import Tensor
from .shape import Concatenate, Reshape, Transpose


class Expand(Function):
    """y = x broadcast to `shape` (no copy);  the engine sums the gradient back to x's shape."""

    __slots__ = ()
    differentiable = True

    def forward(self, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}") from None

    def backward(self, g):
        return g


class Flip(Function):
    """y = x with the order of its elements reversed along `axes` (a copy);  the gradient is flipped back."""

    __slots__ = ('axes',)
    exact_gradients = True
    differentiable = True

    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy()

    def backward(self, g):
        return Flip.apply(g, axes=self.axes) if isinstance(g, Tensor) else np.flip(g, self.axes)


class Repeat(Function):
    """y = x tiled `reps` times along each dim (np.tile);  dL/dx sums the gradient over the copies."""

    __slots__ = ('xshape', 'shape', 'reps')
    exact_gradients = True
    differentiable = True

    def forward(self, x, reps):
        if len(reps) < x.ndim:
            raise ValueError(f"repeat: {len(reps)} repeats for a tensor with {x.ndim} dims; give at least one per dim")
        self.xshape, self.shape, self.reps = x.shape, (1,) * (len(reps) - x.ndim) + x.shape, reps
        return np.tile(x, reps)

    def backward(self, g):
        split = [n for r, s in zip(self.reps, self.shape) for n in (r, s)]  # (r0, s0, r1, s1, ...)
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(self.xshape)


def unsqueeze(self, dim):
    """A new dim of size 1 at `dim` (in [-ndim-1, ndim])."""
    d = one_dim("unsqueeze", dim, self.ndim + 1)
    return Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])


def squeeze(self, dim=None):
    """Drop the dims of size 1 (only those of `dim`, an int or a tuple, when given; others stay)."""
    if dim is None:
        dims = {d for d, n in enumerate(self.shape) if n == 1}
    else:
        dims = {one_dim("squeeze", d, self.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return Reshape.apply(self, shape=tuple(n for d, n in enumerate(self.shape) if not (d in dims and n == 1)))


def expand(self, *sizes):
    """A view of shape `sizes` broadcasting self's dims of size 1 (-1: keep that dim's size)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor with {self.ndim} dims (shape {self.shape})")
    shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else int(n) for i, n in enumerate(sizes))
    return Expand.apply(self, shape=shape)


def expand_as(self, other):
    """expand(*other.shape)."""
    return expand(self, *other.shape)


def flatten(self, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim merged into one."""
    if self.ndim == 0:
        return Reshape.apply(self, shape=(1,))
    start, end = one_dim("flatten", start_dim, self.ndim), one_dim("flatten", end_dim, self.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})")
    return Reshape.apply(self, shape=self.shape[:start] + (math.prod(self.shape[start:end + 1]),) + self.shape[end + 1:])


def unflatten(self, dim, sizes):
    """Dim `dim` split into `sizes` (one of them may be -1)."""
    d = one_dim("unflatten", dim, self.ndim)
    return Reshape.apply(self, shape=self.shape[:d] + tuple(sizes) + self.shape[d + 1:])


def repeat(self, *sizes):
    """self tiled sizes[i] times along dim i (leading sizes add dims)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    return Repeat.apply(self, reps=tuple(int(n) for n in sizes))


def flip(self, *dims):
    """The elements in reverse order along each of `dims` (a copy, as in PyTorch)."""
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = tuple(sorted({one_dim("flip", d, self.ndim) for d in dims}))
    if len(axes) != len(dims):
        raise ValueError(f"flip: dims {dims} name a dimension twice")
    return Flip.apply(self, axes=axes if self.ndim else ())


def roll(self, shifts, dims=None):
    """y[..., (i + s) mod n, ...] = x[..., i, ...] along each dim with its shift s (the flattened
    tensor, its shape kept, when dims is None): two slices joined, so the gradient is theirs."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: {len(shifts)} shifts without dims; give one dim per shift")
        return roll(self.flatten(), shifts, 0).reshape(self.shape)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dims must align, got {len(shifts)} shifts and {len(dims)} dims")
    if not self.ndim:
        raise IndexError(f"roll: dims {dims} given, but a 0-d tensor has no dimensions")
    y = self
    for shift, dim in zip(shifts, dims):
        d = one_dim("roll", dim, self.ndim)
        n = self.shape[d]
        s = int(shift) % n if n else 0
        if s:
            y = Concatenate.apply(narrow(y, d, n - s, s), narrow(y, d, 0, n - s), axis=d)
    return y.clone() if y is self else y  # a new tensor, as PyTorch's


def movedim(self, source, destination):
    """The dims `source` moved to the places `destination` (ints or sequences), the others keeping their order."""
    if isinstance(source, int) != isinstance(destination, int):
        raise TypeError(f"movedim: source {source} and destination {destination} must both be ints or both sequences")
    source, destination = ([x] if isinstance(x, int) else list(x) for x in (source, destination))
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must name as many dims")
    src, dst = ([one_dim("movedim", d, self.ndim) for d in x] for x in (source, destination))
    for name, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    if not self.ndim:
        return Reshape.apply(self, shape=(), view=True)
    rest = iter(d for d in range(self.ndim) if d not in src)
    order = dict(zip(dst, src))
    return Transpose.apply(self, axes=tuple(order[k] if k in order else next(rest) for k in range(self.ndim)))


def _stacked(op, tensors, least, dim):
    """cat of the tensors, each first given at least `least` dims (PyTorch's atleast_1d/2d/3d)."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expects a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{op}: expects a non-empty list of tensors")
    wider = {1: lambda s: s or (1,), 2: lambda s: ((1,) * (2 - len(s)) + s) if len(s) < 2 else s,
             3: lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)}[least]
    shaped = [Reshape.apply(t, shape=wider(t.shape)) for t in tensors]
    return Concatenate.apply(*shaped, axis=dim(shaped[0]))


def hstack(tensors):
    """The tensors joined along dim 1 (dim 0 when they are 1-d; 0-d ones count as 1-d)."""
    return _stacked("hstack", tensors, 1, lambda t: 0 if t.ndim == 1 else 1)


def vstack(tensors):
    """The tensors joined along dim 0, 0-d and 1-d ones first made rows (1, n)."""
    return _stacked("vstack", tensors, 2, lambda t: 0)


def dstack(tensors):
    """The tensors joined along dim 2, made 3-d first: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _stacked("dstack", tensors, 3, lambda t: 2)


def narrow(self, dim, start, length):
    """Elements start..start+length-1 along dim (a slice, sharing the gradient path of indexing)."""
    d = one_dim("narrow", dim, self.ndim)
    start = start + self.shape[d] if start < 0 else start
    if not (0 <= start and length >= 0 and start + length <= self.shape[d]):
        raise IndexError(f"narrow: start {start} and length {length} exceed dim {d} of size {self.shape[d]}")
    return self[(slice(None),) * d + (slice(start, start + length),)]


def split(self, split_size_or_sections=None, dim=0, *, split_size=None):
    """Pieces along dim: each of `split_size` elements (the last may be smaller), or of the listed sizes
    (`split_size=` is the keyword PyTorch's Tensor.split takes)."""
    if split_size_or_sections is None:
        if split_size is None:
            raise TypeError("split: missing split_size_or_sections")
        split_size_or_sections = split_size
    d = one_dim("split", dim, self.ndim)
    n = self.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} do not add up to {n}, the size of dim {d}")
    else:
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    starts = itertools.accumulate(sizes[:-1], initial=0)
    return tuple(narrow(self, d, s, k) for s, k in zip(starts, sizes))


def chunk(self, chunks, dim=0):
    """At most `chunks` pieces along dim, each of ceil(size / chunks) elements (the last may be smaller);
    `chunks` empty pieces of an empty dim."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = one_dim("chunk", dim, self.ndim)
    if self.shape[d] == 0:
        return split(self, [0] * chunks, d)  # as PyTorch: `chunks` empty pieces
    return split(self, -(-self.shape[d] // chunks), d)
