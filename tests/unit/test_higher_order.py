"""Gradients of gradients against closed forms, on both backends: the third derivative of tanh,
d^2/dx^2 x^3, the Hessian of x^T A x, a WGAN-GP style gradient penalty trained one step against a
hand-derived gradient; backward(create_graph=True) and backward(inputs=...) with PyTorch's meaning;
hooks and the version counter under create_graph; first-order gradients stay arrays-only."""
import numpy as np
import pytest

import tinynn as tn

X = np.array([-1.3, -0.4, 0.2, 0.9, 1.7])


def test_third_derivative_of_tanh(backend_name):
    x = tn.tensor(X, requires_grad=True)
    (d1,) = tn.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = tn.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = tn.autograd.grad(d2.sum(), x)
    t = np.tanh(X)  # tanh' = 1 - t^2, tanh'' = -2 t (1 - t^2), tanh''' = -2 (1 - t^2)(1 - 3 t^2)
    np.testing.assert_allclose(d1.numpy(), 1 - t * t, rtol=1e-14)
    np.testing.assert_allclose(d2.numpy(), -2 * t * (1 - t * t), rtol=1e-13)
    np.testing.assert_allclose(d3.numpy(), -2 * (1 - t * t) * (1 - 3 * t * t), rtol=1e-12)
    assert d1.requires_grad and d2.requires_grad and not d3.requires_grad


def test_second_derivative_of_a_cube_and_through_a_cast(backend_name):
    x = tn.tensor(X, requires_grad=True)
    (d1,) = tn.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (d2,) = tn.autograd.grad(d1.sum(), x)
    np.testing.assert_allclose(d1.numpy(), 3 * X ** 2, rtol=1e-15)
    np.testing.assert_allclose(d2.numpy(), 6 * X, rtol=1e-15)
    y = tn.tensor([0.5, -2.0], dtype=tn.float32, requires_grad=True)
    (g,) = tn.autograd.grad((y.double() * y.double()).sum(), y, create_graph=True)   # 2y, cast back to float32
    assert g.dtype == np.float32
    np.testing.assert_array_equal(tn.autograd.grad(g.sum(), y)[0].numpy(), [2.0, 2.0])


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose(backend_name):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    x = tn.tensor(rng.standard_normal(4), requires_grad=True)
    (g,) = tn.autograd.grad(x @ (tn.tensor(a) @ x), x, create_graph=True)   # (A + A^T) x
    rows = [tn.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(4)]
    np.testing.assert_allclose(np.stack(rows), a + a.T, rtol=1e-14)


def _penalty_by_hand(w, b, v, x):
    """P = sum_n ||d D / d x_n||^2 for D(x) = v . tanh(W x + b), and dP/dW, dP/db, dP/dv.

    With h = tanh(z), s = 1 - h^2, u = v s, the input gradient is g = W^T u, so P = sum |W^T u|^2;
    r = dP/du = 2 W g, dP/dv = sum r s, dP/dz = r v (-2 h s) =: q, dP/db = sum q,
    dP/dW = sum (q x^T + 2 u g^T)."""
    h = np.tanh(x @ w.T + b)
    s = 1 - h * h
    u = v * s
    g = u @ w
    r = 2 * g @ w.T
    q = r * v * (-2 * h * s)
    return (g * g).sum(), q.T @ x + 2 * u.T @ g, q.sum(0), (r * s).sum(0)


def test_gradient_penalty_trains_one_step_against_the_hand_derived_gradient(backend_name):
    rng = np.random.default_rng(0)
    w0, b0, v0 = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(5)
    x0 = rng.standard_normal((4, 3))
    w, b, v = (tn.tensor(a, requires_grad=True) for a in (w0, b0, v0))
    x = tn.tensor(x0, requires_grad=True)
    critic = (x @ w.T + b).tanh() @ v                             # D(x_n), shape (4,)
    (gx,) = tn.autograd.grad(critic.sum(), x, create_graph=True)  # row n: d D(x_n) / d x_n
    penalty = (gx * gx).sum()
    penalty.backward()
    p, dw, db, dv = _penalty_by_hand(w0, b0, v0, x0)
    assert penalty.item() == pytest.approx(p, rel=1e-13)
    for t, expected in ((w, dw), (b, db), (v, dv)):
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12, atol=1e-13)
    lr = 0.01
    with tn.no_grad():
        for t in (w, b, v):
            t -= lr * t.grad
    np.testing.assert_allclose(w.numpy(), w0 - lr * dw, rtol=1e-13)
    p1 = _penalty_by_hand(w.numpy(), b.numpy(), v.numpy(), x0)[0]
    assert p1 < p  # one small step down the gradient lowers the penalty


def test_gradient_penalty_through_nn_modules_matches_the_raw_ops(backend_name):
    rng = np.random.default_rng(1)
    first, last = tn.nn.Linear(3, 5).double(), tn.nn.Linear(5, 1, bias=False).double()
    x0 = rng.standard_normal((4, 3))
    x = tn.tensor(x0, requires_grad=True)
    (gx,) = tn.autograd.grad(last(first(x).tanh()).sum(), x, create_graph=True)
    (gx * gx).sum().backward()
    _, dw, db, dv = _penalty_by_hand(first.weight.numpy(), first.bias.numpy(), last.weight.numpy()[0], x0)
    np.testing.assert_allclose(first.weight.grad.numpy(), dw, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(first.bias.grad.numpy(), db, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(last.weight.grad.numpy()[0], dv, rtol=1e-12, atol=1e-13)


def test_backward_create_graph_leaves_a_differentiable_grad(backend_name):
    x = tn.tensor(X, requires_grad=True)
    (x.sin() * x).sum().backward(create_graph=True)   # x.grad = sin x + x cos x
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), np.sin(X) + X * np.cos(X), rtol=1e-14)
    first = x.grad
    x.grad = None
    first.sum().backward()                           # d/dx = 2 cos x - x sin x
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(X) - X * np.sin(X), rtol=1e-13)


def test_backward_inputs_fills_only_the_listed_tensors():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    w = tn.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()                                 # dy/dh = 2h, dy/dx = 2 h w
    y.backward(inputs=[x, h], retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [18.0, 64.0])
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 16.0])   # a non-leaf listed gets its .grad too
    assert w.grad is None
    y.backward(inputs=x)                              # accumulates, as PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [36.0, 128.0])
    with pytest.raises(RuntimeError, match="empty"):
        (x * 2.0).sum().backward(inputs=[])


def test_hooks_see_graph_gradients_under_create_graph():
    x = tn.tensor([0.5, 1.5], requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad) or g * 3.0)
    (g,) = tn.autograd.grad(y.sum(), x, create_graph=True)    # 3 * 2x
    np.testing.assert_array_equal(g.numpy(), [3.0, 9.0])
    assert seen == [False]  # d sum / d y = 1 is a constant
    np.testing.assert_array_equal(tn.autograd.grad(g.sum(), x)[0].numpy(), [6.0, 6.0])


def test_a_saved_tensor_changed_in_place_raises_under_create_graph_too():
    x = tn.tensor([0.5, 1.5], requires_grad=True)
    y = x * 1.0
    z = y * y
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation: Mul"):
        tn.autograd.grad(z.sum(), x, create_graph=True)


def test_first_order_backward_stays_on_arrays_and_restores_the_backend():
    active = tn.backend.active
    x = tn.tensor(X, requires_grad=True)
    (g,) = tn.autograd.grad(x.tanh().sum(), x, create_graph=True)
    assert tn.backend.active is active
    node = x.tanh().grad_fn
    assert isinstance(node.y, np.ndarray)
    (h,) = tn.autograd.grad(x.tanh().sum(), x)
    assert not h.requires_grad and isinstance(h.numpy(), np.ndarray)
    with pytest.raises(ValueError):   # a failed walk restores the backend as well
        tn.autograd.grad(x.tanh().sum(), x, grad_outputs=tn.ones(3), create_graph=True)
    assert tn.backend.active is active


def test_the_graph_is_kept_by_default_under_create_graph_and_freed_on_request():
    x = tn.tensor([0.5, 1.5], requires_grad=True)
    y = (x * x).sum()
    tn.autograd.grad(y, x, create_graph=True)
    tn.autograd.grad(y, x, create_graph=True)          # retain_graph defaults to create_graph
    tn.autograd.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="freed"):
        tn.autograd.grad(y, x)


@pytest.mark.parametrize("dim", [0, 1])
def test_log_softmax_second_derivatives_along_either_dim(dim, backend_name):
    x = tn.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    assert tn.gradgradcheck(lambda x: tn.nn.functional.log_softmax(x, dim=dim), x, rtol=1e-6)


def test_create_graph_gradients_at_the_kinks_are_pytorchs(backend_name):
    import tinynn.nn.functional as F
    x = tn.tensor([-1.0, 1.0, 0.5, 0.0, -2.0], dtype=tn.float64, requires_grad=True)
    (g,) = tn.autograd.grad(F.hardtanh(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 1.0, 1.0, 0.0])     # 0 at the bounds -1 and 1
    (g,) = tn.autograd.grad(F.leaky_relu(x, 0.1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.1, 1.0, 1.0, 0.1, 0.1])     # the slope at 0


def test_second_derivative_of_sigmoid_with_a_constant_incoming_gradient(backend_name):
    x = tn.tensor(X, requires_grad=True)
    (d1,) = tn.autograd.grad(x.sigmoid().sum(), x, create_graph=True)
    (d2,) = tn.autograd.grad(d1.sum(), x)
    s = 1 / (1 + np.exp(-X))   # s' = s (1 - s), s'' = s (1 - s)(1 - 2 s)
    np.testing.assert_allclose(d2.numpy(), s * (1 - s) * (1 - 2 * s), rtol=1e-12)


def test_embedding_gradient_under_create_graph_for_a_batch_of_sequences(backend_name):
    import tinynn.nn.functional as F
    w = tn.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    idx = tn.tensor([[0, 2, 2], [3, 0, 1]])                   # (batch 2, sequence 3): a 3-D gradient
    (g,) = tn.autograd.grad((F.embedding(idx, w, padding_idx=1) ** 2).sum(), w, create_graph=True)
    rows = np.arange(8.0).reshape(4, 2)                        # d/dW_i sum W_idx^2 = 2 W_i (times the count of i)
    np.testing.assert_array_equal(g.numpy(), 2 * rows * np.array([[2], [0], [2], [1]]))
    assert g.requires_grad


def test_create_graph_leaky_relu_gradient_rounds_in_float32_as_pytorch(backend_name):
    import tinynn.nn.functional as F
    w = np.random.default_rng(0).uniform(0.1, 1.0, 500).astype(np.float32)
    x = tn.tensor(-np.ones(500, np.float32), requires_grad=True)
    (g,) = tn.autograd.grad((F.leaky_relu(x, 0.01) * tn.tensor(w)).sum(), x, create_graph=True)
    assert g.dtype == np.float32   # g w rounded once in float32 (PyTorch's kernel), not the float64 product rounded
    np.testing.assert_array_equal(g.numpy(), w * np.float32(0.01))


@pytest.mark.parametrize("activation", ["none", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("constant", ["weight", "x"])
def test_linear_create_graph_with_one_input_constant(backend_name, activation, bias, constant):
    # a frozen layer under a gradient penalty (x needs a gradient, W and b do not), or a constant
    # batch (W and b do, x not): the create_graph kernel returns the gradients asked for, each
    # checked in float64 against central differences, of the gradient and of the gradient's gradient
    rng = np.random.default_rng(3)
    x = tn.tensor(rng.standard_normal((3, 4)), requires_grad=constant != "x")
    w = tn.tensor(rng.standard_normal((2, 4)), requires_grad=constant != "weight")
    b = tn.tensor(rng.standard_normal(2), requires_grad=constant != "weight") if bias else None
    f = (lambda x, w, b: tn.ops.Linear.apply(x, w, b, activation=activation)) if bias else \
        (lambda x, w: tn.ops.Linear.apply(x, w, activation=activation))
    inputs = (x, w, b) if bias else (x, w)
    assert tn.gradcheck(f, *inputs) and tn.gradgradcheck(f, *inputs)


def test_create_graph_through_a_kernel_without_a_differentiable_version_says_so():
    # a custom backward may call any kernel; under create_graph one with no recorded version is an error
    from tinynn.backend import reference
    from tinynn.ops.differentiable import Differentiable
    active = Differentiable(reference)
    np.testing.assert_array_equal(active.quantize_rows(np.array([[0.5, -1.0]]), 1.0, 0), [[0, -1]])  # arrays: the kernel
    with pytest.raises(NotImplementedError, match=r"^backward\(create_graph=True\): the kernel quantize_rows has no "
                                                  r"differentiable version \(tinynn/ops/differentiable\.py\)$"):
        active.quantize_rows(tn.tensor([[0.5, -1.0]]), 1.0, 0)
