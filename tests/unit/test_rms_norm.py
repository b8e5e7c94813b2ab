"""RMSNorm and F.rms_norm (Zhang and Sennrich, 2019): the closed form x / sqrt(mean(x^2) + eps) * w,
eps=None as the dtype's machine epsilon, unit RMS and scale invariance, float64 gradcheck and
gradgradcheck on both backends, PyTorch's parameter, repr and errors."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(17)


def _closed_form(x, dims, w, eps):
    return x / np.sqrt((x * x).mean(axis=dims, keepdims=True) + eps) * w


@pytest.mark.parametrize("shape, normalized", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,))])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_closed_form(shape, normalized, dtype, tol, backend_name):
    x = rng.normal(size=shape).astype(dtype)
    w = rng.normal(size=normalized).astype(dtype)
    dims = tuple(range(len(shape) - len(normalized), len(shape)))
    y = F.rms_norm(tn.tensor(x), normalized, tn.tensor(w), eps=0.25)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y.numpy(), _closed_form(x.astype(np.float64), dims, w, 0.25), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eps_none_is_the_machine_epsilon_of_the_dtype(dtype, backend_name):
    x = rng.normal(size=(3, 4)) * np.sqrt(np.finfo(dtype).eps)  # mean(x^2) of the order of eps
    x = x.astype(dtype)
    expected = _closed_form(x.astype(np.float64), (1,), 1.0, float(np.finfo(dtype).eps))
    rtol = 10 * np.finfo(dtype).eps
    np.testing.assert_allclose(F.rms_norm(tn.tensor(x), (4,)).numpy(), expected, rtol=rtol)
    np.testing.assert_allclose(nn.RMSNorm(4, dtype=dtype)(tn.tensor(x)).numpy(), expected, rtol=rtol)
    assert not np.allclose(F.rms_norm(tn.tensor(x), (4,), eps=0.0).numpy(), expected, rtol=1e-2)


def test_unit_rms_scale_invariance_and_zero_rows(backend_name):
    x = rng.normal(size=(4, 6)) * 7
    y = F.rms_norm(tn.tensor(x), (6,), eps=0.0).numpy()
    np.testing.assert_allclose(np.sqrt((y * y).mean(-1)), 1, rtol=1e-14)
    np.testing.assert_allclose(F.rms_norm(tn.tensor(x * 1e3), (6,), eps=0.0).numpy(), y, rtol=1e-13)
    assert F.rms_norm(tn.zeros(2, 3), (3,)).numpy().tolist() == [[0.0] * 3] * 2  # 0 / sqrt(eps)


@pytest.mark.parametrize("normalized, weighted", [((4,), True), ((3, 4), True), ((4,), False)])
def test_gradcheck_and_gradgradcheck(normalized, weighted, backend_name):
    from test_gradgradcheck import assert_same_as_first_order
    x = tn.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    inputs = (x, tn.tensor(rng.normal(size=normalized), requires_grad=True)) if weighted else (x,)

    def fn(x, w=None):
        return F.rms_norm(x, normalized, w, eps=1e-3)
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


def test_module_parameter_repr_and_dtype():
    norm = nn.RMSNorm([2, 3])
    assert list(norm.state_dict()) == ["weight"] and norm.weight.shape == (2, 3)
    assert norm.weight.numpy().tolist() == [[1.0] * 3] * 2 and norm.weight.dtype == np.float32
    assert norm.normalized_shape == (2, 3) and norm.eps is None and norm.elementwise_affine
    assert repr(norm) == "RMSNorm((2, 3), eps=None, elementwise_affine=True)"
    bare = nn.RMSNorm(5, eps=1e-6, elementwise_affine=False)
    assert list(bare.state_dict()) == [] and bare.weight is None
    assert repr(bare) == "RMSNorm((5,), eps=1e-06, elementwise_affine=False)"
    assert nn.RMSNorm(4, dtype=tn.float64).weight.dtype == np.float64
    x = rng.normal(size=(3, 5))
    np.testing.assert_allclose(bare(tn.tensor(x)).numpy(), _closed_form(x, (1,), 1.0, 1e-6), rtol=1e-14)


def test_the_weight_is_learned():
    norm = nn.RMSNorm(3, eps=0.0).double()
    x = rng.normal(size=(4, 3))
    norm(tn.tensor(x)).sum().backward()
    xhat = x / np.sqrt((x * x).mean(-1, keepdims=True))
    np.testing.assert_allclose(norm.weight.grad.numpy(), xhat.sum(0), rtol=1e-13)


def test_the_result_has_the_input_dtype():
    """As PyTorch: a weight of another dtype is cast to the input's."""
    assert F.rms_norm(tn.ones(2, 3, dtype=tn.float32), (3,), tn.ones(3, dtype=tn.float64)).dtype == np.float32
    assert F.rms_norm(tn.ones(2, 3, dtype=tn.float64), (3,), tn.ones(3, dtype=tn.float32)).dtype == np.float64


def test_errors_name_the_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"rms_norm: input of shape \(2, 3\) does not end in normalized_shape \(4,\)"):
        F.rms_norm(tn.ones(2, 3), (4,))
    with pytest.raises(ValueError, match=r"rms_norm: weight of shape \(2,\) differs from normalized_shape \(3,\)"):
        F.rms_norm(tn.ones(2, 3), (3,), tn.ones(2))
    with pytest.raises(TypeError, match="rms_norm: expected a float input, got int64"):
        F.rms_norm(tn.tensor([[1, 2]]), (2,))
    with pytest.raises(ValueError, match="rms_norm: normalized_shape must have at least one dim"):
        F.rms_norm(tn.ones(2, 3), ())
    with pytest.raises(ValueError, match="RMSNorm: normalized_shape must be non-negative ints"):
        nn.RMSNorm([2, -1])
