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
