"""The special functions (tinynn/ops/special.py, tinynn/special/, backend/reference_special.py,
reference_bessel.py, reference_pointwise.py): closed forms, identities and PyTorch's values at the poles
and domain edges, dtype results, and float64 gradcheck/gradgradcheck on both backends (the compiled
backend runs the reference's functions: test_backend_table.py).

Oracles: closed forms (factorials, pi, Euler's gamma, Apery's constant zeta(3), published quantiles),
identities the implementation does not use (Legendre's duplication formula, Gauss' multiplication
theorem), integral representations evaluated here by the trapezoid rule, the standard library's math.lgamma /
math.erf / math.erfc and NumPy's i0, which are independent implementations of those functions.
"""
import math

import numpy as np
import pytest

import tinynn as tn

EULER_GAMMA = 0.57721566490153286061
APERY = 1.2020569031595942854  # zeta(3)
INF, NAN = math.inf, math.nan


def f64(values, requires_grad=False):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(got, want, rtol=1e-14, atol=0.0):
    got = got.numpy() if isinstance(got, tn.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, np.asarray(want, dtype=np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- the gamma family
def test_lgamma_closed_forms_and_edges(backend_name):
    n = np.arange(1, 60)
    close(tn.lgamma(f64(n)), [math.log(math.factorial(k - 1)) for k in n], rtol=2e-15, atol=1e-300)
    close(tn.lgamma(f64([0.5, 1.5, -0.5, -1.5])),
          [0.5 * math.log(math.pi), math.log(math.sqrt(math.pi) / 2), math.log(2 * math.sqrt(math.pi)),
           math.log(4 * math.sqrt(math.pi) / 3)], rtol=2e-15)
    close(tn.lgamma(f64([0.0, -0.0, -1.0, -7.0, -1e20, INF, -INF])), [INF] * 7)
    assert np.isnan(tn.lgamma(f64([NAN])).numpy()).all()
    close(tn.lgamma(f64([1e-300])), [690.7755278982137], rtol=1e-15)


def test_lgamma_agrees_with_the_standard_library(backend_name):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 400), rng.uniform(0.5, 2.5, 200), 10 ** rng.uniform(-5, 300, 200)])
    x = x[x != np.round(x)]
    want = np.array([math.lgamma(v) for v in x])  # C's lgamma: an independent implementation
    np.testing.assert_allclose(tn.lgamma(f64(x)).numpy(), want, rtol=1e-13, atol=3e-15)


def test_lgamma_is_relatively_accurate_at_its_zeros_1_and_2(backend_name):
    """Taylor's series at 1 and 2 (ln Gamma(1 + e) = -gamma e + zeta(2) e^2/2 - zeta(3) e^3/3 + ..., and
    ln Gamma(2 + e) = ln Gamma(1 + e) + ln(1 + e)): C's lgamma is only absolutely accurate here."""
    for small in (1e-12, -3e-9, 2e-5, -7e-6):
        for centre in (1.0, 2.0):
            x = centre + small
            e = x - centre  # exact
            one = -EULER_GAMMA * e + math.pi ** 2 / 12 * e ** 2 - APERY / 3 * e ** 3 + math.pi ** 4 / 360 * e ** 4
            close(tn.lgamma(f64([x])), [one if centre == 1.0 else one + math.log1p(e)], rtol=1e-15)
    x = np.array([0.55, 0.99, 1.3, 1.46, 1.7, 2.01, 2.4])  # elsewhere, to C's absolute accuracy
    close(tn.lgamma(f64(x)), [math.lgamma(v) for v in x], rtol=1e-14, atol=1e-15)


def test_lgamma_legendre_duplication(backend_name):
    x = np.linspace(0.05, 40, 97)  # ln Gamma(2x) = (2x - 1) ln 2 - ln(pi)/2 + ln Gamma(x) + ln Gamma(x + 1/2)
    got = tn.lgamma(f64(2 * x)).numpy()
    want = (2 * x - 1) * math.log(2) - 0.5 * math.log(math.pi) + tn.lgamma(f64(x)).numpy() + tn.lgamma(f64(x + 0.5)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_digamma_closed_forms_and_edges(backend_name):
    harmonic = np.cumsum([0.0] + [1.0 / k for k in range(1, 40)])  # psi(n) = H_(n-1) - gamma
    close(tn.digamma(f64(np.arange(1, 41))), harmonic - EULER_GAMMA, rtol=1e-15, atol=1e-16)
    close(tn.digamma(f64([0.5, -0.5, 0.25])),
          [-EULER_GAMMA - 2 * math.log(2), 2 - EULER_GAMMA - 2 * math.log(2), -EULER_GAMMA - math.pi / 2 - 3 * math.log(2)],
          rtol=1e-15, atol=1e-15)
    close(tn.special.psi(f64([0.0, -0.0, INF])), [-INF, INF, INF])
    assert np.isnan(tn.digamma(f64([-1.0, -2.0, -1e20, -INF, NAN])).numpy()).all()
    close(tn.digamma(f64([1e-300])), [-1e300], rtol=1e-15)


def test_digamma_multiplication_theorem(backend_name):
    x = np.concatenate([np.linspace(0.01, 30, 61), -np.linspace(0.13, 20.37, 21)])
    d = lambda v: tn.digamma(f64(v)).numpy()  # noqa: E731 - psi(2x) = (psi(x) + psi(x + 1/2)) / 2 + ln 2
    np.testing.assert_allclose(d(2 * x), 0.5 * (d(x) + d(x + 0.5)) + math.log(2), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n, zeta", [(1, math.pi ** 2 / 6), (2, APERY), (3, math.pi ** 4 / 90), (5, math.pi ** 6 / 945)])
def test_polygamma_at_1_is_the_zeta_function(n, zeta, backend_name):
    close(tn.polygamma(n, f64([1.0])), [(-1) ** (n + 1) * math.factorial(n) * zeta], rtol=2e-15)


def test_polygamma_closed_forms_recurrence_and_edges(backend_name):
    close(tn.polygamma(1, f64([0.5, 1.5, -0.5])),
          [math.pi ** 2 / 2, math.pi ** 2 / 2 - 4, math.pi ** 2 + 4 - math.pi ** 2 / 2], rtol=2e-15)
    x = np.concatenate([np.linspace(0.1, 25, 50), -np.linspace(0.15, 9.85, 20)])
    for n in (1, 2, 3, 4, 7):  # psi^(n)(x + 1) = psi^(n)(x) + (-1)^n n! / x^(n+1), to the terms' rounding
        before, step = tn.polygamma(n, f64(x)).numpy(), (-1) ** n * math.factorial(n) / x ** (n + 1)
        after = tn.polygamma(n, f64(x + 1)).numpy()
        assert (np.abs(after - (before + step)) <= 1e-14 * (np.abs(before) + np.abs(step))).all(), n
    close(tn.polygamma(0, f64([2.0])), [1 - EULER_GAMMA], rtol=1e-15)
    close(tn.polygamma(1, f64([0.0, -3.0, INF])), [INF, INF, 0.0])  # (PyTorch: ~1e32 at -3)
    close(tn.polygamma(2, f64([0.0, -3.0, INF])), [-INF, -INF, 0.0])  # (PyTorch: NaN at inf)
    assert np.isnan(tn.polygamma(3, f64([NAN, -INF])).numpy()).all()
    with pytest.raises(RuntimeError, match="polygamma.*integer >= 0"):
        tn.polygamma(-1, f64([1.0]))


def test_mvlgamma_is_a_sum_of_lgammas(backend_name):
    x = np.array([1.7, 2.5, 10.25])
    for p in (1, 2, 3, 5):
        want = [p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(v - i / 2) for i in range(p)) for v in x]
        close(tn.mvlgamma(f64(x), p), want, rtol=1e-13)
        close(f64(x).mvlgamma(p), want, rtol=1e-13)
        close(tn.special.multigammaln(f64(x), p), want, rtol=1e-13)
    assert tn.mvlgamma(tn.tensor([3, 4]), 2).dtype == tn.float32
    with pytest.raises(RuntimeError, match="p has to be an integer greater than or equal to 1"):
        tn.mvlgamma(f64([3.0]), 0)


# ---------------------------------------------------------------- the error-function family
def test_erfc_identities_and_tail(backend_name):
    x = np.linspace(-6, 6, 49)
    close(tn.erfc(f64(x)).numpy() + tn.erf(f64(x)).numpy(), np.ones_like(x), rtol=1e-15, atol=2e-16)
    close(tn.erfc(f64(-x[x > 0])), 2 - tn.erfc(f64(x[x > 0])).numpy(), rtol=1e-15)
    t = np.array([10.0, 20.0, 26.0])  # erfc t ~ e^(-t^2) / (t sqrt(pi)) (1 - 1/(2t^2) + 3/(4t^4) - 15/(8t^6))
    close(tn.erfc(f64(t)), np.exp(-t * t) / (t * math.sqrt(math.pi)) * (1 - 1 / (2 * t ** 2) + 3 / (4 * t ** 4) - 15 / (8 * t ** 6)),
          rtol=2e-7)
    close(tn.erfc(f64([-INF, 0.0, INF])), [2.0, 1.0, 0.0])


def test_erfinv_inverts_erf_and_erfc(backend_name):
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-2, 2, 300), [0.0, 1e-300, -1e-10]])  # (beyond 2 erf loses y's digits)
    x = np.array([math.erf(v) for v in y])  # the standard library's erf: an independent oracle
    np.testing.assert_allclose(tn.erfinv(f64(x)).numpy(), y, rtol=1e-14, atol=1e-300)
    x = rng.uniform(-1, 1, 300)
    np.testing.assert_allclose([math.erf(v) for v in tn.erfinv(f64(x)).numpy()], x, rtol=0, atol=2.3e-16)
    q = 10.0 ** -rng.uniform(1, 16, 100)  # near 1, through erfc: erfinv(1 - q) = t with erfc t = 1 - (1 - q)
    t = tn.erfinv(f64(1 - q)).numpy()
    np.testing.assert_allclose([math.erfc(v) for v in t], 1 - (1 - q), rtol=1e-14)
    close(tn.erfinv(f64([1.0, -1.0, 0.0])), [INF, -INF, 0.0])
    assert np.signbit(tn.erfinv(f64([-0.0])).numpy()).all()
    assert np.isnan(tn.erfinv(f64([1.5, -1.0000001, NAN])).numpy()).all()


def test_ndtr_ndtri_log_ndtr(backend_name):
    close(tn.special.ndtr(f64([0.0, 1.959963984540054, -INF, INF])), [0.5, 0.975, 0.0, 1.0], rtol=1e-15)
    x = np.linspace(-8, 8, 33)
    close(tn.special.ndtr(f64(x)).numpy() + tn.special.ndtr(f64(-x)).numpy(), np.ones_like(x), rtol=1e-15)
    close(tn.special.ndtri(f64([0.5, 0.975, 0.025, 0.0, 1.0])), [0.0, 1.959963984540054, -1.959963984540054, -INF, INF],
          rtol=1e-14)
    assert np.isnan(tn.special.ndtri(f64([-0.1, 1.1, NAN])).numpy()).all()
    p = 10.0 ** -np.random.default_rng(2).uniform(1, 300, 200)  # the lower tail keeps p's relative accuracy
    y = tn.special.ndtri(f64(p)).numpy()  # (Phi(y) amplifies y's rounding by y^2 < 1400: the tolerance)
    np.testing.assert_allclose([0.5 * math.erfc(-v / math.sqrt(2)) for v in y], p, rtol=1e-12)
    lower = x[x <= 2]  # (above, Phi(x) rounds toward 1 and loses x's digits)
    np.testing.assert_allclose(tn.special.ndtri(tn.special.ndtr(f64(lower))).numpy(), lower, rtol=1e-13, atol=1e-14)
    z = np.linspace(-35, 0, 36)
    close(tn.special.log_ndtr(f64(z)), [math.log(0.5 * math.erfc(-v / math.sqrt(2))) for v in z], rtol=1e-14)
    z = np.array([6.0, 9.0, 30.0])
    close(tn.special.log_ndtr(f64(z)), [math.log1p(-0.5 * math.erfc(v / math.sqrt(2))) for v in z], rtol=1e-14, atol=1e-300)
    z = np.array([-60.0, -1e3, -1e10, -1e150])  # ln Phi(z) = -z^2/2 - ln(-z) - ln sqrt(2 pi) + ln(sum_k (-1)^k (2k-1)!! / z^2k)
    w = (1 / z) ** 2
    series = -w + 3 * w ** 2 - 15 * w ** 3 + 105 * w ** 4 - 945 * w ** 5
    close(tn.special.log_ndtr(f64(z)), -z * z / 2 - np.log(-z) - 0.5 * math.log(2 * math.pi) + np.log1p(series), rtol=1e-15)
    close(tn.special.log_ndtr(f64([-INF, INF])), [-INF, 0.0])


# ---------------------------------------------------------------- Bessel functions
def _bessel_integral(n, x, scaled):
    """(1/pi) int_0^pi e^(x cos t [- |x|]) cos(n t) dt by the trapezoid rule: the integrand is smooth
    and periodic, so the rule converges geometrically (A&S 9.6.19)."""
    t = np.linspace(0.0, np.pi, 4001)
    f = np.exp(np.multiply.outer(x, np.cos(t)) - (np.abs(x)[:, None] if scaled else 0)) * np.cos(n * t)
    return (f[:, 1:-1].sum(axis=1) + 0.5 * (f[:, 0] + f[:, -1])) * (t[1] - t[0]) / np.pi


def test_bessel_functions_against_their_integrals(backend_name):
    x = np.concatenate([np.linspace(-40, 40, 81), [1e-3, 17.9, 18.1]])
    close(tn.i0(f64(x)), _bessel_integral(0, x, False), rtol=1e-13)
    close(tn.special.i1(f64(x)), _bessel_integral(1, x, False), rtol=1e-13, atol=1e-15)
    x = np.concatenate([x, np.linspace(-700, 700, 29)])
    close(tn.special.i0e(f64(x)), _bessel_integral(0, x, True), rtol=1e-13)
    close(tn.special.i1e(f64(x)), _bessel_integral(1, x, True), rtol=1e-13, atol=1e-15)
    close(tn.i0(f64([0.0, 1.0])), [1.0, 1.2660658777520082], rtol=1e-15)  # A&S Table 9.8
    x = np.linspace(-700, 700, 1001)  # NumPy's i0 (Cephes' Chebyshev expansions): an independent implementation
    close(tn.i0(f64(x)), np.i0(x), rtol=3e-15)
    close(tn.special.i1(f64([0.0, 1e-300, INF, -INF])), [0.0, 5e-301, INF, -INF], rtol=1e-15)  # (PyTorch: NaN at +-inf)
    close(tn.special.i0e(f64([0.0, INF, -INF, 1e17])), [1.0, 0.0, 0.0, 1 / math.sqrt(2 * math.pi * 1e17)], rtol=1e-15)
    close(tn.i0(f64([714.0])), [INF])


# ---------------------------------------------------------------- the elementwise ones
def test_pointwise_values_at_zero_and_the_edges(backend_name):
    close(tn.sinc(f64([0.0, 0.5, -1.5, 1e-20])), [1.0, 2 / math.pi, -2 / (3 * math.pi), 1.0], rtol=1e-15)
    close(tn.sinc(f64([1.0, 2.0])), [0.0, 0.0], atol=1e-16)
    close(tn.special.entr(f64([0.0, 0.5, 1.0, -1.0, INF])), [0.0, 0.5 * math.log(2), 0.0, -INF, -INF], rtol=1e-15)
    close(tn.logit(f64([0.0, 0.5, 0.75, 1.0])), [-INF, 0.0, math.log(3), INF], rtol=1e-15)
    assert np.isnan(tn.logit(f64([-0.1, 1.1, NAN])).numpy()).all()
    close(tn.logit(f64([0.0, 0.5, 1.0]), eps=0.25), [-math.log(3), 0.0, math.log(3)], rtol=1e-15)
    close(tn.xlogy(f64([0.0, 0.0, 0.0, 2.0, 1.0]), f64([0.0, INF, -1.0, 3.0, 0.0])), [0.0, 0.0, 0.0, 2 * math.log(3), -INF])
    assert np.isnan(tn.xlogy(f64([0.0]), f64([NAN])).numpy()).all()
    close(tn.special.xlog1py(f64([0.0, 0.0, 2.0]), f64([-1.0, -2.0, 1e-20])), [0.0, 0.0, 2e-20], rtol=1e-15)
    close(tn.xlogy(2.0, f64([3.0])), [2 * math.log(3)], rtol=1e-15)  # a Python number on either side
    close(tn.hypot(f64([3.0, 1e300, INF]), f64([4.0, 1e300, NAN])), [5.0, math.sqrt(2) * 1e300, INF], rtol=1e-15)
    close(tn.logaddexp(f64([1.0, 1000.0, -INF, INF]), f64([2.0, 1000.0, -INF, INF])),
          [math.log(math.e + math.e ** 2), 1000 + math.log(2), -INF, INF], rtol=1e-15)
    close(tn.logaddexp2(f64([1.0, 3.0]), f64([1.0, 4.0])), [2.0, math.log2(24)], rtol=1e-15)
    close(tn.copysign(f64([2.0, -3.0, 1.0]), f64([-0.0, 1.0, NAN])), [-2.0, 3.0, 1.0])
    close(tn.nextafter(f64([1.0, 1.0]), f64([2.0, 0.0])), [1 + 2.0 ** -52, 1 - 2.0 ** -53])
    close(tn.ldexp(f64([1.0, 3.0]), tn.tensor([3, -2])), [8.0, 0.75])
    close(tn.deg2rad(tn.tensor([180])), [math.pi], rtol=1e-7)
    close(tn.rad2deg(f64([math.pi / 2])), [90.0], rtol=1e-15)
    close(tn.float_power(tn.tensor([2]), 0.5), [math.sqrt(2)], rtol=1e-15)
    close(tn.heaviside(f64([-1.0, 0.0, 2.0, NAN]), f64([0.5])), [0.0, 0.5, 1.0, 0.0])
    close(tn.nan_to_num(f64([NAN, INF, -INF, 1.5])), [0.0, np.finfo(np.float64).max, np.finfo(np.float64).min, 1.5])
    close(tn.nan_to_num(f64([NAN, INF, -INF]), nan=1.0, posinf=2.0, neginf=-3.0), [1.0, 2.0, -3.0])
    assert tn.signbit(f64([-0.0, 0.0, -1.0, -NAN])).tolist() == [True, False, True, True]
    assert tn.signbit(tn.tensor([-2, 0, 3])).tolist() == [True, False, False]
    assert tn.isposinf(f64([INF, -INF, 1.0])).tolist() == [True, False, False]
    assert tn.isneginf(f64([INF, -INF, NAN])).tolist() == [False, True, False]
    assert tn.sgn(tn.tensor([-3, 0, 2])).tolist() == [-1, 0, 1]
    x = f64([1.0, 2.0])
    assert x.isclose(x + 1e-9).tolist() == [True, True] and x.allclose(x) and not x.allclose(x + 1)


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfc", "erfinv", "sinc", "i0", "logit", "deg2rad", "rad2deg",
                                  "special.i0e", "special.i1", "special.i1e", "special.ndtr", "special.ndtri",
                                  "special.log_ndtr", "special.entr", "special.expit", "special.gammaln"])
def test_dtypes_follow_pytorchs_unary_float_ops(name):
    fn = tn
    for part in name.split("."):
        fn = getattr(fn, part)
    for dtype, want in [(tn.int64, tn.float32), (tn.bool, tn.float32), (tn.float16, tn.float16),
                        (tn.float32, tn.float32), (tn.float64, tn.float64)]:
        assert fn(tn.tensor([1, 0], dtype=dtype)).dtype == want, (name, dtype)


def test_dtypes_and_errors_of_the_binary_ones():
    i, f = tn.tensor([1, 2]), tn.tensor([1.0, 2.0])
    assert tn.xlogy(i, i).dtype == tn.float32 and tn.xlogy(f, f.double()).dtype == tn.float64
    assert tn.copysign(i, i).dtype == tn.float32 and tn.ldexp(i, i).dtype == tn.float32
    assert tn.ldexp(f.half(), i).dtype == tn.float16 and tn.hypot(f, i).dtype == tn.float32
    assert tn.float_power(f, 2).dtype == tn.float64 and tn.float_power(i, i).dtype == tn.float64
    assert tn.sgn(i).dtype == tn.int64 and tn.signbit(f).dtype == tn.bool
    assert tn.heaviside(i, tn.tensor([0])).dtype == tn.int64 and tn.nan_to_num(i).dtype == tn.int64
    for name in ("hypot", "logaddexp", "logaddexp2", "nextafter"):
        with pytest.raises(TypeError, match=f"{name}: not implemented for int64 and int64"):
            getattr(tn, name)(i, i)
    with pytest.raises(RuntimeError, match="heaviside: input and values have different dtypes"):
        tn.heaviside(f, tn.tensor([0.5], dtype=tn.float64))
    with pytest.raises(TypeError, match="heaviside: values must be a Tensor"):
        tn.heaviside(f, 0.5)
    with pytest.raises(ValueError, match=r"xlogy: shapes \(2,\) and \(3,\) cannot be broadcast"):
        tn.xlogy(f, tn.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(AttributeError, match="tinynn does not have torch.special.zeta"):
        tn.special.zeta  # noqa: B018


def test_special_namespace_aliases():
    x = f64([0.3, 1.7])
    for alias, name in [("gammaln", "lgamma"), ("psi", "digamma"), ("erfc", "erfc"), ("erfinv", "erfinv"),
                        ("sinc", "sinc"), ("i0", "i0"), ("expit", "sigmoid"), ("erf", "erf"), ("exp2", "exp2"),
                        ("expm1", "expm1"), ("log1p", "log1p")]:
        np.testing.assert_array_equal(getattr(tn.special, alias)(x).numpy(), getattr(x, name)().numpy())
    np.testing.assert_array_equal(tn.special.polygamma(2, x).numpy(), x.polygamma(2).numpy())
    np.testing.assert_array_equal(tn.special.logit(x / 2, eps=0.2).numpy(), tn.logit(x / 2, 0.2).numpy())
    m = f64([[1.0, 2.0], [0.5, -1.0]])
    np.testing.assert_array_equal(tn.special.logsumexp(m, 1).numpy(), m.logsumexp(1).numpy())
    np.testing.assert_array_equal(tn.special.softmax(m, 0).numpy(), m.softmax(0).numpy())
    np.testing.assert_array_equal(tn.special.log_softmax(m, dim=1).numpy(), m.log_softmax(1).numpy())
    close(tn.special.round(f64([1.2345, -2.5, 1234.5]), decimals=2), [1.23, -2.5, 1234.5])
    close(tn.special.round(f64([1250.0]), decimals=-2), [1200.0])


def test_in_place_forms():
    x = f64([0.5, 3.0])
    assert x.lgamma_() is x
    close(x, [0.5 * math.log(math.pi), math.log(2)], rtol=1e-15)
    y = f64([1.0, 2.0])
    y.polygamma_(1)
    close(y, [math.pi ** 2 / 6, math.pi ** 2 / 6 - 1], rtol=1e-15)
    with pytest.raises(RuntimeError, match="float_power_: the result is float64 but the tensor is float32"):
        tn.tensor([1.0]).float_power_(2)
    with pytest.raises(RuntimeError, match="erfinv_: result type float32 can't be cast"):
        tn.tensor([0, 1]).erfinv_()


# ---------------------------------------------------------------- gradients
def _grid(lo, hi, n=5):
    return np.linspace(lo, hi, n) + 0.0137


UNARY = {  # name: (function, points away from the poles and kinks)
    "lgamma": (tn.lgamma, np.r_[_grid(0.2, 6), -0.4, -2.7]), "digamma": (tn.digamma, np.r_[_grid(0.2, 6), -1.3]),
    "polygamma1": (lambda t: tn.polygamma(1, t), np.r_[_grid(0.2, 6), -0.6]),
    "polygamma3": (lambda t: t.polygamma(3), _grid(0.4, 5)),
    "mvlgamma": (lambda t: tn.mvlgamma(t, 3), _grid(1.2, 5)), "erfc": (tn.erfc, _grid(-2.5, 2.5)),
    "erfinv": (tn.erfinv, _grid(-0.95, 0.9)), "ndtr": (tn.special.ndtr, _grid(-3, 3)),
    "ndtri": (tn.special.ndtri, _grid(0.02, 0.95)), "log_ndtr": (tn.special.log_ndtr, np.r_[_grid(-30, 5), -22.0]),
    "i0": (tn.i0, _grid(-20, 20, 7)), "i0e": (tn.special.i0e, np.r_[_grid(-30, 30, 7), 21.0]),
    "i1": (tn.special.i1, _grid(-20, 20, 7)), "i1e": (tn.special.i1e, np.r_[_grid(-30, 30, 7), -25.0]),
    "sinc": (tn.sinc, _grid(-2.5, 2.5, 6)), "entr": (tn.special.entr, _grid(0.1, 3)),
    "logit": (tn.logit, _grid(0.05, 0.9)), "logit_eps": (lambda t: tn.logit(t, eps=0.2), _grid(0.05, 0.9)),
    "deg2rad": (tn.deg2rad, _grid(-3, 3)), "nan_to_num": (tn.nan_to_num, _grid(-3, 3)),
    "ldexp": (lambda t: tn.ldexp(t, tn.tensor([2])), _grid(-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_to_second_order(name, backend_name):
    fn, points = UNARY[name]
    x = f64(points, requires_grad=True)
    assert tn.gradcheck(fn, x)
    assert tn.gradgradcheck(fn, x)


BINARY = {
    "xlogy": (tn.xlogy, _grid(-2, 2, 4), _grid(0.3, 3, 4)),
    "xlog1py": (tn.special.xlog1py, _grid(-2, 2, 4), _grid(-0.7, 3, 4)),
    "hypot": (tn.hypot, _grid(-2, 2, 4), _grid(0.3, 3, 4)),
    "logaddexp": (tn.logaddexp, _grid(-2, 2, 4), _grid(-3, 3, 4)),
    "logaddexp2": (tn.logaddexp2, _grid(-2, 2, 4), _grid(-3, 3, 4)),
    "copysign": (tn.copysign, _grid(-2, 2, 4), _grid(-3, 3, 4)),
    "ldexp": (tn.ldexp, _grid(-2, 2, 4), _grid(-3, 3, 4)),
    "float_power": (tn.float_power, _grid(0.3, 2, 4), _grid(-3, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_to_second_order_with_broadcasting(name, backend_name):
    fn, a, b = BINARY[name]
    x, y = f64(a.reshape(4, 1), requires_grad=True), f64(b, requires_grad=True)
    assert tn.gradcheck(fn, x, y)
    assert tn.gradgradcheck(fn, x, y)


def _grad(fn, values, *others):
    x = f64(values, requires_grad=True)
    fn(x, *others).sum().backward()
    return x.grad.numpy()


def test_derivative_closed_forms_and_pytorchs_values_at_the_edges(backend_name):
    x = np.array([0.5, 1.0, 4.0])
    close(_grad(tn.lgamma, x), tn.digamma(f64(x)), rtol=1e-15)
    close(_grad(tn.digamma, [1.0]), [math.pi ** 2 / 6], rtol=1e-15)
    close(_grad(tn.erfinv, [0.0, 0.5]), math.sqrt(math.pi) / 2 * np.exp(tn.erfinv(f64([0.0, 0.5])).numpy() ** 2), rtol=1e-15)
    close(_grad(tn.i0, x), tn.special.i1(f64(x)), rtol=1e-15)
    close(_grad(tn.special.i1, [0.0]), [0.5])
    close(_grad(tn.special.i1e, [0.0]), [0.5])
    close(_grad(tn.special.i0e, [0.0, 2.0]), [0.0, (tn.special.i1e(f64([2.0])) - tn.special.i0e(f64([2.0]))).item()],
          rtol=1e-15)
    close(_grad(tn.sinc, [0.0]), [0.0])
    close(_grad(tn.special.log_ndtr, [-50.0, 50.0]), [50.0199840319, 0.0], rtol=1e-11)  # phi/Phi ~ -x + 1/x
    close(_grad(tn.special.entr, [0.0]), [INF])
    close(_grad(tn.logit, [0.0, 0.5]), [INF, 4.0])
    assert np.isnan(_grad(tn.logit, [-0.5, 1.5])).all()
    close(_grad(lambda t: tn.logit(t, eps=0.1), [0.05, 0.1, 0.5, 0.95]), [0.0, 1 / 0.09, 4.0, 0.0], rtol=1e-14)
    close(_grad(tn.nan_to_num, [NAN, INF, 1.0]), [0.0, 0.0, 1.0])
    close(_grad(tn.xlogy, [0.0, 0.0, 1.0], f64([0.0, -1.0, 0.0])), [0.0, 0.0, -INF])
    y = f64([0.0, 2.0], requires_grad=True)
    tn.xlogy(f64([0.0, 3.0]), y).sum().backward()
    assert np.isnan(y.grad.numpy()[0]) and y.grad.numpy()[1] == 1.5  # x / y (0/0 at the origin, as PyTorch)
    close(_grad(tn.copysign, [0.0, -2.0, 3.0, INF], f64([-1.0, 1.0, -0.0, 1.0])), [0.0, -1.0, -1.0, NAN])
    close(_grad(tn.nextafter, [1.0, 2.0], f64([1.0, 3.0])), [0.0, 1.0])
    a, b = f64([INF, 0.0], requires_grad=True), f64([INF, 0.0], requires_grad=True)
    tn.logaddexp(a, b).sum().backward()
    assert np.isnan(a.grad.numpy()[0]) and a.grad.numpy()[1] == 0.5
    x = f64([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="heaviside: the derivative is not implemented"):
        tn.heaviside(x, f64([0.5])).sum().backward()


def test_create_graph_gives_the_next_derivative(backend_name):
    x = f64([0.7, 2.5], requires_grad=True)
    (g,) = tn.autograd.grad(x.lgamma().sum(), x, create_graph=True)
    (h,) = tn.autograd.grad(g.sum(), x, create_graph=True)
    (k,) = tn.autograd.grad(h.sum(), x)
    close(h, tn.polygamma(1, x.detach()), rtol=1e-15)
    close(k, tn.polygamma(2, x.detach()), rtol=1e-15)
    x32 = tn.tensor([0.3, 0.6], requires_grad=True)
    (g32,) = tn.autograd.grad(x32.erfinv().sum(), x32, create_graph=True)
    assert g32.dtype == tn.float32 and g32.requires_grad
