"""EmbeddingBag: the sum, mean or max of the embeddings of each bag of indices, without building the
(bags, length, dim) tensor of F.embedding first (PyTorch's F.embedding_bag / nn.EmbeddingBag, with its
offsets, include_last_offset, per_sample_weights and padding_idx). Composed from F.embedding, index_add,
index_select and max, so the gradient to the weight (and to per_sample_weights) is autograd's, to any
order."""
import warnings

import numpy as np

from ..ops import cat
from ..tensor import Tensor, as_tensor, check_device
from . import init
from .functional_misc import embedding
from .module import Module
from .parameter import Parameter

__all__ = ["embedding_bag", "EmbeddingBag"]

MODES = ("sum", "mean", "max")


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _not_implemented(op, max_norm, scale_grad_by_freq, sparse):
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise NotImplementedError(f"{op}: {name}={value!r} is not implemented in tinynn")


def _bags(indices, offsets, include_last_offset):
    """(flat indices (n,), starts of the B bags (B,)) from a 2-D input (one bag per row) or a 1-D input
    cut at offsets; checked as PyTorch checks them (and offsets must not decrease)."""
    op = "embedding_bag"
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2-D (a batch of fixed-length bags), offsets has to be None, got "
                             f"{type(offsets).__name__}")
        rows, length = indices.shape
        return indices.reshape(-1), np.arange(rows, dtype=np.int64) * length
    if indices.ndim != 1:
        raise ValueError(f"{op}: input has to be a 1-D or 2-D tensor, got {indices.ndim} dimensions")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1-D tensor of bag starts for a 1-D input, got None")
    starts = _array(offsets)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise ValueError(f"{op}: offsets has to be a 1-D integer tensor, got shape {starts.shape} and dtype "
                         f"{starts.dtype}")
    starts = starts.astype(np.int64)
    if include_last_offset:
        if starts.size == 0:
            raise ValueError(f"{op}: with include_last_offset=True, offsets needs at least one entry (B + 1 for B "
                             "bags)")
        starts = starts[:-1]  # the last bag still runs to the end of input, as in PyTorch
    if starts.size and starts[0] != 0:
        raise RuntimeError(f"{op}: offsets[0] has to be 0 (the first bag starts at position 0), got {starts[0]}")
    ends = _array(offsets).astype(np.int64)
    if ends.size and ends[-1] > indices.size:
        raise RuntimeError(f"{op}: offsets[-1] can not be greater than input's length {indices.size}, got "
                           f"{int(ends[-1])}")
    if (np.diff(ends) < 0).any():
        raise ValueError(f"{op}: offsets must not decrease, got {ends.tolist()}")
    return indices, starts


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """y_b = reduce over the bag B_b of the rows W[i] (W (num_embeddings, dim)):

        sum:  y_b = sum_{j in B_b} a_j W[i_j]     (a = per_sample_weights, 1 without),
        mean: y_b = (1 / |B_b|) sum_{j in B_b} W[i_j],
        max:  y_b = max_{j in B_b} W[i_j]         (per coordinate; the gradient goes to the first maximum),

    the bags being the rows of a 2-D input (B, L), or the runs input[offsets[b]:offsets[b + 1]] of a 1-D
    input (the last to the end; include_last_offset=True: offsets has B + 1 entries). Entries equal to
    padding_idx are left out of their bag (and of its count); an empty bag gives zeros. Returns (B, dim)."""
    op = "embedding_bag"
    if isinstance(weight, Tensor) and weight.dtype.kind in "iu" and _array(input).dtype.kind == "f":
        warnings.warn("embedding_bag: the argument order changed; call embedding_bag(input, weight, ...), not "
                      "embedding_bag(weight, input, ...)", stacklevel=2)
        input, weight = weight, input  # PyTorch's deprecated order, still accepted
    weight = weight if isinstance(weight, Tensor) else as_tensor(weight)
    _not_implemented(op, max_norm, scale_grad_by_freq, sparse)
    if weight.ndim != 2 or weight.dtype.kind != "f":
        raise ValueError(f"{op}: weight has to be a floating-point 2-D tensor, got shape {tuple(weight.shape)} and "
                         f"dtype {weight.dtype}")
    if mode not in MODES:
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    indices = _array(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices (int32 or int64), got dtype {indices.dtype}")
    num, dim = weight.shape
    flat, starts = _bags(indices.astype(np.int64), offsets, include_last_offset)
    keep = np.ones(flat.shape, bool)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{op}: padding_idx must be within the number of embeddings, -{num} through {num - 1}, "
                             f"got {padding_idx}")
        keep = flat != (padding_idx + num if padding_idx < 0 else padding_idx)
    bag = np.searchsorted(starts, np.arange(flat.size), side="right") - 1  # the bag of every entry
    rows = embedding(flat[keep], weight)                                      # (m, dim)
    if per_sample_weights is not None:
        rows = rows * _sample_weights(per_sample_weights, indices.shape, weight.dtype, mode)[keep][:, None]
    bags, bag = starts.size, bag[keep]
    if mode == "max":
        return _bag_max(rows, bag, bags)
    out = Tensor._wrap(np.zeros((bags, dim), weight.dtype), False).index_add(0, bag, rows)
    if mode == "mean":
        count = np.bincount(bag, minlength=bags).astype(weight.dtype)
        out = out / Tensor._wrap(np.maximum(count, 1)[:, None], False)
    return out


def _sample_weights(per_sample_weights, shape, dtype, mode):
    op = "embedding_bag"
    if mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    a = per_sample_weights if isinstance(per_sample_weights, Tensor) else as_tensor(per_sample_weights)
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{op}: per_sample_weights of shape {tuple(a.shape)} must have the input's shape "
                         f"{tuple(shape)}")
    if a.dtype != dtype:
        raise TypeError(f"{op}: per_sample_weights must have the weight's dtype {dtype}, got {a.dtype}")
    return a.reshape(-1)


def _bag_max(rows, bag, bags):
    """max over each bag of rows (m, dim), zeros for an empty bag: the rows gathered into (B, L, dim),
    a row of -inf filling the short bags."""
    m, dim = rows.shape
    count = np.bincount(bag, minlength=bags)
    length = max(int(count.max(initial=0)), 1)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)  # entries are in bag order
    slot = np.arange(length)
    place = np.where(slot < count[:, None], first[:, None] + slot, m)          # (B, L); m is the -inf row
    filler = Tensor._wrap(np.full((1, dim), -np.inf, rows.dtype), False)
    best = cat([rows, filler], 0).index_select(0, place.reshape(-1)).reshape(bags, length, dim).max(1).values
    return best.where((count > 0)[:, None], Tensor._wrap(np.zeros((), rows.dtype), False))


class EmbeddingBag(Module):
    """y_b = sum, mean or max of the rows W[i] over each bag of indices (see F.embedding_bag), W
    (num_embeddings, embedding_dim) ~ N(0, 1) as PyTorch initialises it, its padding_idx row zero.
    forward(input, offsets=None, per_sample_weights=None) -> (B, embedding_dim)."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        check_device(device, "EmbeddingBag")
        _not_implemented("EmbeddingBag", max_norm, scale_grad_by_freq, sparse)
        if mode not in MODES:
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"EmbeddingBag: {name} must be a non-negative int, got {n!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} must be within num_embeddings "
                                 f"{num_embeddings}")
            padding_idx = padding_idx + num_embeddings if padding_idx < 0 else padding_idx
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.padding_idx = mode, sparse, padding_idx
        self.include_last_offset = include_last_offset
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), np.dtype(dtype or np.float32)))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"EmbeddingBag: shape of _weight {tuple(_weight.shape)} does not match num_embeddings "
                                 f"and embedding_dim ({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight if isinstance(_weight, Tensor) else as_tensor(_weight))

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, mode=self.mode, per_sample_weights=per_sample_weights,
                             include_last_offset=self.include_last_offset, padding_idx=self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is embeddings (num_embeddings, embedding_dim), sharing its memory, frozen
        (requires_grad=False) unless freeze=False; the padding_idx row is kept as given."""
        shape = tuple(embeddings.shape)
        if len(shape) != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                             f"got shape {shape}")
        bag = cls(shape[0], shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}{pad}"
