"""tn.autograd.functional against closed forms, with PyTorch's signatures and return structure:
jacobian of elementwise and linear maps, hessian of a quadratic form (A + A^T), hvp equal to H v,
vjp equal to v^T J; tuples of inputs and outputs; create_graph results differentiable again."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.autograd.functional import hessian, hvp, jacobian, vjp

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 4))
X0 = RNG.standard_normal(4)


def quadratic(x):
    return x @ (tn.tensor(A) @ x)


def test_jacobian_of_a_linear_map_is_its_matrix_and_of_tanh_a_diagonal(backend_name):
    m = RNG.standard_normal((3, 4))
    j = jacobian(lambda x: tn.tensor(m) @ x, tn.tensor(X0))
    assert isinstance(j, tn.Tensor) and j.shape == (3, 4)
    np.testing.assert_allclose(j.numpy(), m, rtol=1e-15)
    x = tn.tensor(X0.reshape(2, 2))
    j = jacobian(lambda t: t.tanh(), x)
    assert j.shape == (2, 2, 2, 2)   # out.shape + in.shape
    expected = np.diag(1 - np.tanh(X0) ** 2).reshape(2, 2, 2, 2)
    np.testing.assert_allclose(j.numpy(), expected, rtol=1e-14)


def test_jacobian_tuples_outputs_outside_inputs_inside():
    a, b = tn.tensor([1.0, 2.0]), tn.tensor([3.0, -1.0, 0.5])
    j = jacobian(lambda s, t: (s * 2.0, t.sum() * s), (a, b))
    assert isinstance(j, tuple) and len(j) == 2 and all(isinstance(r, tuple) and len(r) == 2 for r in j)
    np.testing.assert_array_equal(j[0][0].numpy(), 2 * np.eye(2))
    np.testing.assert_array_equal(j[0][1].numpy(), np.zeros((2, 3)))   # unused input: zeros, as PyTorch
    np.testing.assert_array_equal(j[1][0].numpy(), 2.5 * np.eye(2))
    np.testing.assert_array_equal(j[1][1].numpy(), np.outer([1.0, 2.0], np.ones(3)))
    with pytest.raises(NotImplementedError, match="forward-mode"):
        jacobian(lambda s: s, a, strategy="forward-mode")


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose(backend_name):
    h = hessian(quadratic, tn.tensor(X0))
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h.numpy(), A + A.T, rtol=1e-14)
    x, y = tn.tensor([0.3, -0.2]), tn.tensor([1.5])
    hs = hessian(lambda s, t: (s * s * t).sum(), (x, y))   # f = t sum s^2
    np.testing.assert_allclose(hs[0][0].numpy(), 2 * 1.5 * np.eye(2))
    np.testing.assert_allclose(hs[0][1].numpy(), [[0.6], [-0.4]])
    np.testing.assert_allclose(hs[1][0].numpy(), [[0.6, -0.4]])
    np.testing.assert_allclose(hs[1][1].numpy(), [[0.0]])
    with pytest.raises(RuntimeError, match="single-element"):
        hessian(lambda s: s * 2.0, x)


def test_hvp_is_the_hessian_times_v(backend_name):
    v = RNG.standard_normal(4)
    out, hv = hvp(quadratic, tn.tensor(X0), tn.tensor(v))
    assert out.item() == pytest.approx(X0 @ A @ X0, rel=1e-14)
    np.testing.assert_allclose(hv.numpy(), (A + A.T) @ v, rtol=1e-13)
    x = tn.tensor(X0)   # a non-quadratic: f = sum tanh(x)^3 has a diagonal Hessian
    _, hv = hvp(lambda t: (t.tanh() ** 3).sum(), x, tn.tensor(v))
    t = np.tanh(X0)
    second = 6 * t * (1 - t * t) ** 2 - 6 * t ** 3 * (1 - t * t)   # d^2/dx^2 tanh^3
    np.testing.assert_allclose(hv.numpy(), second * v, rtol=1e-12)


def test_vjp_is_v_transpose_j_and_returns_the_output():
    x = tn.tensor([0.5, -1.0, 2.0])
    out, g = vjp(lambda t: t * t * t, x, tn.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out.numpy(), [0.125, -1.0, 8.0])
    np.testing.assert_array_equal(g.numpy(), [0.75, 6.0, 36.0])
    assert not out.requires_grad and not g.requires_grad
    _, g = vjp(lambda t: (t * t).sum(), x)   # v may be omitted for a single-element output
    np.testing.assert_array_equal(g.numpy(), [1.0, -2.0, 4.0])


def test_create_graph_results_can_be_differentiated_again():
    x = tn.tensor([0.5, -1.0], requires_grad=True)
    _, g = vjp(lambda t: (t ** 3).sum(), x, create_graph=True)   # 3 x^2, in x's graph
    assert g.requires_grad
    (gg,) = tn.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [3.0, -6.0])
    h = hessian(lambda t: (t ** 3).sum(), x, create_graph=True)   # diag(6x): d/dx sum = 6
    (gh,) = tn.autograd.grad(h.sum(), x)
    np.testing.assert_array_equal(gh.numpy(), [6.0, 6.0])


def test_strict_mode_is_refused_loudly():
    for fn, args in ((jacobian, ()), (hessian, ()), (vjp, (None,)), (hvp, (None,))):
        with pytest.raises(NotImplementedError, match=f"{fn.__name__}\\(strict=True\\)"):
            fn(lambda t: (t * t).sum(), tn.tensor([1.0]), *args, strict=True)
