"""Hypothesis properties of PyTorch's further math (tinynn/ops/math_more.py, inplace_more.py, math_extras/),
from their definitions: addcmul = a + v b c and addcdiv = a + v b / c; fmax/fmin are max/min away from NaN
and the other operand at one; gcd lcm = |a b| with gcd dividing both; the histogram counts add up to the
number of elements in range; cov is symmetric positive semi-definite with the variances on its diagonal,
corrcoef has 1 there and lies in [-1, 1]; the trapezoidal rule is exact for linear functions; diff sums back
to the ends' difference; mode's value occurs at least as often as any other; isin is "equals some test
element"; an in-place op leaves what its out-of-place op returns. Small integer values in float64 make the
sums exact. Both backends (helpers.properties.run_both) where the op has a gradient."""
import numpy as np
from hypothesis import given, settings, strategies as st

import tinynn as tn

from helpers.properties import arrays, assert_same, run_both, shapes

F64 = (np.dtype(np.float64),)
FEW = settings(max_examples=25, deadline=None)


@st.composite
def broadcastable(draw, n, dtypes=F64, kinds=("ties",)):
    """n arrays of one dtype whose shapes broadcast together (each a suffix of one shape, with some sides 1)."""
    shape = draw(shapes(max_side=4))
    out = []
    for _ in range(n):
        own = tuple(1 if draw(st.booleans()) else s for s in shape)[draw(st.integers(0, len(shape))):]
        out.append(draw(arrays(dtypes=dtypes, shape=own, kinds=kinds)))
    return out


@FEW
@given(broadcastable(3), st.sampled_from([1, -2, 0.5, 3]), st.integers(0, 2**16))
def test_addcmul_and_addcdiv_are_their_formulas(abc, value, seed):
    a, b, c = abc
    (r,), grads, ups = run_both(lambda x, y, z: tn.addcmul(x, y, z, value=value), [a, b, c], seed)
    assert_same(r, a + value * b * c, "addcmul = a + v b c")   # exact: small integers and halves
    c = np.where(c == 0, 2.0, c)
    (q,), _, _ = run_both(lambda x, y, z: tn.addcdiv(x, y, z, value=value), [a, b, c], seed)
    np.testing.assert_allclose(q, a + (value * b) / c, rtol=1e-15, atol=0)


@FEW
@given(broadcastable(2, kinds=("ties", "special")))
def test_fmax_and_fmin_are_max_and_min_away_from_nan(ab):
    a, b = ab
    hi, lo = tn.fmax(tn.tensor(a), tn.tensor(b)).numpy(), tn.fmin(tn.tensor(a), tn.tensor(b)).numpy()
    A, B = np.broadcast_arrays(a, b)
    both = ~np.isnan(A) & ~np.isnan(B)
    assert_same(hi[both], np.maximum(A, B)[both])
    assert_same(lo[both], np.minimum(A, B)[both])
    only_b, only_a = np.isnan(A) & ~np.isnan(B), ~np.isnan(A) & np.isnan(B)
    assert_same(hi[only_b], B[only_b])
    assert_same(lo[only_b], B[only_b])
    assert_same(hi[only_a], A[only_a])
    assert np.isnan(hi[np.isnan(A) & np.isnan(B)]).all()


@FEW
@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6)), min_size=1, max_size=20))
def test_gcd_times_lcm_is_the_absolute_product_and_gcd_divides_both(pairs):
    a, b = (tn.tensor([p[k] for p in pairs]) for k in (0, 1))
    g, m = tn.gcd(a, b).numpy(), tn.lcm(a, b).numpy()
    A, B = a.numpy(), b.numpy()
    assert (g >= 0).all() and (g * m == np.abs(A * B)).all()
    nonzero = g != 0
    assert (A[nonzero] % g[nonzero] == 0).all() and (B[nonzero] % g[nonzero] == 0).all()
    assert ((g == 0) == ((A == 0) & (B == 0))).all()


@FEW
@given(arrays(dtypes=F64, kinds=("normal", "special"), min_dims=1), st.integers(1, 12),
       st.tuples(st.floats(-3, 0), st.floats(0.1, 3)))
def test_histogram_counts_add_up_to_the_elements_in_range(x, bins, bounds):
    low, high = bounds
    inside = int(((x >= low) & (x <= high)).sum())       # NaN and the infinities are outside
    hist, edges = tn.histogram(tn.tensor(x), bins, range=(low, high))
    assert hist.sum().item() == inside and hist.shape == (bins,) and edges.shape == (bins + 1,)
    assert (np.diff(edges.numpy()) > 0).all() and edges.numpy()[0] == low and edges.numpy()[-1] == high
    assert tn.histc(tn.tensor(x), bins, low, high).sum().item() == inside


@FEW
@given(st.integers(1, 4), st.integers(2, 7), st.integers(0, 2**16))
def test_cov_is_symmetric_psd_with_the_variances_on_its_diagonal_and_corrcoef_is_bounded(variables, n, seed):
    x = np.random.default_rng(seed).integers(-3, 4, (variables, n)).astype(np.float64)
    (c,), _, _ = run_both(lambda t: tn.cov(t), [x], seed)
    c = np.atleast_2d(c)
    np.testing.assert_allclose(c, c.T, rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(c).min() >= -1e-9 * max(1.0, np.abs(c).max())
    np.testing.assert_allclose(np.diag(c), x.var(axis=1, ddof=1), rtol=1e-12, atol=1e-12)
    r = np.atleast_2d(tn.corrcoef(tn.tensor(x)).numpy())
    varying = x.std(axis=1) > 0
    np.testing.assert_allclose(np.diag(r)[varying], 1.0, rtol=1e-12)
    finite = r[np.isfinite(r)]
    assert ((finite >= -1) & (finite <= 1)).all()


@FEW
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=12, unique=True), st.integers(-5, 5), st.integers(-5, 5))
def test_the_trapezoidal_rule_is_exact_for_linear_functions(points, slope, intercept):
    x = np.sort(np.asarray(points, np.float64))
    y = slope * x + intercept
    exact = slope / 2 * (x[-1] ** 2 - x[0] ** 2) + intercept * (x[-1] - x[0])   # int of m x + c from x_0 to x_n
    assert tn.trapezoid(tn.tensor(y), tn.tensor(x)).item() == exact
    running = tn.cumulative_trapezoid(tn.tensor(y), tn.tensor(x)).numpy()
    assert_same(running, slope / 2 * (x[1:] ** 2 - x[0] ** 2) + intercept * (x[1:] - x[0]))
    end = (len(points) - 1) * 0.5                                                # m t + c at t = 0, 1/2, ..., end
    grid = intercept + slope * 0.5 * np.arange(len(points), dtype=np.float64)
    assert tn.trapezoid(tn.tensor(grid), dx=0.5).item() == slope / 2 * end ** 2 + intercept * end


@FEW
@given(arrays(dtypes=F64, kinds=("ties",), min_dims=1, min_side=1))
def test_diff_sums_back_to_the_difference_of_the_ends(x):
    d = tn.diff(tn.tensor(x)).numpy()
    assert d.shape == x.shape[:-1] + (x.shape[-1] - 1,)
    assert_same(d.sum(-1), x[..., -1] - x[..., 0])


@FEW
@given(arrays(dtypes=(np.dtype(np.int64), np.dtype(np.float64)), kinds=("ties",), min_dims=1, min_side=1))
def test_mode_is_a_most_frequent_value_at_its_index(x):
    values, indices = tn.mode(tn.tensor(x), -1)
    flat, vals, idx = x.reshape(-1, x.shape[-1]), values.numpy().reshape(-1), indices.numpy().reshape(-1)
    for row, v, i in zip(flat, vals, idx):
        counts = {u: int((row == u).sum()) for u in row}
        assert row[i] == v and counts[v] == max(counts.values())
        assert v == min(u for u, k in counts.items() if k == counts[v])        # the smallest of the most frequent
        assert i == np.flatnonzero(row == v)[-1]                               # its last index


@FEW
@given(arrays(dtypes=(np.dtype(np.int64),), kinds=("ties",)), arrays(dtypes=(np.dtype(np.int64),), kinds=("ties",)),
       st.booleans())
def test_isin_is_equality_with_some_test_element(elements, tests, invert):
    got = tn.isin(tn.tensor(elements), tn.tensor(tests), invert=invert).numpy()
    want = (elements[..., None] == tests.reshape(-1)).any(-1) if tests.size else np.zeros(elements.shape, bool)
    assert_same(got, want != invert)


INPLACE = {  # name -> (arguments, needs a positive input)
    "sin": ((), False), "atanh": ((), False), "log2": ((), True), "rsqrt": ((), True), "square": ((), False),
    "atan2": ((1.5,), False), "fmod": ((0.75,), False), "lerp": (("other", 0.25), False),
    "addcmul": (("other", "other"), False), "clamp_min": ((0.25,), False), "ge": (("other",), False),
    "logical_xor": (("other",), False), "cumsum": ((-1,), False), "triu": ((0,), False),
}


@FEW
@given(arrays(dtypes=F64, kinds=("normal",), min_dims=2), st.sampled_from(sorted(INPLACE)), st.integers(0, 2**16))
def test_an_inplace_op_leaves_what_its_out_of_place_op_returns(x, name, seed):
    args, positive = INPLACE[name]
    x = np.abs(x) + 0.5 if positive else 0.9 * np.tanh(x) if name == "atanh" else x
    other = np.random.default_rng(seed).normal(size=x.shape)
    call = [tn.tensor(other) if a == "other" else a for a in args]
    expected = getattr(tn.tensor(x), name)(*call).numpy()

    def inplace(t):
        return getattr(t * 1.0, name + "_")(*call)
    (got,), grads, ups = run_both(inplace, [x], seed)
    assert_same(got, expected.astype(x.dtype))
    if grads and name in ("sin", "square", "clamp_min", "ge"):   # through the node x had before
        derivative = {"sin": np.cos(x), "square": 2 * x, "clamp_min": (x >= 0.25).astype(float), "ge": 0 * x}[name]
        np.testing.assert_allclose(grads[0], ups[0] * derivative, rtol=1e-12, atol=0)
