"""tinynn.linalg's decompositions and what is built on them (svd, eigh, qr, cholesky, slogdet, pinv, lstsq,
matrix_rank, matrix_power, matrix_exp, cond, multi_dot, vecdot, solve_triangular, the singular-value norms,
the _ex forms, tensorinv/tensorsolve, and torch's older names): values from closed forms and hand-solved
systems, textbook identities (A = U diag(S) Vh with orthonormal factors, the Moore-Penrose conditions, the
normal equations, exp(A) exp(-A) = I), PyTorch's documented shapes, named tuples and errors, and float64
gradient checks (and gradients of gradients) on both backends, through gauge-invariant losses for svd/eigh."""
import math
import warnings

import numpy as np
import pytest

import tinynn as tn
import tinynn.linalg as L
from tinynn.linalg.products import _chain_order

RNG = np.random.default_rng(11)


def t(a, grad=False, dtype=np.float64):
    return tn.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def spread(m, n, batch=(), rng=RNG):
    """A random (batch, m, n) matrix with singular values 1, 1.7, 2.4, ... (well separated, well conditioned)."""
    u = np.linalg.qr(rng.standard_normal(batch + (m, m)))[0]
    v = np.linalg.qr(rng.standard_normal(batch + (n, n)))[0]
    s = np.zeros(batch + (m, n))
    for i in range(min(m, n)):
        s[..., i, i] = 1 + 0.7 * i
    return u @ s @ v.swapaxes(-1, -2)


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), atol=tol, rtol=tol)


# ---------------------------------------------------------------- values and identities
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (2, 1, 3, 2), (0, 3), (3, 0)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_factors_are_orthonormal_and_reconstruct_a(shape, full, backend_name):
    a = RNG.standard_normal(shape)
    u, s, vh = L.svd(t(a), full_matrices=full)
    m, n = shape[-2:]
    k = min(m, n)
    assert (u.shape, s.shape, vh.shape) == (shape[:-2] + ((m, m) if full else (m, k)), shape[:-2] + (k,),
                                            shape[:-2] + ((n, n) if full else (k, n)))
    result = L.svd(t(a), full)
    assert result.U is result[0] and result.S is result[1] and result.Vh is result[2]
    u, s, vh = u.numpy(), s.numpy(), vh.numpy()
    close(u.swapaxes(-1, -2) @ u, np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2))
    close(vh @ vh.swapaxes(-1, -2), np.broadcast_to(np.eye(vh.shape[-2]), vh.shape[:-2] + (vh.shape[-2],) * 2))
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a)
    assert np.all(s >= 0) and np.all(np.diff(s, axis=-1) <= 0)
    close(L.svdvals(t(a)).numpy(), s)


def test_svd_closed_forms_and_dtype():
    # A^T A = [[25, 20], [20, 25]]: eigenvalues 45 and 5, so the singular values are 3 sqrt 5 and sqrt 5
    close(L.svdvals(t([[3.0, 0.0], [4.0, 5.0]])).numpy(), [3 * math.sqrt(5), math.sqrt(5)])
    close(L.svdvals(t(np.diag([3.0, -2.0, 1.0]))).numpy(), [3, 2, 1])
    u, s, vh = L.svd(t(RNG.standard_normal((3, 2)), dtype=np.float32))
    assert u.dtype == s.dtype == vh.dtype == tn.float32


def test_eigh_pairs_ascending_and_reads_one_triangle(backend_name):
    w, v = L.eigh(t([[2.0, 1.0], [1.0, 2.0]]))
    close(w.numpy(), [1, 3])
    close(np.abs(v.numpy()), np.full((2, 2), 1 / math.sqrt(2)))
    a = spread(4, 4, (3,))
    a = a + a.swapaxes(-1, -2)
    w, v = L.eigh(t(a))
    close(a @ v.numpy(), v.numpy() * w.numpy()[..., None, :])
    assert np.all(np.diff(w.numpy(), axis=-1) > 0)
    close(L.eigvalsh(t(a)).numpy(), w.numpy())
    lower, upper = np.tril(a) + np.triu(RNG.standard_normal((4, 4)), 1), np.triu(a) + np.tril(RNG.standard_normal((4, 4)), -1)
    close(L.eigvalsh(t(lower)).numpy(), w.numpy())                 # UPLO="L": the upper triangle is never read
    close(L.eigh(t(upper), UPLO="U").eigenvalues.numpy(), w.numpy())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_qr_modes(shape, backend_name):
    a = RNG.standard_normal(shape)
    m, n = shape[-2:]
    for mode, q_cols, r_rows in (("reduced", min(m, n), min(m, n)), ("complete", m, m)):
        q, r = L.qr(t(a), mode)
        assert q.shape == shape[:-2] + (m, q_cols) and r.shape == shape[:-2] + (r_rows, n)
        close(q.numpy().swapaxes(-1, -2) @ q.numpy(), np.broadcast_to(np.eye(q_cols), q.shape[:-2] + (q_cols, q_cols)))
        close(np.tril(r.numpy(), -1), 0)
        close(q.numpy() @ r.numpy(), a)
    only_r = L.qr(t(a), mode="r")
    assert only_r.Q.shape == (0,)
    close(only_r.R.numpy(), L.qr(t(a)).R.numpy())


def test_cholesky_and_its_errors(backend_name):
    a = t([[4.0, 2.0], [2.0, 3.0]])
    close(L.cholesky(a).numpy(), [[2, 0], [1, math.sqrt(2)]])            # by hand: l11 = 2, l21 = 1, l22 = sqrt(3 - 1)
    close(L.cholesky(a, upper=True).numpy(), [[2, 1], [0, math.sqrt(2)]])
    p = spread(4, 4, (2,))
    p = p @ p.swapaxes(-1, -2) + np.eye(4)
    factor = L.cholesky(t(p)).numpy()
    close(factor @ factor.swapaxes(-1, -2), p)
    close(np.triu(factor, 1), 0)
    with pytest.raises(RuntimeError, match=r"linalg.cholesky: .*not positive-definite \(the leading minor of order 2"):
        L.cholesky(t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\).*order 1"):
        L.cholesky(t([np.eye(2), -np.eye(2)]))
    l, info = L.cholesky_ex(t([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]))
    assert info.tolist() == [0, 2] and info.dtype == tn.int32
    close(l.numpy()[0], np.eye(2))
    l, info = L.cholesky_ex(t(p))
    assert info.tolist() == [0, 0]
    close(l.numpy(), factor)
    with pytest.raises(RuntimeError, match="order 1"):
        L.cholesky_ex(t(-np.eye(2)), check_errors=True)


def test_inv_ex_slogdet_and_logdet(backend_name):
    inverse, info = L.inv_ex(t([[2.0, 1.0], [1.0, 1.0]]))
    close(inverse.numpy(), [[1, -1], [-1, 2]])
    assert info.item() == 0
    assert L.inv_ex(t([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])).info.item() == 2  # pivot 2 is zero
    with pytest.raises(RuntimeError, match="singular"):
        L.inv_ex(t(np.zeros((2, 2))), check_errors=True)
    sign, logabsdet = L.slogdet(t(np.diag([-2.0, 3.0])))
    assert sign.item() == -1 and logabsdet.item() == pytest.approx(math.log(6))
    a = RNG.standard_normal((3, 4, 4))
    sign, logabsdet = L.slogdet(t(a))
    close(sign.numpy() * np.exp(logabsdet.numpy()), L.det(t(a)).numpy())
    singular = L.slogdet(t(np.ones((2, 2))))
    assert singular.sign.item() == 0 and singular.logabsdet.item() == -math.inf
    assert tn.logdet(t(np.diag([2.0, 3.0]))).item() == pytest.approx(math.log(6))
    assert math.isnan(tn.logdet(t(np.diag([-2.0, 3.0]))).item())
    assert t(np.diag([2.0, 3.0])).slogdet().logabsdet.item() == pytest.approx(math.log(6))


@pytest.mark.parametrize("a", [spread(5, 3), spread(3, 5, (2,)), np.outer(RNG.standard_normal(4), RNG.standard_normal(3))])
def test_pinv_meets_the_moore_penrose_conditions(a, backend_name):
    p = L.pinv(t(a)).numpy()
    close(a @ p @ a, a)
    close(p @ a @ p, p)
    close((a @ p).swapaxes(-1, -2), a @ p)
    close((p @ a).swapaxes(-1, -2), p @ a)
    sym = a @ a.swapaxes(-1, -2)
    close(L.pinv(t(sym), hermitian=True).numpy(), L.pinv(t(sym)).numpy(), 1e-8)
    close(L.pinv(t(np.diag([4.0, 0.5])), atol=1.0).numpy(), np.diag([0.25, 0.0]))  # 0.5 <= atol: dropped
    assert tn.pinverse(t(np.diag([4.0, 2.0]))).tolist() == [[0.25, 0.0], [0.0, 0.5]]


def test_lstsq_solves_the_normal_equations(backend_name):
    a, b = spread(6, 3, (2,)), RNG.standard_normal((2, 6, 2))
    x, residuals, rank, sv = L.lstsq(t(a), t(b))
    close(a.swapaxes(-1, -2) @ (a @ x.numpy() - b), 0)                   # A^T (A X - B) = 0
    assert rank.tolist() == [3, 3] and rank.dtype == tn.int64 and residuals.shape == (0,) and sv.shape == (0,)
    result = L.lstsq(t(a), t(b), driver="gelsd")
    close(result.residuals.numpy(), ((a @ result.solution.numpy() - b) ** 2).sum(-2))
    close(result.singular_values.numpy(), L.svdvals(t(a)).numpy())
    assert L.lstsq(t(a), t(b), driver="gels").rank.shape == (0,)
    vector = L.lstsq(t(a[0]), t(b[0, :, 0]))
    assert vector.solution.shape == (3,)
    close(vector.solution.numpy(), x.numpy()[0, :, 0])
    deficient = np.outer(RNG.standard_normal(4), [1.0, 2.0])            # rank 1: the least-norm solution
    y = RNG.standard_normal((4, 1))
    close(L.lstsq(t(deficient), t(y)).solution.numpy(), L.pinv(t(deficient)).numpy() @ y)
    assert L.lstsq(t(deficient), t(y)).rank.item() == 1


def test_matrix_rank(backend_name):
    stacked = np.stack([np.outer(RNG.standard_normal(4), RNG.standard_normal(3)), RNG.standard_normal((4, 3))])
    assert L.matrix_rank(t(stacked)).tolist() == [1, 3]
    assert L.matrix_rank(t(np.diag([3.0, 1.0, 0.1])), atol=0.5).item() == 2
    assert L.matrix_rank(t(np.diag([3.0, 1.0, 0.1])), rtol=0.2).item() == 2
    assert L.matrix_rank(t(np.diag([3.0, -1.0, 0.0])), hermitian=True).item() == 2
    assert L.matrix_rank(t(np.zeros((2, 0, 3)))).tolist() == [0, 0]


def test_matrix_exp_closed_forms(backend_name):
    d = np.array([1.0, -2.0, 0.5])
    close(L.matrix_exp(t(np.diag(d))).numpy(), np.diag(np.exp(d)))
    n = np.triu(RNG.standard_normal((3, 3)), 1)                          # nilpotent: N^3 = 0
    close(L.matrix_exp(t(n)).numpy(), np.eye(3) + n + n @ n / 2)
    theta = 0.7
    close(L.matrix_exp(t([[0.0, -theta], [theta, 0.0]])).numpy(), [[math.cos(theta), -math.sin(theta)],
                                                                     [math.sin(theta), math.cos(theta)]])
    a = RNG.standard_normal((2, 4, 4)) * 3
    close(L.matrix_exp(t(a)).numpy() @ L.matrix_exp(t(-a)).numpy(), np.broadcast_to(np.eye(4), (2, 4, 4)), 1e-8)
    p = RNG.standard_normal((3, 3)) + 3 * np.eye(3)                      # ||A|| large: the scaling-and-squaring path
    big = [6.0, -4.0, 9.0]
    close(L.matrix_exp(t(p @ np.diag(big) @ np.linalg.inv(p))).numpy(), p @ np.diag(np.exp(big)) @ np.linalg.inv(p), 1e-9)
    assert L.matrix_exp(t(np.zeros((2, 0, 0)))).shape == (2, 0, 0)
    close(t(np.diag(d)).matrix_exp().numpy(), np.diag(np.exp(d)))


def test_solve_triangular_against_a_hand_solved_system(backend_name):
    lower = t([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [3.0, 2.0, 4.0]])
    b = t([[2.0], [3.0], [13.0]])
    # x1 = 2 / 2 = 1; x2 = 3 - 1 = 2; x3 = (13 - 3 - 4) / 4 = 1.5
    close(L.solve_triangular(lower, b, upper=False).numpy(), [[1], [2], [1.5]])
    close(L.solve_triangular(lower + t(np.triu(np.ones((3, 3)), 1)), b, upper=False).numpy(), [[1], [2], [1.5]])
    # unit diagonal: x1 = 2; x2 = 3 - 2 = 1; x3 = 13 - 6 - 2 = 5
    close(L.solve_triangular(lower, b, upper=False, unitriangular=True).numpy(), [[2], [1], [5]])
    close(L.solve_triangular(lower.mT, b.mT, upper=True, left=False).numpy(), [[1, 2, 1.5]])  # X A = B
    upper, rhs = np.triu(RNG.standard_normal((3, 3))) + 3 * np.eye(3), RNG.standard_normal((2, 3, 4))
    close(upper @ L.solve_triangular(t(upper), t(rhs), upper=True).numpy(), rhs)
    with pytest.warns(UserWarning, match="deprecated"):
        x, clone = tn.triangular_solve(t(rhs[0]), t(upper), transpose=True)
    close(upper.T @ x.numpy(), rhs[0])
    close(clone.numpy(), upper)


def test_matrix_power_multi_dot_vecdot_and_friends(backend_name):
    shear = t([[1.0, 1.0], [0.0, 1.0]])
    close(L.matrix_power(shear, 5).numpy(), [[1, 5], [0, 1]])
    close(L.matrix_power(shear, -3).numpy(), [[1, -3], [0, 1]])
    close(L.matrix_power(t(RNG.standard_normal((2, 3, 3))), 0).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert L.matrix_power(tn.tensor([[1, 1], [0, 1]]), 3).tolist() == [[1, 3], [0, 1]]
    assert shear.matrix_power(2).tolist() == [[1.0, 2.0], [0.0, 1.0]]
    # CLRS's example: 10x100, 100x5, 5x50 costs 7500 as (A B) C and 75000 as A (B C)
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    mats = [RNG.standard_normal(3), RNG.standard_normal((3, 5)), RNG.standard_normal((5, 2)), RNG.standard_normal(2)]
    assert L.multi_dot([t(m) for m in mats]).shape == ()
    close(L.multi_dot([t(m) for m in mats]).item(), mats[0] @ mats[1] @ mats[2] @ mats[3])
    close(L.multi_dot([t(m) for m in mats[1:3]]).numpy(), mats[1] @ mats[2])
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    close(L.vecdot(t(x), t(y)).numpy(), x @ y)
    assert L.diagonal(t(RNG.standard_normal((2, 3, 4))), offset=1).shape == (2, 3)
    close(L.vander(t([1.0, 2.0, 3.0])).numpy(), [[1, 1, 1], [1, 2, 4], [1, 3, 9]])
    close(L.matmul(t(x), t(y)).numpy(), x @ y)
    a = RNG.standard_normal((6, 2, 3)) + np.eye(6).reshape(6, 2, 3) * 3
    close(np.tensordot(a, L.tensorinv(t(a), ind=1).numpy(), 2), np.eye(6))
    b = RNG.standard_normal((2, 3))
    close(np.tensordot(np.moveaxis(a, 0, -1), L.tensorsolve(t(a), t(b), dims=(0,)).numpy(), 1), b)


def test_singular_value_norms_and_cond(backend_name):
    d = t(np.diag([3.0, -2.0, 1.0]))
    assert [L.matrix_norm(d, o).item() for o in ("nuc", 2, -2)] == pytest.approx([6, 3, 1])
    assert L.norm(d, "nuc").item() == pytest.approx(6)
    assert L.norm(t(np.ones((2, 3, 4))), 2, dim=(0, 2), keepdim=True).shape == (1, 3, 1)
    assert L.matrix_norm(t(np.ones((2, 3, 4))), "nuc", dim=(2, 0)).shape == (3,)
    assert L.cond(d).item() == pytest.approx(3) and L.cond(d, -2).item() == pytest.approx(1 / 3)
    assert L.cond(d, 1).item() == pytest.approx(3)                                 # ||D||_1 ||D^-1||_1 = 3 * 1
    assert L.cond(d, "fro").item() == pytest.approx(math.sqrt(14) * math.sqrt(1 / 9 + 1 / 4 + 1))
    assert L.cond(t(np.zeros((2, 2))), 1).item() == math.inf


def test_torch_level_aliases(backend_name):
    a = RNG.standard_normal((4, 3))
    u, s, v = tn.svd(t(a))
    assert (u.shape, v.shape) == ((4, 3), (3, 3))
    close((u.numpy() * s.numpy()) @ v.numpy().T, a)                                  # V, not V^T
    u, s, v = tn.svd(t(a), compute_uv=False)
    assert u.shape == (4, 4) and v.shape == (3, 3) and not u.numpy().any() and not v.numpy().any()
    assert [x.shape for x in t(a).svd(some=False)] == [(4, 4), (3,), (3, 3)]
    p = spread(3, 3)
    p = p @ p.T + np.eye(3)
    with pytest.warns(UserWarning, match="deprecated"):
        close(tn.cholesky(t(p)).numpy(), L.cholesky(t(p)).numpy())
    with pytest.warns(UserWarning, match="deprecated"):
        assert [x.shape for x in tn.qr(t(a), some=False)] == [(4, 4), (4, 3)]
    factor = np.linalg.cholesky(p)
    close(tn.cholesky_inverse(t(factor)).numpy(), np.linalg.inv(p))
    close(tn.cholesky_inverse(t(factor.T), upper=True).numpy(), np.linalg.inv(p))
    b = RNG.standard_normal((3, 2))
    close(p @ tn.cholesky_solve(t(b), t(factor)).numpy(), b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert t(p).matrix_exp().shape == (3, 3) and t(p).pinverse().shape == (3, 3)


@pytest.mark.parametrize("call, error, match", [
    (lambda: L.svd(tn.ones(3, 3, dtype=tn.int64)), RuntimeError, "linalg.svd: Expected a floating point"),
    (lambda: L.qr(tn.ones(3, dtype=tn.float64)), RuntimeError, r"linalg.qr: .*at least 2 dimensions \(shape \(3,\)\)"),
    (lambda: L.eigh(tn.ones(3, 2)), RuntimeError, "linalg.eigh: A must be batches of square matrices, but they are 3 by 2"),
    (lambda: L.cholesky(tn.ones(2, 3)), RuntimeError, "linalg.cholesky: A must be batches of square"),
    (lambda: L.slogdet(tn.ones(2, 3)), RuntimeError, "linalg.slogdet: A must be batches of square"),
    (lambda: L.matrix_exp(tn.ones(2, 3)), RuntimeError, "linalg.matrix_exp: A must be batches of square"),
    (lambda: L.matrix_power(tn.ones(2, 3), 2), RuntimeError, "linalg.matrix_power: A must be batches of square"),
    (lambda: L.matrix_power(tn.ones(2, 2), 1.5), TypeError, "n must be an int"),
    (lambda: L.matrix_power(tn.ones(2, 2, dtype=tn.int64), -1), RuntimeError, "linalg.inv: Expected a floating point"),
    (lambda: L.pinv(tn.ones(3, 3, dtype=tn.int32)), RuntimeError, "linalg.pinv: Expected a floating point"),
    (lambda: L.solve_triangular(tn.eye(3), tn.ones(3), upper=True), RuntimeError, "B must have at least 2 dimensions"),
    (lambda: L.solve_triangular(tn.eye(3), tn.ones(2, 1), upper=True), RuntimeError, r"Incompatible shapes .*\(3, 3\) and \(2, 1\)"),
    (lambda: L.solve_triangular(tn.eye(3), tn.ones(3, 1)), TypeError, "upper"),
    (lambda: L.solve_triangular(tn.eye(3), tn.ones(3, 1, dtype=tn.float64), upper=True), RuntimeError, "same dtype"),
    (lambda: L.qr(tn.ones(3, 3), mode="full"), RuntimeError, "unrecognized mode"),
    (lambda: L.eigh(tn.eye(3), UPLO="X"), RuntimeError, "UPLO"),
    (lambda: L.lstsq(tn.ones(4, 3), tn.ones(5, 1)), RuntimeError, r"input.size\(-2\) should match other.size\(-2\)"),
    (lambda: L.lstsq(tn.ones(4, 3), tn.ones(4, 1), driver="gesv"), RuntimeError, "driver"),
    (lambda: L.multi_dot([tn.ones(3, 3, 3), tn.ones(3, 3)]), RuntimeError, "the first tensor must be 1D or 2D but got 3D"),
    (lambda: L.multi_dot([tn.ones(3, 2), tn.ones(3, 2)]), RuntimeError, r"tensors 0 and 1 with shapes \[3, 2\] and \[3, 2\]"),
    (lambda: L.vecdot(tn.ones(3), tn.ones(4)), RuntimeError, r"linalg.vecdot: shapes \(3,\) and \(4,\)"),
    (lambda: L.cond(tn.ones(2, 3), 1), RuntimeError, r"linalg.cond\(ord=1\): A must be batches of square"),
    (lambda: L.cond(tn.ones(2, 2), 3), RuntimeError, "invalid norm type: 3"),
    (lambda: L.tensorinv(tn.ones(4, 6, 8, 2), ind=2), RuntimeError, "16 != 24"),
    (lambda: L.svd([[1.0]]), TypeError, "linalg.svd: expected Tensor"),
    (lambda: L.eig, AttributeError, "torch.linalg.eig"),
])
def test_errors_name_the_function_and_the_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- gradients
def _w(shape, seed):
    return tn.tensor(np.random.default_rng(seed).standard_normal(shape))


def _svd_gauge_invariant(full):
    """|U|^2 and |Vh|^2 weighted, plus S: a loss that no sign flip of a pair (u_i, v_i) changes."""
    def loss(a):
        u, s, vh = L.svd(a, full_matrices=full)
        k = s.shape[-1]
        return ((u[..., :k] ** 2) * _w(u[..., :k].shape, 1)).sum() + ((vh[..., :k, :] ** 2) * _w(vh[..., :k, :].shape, 2)).sum() + s
    return loss


GRADIENTS = {
    "svd tall": (_svd_gauge_invariant(True), [spread(4, 3, (2,))]),
    "svd wide reduced": (_svd_gauge_invariant(False), [spread(3, 5)]),
    "svd U S^2 Vh": (lambda a: (lambda r: (r.U * r.S.unsqueeze(-2) ** 2) @ r.Vh)(L.svd(a, False)), [spread(4, 3)]),
    "svdvals": (L.svdvals, [spread(3, 4, (2,))]),
    "eigh": (lambda a: (lambda r: ((r.eigenvectors ** 2) * _w((4, 4), 3)).sum() + r.eigenvalues ** 3)(L.eigh(a + a.mT)),
             [spread(4, 4)]),
    "eigvalsh": (lambda a: L.eigvalsh(a + a.mT, UPLO="U"), [spread(3, 3, (2,))]),
    "qr tall": (L.qr, [spread(5, 3, (2,))]),
    "qr wide": (L.qr, [spread(3, 5)]),
    "qr r": (lambda a: L.qr(a, mode="r").R, [spread(4, 3)]),
    "cholesky": (lambda a: L.cholesky(a @ a.mT + tn.eye(3, dtype=tn.float64)), [spread(3, 3, (2,))]),
    "cholesky upper": (lambda a: L.cholesky(a @ a.mT + tn.eye(3, dtype=tn.float64), upper=True), [spread(3, 3)]),
    "solve_triangular": (lambda a, b: L.solve_triangular(a, b, upper=True), [spread(3, 3) + 3 * np.eye(3),
                                                                              RNG.standard_normal((2, 3, 2))]),
    "solve_triangular unit right": (lambda a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
                                    [spread(3, 3), RNG.standard_normal((2, 3))]),
    "matrix_exp": (L.matrix_exp, [RNG.standard_normal((2, 3, 3))]),
    "slogdet": (lambda a: L.slogdet(a).logabsdet, [RNG.standard_normal((2, 3, 3))]),
    "pinv": (L.pinv, [spread(4, 3)]),
    "pinv wide": (L.pinv, [spread(2, 4, (2,))]),
    "pinv hermitian": (lambda a: L.pinv(a + a.mT, hermitian=True), [spread(3, 3)]),
    "lstsq": (lambda a, b: L.lstsq(a, b).solution, [spread(5, 3), RNG.standard_normal((5, 2))]),
    "nuc, 2, -2": (lambda a: (L.matrix_norm(a, "nuc"), L.matrix_norm(a, 2), L.matrix_norm(a, -2)), [spread(3, 4)]),
    "cond": (L.cond, [spread(3, 4)]),
    "cond 1": (lambda a: L.cond(a, 1), [RNG.standard_normal((3, 3)) + 3 * np.eye(3)]),
    "matrix_power": (lambda a: L.matrix_power(a, -3), [RNG.standard_normal((3, 3)) + 3 * np.eye(3)]),
    "multi_dot": (lambda a, b, c: L.multi_dot([a, b, c]), [RNG.standard_normal(3), RNG.standard_normal((3, 4)),
                                                          RNG.standard_normal((4, 2))]),
    "cholesky_solve": (lambda b, a: tn.cholesky_solve(b, L.cholesky(a @ a.mT + tn.eye(3, dtype=tn.float64))),
                       [RNG.standard_normal((3, 2)), spread(3, 3)]),
}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradients_and_gradients_of_gradients(name, backend_name):
    fn, inputs = GRADIENTS[name]
    args = [t(a, grad=True) for a in inputs]
    assert tn.gradcheck(fn, *args)
    assert tn.gradgradcheck(fn, *args)


def test_gradients_where_the_spectrum_repeats(backend_name):
    """Through S (eigenvalues) alone the gradient is U V^T (V V^T) even for repeated values, as PyTorch's;
    pinv's (Golub-Pereyra) needs no distinct singular values either."""
    a = t(np.eye(3), grad=True)
    L.svdvals(a).sum().backward()
    close(a.grad.numpy(), np.eye(3))
    a.grad = None
    L.eigvalsh(a).sum().backward()
    close(a.grad.numpy(), np.eye(3))
    a.grad = None
    L.matrix_norm(a, 2).backward()
    close(a.grad.numpy(), np.eye(3) / 3)                 # a tie for the largest: shared evenly, as amax does
    assert tn.gradcheck(L.pinv, t(np.eye(3), grad=True))
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        L.qr(t(RNG.standard_normal((4, 3)), grad=True), mode="complete").Q.sum().backward()
