"""Tests that kill mutants mutmut left alive in tinynn/compress/quantize.py (scripts/mutation.py;
report in docs/mutation-report.md): QuantizedLinear's forward against its documented formula,
computed here from the layer's own integer weights and the 7-bit affine input parameters (PyTorch's
reduce_range: s_a = (max(x, 0) - min(x, 0)) / 127, z_a = clamp(-round(min(x, 0) / s_a), 0, 127),
q_a = clamp(round(f32(x * f32(1 / s_a) + z_a)), 0, 127) with the fma rounded once, in exact rationals),
for every fused activation, with and without a bias, for 1-D, 2-D, 3-D and empty inputs; and its repr."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import nn
from tinynn.compress import quantize as Q

from helpers.exact import quantize_u7


def expected(layer, x, act):
    """y = act(s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j), dynamic 7-bit input parameters."""
    x2 = np.asarray(x, np.float32).reshape(-1, layer.in_features)
    lo, hi = min(float(x2.min()), 0.0), max(float(x2.max()), 0.0)
    s_a = max(np.float32(np.float32(hi) - np.float32(lo)) / np.float32(127), np.float32(np.finfo(np.float32).eps))
    z_a = int(np.clip(0 - np.rint(np.float32(lo) / s_a), 0, 127))
    q_a = quantize_u7(x2, s_a, z_a).astype(np.float64)
    y = float(s_a) * ((q_a - z_a) @ layer.weight.astype(np.float64).T) * layer.weight_scale.astype(np.float64)
    if layer.bias is not None:
        y = y + layer.bias
    y = {"none": lambda v: v, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
         "tanh": np.tanh}[act](y)
    return y.reshape(*np.shape(x)[:-1], layer.out_features)


@pytest.mark.parametrize("act", ["none", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
def test_dynamic_quantized_linear_is_its_formula(act, bias, backend_name):
    rng = np.random.default_rng(3)
    float_layer = nn.Linear(6, 4, bias=bias)
    layer = Q.QuantizedLinear.from_float(float_layer, activation=act)
    for shape in ((5, 6), (2, 3, 6), (6,)):
        x = rng.uniform(-1.0, 4.0, shape)         # both signs: 0 < z_a < 127, the zero point folded into the bias
        y = layer(tn.tensor(x))
        assert y.shape == shape[:-1] + (4,) and y.dtype == np.float32 and not y.requires_grad
        np.testing.assert_allclose(y.numpy(), expected(layer, x, act), rtol=2e-5, atol=2e-6)
    y = layer(np.zeros((0, 6)))                    # an empty batch: no rows, no range to observe
    assert y.shape == (0, 4)
    with pytest.raises(ValueError, match=r"^QuantizedLinear: input of shape \(2, 5\) does not have 6 features$"):
        layer(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"^QuantizedLinear: input of shape \(\) does not have 6 features$"):
        layer(np.float32(1.0))


def test_quantized_linear_repr_names_kind_and_activation():
    layer = nn.Linear(3, 2)
    assert repr(Q.QuantizedLinear.from_float(layer)) == "QuantizedLinear(in_features=3, out_features=2, dynamic)"
    static = Q.QuantizedLinear.from_float(layer, input_range=(-1.0, 1.0), activation="tanh")
    assert repr(static) == "QuantizedLinear(in_features=3, out_features=2, static, activation=tanh)"


# ---------------------------------------------------------------- qparams: formulas, types, messages
F32 = np.float32
EPS = float(np.finfo(np.float32).eps)


def exact_quantize(x, s, z, qmin, qmax):
    """q = clamp(round(f32(f32(x) * f32(1 / f32(s)) + z)), qmin, qmax) in exact rationals."""
    from fractions import Fraction
    from helpers.exact import nearest_f32
    inv = nearest_f32(1 / Fraction(float(F32(s))))
    return np.array([min(max(round(nearest_f32(Fraction(float(F32(v))) * inv + z)), qmin), qmax)
                     for v in np.ravel(x)], np.int64).reshape(np.shape(x))


def test_calc_qparams_defaults_to_symmetric_int8_and_accepts_numpy_dtypes():
    # the API's default: calc_qparams(min_val, max_val, dtype="int8", symmetric=True)
    assert Q.calc_qparams(-1.0, 3.0) == (float(F32(3.0) / F32(127.5)), 0)
    assert Q.calc_qparams(-1.0, 3.0, np.int8) == Q.calc_qparams(-1.0, 3.0, "int8")
    assert Q.calc_qparams(-1.0, 3.0, np.dtype("uint8"), False) == (float(F32(4.0) / F32(255)), 64)
    s, z = Q.calc_qparams(np.array([-1.0, 0.0]), np.array([3.0, 1.0]), "uint8", symmetric=True)
    assert z.dtype == np.int64 and z.tolist() == [128, 128]


def test_qparams_errors_name_the_function():
    with pytest.raises(ValueError, match=r"^calc_qparams: dtype must be 'int8' or 'uint8', got 'int4'$"):
        Q.calc_qparams(0.0, 1.0, "int4")
    with pytest.raises(ValueError, match=r"^quantize_tensor: dtype must be 'int8' or 'uint8', got 'int16'$"):
        Q.quantize_tensor(np.ones(2), 1.0, 0, "int16")
    with pytest.raises(ValueError, match=r"^calc_qparams: min_val shape \(\) differs from max_val shape \(2,\)$"):
        Q.calc_qparams(0.0, np.array([1.0, 2.0]))


def test_affine_zero_point_stays_in_range_for_an_infinite_range():
    # z = clamp(qmin - round(m- / s), qmin, qmax): whatever m- / s is (here -inf / inf), z is an integer of the range
    with np.errstate(invalid="ignore", over="ignore"):
        for dtype, (qmin, qmax) in (("int8", (-128, 127)), ("uint8", (0, 255))):
            _, z = Q.calc_qparams(-np.inf, 1.0, dtype, symmetric=False)
            assert qmin <= z <= qmax


def test_quantize_tensor_takes_integer_and_float64_inputs_as_float32():
    # x rounded to float32 first; integers are values like any other
    x = np.array([-3, -1, 0, 1, 2, 7], np.int64)
    np.testing.assert_array_equal(Q.quantize_tensor(x, 0.5, 1, "int8"), 2 * x + 1)
    np.testing.assert_array_equal(Q.quantize_tensor(x.astype(np.int32), 0.5, 1, "int8"), 2 * x + 1)


def test_quantize_tensor_uses_the_float32_reciprocal_of_the_float32_scale():
    # s = 0.6405920704482397: f32(1 / f32(s)) and f32(1 / s) differ by one ulp, which moves values next to a
    # half step to the other integer; the formula (PyTorch's) takes the float32 scale's float32 reciprocal
    s = 0.6405920704482397
    inv = F32(1) / F32(s)
    x = ((np.arange(-60, 60) + 0.5) / np.float64(inv)).astype(F32)
    x = np.concatenate([np.nextafter(x, F32(-np.inf)), x, np.nextafter(x, F32(np.inf))])
    for xs in (x, x.astype(np.float64)):
        np.testing.assert_array_equal(Q.quantize_tensor(xs, s, 3, "int8"), exact_quantize(x, s, 3, -128, 127))


def test_a_scale_that_is_zero_in_float32_is_refused():
    # (a float64 x once had its scale checked in float64: 1e-46 passed, became 0, and every q was 127)
    for x in (np.ones(3, F32), np.ones(3), np.ones(3, np.int64)):
        with pytest.raises(ValueError, match="scale must be > 0"):
            Q.quantize_tensor(x, 1e-46, 0)


def test_per_channel_defaults_to_axis_0_and_works_on_1d_inputs():
    w = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]], F32)
    s, z = np.array([0.25, 0.01], F32), np.array([1, -2])
    expected = np.vstack([exact_quantize(w[0], 0.25, 1, -128, 127), exact_quantize(w[1], 0.01, -2, -128, 127)])
    np.testing.assert_array_equal(Q.quantize_tensor(w, s, z, "int8"), expected)          # axis=0 by default
    v = np.array([1.0, 0.3], F32)                                                         # one value per channel
    np.testing.assert_array_equal(Q.quantize_tensor(v, s, z, "int8", axis=0), [expected[0, 0], expected[1, 0]])
    with pytest.raises(ValueError, match="per-channel"):
        Q.quantize_tensor(w, s.reshape(2, 1), 0, "int8")


def test_dequantize_is_the_float32_scale_times_q_minus_z_in_float32():
    q = np.arange(-128, 128).astype(np.int8).reshape(2, 128)
    # per tensor: a Python float scale is the float32 scale (as calc_qparams returns it); one product, rounded once
    x = Q.dequantize_tensor(q, 0.1, -3)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, F32(0.1) * (q.astype(np.int64) + 3).astype(F32))
    assert not np.array_equal(x, (0.1 * (q.astype(np.int64) + 3)).astype(F32))  # (the float64 product differs)
    # per channel along axis 0, and along axis 1 on the transpose
    s, z = np.array([0.1, 0.3]), np.array([-3, 4])
    expected = F32(0.1) * (q[0].astype(np.int64) + 3).astype(F32), F32(0.3) * (q[1].astype(np.int64) - 4).astype(F32)
    np.testing.assert_array_equal(Q.dequantize_tensor(q, s, z, axis=0), np.vstack(expected))
    np.testing.assert_array_equal(Q.dequantize_tensor(q.T, s, z, axis=1), np.vstack(expected).T)
    np.testing.assert_array_equal(Q.dequantize_tensor(tn.tensor(q), s, z), np.vstack(expected))


def test_weight_qparams_is_max_abs_over_127_5_per_row():
    from tinynn.compress.qparams import weight_qparams
    s = weight_qparams(np.array([[2.0], [-1.0], [0.0]], F32))                 # one input feature
    np.testing.assert_array_equal(s, [F32(2) / F32(127.5), F32(1) / F32(127.5), F32(EPS)])
    empty = weight_qparams(np.zeros((3, 0), F32))                             # no input feature: s = eps
    assert empty.dtype == np.float32 and empty.shape == (3,)
    np.testing.assert_array_equal(empty, [EPS] * 3)
    layer = Q.QuantizedLinear.from_float(nn.Linear(0, 2))
    np.testing.assert_array_equal(layer.weight_scale, [EPS] * 2)
    np.testing.assert_array_equal(layer(np.zeros((3, 0), F32)).numpy(), np.tile(layer.bias, (3, 1)))


# ---------------------------------------------------------------- QuantizedLinear: construction, packing, loading
def test_quantized_linear_checks_and_normalizes_its_arrays():
    from tinynn.compress.qlinear import QuantizedLinear
    w = np.array([[1, -2, 3], [4, 5, -6]], np.int8)
    with pytest.raises(TypeError, match=r"^QuantizedLinear: weight must be a 2-D int8 array, got int8 of shape \(3,\)$"):
        QuantizedLinear(np.ones(3, np.int8), np.ones(1))
    with pytest.raises(TypeError, match=r"^QuantizedLinear: weight must be a 2-D int8 array, got float32 of shape"):
        QuantizedLinear(w.astype(np.float32), np.ones(2))
    with pytest.raises(ValueError, match=r"^QuantizedLinear: weight_scale of shape \(3,\) does not match weight \(2, 3\)$"):
        QuantizedLinear(w, np.ones(3))
    with pytest.raises(ValueError, match=r"^QuantizedLinear: bias of shape \(3,\) does not match weight \(2, 3\)$"):
        QuantizedLinear(w, np.ones(2), bias=np.ones(3))
    with pytest.raises(ValueError, match=r"^QuantizedLinear: activation must be one of .*, got 'gelu'$"):
        QuantizedLinear(w, np.ones(2), activation="gelu")
    with pytest.raises(ValueError, match=r"^QuantizedLinear: input zero point 128 is not a 7-bit one \(0\.\.127\); "
                                         r"a model quantized by an older tinynn must be quantized again$"):
        QuantizedLinear(w, np.ones(2), input_scale=0.1, input_zero_point=128)
    # column vectors and float64 lists become the documented float32 (out,) buffers; input parameters (1,)
    layer = QuantizedLinear(w, [[0.5], [0.25]], bias=[[1.0], [2.0]], input_scale=np.array([0.1]),
                            input_zero_point=np.array([3], np.int32))
    assert layer.weight_scale.dtype == np.float32 and layer.weight_scale.shape == (2,)
    assert layer.bias.dtype == np.float32 and layer.bias.shape == (2,)
    assert layer.input_scale.dtype == np.float32 and layer.input_scale.shape == (1,)
    assert layer.input_zero_point.dtype == np.int64 and layer.input_zero_point.shape == (1,)
    # y = s_a s_w[j] sum_k (q_a,ik - z_a) W_jk + b_j; x = 0.1 (q - 3) with q = (13, 4, 3) quantizes exactly
    x = np.array([[1.0, 0.1, 0.0]], np.float32)
    y = layer(x).numpy()
    q_a = exact_quantize(x, 0.1, 3, 0, 127) - 3
    np.testing.assert_allclose(y, F32(0.1) * (q_a @ w.T.astype(np.int64)) * [0.5, 0.25] + [1.0, 2.0], rtol=1e-6)


@pytest.mark.parametrize("name", tn.backend.available())
def test_weights_are_packed_once_per_backend_and_again_when_replaced(name, monkeypatch):
    """W is packed once at quantization time and reused by every batch; packed again only for another
    backend or a new weight buffer (the output then follows the new W)."""
    with tn.use_backend(name):
        b = tn.backend.active
        calls = []
        pack = b.pack_int8_weight
        monkeypatch.setattr(b, "pack_int8_weight", lambda wq: calls.append(1) or pack(wq))
        float_layer = nn.Linear(3, 2)
        with tn.no_grad():      # each row's largest |w| positive: q in [-127, 127], so -q is a weight too
            float_layer.weight.copy_(tn.tensor([[0.5, -0.25, 1.0], [-0.3, 2.0, 0.1]]))
        layer = Q.QuantizedLinear.from_float(float_layer)
        x = np.array([[0.5, -1.0, 2.0]], np.float32)
        first = layer(x).numpy()
        for _ in range(3):
            np.testing.assert_array_equal(layer(x).numpy(), first)
        assert len(calls) == 1
        layer.weight = -layer.weight                          # a new buffer: packed again, used
        np.testing.assert_allclose(layer(x).numpy(), 2 * layer.bias - first, rtol=1e-6, atol=1e-6)
        layer(x)
        assert len(calls) == 2
    for other in tn.backend.available():
        with tn.use_backend(other):                           # another backend: its own packing
            np.testing.assert_allclose(layer(x).numpy(), 2 * layer.bias - first, rtol=1e-6, atol=1e-6)


def test_loading_twice_before_a_forward_is_fine():
    q = Q.quantize_dynamic(nn.Linear(3, 2))
    sd = q.state_dict()
    q.load_state_dict(sd)
    q.load_state_dict(sd)
    assert q(np.ones((1, 3), np.float32)).shape == (1, 2)


def test_from_state_dict_defaults_and_scalar_entries():
    from tinynn.compress.qlinear import QuantizedLinear
    w = np.array([[2, -1]], np.int8)
    sd = {"weight": w, "weight_scale": np.array([0.5], np.float32), "input_scale": np.float32(0.25),
          "input_zero_point": np.int64(4)}                    # no activation entry: none; 0-d entries read as (1,)
    layer = QuantizedLinear.from_state_dict(sd)
    assert layer.static and layer.activation_name == "none" and layer.bias is None
    x = np.array([[-1.0, 0.5]], np.float32)                   # q_a - z_a = (-4, 2): exact
    np.testing.assert_array_equal(layer(x).numpy(), [[F32(0.25) * F32(0.5) * (-8 - 2)]])


def test_quantized_output_is_a_plain_float32_tensor(backend_name):
    y = Q.quantize_dynamic(nn.Linear(2, 2))(tn.tensor([[1.0, 2.0]], requires_grad=True))
    assert y.requires_grad is False and y.dtype == np.float32


# ---------------------------------------------------------------- QATLinear
def test_qat_linear_construction():
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])           # float64 in: float32 Parameters
    layer = Q.QATLinear(w, bias=[0.1, -0.2])
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert repr(layer) == "QATLinear(in_features=3, out_features=2, bias=True)"
    for p, v in ((layer.weight, w), (layer.bias, [0.1, -0.2])):
        assert isinstance(p, nn.Parameter) and p.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), np.asarray(v, np.float32))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    # the observer starts empty, as PyTorch's: min = +inf, max = -inf, one value each
    assert layer.input_min.shape == layer.input_max.shape == (1,)
    assert layer.input_min[0] == np.inf and layer.input_max[0] == -np.inf
    p = nn.Parameter(np.ones((1, 2), np.float32))
    shared = Q.QATLinear(p)
    assert shared.weight is p and shared.bias is None
    assert repr(shared) == "QATLinear(in_features=2, out_features=1, bias=False)"


def test_qat_from_float_shares_parameters_and_wraps_plain_tensors():
    import types
    layer = nn.Linear(3, 2)
    qat = Q.QATLinear.from_float(layer)
    assert qat.weight is layer.weight and qat.bias is layer.bias   # as PyTorch's qat.Linear.from_float
    no_bias = Q.QATLinear.from_float(nn.Linear(3, 2, bias=False))
    assert no_bias.bias is None
    plain = types.SimpleNamespace(weight=tn.tensor([[1.0, 2.0]]), bias=tn.tensor([3.0]))
    made = Q.QATLinear.from_float(plain)
    for p, t in ((made.weight, plain.weight), (made.bias, plain.bias)):
        assert isinstance(p, nn.Parameter) and p is not t and not np.shares_memory(p.numpy(), t.numpy())
        np.testing.assert_array_equal(p.numpy(), t.numpy())


def fake_quant(v, s, z, qmin, qmax):
    return s * (np.clip(exact_quantize(v, s, z, -10**9, 10**9), qmin, qmax) - z)


def test_qat_forward_is_its_formula_without_bias_on_arrays_and_outside_the_range():
    """y = fq_a(x) fq_w(W)^T: inputs 7-bit affine on the observed range (below it: clamped to q = 0,
    above: to 127), weights symmetric int8 per row (s = max|W_j| / 127.5, clamped to [-128, 127])."""
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    layer = Q.QATLinear(w)
    layer(np.array([[-1.0, 0.0, 3.0]], np.float32))              # an ndarray batch sets the range [-1, 3]
    assert (layer.input_min[0], layer.input_max[0]) == (-1.0, 3.0)
    layer.eval()
    s_a, z_a = float(F32(4) / F32(127)), 32                      # z = 0 - round(-1 / s_a) = round(31.75)
    assert layer.input_qparams() == (s_a, z_a)
    x = np.array([[-5.0, 0.3, 1.7], [2.9, 9.0, -1.0]], np.float32)
    s_w = np.float32([2.0, 1.5]) / F32(127.5)
    w_hat = np.vstack([fake_quant(w[j], s_w[j], 0, -128, 127) for j in range(2)])
    expected = fake_quant(x, s_a, z_a, 0, 127) @ w_hat.T
    np.testing.assert_allclose(layer(tn.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-6)
    empty = Q.QATLinear(w)(np.zeros((0, 3), np.float32))         # never observed, no rows: no range needed
    assert empty.shape == (0, 2)


# ---------------------------------------------------------------- model surgery, calibration, loading
def test_entry_points_name_themselves_in_their_errors():
    no_linear = nn.Sequential(nn.ReLU())
    for fn, op in ((Q.quantize_dynamic, "quantize_dynamic"), (Q.prepare_qat, "prepare_qat"),
                   (lambda m: Q.quantize_static(m, [np.zeros((1, 3))]), "quantize_static")):
        with pytest.raises(ValueError, match=rf"^{op}: Sequential has no Linear or Conv2d layer to quantize$"):
            fn(no_linear)
    with pytest.raises(ValueError, match=r"^convert: Sequential has no QATLinear or QATConv2d layer to quantize$"):
        Q.convert(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match=r"^load_quantized: Sequential has no Linear layer to quantize$"):
        Q.load_quantized({"0.weight_scale": np.ones(1)}, model=no_linear)
    with pytest.raises(TypeError, match=r"^load_quantized: expected a dict of arrays, got list$"):
        Q.load_quantized([1, 2])
    with pytest.raises(ValueError, match=r"^load_quantized: the state dict has no quantized layers \(no "):
        Q.load_quantized({"0.weight": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"^load_quantized: no quantized weights for layer '0' in the state dict$"):
        Q.load_quantized(nn.Sequential(nn.Linear(2, 2)).state_dict(), model=nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match=r"^quantize_static: the calibration set has zero batches; give at least"):
        Q.quantize_static(nn.Linear(2, 2), [])
    with pytest.raises(ValueError, match=r"^quantize_static: layer '' saw no \(non-empty\) input during"):
        Q.quantize_static(nn.Linear(2, 2), [np.zeros((0, 2))])


def nested():
    tn.manual_seed(4)
    return nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))


def test_layer_names_are_dotted_paths_and_a_lone_layer_is_named_empty():
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    assert set(Q.observe(nested(), [x])) == {"0.0", "1"}
    assert Q.observe(nn.Linear(3, 2), [x]) == {"": (-1.0, 2.0)}
    sd = Q.quantize_dynamic(nested()).state_dict()
    with pytest.raises(ValueError, match=r"^load_quantized: layers \['0\.0', '1'\] are not the indices of a "
                                         r"Sequential; pass model= \(the float model's architecture\) to rebuild it$"):
        Q.load_quantized(sd)


def test_calibration_batches_are_float32_tensors_whatever_they_come_as():
    model = nn.Linear(2, 1)
    expected = (float(F32(0.1)), float(F32(0.7)))
    for batch in ([[0.1, 0.7]], np.array([[0.1, 0.7]]), tn.tensor([[0.1, 0.7]]), (np.array([[0.1, 0.7]]), 0)):
        assert Q.observe(model, [batch]) == {"": expected}


def test_observe_reads_array_inputs_of_a_custom_forward():
    class ArrayFed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x.numpy() * 2)
    assert Q.observe(ArrayFed(), [np.array([[0.5, -1.5]], np.float32)]) == {"fc": (-3.0, 1.0)}


def test_percentile_observer_default_and_given_percentile_reach_the_layer():
    x = np.linspace(-1, 1, 10001, dtype=np.float32).reshape(-1, 1)
    lo, hi = Q.observe(nn.Linear(1, 1), [x], "percentile")["" ]        # default p = 99.99
    assert (lo, hi) == (pytest.approx(np.percentile(x, 0.01)), pytest.approx(np.percentile(x, 99.99)))
    q = Q.quantize_static(nn.Linear(1, 1), [x], observer="percentile", percentile=90)
    lo, hi = np.percentile(x, [10, 90])
    assert (float(q.input_scale[0]), int(q.input_zero_point[0])) == Q.calc_qparams(lo, hi, "uint8", False, True)
    default = Q.quantize_static(nn.Linear(1, 1), [x], observer="percentile")
    lo, hi = np.percentile(x, [0.01, 99.99])
    assert float(default.input_scale[0]) == Q.calc_qparams(lo, hi, "uint8", False, True)[0]


def test_static_and_converted_layers_fuse_the_activation_after_them():
    tn.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Tanh())
    x = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
    q = Q.quantize_static(model, [x])
    assert [m.activation_name for m in (q[0], q[2])] == ["relu", "tanh"]
    assert isinstance(q[1], nn.Identity) and isinstance(q[3], nn.Identity)
    qat = Q.prepare_qat(model)
    qat(tn.tensor(x))
    c = Q.convert(qat)
    assert [m.activation_name for m in (c[0], c[2])] == ["relu", "tanh"]
    assert np.all(np.abs(c(x).numpy()) <= 1)


def test_load_quantized_rebuilds_lone_layers_qat_architectures_and_sequential_lengths():
    tn.manual_seed(6)
    x = np.random.default_rng(6).standard_normal((4, 3)).astype(np.float32)
    lone = Q.quantize_dynamic(nn.Linear(3, 2))
    for rebuilt in (Q.load_quantized(lone.state_dict()), Q.load_quantized(lone.state_dict(), model=nn.Linear(3, 2))):
        assert isinstance(rebuilt, Q.QuantizedLinear)
        np.testing.assert_array_equal(rebuilt(x).numpy(), lone(x).numpy())
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    qat = Q.prepare_qat(model)
    qat(tn.tensor(x))
    q = Q.convert(qat)
    rebuilt = Q.load_quantized(q.state_dict(), model=qat)              # the QAT model's architecture
    np.testing.assert_array_equal(rebuilt(x).numpy(), q(x).numpy())
    plain = Q.load_quantized(q.state_dict())
    assert len(plain) == len(q) == 3
    np.testing.assert_array_equal(plain(x).numpy(), q(x).numpy())


def test_model_size_counts_tensor_values():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("t", tn.tensor(np.zeros(5, np.float64)))
    assert Q.model_size(Holder()) == 40


def test_a_qat_input_range_that_is_not_finite_quantizes_with_scale_1_and_zero_point_0():
    # a batch whose minimum is -inf leaves no finite range: PyTorch's observer then gives (1.0, 0)
    layer = Q.prepare_qat(nn.Linear(3, 1))
    out = layer.fake_quantize_input(tn.tensor([[-np.inf, 3.2, 200.0]]))
    np.testing.assert_array_equal(out.numpy(), [[0.0, 3.0, 127.0]])   # clamp(round(x), 0, 127)
