"""Tests that kill mutants mutmut left alive in tinynn/compress/quantize.py (scripts/mutation.py;
report in docs/mutation-report.md): QuantizedLinear's forward against its documented formula,
computed here in float64 from the layer's own integer weights and the affine input parameters
(s_a = (max(x, 0) - min(x, 0)) / 255, z_a = -128 - round(min(x, 0) / s_a)), for every fused
activation, with and without a bias, for 1-D, 2-D, 3-D and empty inputs; and its repr."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import nn
from tinynn.compress import quantize as Q


def expected(layer, x, act):
    """y = act(s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j), dynamic input parameters, in float64."""
    x2 = np.asarray(x, np.float32).reshape(-1, layer.in_features)
    lo, hi = min(float(x2.min()), 0.0), max(float(x2.max()), 0.0)
    s_a = max(np.float32(np.float32(hi) - np.float32(lo)) / np.float32(255), np.float32(np.finfo(np.float32).eps))
    z_a = int(np.clip(-128 - np.rint(np.float32(lo) / s_a), -128, 127))
    q_a = np.clip(np.rint(x2 / np.float32(s_a)) + z_a, -128, 127)
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
        x = rng.uniform(0.5, 4.0, shape)          # all positive: z_a = -128, the zero point folded into the bias
        y = layer(tn.tensor(x))
        assert y.shape == shape[:-1] + (4,) and y.dtype == np.float32 and not y.requires_grad
        np.testing.assert_allclose(y.data, expected(layer, x, act), rtol=2e-5, atol=2e-6)
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
