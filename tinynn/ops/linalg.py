"""torch.linalg's det, inv and solve as ops of their own, batched over leading dims, and vector_norm and
cdist composed of the Norm op and reductions, whose gradients they take (0 at a zero vector, as PyTorch's);
tinynn/linalg/ exports them with the rest of torch.linalg (decompositions.py has its other ops)."""
import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .dims import reduce_dims
from .shape import Where
from .statistics import Norm


def _singular(op):
    return RuntimeError(f"{op}: the input matrix is singular (or numerically so): no inverse")


def matrices(op, *tensors, square=True):
    """Check that each is a float32/float64 Tensor of one dtype, the first a batch of (square) matrices."""
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensor inputs, got {type(t).__name__}")
        if t.dtype not in (np.float32, np.float64):
            raise RuntimeError(f"{op}: Expected a floating point (float32 or float64) tensor as input. Got {t.dtype}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found {tensors[0].dtype} and {t.dtype}")
    a = tensors[0]
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions (shape {tuple(a.shape)})")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {a.shape[-2]} by {a.shape[-1]} matrices")


class Det(Function):
    """y = det A (each matrix of a batch);  dL/dA = g y A^-T (Jacobi's formula)."""

    __slots__ = ('a', 'y')
    differentiable = True
    outputs = ('y',)

    def forward(self, a):
        self.a, self.y = a, np.asarray(backend.active.det(a))
        return self.y

    def backward(self, g):
        B = backend.active
        try:
            inverse = B.inv(self.a)
        except np.linalg.LinAlgError:
            raise _singular("det backward") from None
        scale = B.multiply(g, self.y)
        return B.multiply(scale.reshape(tuple(np.shape(scale)) + (1, 1)), inverse.mT)


class Inv(Function):
    """Y = A^-1 (each matrix of a batch);  dL/dA = -Y^T G Y^T."""

    __slots__ = ('y',)
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, a):
        try:
            self.y = backend.active.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("linalg.inv") from None
        return self.y

    def backward(self, g):
        B, yt = backend.active, self.y.mT
        return B.negative(B.matmul(B.matmul(yt, g), yt))


class Solve(Function):
    """X = A^-1 B (each A (n, n), B (n, k), batch dims broadcast);  dL/dB = A^-T G, dL/dA = -(dL/dB) X^T."""

    __slots__ = ('a', 'x')
    differentiable = True
    outputs = ('x',)

    def forward(self, a, b):
        try:
            self.a, self.x = a, backend.active.solve(a, b)
        except np.linalg.LinAlgError:
            raise _singular("linalg.solve") from None
        except ValueError:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                               f"({a.shape} and {b.shape})") from None
        return self.x

    def backward(self, g):
        B = backend.active
        gb = B.solve(self.a.mT, g)
        return (B.negative(B.matmul(gb, self.x.mT)) if self.needs_grad[0] else None), gb




def det(A):
    """det A of each square matrix of A (..., n, n) (1 for n = 0)."""
    matrices("linalg.det", A)
    return Det.apply(A)


def inv(A):
    """A^-1 of each square matrix of A (..., n, n); RuntimeError when one is singular."""
    matrices("linalg.inv", A)
    return Inv.apply(A)


def solve(A, B, *, left=True):
    """X with A X = B (left=False: X A = B); B (..., n) is a batch of vectors when it is 1-D or its shape is
    A's without the last dim, else B (..., n, k) one of matrices (batch dims broadcast)."""
    matrices("linalg.solve", A, B)
    if not left:
        return solve(A.mT, B.mT).mT
    if B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])):
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return Solve.apply(A, B)


def floating(op, x, dtype):
    x = x if dtype is None else x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point tensor as input. Got {x.dtype}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - PyTorch's name
    """(sum_i |x_i|^ord)^(1 / ord) over dim (every element when None); ord = inf: max |x_i|, -inf: min |x_i|,
    0: the number of nonzero x_i (gradient 0)."""
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg.vector_norm: ord must be a number, not {type(ord).__name__}")
    x = floating("linalg.vector_norm", x, dtype)
    axis, keepdim = reduce_dims("linalg.vector_norm", x.ndim, dim, keepdim)
    axis = tuple(range(x.ndim)) if axis is None else axis
    if ord == 0:  # the count, recorded through Where (all from the constant) so the gradient is 0, not None
        count = Where.apply(Tensor._wrap((x._data != 0).astype(x.dtype), False), x, condition=np.ones((), bool))
        return count.sum(axis, keepdim=keepdim) if x.ndim else count
    if ord == -np.inf:
        return x.abs().amin(axis, keepdim=keepdim) if x.ndim else x.abs()
    if ord < 0:
        return ((x.abs() ** float(ord)).sum(axis, keepdim=keepdim) if x.ndim else x.abs() ** float(ord)) ** (1.0 / ord)
    return Norm.apply(x, p=float(ord), axis=axis, keepdims=keepdim)


def cross(input, other, *, dim=-1):  # noqa: A002
    """The cross product along dim (default the last), inputs broadcast (torch.linalg.cross)."""
    return input.cross(other, dim=dim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """d[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p for x1 (..., P, M), x2 (..., R, M) (batch dims broadcast)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {x.dtype}")
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected X1 and X2 of one dtype, got {x1.dtype} and {x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)
