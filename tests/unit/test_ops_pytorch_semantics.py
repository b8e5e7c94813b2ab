"""Regression tests for the silent differences from PyTorch that issue 15 measured: each expected
value is worked out by hand from PyTorch's documented semantics and written here."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.testing import assert_gradients_match


def test_transpose_swaps_two_dims_as_in_pytorch(backend_name):
    x = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(x.transpose(1, 0).numpy(), x.transpose(-1, -2).numpy())
    y = tn.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    z = y.transpose(0, 2)
    assert z.shape == (4, 3, 2)
    assert z.numpy()[3, 1, 0] == y.numpy()[0, 1, 3]
    assert y.transpose(1, -1).shape == (2, 4, 3) and y.mT.shape == (2, 4, 3)
    assert assert_gradients_match(lambda t: y.transpose(0, 2) * tn.arange(24.0, dtype=np.float64).reshape(4, 3, 2), y)
    with pytest.raises(TypeError, match=r"transpose\(dim0, dim1\) swaps two dims.*permute"):
        y.transpose(2, 0, 1)
    with pytest.raises(IndexError, match="transpose: dim 3 is out of range"):
        y.transpose(0, 3)


def test_t_and_T():
    x = tn.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.t().numpy(), np.arange(6.0).reshape(2, 3).T)
    np.testing.assert_array_equal(x.T.numpy(), x.t().numpy())
    v = tn.tensor([1.0, 2.0])
    np.testing.assert_array_equal(v.t().numpy(), [1.0, 2.0])  # a 1-d tensor is its own transpose
    with pytest.raises(ValueError, match=r"t\(\): expects a tensor with <= 2 dimensions"):
        tn.ones(2, 3, 4).t()


def test_permute_with_negative_dims_gives_the_leaf_a_gradient_of_its_shape(backend_name):
    x = tn.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    w = np.arange(24.0).reshape(4, 2, 3)
    out = x.permute(-1, 0, -2)
    assert out.shape == (4, 2, 3)
    (out * tn.tensor(w)).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    # out[k, i, j] = x[i, j, k], so d/dx[i, j, k] = w[k, i, j]
    np.testing.assert_array_equal(x.grad, w.transpose(1, 2, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0, 1)


def test_max_with_dim_is_a_named_tuple_of_values_and_indices(backend_name):
    out = tn.tensor([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05]])
    _, pred = out.max(1)
    np.testing.assert_array_equal(pred.numpy(), [1, 0])
    assert pred.dtype == np.int64
    result = out.max(dim=1, keepdim=True)
    np.testing.assert_array_equal(result.values.numpy(), np.float32([[0.7], [0.9]]))
    np.testing.assert_array_equal(result.indices.numpy(), [[1], [0]])
    assert type(result).__name__ == "max"
    low = out.min(0)
    np.testing.assert_array_equal(low.values.numpy(), np.float32([0.1, 0.05, 0.05]))
    np.testing.assert_array_equal(low.indices.numpy(), [0, 1, 1])
    assert out.max(axis=0, keepdims=True).values.shape == (1, 3)  # NumPy's spellings


def test_max_with_dim_sends_the_whole_gradient_to_the_first_tied_index(backend_name):
    x = tn.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], dtype=np.float64, requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # the first occurrence, as PyTorch returns
    (values * tn.tensor([3.0, 7.0], dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 3.0, 0.0], [7.0, 0.0, 0.0]])
    y = tn.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], dtype=np.float64, requires_grad=True)
    y.min(dim=0).values.sum().backward()  # column mins 1, 1, 0: rows 1, 1, 1
    np.testing.assert_array_equal(y.grad, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_max_of_every_element_shares_the_gradient_evenly_among_ties(backend_name):
    # PyTorch's torch.max docs: "If reduce over all dimensions (no dim specified), gradients evenly
    # distribute between equally max/min values"; amax/amin do so along a dim too.
    x = tn.tensor([1.0, 4.0, 4.0, 4.0, 2.0], dtype=np.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1 / 3, 1 / 3, 1 / 3, 0.0], rtol=1e-15)
    y = tn.tensor([[3.0, 3.0], [0.0, 1.0]], dtype=np.float64, requires_grad=True)
    y.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.5, 0.5], [0.0, 1.0]])
    z = tn.tensor([[3.0, 3.0], [0.0, 1.0]], dtype=np.float64, requires_grad=True)
    z.amin(dim=(0, 1)).backward()
    np.testing.assert_array_equal(z.grad, [[0.0, 0.0], [1.0, 0.0]])


def test_max_with_dim_gradient_check_away_from_ties(backend_name):
    rng = np.random.default_rng(5)
    x = tn.tensor(rng.permutation(24).reshape(2, 3, 4) / 7.0, requires_grad=True)
    for dim in (0, 1, -1):
        assert assert_gradients_match(lambda t: t.max(dim).values * 1.5, x)
        assert assert_gradients_match(lambda t: t.min(dim, keepdim=True).values, x)


def test_argmax_and_argmin_take_dim_and_keepdim_positionally_and_by_keyword():
    x = tn.tensor([[1.0, 9.0, 9.0], [4.0, 0.0, 4.0]])
    np.testing.assert_array_equal(x.argmax(1, True).numpy(), [[1], [0]])
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=False).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(0).numpy(), [0, 1, 1])
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True).numpy(), [[0, 1, 1]])
    assert x.argmax().item() == 1  # of the flattened tensor
    assert x.argmax(None, True).shape == (1, 1)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_every_reduction_takes_keepdim_and_numpys_spelling(op):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tn.tensor(a)
    expected = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[op]
    np.testing.assert_allclose(getattr(x, op)(1, keepdim=True).data, expected(a, axis=1, keepdims=True))
    np.testing.assert_allclose(getattr(x, op)(dim=(0, 2)).data, expected(a, axis=(0, 2)))
    np.testing.assert_allclose(getattr(x, op)(axis=-1, keepdims=True).data, expected(a, axis=-1, keepdims=True))
    with pytest.raises(TypeError, match="both dim"):
        getattr(x, op)(dim=0, axis=0)


def test_reducing_a_0d_tensor_over_dim_0_is_the_tensor():
    x = tn.tensor(3.0, requires_grad=True)
    y = x.sum(0)
    assert y.shape == () and y.item() == 3.0
    y.backward()
    assert float(x.grad) == 1.0
    assert x.mean(-1, keepdim=True).shape == ()


# Pow's gradients from PyTorch's formulas (tools/autograd/templates, pow_backward):
#   d/dx x^y = y x^(y-1), set to 0 where y == 0;   d/dy x^y = x^y ln x, set to 0 where x == 0 and y >= 0.
def test_pow_gradient_at_zero_base_with_zero_exponent_is_zero(backend_name):
    x = tn.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # x^0 is the constant 1: 0 * x^-1 is taken as 0


def test_pow_gradient_of_zero_to_the_x_is_zero_where_x_is_not_negative(backend_name):
    y = tn.tensor([0.0, 0.5, 2.0, -1.0], dtype=np.float64, requires_grad=True)
    (0.0 ** y).sum().backward()
    # 0^y ln 0: masked to 0 for y >= 0; for y = -1, 0^-1 ln 0 = inf * -inf = -inf (unmasked, as in PyTorch)
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0, -np.inf])


def test_pow_gradient_at_zero_zero_is_zero_for_both(backend_name):
    x = tn.tensor([0.0, 3.0], dtype=np.float64, requires_grad=True)
    y = tn.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** y).sum().backward()
    # at (3, 2): d/dx = 2 * 3 = 6, d/dy = 9 ln 3
    np.testing.assert_array_equal(x.grad, [0.0, 6.0])
    np.testing.assert_allclose(y.grad, [0.0, 9 * np.log(3.0)], rtol=1e-15)


def test_pow_gradient_elsewhere_is_unchanged(backend_name):
    x = tn.tensor(np.array([0.5, 1.5, 2.5]), requires_grad=True)
    y = tn.tensor(np.array([-1.5, 0.5, 3.0]), requires_grad=True)
    assert assert_gradients_match(lambda a, b: a ** b, x, y)


def test_transpose_of_a_0d_tensor_takes_only_dims_0_and_minus_1():
    """PyTorch: a 0-d tensor's transpose accepts dims in [-1, 0] and returns the tensor; any other
    dim is an IndexError (found by the mutation tests' review)."""
    x = tn.tensor(2.0)
    assert x.transpose(0, -1).item() == 2.0
    with pytest.raises(IndexError, match="transpose: dim 5"):
        x.transpose(5, 0)
