"""The reference's einsum and dense linear algebra (NumPy's, batched over leading dims)."""
import numpy as np


def einsum(equation, *operands):
    """y = sum over the letters not right of '->' of prod_k operands[k][letters k] (explicit subscripts,
    no ellipsis); one operand without a sum may come back as a view of it (a transpose, a diagonal)."""
    if len(operands) == 1:
        return np.einsum(equation, operands[0])
    return np.einsum(equation, *operands, optimize=True)  # pairs through tensordot (BLAS) where it can


def det(a):
    """det A for each matrix A of a (..., n, n) (an LU factorization)."""
    return np.linalg.det(a)


def inv(a):
    """A^-1 for each matrix A of a (..., n, n); np.linalg.LinAlgError when one is singular."""
    return np.linalg.inv(a)


def solve(a, b):
    """X with A X = B for each A of a (..., n, n) and B of b (..., n, k) (batch dims broadcast)."""
    return np.linalg.solve(a, b)


# ---------------------------------------------------------------- decompositions (tinynn/ops/decompositions.py)
def svd(a, full_matrices):
    """(U, S, Vh) with A = U diag(S) Vh for each A of a (..., m, n): S (..., k) descending, k = min(m, n);
    U (..., m, m) and Vh (..., n, n) when full_matrices, else (..., m, k) and (..., k, n) (LAPACK's gesdd)."""
    return np.linalg.svd(a, full_matrices=full_matrices)


def eigh(a, upper):
    """(w, V) with A = V diag(w) V^T for each symmetric A of a (..., n, n), w ascending, read from A's upper
    (upper=True) or lower triangle only."""
    return np.linalg.eigh(a, UPLO="U" if upper else "L")


def qr(a, mode):
    """(Q, R) with A = Q R for each A of a (..., m, n), Q with orthonormal columns, R upper triangular
    (Householder reflections, LAPACK's geqrf): mode "reduced" Q (m, k), R (k, n); "complete" Q (m, m), R (m, n)."""
    return np.linalg.qr(a, mode=mode)


def cholesky(a):
    """(L, info) with A = L L^T, L lower triangular with a positive diagonal, for each symmetric positive-
    definite A of a (..., n, n) (its lower triangle read); info (int32, a's batch shape): 0, or LAPACK potrf's
    order k of the first leading minor A[:k, :k] that is not positive definite (L is then zero)."""
    info = np.zeros(a.shape[:-2], np.int32)
    try:
        return np.linalg.cholesky(a), info
    except np.linalg.LinAlgError:
        pass
    factor = np.zeros_like(a)
    for i in np.ndindex(a.shape[:-2]):
        try:
            factor[i] = np.linalg.cholesky(a[i])
        except np.linalg.LinAlgError:
            info[i] = _first_failing_minor(a[i])
    return factor, info


def _first_failing_minor(a):
    """The order j of the first pivot a_jj - sum_k<j L_jk^2 that is not > 0 (Cholesky-Banachiewicz, by columns)."""
    n = a.shape[-1]
    factor = np.zeros_like(a)
    for j in range(n):
        pivot = a[j, j] - factor[j, :j] @ factor[j, :j]
        if not pivot > 0:
            return j + 1
        factor[j, j] = np.sqrt(pivot)
        factor[j + 1:, j] = (a[j + 1:, j] - factor[j + 1:, :j] @ factor[j, :j]) / factor[j, j]
    return n  # LAPACK stopped where this loop did not: a pivot at rounding level, charged to the last minor


def inv_ex(a):
    """(A^-1, info) for each A of a (..., n, n); info (int32, a's batch shape): 0, or LAPACK getrf's 1-based
    index i of the first exactly zero pivot U_ii of A's LU factorization with partial pivoting (A^-1 is then NaN)."""
    info = np.zeros(a.shape[:-2], np.int32)
    try:
        return np.linalg.inv(a), info
    except np.linalg.LinAlgError:
        pass
    inverse = np.full_like(a, np.nan)
    for i in np.ndindex(a.shape[:-2]):
        try:
            inverse[i] = np.linalg.inv(a[i])
        except np.linalg.LinAlgError:
            info[i] = _first_zero_pivot(a[i])
    return inverse, info


def _first_zero_pivot(a):
    """The 1-based column of the first zero pivot of Gaussian elimination with partial pivoting."""
    u, n = a.astype(np.float64), a.shape[-1]
    for j in range(n):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        if u[p, j] == 0:
            return j + 1
        u[[j, p]] = u[[p, j]]
        u[j + 1:, j:] -= np.outer(u[j + 1:, j] / u[j, j], u[j, j:])
    return n


def solve_triangular(a, b, upper, unitriangular=False):
    """X with A X = B for each triangular A of a (..., n, n) (its upper or lower triangle read, a unit diagonal
    taken when unitriangular) and B of b (..., n, k), batch dims broadcast: substitution, row by row,
    x_i = (b_i - sum_j A_ij x_j) / A_ii over the rows j already solved (a zero A_ii gives inf / NaN)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = a.shape[-1]
    x = np.zeros(batch + b.shape[-2:], np.result_type(a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            solved = slice(i + 1, n) if upper else slice(0, i)
            r = b[..., i, :] - (a[..., i:i + 1, solved] @ x[..., solved, :])[..., 0, :]
            x[..., i, :] = r if unitriangular else r / a[..., i, i, None]
    return x


def slogdet(a):
    """(sign, ln |det A|) for each A of a (..., n, n) (an LU factorization; sign 0, ln 0 = -inf when singular)."""
    return np.linalg.slogdet(a)


def pinv(a, atol, rtol, hermitian):
    """A^+ = V diag(1/s_i, or 0 where s_i <= max(atol, rtol s_1)) U^T from A = U diag(s) V^T, for each A of
    a (..., m, n) (atol, rtol: numbers or arrays of a's batch shape); hermitian: from the eigenvalues w of the
    symmetric A (its lower triangle), s = |w|: A^+ = V diag(1/w_i, or 0) V^T."""
    if hermitian:
        w, v = np.linalg.eigh(a)
        u, s, vt = v, np.abs(w), v.mT
    else:
        u, w, vh = np.linalg.svd(a, full_matrices=False)
        s, vt = w, vh
    largest = s.max(axis=-1, initial=0.0)
    cutoff = np.maximum(np.asarray(atol, s.dtype), np.asarray(rtol, s.dtype) * largest)[..., None]
    inverse = np.divide(1.0, w, out=np.zeros_like(w), where=s > cutoff)
    return (vt.mT * inverse[..., None, :]) @ u.mT


# Pade approximant of degree 13 with scaling and squaring (Higham 2005, "The scaling and squaring method for
# the matrix exponential revisited", Algorithm 2.3): its numerator's coefficients b_0..b_13
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152  # the largest ||A||_1 for which r_13(A) is exp(A) to double precision


def matrix_exp(a):
    """exp(A) = sum_k A^k / k! for each A of a (..., n, n): exp(A) = r_13(A / 2^s)^(2^s), r_13 = q(A)^-1 p(A)
    the [13/13] Pade approximant, s = max(0, ceil(log2(||A||_1 / theta_13))) per matrix (Higham 2005)."""
    if a.size == 0:
        return a.copy()
    norm = np.abs(a).sum(axis=-2).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.ceil(np.log2(norm / _THETA13))
    s = np.where(np.isfinite(s), np.maximum(s, 0), 0).astype(np.int64)
    x = a * np.exp2(-s).astype(a.dtype)[..., None, None]
    b, eye = _PADE13, np.eye(a.shape[-1], dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for k in range(int(s.max(initial=0))):  # undo the scaling: square s times (each matrix its own s)
        r = np.where((k < s)[..., None, None], r @ r, r)
    return r
