"""Matrix product with np.matmul semantics (1-D, 2-D and batched)."""
from ..autograd.engine import unbroadcast
from ..autograd.function import Function
from .. import backend


class MatMul(Function):
    """Z = A B;  dL/dA = G B^T, dL/dB = A^T G (summed over broadcast batch axes).

    A 1-D A is a row vector (1, n) and a 1-D B a column vector (n, 1), whose unit axis
    is dropped from Z, as in NumPy."""

    __slots__ = ('a', 'b')
    differentiable = True
    promotes = "common"

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: {a.shape[-1]} (last axis of the first) "
                f"!= {inner_b} (axis {0 if b.ndim == 1 else -2} of the second)"
            )
        self.a, self.b = a, b
        try:
            return backend.active.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch shapes of {a.shape} and {b.shape} cannot be broadcast together") from None

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = g[..., None, :] if b.ndim > 1 else g[..., None]
        if b.ndim == 1:
            g = g[..., None]
        matmul = backend.active.matmul
        ga = gb = None
        if self.needs_grad[0]:
            ga = unbroadcast(matmul(g, b2.mT), a2.shape).reshape(a.shape)
        if self.needs_grad[1]:
            gb = unbroadcast(matmul(a2.mT, g), b2.shape).reshape(b.shape)
        return ga, gb
