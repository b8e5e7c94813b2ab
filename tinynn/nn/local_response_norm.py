"""Local response normalization across channels (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet
Classification with Deep Convolutional Neural Networks", section 3.3), as PyTorch's
F.local_response_norm / nn.LocalResponseNorm: composed from pad, slicing and elementwise ops, so its
gradients (of any order) are autograd's."""
from ..tensor import Tensor, as_tensor
from .conv import pad
from .module import Module

__all__ = ["local_response_norm", "LocalResponseNorm"]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """b_c = a_c (k + (alpha / n) sum_{c'} a_{c'}^2)^(-beta) over the channels c' = c - floor(n / 2) ...
    c + floor((n - 1) / 2) (n = size; channels outside [0, C) count as zeros), for input (N, C, *) with at
    least 3 dims; the mean divides by n even at the edges, as PyTorch's average pooling of the padded squares."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input (N, C, *), got "
                         f"{x.ndim} dimensions (shape {tuple(x.shape)})")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if x.numel() == 0:
        return x  # as PyTorch: the empty input itself
    channels = x.shape[1]
    # pad dim 1 (F.pad's pad lists the last dim first): size // 2 zeros before, (size - 1) // 2 after
    padded = pad(x * x, (0, 0) * (x.ndim - 2) + (size // 2, (size - 1) // 2))
    total = padded[:, 0:channels]
    for i in range(1, size):
        total = total + padded[:, i:i + channels]
    return x / (total * (alpha / size) + k) ** beta


class LocalResponseNorm(Module):
    """b_c = a_c (k + (alpha / n) sum_{c'} a_{c'}^2)^(-beta), the sum over the n = size channels around c
    (see F.local_response_norm). No parameters."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
