"""Hypothesis properties of the special functions over random inputs, to the accuracy their docstrings
state (tinynn/backend/reference_special.py, reference_bessel.py): the recurrences, reflection and
multiplication formulas of lgamma, digamma and polygamma; erfinv and ndtri inverting the standard
library's erf and erfc (independent implementations); log_ndtr against ndtr; the Bessel functions'
parity, scaling and integral representation; the binary ones' definitions. float32: each of these
kernels computes in float64 and rounds once, so a float32 result is the float64 one rounded (and its
gradient is float32). Both backends agree and leave their inputs alone (helpers.properties.run_both)."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

import tinynn as tn

from helpers.properties import run_both

GRID = 2.0 ** -20  # inputs on a grid of 2^-20: x + 1, 1 - x, 2x and x + 1/2 are then exact


def grid_points(lo, hi, away_from_integers=0.0, max_size=24):
    """Lists of floats in [lo, hi] on the 2^-20 grid, at least `away_from_integers` from every integer."""
    point = st.integers(int(lo / GRID), int(hi / GRID)).map(lambda k: k * GRID)
    if away_from_integers:
        point = point.filter(lambda v: abs(v - round(v)) >= away_from_integers)
    return st.lists(point, min_size=1, max_size=max_size).map(np.array)


def f64(a):
    return tn.tensor(np.asarray(a, dtype=np.float64))


def values(t):
    return t.numpy().astype(np.float64)


def assert_identity(left, right, terms, rtol, what):
    """|left - right| <= rtol (sum of |terms|): an identity, to the rounding of its terms."""
    scale = sum(np.abs(np.asarray(t, dtype=np.float64)) for t in terms)
    bad = ~(np.abs(np.asarray(left) - np.asarray(right)) <= rtol * scale + 1e-300)
    assert not bad.any(), f"{what}: {np.asarray(left)[bad][:3]} != {np.asarray(right)[bad][:3]}"


@settings(max_examples=25)
@given(grid_points(-40, 40, away_from_integers=1e-3))
def test_lgamma_recurrence_and_reflection(x):
    lg = lambda v: values(tn.lgamma(f64(v)))  # noqa: E731
    a, b = lg(x + 1), lg(x)
    assert_identity(a, b + np.log(np.abs(x)), [a, b, np.log(np.abs(x))], 4e-15, "lgamma(x + 1) = lgamma(x) + ln|x|")
    sin = np.array([math.sin(math.pi * (v - round(v))) for v in x])
    c, d = lg(1 - x), np.log(math.pi / np.abs(sin))
    assert_identity(b + c, d, [b, c, d], 4e-15, "lgamma(x) + lgamma(1 - x) = ln(pi / |sin(pi x)|)")


@settings(max_examples=25)
@given(st.lists(st.floats(-150, 150) | st.floats(150, 1e300), min_size=1, max_size=30).map(np.array))
def test_lgamma_matches_the_standard_librarys(x):
    x = x[(x > 0) | (x != np.round(x))]
    want = np.array([math.lgamma(v) for v in x])  # C's lgamma: independent, absolutely accurate near its zeros
    np.testing.assert_allclose(values(tn.lgamma(f64(x))), want, rtol=2e-14, atol=4e-15)


@settings(max_examples=25)
@given(grid_points(0.001, 30), grid_points(-30, -0.001, away_from_integers=1e-3))
def test_lgamma_and_digamma_duplication(positive, negative):
    x = positive  # Legendre: ln Gamma(2x) = (2x - 1) ln 2 - ln(pi)/2 + ln Gamma(x) + ln Gamma(x + 1/2), x > 0
    terms = [values(tn.lgamma(f64(v))) for v in (2 * x, x, x + 0.5)] + [(2 * x - 1) * math.log(2)]
    assert_identity(terms[0], terms[3] - 0.5 * math.log(math.pi) + terms[1] + terms[2], terms, 4e-15, "duplication")
    x = np.concatenate([positive, negative])  # Gauss: psi(2x) = (psi(x) + psi(x + 1/2)) / 2 + ln 2
    x = x[(np.abs(2 * x - np.round(2 * x)) >= 2e-3) & (np.abs(x + 0.5 - np.round(x + 0.5)) >= 1e-3)]
    d = [values(tn.digamma(f64(v))) for v in (2 * x, x, x + 0.5)]
    assert_identity(d[0], 0.5 * (d[1] + d[2]) + math.log(2), d + [math.log(2)], 4e-15, "psi duplication")


@settings(max_examples=25)
@given(grid_points(-30, 30, away_from_integers=1e-3))
def test_digamma_recurrence_and_reflection(x):
    a, b = values(tn.digamma(f64(x + 1))), values(tn.digamma(f64(x)))
    assert_identity(a, b + 1 / x, [a, b, 1 / x], 4e-15, "psi(x + 1) = psi(x) + 1/x")
    c = values(tn.digamma(f64(1 - x)))
    cot = np.array([1 / math.tan(math.pi * (v - round(v))) for v in x])
    # (math.pi * r carries an absolute rounding of pi 2^-53: the pi in the terms)
    assert_identity(c - b, math.pi * cot, [c, b, math.pi * cot, math.pi], 4e-15, "psi(1 - x) - psi(x) = pi cot(pi x)")


@settings(max_examples=25)
@given(st.integers(1, 6), grid_points(-12, 30, away_from_integers=1e-2))
def test_polygamma_recurrence_and_trigamma_reflection(n, x):
    a, b = values(tn.polygamma(n, f64(x + 1))), values(tn.polygamma(n, f64(x)))
    step = (-1) ** n * math.factorial(n) / x ** (n + 1)
    assert_identity(a, b + step, [a, b, step], 1e-14, f"psi^({n})(x + 1) = psi^({n})(x) + (-1)^n n! / x^(n+1)")
    c, t = values(tn.polygamma(1, f64(1 - x))), values(tn.polygamma(1, f64(x)))
    sin2 = np.array([math.sin(math.pi * (v - round(v))) ** 2 for v in x])
    assert_identity(c + t, math.pi ** 2 / sin2, [c, t], 1e-14, "psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)")


@settings(max_examples=25)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=30).map(np.array),
       st.lists(st.floats(1, 300), min_size=1, max_size=30).map(np.array))
def test_erfinv_and_ndtri_invert_the_standard_librarys_erf_and_erfc(x, exponents):
    y = values(tn.erfinv(f64(x)))
    erf = np.array([math.erf(v) if np.isfinite(v) else np.sign(v) for v in y])
    np.testing.assert_allclose(erf, x, rtol=0, atol=4.5e-16)  # erf(erfinv(x)) = x, to erf's rounding near 1
    p = 10.0 ** -exponents
    z = values(tn.special.ndtri(f64(p)))
    np.testing.assert_allclose([0.5 * math.erfc(-v / math.sqrt(2)) for v in z], p, rtol=1e-12)  # Phi(z) = p
    q = 1 - (1 - p[p > 1e-15])  # the upper tail: 1 - q exact, ndtri(1 - q) = -ndtri(q)
    np.testing.assert_allclose(values(tn.special.ndtri(f64(1 - q))), -values(tn.special.ndtri(f64(q))), rtol=1e-14)


@settings(max_examples=25)
@given(st.lists(st.floats(-38, 8), min_size=1, max_size=30).map(np.array))
def test_log_ndtr_is_the_log_of_ndtr(x):
    log_phi, phi = values(tn.special.log_ndtr(f64(x))), values(tn.special.ndtr(f64(x)))
    assert (np.abs(np.exp(log_phi) - phi) <= 1e-14 * (1 + np.abs(log_phi)) * phi + 1e-320).all()  # (subnormal Phi)
    order = np.argsort(x)
    assert (np.diff(log_phi[order]) >= 0).all()


@settings(max_examples=20)
@given(st.lists(st.floats(-60, 60), min_size=1, max_size=12).map(np.array), st.lists(st.floats(-700, 700), max_size=6))
def test_bessel_parity_scaling_and_integral(x, far):
    x = np.concatenate([x, far])
    i0, i1, i0e, i1e = (values(f(f64(x))) for f in (tn.i0, tn.special.i1, tn.special.i0e, tn.special.i1e))
    np.testing.assert_array_equal(values(tn.i0(f64(-x))), i0)  # I0 even, I1 odd
    np.testing.assert_array_equal(values(tn.special.i1(f64(-x))), -i1)
    t = np.linspace(0.0, np.pi, 3001)  # e^-|x| I_n(x) = (1/pi) int_0^pi e^(x cos t - |x|) cos(nt) dt (A&S 9.6.19)
    for n, scaled in ((0, i0e), (1, i1e)):
        f = np.exp(np.multiply.outer(x, np.cos(t)) - np.abs(x)[:, None]) * np.cos(n * t)
        integral = (f[:, 1:-1].sum(axis=1) + 0.5 * (f[:, 0] + f[:, -1])) * (t[1] - t[0]) / np.pi
        np.testing.assert_allclose(scaled, integral, rtol=1e-13, atol=1e-15)
    small = np.abs(x) < 700
    np.testing.assert_allclose(i0e[small], np.exp(-np.abs(x[small])) * i0[small], rtol=1e-14)
    np.testing.assert_allclose(i1e[small], np.exp(-np.abs(x[small])) * i1[small], rtol=1e-14, atol=1e-300)


UNARY = {"lgamma": tn.lgamma, "digamma": tn.digamma, "erfc": tn.erfc, "erfinv": tn.erfinv, "i0": tn.i0,
         "i0e": tn.special.i0e, "i1": tn.special.i1, "i1e": tn.special.i1e, "ndtr": tn.special.ndtr,
         "ndtri": tn.special.ndtri, "log_ndtr": tn.special.log_ndtr, "polygamma2": lambda t: tn.polygamma(2, t)}


@settings(max_examples=25)
@given(st.sampled_from(sorted(UNARY)), st.lists(st.floats(-30, 30, width=32), min_size=1, max_size=20).map(np.array),
       st.integers(0, 2 ** 16))
def test_float32_is_the_float64_result_rounded_once(name, x, seed):
    fn = UNARY[name]
    x = x if name not in ("erfinv", "ndtri") else np.abs(np.tanh(x)) * (0.5 if name == "ndtri" else np.sign(x))
    x32 = x.astype(np.float32)
    (y32,), (g32,), _ = run_both(fn, [x32], seed)
    y64 = values(fn(f64(x32)))
    assert y32.dtype == np.float32 and g32.dtype == np.float32
    with np.errstate(over="ignore"):  # (digamma of a tiny x overflows float32, as it should)
        np.testing.assert_array_equal(y32, y64.astype(np.float32))


@settings(max_examples=25)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=1, max_size=20).map(np.array),
       st.integers(0, 2 ** 16))
def test_binary_functions_match_their_definitions(ab, seed):
    a, b = ab[:, 0].copy(), ab[:, 1].copy()
    (h,), grads, ups = run_both(tn.hypot, [a, b], seed)
    np.testing.assert_allclose(h, [math.hypot(u, v) for u, v in zip(a, b)], rtol=4.5e-16)  # each within 1 ulp
    (l,), _, _ = run_both(tn.logaddexp, [a, b], seed, rtol=4e-16)  # (its gradient: the compiled sigmoid, to 1 ulp)
    np.testing.assert_array_equal(l, values(tn.logaddexp(f64(b), f64(a))))
    np.testing.assert_allclose(l, np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b))), rtol=1e-15)
    l2 = values(tn.logaddexp2(f64(a), f64(b)))
    np.testing.assert_allclose(l2 * math.log(2), values(tn.logaddexp(f64(a * math.log(2)), f64(b * math.log(2)))),
                               rtol=1e-14, atol=1e-14)
    positive = np.abs(b) + 0.5
    (z,), grads, ups = run_both(tn.xlogy, [a, positive], seed)
    np.testing.assert_allclose(z, a * np.log(positive), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(grads[0], ups[0] * np.where(a != 0, np.log(positive), 0.0), rtol=1e-15,
                               atol=1e-300)  # PyTorch's 0 at a = 0
    np.testing.assert_allclose(grads[1], ups[0] * a / positive, rtol=1e-15, atol=1e-300)
