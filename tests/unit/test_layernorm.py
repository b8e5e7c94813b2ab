"""LayerNorm: output statistics, the affine closed form, gradient checks in float64 on both
backends, PyTorch's parameters and keys, errors."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

rng = np.random.default_rng(7)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_each_row_comes_out_with_mean_0_and_variance_1(dtype, tol, backend_name):
    x = (rng.normal(size=(4, 3, 16)) * 5 + 3).astype(dtype)
    y = nn.LayerNorm(16, eps=0.0).to(dtype)(tn.tensor(x)).numpy()
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=tol)
    np.testing.assert_allclose(y.var(axis=-1), 1, atol=tol * 10)


def test_normalizes_over_the_trailing_dims_and_applies_the_affine_map(backend_name):
    x = rng.normal(size=(2, 3, 4))
    w, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    y = F.layer_norm(tn.tensor(x), (3, 4), tn.tensor(w), tn.tensor(b), eps=0.1).numpy()
    flat = x.reshape(2, 12)
    xhat = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 0.1)
    np.testing.assert_allclose(y, xhat.reshape(2, 3, 4) * w + b, rtol=1e-12, atol=1e-12)


def test_a_constant_row_maps_to_the_bias(backend_name):
    y = F.layer_norm(tn.tensor(np.full((2, 5), 3.0)), 5, tn.ones(5), tn.full((5,), 0.25))
    assert y.numpy().tolist() == [[0.25] * 5] * 2


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False), (False, True)])
def test_layer_norm_gradcheck(affine, backend_name):
    x = tn.tensor(rng.normal(size=(3, 2, 5)), requires_grad=True)
    params = [tn.tensor(rng.normal(size=(2, 5)), requires_grad=True) if on else None for on in affine]
    inputs = [x] + [p for p in params if p is not None]

    def fn(x, *given):
        it = iter(given)
        w, b = (next(it) if on else None for on in affine)
        return F.layer_norm(x, (2, 5), w, b) * tn.tensor(np.arange(30.0).reshape(3, 2, 5))  # not just the sum
    assert assert_gradients_match(fn, *inputs)


def test_an_input_of_exactly_normalized_shape_is_one_group(backend_name):
    """PyTorch: x.shape == normalized_shape (no leading dims) normalizes all of x at once."""
    x = rng.normal(size=(3, 4))
    y = F.layer_norm(tn.tensor(x), (3, 4), eps=0.0).numpy()
    assert y.shape == (3, 4)
    np.testing.assert_allclose(y, (x - x.mean()) / x.std(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("wanted", ["input", "weight", "bias"])
def test_gradient_of_one_input_while_the_others_are_constants(wanted, backend_name):
    """x, w and b all given, one of them requiring grad: it gets the gradient, the others none."""
    given = {"input": rng.normal(size=(3, 2, 5)), "weight": rng.normal(size=(2, 5)), "bias": rng.normal(size=(2, 5))}
    given = {name: tn.tensor(a, requires_grad=name == wanted) for name, a in given.items()}
    weights = tn.tensor(np.arange(30.0).reshape(3, 2, 5))
    assert assert_gradients_match(lambda t: F.layer_norm(**{**given, wanted: t}, normalized_shape=(2, 5)) * weights,
                                  given[wanted])
    F.layer_norm(**given, normalized_shape=(2, 5)).sum().backward()
    assert [name for name, t in given.items() if t.grad is not None] == [wanted]


def test_parameters_keys_and_defaults():
    ln = nn.LayerNorm(6)
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.eps == 1e-5
    assert ln.weight.numpy().tolist() == [1.0] * 6 and ln.bias.numpy().tolist() == [0.0] * 6
    assert list(nn.LayerNorm(6, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm([2, 3], elementwise_affine=False).state_dict()) == []
    assert nn.LayerNorm([2, 3]).weight.shape == (2, 3)


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 5\) does not end in normalized_shape \(4,\)"):
        nn.LayerNorm(4)(tn.randn(2, 5))
    with pytest.raises(ValueError, match=r"layer_norm: weight or bias of shape \(3,\) differs from normalized_shape \(4,\)"):
        F.layer_norm(tn.randn(2, 4), 4, tn.ones(3))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be positive ints"):
        nn.LayerNorm(0)
