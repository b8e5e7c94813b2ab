"""F.embedding, F.one_hot and F.normalize (part of tinynn.nn.functional, which re-exports them)."""
import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor


def embedding(input, weight, padding_idx=None):
    """y[..., :] = weight[input[...], :] (rows picked by integer indices); row padding_idx gets no
    gradient. An index outside [0, num_embeddings) raises IndexError naming it."""
    indices = input._data if isinstance(input, Tensor) else np.asarray(input)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return ops.Embedding.apply(weight, indices=indices, padding_idx=padding_idx)


def one_hot(tensor, num_classes=-1):
    """y[..., c] = 1 if tensor[...] == c else 0 for c in [0, num_classes): an int64 tensor of shape
    tensor.shape + (num_classes,); num_classes=-1 takes max(tensor) + 1. The input must hold int64
    class indices in [0, num_classes) (PyTorch's rules: other dtypes, negative or too large values are errors)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: expected a Tensor of class indices, got {type(tensor).__name__}")
    t = tensor._data
    if t.dtype != np.int64:
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensors of dtype int64, got {t.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be an int >= 0 or -1, got {num_classes!r}")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("one_hot: can not infer the total number of classes from an empty tensor "
                               "(give num_classes)")
        num_classes = int(t.max()) + 1
    if t.size and t.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(t.min())}")
    if t.size and t.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {int(t.max())}")
    out = (t[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor._wrap(out, False)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """v / max(||v||_p, eps) for each vector v along dim (the L_p norm; p=2 by default), so every
    vector has norm 1 and a zero vector stays zero."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported in tinynn; use the returned tensor")
    input = input if isinstance(input, Tensor) else as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"normalize: expected a floating-point input, got dtype {input.dtype}")
    norm = input.norm(p=p, dim=dim, keepdim=True)
    return input / norm.clamp(min=eps)
