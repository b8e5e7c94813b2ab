"""Hypothesis properties of tn.linalg.vector_norm, tn.linalg.matrix_norm and tn.cdist from their
definitions: ||x||_p = (sum_i |x_i|^p)^(1/p), ||x||_inf = max |x_i|, ||x||_-inf = min |x_i|, ||x||_0 the
count of nonzeros; ||A||_1 (inf) the largest column (row) sum of |A_ij|, -1 (-inf) the smallest, "fro" the
root of the sum of squares; cdist[i, j] = ||x1_i - x2_j||_p. And the identities a norm satisfies:
homogeneity, the triangle inequality (p >= 1), ||x||_inf <= ||x||_2 <= ||x||_1, ||A||_1 = ||A^T||_inf,
submultiplicativity, a symmetric distance matrix with a zero diagonal. Gradients against
d||x||_p / dx_i = sign(x_i) |x_i|^(p-1) / ||x||^(p-1). On both backends (helpers.properties.run_both)."""
import math

import numpy as np
from hypothesis import assume, given, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, arrays, run_both, shapes

ORDERS = [0, 0.5, 1, 2, 3, math.inf, -math.inf, -1]


def p_norm(x, p, axis):
    """The definition, in float64."""
    a = np.abs(np.asarray(x, np.float64))
    with np.errstate(divide="ignore"):
        if p == 0:
            return (a != 0).sum(axis=axis).astype(np.float64)
        if p == math.inf:
            return a.max(axis=axis)
        if p == -math.inf:
            return a.min(axis=axis)
        return (a ** p).sum(axis=axis) ** (1 / p)


def close(got, want, dtype, n, what):
    """Within (n + 4) eps relative (a sum of n positive terms, a power and a root), or exactly equal."""
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=(n + 4) * 4 * np.finfo(dtype).eps, atol=0,
                               err_msg=what)


@st.composite
def norm_cases(draw):
    x = draw(arrays(dtypes=FLOATS, kinds=("normal", "ties"), min_dims=1))
    dims = draw(st.none() | st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
    p = draw(st.sampled_from(ORDERS))
    if p in (math.inf, -math.inf):   # (the max or min of nothing is an error, as in PyTorch)
        assume(all(x.shape[d] for d in (dims or range(x.ndim))))
    return x, p, dims, draw(st.booleans())


@given(norm_cases(), st.integers(0, 2**16))
def test_vector_norm_is_its_definition_and_homogeneous(case, seed):
    x, p, dims, keepdim = case
    axis = tuple(range(x.ndim)) if dims is None else tuple(dims)
    (y,), grads, ups = run_both(lambda t: tn.linalg.vector_norm(t, p, dims, keepdim), [x], seed, rtol=1e-5)
    want = p_norm(x, p, axis)
    assert y.dtype == x.dtype and y.shape == (np.expand_dims(want, axis).shape if keepdim else want.shape)
    n = max(1, int(np.prod([x.shape[d] for d in axis])))
    close(y.reshape(want.shape), want, x.dtype, n, f"||x||_{p}")
    with np.errstate(divide="ignore"):   # (p < 0 with a zero: |0|^p = inf)
        doubled = tn.linalg.vector_norm(tn.tensor(2 * x), p, dims, keepdim).numpy()
    np.testing.assert_allclose(doubled, y * (1 if p == 0 else 2), rtol=(n + 4) * 8 * np.finfo(x.dtype).eps)
    smooth = p in (1, 2, 3) and not (x == 0).any() and (want > 0).all()
    if grads and smooth:   # d||x||_p / dx_i = sign(x_i) |x_i|^(p-1) / ||x||^(p-1)
        x64, norm = x.astype(np.float64), np.expand_dims(want, axis)
        g = np.broadcast_to(ups[0].reshape(norm.shape), x.shape)
        expected = g * np.sign(x64) * np.abs(x64) ** (p - 1) / norm ** (p - 1)
        np.testing.assert_allclose(grads[0], expected, rtol=(n + 8) * 8 * np.finfo(x.dtype).eps,
                                   atol=(n + 8) * 8 * np.finfo(x.dtype).eps * np.abs(g).max(initial=0))


@given(arrays(dtypes=(np.float64,), kinds=("normal", "ties"), shape=shapes(1, 1, 1, 6)), st.integers(0, 2**16))
def test_vector_norms_satisfy_the_triangle_inequality_and_are_ordered_in_p(x, seed):
    y = np.random.default_rng(seed).standard_normal(x.shape)
    norm = lambda v, p: tn.linalg.vector_norm(tn.tensor(v), p).item()   # noqa: E731
    slack = 1 + 1e-12
    for p in (1, 2, 3, math.inf):
        assert norm(x + y, p) <= (norm(x, p) + norm(y, p)) * slack
    assert norm(x, math.inf) <= norm(x, 3) * slack and norm(x, 3) <= norm(x, 2) * slack <= norm(x, 1) * slack ** 2
    assert norm(x, -math.inf) <= norm(x, math.inf) and norm(x, 0) == np.count_nonzero(x)


@st.composite
def matrix_cases(draw):
    A = draw(arrays(dtypes=FLOATS, kinds=("normal", "ties"), min_dims=2, min_side=1))
    d0, d1 = draw(st.lists(st.integers(-A.ndim, A.ndim - 1), min_size=2, max_size=2, unique_by=lambda d: d % A.ndim))
    return A, draw(st.sampled_from(["fro", 1, -1, math.inf, -math.inf])), (d0, d1), draw(st.booleans())


@given(matrix_cases(), st.integers(0, 2**16))
def test_matrix_norm_is_the_extreme_column_or_row_sum_or_frobenius(case, seed):
    A, ord_, dim, keepdim = case
    (y,), grads, ups = run_both(lambda t: tn.linalg.matrix_norm(t, ord_, dim, keepdim), [A], seed, rtol=1e-5)
    m = np.moveaxis(np.abs(A.astype(np.float64)), dim, (-2, -1))   # m[..., i, j] = |A_ij|
    if ord_ == "fro":
        want = np.sqrt((m ** 2).sum(axis=(-2, -1)))
    else:
        sums = m.sum(axis=-2 if abs(ord_) == 1 else -1)   # column sums for 1, row sums for inf
        want = sums.max(-1) if ord_ > 0 else sums.min(-1)
    kept = np.expand_dims(want, tuple(sorted(d % A.ndim for d in dim))) if keepdim else want
    assert y.dtype == A.dtype and y.shape == kept.shape
    close(y, kept, A.dtype, m.shape[-1] * m.shape[-2], f"||A||_{ord_}")
    if ord_ in (1, math.inf):   # ||A||_1 = ||A^T||_inf
        other = tn.linalg.matrix_norm(tn.tensor(A), math.inf if ord_ == 1 else 1, dim[::-1], keepdim).numpy()
        np.testing.assert_array_equal(other, y)


@given(st.lists(st.integers(1, 4), min_size=3, max_size=3), st.sampled_from(["fro", 1, math.inf]), st.integers(0, 2**16))
def test_matrix_norms_are_submultiplicative(sides, ord_, seed):
    n, k, m = sides
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    norm = lambda M: tn.linalg.matrix_norm(tn.tensor(M), ord_).item()   # noqa: E731
    assert norm(A @ B) <= norm(A) * norm(B) * (1 + 1e-12)


@st.composite
def cdist_cases(draw):
    batch = draw(shapes(0, 2, 1, 2))
    P, R, M = (draw(st.sampled_from(sides)) for sides in ([3, 1, 2, 4, 0], [2, 1, 3, 4, 0], [2, 3, 1, 0]))
    dtype = draw(st.sampled_from(FLOATS))
    b1 = tuple(1 if draw(st.booleans()) else n for n in batch)
    x1 = draw(arrays(dtypes=(dtype,), shape=b1 + (P, M), kinds=("normal", "ties")))
    x2 = draw(arrays(dtypes=(dtype,), shape=batch[draw(st.integers(0, len(batch))):] + (R, M), kinds=("normal", "ties")))
    # (p = inf with no coordinates, M = 0: PyTorch gives zeros, tinynn refuses the max over an empty dim)
    p = draw(st.sampled_from([1, 2, 3, 0.5, 0] + ([math.inf] if M else [])))
    return x1, x2, p


@given(cdist_cases(), st.integers(0, 2**16))
def test_cdist_is_the_p_norm_of_each_difference_symmetric_with_a_zero_diagonal(case, seed):
    x1, x2, p = case
    (d,), grads, ups = run_both(lambda a, b: tn.cdist(a, b, p), [x1, x2], seed, rtol=1e-5)
    diff = x1.astype(np.float64)[..., :, None, :] - x2.astype(np.float64)[..., None, :, :]
    want = p_norm(diff, p, -1)
    assert d.dtype == x1.dtype and d.shape == want.shape
    close(d, want, x1.dtype, x1.shape[-1] + 2, f"cdist p={p}")
    back = tn.cdist(tn.tensor(x2), tn.tensor(x1), p).numpy()
    np.testing.assert_array_equal(np.swapaxes(back, -1, -2), d, "d(x2, x1) = d(x1, x2)^T")
    same = tn.cdist(tn.tensor(x1), tn.tensor(x1), p).numpy()
    assert not np.diagonal(same, axis1=-2, axis2=-1).any(), "d(x, x) = 0"
    if p >= 1 and x1.shape[-2] and x2.shape[-2]:   # d(a, c) <= d(a, b) + d(b, c), with b = x2's first row
        b = x2[..., :1, :]
        via = tn.cdist(tn.tensor(x1), tn.tensor(b), p).numpy() + tn.cdist(tn.tensor(b), tn.tensor(x2), p).numpy()
        assert (d <= via * (1 + 1e-5) + 1e-30).all()

