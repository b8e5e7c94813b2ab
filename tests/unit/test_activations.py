"""LeakyReLU, SiLU, ELU, Softplus, Hardtanh: closed forms, PyTorch's derivative at each kink,
float64 gradient checks away from the kinks on both backends, float32 in -> float32 out, the
in-place spellings, and the layers' arguments and reprs. The compiled backend runs the
reference's functions for these (test_backend_table.py): the checks here, on both, are their test."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

X = np.array([[-3.1, -1.2, -0.4, 0.3], [0.8, 1.7, 2.6, -0.05]])  # away from every kink


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name: (function, closed form of the value, closed form of the derivative)
CASES = {
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                   lambda x: np.where(x > 0, 1.0, 0.2)),
    "leaky_relu default": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x)),
             lambda x: _sigmoid(x) + x * _sigmoid(x) * (1 - _sigmoid(x))),
    "elu": (lambda t: F.elu(t, alpha=1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1)),
            lambda x: np.where(x > 0, 1.0, 1.5 * np.exp(x))),
    "softplus": (F.softplus, lambda x: np.log(1 + np.exp(x)), _sigmoid),
    "softplus beta=2": (lambda t: F.softplus(t, beta=2.0, threshold=3.0),
                        lambda x: np.where(2 * x > 3, x, np.log(1 + np.exp(2 * x)) / 2),
                        lambda x: np.where(2 * x > 3, 1.0, _sigmoid(2 * x))),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1), lambda x: np.where(np.abs(x) < 1, 1.0, 0.0)),
    "hardtanh bounds": (lambda t: F.hardtanh(t, min_val=-2.0, max_val=0.5), lambda x: np.clip(x, -2, 0.5),
                        lambda x: np.where((x > -2) & (x < 0.5), 1.0, 0.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_form_derivative_and_gradient_check(name, backend_name):
    fn, value, derivative = CASES[name]
    x = tn.tensor(X, requires_grad=True)
    y = fn(x)
    np.testing.assert_allclose(y.numpy(), value(X), rtol=1e-13, atol=1e-15)
    y.backward(tn.ones(y.shape, dtype=tn.float64))
    np.testing.assert_allclose(x.grad.numpy(), derivative(X), rtol=1e-13, atol=1e-15)
    assert assert_gradients_match(fn, tn.tensor(X, requires_grad=True))


# PyTorch's subgradients: leaky_relu and elu take the x <= 0 branch at 0, hardtanh is flat at both bounds
KINKS = [
    (lambda t: F.leaky_relu(t, 0.3), [0.0], [0.3]),
    (lambda t: F.elu(t, alpha=0.7), [0.0], [0.7]),
    (lambda t: F.hardtanh(t), [-1.0, 1.0], [0.0, 0.0]),
    (lambda t: F.hardtanh(t, -0.5, 2.0), [-0.5, 2.0], [0.0, 0.0]),
    (F.silu, [0.0], [0.5]),
    (F.softplus, [0.0], [0.5]),
]


@pytest.mark.parametrize("case", range(len(KINKS)))
def test_derivative_at_the_kinks_is_pytorchs_choice(case, backend_name):
    fn, at, expected = KINKS[case]
    x = tn.tensor(at, dtype=tn.float64, requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_softplus_is_linear_above_its_threshold_and_finite_far_below(backend_name):
    x = tn.tensor([25.0, 1e4, -1e4, 19.5], dtype=tn.float64, requires_grad=True)
    y = F.softplus(x)
    np.testing.assert_array_equal(y.numpy()[:3], [25.0, 1e4, 0.0])
    np.testing.assert_allclose(y.numpy()[3], np.log1p(np.exp(19.5)), rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 0.0, _sigmoid(19.5)], rtol=1e-15)


@pytest.mark.parametrize("fn", [F.leaky_relu, F.silu, F.elu, F.softplus, F.hardtanh])
def test_float32_in_float32_out_and_gradient(fn, backend_name):
    x = tn.tensor(X.astype(np.float32), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert y.dtype == tn.float32 and x.grad.dtype == tn.float32
    x64 = tn.tensor(X, requires_grad=True)
    fn(x64).sum().backward()
    np.testing.assert_allclose(y.numpy(), fn(tn.tensor(X)).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_integer_input_computes_in_the_default_float_dtype():
    assert F.silu(tn.tensor([1, -2])).dtype == tn.float32
    np.testing.assert_allclose(F.leaky_relu(tn.tensor([-2, 3])).numpy(), [-0.02, 3.0], rtol=1e-6)


@pytest.mark.parametrize("fn, name", [(F.leaky_relu, "leaky_relu_"), (F.silu, "silu_"), (F.elu, "elu_"),
                                      (F.hardtanh, "hardtanh_"), (F.relu, "relu_")])
def test_inplace_writes_into_the_input_and_keeps_the_gradient(fn, name):
    base = tn.tensor(X, requires_grad=True)
    h = base * 1.0
    out = fn(h, inplace=True)
    assert out is h
    np.testing.assert_array_equal(h.numpy(), fn(tn.tensor(X)).numpy())
    h.sum().backward()
    expected = tn.tensor(X, requires_grad=True)
    fn(expected).sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), expected.grad.numpy())
    with pytest.raises(RuntimeError, match=name):
        fn(tn.tensor(X, requires_grad=True), inplace=True)  # a leaf that requires grad


def test_layers_take_pytorchs_arguments_and_match_the_functions():
    x = tn.tensor(X)
    layers = [(nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)), (nn.SiLU(), F.silu(x)), (nn.ELU(alpha=0.5), F.elu(x, 0.5)),
              (nn.Softplus(beta=2.0, threshold=1.0), F.softplus(x, 2.0, 1.0)),
              (nn.Hardtanh(-0.5, 0.5), F.hardtanh(x, -0.5, 0.5))]
    for layer, expected in layers:
        np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
        assert layer.state_dict() == {}
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.ELU(inplace=True)) == "ELU(alpha=1.0, inplace=True)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.SiLU()) == "SiLU()" and repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    y = tn.tensor(X)
    nn.Sequential(nn.LeakyReLU(0.1, inplace=True))(y)
    np.testing.assert_allclose(y.numpy(), np.where(X > 0, X, 0.1 * X), rtol=1e-15)
    nn.ReLU(inplace=True)(y)
    np.testing.assert_array_equal(y.numpy(), np.maximum(X, 0))


def test_bad_arguments_raise_naming_the_activation():
    with pytest.raises(ValueError, match="Hardtanh"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="hardtanh"):
        F.hardtanh(tn.tensor(X), 2.0, 1.0)
    with pytest.raises(ValueError, match="softplus"):
        F.softplus(tn.tensor(X), beta=0.0)
