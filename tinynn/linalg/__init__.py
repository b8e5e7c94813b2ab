"""tinynn.linalg, PyTorch's torch.linalg (its real-valued functions), batched over leading dims, float32/float64,
with PyTorch's arguments, defaults and named tuples, differentiable to any order:

    vector_norm, matrix_norm ("fro", "nuc", 1, -1, 2, -2, inf, -inf), norm, cond
    det, slogdet, inv, inv_ex, pinv, matrix_rank, matrix_power, matrix_exp
    solve, solve_triangular, lstsq, tensorinv, tensorsolve
    svd (U, S, Vh), svdvals, eigh (eigenvalues, eigenvectors), eigvalsh, qr (Q, R), cholesky, cholesky_ex
    cross, vecdot, matmul, multi_dot, diagonal, vander

The gradients of svd and eigh are defined for distinct singular values (eigenvalues) and losses that do not
depend on the singular vectors' (eigenvectors') signs, as PyTorch documents. What torch.linalg has beyond
these (eig, eigvals, lu, ldl_factor, householder_product, ... : complex results or LAPACK-only factors) raises
AttributeError naming it.
"""
from ..ops.linalg import cross, det, inv, solve, vector_norm
from .decompositions import (cholesky, cholesky_ex, eigh, eigvalsh, inv_ex, matrix_exp, qr, slogdet,
                             solve_triangular, svd, svdvals)
from .norms import matrix_norm, norm
from .products import diagonal, matmul, matrix_power, multi_dot, vander, vecdot
from .solvers import cond, lstsq, matrix_rank, pinv, tensorinv, tensorsolve

__all__ = ["vector_norm", "matrix_norm", "norm", "cond", "det", "slogdet", "inv", "inv_ex", "pinv", "matrix_rank",
           "matrix_power", "matrix_exp", "solve", "solve_triangular", "lstsq", "tensorinv", "tensorsolve", "svd",
           "svdvals", "eigh", "eigvalsh", "qr", "cholesky", "cholesky_ex", "cross", "vecdot", "matmul", "multi_dot",
           "diagonal", "vander"]


def __getattr__(name):
    raise AttributeError(f"module 'tinynn.linalg' has no attribute {name!r}: tinynn does not have torch.linalg.{name}")
