"""Hypothesis properties of sorting, order statistics, running extrema, counting and searching: sort,
argsort, topk, median, kthvalue, quantile/nanquantile, cummax/cummin, logcumsumexp, unique, bincount,
searchsorted/bucketize. Each expected value is a definition written out here (an order NaN-aware as
PyTorch's: NaN after every number, NaNs equal to each other), never the code under test: sort returns
a stable, non-decreasing permutation of its input; the k-th value has fewer than k elements below it
and at least k at or below it; quantile's lower/higher/nearest are elements at positions floor/ceil/round
of q (n - 1) (PyTorch's documented definition), linear lies between them... On drawn shapes (0-3 dims,
empty), dtypes, memory layouts and values with many ties, NaN and infinities, on both backends
(helpers.properties.run_both: equal results, and no write to the inputs or the upstream gradient)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, INTS, arrays, assert_same, run_both

ORDERED = FLOATS + INTS + (np.dtype(np.bool_),)


def less(a, b):
    """a < b in PyTorch's sort order (NaN after every number)."""
    with np.errstate(invalid="ignore"):
        if np.asarray(a).dtype.kind != "f":
            return np.asarray(a) < np.asarray(b)
        return (a < b) | (~np.isnan(a) & np.isnan(b))


def equal(a, b):
    with np.errstate(invalid="ignore"):
        same = np.asarray(a) == np.asarray(b)
        return same | (np.isnan(a) & np.isnan(b)) if np.asarray(a).dtype.kind == "f" else same


def along(x, dim):
    """x with dim moved last (a 0-d x as a 1-element row)."""
    x = np.asarray(x)
    return np.moveaxis(x.reshape(1) if x.ndim == 0 else x, dim if x.ndim else 0, -1)


@st.composite
def with_dim(draw, **kw):
    x = draw(arrays(**kw))
    return x, draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))


# ---------------------------------------------------------------- sort, argsort, topk
@given(with_dim(dtypes=ORDERED), st.booleans(), st.integers(0, 2**16))
def test_sort_is_a_stable_ordered_permutation_and_its_gradient_follows_the_indices(case, descending, seed):
    x, dim = case
    (values, indices), grads, ups = run_both(lambda t: tn.sort(t, dim, descending), [x], seed)
    assert values.dtype == x.dtype and indices.dtype == np.int64 and values.shape == indices.shape == x.shape
    v, i, xs = along(values, dim), along(indices, dim), along(x, dim)
    assert_same(np.sort(i, axis=-1), np.broadcast_to(np.arange(xs.shape[-1]), i.shape), "a permutation")
    assert_same(np.take_along_axis(xs, i, -1), v, "values = x gathered at indices")
    first, second = (v[..., 1:], v[..., :-1]) if descending else (v[..., :-1], v[..., 1:])
    assert not less(second, first).any(), "ordered"
    tie = equal(v[..., :-1], v[..., 1:])
    assert (i[..., :-1][tie] < i[..., 1:][tie]).all(), "stable: equal values keep their input order"
    assert_same(tn.argsort(tn.tensor(x), dim, descending).numpy(), indices, "argsort = sort's indices")
    if grads:
        expected = np.zeros(xs.shape, x.dtype)
        np.put_along_axis(expected, i, along(ups[0], dim), -1)
        assert_same(grads[0], np.moveaxis(expected, -1, dim if x.ndim else 0).reshape(x.shape), "gradient")


@given(with_dim(dtypes=FLOATS + INTS), st.data(), st.booleans(), st.integers(0, 2**16))
def test_topk_takes_k_elements_in_order_and_none_left_out_beats_them(case, data, largest, seed):
    x, dim = case
    n = along(x, dim).shape[-1]
    k = data.draw(st.integers(0 if x.ndim else 1, n))   # (a 0-d tensor's topk(0) is itself in PyTorch too)
    (values, indices), grads, ups = run_both(lambda t: tn.topk(t, k, dim, largest), [x], seed)
    xs, v, i = along(x, dim), along(values, dim), along(indices, dim)
    assert values.dtype == x.dtype and indices.dtype == np.int64 and v.shape == xs.shape[:-1] + (k,)
    assert_same(np.take_along_axis(xs, i, -1), v, "values = x at indices")
    assert all(len(set(row)) == k for row in i.reshape(-1, k)) if i.size else True, "distinct indices"
    better = (lambda a, b: less(b, a)) if largest else less
    assert not better(v[..., 1:], v[..., :-1]).any(), "best first"
    if k and n > k:
        left = np.ones(xs.shape, bool)
        np.put_along_axis(left, i, False, -1)
        worst = v[..., -1:]
        assert not (better(xs, worst) & left).any(), "no element left out beats a chosen one"
    if grads:
        expected = np.zeros(xs.shape, x.dtype)
        np.put_along_axis(expected, i, along(ups[0], dim), -1)
        assert_same(along(grads[0], dim), expected, "gradient")


# ---------------------------------------------------------------- kthvalue, median
def assert_kth(xs, values, indices, k):
    """values is the k-th smallest of each row of xs (at least k elements at or below it, fewer than k
    strictly below), and indices point at it."""
    assert_same(np.take_along_axis(xs, indices[..., None], -1)[..., 0], values, "x at the index")
    below = less(xs, values[..., None]).sum(-1)
    at_or_below = below + equal(xs, values[..., None]).sum(-1)
    assert (below < k).all() and (at_or_below >= k).all(), f"not the {k}-th smallest"


@given(with_dim(dtypes=FLOATS + INTS, min_side=1), st.data(), st.booleans(), st.integers(0, 2**16))
def test_kthvalue_is_the_kth_smallest_and_median_the_lower_one(case, data, keepdim, seed):
    x, dim = case
    xs = along(x, dim)
    n = xs.shape[-1]
    k = data.draw(st.integers(1, n))
    (values, indices), grads, ups = run_both(lambda t: tn.kthvalue(t, k, dim, keepdim), [x], seed)
    assert values.dtype == x.dtype and indices.dtype == np.int64
    assert values.shape == (tuple(1 if d == dim % max(x.ndim, 1) else s for d, s in enumerate(x.shape)) if keepdim
                            else xs.shape[:-1])
    v, i = values.reshape(xs.shape[:-1]), indices.reshape(xs.shape[:-1])
    assert_kth(xs, v, i, k)
    if grads:
        expected = np.zeros(xs.shape, x.dtype)
        np.put_along_axis(expected, i[..., None], ups[0].reshape(xs.shape[:-1])[..., None], -1)
        assert_same(along(grads[0], dim), expected, "gradient")
    (mv, mi), _, _ = run_both(lambda t: tn.median(t, dim), [x], seed)
    nan = np.isnan(xs).any(-1) if x.dtype.kind == "f" else np.zeros(xs.shape[:-1], bool)
    assert_kth(xs[~nan], mv[~nan], mi[~nan], (n + 1) // 2)   # PyTorch's median: the lower one
    assert np.isnan(mv[nan]).all() and np.isnan(np.take_along_axis(xs, mi[..., None], -1)[..., 0][nan]).all()


@given(arrays(dtypes=FLOATS + INTS, min_dims=1), st.integers(0, 2**16))
def test_median_of_everything_shares_its_gradient_among_the_elements_equal_to_it(x, seed):
    assume(x.size)
    (m,), grads, ups = run_both(lambda t: tn.median(t), [x], seed)
    flat = x.reshape(-1)
    if x.dtype.kind == "f" and np.isnan(flat).any():
        assert np.isnan(m)
        return
    k = (flat.size + 1) // 2
    assert (less(flat, m).sum() < k) and (less(flat, m) | equal(flat, m)).sum() >= k and m.dtype == x.dtype
    if grads:   # PyTorch's evenly_distribute_backward: g / (how many equal m) at each of them
        hit = flat == m   # (within an ulp: Max's backward multiplies g by 1 / k where PyTorch divides g by k)
        np.testing.assert_allclose(grads[0].reshape(-1), np.where(hit, ups[0] / hit.sum(), 0).astype(x.dtype),
                                   rtol=2 * np.finfo(x.dtype).eps, atol=0, err_msg="shared gradient")


# ---------------------------------------------------------------- quantile
LEVELS = st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.3, 1 / 3, 0.5, 0.7, 0.75, 0.9, 1.0]), min_size=1, max_size=4)
MODES = ("linear", "lower", "higher", "midpoint", "nearest")


@given(with_dim(dtypes=FLOATS, min_side=1, min_dims=1, kinds=("ties", "normal")), LEVELS, st.integers(0, 2**16))
def test_quantile_is_between_the_order_statistics_of_its_position_and_monotone_in_q(case, levels, seed):
    x, dim = case
    qs = sorted(levels)
    levels = tn.tensor(qs, dtype=x.dtype)
    out = {m: tn.quantile(tn.tensor(x), levels, dim, interpolation=m).numpy() for m in MODES[1:]}
    out["linear"] = run_both(lambda t: tn.quantile(t, levels, dim), [x], seed)[0][0]   # (both backends: linear)
    xs = along(x, dim)
    n, eps = xs.shape[-1], np.finfo(x.dtype).eps
    scale = np.abs(xs).max(-1)
    for j, q in enumerate(qs):
        pos = x.dtype.type(q) * x.dtype.type(n - 1)   # PyTorch: position q (n - 1), in the input's dtype
        lo, hi = math.floor(pos), math.ceil(pos)
        for mode, k in (("lower", lo), ("higher", hi), ("nearest", round(pos))):   # round: half to even
            value = out[mode][j]
            assert value.dtype == x.dtype and value.shape == xs.shape[:-1]
            assert_kth(xs, value, np.argmax(equal(xs, value[..., None]), -1), k + 1)
        low, high, linear = out["lower"][j], out["higher"][j], out["linear"][j]
        slack = 4 * eps * scale
        assert (linear >= low - slack).all() and (linear <= high + slack).all()
        np.testing.assert_allclose(linear, low + (high - low) * (float(pos) - lo), rtol=0, atol=4 * eps * scale.max())
        np.testing.assert_allclose(out["midpoint"][j], (low + high) / 2, rtol=0, atol=2 * eps * scale.max())
        if q in (0.0, 1.0):   # exactly the min and the max, every interpolation
            for mode in MODES:
                assert_same(out[mode][j], (xs.min if q == 0 else xs.max)(-1), f"quantile({q}, {mode})")
    for mode in MODES:
        step = np.diff(out[mode], axis=0)
        assert (step >= -(4 * eps * scale if mode in ("linear", "midpoint") else 0)).all(), f"{mode} monotone in q"


@given(arrays(dtypes=FLOATS, min_dims=1, max_dims=1, min_side=1, kinds=("special",)), st.sampled_from(MODES),
       st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_quantile_is_nan_with_a_nan_and_nanquantile_is_the_quantile_of_the_rest(x, mode, q):
    with np.errstate(invalid="ignore"):   # (inf - inf in linear and midpoint)
        got = tn.quantile(tn.tensor(x), q, interpolation=mode).item()
        nanq = tn.nanquantile(tn.tensor(x), q, interpolation=mode).item()
    finite_part = x[~np.isnan(x)]
    if len(finite_part) < len(x):
        assert math.isnan(got)
    if not len(finite_part):
        assert math.isnan(nanq)
    else:
        with np.errstate(invalid="ignore"):
            assert_same(nanq, tn.quantile(tn.tensor(finite_part), q, interpolation=mode).item(), "nanquantile")
    if mode in ("lower", "higher", "nearest") and len(finite_part) == len(x):   # an element, infinite or not
        assert got in x


def test_quantile_keeps_infinite_elements_and_interpolates_with_pytorchs_lerp():
    """Regression (found by the properties above): lower/higher/nearest computed x_lo + (x_hi - x_lo) w,
    so an infinite neighbour made NaN (inf - inf, or inf * 0) where PyTorch returns the element itself,
    and "higher" was not exactly x_hi even for finite values; linear and midpoint now interpolate with
    torch.lerp's formula (x_lo + w (x_hi - x_lo) for w < 1/2, else x_hi - (x_hi - x_lo)(1 - w)), as PyTorch's."""
    with np.errstate(invalid="ignore"):   # (inf - inf: NumPy warns)
        inf, nan = math.inf, math.nan
        t = tn.tensor([1.0, inf], dtype=tn.float64)
        assert [tn.quantile(t, q, interpolation="lower").item() for q in (0.3, 0.5, 1.0)] == [1.0, 1.0, inf]
        assert tn.quantile(tn.tensor([-inf, 1.0]), 0.5, interpolation="higher").item() == 1.0
        assert tn.quantile(tn.tensor([-inf, inf]), 0.5, interpolation="nearest").item() == -inf   # 0.5 rounds to 0
        # lerp(1, inf, 0.3) = 1 + 0.3 inf = inf; lerp(1, inf, 0.5) = inf - (inf - 1) 0.5 = NaN
        assert tn.quantile(t, 0.3).item() == inf and math.isnan(tn.quantile(t, 0.5).item())
        assert tn.quantile(tn.tensor([-inf, 1.0]), 0.5).item() == -inf   # 1 - (1 + inf) 0.5
        x = np.random.default_rng(3).standard_normal(3)
        assert tn.quantile(tn.tensor(x), 0.001, interpolation="higher").item() == np.sort(x)[1]
        assert math.isnan(tn.quantile(tn.tensor([1.0, nan]), 0.0, interpolation="lower").item())


# ---------------------------------------------------------------- running extrema, logcumsumexp
@given(with_dim(dtypes=ORDERED), st.booleans(), st.integers(0, 2**16))
def test_cummax_and_cummin_are_the_running_extremum_and_where_it_was_last_reached(case, largest, seed):
    x, dim = case
    (values, indices), grads, ups = run_both(lambda t: (tn.cummax if largest else tn.cummin)(t, dim), [x], seed)
    assert values.dtype == x.dtype and indices.dtype == np.int64 and values.shape == x.shape
    xs, v, i = along(x, dim), along(values, dim), along(indices, dim)
    nan = np.isnan if x.dtype.kind == "f" else (lambda a: False)
    expected_v, expected_i = np.empty_like(xs), np.empty(xs.shape, np.int64)
    for row in np.ndindex(*xs.shape[:-1]):
        best, at = None, 0
        for j, value in enumerate(xs[row]):   # a NaN wins from where it occurs; ties move the index on
            if best is None or nan(value) or (not nan(best) and (value >= best if largest else value <= best)):
                best, at = value, j
            expected_v[row + (j,)], expected_i[row + (j,)] = best, at
    assert_same(v, expected_v, "running extremum")
    assert_same(i, expected_i, "its last place")
    if grads:
        expected = np.zeros(xs.shape, x.dtype)
        for row in np.ndindex(*xs.shape[:-1]):
            np.add.at(expected[row], i[row], along(ups[0], dim)[row])
        assert_same(along(grads[0], dim), expected, "gradient")


@given(with_dim(dtypes=(np.float64,), kinds=("normal",)), st.sampled_from([0.0, 1e3, -1e3, 1e300]),
       st.integers(0, 2**16))
def test_logcumsumexp_is_log_of_cumsum_of_exp_and_stays_finite_for_large_values(case, shift, seed):
    x, dim = case
    (y,), grads, ups = run_both(lambda t: tn.logcumsumexp(t, dim), [x], seed, rtol=1e-13)
    xs, ys = along(x, dim), along(y, dim)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(ys, np.log(np.cumsum(np.exp(xs), -1)), rtol=1e-13, atol=1e-13)
    # dy_i/dx_j = exp(x_j - y_i) for j <= i: the softmax of x_0..x_i
    n = xs.shape[-1]
    rows = xs.shape[:-1]
    exponent = np.minimum(xs.reshape(rows + (1, n)) - ys.reshape(rows + (n, 1)), 0)
    pairs = np.where(np.tri(n, dtype=bool), np.exp(exponent), 0)
    expected = (pairs * along(ups[0], dim).reshape(rows + (n, 1))).sum(-2)
    np.testing.assert_allclose(along(grads[0], dim), expected, rtol=1e-12, atol=1e-12)
    big = tn.logcumsumexp(tn.tensor(x + shift), dim).numpy()   # log sum e^(x + c) = c + log sum e^x
    assert np.isfinite(big).all()
    np.testing.assert_allclose(big, y + shift, rtol=4e-16 * 4, atol=1e-12 * (1 + abs(shift)))


def test_logcumsumexp_of_minus_infinity_is_minus_infinity():
    y = tn.logcumsumexp(tn.tensor([-math.inf, -math.inf, 0.0, -math.inf], dtype=tn.float64), 0).numpy()
    assert y.tolist() == [-math.inf, -math.inf, 0.0, 0.0]


# ---------------------------------------------------------------- unique, bincount, searchsorted
@given(arrays(dtypes=FLOATS + INTS + (np.dtype(np.bool_),), kinds=("ties", "special")), st.data())
def test_unique_is_sorted_and_distinct_and_its_inverse_and_counts_rebuild_the_input(x, data):
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    if dim is not None:   # (slices holding a NaN: each NaN is distinct, so no slice equals another)
        assume(x.size and not (x.dtype.kind == "f" and np.isnan(x).any()))
    values, inverse, counts = run_both(lambda t: tn.unique(t, return_inverse=True, return_counts=True, dim=dim), [x])[0]
    assert values.dtype == x.dtype and inverse.dtype == counts.dtype == np.int64
    if dim is None:
        assert inverse.shape == x.shape and values.ndim == 1 and counts.shape == values.shape
        assert_same(values[inverse], x, "values[inverse] = x")
        assert not less(values[1:], values[:-1]).any(), "sorted"
        assert not (values[1:] == values[:-1]).any(), "distinct (each NaN its own)"
        nan = np.isnan if x.dtype.kind == "f" else (lambda v: False)
        assert [1 if nan(v) else int(equal(x, v).sum()) for v in values] == counts.tolist()
    else:
        rows, rebuilt = np.moveaxis(values, dim, 0), np.moveaxis(x, dim, 0)
        assert_same(rows[inverse], rebuilt, "values[inverse] = x along dim")
        keys = [tuple(r.reshape(-1).tolist()) for r in rows]
        assert keys == sorted(set(keys)), "slices sorted (lexicographically) and distinct"
        assert counts.tolist() == [sum(tuple(r.reshape(-1).tolist()) == key for r in rebuilt) for key in keys]
    assert counts.sum() == (x.size if dim is None else x.shape[dim])


@given(arrays(dtypes=INTS, min_dims=1, max_dims=1, max_side=12).map(np.abs), st.integers(0, 8),
       st.sampled_from([None, np.float32, np.float64, np.int64]), st.integers(0, 2**16))
def test_bincount_counts_each_value_and_sums_the_weights_of_its_elements(x, minlength, weight_dtype, seed):
    w = None if weight_dtype is None else np.random.default_rng(seed).integers(-3, 4, x.shape).astype(weight_dtype)
    (c,), _, _ = run_both(lambda t, *ws: tn.bincount(t, *ws, minlength=minlength), [x] + ([] if w is None else [w]),
                          grad=[False, False])
    assert c.shape == (max(int(x.max()) + 1 if x.size else 0, minlength),)
    expected_dtype = np.int64 if w is None else np.dtype(weight_dtype) if w.dtype.kind == "f" else np.float64
    assert c.dtype == expected_dtype
    assert_same(c, np.array([(x == b).sum() if w is None else w[x == b].sum() for b in range(len(c))], expected_dtype))
    if w is None:
        assert c.sum() == x.size


@st.composite
def sorted_rows(draw):
    seq = np.sort(draw(arrays(dtypes=FLOATS + INTS, kinds=("ties",), min_dims=1, max_dims=2)), axis=-1)
    values = draw(arrays(dtypes=(seq.dtype,), kinds=("ties",), shape=shapes_like(seq, draw)))
    return seq, values


def shapes_like(seq, draw):
    """Values' shape: the sequence's leading dims and any last one (any shape for a 1-D sequence)."""
    if seq.ndim == 1:
        return draw(st.lists(st.integers(0, 4), max_size=2).map(tuple))
    return seq.shape[:-1] + (draw(st.integers(0, 4)),)


@given(sorted_rows(), st.booleans(), st.booleans())
def test_searchsorted_finds_the_place_that_keeps_each_row_sorted(case, right, out_int32):
    seq, values = case
    (index,), _, _ = run_both(lambda s, v: tn.searchsorted(s, v, right=right, out_int32=out_int32), [seq, values],
                              grad=[False, False])
    assert index.dtype == (np.int32 if out_int32 else np.int64) and index.shape == values.shape
    for place in np.ndindex(*values.shape):
        row = seq if seq.ndim == 1 else seq[place[:-1]]
        v, i = values[place], int(index[place])
        before, after = row[:i], row[i:]
        # left: s[i-1] < v <= s[i];  right: s[i-1] <= v < s[i]
        assert ((before <= v) if right else (before < v)).all() and ((after > v) if right else (after >= v)).all()
    shuffle = np.random.default_rng(0).permutation(seq.shape[-1])
    sorter = np.argsort(seq[..., shuffle], axis=-1, kind="stable")
    with_sorter = tn.searchsorted(tn.tensor(seq[..., shuffle]), tn.tensor(values), right=right, sorter=tn.tensor(sorter))
    assert_same(with_sorter.numpy(), index.astype(np.int64), "the same through sorter")
    if seq.ndim == 1:
        assert_same(tn.bucketize(tn.tensor(values), tn.tensor(seq), right=right).numpy(), index.astype(np.int64))


RESULTS = {"sort": lambda t: tn.sort(t), "topk": lambda t: tn.topk(t, 1), "median": lambda t: tn.median(t, 0),
           "kthvalue": lambda t: tn.kthvalue(t, 1), "cummax": lambda t: tn.cummax(t, 0),
           "cummin": lambda t: tn.cummin(t, 0),
           "unique": lambda t: tn.unique(t, return_inverse=True, return_counts=True)}


@pytest.mark.parametrize("name", sorted(RESULTS))
@pytest.mark.parametrize("dtype", [tn.int8, tn.int32, tn.int64, tn.uint8, tn.float32, tn.float64])
def test_values_keep_the_input_dtype_and_indices_are_int64(name, dtype):
    values, *indices = RESULTS[name](tn.tensor([2, 0, 1], dtype=dtype))
    assert values.dtype == dtype and all(i.dtype == np.int64 for i in indices)
    assert tn.argsort(tn.tensor([2, 0, 1], dtype=dtype)).dtype == np.int64


@pytest.mark.parametrize("op, error", [(lambda t: t.mean(), TypeError), (lambda t: tn.nanmean(t), TypeError),
                                       (lambda t: tn.quantile(t, 0.5), RuntimeError),
                                       (lambda t: tn.logcumsumexp(t, 0), NotImplementedError),
                                       (lambda t: tn.kthvalue(t > 0, 1), TypeError),
                                       (lambda t: tn.median(t > 0), TypeError),
                                       (lambda t: tn.bincount(t > 0), RuntimeError)])
def test_integer_and_bool_inputs_refused_as_in_pytorch(op, error):
    with pytest.raises(error):
        op(tn.tensor([2, 0, 1]))


def test_median_of_everything_at_minus_infinity_gives_the_whole_gradient_to_those_elements():
    """Regression (found by the property above): median() took max(where(x == m, x, -inf)), so at
    m = -inf the filled places tied with the median and kept half of the gradient."""
    x = tn.tensor([0.0, -math.inf, -math.inf, -3.0], requires_grad=True)
    tn.median(x).backward(tn.tensor(2.0))
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_cummax_of_a_zero_dim_bool_keeps_bool():
    """Regression (found by the property above): a 0-d input came back as x * 1, an int64 for a bool."""
    for op in (tn.cummax, tn.cummin):
        values, indices = op(tn.tensor(False), 0)
        assert values.dtype == np.bool_ and values.item() is False and indices.dtype == np.int64
