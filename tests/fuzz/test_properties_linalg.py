"""Hypothesis properties of tinynn.linalg's decompositions on random shapes (0 to 2 batch dims, square,
tall, wide and empty matrices), float32 and float64, both backends, and random well-conditioned matrices
(singular values drawn in [1, 4]): the identities that define each result, within a tolerance scaled to the
dtype's epsilon. svd: A = U diag(S) Vh with orthonormal U, Vh and S descending; qr: A = Q R, Q orthonormal,
R upper triangular; cholesky: L L^T = A, L lower; eigh: A V = V diag(w), w ascending; pinv: the four
Moore-Penrose conditions; lstsq: the normal equations; slogdet: sign e^logabsdet = det; matrix_exp:
exp(A) exp(-A) = I; solve_triangular: A X = B on A's triangle."""
import numpy as np
from hypothesis import given, settings, strategies as st

import tinynn as tn
import tinynn.linalg as L

seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from([np.float32, np.float64])
backends = st.sampled_from(tn.backend.available())
batches = st.lists(st.integers(0, 3), max_size=2).map(tuple)
sides = st.integers(0, 6)


def conditioned(rng, batch, m, n):
    """U diag(s) V^T with random orthonormal U, V and singular values s in [1, 4]."""
    u = np.linalg.qr(rng.standard_normal(batch + (m, m)))[0]
    v = np.linalg.qr(rng.standard_normal(batch + (n, n)))[0]
    s = np.zeros(batch + (m, n))
    k = min(m, n)
    s[..., range(k), range(k)] = rng.uniform(1, 4, batch + (k,))
    return u @ s @ v.swapaxes(-1, -2)


def eye_like(a, k):
    return np.broadcast_to(np.eye(k), a.shape[:-2] + (k, k))


def check(actual, expected, dtype, scale=1.0):
    """|actual - expected| <= 200 eps scale (float64 arithmetic in the comparison)."""
    tol = 200 * np.finfo(dtype).eps * scale
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64), atol=tol, rtol=0)


def cases(square=False):
    return st.tuples(seeds, dtypes, backends, batches, sides, sides).map(
        lambda c: c[:5] + ((c[4] if square else c[5]),))


@settings(max_examples=25, deadline=None)
@given(cases())
def test_svd_and_qr_factor_a(case):
    seed, dtype, backend, batch, m, n = case
    a = conditioned(np.random.default_rng(seed), batch, m, n).astype(dtype)
    k = min(m, n)
    with tn.use_backend(backend):
        u, s, vh = (x.numpy() for x in L.svd(tn.tensor(a), full_matrices=False))
        q, r = (x.numpy() for x in L.qr(tn.tensor(a)))
    assert u.dtype == s.dtype == q.dtype == dtype
    check((u * s[..., None, :]) @ vh, a, dtype, 4)
    check(u.swapaxes(-1, -2) @ u, eye_like(u, k), dtype)
    check(vh @ vh.swapaxes(-1, -2), eye_like(vh, k), dtype)
    assert np.all(np.diff(s, axis=-1) <= 0) and np.all(s >= 0)
    check(q @ r, a, dtype, 4)
    check(q.swapaxes(-1, -2) @ q, eye_like(q, k), dtype)
    assert np.all(np.tril(r, -1) == 0)


@settings(max_examples=25, deadline=None)
@given(cases(square=True))
def test_cholesky_eigh_slogdet_and_matrix_exp(case):
    seed, dtype, backend, batch, n, _ = case
    rng = np.random.default_rng(seed)
    c = conditioned(rng, batch, n, n)
    spd = (c @ c.swapaxes(-1, -2)).astype(dtype)  # eigenvalues in [1, 16]
    a = (0.5 * c).astype(dtype)
    with tn.use_backend(backend):
        factor = L.cholesky(tn.tensor(spd)).numpy()
        w, v = (x.numpy() for x in L.eigh(tn.tensor(spd)))
        sign, logabsdet = (x.numpy() for x in L.slogdet(tn.tensor(a)))
        det = L.det(tn.tensor(a)).numpy()
        product = L.matrix_exp(tn.tensor(a)).numpy().astype(np.float64) @ L.matrix_exp(tn.tensor(-a)).numpy()
    check(factor @ factor.swapaxes(-1, -2), spd, dtype, 16)
    assert np.all(np.triu(factor, 1) == 0)
    check(spd @ v, v * w[..., None, :], dtype, 16)
    check(v.swapaxes(-1, -2) @ v, eye_like(v, n), dtype, 4)
    assert np.all(np.diff(w, axis=-1) >= 0)
    check(sign * np.exp(logabsdet.astype(np.float64)), det, dtype, 4 * max(1.0, np.abs(det).max(initial=0)))
    check(product, eye_like(a, n), dtype, 16 * max(1, n))


@settings(max_examples=25, deadline=None)
@given(cases(), st.integers(1, 3))
def test_pinv_and_lstsq(case, columns):
    seed, dtype, backend, batch, m, n = case
    rng = np.random.default_rng(seed)
    a = conditioned(rng, batch, m, n).astype(dtype)
    b = rng.standard_normal(batch + (m, columns)).astype(dtype)
    with tn.use_backend(backend):
        p = L.pinv(tn.tensor(a)).numpy().astype(np.float64)
        x = L.lstsq(tn.tensor(a), tn.tensor(b)).solution.numpy()
    a64 = a.astype(np.float64)
    check(a64 @ p @ a64, a, dtype, 16)
    check(p @ a64 @ p, p, dtype, 16)
    check((a64 @ p).swapaxes(-1, -2), a64 @ p, dtype, 16)
    check((p @ a64).swapaxes(-1, -2), p @ a64, dtype, 16)
    check(a64.swapaxes(-1, -2) @ (a64 @ x - b), 0, dtype, 64 * max(1, m))  # A^T (A X - B) = 0


@settings(max_examples=25, deadline=None)
@given(cases(square=True), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans())
def test_solve_triangular_solves_on_the_triangle(case, columns, upper, left, unit):
    seed, dtype, backend, batch, n, _ = case
    rng = np.random.default_rng(seed)
    a = rng.uniform(-0.5, 0.5, batch + (n, n)) + 2 * np.eye(n)   # diagonally dominant: well conditioned
    b = rng.standard_normal(batch + ((n, columns) if left else (columns, n)))
    a, b = a.astype(dtype), b.astype(dtype)
    with tn.use_backend(backend):
        x = L.solve_triangular(tn.tensor(a), tn.tensor(b), upper=upper, left=left, unitriangular=unit).numpy()
    tri = np.triu(a) if upper else np.tril(a)
    if unit:
        tri = tri - tri * np.eye(n) + np.eye(n)
    tri, x = tri.astype(np.float64), x.astype(np.float64)
    check(tri @ x if left else x @ tri, b, dtype, 16 * max(1, n) * (4 ** n if unit else 1))
