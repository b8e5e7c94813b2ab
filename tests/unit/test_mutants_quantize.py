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
