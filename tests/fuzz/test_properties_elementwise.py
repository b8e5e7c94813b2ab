"""Hypothesis properties of fmod, frac, lerp, nansum and nanmean, from their definitions: fmod(x, y) =
x - trunc(x / y) y carries x's sign and |fmod| < |y| (exact on integer-valued float64 and on ints); frac(x)
+ trunc(x) = x with |frac| < 1; lerp gives its endpoints exactly at weights 0 and 1 and lies within a few
ulps of start + w (end - start); nansum is the sum with the NaNs read as 0, nanmean that over the count of
the rest. Gradients against the derivatives of those formulas; both backends (helpers.properties.run_both)."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, arrays, assert_same, run_both, shapes

SIGNED_INTS = (np.dtype(np.int8), np.dtype(np.int32), np.dtype(np.int64))


@st.composite
def pairs(draw, dtypes, kinds=("ties",), **kw):
    """Two arrays of broadcastable shapes and one dtype."""
    shape = draw(shapes(**kw))
    other = tuple(1 if draw(st.booleans()) else n for n in shape)[draw(st.integers(0, len(shape))):]
    dtype = draw(st.sampled_from(dtypes))
    a = draw(arrays(dtypes=(dtype,), shape=shape, kinds=kinds))
    b = draw(arrays(dtypes=(dtype,), shape=other, kinds=kinds))
    return (b, a) if draw(st.booleans()) else (a, b)


@given(pairs((np.dtype(np.float64),) + SIGNED_INTS, kinds=("ties", "special")), st.integers(0, 2**16))
def test_fmod_has_the_dividends_sign_is_below_the_divisor_and_rebuilds_the_dividend(ab, seed):
    a, b = ab
    b = np.where(b == 0, 1, b).astype(b.dtype) if b.dtype.kind == "i" else b   # integer division by 0 raises
    a = np.asarray(a * 37, a.dtype) if a.dtype.kind == "f" else a
    (r,), grads, ups = run_both(lambda x, y: tn.fmod(x, y), [a, b], seed)
    assert r.dtype == a.dtype and r.shape == np.broadcast_shapes(a.shape, b.shape)
    A, B = np.broadcast_to(a, r.shape).astype(np.float64), np.broadcast_to(b, r.shape).astype(np.float64)
    ok = (B != 0) & np.isfinite(A) & np.isfinite(B)
    quotient = np.trunc(A[ok] / B[ok])   # exact: |a| <= 111 and b a small integer
    assert_same(quotient * B[ok] + r[ok], A[ok], "a = trunc(a / b) b + fmod(a, b)")
    assert ((np.sign(r[ok]) == np.sign(A[ok])) | (r[ok] == 0)).all() and (np.abs(r[ok]) < np.abs(B[ok])).all()
    # C's fmod: NaN for b = 0, an infinite a or a NaN; a itself for a finite a and an infinite b
    assert np.isnan(r[(B == 0) | np.isinf(A) | np.isnan(A) | np.isnan(B)]).all()
    finite_a = np.isinf(B) & np.isfinite(A)
    assert_same(r[finite_a].astype(np.float64), A[finite_a], "fmod(a, inf) = a")
    if grads and ok.all():   # d/da = 1, d/db = -trunc(a / b), each summed over broadcast copies
        assert_same(grads[0], _unbroadcast(ups[0] * 1.0, a.shape), "d/da")
        assert_same(grads[1], _unbroadcast(-np.trunc(A / B) * ups[0], b.shape), "d/db")


def _unbroadcast(g, shape):
    """g summed down to `shape` (over the dims broadcasting added or stretched)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    return g.sum(axis=tuple(d for d, n in enumerate(shape) if n == 1 and g.shape[d] != 1), keepdims=True).reshape(shape)


@given(arrays(dtypes=FLOATS, kinds=("normal", "special")), st.integers(0, 2**16))
def test_frac_plus_trunc_is_x_and_frac_is_below_one_with_the_sign_of_x(x, seed):
    (f,), grads, ups = run_both(lambda t: tn.frac(t), [x], seed)
    assert f.dtype == x.dtype
    finite = np.isfinite(x)
    assert_same(f[finite] + np.trunc(x[finite]), x[finite], "frac + trunc = x")
    assert (np.abs(f[finite]) < 1).all() and ((np.sign(f[finite]) == np.sign(x[finite])) | (f[finite] == 0)).all()
    assert np.isnan(f[~finite]).all(), "frac(+-inf) = inf - inf = NaN, as in PyTorch"
    if grads:
        assert_same(grads[0], ups[0], "d frac / dx = 1")


@given(pairs(FLOATS, kinds=("normal", "ties")),
       st.sampled_from(["tensor", 0.0, 1.0, 0.25, 0.5, 0.75, -0.5, 1.5, "tensor"]),
       st.integers(0, 2**16))
def test_lerp_gives_its_endpoints_and_start_plus_w_times_the_difference_between(ab, w, seed):
    start, end = ab
    weight = np.random.default_rng(seed).uniform(-0.5, 1.5, start.shape).astype(start.dtype) if w == "tensor" else w
    args = [start, end] + ([weight] if w == "tensor" else [])
    (y,), grads, ups = run_both(lambda s, e, *ws: tn.lerp(s, e, ws[0] if ws else weight), args, seed, rtol=1e-6)
    W = np.broadcast_to(np.asarray(weight, np.float64), y.shape)
    S, E = (np.broadcast_to(v, y.shape).astype(np.float64) for v in (start, end))
    eps = np.finfo(y.dtype).eps
    size = np.max(np.abs(S) + np.abs(E) + np.abs(W * (E - S)), initial=0)
    np.testing.assert_allclose(y, S + W * (E - S), rtol=0, atol=float(4 * eps * size) + 1e-300)
    if w == 0.0:
        assert_same(y, S.astype(y.dtype), "lerp(s, e, 0) = s")
    if w == 1.0:
        assert_same(y, E.astype(y.dtype), "lerp(s, e, 1) = e")
    assert_same(tn.lerp(tn.tensor(start), tn.tensor(start), 0.3).numpy(), start, "lerp(s, s, w) = s")
    if grads:   # d/ds = 1 - w, d/de = w, d/dw = e - s (summed over broadcast copies)
        tol = dict(rtol=4 * eps, atol=16 * eps * float(np.max(np.abs(S) + np.abs(E), initial=1)))
        np.testing.assert_allclose(grads[0], _unbroadcast(ups[0] * (1 - W), start.shape), **tol)
        np.testing.assert_allclose(grads[1], _unbroadcast(ups[0] * W, end.shape), **tol)
        if w == "tensor":
            np.testing.assert_allclose(grads[2], _unbroadcast(ups[0] * (E - S), start.shape), **tol)


@given(arrays(dtypes=FLOATS * 3 + SIGNED_INTS + (np.dtype(np.uint8), np.dtype(np.bool_)), kinds=("special", "ties")),
       st.data(), st.booleans(), st.integers(0, 2**16))
def test_nansum_reads_nan_as_zero_and_nanmean_divides_by_the_count_of_the_rest(x, data, keepdim, seed):
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    (s,), grads, ups = run_both(lambda t: tn.nansum(t, dim, keepdim), [x], seed)
    nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
    zeroed = np.where(nan, 0, x)
    with np.errstate(invalid="ignore"):
        expected = zeroed.sum(axis=dim, keepdims=keepdim, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
    assert_same(s, np.asarray(expected), "nansum")   # integers and bools sum as int64, as in PyTorch
    if grads:
        g = ups[0] if keepdim or dim is None else np.expand_dims(ups[0], dim)
        assert_same(grads[0], np.where(nan, 0, np.broadcast_to(g, x.shape)).astype(x.dtype), "gradient 0 at NaN")
    if x.dtype.kind != "f":
        with pytest.raises(TypeError, match="nanmean"):
            tn.nanmean(tn.tensor(x))
        return
    (m,), _, _ = run_both(lambda t: tn.nanmean(t, dim, keepdim), [x], seed, rtol=4 * float(np.finfo(x.dtype).eps))
    count = (~nan).sum(axis=dim, keepdims=keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(m, expected / count, rtol=4 * float(np.finfo(x.dtype).eps))
    assert np.isnan(m[np.asarray(count == 0)]).all(), "NaN where every element is NaN"


def test_fmod_of_integers_by_zero_is_refused_and_of_floats_is_nan():
    with pytest.raises(ZeroDivisionError):
        tn.fmod(tn.tensor([5]), tn.tensor([0]))
    assert math.isnan(tn.fmod(tn.tensor([5.0]), tn.tensor([0.0])).item())
