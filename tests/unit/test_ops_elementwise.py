"""PyTorch's elementwise ops beyond the core: closed forms (or identities), float64 gradient checks
on both backends, and PyTorch's conventions (ties, floor semantics, zero gradients of roundings).
None of these has a compiled kernel of its own (test_backend_table.py), so both backends run the
reference's function: the checks here, on both, are its test."""
import math
import warnings

import numpy as np
import pytest

import tinynn as tn
from tinynn.testing import assert_gradients_match

A = np.array([[-0.9, -0.35, 0.1], [0.45, 0.7, 0.95]])  # inside (-1, 1), away from 0 and kinks

# name: (domain of the test values, closed form)
CLOSED = {
    "sin": (A * 3, np.sin), "cos": (A * 3, np.cos), "tan": (A, np.tan), "sinh": (A * 2, np.sinh),
    "cosh": (A * 2, np.cosh), "asin": (A, np.arcsin), "acos": (A, np.arccos), "atan": (A * 4, np.arctan),
    "arcsin": (A, np.arcsin), "arccos": (A, np.arccos), "arctan": (A, np.arctan),
    "exp2": (A * 3, lambda a: 2.0 ** a), "log2": (A + 1.5, lambda a: np.log(a) / np.log(2)),
    "log1p": (A, lambda a: np.log(1 + a)), "expm1": (A, lambda a: np.exp(a) - 1),
    "rsqrt": (A + 1.5, lambda a: 1 / np.sqrt(a)), "reciprocal": (A + 1.5, lambda a: 1 / a),
    "erf": (A * 2, np.vectorize(math.erf)),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_closed_form_and_gradient(name, backend_name):
    values, closed = CLOSED[name]
    x = tn.tensor(values, requires_grad=True)
    np.testing.assert_allclose(getattr(x, name)().data, closed(values), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(getattr(tn, name)(x).data, getattr(x, name)().data)
    assert assert_gradients_match(lambda t: getattr(t, name)(), x)


def test_identities(backend_name):
    x = tn.tensor(A * 3)
    np.testing.assert_allclose((x.sin() ** 2 + x.cos() ** 2).data, 1.0, rtol=1e-15)
    np.testing.assert_allclose((x.cosh() ** 2 - x.sinh() ** 2).data, 1.0, rtol=1e-13)
    np.testing.assert_allclose(x.tan().atan().numpy(), (A * 3 + np.pi / 2) % np.pi - np.pi / 2, atol=1e-14)
    np.testing.assert_allclose(x.expm1().log1p().numpy(), A * 3, atol=1e-15)
    np.testing.assert_allclose(x.exp2().log2().numpy(), A * 3, atol=1e-15)
    np.testing.assert_allclose(tn.tensor([0.0, 1e9, -1e9]).erf().data, [0.0, 1.0, -1.0])


@pytest.mark.parametrize("name, expected", [("floor", [-2.0, -1.0, 0.0, 1.0, 2.0]), ("ceil", [-1.0, -0.0, 1.0, 2.0, 3.0]),
                                            ("round", [-2.0, -0.0, 0.0, 2.0, 2.0]), ("trunc", [-1.0, -0.0, 0.0, 1.0, 2.0])])
def test_roundings_and_their_zero_gradient(name, expected, backend_name):
    x = tn.tensor(np.array([-1.5, -0.5, 0.5, 1.5, 2.5]), requires_grad=True)
    np.testing.assert_array_equal(getattr(x, name)().data, expected)  # round: halves to even, as torch.round
    (getattr(x, name)() * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(5))


def test_maximum_minimum_values_gradients_and_ties(backend_name):
    a = tn.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = tn.tensor(np.array([3.0, 2.0, 1.0]), requires_grad=True)
    np.testing.assert_array_equal(tn.maximum(a, b).data, [3.0, 2.0, 3.0])
    np.testing.assert_array_equal(a.minimum(b).numpy(), [1.0, 2.0, 1.0])
    tn.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])  # the tie at 2 is split in half, as PyTorch
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])
    rng = np.random.default_rng(3)
    p = tn.tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True)
    q = tn.tensor(rng.uniform(-1, 1, (4,)), requires_grad=True)
    assert assert_gradients_match(lambda s, t: tn.maximum(s, t) * 2.0 + tn.minimum(s, t), p, q)
    assert a.max(b).numpy().tolist() == [3.0, 2.0, 3.0]  # max(other) is maximum, as in PyTorch
    with pytest.raises(ValueError, match=r"Maximum: shapes \(3,\) and \(2,\)"):
        tn.maximum(a, tn.ones(2))


def test_remainder_and_floor_division_follow_the_floor(backend_name):
    a = tn.tensor(np.array([7.0, -7.0, 7.0, -7.0, 5.5]), requires_grad=True)
    b = tn.tensor(np.array([3.0, 3.0, -3.0, -3.0, 2.0]), requires_grad=True)
    np.testing.assert_array_equal((a % b).data, [1.0, 2.0, -2.0, -1.0, 1.5])  # the divisor's sign
    np.testing.assert_array_equal((a // b).data, [2.0, -3.0, -3.0, 2.0, 2.0])
    np.testing.assert_array_equal(((a // b) * b + a % b).data, a.numpy())
    assert not (a // b).requires_grad  # // is not differentiable
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones(5))
    np.testing.assert_array_equal(b.grad, [-2.0, 3.0, 3.0, -2.0, -2.0])  # -floor(a / b)
    assert assert_gradients_match(lambda s, t: s % t, a, b)
    assert (tn.tensor([7, -7]) % 3).tolist() == [1, 2] and (tn.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert (10.0 % tn.tensor([3.0])).item() == 1.0 and (10.0 // tn.tensor([3.0])).item() == 3.0


def test_clamp_with_tensor_bounds(backend_name):
    x = tn.tensor(np.array([-2.0, 0.5, 3.0, 1.0]), requires_grad=True)
    lo = tn.tensor(np.array([-1.0, 0.0, 0.0, 1.0]), requires_grad=True)
    hi = tn.tensor(np.array([1.0, 1.0, 2.0, 2.0]), requires_grad=True)
    out = x.clamp(min=lo, max=hi)
    np.testing.assert_array_equal(out.numpy(), [-1.0, 0.5, 2.0, 1.0])
    out.sum().backward()
    # each element's gradient goes to the one that gave its value (x at x == lo, PyTorch's rule)
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(lo.grad, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hi.grad, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(tn.clip(x, max=hi).data, [-2.0, 0.5, 2.0, 1.0])
    np.testing.assert_array_equal(tn.clamp(x, -0.5, 0.5).data, [-0.5, 0.5, 0.5, 0.5])
    rng = np.random.default_rng(4)
    p, q = (tn.tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True) for _ in range(2))
    assert assert_gradients_match(lambda s, t: s.clamp(min=t), p, q)


def test_method_spellings_of_the_operators(backend_name):
    a, b = tn.tensor([[1.0, 2.0]]), tn.tensor([[3.0], [4.0]])
    assert a.add(b).tolist() == (a + b).tolist() and tn.sub(a, b).tolist() == (a - b).tolist()
    assert a.mul(b).tolist() == (a * b).tolist() and tn.div(a, b).tolist() == (a / b).tolist()
    assert a.pow(2).tolist() == [[1.0, 4.0]] and tn.neg(a).tolist() == [[-1.0, -2.0]]
    assert a.mm(b).tolist() == [[11.0]] and tn.matmul(a, b).tolist() == [[11.0]]


def test_sign_bmm_and_the_where_method(backend_name):
    x = tn.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    assert tn.sign(x).tolist() == [-1.0, 0.0, 1.0]
    x.sign().sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))  # PyTorch: sign has zero gradient
    a, b = np.arange(12.0).reshape(2, 2, 3), np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(tn.bmm(tn.tensor(a), tn.tensor(b)).data, a @ b)
    assert x.where(x > 0, tn.zeros(3, dtype=np.float64)).tolist() == [0.0, 0.0, 3.0]
    assert tn.numel(x) == 3 and not tn.detach(x).requires_grad


# ---- what mutation testing showed unchecked (scripts/mutation.py): dtypes of clamp with a tensor
# bound and an open one, and of the unary functions on integer and float32 tensors.
@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.float32])
def test_clamp_with_one_tensor_bound_keeps_the_inputs_dtype(dtype, backend_name):
    # PyTorch: the open bound is the end of x's own type (+-inf for floats), so the result type is
    # that of x and the bound given
    x = tn.tensor(np.array([1, 5, 9], dtype=dtype))
    bound = tn.tensor(np.array([2, 2, 7], dtype=dtype))
    low, high = tn.clamp(x, min=bound), tn.clamp(x, max=bound)
    assert low.dtype == dtype and high.dtype == dtype
    np.testing.assert_array_equal(low.numpy(), [2, 5, 9])
    np.testing.assert_array_equal(high.numpy(), [1, 2, 7])


def test_clamp_of_a_bool_tensor_with_bool_bounds_stays_bool(backend_name):
    x = tn.tensor([True, False, True, False])
    lo, hi = tn.tensor([False, True, False, True]), tn.tensor([False, False, True, True])
    low, high = x.clamp(min=lo), x.clamp(max=hi)  # PyTorch: max(x, lo) and min(x, hi), as bools
    assert low.dtype == np.bool_ and high.dtype == np.bool_
    assert low.tolist() == [True, True, True, True] and high.tolist() == [False, False, True, False]


@pytest.mark.parametrize("dtype", [np.int64, np.int16, np.uint8])
def test_unary_of_an_integer_tensor_computes_in_float32(dtype, backend_name):
    # PyTorch: an integer input of sin, exp2, ... gives the default float dtype, float32
    x = tn.tensor(np.array([0, 1, 2], dtype=dtype))
    for name, closed in (("sin", np.sin), ("exp2", np.exp2), ("log1p", np.log1p)):
        y = getattr(x, name)()
        assert y.dtype == np.float32, name
        np.testing.assert_allclose(y.numpy(), closed(np.array([0.0, 1.0, 2.0])), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.int16])
def test_roundings_and_sign_of_an_integer_tensor_keep_its_dtype(dtype, backend_name):
    # PyTorch: floor, ceil, round, trunc and sign of an integer tensor are integers of its dtype
    x = tn.tensor(np.array([0, -3, 2], dtype=dtype))
    for name in ("floor", "ceil", "round", "trunc"):
        y = getattr(x, name)()
        assert y.dtype == dtype and y.tolist() == [0, -3, 2], name
    assert x.sign().dtype == dtype and x.sign().tolist() == [0, -1, 1]


@pytest.mark.parametrize("name, derivative, second", [
    ("sin", np.cos, lambda a: -np.sin(a)), ("exp2", lambda a: np.exp2(a) * np.log(2), lambda a: np.exp2(a) * np.log(2) ** 2),
    ("floor", np.zeros_like, np.zeros_like)])
def test_unary_gradients_of_float32_are_float32_to_second_order(name, derivative, second, backend_name):
    a = np.array([-0.7, 0.2, 1.1])
    x = tn.tensor(a.astype(np.float32), requires_grad=True)
    (g,) = tn.autograd.grad(getattr(x, name)().sum(), x, create_graph=True)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), derivative(a), rtol=1e-6)
    if name != "floor":  # floor's derivative is a constant 0: its gradient needs no graph
        g.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad.numpy(), second(a), rtol=1e-6, atol=1e-7)


def test_pow_gradients_at_a_zero_base_are_pytorchs_and_silent(backend_name):
    # d/da a^b = b a^(b-1) and d/db a^b = a^b ln a, with PyTorch's 0 for the 0 * inf (and 0 * nan) the
    # formulas give at a = 0 (b = 0 for the first, b >= 0 for the second): masked, so NumPy must not warn
    a = tn.tensor(np.array([0.0, 0.0, 2.0]), requires_grad=True)
    b = tn.tensor(np.array([0.0, 1.0, 3.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 1.0, 12.0], rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0, 8.0 * np.log(2.0)], rtol=1e-15)
