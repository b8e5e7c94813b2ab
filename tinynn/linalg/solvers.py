"""torch.linalg's functions built on the decompositions: pinv, lstsq, matrix_rank, cond, tensorinv and
tensorsolve. Each is a composition of ops (pinv the Pinv op), so its gradient is theirs."""
import math
from collections import namedtuple

import numpy as np

from ..ops import where
from ..ops.decompositions import Pinv
from ..ops.linalg import inv, matrices, solve
from ..tensor import Tensor
from .decompositions import eigvalsh, inv_ex, svdvals
from .norms import matrix_norm

LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _array(x):
    return np.asarray(x._data if isinstance(x, Tensor) else x)


def tolerances(A, atol, rtol):
    """PyTorch's (atol, rtol) as arrays: atol None is 0; rtol None is eps max(m, n), or 0 when atol > 0 is given."""
    given = atol is not None and bool(np.any(_array(atol) > 0))
    if rtol is None:
        rtol = 0.0 if given else np.finfo(A.dtype).eps * max(A.shape[-2:])
    return _array(0.0 if atol is None else atol), _array(rtol)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse A^+ = V diag(1/s_i) U^T of A (..., m, n) = U diag(s) V^T, the singular
    values s_i <= max(atol, rtol s_1) taken as zero (tolerances: `tolerances`); hermitian: from the eigenvalues of
    symmetric A (its lower triangle). Gradient: Golub & Pereyra 1973, for A of locally constant rank."""
    matrices("linalg.pinv", A, square=bool(hermitian))
    atol, rtol = tolerances(A, atol, rtol)
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values of A (..., m, n) (|eigenvalues| when hermitian) > max(atol, rtol s_1),
    int64 (tolerances as pinv's)."""
    matrices("linalg.matrix_rank", A, square=bool(hermitian))
    atol, rtol = tolerances(A, atol, rtol)
    s = eigvalsh(A.detach()).abs() if hermitian else svdvals(A.detach())
    if s.numel() == 0:
        return Tensor._wrap(np.zeros(s.shape[:-1], np.int64), False)
    cutoff = (s.amax(-1) * rtol).maximum(Tensor._wrap(np.asarray(atol, s.dtype), False))
    return (s > cutoff.unsqueeze(-1)).sum(-1)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X = argmin ||A X - B||_F of A (..., m, n), B (..., m, k) (or (..., m): one vector),
    the one of least norm when A is rank deficient: X = pinv(A, rtol=rcond) B, rcond None: eps max(m, n). Named
    tuple as PyTorch's for `driver` (default "gelsy"): rank (int64) unless "gels"; residuals ||A X - B||^2 per
    column when m > n and A has full rank, for drivers other than "gelsy"; singular_values for "gelsd", "gelss"."""
    matrices("linalg.lstsq", A, B, square=False)
    if B.ndim < 1 or not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(f"torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           f"(input.dim() - other.dim()) <= 1 (shapes {tuple(A.shape)} and {tuple(B.shape)})")
    driver = "gelsy" if driver is None else driver
    if driver not in DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of ({', '.join(DRIVERS)}), got {driver!r}")
    vector = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if b.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"(shapes {tuple(A.shape)} and {tuple(B.shape)})")
    rtol = np.finfo(A.dtype).eps * max(m, n) if rcond is None else rcond
    x = pinv(A, rtol=rtol) @ b
    empty = Tensor._wrap(np.zeros(0, A.dtype), False)
    rank = Tensor._wrap(np.zeros(0, np.int64), False) if driver == "gels" else matrix_rank(A, rtol=rtol)
    full = driver == "gels" or bool((rank._data == n).all())
    residuals = ((A @ x - b) ** 2).sum(-2) if driver != "gelsy" and m > n and full else empty
    singular_values = svdvals(A) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(x.squeeze(-1) if vector else x, residuals, rank, singular_values)


def cond(A, p=None):
    """The condition number of A (..., m, n): p None or 2: s_1 / s_k, -2: s_k / s_1 (singular values, any shape);
    p "fro", "nuc", inf, -inf, 1, -1: ||A||_p ||A^-1||_p for square A (inf where A is singular)."""
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        matrices("linalg.cond", A, square=False)
        s = svdvals(A)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    if p not in ("fro", "nuc", np.inf, -np.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    matrices(f"linalg.cond(ord={p})", A)
    inverse, info = inv_ex(A)
    c = matrix_norm(A, p) * matrix_norm(inverse, p)
    return where(info != 0, math.inf, c) if info._data.any() else c


def tensorinv(A, ind=2):
    """The tensor X with tensordot(A, X, ind) = I: inv of A reshaped to (prod(A.shape[:ind]), prod(A.shape[ind:])),
    reshaped to A.shape[ind:] + A.shape[:ind]."""
    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"linalg.tensorinv: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != {math.prod(rows)} (shape {tuple(A.shape)})")
    return inv(A.reshape(math.prod(rows), math.prod(cols))).reshape(*cols, *rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: solve of A reshaped to (B.numel(), prod(A.shape[B.ndim:])), X of shape
    A.shape[B.ndim:]; dims: A's dims moved to the end first."""
    if dims is not None:
        dims = tuple(dims)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    shape = A.shape[B.ndim:]
    if tuple(A.shape[:B.ndim]) != tuple(B.shape) or math.prod(shape) != B.numel():
        raise RuntimeError(f"linalg.tensorsolve: Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== other.numel() (shapes {tuple(A.shape)} and {tuple(B.shape)})")
    return solve(A.reshape(B.numel(), math.prod(shape)), B.reshape(-1)).reshape(*shape)
