"""torch.linalg's decompositions and the solvers built on them, as ops (tinynn/linalg/ makes the functions):
Svd, Eigh, Qr, Cholesky, SolveTriangular, MatrixExp, LogAbsDet and Pinv, batched over leading dims.

An op returns one array, so one with several results (U, S, Vh) packs them, flattened, along one last
axis (`pack`); `unpack` splits that array, or Tensor, again, and each result's gradient is its slice of
the packed one (zero where a result was not used). Each backward is its textbook formula written once on
backend kernels, so it also runs on Tensors (create_graph: autograd/higher.py), as in ops/linalg.py."""
import numpy as np

from .. import backend
from ..autograd.function import Function
from .array_or_tensor import concatenate, values


def pack(batch, *parts):
    """The arrays parts (batch + their own shape), each flattened to batch + (size,), joined along the last axis."""
    return np.concatenate([p.reshape(batch + (int(np.prod(p.shape[len(batch):])),)) for p in parts], axis=-1)


def unpack(y, *shapes):
    """The parts pack joined into y (an array or Tensor), each reshaped to y's batch shape + its shape."""
    parts, start, batch = [], 0, tuple(y.shape[:-1])
    for shape in shapes:
        size = int(np.prod(shape))
        parts.append(y[..., start:start + size].reshape(batch + tuple(shape)))
        start += size
    return parts


def svd_shapes(m, n, full_matrices):
    """The shapes of U, S and Vh for an (m, n) matrix."""
    k = min(m, n)
    return ((m, m if full_matrices else k), (k,), (n if full_matrices else k, n))


def _off_diagonal_inverse(B, d, eye):
    """F_ij = 1 / d_ij off the diagonal, F_ii = 0 (d_ii = 0): the gaps between singular values or eigenvalues."""
    return B.multiply(B.divide(1.0, B.add(d, eye)), 1.0 - eye)


def _gap(B, x):
    """d_ij = x_j - x_i."""
    return B.subtract(x[..., None, :], x[..., :, None])


class Svd(Function):
    """U, S, Vh with A = U diag(S) Vh (S descending), packed. Backward (Townsend 2016, "Differentiating the
    singular value decomposition"), k = min(m, n), V = Vh^T, F_ij = 1 / (s_j^2 - s_i^2), F_ii = 0:
        dA = U [(F o (U^T dU - dU^T U)) S + diag(dS) + S (F o (V^T dV - dV^T V))] V^T
             + (I_m - U U^T) dU S^-1 V^T + U S^-1 dV^T (I_n - V V^T),
    with U, V, dU, dV cut to their first k columns (full_matrices: the other columns' gradient is ignored,
    as PyTorch's). It needs distinct nonzero singular values and a loss invariant to the sign of each pair
    (u_i, v_i); when dU = dV = 0 it is U diag(dS) V^T, defined always."""

    __slots__ = ("y", "m", "n", "full")
    differentiable = True
    outputs = ("y",)

    def forward(self, a, full_matrices=False):
        self.m, self.n, self.full = a.shape[-2], a.shape[-1], full_matrices
        self.y = pack(a.shape[:-2], *backend.active.svd(a, full_matrices))
        return self.y

    def backward(self, g):
        B, k = backend.active, min(self.m, self.n)
        shapes = svd_shapes(self.m, self.n, self.full)
        (u, s, vh), (gu, gs, gvh) = unpack(self.y, *shapes), unpack(g, *shapes)
        u, vh, gu, gvh = u[..., :k], vh[..., :k, :], gu[..., :k], gvh[..., :k, :]
        if not (values(gu).any() or values(gvh).any()):
            return B.matmul(B.multiply(u, gs[..., None, :]), vh)
        eye = np.eye(k, dtype=values(s).dtype)
        f = _off_diagonal_inverse(B, _gap(B, B.multiply(s, s)), eye)
        uu, vv = B.matmul(u.mT, gu), B.matmul(vh, gvh.mT)  # U^T dU, V^T dV
        inner = B.add(B.add(B.multiply(B.multiply(f, B.subtract(uu, uu.mT)), s[..., None, :]),
                            B.multiply(eye, gs[..., None, :])),
                      B.multiply(s[..., :, None], B.multiply(f, B.subtract(vv, vv.mT))))
        ga = B.matmul(B.matmul(u, inner), vh)
        if self.m > k:
            ga = B.add(ga, B.matmul(B.divide(B.subtract(gu, B.matmul(u, uu)), s[..., None, :]), vh))
        if self.n > k:
            ga = B.add(ga, B.matmul(u, B.divide(B.subtract(gvh, B.matmul(vv.mT, vh)), s[..., :, None])))
        return ga


class Eigh(Function):
    """w (ascending), V with A = V diag(w) V^T for symmetric A (its lower, or upper, triangle read), packed.
    Backward (Giles 2008, "An extended collection of matrix derivative results", 3.1; the symmetric gradient,
    as PyTorch's), F_ij = 1 / (w_j - w_i), F_ii = 0:  dA = V (diag(dw) + F o (V^T dV - dV^T V) / 2) V^T.
    It needs distinct eigenvalues and a loss invariant to each eigenvector's sign; V diag(dw) V^T when dV = 0."""

    __slots__ = ("y", "n")
    differentiable = True
    outputs = ("y",)

    def forward(self, a, upper=False):
        self.n = a.shape[-1]
        self.y = pack(a.shape[:-2], *backend.active.eigh(a, upper))
        return self.y

    def backward(self, g):
        B, n = backend.active, self.n
        (w, v), (gw, gv) = unpack(self.y, (n,), (n, n)), unpack(g, (n,), (n, n))
        if not values(gv).any():
            return B.matmul(B.multiply(v, gw[..., None, :]), v.mT)
        eye = np.eye(n, dtype=values(w).dtype)
        vv = B.matmul(v.mT, gv)
        inner = B.add(B.multiply(_off_diagonal_inverse(B, _gap(B, w), eye), B.multiply(B.subtract(vv, vv.mT), 0.5)),
                      B.multiply(eye, gw[..., None, :]))
        return B.matmul(B.matmul(v, inner), v.mT)


def _qr_tall(B, q, r, gq, gr):
    """dA = [dQ + Q copyltu(M)] R^-T, M = R dR^T - dQ^T Q, copyltu(M) = tril(M) + tril(M, -1)^T (m >= n)."""
    k = r.shape[-1]
    lower = np.tril(np.ones((k, k), values(r).dtype))
    m = B.subtract(B.matmul(r, gr.mT), B.matmul(gq.mT, q))
    copied = B.add(B.multiply(m, lower), B.multiply(m, lower - np.eye(k, dtype=lower.dtype)).mT)
    return B.solve_triangular(r, B.add(gq, B.matmul(q, copied)).mT, True).mT


class Qr(Function):
    """Q, R with A = Q R, Q orthonormal columns, R upper triangular, packed; mode "reduced" (Q (m, k), R (k, n))
    or "complete" (Q (m, m), R (m, n)). Backward (Liao, Liu, Wang, Xiang 2019, "Differentiable programming
    tensor networks"): m >= n: dA = [dQ + Q copyltu(M)] R^-T, M = R dR^T - dQ^T Q, copyltu(M) =
    tril(M) + tril(M, -1)^T; m < n: A = [X | Y], R = [U | V]: dY = Q dV, dX the same with dQ + Y dV^T, dU.
    It needs R's diagonal nonzero; none for mode "complete" with m > n (PyTorch's error)."""

    __slots__ = ("y", "m", "n", "mode")
    differentiable = True
    outputs = ("y",)

    def forward(self, a, mode="reduced"):
        self.m, self.n, self.mode = a.shape[-2], a.shape[-1], mode
        self.y = pack(a.shape[:-2], *backend.active.qr(a, mode))
        return self.y

    def backward(self, g):
        B, m, n = backend.active, self.m, self.n
        if self.mode == "complete" and m > n:
            raise RuntimeError(f"linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                               f"nrows > ncols (A of {m} by {n} matrices)")
        k = min(m, n)
        (q, r), (gq, gr) = unpack(self.y, (m, k), (k, n)), unpack(g, (m, k), (k, n))
        if m >= n:
            return _qr_tall(B, q, r, gq, gr)
        gv = gr[..., :, m:]
        y = B.matmul(q, r[..., :, m:])
        gx = _qr_tall(B, q, r[..., :, :m], B.add(gq, B.matmul(y, gv.mT)), gr[..., :, :m])
        return concatenate([gx, B.matmul(q, gv)], -1)


def not_positive_definite(op, info, shape):
    """torch.linalg.cholesky's error, for the first batch element whose info (LAPACK potrf's) is not 0."""
    flat = np.ravel(info)
    i = int(np.flatnonzero(flat)[0])
    return RuntimeError(f"{op}: {f'(Batch element {i}): ' if np.ndim(info) else ''}The factorization could not be "
                        f"completed because the input is not positive-definite (the leading minor of order "
                        f"{int(flat[i])} is not positive-definite; A of shape {tuple(shape)})")


class Cholesky(Function):
    """L with A = L L^T, L lower triangular with a positive diagonal (A's lower triangle read). Backward
    (Murray 2016, "Differentiation of the Cholesky decomposition"; symmetrized, as PyTorch's):
    S = L^-T Phi(L^T dL) L^-1, Phi(X) = X's lower triangle with its diagonal halved;  dA = (S + S^T) / 2."""

    __slots__ = ("l",)
    differentiable = True
    outputs = ("l",)

    def forward(self, a):
        self.l, info = backend.active.cholesky(a)
        if np.any(info):
            raise not_positive_definite("linalg.cholesky", info, a.shape)
        return self.l

    def backward(self, g):
        B, l = backend.active, self.l
        n = l.shape[-1]
        phi = np.tril(np.ones((n, n), values(l).dtype)) - 0.5 * np.eye(n, dtype=values(l).dtype)
        s = B.solve_triangular(l.mT, B.multiply(B.matmul(l.mT, g), phi), True)  # L^-T Phi(L^T dL)
        s = B.solve_triangular(l.mT, s.mT, True).mT                               # ... L^-1
        return B.multiply(B.add(s, s.mT), 0.5)


class SolveTriangular(Function):
    """X = A^-1 B for triangular A (..., n, n) (its upper or lower triangle read; a unit diagonal when
    unitriangular) and B (..., n, k), batch dims broadcast. Backward: dB = A^-T G (a triangular solve with
    the other triangle), dA = -tri(dB X^T), tri the triangle A is read from (without the diagonal when unit)."""

    __slots__ = ("a", "x", "upper", "unit")
    differentiable = True
    outputs = ("x",)

    def forward(self, a, b, upper, unitriangular=False):
        self.a, self.upper, self.unit = a, upper, unitriangular
        self.x = backend.active.solve_triangular(a, b, upper, unitriangular)
        return self.x

    def backward(self, g):
        B = backend.active
        gb = B.solve_triangular(self.a.mT, g, not self.upper, self.unit)
        if not self.needs_grad[0]:
            return None, gb
        ones = np.ones((self.x.shape[-2],) * 2, values(self.x).dtype)
        triangle = np.triu(ones, int(self.unit)) if self.upper else np.tril(ones, -int(self.unit))
        return B.multiply(B.negative(B.matmul(gb, self.x.mT)), triangle), gb


class MatrixExp(Function):
    """Y = exp(A) = sum_k A^k / k! (each matrix of a batch). Backward (Najfeld & Havel 1995, "Derivatives of
    the matrix exponential and their computation"; Mathias 1996): dA is the upper right block of
    exp([[A^T, G], [0, A^T]])."""

    __slots__ = ("a",)
    differentiable = True

    def forward(self, a):
        self.a = a
        return backend.active.matrix_exp(a)

    def backward(self, g):
        at, n = self.a.mT, self.a.shape[-1]
        zero = np.zeros(values(g).shape, values(g).dtype)
        block = concatenate([concatenate([at, g], -1), concatenate([zero, at], -1)], -2)
        return backend.active.matrix_exp(block)[..., :n, n:]


class LogAbsDet(Function):
    """y = ln |det A| (each matrix of a batch);  dA = g A^-T."""

    __slots__ = ("a",)
    differentiable = True

    def forward(self, a):
        self.a = a
        return np.asarray(backend.active.slogdet(a)[1])

    def backward(self, g):
        B = backend.active
        try:
            inverse = B.inv(self.a)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.slogdet backward: A (shape {self.a.shape}) is singular: no gradient") from None
        return B.multiply(g[..., None, None], inverse.mT)


class Pinv(Function):
    """P = A^+, the Moore-Penrose pseudo-inverse (singular values <= max(atol, rtol s_1) dropped). Backward
    (Golub & Pereyra 1973, "The differentiation of pseudo-inverses ...", for A of locally constant rank):
        dA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)  (hermitian too, as PyTorch's)."""

    __slots__ = ("a", "p")
    differentiable = True
    outputs = ("p",)

    def forward(self, a, atol, rtol, hermitian=False):
        self.a = a
        self.p = backend.active.pinv(a, atol, rtol, hermitian)
        return self.p

    def backward(self, g):
        B, a, p, gt = backend.active, self.a, self.p, g.mT
        first = B.negative(B.matmul(B.matmul(p.mT, g), p.mT))
        z = B.matmul(gt, B.matmul(p, p.mT))  # G^T P P^T, then (I - A P) of it
        w = B.matmul(B.matmul(p.mT, p), gt)  # P^T P G^T, then of it (I - P A)
        return B.add(first, B.add(B.subtract(z, B.matmul(a, B.matmul(p, z))), B.subtract(w, B.matmul(B.matmul(w, p), a))))
