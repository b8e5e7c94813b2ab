"""Embedding: a lookup table of learned vectors, one row per token id."""
import numpy as np

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """y[..., :] = W[idx[...], :] with W (num_embeddings, embedding_dim) ~ N(0, 1), as PyTorch
    initialises it; row padding_idx starts at zero and never receives a gradient. An index
    outside [0, num_embeddings) raises IndexError naming the index and the size."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative int, got {n!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
            padding_idx = padding_idx + num_embeddings if padding_idx < 0 else padding_idx
        self.num_embeddings, self.embedding_dim, self.padding_idx = int(num_embeddings), int(embedding_dim), padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=np.dtype(dtype or np.float32)))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
