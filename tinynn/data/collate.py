"""default_collate and default_convert: PyTorch's rules for turning samples into batches.

default_collate(samples), field by field, by the type of the first sample:

    Tensor                    -> stack (dtype kept: int32 stays int32)
    ndarray                   -> stack as Tensors (dtype kept; string/object arrays are a TypeError)
    NumPy scalar              -> a 1-D Tensor of its dtype
    float                     -> float64, int -> int64, bool -> bool (as torch.tensor(list) with those dtypes)
    str, bytes                -> the list, unchanged
    Mapping                   -> the same kind of mapping, each key collated
    namedtuple                -> the same namedtuple, each field collated
    tuple, other Sequence     -> a list (a tuple) or the same kind of sequence, position by position;
                                 samples of unequal length are a RuntimeError
    anything else             -> TypeError

default_convert(sample) (what batch_size=None applies) converts without batching: ndarrays and NumPy
scalars become Tensors (sharing memory), tuples become lists, containers are converted inside.
"""
import collections.abc
import copy
import re

import numpy as np

from ..creation import tensor
from ..dtypes import float64
from ..tensor import Tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # dtype.str codes NumPy uses for bytes, str and object arrays
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays, what):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each {what} to be equal size, got shapes "
                           f"{[a.shape for a in arrays]}")
    return Tensor._wrap(np.stack(arrays), False)


def default_collate(batch):
    """Merge a list of samples into a batch, PyTorch's default_collate (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._data for t in batch], "tensor")
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERROR.format(elem.dtype))
        return _stack([np.asarray(a) for a in batch], "array")
    if isinstance(elem, (np.bool_, np.number)):
        return Tensor._wrap(np.array(batch), False)
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool too: tensor() infers bool, int64, or (with a float among them) float32
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        merged = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _same_kind(elem, merged, mapping=True)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_kind(elem, fields, mapping=False)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """A sample as batch_size=None passes it on (PyTorch's default_convert)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else Tensor._wrap(data, False)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor._wrap(np.asarray(data), False)
    if isinstance(data, collections.abc.Mapping):
        return _same_kind(data, {k: default_convert(v) for k, v in data.items()}, mapping=True)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_kind(data, [default_convert(d) for d in data], mapping=False)
    return data


def _same_kind(like, values, mapping):
    """`values` (a dict or a list) in the container type of `like` where it can be rebuilt, else as is."""
    try:
        if mapping and isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        if not mapping and isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values
