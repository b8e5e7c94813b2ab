"""tinynn.linalg, PyTorch's torch.linalg (the commonly used part): norms, det, inv, solve, cross.

    vector_norm(x, ord=2, dim=None, keepdim=False)   (sum_i |x_i|^ord)^(1/ord); ord inf, -inf, 0 too
    matrix_norm(A, ord="fro", dim=(-2, -1))          "fro", 1, -1, inf, -inf
    norm(A, ord=None, dim=None)                      either, as torch.linalg.norm chooses
    det(A), inv(A), solve(A, B, left=True)           batched over leading dims, differentiable to any order
    cross(a, b, dim=-1)

What torch.linalg has beyond these (svd, eigh, qr, ...) raises AttributeError naming it.
"""
from .ops.linalg import vector_norm, matrix_norm, norm, det, inv, solve, cross  # noqa: F401

__all__ = ["vector_norm", "matrix_norm", "norm", "det", "inv", "solve", "cross"]


def __getattr__(name):
    raise AttributeError(f"module 'tinynn.linalg' has no attribute {name!r}: tinynn does not have torch.linalg.{name}")
