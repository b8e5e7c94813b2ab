"""prod var std logsumexp norm all any cumsum cumprod: closed forms from NumPy's definitions,
float64 gradient checks on both backends, and the PyTorch conventions (correction=1, norm at 0)."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.testing import assert_gradients_match

A = np.random.default_rng(7).uniform(0.5, 2.0, (3, 4)) * np.array([1, -1, 1, -1])


@pytest.mark.parametrize("call, closed", [
    (lambda t: t.prod(), lambda a: np.prod(a)),
    (lambda t: t.prod(1), lambda a: np.prod(a, axis=1)),
    (lambda t: t.prod(0, keepdim=True), lambda a: np.prod(a, axis=0, keepdims=True)),
    (lambda t: t.var(), lambda a: np.var(a, ddof=1)),
    (lambda t: t.var(1, correction=0), lambda a: np.var(a, axis=1)),
    (lambda t: t.var(0, unbiased=False, keepdim=True), lambda a: np.var(a, axis=0, keepdims=True)),
    (lambda t: t.std(dim=1), lambda a: np.std(a, axis=1, ddof=1)),
    (lambda t: t.std(), lambda a: np.std(a, ddof=1)),
    (lambda t: t.logsumexp(1), lambda a: np.log(np.exp(a).sum(1))),
    (lambda t: t.logsumexp((0, 1), keepdim=True), lambda a: np.log(np.exp(a).sum(keepdims=True))),
    (lambda t: t.norm(), lambda a: np.sqrt((a * a).sum())),
    (lambda t: t.norm("fro", dim=(0, 1)), lambda a: np.sqrt((a * a).sum())),
    (lambda t: t.norm(1, dim=1), lambda a: np.abs(a).sum(1)),
    (lambda t: t.norm(3, dim=0, keepdim=True), lambda a: (np.abs(a) ** 3).sum(0, keepdims=True) ** (1 / 3)),
    (lambda t: t.norm(float("inf"), dim=1), lambda a: np.abs(a).max(1)),
    (lambda t: t.cumsum(1), lambda a: np.cumsum(a, axis=1)),
    (lambda t: t.cumsum(-2), lambda a: np.cumsum(a, axis=0)),
    (lambda t: t.cumprod(1), lambda a: np.cumprod(a, axis=1)),
    (lambda t: t.cumprod(0), lambda a: np.cumprod(a, axis=0)),
    (lambda t: tn.amax(t, 1), lambda a: np.max(a, axis=1)),
])
def test_closed_form_and_gradient(call, closed, backend_name):
    x = tn.tensor(A, requires_grad=True)
    np.testing.assert_allclose(call(x).numpy(), closed(A), rtol=1e-13)
    assert assert_gradients_match(call, x)


def test_prod_and_cumprod_gradients_with_zeros_are_the_products_of_the_others(backend_name):
    x = tn.tensor(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]]), requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    y = tn.tensor(np.array([2.0, 0.0, 3.0]), requires_grad=True)
    y.cumprod(0).sum().backward()
    # cumprod = (2, 0, 0): d/dy0 = 1 + y1 + y1 y2 = 1, d/dy1 = y0 + y0 y2 = 8, d/dy2 = y0 y1 = 0
    np.testing.assert_array_equal(y.grad, [1.0, 8.0, 0.0])
    assert assert_gradients_match(lambda t: t.prod(1), x) and assert_gradients_match(lambda t: t.cumprod(0), y)


def test_norm_gradient_at_zero_is_zero_and_logsumexp_stays_finite(backend_name):
    z = tn.tensor(np.zeros(3), requires_grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(z.grad, np.zeros(3))
    big = tn.tensor(np.array([1000.0, 1000.0]), requires_grad=True)
    out = big.logsumexp(0)
    np.testing.assert_allclose(out.item(), 1000.0 + np.log(2.0), rtol=1e-15)
    out.backward()
    np.testing.assert_allclose(big.grad, [0.5, 0.5])  # softmax


def test_var_std_identities():
    x = tn.tensor(A)
    n = A.size
    np.testing.assert_allclose(x.var().item() * (n - 1) / n, ((A - A.mean()) ** 2).mean(), rtol=1e-14)
    np.testing.assert_allclose((x.std(1) ** 2).data, x.var(1).numpy(), rtol=1e-14)
    np.testing.assert_allclose(tn.var(x, 1, correction=2).data, ((A - A.mean(1, keepdims=True)) ** 2).sum(1) / 2)


def test_all_and_any_are_bool_without_gradient():
    x = tn.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
    assert x.all().item() is False and x.any().item() is True
    assert x.all(1).tolist() == [False, True] and x.any(dim=0, keepdim=True).tolist() == [[True, True]]
    assert tn.all(x > -1).item() is True and not x.any(1).requires_grad and x.all(1).dtype == np.bool_


def test_function_spellings():
    x = tn.tensor(A)
    np.testing.assert_array_equal(tn.prod(x, 1).data, x.prod(1).numpy())
    np.testing.assert_array_equal(tn.cumsum(x, dim=0).data, x.cumsum(0).numpy())
    np.testing.assert_array_equal(tn.logsumexp(x, 1).data, x.logsumexp(1).numpy())
    np.testing.assert_array_equal(tn.norm(x).data, x.norm().numpy())


# ---- what mutation testing showed unchecked (scripts/mutation.py): float32 gradients, the p-norm
# at x_i = 0 and 1, size-1 dims next to the reduced one, and empty dims.
F32 = np.array([[0.5, -2.0, 1.5], [-1.0, 0.25, 3.0]])


@pytest.mark.parametrize("call, closed_grad", [
    (lambda t: t.prod(1), lambda a: np.prod(a, axis=1, keepdims=True) / a),
    (lambda t: t.prod(), lambda a: np.prod(a) / a),
    (lambda t: t.cumprod(1).sum(), lambda a: np.stack([  # d/dx_i sum_j prod_{k<=j} x_k
        [sum(np.prod(r[:j + 1]) / r[i] for j in range(i, 3)) for i in range(3)] for r in a])),
    (lambda t: t.norm(float("inf"), dim=1), lambda a: np.sign(a) * (np.abs(a) == np.abs(a).max(1, keepdims=True))),
    (lambda t: t.norm(3, dim=1), lambda a: np.sign(a) * a ** 2 / ((np.abs(a) ** 3).sum(1, keepdims=True)) ** (2 / 3)),
])
def test_float32_inputs_get_float32_gradients(call, closed_grad, backend_name):
    # PyTorch: a gradient has its tensor's dtype; these ops build constants (the ones of the exclusive
    # products, the share of the maxima, the 0/1 of x_i = 0) that must not promote it to float64
    x = tn.tensor(F32.astype(np.float32), requires_grad=True)
    call(x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), closed_grad(F32), rtol=1e-6)


@pytest.mark.parametrize("p", [3.0, 0.5])
def test_norm_gradient_at_elements_equal_to_zero_and_one(p, backend_name):
    # dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1), and 0 at x_i = 0 (PyTorch's value, also for p < 1)
    a = np.array([1.0, -2.0, 0.0, 0.5])
    x = tn.tensor(a, requires_grad=True)
    x.norm(p).backward()
    y = (np.abs(a) ** p).sum() ** (1 / p)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0^(p-1) at x_i = 0, replaced by 0
        expected = np.where(a == 0, 0.0, np.sign(a) * np.abs(a) ** (p - 1) / y ** (p - 1))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_norm_over_one_dim_keeps_the_other_size_one_dims(p, backend_name):
    x = tn.tensor(np.arange(1.0, 7.0).reshape(2, 1, 3), requires_grad=True)
    y = x.norm(p, dim=2)
    assert y.shape == (2, 1) and x.norm(p, dim=0).shape == (1, 3) and x.norm(p).shape == ()
    expected = np.abs(x.numpy()).max(2) if p == float("inf") else (np.abs(x.numpy()) ** p).sum(2) ** (1 / p)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-14)
    assert assert_gradients_match(lambda t: t.norm(p, dim=2), x)


def test_cumprod_and_prod_over_an_empty_dim(backend_name):
    x = tn.tensor(np.zeros((2, 0)), requires_grad=True)
    y = x.cumprod(1)
    assert y.shape == (2, 0)
    y.sum().backward()
    assert x.grad.shape == (2, 0)
    p = x.prod(1)  # the empty product is 1
    np.testing.assert_array_equal(p.numpy(), [1.0, 1.0])
    x.grad = None
    p.sum().backward()
    assert x.grad.shape == (2, 0)


def test_prod_of_a_0d_tensor_over_its_dim(backend_name):
    x = tn.tensor(3.0, dtype=tn.float64, requires_grad=True)
    for dim in (0, -1, None):
        y = x.prod() if dim is None else x.prod(dim, keepdim=True)
        assert y.shape == () and y.item() == 3.0
    for dim in (1, -2):
        with pytest.raises(IndexError, match=r"^prod: dim .* is out of range for a tensor with 0 dimensions"):
            x.prod(dim)
    x.prod(0).backward()
    assert x.grad.item() == 1.0


def test_reduction_dims_named_twice_or_not_ints_are_refused_naming_the_op():
    x = tn.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"^sum: dim \(0, -2\) names a dimension twice$"):
        x.sum(dim=(0, -2))
    with pytest.raises(TypeError, match=r"^sum: dim must be an int, got float$"):
        x.sum(dim=1.0)
    with pytest.raises(TypeError, match=r"^mean: dim must be an int, got str$"):
        x.mean(dim=("a",))


def test_softmax_takes_dims_in_minus_ndim_to_ndim_and_refuses_the_rest():
    v = tn.tensor([1.0, 2.0, 3.0])
    m = tn.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(v.softmax(dim=-1).numpy(), v.softmax(dim=0).numpy())
    np.testing.assert_array_equal(m.softmax(dim=-2).numpy(), m.softmax(dim=0).numpy())   # -ndim is dim 0
    np.testing.assert_allclose(m.softmax(dim=0).numpy().sum(axis=0), [1, 1, 1], rtol=1e-12)
    for bad in (1, -2):
        with pytest.raises(IndexError, match=f"^Softmax: axis {bad} is out of range for a tensor with 1 dimensions$"):
            v.softmax(dim=bad)
