"""PyTorch's math beyond the basic ops (tinynn/ops/math_more.py, tinynn/math_extras/, tinynn/creation_more.py):
aliases, inverse hyperbolic functions, atan2, fmax/fmin, gcd/lcm, shifts, frexp, the fused products, dot,
dist, diff, renorm, aminmax, mode, nanmedian, cov, corrcoef, the trapezoidal rule, histograms, isin, the
windows, range and scalar_tensor. Expected values are closed forms, hand computations and PyTorch's
documented formulas; gradients (and gradients of gradients) are checked in float64 on both backends."""
import math
import warnings

import numpy as np
import pytest

import tinynn as tn

NAN, INF = float("nan"), float("inf")
RNG = np.random.default_rng(11)
A = RNG.uniform(-2.0, 2.0, (2, 3))
B = RNG.uniform(-2.0, 2.0, (2, 3))
P = RNG.uniform(0.5, 2.0, (2, 3))


def t64(a, grad=True):
    return tn.tensor(np.asarray(a, np.float64), requires_grad=grad)


# ---------------------------------------------------------------- aliases
def test_aliases_are_the_ops_they_name():
    x, y = tn.tensor([-1.5, 2.5, 0.0]), tn.tensor([2.0, -1.0, 4.0])
    assert tn.absolute(x).tolist() == [1.5, 2.5, 0.0] and x.absolute().tolist() == [1.5, 2.5, 0.0]
    assert tn.negative(x).tolist() == [1.5, -2.5, -0.0] and x.negative().tolist() == [1.5, -2.5, -0.0]
    assert tn.positive(x) is x and x.positive() is x
    assert tn.multiply(x, y).tolist() == [-3.0, -2.5, 0.0] and x.multiply(2).tolist() == [-3.0, 5.0, 0.0]
    assert tn.subtract(x, y, alpha=2).tolist() == [-5.5, 4.5, -8.0]
    assert tn.divide(tn.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]
    assert tn.divide(tn.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert tn.divide(tn.tensor([7, -7]), 2).tolist() == [3.5, -3.5]
    assert tn.fix(x).tolist() == [-1.0, 2.0, 0.0] and tn.tensor([3, -2]).fix().dtype == tn.int64
    assert tn.greater_equal(x, 0).tolist() == [False, True, True] and x.less_equal(0).tolist() == [True, False, True]
    assert tn.not_equal(x, 0.0).tolist() == [True, True, False]
    assert tn.rsub(x, y).tolist() == [3.5, -3.5, 4.0]                           # other - input
    assert tn.rsub(tn.tensor([1, 2]), 5, alpha=2).tolist() == [3, 1]             # 5 - 2 input
    with pytest.raises(RuntimeError, match="positive"):
        tn.positive(tn.tensor([True]))


def test_inverse_hyperbolic_functions_invert_the_hyperbolic_ones():
    s = np.array([0.25, 1.0, 3.0])
    np.testing.assert_allclose(tn.acosh(tn.tensor(np.cosh(s))).numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(tn.asinh(tn.tensor(np.sinh(-s))).numpy(), -s, rtol=1e-12)
    np.testing.assert_allclose(tn.tensor(np.tanh(s)).atanh().numpy(), s, rtol=1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):   # NumPy's warnings for the NaN and the poles
        assert tn.arccosh(tn.tensor([1.0])).item() == 0.0 and math.isnan(tn.acosh(tn.tensor([0.5])).item())
        assert tn.arctanh(tn.tensor([1.0, -1.0])).tolist() == [INF, -INF]
    assert tn.asinh(tn.tensor([1, 2])).dtype == tn.float32 and tn.arcsinh(tn.tensor([True])).dtype == tn.float32
    # asinh x = ln(x + sqrt(x^2 + 1)), exactly where that formula has no cancellation
    assert tn.asinh(tn.tensor([2.0], dtype=tn.float64)).item() == pytest.approx(math.log(2 + math.sqrt(5)), rel=1e-15)


def test_atan2_is_the_angle_of_the_point_in_every_quadrant():
    y, x = tn.tensor([1.0, 0.0, -1.0, 1.0, 0.0]), tn.tensor([0.0, -1.0, -1.0, 1.0, 0.0])
    np.testing.assert_allclose(tn.atan2(y, x).numpy(), [math.pi / 2, math.pi, -3 * math.pi / 4, math.pi / 4, 0.0],
                               rtol=1e-6)
    assert y.arctan2(x).tolist() == tn.atan2(y, x).tolist()
    assert tn.atan2(tn.tensor([1, 2]), tn.tensor([3, 4])).dtype == tn.float32          # integers -> float32
    assert tn.atan2(tn.ones(2, 1), tn.ones(3)).shape == (2, 3)


def test_fmax_and_fmin_ignore_a_nan_and_send_ties_to_the_first_operand():
    a = tn.tensor([1.0, NAN, 3.0, NAN, 2.0], dtype=tn.float64, requires_grad=True)
    b = tn.tensor([NAN, 2.0, 3.0, NAN, 5.0], dtype=tn.float64, requires_grad=True)
    hi = tn.fmax(a, b)
    np.testing.assert_array_equal(hi.numpy(), [1.0, 2.0, 3.0, NAN, 5.0])
    np.testing.assert_array_equal(tn.fmin(a, b).numpy(), [1.0, 2.0, 3.0, NAN, 2.0])
    hi.backward(tn.tensor([1.0, 2.0, 4.0, 8.0, 16.0], dtype=tn.float64))
    assert a.grad.tolist() == [1.0, 0.0, 4.0, 8.0, 0.0] and b.grad.tolist() == [0.0, 2.0, 0.0, 0.0, 16.0]
    assert tn.fmax(tn.tensor([1, 5]), tn.tensor([3, 2])).tolist() == [3, 5]
    assert tn.fmax(tn.tensor([1, 5]), tn.tensor([3.0, 2.0])).dtype == tn.float32


def test_gcd_lcm_and_shifts_of_integers():
    a, b = tn.tensor([0, -4, 6, 0, -6, 7]), tn.tensor([0, 6, -9, 5, -4, 13])
    assert tn.gcd(a, b).tolist() == [0, 2, 3, 5, 2, 1] and a.lcm(b).tolist() == [0, 12, 18, 0, 12, 91]
    assert tn.lcm(tn.tensor([100], dtype=tn.int8), tn.tensor([3], dtype=tn.int8)).tolist() == [300 - 256]  # wraps
    assert tn.gcd(tn.tensor([4], dtype=tn.int32), tn.tensor([6])).dtype == tn.int64
    with pytest.raises(TypeError, match="gcd: not implemented for float32"):
        tn.gcd(tn.tensor([1.0]), tn.tensor([2.0]))
    s = tn.tensor([1, -8, 5, -1, 127], dtype=tn.int8)
    c = tn.tensor([2, 1, 8, -1, 7], dtype=tn.int8)   # counts 8 and -1 are out of range for int8
    assert tn.bitwise_left_shift(s, c).tolist() == [4, -16, 0, 0, -128]        # 127 * 2^7 wraps to -128
    assert tn.bitwise_right_shift(s, c).tolist() == [0, -4, 0, -1, 0]          # out of range: the sign, -1 or 0
    x = tn.tensor([1, 2, -16])
    assert (x << 2).tolist() == [4, 8, -64] and (x >> 1).tolist() == [0, 1, -8]
    assert (3 << tn.tensor([1, 2])).tolist() == [6, 12] and (64 >> tn.tensor([1, 2])).tolist() == [32, 16]
    assert (tn.tensor([True]) << 1).tolist() == [2]                            # bool and int -> int64
    with pytest.raises(TypeError, match="bitwise_left_shift"):
        tn.bitwise_left_shift(tn.tensor([1.0]), 1)


def test_frexp_splits_into_a_mantissa_in_half_to_one_and_an_int32_exponent():
    m, e = tn.frexp(tn.tensor([8.0, 0.3, -5.0, 0.0, INF, NAN]))
    np.testing.assert_array_equal(m.numpy(), np.array([0.5, 0.6, -0.625, 0.0, INF, NAN], np.float32))
    assert e.tolist() == [4, -1, 3, 0, 0, 0] and e.dtype == tn.int32
    assert type(tn.frexp(tn.tensor([1.0]))).__name__ == "frexp"
    x = tn.tensor(RNG.normal(size=50) * 1e3, dtype=tn.float64)
    mantissa, exponent = x.frexp()
    assert np.array_equal(mantissa.numpy() * 2.0 ** exponent.numpy(), x.numpy())       # exact
    assert ((np.abs(mantissa.numpy()) >= 0.5) & (np.abs(mantissa.numpy()) < 1)).all()
    with pytest.raises(RuntimeError, match="frexp"):
        tn.frexp(tn.tensor([1, 2]))


# ---------------------------------------------------------------- fused products and vector products
def test_addcmul_addcdiv_addr_addbmm_closed_forms():
    x, a, b = tn.tensor([1.0, 2.0, 3.0]), tn.tensor([4.0, 5.0, 6.0]), tn.tensor([2.0, 4.0, 8.0])
    assert tn.addcmul(x, a, b, value=0.5).tolist() == [5.0, 12.0, 27.0]           # x + 0.5 a b
    assert x.addcdiv(a, b, value=2).tolist() == [5.0, 4.5, 4.5]                   # x + 2 a / b
    assert tn.addcmul(tn.tensor([1, 2]), tn.tensor([1, 2]), tn.tensor([3, 3]), value=2.7).tolist() == [7, 14]  # value -> 2
    assert tn.addcdiv(tn.tensor([1, 2]), tn.tensor([1.0, 2.0]), tn.tensor([2, 4])).dtype == tn.float32
    with pytest.raises(RuntimeError, match="integer division with addcdiv"):
        tn.addcdiv(x, tn.tensor([1]), tn.tensor([2]))
    m = tn.ones(2, 3)
    assert tn.addr(m, tn.tensor([1.0, 2.0]), tn.tensor([1.0, 0.0, -1.0]), beta=0.5, alpha=2).tolist() == \
        [[2.5, 0.5, -1.5], [4.5, 0.5, -3.5]]                                      # 0.5 + 2 v_i w_j
    assert tn.addr(tn.full((2, 2), NAN), tn.ones(2), tn.ones(2), beta=0).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert tn.addr(tn.zeros(2, 2), tn.ones(2, dtype=tn.float64), tn.ones(2)).dtype == tn.float64
    with pytest.raises(RuntimeError, match="addr: for integer tensors"):
        tn.addr(tn.zeros(2, 2, dtype=tn.int64), tn.tensor([1, 2]), tn.tensor([1, 2]), alpha=2.5)
    b1, b2 = tn.ones(3, 2, 4), tn.ones(3, 4, 2)
    assert tn.addbmm(tn.ones(2, 2), b1, b2, beta=0.5, alpha=2).tolist() == [[24.5, 24.5], [24.5, 24.5]]  # 0.5 + 2 * 3 * 4
    with pytest.raises(RuntimeError, match="same number of batches"):
        tn.addbmm(tn.ones(2, 2), b1, b2[:2])


def test_dot_vdot_inner_and_their_checks():
    v, w = tn.tensor([1.0, 2.0, 3.0]), tn.tensor([4.0, -5.0, 6.0])
    assert tn.dot(v, w).item() == 12.0 and v.vdot(w).item() == 12.0 and tn.inner(v, w).item() == 12.0
    assert tn.dot(tn.tensor([1, 2], dtype=tn.int32), tn.tensor([3, 4], dtype=tn.int32)).dtype == tn.int32
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.dot(v, tn.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        tn.dot(tn.ones(2, 2), tn.ones(2, 2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        tn.dot(v, v[:2])
    m = tn.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert tn.inner(m, tn.stack([v, w])).tolist() == [[4.0, 10.0], [2.0, -5.0]]   # rows of m . rows of the other
    assert tn.inner(tn.tensor(2.0), m).tolist() == (m * 2).tolist()
    with pytest.raises(RuntimeError, match="last dimension must match"):
        tn.inner(m, tn.ones(2))


@pytest.mark.parametrize("p, expected", [(2, math.sqrt(27)), (1, 9.0), (0, 3.0), (INF, 3.0), (-INF, 3.0),
                                         (3, 81 ** (1 / 3))])
def test_dist_is_the_p_norm_of_the_difference(p, expected):
    assert tn.dist(tn.tensor([1.0, 2.0, 3.0]), tn.tensor([4.0, 5.0, 6.0]), p).item() == pytest.approx(expected, rel=1e-6)


def test_dist_broadcasts_refuses_integers_and_has_gradient_zero_at_zero():
    assert tn.dist(tn.ones(2, 1), tn.zeros(3)).item() == pytest.approx(math.sqrt(6))
    with pytest.raises(RuntimeError, match="dist"):
        tn.dist(tn.tensor([1, 2]), tn.tensor([1, 2]))
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    tn.dist(x, tn.tensor([1.0, 2.0])).backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_diff_takes_forward_differences_with_prepend_and_append():
    assert tn.diff(tn.tensor([1, 3, 6, 10])).tolist() == [2, 3, 4]
    assert tn.diff(tn.tensor([1, 3, 6, 10]), n=2).tolist() == [1, 1]
    assert tn.diff(tn.tensor([True, False, False, True])).tolist() == [True, False, True]
    m = tn.tensor([[1.0, 4.0, 9.0], [2.0, 2.0, 0.0]])
    assert tn.diff(m, dim=0).tolist() == [[1.0, -2.0, -9.0]]
    assert m.diff(1, 1, tn.zeros(2, 1), tn.ones(2, 1)).tolist() == [[1.0, 3.0, 5.0, -8.0], [2.0, 0.0, -2.0, 1.0]]
    same = tn.diff(m, n=0)
    assert same is not m and same.tolist() == m.tolist() and tn.diff(m, n=5).shape == (2, 0)
    assert tn.diff(tn.tensor([1, 2]), prepend=tn.tensor([0.5])).tolist() == [0.5, 1.0]
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        tn.diff(tn.tensor(1.0))
    with pytest.raises(RuntimeError, match="same dimension as input"):
        tn.diff(m, prepend=tn.zeros(3))
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.diff(m, n=-1)


def test_renorm_scales_the_slices_whose_norm_exceeds_maxnorm():
    x = tn.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])   # row norms 5, 0.5, 10
    y = tn.renorm(x, 2, 0, 1.0).numpy()
    np.testing.assert_allclose(y, [[0.6, 0.8], [0.3, 0.4], [0.6, 0.8]], rtol=1e-6)  # x / (||x|| + 1e-7) for the two long rows
    cols = x.renorm(1, 1, 5.0).numpy()                      # column 1-norms 9.3 and 12.4
    np.testing.assert_allclose(cols[:, 0], np.array([3.0, 0.3, 6.0]) * 5 / (9.3 + 1e-7), rtol=1e-6)
    np.testing.assert_allclose(tn.renorm(x, INF, 0, 4.0).numpy()[2], [3.0, 4.0], rtol=1e-6)   # max |x| = 8 -> 4
    for bad, match in [((2, 0, -1.0), "maxnorm"), ((0, 0, 1.0), "non-positive"), ((-1, 0, 1.0), "non-positive")]:
        with pytest.raises(RuntimeError, match=match):
            tn.renorm(x, *bad)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tn.renorm(tn.ones(3), 2, 0, 1.0)


# ---------------------------------------------------------------- order statistics
def test_aminmax_msort_and_mode():
    m = tn.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]])
    r = tn.aminmax(m)
    assert type(r).__name__ == "aminmax" and r._fields == ("min", "max") and (r.min.item(), r.max.item()) == (0.0, 5.0)
    assert tn.aminmax(m, dim=1, keepdim=True).max.tolist() == [[3.0], [5.0]]
    assert tn.aminmax(m, keepdim=True).min.shape == (1, 1)
    with pytest.raises(RuntimeError, match="empty dimension"):
        tn.aminmax(tn.zeros(0))
    assert tn.msort(m).tolist() == [[0.0, 1.0, 2.0], [3.0, 5.0, 5.0]]
    mode = tn.mode(tn.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
    assert type(mode).__name__ == "mode" and mode.values.item() == 1.0 and mode.indices.item() == 3  # tie: smaller, last index
    by_column = tn.mode(tn.tensor([[1, 2, 2], [3, 3, 1]]), 0)
    assert by_column.values.tolist() == [1, 2, 1] and by_column.indices.tolist() == [0, 0, 1]
    rows = tn.tensor([[1, 2, 2], [3, 3, 1]]).mode(keepdim=True)
    assert rows.values.tolist() == [[2], [3]] and rows.indices.tolist() == [[2], [1]]
    assert tn.mode(tn.tensor([True, False, True])).indices.item() == 2
    with pytest.raises(IndexError, match="non-zero size"):
        tn.mode(tn.zeros(0))


def test_mode_sends_the_gradient_to_its_index(backend_name):
    # (no central differences: moving one of the equal elements changes which value is the mode)
    x = tn.tensor([[1.0, 3.0, 3.0, 2.0], [0.0, 0.0, 2.0, 5.0]], dtype=tn.float64, requires_grad=True)
    r = tn.mode(x, 1)
    (g,) = tn.autograd.grad((r.values * tn.tensor([2.0, 3.0], dtype=tn.float64)).sum(), [x], create_graph=True)
    assert r.indices.tolist() == [2, 1] and g.tolist() == [[0, 0, 2, 0], [0, 3, 0, 0]]


def test_nanmedian_ignores_nans():
    assert tn.nanmedian(tn.tensor([1.0, NAN, 3.0, 2.0])).item() == 2.0
    assert math.isnan(tn.nanmedian(tn.tensor([NAN, NAN])).item()) and tn.nanmedian(tn.tensor([3, 1, 2, 4])).item() == 2
    r = tn.nanmedian(tn.tensor([[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [2.0, 1.0, 2.0, 2.0]]), 1)
    assert type(r).__name__ == "nanmedian" and r.indices.tolist() == [3, 0, 0]
    np.testing.assert_array_equal(r.values.numpy(), [2.0, NAN, 2.0])
    x = tn.tensor([1.0, NAN, 2.0, 2.0, 3.0, 2.0], requires_grad=True)
    tn.nanmedian(x).backward()                                    # shared by the three elements equal to it
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 1 / 3, 1 / 3, 0, 1 / 3], rtol=1e-6)


# ---------------------------------------------------------------- covariance and integration
def _weighted_cov(x, fw, aw, correction):
    """numpy.cov's (and PyTorch's) formula, in plain Python loops."""
    n = len(x[0])
    w = [fw[i] * aw[i] for i in range(n)]
    total = sum(w)
    mean = [sum(w[i] * row[i] for i in range(n)) / total for row in x]
    factor = total - correction * sum(w[i] * aw[i] for i in range(n)) / total
    return [[sum(w[i] * (r[i] - mr) * (s[i] - ms) for i in range(n)) / factor for s, ms in zip(x, mean)]
            for r, mr in zip(x, mean)]


def test_cov_and_corrcoef():
    x = tn.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]], dtype=tn.float64)   # means 1 and 7/6
    np.testing.assert_allclose(tn.cov(x).numpy(), [[1.0, -0.75], [-0.75, 7 / 12]], rtol=1e-12)
    np.testing.assert_allclose(x.cov(correction=0).numpy(), [[2 / 3, -0.5], [-0.5, 7 / 18]], rtol=1e-12)
    assert tn.cov(tn.tensor([1.0, 2.0, 4.0])).item() == pytest.approx(7 / 3) and tn.cov(tn.tensor([1.0, 2.0, 4.0])).ndim == 0
    fw, aw = [1, 2, 1], [0.5, 1.0, 2.0]
    got = tn.cov(x, correction=1, fweights=tn.tensor(fw), aweights=tn.tensor(aw, dtype=tn.float64))
    np.testing.assert_allclose(got.numpy(), _weighted_cov(x.tolist(), fw, aw, 1), rtol=1e-12)
    assert tn.cov(tn.tensor([[1, 2, 4]])).dtype == tn.float32
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert math.isinf(tn.cov(tn.tensor([[1.0, 2.0, 3.0]]), correction=3).item())   # divided by 0
    assert any("degrees of freedom" in str(w.message) for w in caught)
    for kwargs, match in [({"fweights": tn.tensor([1.0, 2.0, 1.0])}, "integral"), ({"aweights": tn.tensor([1, 2, 1])}, "floating"),
                          ({"aweights": tn.tensor([1.0, -2.0, 1.0])}, "negative"), ({"fweights": tn.tensor([1, 2])}, "one entry")]:
        with pytest.raises(RuntimeError, match=match):
            tn.cov(x, **kwargs)
    with pytest.raises(RuntimeError, match="two or fewer dimensions"):
        tn.cov(tn.ones(2, 2, 2))
    r = tn.corrcoef(x).numpy()
    np.testing.assert_allclose(r, [[1.0, -0.75 / math.sqrt(7 / 12)], [-0.75 / math.sqrt(7 / 12), 1.0]], rtol=1e-12)
    assert tn.corrcoef(tn.tensor([1.0, 2.0, 4.0])).item() == 1.0
    assert math.isnan(tn.corrcoef(tn.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])).numpy()[0, 1])   # a constant row


def test_trapezoid_trapz_and_cumulative_trapezoid():
    y, x = tn.tensor([1.0, 4.0, 9.0]), tn.tensor([0.0, 1.0, 3.0])
    assert tn.trapezoid(y).item() == 9.0 and tn.trapezoid(y, x).item() == 15.5 and tn.trapezoid(y, dx=2.0).item() == 18.0
    assert tn.trapz(y, x).item() == 15.5 and tn.trapz(y, dx=0.5).item() == 4.5
    assert tn.trapezoid(tn.tensor([1, 2, 3])).item() == 4.0 and tn.trapezoid(tn.tensor([1, 2, 3])).dtype == tn.float32
    assert tn.cumulative_trapezoid(y, x).tolist() == [2.5, 15.5] and tn.cumulative_trapezoid(y, dx=2.0).tolist() == [5.0, 18.0]
    m = tn.arange(6.0).reshape(2, 3)
    assert tn.trapezoid(m, dim=0).tolist() == [1.5, 2.5, 3.5] and tn.trapezoid(m, x).tolist() == [3.5, 12.5]
    assert tn.trapezoid(m, tn.tensor([[0.0, 1.0, 3.0], [0.0, 2.0, 3.0]])).tolist() == [3.5, 11.5]
    assert tn.trapezoid(tn.tensor([1.0])).item() == 0.0 and tn.trapezoid(tn.zeros(2, 0)).tolist() == [0.0, 0.0]
    assert tn.cumulative_trapezoid(tn.tensor([1.0])).shape == (0,)
    with pytest.raises(RuntimeError, match="one `x` value for each sample point"):
        tn.trapezoid(y, x[:2])
    with pytest.raises(TypeError, match="either x or dx"):
        tn.trapezoid(y, x, dx=1.0)
    with pytest.raises(RuntimeError, match="bool"):
        tn.trapezoid(tn.tensor([True, False]))


# ---------------------------------------------------------------- histograms and membership
def test_histc_counts_in_equal_bins_over_the_given_or_the_data_range():
    assert tn.histc(tn.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 0.0]
    assert tn.histc(tn.tensor([1.0, 2.0, 1.0, 5.0, -1.0, NAN]), 4, 0, 3).tolist() == [0.0, 2.0, 1.0, 0.0]  # outside, NaN: not counted
    assert tn.histc(tn.tensor([0.0, 3.0, 1.5, 0.3]), 2, 0, 3).tolist() == [2.0, 2.0]   # the last bin includes max
    assert tn.histc(tn.tensor([1.0, 2.0, 3.0]), bins=2).tolist() == [1.0, 2.0]          # the data's range [1, 3]
    assert tn.histc(tn.tensor([2.0, 2.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]     # one point: [1, 3]
    assert tn.histc(tn.tensor([], dtype=tn.float32), bins=3).tolist() == [0.0, 0.0, 0.0]
    assert tn.histc(tn.tensor([1.0], dtype=tn.float64), 2).dtype == tn.float64
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        tn.histc(tn.tensor([1.0]), 2, 3, 1)
    with pytest.raises(RuntimeError, match="not finite"):
        tn.histc(tn.tensor([1.0, INF]), 2)
    with pytest.raises(TypeError, match="histc"):
        tn.histc(tn.tensor([1, 2]))


def test_histogram_with_bin_counts_or_edges_weights_and_density():
    h = tn.histogram(tn.tensor([1.0, 2.0, 1.0, 2.5, 4.0]), 4)
    assert type(h).__name__ == "histogram" and h._fields == ("hist", "bin_edges")
    assert h.hist.tolist() == [2.0, 1.0, 1.0, 1.0] and h.bin_edges.tolist() == [1.0, 1.75, 2.5, 3.25, 4.0]
    assert tn.histogram(tn.tensor([2.0, 2.0]), 2).bin_edges.tolist() == [1.5, 2.0, 2.5]   # one point: +-1/2
    assert tn.histogram(tn.tensor([], dtype=tn.float32), 2).bin_edges.tolist() == [0.0, 0.5, 1.0]
    edges, w = tn.tensor([0.0, 1.5, 4.0]), tn.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    weighted = tn.histogram(tn.tensor([1.0, 2.0, 1.0, 2.5, 4.0]), edges, weight=w)
    assert weighted.hist.tolist() == [4.0, 11.0]
    dens = tn.histogram(tn.tensor([1.0, 2.0, 1.0, 2.5, 4.0]), edges, weight=w, density=True).hist.numpy()
    np.testing.assert_allclose(dens, [4 / (15 * 1.5), 11 / (15 * 2.5)], rtol=1e-6)      # integrates to 1
    x = tn.tensor(RNG.normal(size=200))
    dens = tn.histogram(x, 7, range=(-1.0, 1.0), density=True)
    assert float((dens.hist * dens.bin_edges.diff()).sum()) == pytest.approx(1.0)
    for args, kwargs, match in [((tn.tensor([1.0]), 2), {"range": (3.0, 1.0)}, "should not exceed"),
                                ((tn.tensor([1.0, NAN]), 2), {}, "not finite"),
                                ((tn.tensor([1.0]), tn.tensor([0.0, 1.0], dtype=tn.float64)), {}, "dtype"),
                                ((tn.tensor([1.0, 2.0]), 2), {"weight": tn.ones(2, dtype=tn.float64)}, "weight")]:
        with pytest.raises(RuntimeError, match=match):
            tn.histogram(*args, **kwargs)


def test_isin():
    e = tn.tensor([[1, 2], [3, 4]])
    assert tn.isin(e, tn.tensor([2, 3])).tolist() == [[False, True], [True, False]]
    assert tn.isin(e, 2, invert=True).tolist() == [[True, False], [True, True]]
    assert tn.isin(3, tn.tensor([1, 3])).item() is True
    assert tn.isin(tn.tensor([1.0, 2.5]), tn.tensor([1])).tolist() == [True, False]
    assert tn.isin(tn.tensor([NAN]), tn.tensor([NAN])).tolist() == [False]
    with pytest.raises(TypeError, match="isin"):
        tn.isin(2, 3)


# ---------------------------------------------------------------- windows, range, scalar_tensor
def _i0(x):
    return sum(((x / 2) ** k / math.factorial(k)) ** 2 for k in range(60))


def test_windows_closed_forms():
    np.testing.assert_allclose(tn.hann_window(4).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-7)          # periodic: M = 4
    np.testing.assert_allclose(tn.hann_window(5, periodic=False).numpy(), [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(tn.hamming_window(5, False).numpy(), [0.08, 0.54, 1.0, 0.54, 0.08], atol=1e-7)
    np.testing.assert_allclose(tn.hamming_window(3, False, alpha=0.6, beta=0.4).numpy(), [0.2, 1.0, 0.2], atol=1e-7)
    np.testing.assert_allclose(tn.blackman_window(3, False).numpy(), [0.0, 1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(tn.bartlett_window(5).numpy(), [0.0, 0.4, 0.8, 0.8, 0.4], atol=1e-7)
    k = tn.kaiser_window(5, False, beta=5.0, dtype=tn.float64).numpy()
    np.testing.assert_allclose(k, [1 / _i0(5.0), _i0(5 * math.sqrt(0.75)) / _i0(5.0), 1.0,
                                   _i0(5 * math.sqrt(0.75)) / _i0(5.0), 1 / _i0(5.0)], rtol=1e-12)
    assert tn.kaiser_window(6, beta=0.0).tolist() == [1.0] * 6                   # I0(0) = 1
    for window in (tn.hann_window, tn.hamming_window, tn.blackman_window, tn.bartlett_window, tn.kaiser_window):
        assert window(1).tolist() == [1.0] and window(0).shape == (0,) and window(3, dtype=tn.float64).dtype == tn.float64
        w = window(7, periodic=False).numpy()
        np.testing.assert_allclose(w, w[::-1], atol=1e-7)                        # symmetric
        np.testing.assert_allclose(window(6).numpy(), window(7, periodic=False).numpy()[:6], atol=1e-7)
    assert tn.hann_window(3, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tn.hann_window(4, dtype=tn.int64)
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.bartlett_window(-1)


def test_range_includes_its_end_and_warns_and_scalar_tensor():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = tn.range(1, 4)
    assert r.tolist() == [1.0, 2.0, 3.0, 4.0] and r.dtype == tn.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tn.range(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert tn.range(4, 1, -1).tolist() == [4.0, 3.0, 2.0, 1.0] and tn.range(1, 3, dtype=tn.int64).tolist() == [1, 2, 3]
        np.testing.assert_allclose(tn.range(0.0, 1.0, 0.3).numpy(), [0.0, 0.3, 0.6, 0.9], rtol=1e-6)
        with pytest.raises(RuntimeError, match="nonzero"):
            tn.range(1, 4, 0)
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            tn.range(4, 1)
    s = tn.scalar_tensor(3)
    assert s.shape == () and s.dtype == tn.float32 and s.item() == 3.0
    assert tn.scalar_tensor(2.5, dtype=tn.int64).item() == 2 and tn.scalar_tensor(True).item() == 1.0
    assert tn.scalar_tensor(1.5, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="must be a number"):
        tn.scalar_tensor([1.0])


# ---------------------------------------------------------------- gradients, to the second order, on both backends
C3 = RNG.normal(size=(3, 2, 4))
D3 = RNG.normal(size=(3, 4, 2))
X = RNG.normal(size=(3, 6))
GRADIENT_CASES = {
    "acosh": (lambda x: tn.acosh(x), [1.5 + P]),
    "asinh": (lambda x: tn.asinh(x), [A]),
    "atanh": (lambda x: tn.atanh(x), [np.tanh(A)]),
    "atan2": (lambda a, b: tn.atan2(a, b), [A, B]),
    "atan2 broadcast": (lambda a, b: tn.arctan2(a, b), [A, B[0]]),
    "fmax": (lambda a, b: tn.fmax(a, b), [A, B]),
    "fmin": (lambda a, b: tn.fmin(a, b), [A, B]),
    "frexp": (lambda x: tn.frexp(x).mantissa, [A * 10]),
    "addcmul": (lambda x, a, b: tn.addcmul(x, a, b, value=0.7), [A, B, P]),
    "addcdiv": (lambda x, a, b: tn.addcdiv(x, a, b, value=-1.5), [A, B, P]),
    "addr": (lambda x, v, w: tn.addr(x, v, w, beta=0.5, alpha=2), [A, B[:, 0], B[0]]),
    "addbmm": (lambda x, b1, b2: tn.addbmm(x, b1, b2, beta=0.5, alpha=2), [A[:, :2], C3, D3]),
    "dot": (lambda v, w: tn.dot(v, w), [A[0], B[0]]),
    "inner": (lambda a, b: tn.inner(a, b), [A, B]),
    "dist 2": (lambda a, b: tn.dist(a, b), [A, B]),
    "dist 3.5": (lambda a, b: tn.dist(a, b, 3.5), [A, B]),
    "dist inf": (lambda a, b: tn.dist(a, b, INF), [A, B]),
    "diff": (lambda x, p: tn.diff(x, 2, 1, prepend=p), [A, B[:, :1]]),
    "renorm": (lambda x: tn.renorm(x, 2, 0, 1.5), [A]),
    "aminmax": (lambda x: tn.aminmax(x, dim=1), [A]),
    "msort": (lambda x: tn.msort(x), [A]),
    "nanmedian": (lambda x: tn.nanmedian(x, 1).values, [np.array([[1.0, NAN, 2.5, 2.0, 3.0], [5.0, 1.0, NAN, NAN, 0.0]])]),
    "cov": (lambda x, aw: tn.cov(x, fweights=tn.tensor([1, 2, 1, 3, 0, 1]), aweights=aw), [X, RNG.uniform(0.5, 2, 6)]),
    "corrcoef": (lambda x: tn.corrcoef(x), [X]),
    "trapezoid": (lambda y, x: tn.trapezoid(y, x), [X, np.sort(RNG.normal(size=6))]),
    "trapezoid dx": (lambda y: tn.trapezoid(y, dx=0.3, dim=0), [X]),
    "cumulative_trapezoid": (lambda y, x: tn.cumulative_trapezoid(y, x), [X, np.sort(RNG.normal(size=6))]),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradients_and_gradients_of_gradients(name, backend_name):
    fn, arrays = GRADIENT_CASES[name]
    inputs = [t64(a) for a in arrays]
    assert tn.gradcheck(fn, *inputs)
    assert tn.gradgradcheck(fn, *inputs)
