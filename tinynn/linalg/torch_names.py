"""The torch.<name> functions and Tensor methods that are torch.linalg's under their older names and arguments,
where the meaning is PyTorch's exactly (tinynn/__init__.py installs them): slogdet, logdet, pinverse,
matrix_exp, matrix_power, cholesky, cholesky_solve, cholesky_inverse, qr (some=), svd (some=, compute_uv=;
returns V, not Vh) and triangular_solve. The deprecated ones warn, as PyTorch's do."""
import math
import warnings
from collections import namedtuple

import numpy as np

from ..ops import where
from ..tensor import Tensor
from . import decompositions as linalg
from .products import matrix_power
from .solvers import pinv

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])  # torch.return_types.slogdet
QrResult = namedtuple("qr", ["Q", "R"])
SvdResult = namedtuple("svd", ["U", "S", "V"])
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def _deprecated(name, replacement):
    warnings.warn(f"torch.{name} is deprecated in PyTorch in favor of {replacement}", UserWarning, stacklevel=3)


def slogdet(input):  # noqa: A002 - PyTorch's name
    """(sign, logabsdet) with det A = sign e^logabsdet (torch.linalg.slogdet)."""
    return SlogdetResult(*linalg.slogdet(input))


def logdet(input):  # noqa: A002
    """ln det A: logabsdet, NaN (gradient 0) where det A < 0, -inf where A is singular."""
    sign, logabsdet = linalg.slogdet(input)
    return where(sign < 0, math.nan, logabsdet)


def pinverse(input, rcond=1e-15):  # noqa: A002
    """torch.linalg.pinv(input, rtol=rcond)."""
    return pinv(input, rtol=rcond)


def cholesky(input, upper=False):  # noqa: A002
    """torch.linalg.cholesky(input, upper=upper) (deprecated in PyTorch)."""
    _deprecated("cholesky", "torch.linalg.cholesky")
    return linalg.cholesky(input, upper=upper)


def cholesky_solve(input, input2, upper=False):  # noqa: A002
    """X with A X = B, B = input and A = L L^T given its Cholesky factor L = input2 (A = U^T U, U = input2 when
    upper): two triangular solves, L Y = B and L^T X = Y."""
    lower = input2.mT if upper else input2
    return linalg.solve_triangular(lower.mT, linalg.solve_triangular(lower, input, upper=False), upper=True)


def cholesky_inverse(input, upper=False):  # noqa: A002
    """A^-1 = L^-T L^-1 for A = L L^T given L = input (A = U^T U when upper)."""
    return cholesky_solve(Tensor._wrap(np.eye(input.shape[-1], dtype=input.dtype), False), input, upper)


def qr(input, some=True):  # noqa: A002
    """torch.linalg.qr(input, "reduced" if some else "complete") (deprecated in PyTorch)."""
    _deprecated("qr", "torch.linalg.qr")
    return QrResult(*linalg.qr(input, "reduced" if some else "complete"))


def svd(input, some=True, compute_uv=True):  # noqa: A002
    """(U, S, V) with A = U diag(S) V^T, V (not Vh) = torch.linalg.svd(input, full_matrices=not some).Vh^T;
    compute_uv=False: U (..., m, m) and V (..., n, n) zero."""
    if not compute_uv:
        m, n = input.shape[-2:]
        zeros = [Tensor._wrap(np.zeros(input.shape[:-2] + (k, k), input.dtype), False) for k in (m, n)]
        return SvdResult(zeros[0], linalg.svdvals(input), zeros[1])
    u, s, vh = linalg.svd(input, full_matrices=not some)
    return SvdResult(u, s, vh.mT)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):  # noqa: A002
    """(X, A.clone()) with A X = b (A^T X = b when transpose) for b = input, A triangular (deprecated in PyTorch)."""
    _deprecated("triangular_solve", "torch.linalg.solve_triangular")
    coefficient = A.mT if transpose else A
    x = linalg.solve_triangular(coefficient, input, upper=upper != bool(transpose), unitriangular=unitriangular)
    return TriangularSolveResult(x, A.clone())


FUNCTIONS = {"slogdet": slogdet, "logdet": logdet, "pinverse": pinverse, "matrix_exp": linalg.matrix_exp,
             "matrix_power": matrix_power, "cholesky": cholesky, "cholesky_solve": cholesky_solve,
             "cholesky_inverse": cholesky_inverse, "qr": qr, "svd": svd, "triangular_solve": triangular_solve}
METHODS = dict(FUNCTIONS)  # x.slogdet(), x.pinverse(rcond), ... : the same functions, x as `input`
