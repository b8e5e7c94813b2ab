"""torch.nn.utils.parametrizations.orthogonal: a weight kept orthogonal (Q^T Q = I, or Q Q^T = I when it is
wide) by writing it as a map of an unconstrained matrix X.

The three maps (Lezcano-Casado & Martinez-Rubio, "Cheap Orthogonal Constraints in Neural Networks", ICML
2019), for X of shape (n, k), n >= k (a wide X is transposed first and the result back):
- "matrix_exp": A = L - L^T with L = tril(X) (padded with zero columns to n x n), Q = exp(A)[:, :k];
- "cayley":     the same A, Q = (I - A/2)^-1 (I + A/2), first k columns;
- "householder": Q = H_1 ... H_k [:, :k] diag(trunc(X_ii)), H_i = I - tau_i w_i w_i^T with w_i the i-th
  column of the unit lower-triangular matrix below X's diagonal and tau_i = 2 / ||w_i||^2.
With `use_trivialization=True` (the default) the result is multiplied on the left by a buffer `base`, the
orthogonal matrix last assigned (dynamic trivialization): assigning Q stores it as `base` and sets X to
the point the map sends to the identity.
"""
import numpy as np

from ..autograd import no_grad
from ..creation import eye, randn, zeros
from ..linalg import matrix_exp, solve
from ..ops import cat
from ..tensor import Tensor
from .module import Module
from . import parametrize

_MAPS = ("matrix_exp", "cayley", "householder")


def householder_product(A, tau):
    """The first k columns of H_1 H_2 ... H_k, H_i = I - tau_i w_i w_i^T, w_i = (0, ..., 0, 1, A[i+1:, i])
    (LAPACK's orgqr, torch.linalg.householder_product); A of shape (..., n, k), tau of shape (..., k)."""
    n, k = A.shape[-2], A.shape[-1]
    W = A.tril(-1) + eye(n, k, dtype=A.dtype)
    Q = eye(n, dtype=A.dtype)
    for i in range(k):
        w = W[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * (Q @ w)) @ w.mT
    return Q[..., :, :k]


def _geqrf(Q):
    """LAPACK's geqrf on an (n, k) array, n >= k: R on and above the diagonal, the Householder vectors below
    it (unit first entry implied), and tau; reflector j maps column j to (beta, 0, ...), beta = -sign(alpha)
    ||column||, and is the identity (tau = 0) when the column is already zero below the diagonal."""
    A = np.array(Q, dtype=np.float64)
    k = A.shape[1]
    tau = np.zeros(k)
    for j in range(k):
        alpha, below = A[j, j], A[j + 1:, j]
        xnorm = np.linalg.norm(below)
        if xnorm == 0.0:
            continue
        beta = -np.copysign(np.hypot(alpha, xnorm), alpha)
        tau[j] = (beta - alpha) / beta
        A[j + 1:, j] = below / (alpha - beta)
        A[j, j] = beta
        v = np.concatenate(([1.0], A[j + 1:, j]))
        A[j:, j + 1:] -= tau[j] * np.outer(v, v @ A[j:, j + 1:])
    return A, tau


def _make_orthogonal(A):
    """The Q of A = QR with R's diagonal positive (an orthogonal matrix near A), per matrix of the batch."""
    q, r = np.linalg.qr(A)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(Q):
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * np.finfo(Q.dtype).eps
    return np.allclose(np.swapaxes(Q, -1, -2) @ Q, np.eye(k), atol=eps)


class _Orthogonal(Module):
    """Q = map(X) (times `base` under trivialization); right_inverse(Q) gives back an X with map(X) = Q."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        self.use_trivialization = use_trivialization
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = householder_product(A, tau) * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        else:
            X = X.tril()
            if n != k:
                X = cat([X, zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], dim=-1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                Id = eye(n, dtype=A.dtype)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :, :k]
        if self.use_trivialization:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. "
                             f"Got a tensor of shape {tuple(Q.shape)}.")
        with no_grad():
            values = Q._data
            n, k = values.shape[-2], values.shape[-1]
            transpose = n < k
            if transpose:
                values, n, k = np.swapaxes(values, -1, -2), k, n
            if not self.use_trivialization:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                out = np.empty(values.shape, dtype=values.dtype)
                for index in np.ndindex(values.shape[:-2]):
                    A, tau = _geqrf(values[index])
                    d = np.sign(np.diagonal(A)) * np.where(tau == 0.0, -1.0, 1.0)
                    np.fill_diagonal(A, d)
                    out[index] = A
                return Tensor._wrap(np.swapaxes(out, -1, -2).copy() if transpose else out, False)
            if n == k:
                base = values.copy() if _is_orthogonal(values) else _make_orthogonal(values)
            else:
                extra = randn(*values.shape[:-2], n, n - k, dtype=Q.dtype)._data
                base = _make_orthogonal(np.concatenate([values, extra], axis=-1))
            self.base = Tensor._wrap(np.ascontiguousarray(base, dtype=values.dtype), False)
            neg_id = np.zeros(Q.shape, dtype=values.dtype)
            diag = np.arange(min(Q.shape[-2:]))
            neg_id[..., diag, diag] = -1.0
            return Tensor._wrap(neg_id, False)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Make `module.<name>` (a matrix or batch of matrices) orthogonal: W^T W = I for a tall or square W,
    W W^T = I for a wide one, through `orthogonal_map` ("matrix_exp", "cayley" or "householder"; default
    "matrix_exp" for a square W, else "householder"). The current weight is assigned at registration (with
    trivialization it becomes the base after orthogonalising it by QR). State: `parametrizations.<name>.original`
    and, with use_trivialization, the buffer `parametrizations.<name>.0.base`. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
