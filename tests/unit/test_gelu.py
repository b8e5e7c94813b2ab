"""GELU (exact and tanh forms): closed forms against math.erf and the tanh formula, float64
gradient checks on both backends, the module and its errors."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

X = np.array([-6.0, -3.1, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 0.7, 1.0, 2.5, 6.0])


def exact(x):
    return x * 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def tanh_form(x):
    return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-15), (np.float32, 2e-7)])
@pytest.mark.parametrize("approximate, formula", [("none", exact), ("tanh", tanh_form)])
def test_gelu_is_its_formula(approximate, formula, dtype, tol, backend_name):
    y = F.gelu(tn.tensor(X.astype(dtype)), approximate=approximate)
    assert y.dtype == dtype
    expected = np.array([formula(float(v)) for v in X.astype(dtype)])
    np.testing.assert_allclose(y.numpy(), expected, rtol=tol * 4, atol=tol * 4)


def test_gelu_limits_and_symmetry(backend_name):
    """GELU(x) - GELU(-x) = x (Phi(x) + Phi(-x) = 1), GELU(0) = 0, GELU(x) -> x for large x."""
    x = tn.tensor(X)
    np.testing.assert_allclose((F.gelu(x) - F.gelu(-x)).numpy(), X, atol=1e-15)
    assert F.gelu(tn.tensor([0.0, 40.0])).tolist() == [0.0, 40.0]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(approximate, backend_name):
    x = tn.tensor(np.random.default_rng(3).normal(size=(3, 4)) * 2, requires_grad=True)
    assert assert_gradients_match(lambda t: F.gelu(t, approximate=approximate), x)


def test_gelu_derivative_at_zero_is_one_half(backend_name):
    """d/dx x Phi(x) = Phi(x) + x phi(x) = 1/2 at 0, for both forms."""
    for approximate in ("none", "tanh"):
        x = tn.tensor([0.0], requires_grad=True)
        F.gelu(x, approximate=approximate).sum().backward()
        assert x.grad.tolist() == [0.5]


def test_gelu_module_and_errors():
    assert nn.GELU()(tn.tensor([1.0])).item() == pytest.approx(exact(1.0), rel=1e-6)
    assert nn.GELU("tanh")(tn.tensor([1.0])).item() == pytest.approx(tanh_form(1.0), rel=1e-6)
    assert "approximate='tanh'" in repr(nn.GELU("tanh"))
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of \('none', 'tanh'\), got 'fast'"):
        F.gelu(tn.tensor([1.0]), approximate="fast")
    assert F.gelu(tn.tensor([1, 2])).dtype == tn.float32  # integers promote to the default float
