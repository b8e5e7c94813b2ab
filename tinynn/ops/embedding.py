"""Embedding lookup: rows of a weight matrix picked by integer indices."""
import numpy as np

from ..autograd.function import Function
from .. import backend


class Embedding(Function):
    """y[..., :] = W[idx[...], :] for W (num_embeddings, D) and integer idx of any shape;
    dL/dW[i] = sum over positions n with idx[n] = i of g[n] (row padding_idx gets none).
    The indices are data, not an input: they get no gradient."""

    __slots__ = ('indices', 'num', 'padding_idx')
    exact_gradients = True
    differentiable = True  # create_graph: embedding_backward on a Tensor is IndexAdd (ops/differentiable.py)

    def forward(self, weight, indices=None, padding_idx=None):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
        num = weight.shape[0]
        if indices.size and (indices.min() < 0 or indices.max() >= num):
            bad = indices[(indices < 0) | (indices >= num)].flat[0]
            raise IndexError(f"embedding: index {bad} is out of range for an embedding of size {num} "
                             f"(valid indices are 0..{num - 1})")
        self.indices, self.num, self.padding_idx = indices, num, padding_idx
        return backend.active.embedding(weight, indices)

    def backward(self, g):
        return backend.active.embedding_backward(self.indices, g, self.num, self.padding_idx)
