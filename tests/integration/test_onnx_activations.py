"""tinynn.onnx for the activations of activations.py (SELU, CELU, Hardsigmoid, Hardswish, Mish, Softsign,
PReLU, Hardshrink, Softshrink, ReLU6, LogSigmoid, Tanhshrink, Threshold, GLU, Softmin): each export passes
onnx.checker (full_check), onnxruntime computes what tinynn computes (float32: rtol 1e-5, atol 1e-5 max|y|,
as the other ONNX tests) on inputs that cross every kink (0, +-3, +-lambd, 6, the threshold) and at the kinks
themselves, and export -> load gives the same layer class back with the same outputs."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from test_onnx import close_float, exported, ours, rows, run_ort  # noqa: E402

# name: (layer, the ONNX operators its nodes use, its output width for 8 inputs)
ACTIVATIONS = {
    "selu": (lambda: nn.SELU(), {"Selu"}, 8),
    "celu": (lambda: nn.CELU(alpha=0.7), {"Celu"}, 8),
    "hardsigmoid": (lambda: nn.Hardsigmoid(), {"HardSigmoid"}, 8),
    "hardswish": (lambda: nn.Hardswish(), {"HardSwish"}, 8),
    "mish": (lambda: nn.Mish(), {"Softplus", "Tanh", "Mul"}, 8),
    "softsign": (lambda: nn.Softsign(), {"Softsign"}, 8),
    "prelu-shared": (lambda: nn.PReLU(init=0.1), {"PRelu"}, 8),
    "prelu-channels": (lambda: prelu(8), {"PRelu"}, 8),
    "hardshrink": (lambda: nn.Hardshrink(0.7), {"Shrink"}, 8),
    "softshrink": (lambda: nn.Softshrink(), {"Shrink"}, 8),
    "relu6": (lambda: nn.ReLU6(), {"Clip"}, 8),
    "logsigmoid": (lambda: nn.LogSigmoid(), {"Neg", "Softplus"}, 8),
    "tanhshrink": (lambda: nn.Tanhshrink(), {"Tanh", "Sub"}, 8),
    "threshold": (lambda: nn.Threshold(0.5, -2.0), {"Greater", "Where"}, 8),
    "glu": (lambda: nn.GLU(), {"Split", "Sigmoid", "Mul"}, 4),
    "glu-dim0-of-row": (lambda: nn.GLU(dim=1), {"Split", "Sigmoid", "Mul"}, 4),
    "softmin": (lambda: nn.Softmin(dim=1), {"Neg", "Softmax"}, 8),
    "softmin-dim-none": (lambda: nn.Softmin(), {"Neg", "Softmax"}, 8),
}

# inputs at and around every kink: 0, +-lambd (0.5, 0.7), +-3, 6, the threshold 0.5, large |x|
KINKS = np.array([0.0, 0.5, -0.5, 0.7, -0.7, 3.0, -3.0, 6.0, -6.0, 0.49, 0.51, 2.99, 3.01, 5.99, 6.01,
                  -2.99, -3.01, 25.0, -25.0, 1e-3, -1e-3, 0.71, -0.71, 1.0, -1.0, 40.0, -40.0, 10.0], np.float32)


def prelu(channels):
    layer = nn.PReLU(channels)
    layer.weight._data[...] = np.linspace(-0.5, 0.9, channels)
    return layer


def mlp(act, width):
    tn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), act, nn.Linear(width, 3)).eval()


def op_types(path):
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def layer_types(module):
    return {type(m) for m in module.modules()}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_between_linears_runs_the_same_in_onnxruntime_and_loads_back(name, tmp_path):
    make, ops, width = ACTIVATIONS[name]
    model = mlp(make(), width)
    path = exported(model, (6,), tmp_path)
    assert ops <= op_types(path)
    x = rows(64, (6,), seed=1, scale=6.0)  # the hidden values span about +-15: every kink is crossed
    hidden = ours(model[0], x)
    assert hidden.min() < -6.5 and hidden.max() > 6.5
    y = ours(model, x)
    close_float(run_ort(path, x), y)
    loaded = tonnx.load(path)
    assert type(model[1]) in layer_types(loaded)
    close_float(ours(loaded, x), y)


@pytest.mark.parametrize("name", sorted(n for n in ACTIVATIONS if not n.startswith("glu")))
def test_activation_alone_at_its_kinks(name, tmp_path):
    make, _, _ = ACTIVATIONS[name]
    layer = make().eval()
    x = np.stack([KINKS, -KINKS[::-1], KINKS * 0.5, KINKS[::-1]]).astype(np.float32)  # (4, 28)
    if name == "prelu-channels":
        layer = prelu(28).eval()
    model = nn.Sequential(layer).eval()
    path = tmp_path / "act.onnx"
    tonnx.export(model, x[:2], path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    y = ours(model, x)
    close_float(run_ort(path, x), y)
    loaded = tonnx.load(path)
    assert type(layer) in layer_types(loaded)
    close_float(ours(loaded, x), y)


def test_kink_values_are_the_documented_ones(tmp_path):
    """Hand-computed: Hardshrink/Softshrink are 0 at |x| = lambd, Threshold gives value at x = threshold,
    ReLU6 is 6 above 6, Hardsigmoid is 0 and 1 at -+3 and 1/2 at 0."""
    x = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0, 7.0]], np.float32)
    expected = {
        nn.Hardshrink(0.5): [-3.0, 0.0, 0.0, 0.0, 3.0, 7.0],
        nn.Softshrink(0.5): [-2.5, 0.0, 0.0, 0.0, 2.5, 6.5],
        nn.Threshold(0.5, -2.0): [-2.0, -2.0, -2.0, -2.0, 3.0, 7.0],
        nn.ReLU6(): [0.0, 0.0, 0.0, 0.5, 3.0, 6.0],
        nn.Hardsigmoid(): [0.0, 5 / 12, 0.5, 7 / 12, 1.0, 1.0],
        nn.Hardswish(): [0.0, -5 / 24, 0.0, 7 / 24, 3.0, 7.0],
    }
    for layer, want in expected.items():
        path = tmp_path / f"{type(layer).__name__}.onnx"
        tonnx.export(nn.Sequential(layer).eval(), x, path)
        np.testing.assert_allclose(run_ort(path, x)[0], want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ours(tonnx.load(path), x)[0], want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("channels_last_size", [(5, 4), (7,)])
def test_conv_prelu_per_channel(channels_last_size, tmp_path):
    tn.manual_seed(0)
    if len(channels_last_size) == 2:
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), prelu(3)).eval()
    else:
        model = nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), prelu(3)).eval()
    shape = (2, *channels_last_size)
    path = exported(model, shape, tmp_path)
    slope = next(t for t in onnx.load(str(path)).graph.initializer if t.name.endswith("weight") and
                 t.name.startswith("1"))
    assert list(slope.dims) == [3] + [1] * len(channels_last_size)  # (C, 1, ...): broadcast over the channels
    x = rows(5, shape, seed=2, scale=3.0)
    y = ours(model, x)
    assert (y < 0).any() and (y > 0).any()
    close_float(run_ort(path, x), y)
    loaded = tonnx.load(path)
    prelus = [m for m in loaded.modules() if isinstance(m, nn.PReLU)]
    assert len(prelus) == 1 and prelus[0].num_parameters == 3
    np.testing.assert_array_equal(prelus[0].weight.numpy(), model[1].weight.numpy())
    close_float(ours(loaded, x), y)


def test_params_round_trip(tmp_path):
    """The layer read back has the exported layer's constants (CELU's alpha, shrink's lambd, Threshold's)."""
    for layer, attr in ((nn.CELU(0.7), "alpha"), (nn.Hardshrink(0.7), "lambd"), (nn.Softshrink(0.3), "lambd"),
                        (nn.Threshold(0.5, -2.0), "threshold"), (nn.Softmin(dim=1), "dim"), (nn.GLU(1), "dim")):
        path = tmp_path / f"{type(layer).__name__}.onnx"
        tonnx.export(nn.Sequential(layer).eval(), np.zeros((1, 4), np.float32), path)
        back = next(m for m in tonnx.load(path).modules() if type(m) is type(layer))
        assert getattr(back, attr) == pytest.approx(getattr(layer, attr))


def test_glu_of_an_odd_axis_is_an_error_naming_the_layer(tmp_path):
    with pytest.raises(ValueError, match="GLU"):
        tonnx.export(nn.Sequential(nn.GLU()).eval(), np.zeros((1, 5), np.float32), tmp_path / "glu.onnx")
