"""int8 quantization: MinMaxObserver formulas, round trips, the int8 layer's error bound, STE, QAT,
saving and loading, sizes, errors."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinynn as tn
from tinynn import nn, optim, quantize as Q
from tinynn.backend import reference as reference_backend
from helpers.exact import nearest_f32

F32 = np.float32
EPS = float(np.finfo(np.float32).eps)


def mlp(*sizes, act=nn.ReLU):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("lo, hi, dtype, symmetric, scale, zp", [
    (-1.0, 2.0, "int8", False, F32(3.0) / F32(255), -43),          # -128 - round(-85) = -43
    (-1.0, 2.0, "int8", True, F32(2.0) / F32(127.5), 0),
    (-1.0, 2.0, "uint8", True, F32(2.0) / F32(127.5), 128),
    (-1.0, 2.0, "uint8", False, F32(3.0) / F32(255), 85),
    (0.0, 0.0, "int8", True, EPS, 0),                                # all-zero range: s = eps
    (0.0, 0.0, "int8", False, EPS, -128),
    (0.0, 0.0, "uint8", False, EPS, 0),
    (0.0, 0.0, "uint8", True, EPS, 128),
    (0.5, 2.0, "uint8", False, F32(2.0) / F32(255), 0),             # positive only: min- = 0
    (0.5, 2.0, "int8", False, F32(2.0) / F32(255), -128),
    (-2.0, -1.0, "int8", False, F32(2.0) / F32(255), 127),          # negative only: max+ = 0
    (-3.0, -1.0, "uint8", True, F32(3.0) / F32(127.5), 128),
    (-3.0, -1.0, "int8", True, F32(3.0) / F32(127.5), 0),
    (-128.5 / 64, 126.5 / 64, "int8", False, 1 / 64, 0),            # round(-128.5) = -128 (half to even)
    (-128.5 / 64, 126.5 / 64, "uint8", False, 1 / 64, 128),
    (-129.5 / 64, 125.5 / 64, "int8", False, 1 / 64, 2),            # round(-129.5) = -130
])
def test_calc_qparams_hand_computed(lo, hi, dtype, symmetric, scale, zp):
    s, z = Q.calc_qparams(lo, hi, dtype, symmetric)
    assert isinstance(s, float) and isinstance(z, int)
    assert s == float(F32(scale)) and z == zp


def test_calc_qparams_per_channel_and_errors():
    s, z = Q.calc_qparams(np.array([-1.0, 0.0, 0.5]), np.array([2.0, 0.0, 4.0]), "int8", False)
    assert s.dtype == np.float32 and z.dtype == np.int64
    np.testing.assert_array_equal(s, np.array([3 / 255, EPS, 4 / 255], np.float32))
    np.testing.assert_array_equal(z, [-43, -128, -128])
    with pytest.raises(ValueError, match="min_val <= max_val"):
        Q.calc_qparams(1.0, 0.0)
    with pytest.raises(ValueError, match="int8"):
        Q.calc_qparams(0.0, 1.0, dtype="int4")


def test_quantize_rounds_half_to_even_and_clamps():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 300.0, -300.0], np.float32)
    np.testing.assert_array_equal(Q.quantize_tensor(x, 1.0, 0, "int8"), [0, 2, 2, 0, -2, 127, -128])
    np.testing.assert_array_equal(Q.quantize_tensor(x, 1.0, 128, "uint8"), [128, 130, 130, 128, 126, 255, 0])
    assert Q.quantize_tensor(x, 1.0, 0, "uint8").dtype == np.uint8
    np.testing.assert_array_equal(Q.dequantize_tensor(np.array([-128, 0, 127], np.int8), 0.5, -1), [-63.5, 0.5, 64.0])


@given(lo=st.floats(-1e3, 1e3, width=32), width=st.floats(0, 1e3, width=32), dtype=st.sampled_from(["int8", "uint8"]),
       symmetric=st.booleans(), u=st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_round_trip_error_at_most_half_a_step_inside_the_range(lo, width, dtype, symmetric, u):
    hi = float(F32(lo + width))
    s, z = Q.calc_qparams(lo, hi, dtype, symmetric)
    qmin, qmax = Q.QRANGES[dtype]
    a, b = s * (qmin - z), s * (qmax - z)  # the representable range
    x = (a + (b - a) * np.array(u)).astype(np.float32)
    x = x[(x >= a) & (x <= b)]
    assume(x.size)
    q = Q.quantize_tensor(x, s, z, dtype)
    err = np.abs(Q.dequantize_tensor(q, s, z).astype(np.float64) - x)
    assert np.all(err <= s / 2 * (1 + 1e-5) + 1e-6 * np.abs(x))


def test_per_channel_quantize_along_axis():
    w = np.array([[1.0, -2.0, 0.5], [0.01, 0.02, -0.03]], np.float32)
    s, z = Q.calc_qparams(w.min(axis=1), w.max(axis=1), "int8", True)
    q = Q.quantize_tensor(w, s, z, "int8", axis=0)
    np.testing.assert_array_equal(q[0], np.rint(w[0] / s[0]).clip(-128, 127))
    np.testing.assert_array_equal(q[1], np.rint(w[1] / s[1]).clip(-128, 127))
    qt = Q.quantize_tensor(w.T, s, z, "int8", axis=1)
    np.testing.assert_array_equal(qt, q.T)
    with pytest.raises(ValueError, match="per-channel"):
        Q.quantize_tensor(w, s, z, "int8", axis=1)


def _bound(x, q):
    """|y^ - y|_ij <= (s_a / 2) sum_k |w^_jk| + (s_w[j] / 2) sum_k |x_ik| for inputs inside the range."""
    w_hat = Q.dequantize_tensor(q.weight, q.weight_scale, 0, axis=0)
    if q.static:
        s_a = float(q.input_scale[0])
    else:
        s_a, _ = Q.calc_qparams(x.min(), x.max(), "uint8", symmetric=False, reduce_range=True)
    return s_a / 2 * np.abs(w_hat).sum(axis=1)[None, :] + q.weight_scale[None, :] / 2 * np.abs(x).sum(axis=1)[:, None]


@given(n=st.integers(1, 9), k=st.integers(1, 40), m=st.integers(1, 12), shift=st.floats(-2, 2), seed=st.integers(0, 99))
def test_int8_layer_within_the_bound_the_scales_imply(n, k, m, shift, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(k, m)
    x = (rng.standard_normal((n, k)) + shift).astype(np.float32)
    with tn.no_grad():
        y = layer(tn.tensor(x)).numpy()
    for q in (Q.quantize_dynamic(layer), Q.quantize_static(layer, [x])):
        assert isinstance(q, Q.QuantizedLinear)
        y_hat = q(x).numpy()
        assert y_hat.dtype == np.float32 and y_hat.shape == y.shape
        assert np.all(np.abs(y_hat - y) <= _bound(x, q) * (1 + 1e-5) + 1e-5 * (1 + np.abs(y)))


def test_int8_model_matches_its_own_dequantized_arithmetic(backend_name):
    """The int8 path equals the float computation on dequantized operands (exactly up to float rounding)."""
    tn.manual_seed(1)
    model = mlp(20, 30, 7)
    x = np.random.default_rng(0).standard_normal((11, 20)).astype(np.float32)
    q = Q.quantize_dynamic(model)
    layer = q[0]
    s_a, z_a = Q.calc_qparams(x.min(), x.max(), "uint8", False, reduce_range=True)
    x_hat = Q.dequantize_tensor(Q.quantize_tensor(x, s_a, z_a, "uint8"), s_a, z_a)
    w_hat = Q.dequantize_tensor(layer.weight, layer.weight_scale, 0)
    expected = np.maximum(x_hat.astype(np.float64) @ w_hat.T + layer.bias, 0)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert layer.activation_name == "relu" and isinstance(q[1], nn.Identity)
    with tn.use_backend("numpy"):
        ref = q(x).numpy()
    np.testing.assert_allclose(q(x).numpy(), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("act", [nn.ReLU, nn.Sigmoid, nn.Tanh])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_activation_and_zero_point_fold_match_dequantized_arithmetic(act, bias):
    """act(x^ W^T + b) on dequantized operands, with a non-zero input zero point (folded into the
    bias, or a bias of its own when the layer has none) and the activation fused even as the last module."""
    tn.manual_seed(2)
    model = nn.Sequential(nn.Linear(9, 6, bias=bias), act())
    x = (np.random.default_rng(1).standard_normal((5, 9)) + 1.5).astype(np.float32)
    q = Q.quantize_dynamic(model)
    layer = q[0]
    assert layer.activation_name == act.activation and isinstance(q[1], nn.Identity)
    s_a, z_a = Q.calc_qparams(x.min(), x.max(), "uint8", False, reduce_range=True)
    assert z_a != 0
    x_hat = Q.dequantize_tensor(Q.quantize_tensor(x, s_a, z_a, "uint8"), s_a, z_a)
    z = x_hat.astype(np.float64) @ Q.dequantize_tensor(layer.weight, layer.weight_scale, 0).T
    z = z + layer.bias if bias else z
    expected = {"relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z)}[act.activation]
    np.testing.assert_allclose(q(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_an_activation_with_a_hook_is_not_fused():
    calls = []
    model = mlp(4, 3, 2)
    model[1].register_forward_hook(lambda module, args, out: calls.append(out.shape))
    q = Q.quantize_dynamic(model)
    assert q[0].activation_name == "none" and type(q[1]) is nn.ReLU
    q(np.ones((2, 4), np.float32))
    assert calls == [(2, 3)]


def test_qat_input_range_is_a_moving_average_in_training_and_frozen_in_eval():
    layer = Q.prepare_qat(nn.Linear(2, 1))
    layer(tn.tensor([[-1.0, 2.0]]))  # the first batch sets the range
    assert (layer.input_min[0], layer.input_max[0]) == (-1.0, 2.0)
    layer(tn.tensor([[-3.0, 4.0]]))  # later ones move it by c = 0.01 of the way
    c = F32(0.01)
    lo, hi = F32(-1) + c * (F32(-3) - F32(-1)), F32(2) + c * (F32(4) - F32(2))
    assert (layer.input_min[0], layer.input_max[0]) == (lo, hi)
    layer.eval()
    layer(tn.tensor([[-10.0, 10.0]]))
    assert (layer.input_min[0], layer.input_max[0]) == (lo, hi)
    fresh = Q.prepare_qat(nn.Linear(2, 1)).eval()  # never trained: its first batch still sets the range
    fresh(tn.tensor([[-0.5, 0.25]]))
    assert (fresh.input_min[0], fresh.input_max[0]) == (-0.5, 0.25)


def test_static_clips_outside_the_calibrated_range():
    layer = nn.Linear(3, 2)
    q = Q.quantize_static(layer, [np.array([[0.0, 0.5, 1.0]], np.float32)])
    inside = np.array([[1.0, 1.0, 1.0]], np.float32)
    outside = np.array([[5.0, 5.0, 5.0]], np.float32)
    np.testing.assert_array_equal(q(outside).numpy(), q(inside).numpy())


def test_observers():
    model = mlp(4, 3)
    batches = [np.linspace(-1, 1, 4 * 50, dtype=np.float32).reshape(50, 4), np.full((2, 4), 3.0, np.float32)]
    assert Q.observe(model, batches, "minmax")["0"] == (-1.0, 3.0)
    lo, hi = Q.observe(model, batches, "percentile", percentile=90)["0"]
    assert lo == pytest.approx((np.percentile(batches[0], 10) + 3.0) / 2)
    assert hi == pytest.approx((np.percentile(batches[0], 90) + 3.0) / 2)
    loader = tn.data.DataLoader(tn.data.TensorDataset(batches[0], np.zeros(50, np.int64)), batch_size=16)
    assert Q.observe(model, loader)["0"] == (-1.0, 1.0)  # (input, target) batches


def test_fake_quantize_forward_and_clipped_ste():
    x = tn.tensor(np.array([-300.0, -128.4, -128.6, -3.2, 0.0, 2.5, 126.6, 127.4, 127.6, 500.0]), requires_grad=True)
    y = tn.ops.FakeQuantize.apply(x, scale=1.0, zero_point=0, qmin=-128, qmax=127)
    np.testing.assert_array_equal(y.numpy(), [-128, -128, -128, -3, 0, 2, 127, 127, 127, 127])
    g = np.arange(1.0, 11.0)
    y.backward(g)
    #                 q: -300   -128   -129   -3   0   2   127  127  128  500
    np.testing.assert_array_equal(x.grad, g * np.array([0, 1, 0, 1, 1, 1, 1, 1, 0, 0]))


def test_qat_layer_gradients_are_straight_through():
    tn.manual_seed(0)
    qat = Q.prepare_qat(mlp(5, 4))
    x = tn.randn(8, 5)
    qat(x).sum().backward()
    layer = qat[0]
    # dL/dW = (sum_n x^_n) where round(W / s) is inside [-128, 127], else 0 (the largest positive weight of a
    # row sits at +127.5 steps and rounds to 128: outside, as with PyTorch's symmetric per-channel fake quant)
    s_a, z_a = layer.input_qparams()
    x_hat = Q.dequantize_tensor(Q.quantize_tensor(x.numpy(), s_a, z_a), s_a, z_a)
    s_w, _ = Q.calc_qparams(layer.weight.numpy().min(axis=1), layer.weight.numpy().max(axis=1), "int8", True)
    q = np.rint(layer.weight.numpy() / s_w[:, None])
    inside = (q >= -128) & (q <= 127)
    assert 0 < inside.sum() < inside.size
    np.testing.assert_allclose(layer.weight.grad, np.tile(x_hat.sum(axis=0), (4, 1)) * inside, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, np.full(4, 8.0))


def test_qat_trains_and_converts_to_the_same_numbers():
    tn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = mlp(6, 16, 2)
    qat = Q.prepare_qat(model)
    assert isinstance(qat[0], Q.QATLinear) and isinstance(model[0], nn.Linear)
    opt = optim.SGD(qat.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(qat(tn.tensor(x)), tn.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    qat.eval()
    q = Q.convert(qat)
    assert all(m.static for m in q if isinstance(m, Q.QuantizedLinear))
    with tn.no_grad():
        np.testing.assert_allclose(q(x).numpy(), qat(tn.tensor(x)).numpy(), rtol=1e-4, atol=1e-4)


def test_save_load_round_trip(tmp_path):
    tn.manual_seed(0)
    model = mlp(10, 12, 8, 3, act=nn.Tanh)
    x = np.random.default_rng(0).standard_normal((7, 10)).astype(np.float32)
    for q in (Q.quantize_dynamic(model), Q.quantize_static(model, [x])):
        path = tmp_path / "q.npz"
        tn.save(q.state_dict(), path)
        sd = tn.load(path)
        assert sd["0.weight"].dtype == np.int8
        expected = q(x).numpy()
        np.testing.assert_array_equal(Q.load_quantized(sd)(x).numpy(), expected)
        np.testing.assert_array_equal(Q.load_quantized(sd, model)(x).numpy(), expected)
        other = Q.quantize_dynamic(mlp(10, 12, 8, 3, act=nn.Tanh)) if not q[0].static else Q.quantize_static(
            mlp(10, 12, 8, 3, act=nn.Tanh), [x * 2])
        other.load_state_dict(sd)
        np.testing.assert_array_equal(other(x).numpy(), expected)
    with pytest.raises(ValueError, match="no quantized layers"):
        Q.load_quantized(model.state_dict())


def test_model_size():
    model = mlp(64, 128, 64, 10)
    n = sum(p.numel() for p in model.parameters())
    assert Q.model_size(model) == 4 * n
    q = Q.quantize_dynamic(model)
    weights = 64 * 128 + 128 * 64 + 64 * 10
    assert Q.model_size(q) == weights + 8 * (128 + 64 + 10) + 3  # int8 W, float32 scale + bias, activation codes
    assert Q.model_size(q) <= 0.30 * Q.model_size(model)
    assert Q.model_size(Q.quantize_static(model, [np.zeros((1, 64), np.float32)])) == Q.model_size(q) + 3 * 12


def test_errors():
    no_linear = nn.Sequential(nn.ReLU(), nn.Tanh())
    for fn in (Q.quantize_dynamic, Q.prepare_qat, lambda m: Q.quantize_static(m, [np.zeros((1, 3))])):
        with pytest.raises(ValueError, match="no Linear"):
            fn(no_linear)
    with pytest.raises(ValueError, match="zero batches"):
        Q.quantize_static(mlp(3, 2), [])
    with pytest.raises(ValueError, match="zero batches"):
        Q.quantize_static(mlp(3, 2), iter(()))
    with pytest.raises(ValueError, match="observer"):
        Q.quantize_static(mlp(3, 2), [np.zeros((1, 3))], observer="histogram")
    q = Q.quantize_dynamic(mlp(3, 2))
    with pytest.raises(ValueError, match="3 features"):
        q(np.zeros((2, 4), np.float32))
    for scale in (0.0, -1.0):
        with pytest.raises(ValueError, match="scale must be > 0"):
            Q.quantize_tensor(np.ones(3), scale, 0)
    qat = Q.prepare_qat(mlp(3, 2))
    with pytest.raises(ValueError, match="never seen an input"):
        Q.convert(qat)


@given(lo=st.floats(-1e30, 1e30, allow_nan=False, allow_subnormal=True, width=64).map(lambda v: float(np.float32(v))) | st.sampled_from([0.0, -0.0, 1e-45, -1e-45, -1.0, -3.5]),
       span=st.floats(0, 1e30, allow_nan=False, width=64).map(lambda v: float(np.float32(v))) | st.sampled_from([0.0, 1e-45, 1.0, 255.0]),
       dtype=st.sampled_from(["int8", "uint8"]), symmetric=st.booleans())
def test_calc_qparams_scalar_path_matches_array_path(lo, span, dtype, symmetric):
    """Scalars take a float32-scalar shortcut; one-element arrays the array path: same bits."""
    with np.errstate(over="ignore"):
        hi = float(np.float32(lo) + np.float32(span))
    assume(np.isfinite(hi) and np.float32(lo) <= np.float32(hi))
    with np.errstate(over="ignore"):
        s, z = Q.calc_qparams(lo, hi, dtype, symmetric)
        sa, za = Q.calc_qparams(np.array([lo]), np.array([hi]), dtype, symmetric)
    assert type(s) is float and type(z) is int
    assert np.float32(s).tobytes() == sa[0].tobytes() and z == int(za[0])
    for a, b in ((np.float32(lo), np.float32(hi)), (np.float64(lo), np.float64(hi))):
        with np.errstate(over="ignore"):
            assert Q.calc_qparams(a, b, dtype, symmetric) == (s, z)


def test_calc_qparams_scalar_path_unusual_ranges():
    for lo, hi in ((float("nan"), 1.0), (0.0, float("nan")), (2.0, 1.0)):
        with pytest.raises(ValueError, match="calc_qparams"):
            Q.calc_qparams(lo, hi, "int8", False)
    with np.errstate(invalid="ignore", over="ignore"):  # inf goes to the array path unchanged
        assert Q.calc_qparams(-np.inf, 1.0, "int8", True)[0] == np.inf


def test_reduce_range_halves_the_integer_range():
    # PyTorch's observers with reduce_range: uint8 [0, 127], int8 [-64, 63]; symmetric uint8 centres at 64
    s, z = Q.calc_qparams(-1.0, 2.0, "uint8", symmetric=False, reduce_range=True)
    assert s == float(np.float32(3) / np.float32(127)) and z == 42        # 0 - round(-1 / (3/127)) = 42
    s, z = Q.calc_qparams(-1.0, 2.0, "int8", symmetric=False, reduce_range=True)
    assert s == float(np.float32(3) / np.float32(127)) and z == -22       # -64 - round(-42.33) = -22
    assert Q.calc_qparams(-1.0, 2.0, "uint8", symmetric=True, reduce_range=True) == (float(np.float32(2) / np.float32(63.5)), 64)


def test_dynamic_layer_quantizes_activations_to_seven_bits():
    layer = Q.quantize_dynamic(nn.Linear(1, 1))
    layer.weight[...] = 1
    layer.weight_scale[...] = 1
    layer.bias[...] = 0
    layer.__dict__.pop("_packed", None)
    x = np.array([[0.0], [127.0], [63.0]], np.float32)
    # range [0, 127] over 0..127 gives s_a = 1, z_a = 0: exact; 8 bits would give s_a = 127/255 and 63 -> 62.75
    np.testing.assert_array_equal(layer(x).numpy(), x)


def test_a_static_layer_with_an_8_bit_input_zero_point_is_refused():
    """Static layers of older tinynn files kept an int8 zero point (-128..127); read as 7-bit they
    would give wrong outputs without a word, so the layer refuses one outside 0..127."""
    from tinynn.compress.qlinear import QuantizedLinear
    w = np.ones((2, 3), np.int8)
    with pytest.raises(ValueError, match="7-bit"):
        QuantizedLinear(w, np.ones(2, np.float32), input_scale=0.1, input_zero_point=-20)
    layer = QuantizedLinear(w, np.ones(2, np.float32), input_scale=0.1, input_zero_point=127)
    assert int(layer.input_zero_point[0]) == 127


@pytest.mark.parametrize("x, inv, z", [
    (2.0 ** -15, 2.0 ** -15, 2 ** 24 + 1),       # p + z just above a float32 midpoint, p lost in float64's sum
    (-(2.0 ** -15), 2.0 ** -15, 2 ** 24 + 1),    # just below it
    (2.0 ** -15, -(2.0 ** -15), 2 ** 24 + 3),
    (0.5, 0.5, 2 ** 52 + 2 ** 28),               # float64's sum is the midpoint itself
    (-0.5, 0.5, 2 ** 52 + 2 ** 28 + 2 ** 29),
    (1 + 2.0 ** -24 + 2.0 ** -40, 3.0, 0),       # x is rounded to float32 before the product
    (3.0, 1 + 2.0 ** -24 + 2.0 ** -40, 0),       # and so is inv
    (1.0, 1.0, 2 ** 24),                           # an exact tie: to the even float32, nothing to move
    (1 + 2.0 ** -23, (1 - 2.0 ** -24) * 2.0 ** 54, 129),   # z's low bits are the ones float64's sum loses
    (7.25, 0.1, 5), (-1e30, 3e8, 0), (0.0, 1.0, -3),
])
def test_fma_f32_rounds_once_as_fmaf(x, inv, z):
    """float32(x inv + z) with x and inv first rounded to float32 and the sum rounded once, where a
    float64 sum rounded again to float32 is off by one float32 step (double rounding)."""
    exact = Fraction(float(np.float32(x))) * Fraction(float(np.float32(inv))) + z
    got = reference_backend.fma_f32(np.array([x]), inv, z)
    assert got.dtype == np.float32
    assert ((np.isfinite(got[0]) and Fraction(float(got[0])) == nearest_f32(exact))
            or (np.isinf(got[0]) and abs(exact) > 3.4e38))
