"""torch.nn.utils.rnn: batches of sequences of different lengths (exported as tinynn.nn.utils.rnn).

A batch of B sequences x_b of lengths l_b is *padded* into one (T, B, *) tensor (T = max l_b), or
*packed* into PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices): the sequences
sorted by decreasing length (sorted_indices[k] is the k-th longest), then for each time step t the
rows x_b[t] of the batch_sizes[t] sequences still running, one after another:

    data = [x_(s0)[0], x_(s1)[0], ..., x_(s0)[1], x_(s1)[1], ...],  batch_sizes[t] = #{b : l_b > t}.

RNN, LSTM and GRU accept a PackedSequence and run each sequence to its own length, exactly as if each
ran alone (PyTorch's layout and semantics). Every function here is differentiable in the data."""
from collections import namedtuple

import numpy as np

from ..ops.methods import concatenate, stack
from ..tensor import Tensor, as_tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The packed form of a batch of sequences (see the module docstring): data (sum_b l_b, *), batch_sizes
    (T,) int64, and sorted_indices / unsorted_indices (B,) int64 (None when the batch came sorted)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required; build one with pack_padded_sequence or "
                            "pack_sequence")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with data.to(*args, **kwargs) (the indices stay int64)."""
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _int64(name, values):
    arr = values._data if isinstance(values, Tensor) else np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"{name}: expected a 1-D list or tensor of integer lengths, got shape {arr.shape} and "
                        f"dtype {arr.dtype}")
    return arr.astype(np.int64)


def _invert(indices):
    idx = _int64("PackedSequence", indices)
    inverse = np.empty_like(idx)
    inverse[idx] = np.arange(idx.size)
    return Tensor._wrap(inverse, False)


def _index(t, dim, indices):
    return t.index_select(dim, Tensor._wrap(np.asarray(indices, np.int64), False))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """One (T, B, *) tensor (or (B, T, *) with batch_first) from B tensors (l_b, *): sequence b in
    column b, its rows at the start (padding_side="right") or the end ("left"), padding_value elsewhere."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"pad_sequence: Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(len(sequences))]
    sequences = [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    tail, dtype = sequences[0].shape[1:], sequences[0].dtype
    for s in sequences:
        if s.ndim < 1 or s.shape[1:] != tail:
            raise RuntimeError(f"pad_sequence: every sequence must be (L, *) with the same trailing shape; got "
                               f"{[tuple(s.shape) for s in sequences]}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        fill = Tensor._wrap(np.full((longest - s.shape[0],) + tuple(tail), padding_value, dtype=dtype), False)
        padded.append(s if fill.shape[0] == 0 else concatenate([s, fill] if padding_side == "right" else [fill, s], 0))
    return stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """The PackedSequence of a padded batch input (T, B, *) (or (B, T, *) with batch_first) whose
    sequence b has lengths[b] steps. enforce_sorted=True requires decreasing lengths (sorted_indices is
    then None); otherwise the batch is sorted by decreasing length (stable: ties keep their order)."""
    input = input if isinstance(input, Tensor) else as_tensor(input)
    lengths = _int64("pack_padded_sequence", lengths)
    x = input.transpose(0, 1) if batch_first else input
    if x.ndim < 2 or lengths.size != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: expected input (T, B, *) with B = len(lengths) = {lengths.size}, "
                         f"got input shape {tuple(input.shape)} (batch_first={batch_first})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths.size and lengths.max() > x.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length {lengths.max()} exceeds the {x.shape[0]} time steps of "
                         f"the input")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence "
                               "and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
        order, sorted_indices = np.arange(lengths.size), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._wrap(order.astype(np.int64), False)
        x = _index(x, 1, order)
    ordered = lengths[order]
    batch_sizes = np.array([(ordered > t).sum() for t in range(int(ordered[0]) if ordered.size else 0)], np.int64)
    data = concatenate([x[t, :int(b)] for t, b in enumerate(batch_sizes)], 0)
    return PackedSequence(data, Tensor._wrap(batch_sizes, False), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded, lengths): the inverse of pack_padded_sequence, the batch back in its original order,
    padded with padding_value to total_length steps (default: the longest sequence); lengths int64."""
    data, batch_sizes = sequence.data, _int64("pad_packed_sequence", sequence.batch_sizes)
    steps, batch = batch_sizes.size, int(batch_sizes[0]) if batch_sizes.size else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps_out = total_length
    else:
        steps_out = steps
    tail = tuple(data.shape[1:])
    rows, offset = [], 0
    for t in range(steps_out):
        b = int(batch_sizes[t]) if t < steps else 0
        parts = [data[offset:offset + b]] if b else []
        if b < batch:
            parts.append(Tensor._wrap(np.full((batch - b,) + tail, padding_value, dtype=data.dtype), False))
        rows.append(parts[0] if len(parts) == 1 else concatenate(parts, 0))
        offset += b
    padded = stack(rows, 0)
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        order = _int64("pad_packed_sequence", sequence.unsorted_indices)
        padded, lengths = _index(padded, 1, order), lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._wrap(lengths, False)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence(pad_sequence(sequences), [len(s) for s in sequences], enforce_sorted)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (l_b, *) in a padded batch (T, B, *) (or (B, T, *) with batch_first)."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :int(n)] for b, n in enumerate(_int64("unpad_sequence", lengths))]


def unpack_sequence(packed_sequences):
    """The list of sequences (l_b, *) in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def packed_layer(step, data, batch_sizes, state, reverse=False):
    """Run one recurrent layer over packed rows, PyTorch's way: at time t only the batch_sizes[t]
    longest sequences step. data holds gi = x W_ih^T + b_ih in packed order; state is a tuple of
    (B, H) tensors (sorted order); step(gi_t, *state_t) -> new state tuple (output = its first).
    Forward, a finished sequence keeps its last state; reversed, a sequence starts from the initial
    state at its own last step. Returns (outputs in packed order, final states)."""
    sizes = [int(b) for b in batch_sizes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    outs = [None] * len(sizes)
    for t in (range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))):
        b = sizes[t]
        new = step(data[offsets[t]:offsets[t + 1]], *(s[:b] for s in state))
        state = tuple(n if b == s.shape[0] else concatenate([n, s[b:]], 0) for n, s in zip(new, state))
        outs[t] = new[0]
    return concatenate(outs, 0), state
