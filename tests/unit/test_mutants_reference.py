"""Tests that kill mutants mutmut left alive in the reference backend (scripts/mutation.py; report
in docs/mutation-report.md), called directly: its default arguments (the signatures mirror NumPy's
and the compiled backend's), the dtypes of its int8 and requantization results, its multi-tensor
optimizer steps (every argument reaches each tensor; mismatched lists are refused by name), the
-100 clamp of binary cross-entropy's target gradient, and each activation by name in
linear_backward, all against closed forms written here."""
import importlib
import math

import numpy as np
import pytest

# the readable backend: numpy_ref.py, or reference.py after its rename
ref = next(importlib.import_module(f"tinynn.backend.{name}") for name in ("reference", "numpy_ref")
           if importlib.util.find_spec(f"tinynn.backend.{name}") is not None)

X = np.arange(1.0, 7.0).reshape(2, 3)


@pytest.mark.parametrize("name, numpy_fn", [("sum", np.sum), ("mean", np.mean), ("amax", np.max), ("amin", np.min)])
def test_reductions_default_to_no_keepdims(name, numpy_fn):
    assert np.shape(getattr(ref, name)(X)) == ()
    assert getattr(ref, name)(X, axis=1).shape == (2,)
    np.testing.assert_array_equal(getattr(ref, name)(X, axis=0), numpy_fn(X, axis=0))


def test_int8_results_have_their_documented_dtypes():
    a = np.full((2, 3), -128, np.int8)
    c = ref.int8_matmul(a, a.T)
    assert c.dtype == np.int32 and c[0, 0] == 3 * 128 * 128
    q = ref.quantize_rows(np.array([[0.5, -300.0]], np.float32), 1.0)
    assert q.dtype == np.int8 and q.tolist() == [[0, -128]]
    # the scale is taken as float32 (1.0000000001 -> 1.0), so 1.5 and 2.5 stay exact ties
    q = ref.quantize_rows(np.array([[1.5, 2.5]], np.float32), np.array([np.float64(1.0000000001)]))
    assert q.tolist() == [[2, 2]]     # round half to even (in float64, 1.5 / 1.0000000001 would round to 1)
    y = ref.requantize(np.array([[3, -4]], np.int32), np.array([0.5]), np.array([2.0, 0.25]))
    assert y.dtype == np.float32 and y.tolist() == [[3.0, -0.5]]
    y = ref.int8_linear(np.array([[1, 2]], np.int8), np.array([[3, 4], [-5, -6]], np.int8), 0.5, np.array([1.0, 2.0]))
    assert y.dtype == np.float32 and y.tolist() == [[5.5, -17.0]]      # relu_after defaults to False
    y = ref.requantize(np.arange(6, dtype=np.int32).reshape(2, 3), np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]))
    assert y.tolist() == [[0.0, 10.0, 200.0], [6.0, 80.0, 1000.0]]     # s_row down the rows, s_col along them


def test_fake_quantize_closed_form():
    x = np.array([-1.0, 0.26, 0.5, 0.74, 3.0], np.float32)
    y, inside = ref.fake_quantize(x, 0.5, 1, -2, 4)      # q = rint(x / 0.5) + 1 = [-1, 2, 2, 2, 7]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [-1.0, 0.5, 0.5, 0.5, 1.5])      # s (clamp(q, -2, 4) - 1)
    np.testing.assert_array_equal(inside, [True, True, True, True, False])
    y, inside = ref.fake_quantize(np.array([-1.5, 2.0]), np.array([0.5, 1.0]), 0, -3, 2)
    np.testing.assert_array_equal(y, [-1.5, 2.0])        # q = -3 and 2: exactly the ends, still inside
    np.testing.assert_array_equal(inside, [True, True])


def test_float32_losses_stay_float32():
    p = np.array([0.2, 0.7], np.float32)
    gp, gt = ref.binary_cross_entropy_backward(p, np.array([0.0, 1.0], np.float32), np.ones(2))
    assert gp.dtype == gt.dtype == np.float32
    assert ref.binary_cross_entropy_with_logits(p, np.ones(2)).dtype == np.float32


def test_sgd_step_multi_passes_every_argument_and_checks_lengths():
    p = [np.ones(2), np.full(2, 2.0)]
    g = [np.full(2, 0.5), np.full(2, 1.0)]
    b = [np.full(2, 1.0), np.full(2, 1.0)]
    ref.sgd_step_multi(p, g, b, 0.1, 0.9, 0.5, 0.2, False, False)
    # g' = g + wd p; b = mu b + (1 - damp) g'; p -= lr b
    for p0, g0, pk, bk in ((1.0, 0.5, p[0], b[0]), (2.0, 1.0, p[1], b[1])):
        gw = g0 + 0.2 * p0
        np.testing.assert_allclose(bk, 0.9 * 1.0 + 0.5 * gw, rtol=1e-15)
        np.testing.assert_allclose(pk, p0 - 0.1 * (0.9 + 0.5 * gw), rtol=1e-15)
    p, b = [np.ones(2)], [np.full(2, np.nan)]
    ref.sgd_step_multi(p, [np.full(2, 0.5)], b, 0.1, 0.9, 0.0, 0.0, False, True)   # first step: b = g
    np.testing.assert_array_equal(b[0], [0.5, 0.5])
    np.testing.assert_allclose(p[0], [0.95, 0.95], rtol=1e-15)
    p = [np.ones(2)]
    ref.sgd_step_multi(p, [np.ones(2)], None, 0.5, 0.0, 0.0, 0.0, False, True)   # no buffers without momentum
    np.testing.assert_array_equal(p[0], [0.5, 0.5])
    with pytest.raises(ValueError, match="^sgd_step_multi: params, grads and momentum_buffers differ in length$"):
        ref.sgd_step_multi([np.ones(2)], [], None, 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="^adam_step_multi: params, grads, exp_avgs and exp_avg_sqs differ in length$"):
        ref.adam_step_multi([np.ones(2)], [np.ones(2)], [], [], 1, 0.1, 0.9, 0.999, 1e-8, 0.0, False)


def test_binary_cross_entropy_target_gradient_clamps_each_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.5])
    gp, gt = ref.binary_cross_entropy_backward(p, np.array([0.0, 1.0, 1.0]), np.ones(3))
    np.testing.assert_allclose(gt, [np.maximum(np.log(1.0), -100) + 100, -100 - 0.0, 0.0], atol=1e-12)
    assert gp.dtype == p.dtype


@pytest.mark.parametrize("act, derivative", [("relu", lambda y: (y > 0).astype(float)),
                                             ("sigmoid", lambda y: y * (1 - y)),
                                             ("tanh", lambda y: 1 - y * y),
                                             ("none", lambda y: np.ones_like(y))])
def test_linear_backward_by_activation_name_and_needs(act, derivative):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    y = {"relu": np.maximum(x @ w.T, 0), "sigmoid": 1 / (1 + np.exp(-(x @ w.T))), "tanh": np.tanh(x @ w.T),
         "none": x @ w.T}[act]
    g = rng.standard_normal((4, 2))
    d = g * derivative(y)
    dx, dw, db = ref.linear_backward(x, w, y, g, act)
    np.testing.assert_allclose(dx, d @ w, rtol=1e-13)
    np.testing.assert_allclose(dw, d.T @ x, rtol=1e-13)
    np.testing.assert_allclose(db, d.sum(axis=0), rtol=1e-13)
    assert ref.linear_backward(x, w, y, g, act, (False, True, True))[0] is None
    assert ref.linear_backward(x, w, y, g, act, (True, False, True))[1] is None
    assert ref.linear_backward(x, w, y, g, act, (True, True, False))[2] is None
    if act == "none":
        np.testing.assert_allclose(ref.linear_backward(x, w, None, g)[0], g @ w, rtol=1e-13)   # the default
    else:   # activation_backward was folded into linear_backward; each activation's own backward remains
        np.testing.assert_allclose(getattr(ref, act + "_backward")(y, g), d, rtol=1e-13)


# ---------------------------------------------------------------- int8 Linear, fake quantization, erf, cross-entropy
def _exact_q(x, s, z, qmin, qmax):
    """clamp(round(f32(f32(x) * f32(1 / f32(s)) + z)), qmin, qmax) in exact rationals."""
    from fractions import Fraction
    from helpers.exact import nearest_f32
    inv = nearest_f32(1 / Fraction(float(np.float32(s))))
    return np.array([min(max(round(nearest_f32(Fraction(float(np.float32(v))) * inv + z)), qmin), qmax)
                     for v in np.ravel(x)], np.int64).reshape(np.shape(x))


def test_quantized_linear_clamps_to_seven_bits_and_keeps_float32():
    """y = float32(acc - z_a sum_k W_jk) (s_a s_w[j]) + b_j, a = clamp(q, 0, 127); no activation by default."""
    w = np.array([[1, -2, 3], [-4, 5, 6]], np.int8)
    x = np.array([[-5.0, 0.3, 20.0], [0.0, -0.1, 1.2]], np.float32)   # below and above the range [-1, 11.7]
    s_a, z_a = 0.1, 10
    a = _exact_q(x, s_a, z_a, 0, 127)
    assert a.min() == 0 and a.max() == 127
    acc = a @ w.T.astype(np.int64) - z_a * w.sum(axis=1).astype(np.int64)
    w_scale, bias = np.array([0.5, 0.25]), np.array([1.0, -2.0])      # float64 in: float32 arithmetic out
    want = acc.astype(np.float32) * (np.float32(s_a) * w_scale.astype(np.float32)) + bias.astype(np.float32)
    y = ref.quantized_linear(x, w, s_a, z_a, w_scale, bias)
    assert y.dtype == np.float32 and np.any(y < 0)
    np.testing.assert_array_equal(y, want)
    from tinynn import kernels as K
    np.testing.assert_array_equal(ref.quantized_linear(x, K.PackedInt8Weight(w), s_a, z_a, w_scale, bias), want)


def test_fake_quantize_and_quantize_rows_use_the_float32_scale():
    # s = 0.6405920704482397: f32(1 / f32(s)) and f32(1 / s) differ by an ulp, which moves values at half steps
    s = 0.6405920704482397
    inv = np.float32(1) / np.float32(s)
    x = ((np.arange(-60, 60) + 0.5) / np.float64(inv)).astype(np.float32)
    x = np.concatenate([np.nextafter(x, np.float32(-np.inf)), x, np.nextafter(x, np.float32(np.inf))])
    q = _exact_q(x, s, 0, -128, 127)
    np.testing.assert_array_equal(ref.quantize_rows(x.reshape(1, -1), s), q.reshape(1, -1))
    y, inside = ref.fake_quantize(x, s, 0, -128, 127)
    np.testing.assert_array_equal(y, (q * np.float32(s)).astype(np.float32))
    assert inside.all()


def test_erf_keeps_float_dtypes_and_gives_float64_for_integers():
    for dtype in (np.float32, np.float64):
        x = np.array([-1.0, 0.0, 0.5], dtype)
        assert ref.erf(x).dtype == dtype
    y = ref.erf(np.array([0, 1, 2]))
    assert y.dtype == np.float64 and y.tolist() == [0.0, math.erf(1), math.erf(2)]


def test_cross_entropy_backward_in_float32_throughout():
    """(softmax - q) grad with q = ls / C + (1 - ls) onehot, every step rounded in float32 as the inputs are."""
    probs = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], np.float32)
    target, grad = np.array([2, 0]), np.array([1.0, 0.5], np.float32)
    q = np.full((2, 3), np.float32(0.1 / 3), np.float32)
    q[[0, 1], target] += np.float32(1 - 0.1)
    want = (probs - q) * grad[:, None]
    got = ref.cross_entropy_backward(probs, target, 0.1, grad)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_linear_defaults_to_no_activation():
    x, w, b = np.array([[1.0, -2.0]]), np.array([[3.0, 1.0], [-1.0, 0.5]]), np.array([0.5, -4.0])
    np.testing.assert_array_equal(ref.linear(x, w, b), [[1.5, -6.0]])          # x W^T + b, negatives kept
    np.testing.assert_array_equal(ref.linear(x, w, None), [[1.0, -2.0]])


# ---------------------------------------------------------------- power, softplus, leaky_relu, sgd, cross-entropy, int8 conv
def test_power_cubes_floats_as_x_x_x_and_takes_python_scalars():
    """PyTorch computes a float x ** 3 as (x x) x, two roundings, which is not the correctly rounded pow."""
    for x in (np.array([1.2573022, -1.3210486, 1.0490011], np.float32), np.array([2.02387557, -16.15675735, 6.12786122])):
        y = ref.power(x, 3)
        assert y.dtype == x.dtype
        np.testing.assert_array_equal(y, (x * x) * x)
        assert np.any(y != np.power(x, 3))          # these x were picked where the two differ
        np.testing.assert_array_equal(ref.power(x, 2), x * x)
    np.testing.assert_array_equal(ref.power(np.array([3.0, -2.0], np.float32), 4), [81.0, 16.0])
    assert ref.power(np.array([3.0]), 4).dtype == np.float64
    assert ref.power(1.5, 2) == 2.25 and ref.power(2, 3) == 8 and ref.power(-2.0, 3) == -8.0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = ref.power(np.array([0.0, -8.0, 4.0]), np.array([-1.0, 1 / 3, 0.5]))
    assert y[0] == np.inf and np.isnan(y[1]) and y[2] == 2.0     # 0 ** -1 = inf, negative ** fraction = nan


def test_softplus_is_smooth_at_the_threshold_itself():
    """PyTorch: x where beta x > threshold, else ln(1 + e^(beta x)) / beta, so beta x = threshold is smooth."""
    x = np.array([20.0, 10.0, 21.0])
    y = ref.softplus(x, 1.0, 20.0)
    np.testing.assert_allclose(y[:2], np.log1p(np.exp(x[:2])), rtol=1e-15)
    assert y[0] > 20.0 and y[2] == 21.0                         # ln(1 + e^20) = 20 + 2.06e-9
    np.testing.assert_allclose(ref.softplus(np.array([10.0]), 2.0, 20.0), [np.log1p(np.exp(20.0)) / 2], rtol=1e-15)
    g = ref.softplus_backward(x, np.full(3, 2.0), 1.0, 20.0)
    np.testing.assert_allclose(g, [2 / (1 + np.exp(-20.0)), 2 / (1 + np.exp(-10.0)), 2.0], rtol=1e-15)
    assert g[0] < 2.0


def test_leaky_relu_at_zero_is_slope_times_zero():
    """PyTorch's x > 0 ? x : slope x: at +0 with a negative slope that is -0 (and +0 at -0)."""
    y = ref.leaky_relu(np.array([0.0, -0.0, -2.0, 3.0]), -0.5)
    np.testing.assert_array_equal(y, [0.0, 0.0, 1.0, 3.0])
    assert np.signbit(y).tolist() == [True, False, False, False]


def test_sgd_step_without_weight_decay_adds_no_decay_term():
    """weight_decay = 0 adds nothing, not 0 p (which is nan for p = inf): an infinite weight stays infinite."""
    p, b = np.array([np.inf, 1.0]), np.zeros(2)
    ref.sgd_step(p, np.array([1.0, 2.0]), b, 0.1, 0.9, 0.0, 0.0, False, True)
    np.testing.assert_array_equal(b, [1.0, 2.0])
    np.testing.assert_array_equal(p, [np.inf, 0.8])
    ref.sgd_step(p, np.array([1.0, 2.0]), b, 0.1, 0.9, 0.0, 0.0, True, False)   # b = 0.9 b + g; g + 0.9 b
    np.testing.assert_allclose(b, [1.9, 3.8], rtol=1e-15)
    np.testing.assert_allclose(p[1], 0.8 - 0.1 * (2.0 + 0.9 * 3.8), rtol=1e-15)
    assert p[0] == np.inf


def test_cross_entropy_without_smoothing_ignores_impossible_classes():
    """A -inf logit has log-probability -inf; without smoothing it is never summed (0 (-inf) would be nan)."""
    loss, probs = ref.cross_entropy(np.array([[0.0, -np.inf], [np.log(3.0), 0.0]]), np.array([0, 1]))
    np.testing.assert_allclose(loss, [0.0, np.log(4.0)], rtol=1e-15)
    np.testing.assert_allclose(probs, [[1.0, 0.0], [0.75, 0.25]], rtol=1e-15)
    loss, probs = ref.cross_entropy(np.zeros((0, 0)), np.zeros(0, np.int64))   # no classes: no 0 / C
    assert loss.shape == (0,) and probs.shape == (0, 0)


def test_quantized_conv2d_takes_packed_weights_by_group():
    """Exact: x = s_a (a - z_a) on the grid (a in [0, 127]: x >= -1.5), so y = sum x w s_w + b (zero padding quantizes to z_a)."""
    from tinynn import kernels as K
    x = np.array([[[[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [3.0, 1.0, -1.5]],
                   [[-1.5, 0.5, 1.0], [0.0, 2.5, -1.0], [1.0, -0.5, 0.5]]]], np.float32)   # (1, 2, 3, 3)
    w = np.array([[[[1, -2], [3, 0]]], [[[-1, 1], [2, 2]]], [[[0, 1], [-3, 1]]], [[[2, 0], [1, -1]]]], np.int8)
    w_scale, bias = np.array([0.5, 1.0, 2.0, 0.25]), np.array([1.0, -1.0, 0.0, 2.0])
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 0), (0, 1)))      # top 1, right 1
    want = np.zeros((1, 4, 3, 3))
    for o in range(4):
        for i in range(3):
            for j in range(3):
                want[0, o, i, j] = np.sum(xp[0, o // 2, i:i + 2, j:j + 2] * w[o, 0]) * w_scale[o] + bias[o]
    groups = [w[:2].reshape(2, 4), w[2:].reshape(2, 4)]
    for packed in (groups, [K.PackedInt8Weight(g) for g in groups]):
        y = ref.quantized_conv2d(x, packed, (2, 2), (1, 1), (1, 0, 0, 1), (1, 1), 0.5, 3, w_scale, bias)
        assert y.dtype == np.float32 and y.shape == (1, 4, 3, 3)
        np.testing.assert_array_equal(y, want)
