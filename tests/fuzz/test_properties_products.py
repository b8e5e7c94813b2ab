"""Hypothesis properties of the products: einsum, tensordot, outer, addmm/baddbmm, trace, cross, kron. The
expected values are the sums of products written as plain Python loops over every assignment of the
subscripts (not NumPy's einsum, which the reference backend runs), with the gradient of each operand
from the product rule in the same loop (d/dx_k of sum_a g[out] prod_j x_j[t_j] is the sum over the
assignments of g[out] prod_{j != k} x_j[t_j], added at x_k's place); plus the identities: tensordot with
0 dims is the outer product, trace(AB) = trace(BA), a x b is perpendicular to a and b and anti-commutative,
(A (x) B)(C (x) D) = (AC) (x) (BD). Small integers in float64 make every sum exact, so most checks are
equalities; normal float32 values are checked within the error bound of a sum of products. On both
backends (helpers.properties.run_both; the compiled one runs its own matmul, add and multiply)."""
import itertools
import string

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, arrays, assert_same, run_both, shapes

F64 = (np.dtype(np.float64),)
KINDS = st.sampled_from([("ties", F64), ("normal", FLOATS)])   # exact small integers, or normal values
SPARE = "ZYXW"   # the ellipsis' letters in the loops below (right-aligned), never drawn as subscripts


def loop(terms, out, operands, upstream=None):
    """(y, sum of |terms| per output element, gradients) of the einsum terms -> out by its definition:
    y[out] = sum over every assignment a of the letters of prod_k x_k[a(t_k)]; a dim of size 1 in an
    operand broadcasts (reads index 0). With `upstream` g, the gradient of operand k is, by the product
    rule, sum_a g[a(out)] prod_{j != k} x_j[a(t_j)] added at x_k[a(t_k)]."""
    size = {}
    for t, x in zip(terms, operands):
        for c, n in zip(t, np.shape(x)):
            size[c] = max(size.get(c, 1), n) if n != 0 and size.get(c) != 0 else 0
    letters = sorted(size)
    y, mag = np.zeros([size[c] for c in out]), np.zeros([size[c] for c in out])
    grads = [np.zeros(np.shape(x)) for x in operands]
    for values in itertools.product(*[range(size[c]) for c in letters]):
        a = dict(zip(letters, values))
        at = [tuple(a[c] if n > 1 else 0 for c, n in zip(t, np.shape(x))) for t, x in zip(terms, operands)]
        factors = [float(x[i]) for x, i in zip(operands, at)]
        o = tuple(a[c] for c in out)
        y[o] += np.prod(factors)
        mag[o] += abs(np.prod(factors))
        if upstream is not None:
            for k in range(len(operands)):
                grads[k][at[k]] += upstream[o] * np.prod(factors[:k] + factors[k + 1:])
    return y, mag, grads


def assert_close_sum(what, got, want, magnitude, n_terms, operands):
    """|got - want| <= (n + 2) eps sum |terms| (a sum of n products, each rounded once); equal when the
    operands are small integers in float64 (every partial sum exact)."""
    dtype = np.asarray(got).dtype
    exact = dtype == np.float64 and all(np.array_equal(x, np.round(x)) for x in operands)
    tol = 0.0 if exact else (n_terms + 2) * np.finfo(dtype).eps * magnitude + np.finfo(dtype).tiny
    bad = ~(np.abs(np.asarray(got, np.float64) - want) <= tol)
    assert not bad.any(), f"{what}: {np.asarray(got)[bad]} vs {want[bad]} (tol {np.broadcast_to(tol, bad.shape)[bad]})"


def crossed(v, w):
    """v x w along the last dim: (v1 w2 - v2 w1, v2 w0 - v0 w2, v0 w1 - v1 w0)."""
    return np.stack([v[..., 1] * w[..., 2] - v[..., 2] * w[..., 1], v[..., 2] * w[..., 0] - v[..., 0] * w[..., 2],
                     v[..., 0] * w[..., 1] - v[..., 1] * w[..., 0]], -1)


# ---------------------------------------------------------------- einsum
@st.composite
def einsum_cases(draw):
    """(equation, terms without the ellipsis, out, operands): 1-3 operands over the letters a-d, repeated
    letters (diagonals), size-1 dims that broadcast, an ellipsis of 0-2 dims, an explicit or implicit output."""
    kind, dtypes = draw(KINDS)
    dtype = draw(st.sampled_from(dtypes))
    size = {c: draw(st.integers(0, 3) if draw(st.integers(0, 9)) == 0 else st.integers(1, 3)) for c in "abcd"}
    terms = [draw(st.lists(st.sampled_from("abcd"), max_size=3).map("".join)) for _ in range(draw(st.integers(1, 3)))]
    batch = draw(shapes(0, 2, 1, 3)) if draw(st.booleans()) else None
    spare = SPARE[:len(batch or ())]
    operands, full_terms, width = [], [], 0
    for t in terms:   # a letter seen once in a term may have size 1 there (it broadcasts)
        shape = [1 if t.count(c) == 1 and draw(st.integers(0, 4)) == 0 else size[c] for c in t]
        if batch is not None:   # the ellipsis: a right-aligned part of the batch dims, some of them 1
            own = tuple(n if draw(st.booleans()) else 1 for n in batch[draw(st.integers(0, len(batch))):])
            shape, t, width = list(own) + shape, spare[len(spare) - len(own):] + t, max(width, len(own))
        full_terms.append(t)
        operands.append(draw(arrays(dtypes=(dtype,), shape=tuple(shape), kinds=(kind,))))
    used = sorted(set("".join(terms)))
    ell = spare[len(spare) - width:]
    if draw(st.booleans()):   # explicit output: some of the letters, in any order
        picked = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        rhs, out = ("..." if batch is not None else "") + picked, ell + picked
    else:   # implicit: the ellipsis, then the letters seen once, in alphabetical order
        rhs, out = None, ell + "".join(c for c in used if "".join(terms).count(c) == 1)
    lhs = ",".join(("..." if batch is not None else "") + t for t in terms)
    return lhs + ("" if rhs is None else "->" + rhs), full_terms, out, operands


@given(einsum_cases(), st.integers(0, 2**16))
def test_einsum_is_the_sum_over_the_unnamed_letters_of_the_products(case, seed):
    equation, terms, out, operands = case
    (y,), grads, ups = run_both(lambda *ts: tn.einsum(equation, *ts), operands, seed, rtol=1e-5)
    want, mag, want_grads = loop(terms, out, operands, ups[0].astype(np.float64))
    assert y.dtype == operands[0].dtype and y.shape == want.shape, equation
    n = max(1, int(np.prod([x.size for x in operands])))   # (at most this many terms in any sum)
    assert_close_sum(equation, y, want, mag, n, operands)
    _, _, magnitudes = loop(terms, out, [np.abs(x) for x in operands], np.abs(ups[0]).astype(np.float64))
    for k, (g, w, m) in enumerate(zip(grads, want_grads, magnitudes)):
        assert_close_sum(f"{equation}: gradient {k}", g, w, m, n, operands)


def test_einsum_of_integers_sums_in_int64_and_keeps_int8_products():
    x = tn.tensor([[100, 100], [100, 100]], dtype=tn.int8)
    assert tn.einsum("ij->", x).dtype == tn.int64 and tn.einsum("ij->", x).item() == 400
    assert tn.einsum("ij->ji", x).dtype == tn.int8


# ---------------------------------------------------------------- tensordot, outer
@st.composite
def tensordot_cases(draw):
    kind, dtypes = draw(KINDS)
    dtype = draw(st.sampled_from(dtypes))
    a_shape, b_shape = draw(shapes(0, 3, 0, 3)), draw(shapes(0, 3, 0, 3))
    n = draw(st.integers(0, min(len(a_shape), len(b_shape))))
    da = draw(st.permutations(range(len(a_shape))))[:n]
    db = draw(st.permutations(range(len(b_shape))))[:n]
    b_shape = list(b_shape)
    for i, j in zip(da, db):
        b_shape[j] = a_shape[i]
    dims = draw(st.sampled_from(["pairs", "int"])) if list(da) == list(range(len(a_shape) - n, len(a_shape))) \
        and list(db) == list(range(n)) else "pairs"
    a = draw(arrays(dtypes=(dtype,), shape=a_shape, kinds=(kind,)))
    b = draw(arrays(dtypes=(dtype,), shape=tuple(b_shape), kinds=(kind,)))
    return a, b, (n if dims == "int" else (list(da), list(db))), list(da), list(db)


@given(tensordot_cases(), st.integers(0, 2**16))
def test_tensordot_sums_over_the_paired_dims(case, seed):
    a, b, dims, da, db = case
    (y,), grads, ups = run_both(lambda s, t: tn.tensordot(s, t, dims), [a, b], seed, rtol=1e-5)
    ta = string.ascii_lowercase[:a.ndim]
    tb = "".join(ta[da[db.index(j)]] if j in db else string.ascii_lowercase[10 + j] for j in range(b.ndim))
    out = "".join(c for c in ta if c not in tb) + "".join(c for c in tb if c not in ta)
    want, mag, want_grads = loop([ta, tb], out, [a, b], ups[0].astype(np.float64))
    _, _, magnitudes = loop([ta, tb], out, [np.abs(a), np.abs(b)], np.abs(ups[0]).astype(np.float64))
    n = max(1, a.size * b.size)
    assert y.dtype == a.dtype and y.shape == want.shape
    assert_close_sum("tensordot", y, want, mag, n, [a, b])
    for g, w, m in zip(grads, want_grads, magnitudes):
        assert_close_sum("tensordot gradient", g, w, m, n, [a, b])


@given(arrays(dtypes=FLOATS, shape=shapes(1, 1)), arrays(dtypes=FLOATS, shape=shapes(1, 1)), st.integers(0, 2**16))
def test_outer_is_u_i_v_j_and_tensordot_with_no_pairs(u, v, seed):
    v = v.astype(u.dtype)
    (y,), grads, ups = run_both(lambda s, t: tn.outer(s, t), [u, v], seed)
    with np.errstate(invalid="ignore"):
        assert_same(y, (u.astype(np.float64)[:, None] * v[None, :]).astype(u.dtype), "outer")
        assert_same(tn.tensordot(tn.tensor(u), tn.tensor(v), 0).numpy(), y, "tensordot(u, v, 0)")
        assert_same(tn.ger(tn.tensor(u), tn.tensor(v)).numpy(), y, "ger")
    if grads and np.isfinite(u).all() and np.isfinite(v).all():   # d/du_i = sum_j g_ij v_j, d/dv_j = sum_i g_ij u_i
        g, eps = ups[0].astype(np.float64), 4 * len(u) * len(v) * np.finfo(u.dtype).eps
        np.testing.assert_allclose(grads[0], g @ v, rtol=0, atol=eps * (np.abs(g) @ np.abs(v)).max(initial=0) + 1e-300)
        np.testing.assert_allclose(grads[1], u @ g, rtol=0, atol=eps * (np.abs(u) @ np.abs(g)).max(initial=0) + 1e-300)


@pytest.mark.parametrize("a, b, result", [(tn.int64, tn.float32, tn.float32), (tn.int8, tn.uint8, tn.int16),
                                          (tn.bool, tn.bool, tn.bool), (tn.float32, tn.float64, tn.float64)])
def test_outer_promotes_as_pytorch(a, b, result):
    assert tn.outer(tn.tensor([1, 0], dtype=a), tn.tensor([1, 1], dtype=b)).dtype == result


# ---------------------------------------------------------------- addmm, baddbmm, trace
@st.composite
def addmm_cases(draw):
    batched = draw(st.booleans())
    n, m, p = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    lead = (draw(st.integers(0, 2)),) if batched else ()
    dtype = draw(st.sampled_from(F64 + (np.dtype(np.float32), np.dtype(np.int64))))
    start_shape = tuple(1 if draw(st.booleans()) else s for s in lead + (n, p))[draw(st.integers(0, len(lead) + 2)):]
    A = draw(arrays(dtypes=(dtype,), shape=lead + (n, m), kinds=("ties",)))
    B = draw(arrays(dtypes=(dtype,), shape=lead + (m, p), kinds=("ties",)))
    M = draw(arrays(dtypes=(dtype,), shape=start_shape, kinds=("ties", "special")))
    numbers = [0, 1, 2, -1] + ([0.5, -0.25] if dtype.kind == "f" else [])
    return batched, M, A, B, draw(st.sampled_from(numbers)), draw(st.sampled_from(numbers))


@given(addmm_cases(), st.integers(0, 2**16))
def test_addmm_and_baddbmm_are_beta_input_plus_alpha_times_the_product(case, seed):
    batched, M, A, B, beta, alpha = case
    op = tn.baddbmm if batched else tn.addmm
    (y,), grads, ups = run_both(lambda m, a, b: op(m, a, b, beta=beta, alpha=alpha), [M, A, B], seed)
    product = A.astype(np.float64) @ B.astype(np.float64)   # small integers: exact
    with np.errstate(invalid="ignore"):
        start = np.zeros(product.shape) if beta == 0 else beta * np.broadcast_to(M, product.shape).astype(np.float64)
        assert_same(y, (start + alpha * product).astype(A.dtype), "beta input + alpha A B (input ignored if beta = 0)")
    if grads:
        g = ups[0].astype(np.float64)
        reduce = tuple(range(g.ndim - M.ndim)) + tuple(d + g.ndim - M.ndim for d, s in enumerate(M.shape) if s == 1)
        assert_same(grads[0], (beta * g.sum(axis=reduce, keepdims=True).reshape(M.shape)).astype(M.dtype), "d/dinput")
        assert_same(grads[1], (alpha * g @ np.swapaxes(B, -1, -2)).astype(A.dtype), "alpha g B^T")
        assert_same(grads[2], (alpha * np.swapaxes(A, -1, -2) @ g).astype(B.dtype), "alpha A^T g")


@given(arrays(dtypes=F64 + (np.dtype(np.int8), np.dtype(np.int64), np.dtype(np.uint8)), shape=shapes(2, 2, 0, 4),
              kinds=("ties",)), st.integers(0, 2**16))
def test_trace_is_the_sum_of_the_diagonal_and_trace_ab_equals_trace_ba(x, seed):
    (t,), grads, ups = run_both(lambda a: tn.trace(a), [x], seed)
    assert t.dtype == (np.int64 if x.dtype.kind in "iu" else x.dtype)   # integers sum as int64 (PyTorch)
    assert t == sum(int(x[i, i]) for i in range(min(x.shape)))
    if grads:
        assert_same(grads[0], ups[0] * np.eye(*x.shape), "g on the diagonal")
    y = tn.tensor(x.T.astype(np.float64) + 1.0)
    ab, ba = tn.tensor(x.astype(np.float64)) @ y, y @ tn.tensor(x.astype(np.float64))
    assert tn.trace(ab).item() == tn.trace(ba).item()


# ---------------------------------------------------------------- cross, kron
@st.composite
def cross_cases(draw):
    shape = list(draw(shapes(1, 3, 1, 3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] = 3
    other = tuple(1 if d != dim % len(shape) and draw(st.booleans()) else n for d, n in enumerate(shape))
    kind, dtypes = draw(KINDS)
    dtype = draw(st.sampled_from(dtypes + (np.dtype(np.int64),)))
    a = draw(arrays(dtypes=(dtype,), shape=tuple(shape), kinds=(kind,)))
    b = draw(arrays(dtypes=(dtype,), shape=other, kinds=(kind,)))
    return (a, b, dim) if draw(st.booleans()) else (b, a, dim)


@given(cross_cases(), st.integers(0, 2**16))
def test_cross_is_perpendicular_anticommutative_and_the_component_formula(case, seed):
    a, b, dim = case
    (c,), grads, ups = run_both(lambda s, t: tn.linalg.cross(s, t, dim=dim), [a, b], seed, rtol=1e-6)
    A, B = (np.moveaxis(np.broadcast_to(v, c.shape), dim, -1).astype(np.float64) for v in (a, b))
    C = np.moveaxis(c, dim, -1).astype(np.float64)
    want = crossed(A, B)
    scale = np.abs(A).max(initial=0) * np.abs(B).max(initial=0)
    eps = 4 * np.finfo(c.dtype).eps if c.dtype.kind == "f" else 0
    np.testing.assert_allclose(C, want, rtol=0, atol=eps * scale)
    for v in (A, B):   # c . a = c . b = 0 (exact for integers)
        np.testing.assert_allclose((C * v).sum(-1), 0, atol=4 * eps * scale * np.abs(v).max(initial=0))
    swapped = tn.linalg.cross(tn.tensor(b), tn.tensor(a), dim=dim).numpy()
    assert_same(swapped, -c, "b x a = -(a x b)")
    assert not tn.linalg.cross(tn.tensor(a), tn.tensor(a), dim=dim).numpy().any(), "a x a = 0"
    if grads:   # <g, a x b> = <a, b x g> = <b, g x a>
        G = np.moveaxis(ups[0], dim, -1).astype(np.float64)
        for k, (v, w, g_in) in enumerate(((B, G, grads[0]), (G, A, grads[1]))):
            shape = (a, b)[k].shape
            full = np.moveaxis(crossed(v, w), -1, dim)
            lead = full.ndim - len(shape)
            reduced = full.sum(axis=tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape) if n == 1),
                               keepdims=True).reshape(shape)
            copies = full.size // max(reduced.size, 1)
            bound = 8 * eps * copies * np.abs(v).max(initial=0) * np.abs(w).max(initial=0)
            np.testing.assert_allclose(g_in, reduced, rtol=0, atol=bound + 1e-300)


@given(arrays(dtypes=F64, shape=shapes(0, 3, 1, 3), kinds=("ties",)), arrays(dtypes=F64, shape=shapes(0, 3, 1, 3),
       kinds=("ties",)), st.integers(0, 2**16))
def test_kron_puts_a_i_times_b_at_block_i(A, B, seed):
    (K,), grads, ups = run_both(lambda s, t: tn.kron(s, t), [A, B], seed)
    n = max(A.ndim, B.ndim)
    sa, sb = (1,) * (n - A.ndim) + A.shape, (1,) * (n - B.ndim) + B.shape
    assert K.shape == tuple(p * q for p, q in zip(sa, sb))
    a, b = A.reshape(sa), B.reshape(sb)
    ga, gb = np.zeros(sa), np.zeros(sb)
    for i in np.ndindex(*sa):
        for k in np.ndindex(*sb):
            at = tuple(p * m + q for p, m, q in zip(i, sb, k))   # K[i m + k] = A[i] B[k]
            assert K[at] == a[i] * b[k]
            ga[i] += ups[0][at] * b[k]
            gb[k] += ups[0][at] * a[i]
    assert_same(grads[0], ga.reshape(A.shape), "d/dA")
    assert_same(grads[1], gb.reshape(B.shape), "d/dB")


@given(st.lists(st.integers(1, 3), min_size=6, max_size=6), st.integers(0, 2**16))
def test_kron_mixed_product(sides, seed):
    """(A (x) B)(C (x) D) = (AC) (x) (BD) for A p x q, C q x r, B s x t, D t x u (exact with small integers)."""
    p, q, r, s, t, u = sides
    rng = np.random.default_rng(seed)
    A, C, B, D = (tn.tensor(rng.integers(-3, 4, shape).astype(np.float64)) for shape in ((p, q), (q, r), (s, t), (t, u)))
    for backend in tn.backend.available():
        with tn.use_backend(backend):
            assert_same((tn.kron(A, B) @ tn.kron(C, D)).numpy(), tn.kron(A @ C, B @ D).numpy(), backend)


def test_addmm_of_bools_is_refused_as_in_pytorch():
    """Regression (found while checking the dtype rules): addmm/baddbmm of bool tensors returned a bool
    result; PyTorch has no bool kernel for them."""
    b = tn.tensor([[True]])
    with pytest.raises(NotImplementedError, match="addmm"):
        tn.addmm(b, b, b)
    with pytest.raises(NotImplementedError, match="baddbmm"):
        tn.baddbmm(b.reshape(1, 1, 1), b.reshape(1, 1, 1), b.reshape(1, 1, 1))
