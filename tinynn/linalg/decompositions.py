"""torch.linalg's decompositions, with PyTorch's arguments, defaults and named tuples, batched over leading
dims: svd, svdvals, eigh, eigvalsh, qr, cholesky (and cholesky_ex), slogdet, solve_triangular, matrix_exp,
inv_ex. The ops and their gradients are in tinynn/ops/decompositions.py; read there when each is defined."""
from collections import namedtuple

import numpy as np

from .. import backend
from ..ops.decompositions import (Cholesky, Eigh, LogAbsDet, MatrixExp, Qr, SolveTriangular, Svd,
                                  not_positive_definite, svd_shapes, unpack)
from ..ops.linalg import inv, matrices
from ..tensor import Tensor

SvdResult = namedtuple("linalg_svd", ["U", "S", "Vh"])  # torch.return_types.linalg_svd
EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
QrResult = namedtuple("linalg_qr", ["Q", "R"])
SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])


def _constant(array):
    return Tensor._wrap(np.asarray(array), False)


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh for A (..., m, n): S (..., k) descending, k = min(m, n); U (..., m, m),
    Vh (..., n, n) when full_matrices (PyTorch's default), else (..., m, k), (..., k, n).

    The gradient (Townsend 2016) is defined only for distinct, nonzero singular values and a loss that does
    not depend on the sign of each pair (u_i, v_i) (e.g. through U diag(f(S)) Vh or |U|^2), as PyTorch says;
    through S alone it is U diag(dS) Vh, defined always. With full_matrices, the gradient of U's and Vh's
    columns beyond k is ignored, as PyTorch's."""
    matrices("linalg.svd", A, square=False)
    if driver is not None:
        raise RuntimeError(f"linalg.svd: keyword argument `driver=` is only supported on CUDA inputs (got {driver!r})")
    m, n = A.shape[-2:]
    return SvdResult(*unpack(Svd.apply(A, full_matrices=bool(full_matrices)), *svd_shapes(m, n, full_matrices)))


def svdvals(A, *, driver=None):
    """The singular values of A (..., m, n), descending: svd(A, full_matrices=False).S; its gradient is
    U diag(dS) Vh, defined always."""
    matrices("linalg.svdvals", A, square=False)
    return svd(A, full_matrices=False, driver=driver).S


def _uplo(op, UPLO):  # noqa: N803 - PyTorch's name
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")
    return UPLO == "U"


def eigh(A, UPLO="L"):  # noqa: N803
    """(eigenvalues, eigenvectors) w (ascending) and V with A = V diag(w) V^T for symmetric A (..., n, n), of
    which only the lower (UPLO="L") or upper ("U") triangle is read.

    The gradient (Giles 2008) is the symmetric one, as PyTorch's: defined only for distinct eigenvalues and a
    loss that does not depend on each eigenvector's sign; through the eigenvalues alone V diag(dw) V^T."""
    matrices("linalg.eigh", A)
    n = A.shape[-1]
    return EighResult(*unpack(Eigh.apply(A, upper=_uplo("linalg.eigh", UPLO)), (n,), (n, n)))


def eigvalsh(A, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric A (..., n, n), ascending: eigh(A, UPLO).eigenvalues."""
    matrices("linalg.eigvalsh", A)
    return eigh(A, UPLO).eigenvalues


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular (Householder, as LAPACK): mode
    "reduced" Q (..., m, k), R (..., k, n); "complete" Q (..., m, m), R (..., m, n); "r" R only (Q empty).
    The gradient (Liao et al. 2019) needs A of full rank; there is none for "complete" with m > n (as
    PyTorch); "r" has R's gradient (PyTorch refuses it)."""
    matrices("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: qr received unrecognized mode {mode!r} but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    k = m if mode == "complete" else min(m, n)
    q, r = unpack(Qr.apply(A, mode="complete" if mode == "complete" else "reduced"), (m, k), (k, n))
    return QrResult(_constant(np.zeros(0, A.dtype)) if mode == "r" else q, r)


def cholesky(A, *, upper=False):
    """L lower triangular with a positive diagonal and A = L L^T, for symmetric positive-definite A (..., n, n)
    (its lower triangle read); upper=True: U = L^T, A = U^T U. Not positive definite: RuntimeError (as
    PyTorch's LinAlgError, naming the leading minor). Gradient: Murray 2016, symmetric."""
    matrices("linalg.cholesky", A)
    factor = Cholesky.apply(A)
    return factor.mT if upper else factor


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): cholesky(A, upper=upper) without the error: info (int32, A's batch shape) is 0, or the order
    of the first leading minor that is not positive definite (L then zero and constant there)."""
    matrices("linalg.cholesky_ex", A)
    factor, info = (np.asarray(r) for r in backend.active.cholesky(A._data))
    if not info.any():
        return CholeskyExResult(cholesky(A, upper=upper), _constant(info))
    if check_errors:
        raise not_positive_definite("linalg.cholesky_ex", info, A.shape)
    return CholeskyExResult(_constant(factor.swapaxes(-1, -2) if upper else factor), _constant(info))


def inv_ex(A, *, check_errors=False):
    """(inverse, info): inv(A) without the error: info (int32, A's batch shape) is 0, or the 1-based index of
    the first zero pivot of A's LU factorization (LAPACK's getrf; the inverse then NaN and constant)."""
    matrices("linalg.inv_ex", A)
    inverse, info = (np.asarray(r) for r in backend.active.inv_ex(A._data))
    if not info.any():
        return InvExResult(inv(A), _constant(info))
    if check_errors:
        raise RuntimeError(f"linalg.inv_ex: the input matrix is singular (U[{int(info[info != 0].flat[0])}] of its "
                           f"LU factorization is zero; A of shape {tuple(A.shape)})")
    return InvExResult(_constant(inverse), _constant(info))


def slogdet(A):
    """(sign, logabsdet): det A = sign e^logabsdet for A (..., n, n), without det's overflow; sign is 0 and
    logabsdet -inf for a singular A. d logabsdet / dA = A^-T (sign: none)."""
    matrices("linalg.slogdet", A)
    return SlogdetResult(_constant(backend.active.slogdet(A._data)[0]), LogAbsDet.apply(A))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (left=False: X A = B) for triangular A (..., n, n) (only its upper or lower triangle read,
    a unit diagonal taken when unitriangular) and B (..., n, k) ((..., k, n) when left=False), batch dims
    broadcast. Gradient: dB = A^-T G, dA = -tri(dB X^T) on A's triangle."""
    matrices("linalg.solve_triangular", A, B)
    if B.ndim < 2:
        raise RuntimeError(f"linalg.solve_triangular: The input tensor B must have at least 2 dimensions (shape {tuple(B.shape)})")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        if A.shape[-1] != B.shape[-2]:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation AX = B "
                           f"({tuple(A.shape)} and {tuple(B.shape)})") from None
    return SolveTriangular.apply(A, B, upper=bool(upper), unitriangular=bool(unitriangular))


def matrix_exp(A):
    """exp(A) = sum_k A^k / k! for A (..., n, n) (scaling and squaring with a Pade approximant, Higham 2005);
    gradient: the upper right block of exp([[A^T, G], [0, A^T]]) (Najfeld & Havel 1995)."""
    matrices("linalg.matrix_exp", A)
    return MatrixExp.apply(A)
