"""`.grad`/`.data` as Tensors, in-place ops with PyTorch's rules, the version counter (issue 15,
steps 3 and 4). Expected values from closed forms."""
import re

import numpy as np
import pytest

import tinynn as tn


def test_grad_is_a_tensor_that_zero_works_on():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, tn.Tensor) and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])          # d/dx sum x^2 = 2x
    g = x.grad
    (x * x).sum().backward()
    assert x.grad is g                                                   # accumulated into the same Tensor
    np.testing.assert_array_equal(g.numpy(), [4.0, 8.0])
    assert x.grad.zero_() is g
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x.grad = None
    assert x.grad is None
    x.grad = np.ones(2, np.float32)                                      # an array is wrapped
    assert isinstance(x.grad, tn.Tensor)
    with pytest.raises(RuntimeError, match="shape"):
        x.grad = tn.ones(3)


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    p = tn.tensor([1.0, 2.0], requires_grad=True)
    d = p.data
    assert isinstance(d, tn.Tensor) and not d.requires_grad and d.is_leaf
    d.mul_(3.0)                                                          # no error: outside the graph
    assert p.tolist() == [3.0, 6.0]
    p.data = tn.tensor([5.0, 7.0])                                       # assigning sets the values
    assert p.tolist() == [5.0, 7.0] and p.requires_grad
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [10.0, 14.0])


def test_inplace_ops_change_the_tensor_itself():
    x = tn.tensor([1.0, 2.0, 3.0])
    view = x.detach()                                                    # shares x's memory
    assert x.add_(1.0) is x and x.tolist() == [2.0, 3.0, 4.0] and view.tolist() == [2.0, 3.0, 4.0]
    x.sub_(tn.tensor([1.0, 1.0, 1.0]), alpha=2)
    assert x.tolist() == [0.0, 1.0, 2.0]
    x.mul_(4.0).div_(2.0)
    assert x.tolist() == [0.0, 2.0, 4.0]
    x.clamp_(1.0, 3.0)
    assert x.tolist() == [1.0, 2.0, 3.0]
    x.fill_(5.0)
    assert x.tolist() == [5.0, 5.0, 5.0]
    x.copy_(tn.tensor([1, 2, 3]))
    assert x.tolist() == [1.0, 2.0, 3.0] and x.dtype == np.float32
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]
    y = x
    y += 2.0
    y *= 3.0
    y -= 1.0
    y /= 5.0
    assert y is x and x.tolist() == [1.0, 1.0, 1.0]
    x[1] = 7.0
    assert x.tolist() == [1.0, 7.0, 1.0]


def test_random_fills():
    tn.manual_seed(0)
    u = tn.empty(20000).uniform_(2.0, 4.0).numpy()
    assert 2.0 <= u.min() and u.max() < 4.0 and abs(u.mean() - 3.0) < 0.02      # mean (a+b)/2
    n = tn.empty(20000).normal_(1.0, 2.0).numpy()
    assert abs(n.mean() - 1.0) < 0.05 and abs(n.std() - 2.0) < 0.05


def test_inplace_keeps_the_dtype_rules():
    i = tn.tensor([1, 2])
    i.add_(1)
    assert i.dtype == np.int64 and i.tolist() == [2, 3]
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)                                                      # float result into an int tensor
    with pytest.raises(RuntimeError, match="broadcast shape"):
        tn.zeros(2).add_(tn.zeros(3, 2))


def test_leaf_requiring_grad_changes_only_under_no_grad():
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w -= 1.0
    with tn.no_grad():
        w -= 1.0
    assert w.tolist() == [0.0, 1.0] and w.requires_grad and w.is_leaf


def test_inplace_on_a_non_leaf_is_recorded():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0                                     # Mul saves only the constant, not y
    y.mul_(x)                                       # y = 2 x * x = 2 x^2
    assert not y.is_leaf and y.tolist() == [2.0, 8.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])           # d/dx 2x^2 = 4x


def test_version_counter_and_saved_tensor_check():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    a = tn.tensor([3.0, 4.0])
    assert a._version == 0
    y = (x * a).sum()                               # Mul saved a for x's gradient
    a.add_(1.0)
    assert a._version == 1 and a.detach()._version == 1                  # views share the counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Mul"):
        y.backward()
    z = (x * a).sum()                               # made after the change: fine
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 5.0])
    e = x.exp()                                     # Exp saves its output
    e.add_(1.0)
    with pytest.raises(RuntimeError, match="Exp"):
        e.sum().backward()
    s = x + 1.0                                     # Add saves nothing: changing its input is fine
    b = tn.tensor([1.0, 1.0])
    t = (s + b).sum()
    b.add_(1.0)
    t.backward()


def test_manual_sgd_under_no_grad_reaches_the_least_squares_loss():
    """The classic loop `with no_grad(): p -= lr * p.grad; p.grad.zero_()` on y = X w + b reaches the
    mean squared error of the least-squares solution (np.linalg.lstsq on [X, 1])."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(64)
    A = np.hstack([X, np.ones((64, 1))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    best = np.mean((A @ coef - y) ** 2)
    Xt, yt = tn.tensor(X, dtype=tn.float64), tn.tensor(y, dtype=tn.float64)
    w = tn.zeros(3, dtype=tn.float64, requires_grad=True)
    b = tn.zeros(1, dtype=tn.float64, requires_grad=True)
    for _ in range(500):
        loss = ((Xt @ w + b - yt) ** 2).mean()
        loss.backward()
        with tn.no_grad():
            for p in (w, b):
                p -= 0.1 * p.grad
                p.grad.zero_()
    assert loss.item() == pytest.approx(best, rel=1e-6)
    np.testing.assert_allclose(w.numpy(), coef[:3], rtol=1e-5)


@pytest.mark.parametrize("op, call", [
    ("add_", lambda p: p.add_(1.0)), ("sub_", lambda p: p.sub_(1.0)), ("mul_", lambda p: p.mul_(2.0)), ("div_", lambda p: p.div_(2.0)),
    ("clamp_", lambda p: p.clamp_(0.0, 1.0)), ("copy_", lambda p: p.copy_(tn.ones(2))), ("fill_", lambda p: p.fill_(1.0)),
    ("uniform_", lambda p: p.uniform_()), ("normal_", lambda p: p.normal_()),
    ("__setitem__", lambda p: p.__setitem__(0, 1.0))])
def test_every_inplace_op_names_itself_when_refusing_a_leaf(op, call):
    p = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{re.escape(op)}: a leaf Variable that requires grad is being used "
                                           "in an in-place operation.$"):
        call(p)


def test_setitem_of_a_tensor_that_requires_grad_passes_it_the_gradient():
    # PyTorch's index_put: the assigned value gets the gradient of the places it fills
    v = tn.tensor(1.0, requires_grad=True)
    x = tn.zeros(2)
    x[0] = v
    (x * tn.tensor([3.0, 5.0])).sum().backward()
    assert x.requires_grad and v.grad.item() == 3.0


def test_setitem_and_copy_from_constants_leave_no_gradient_behind():
    x = tn.zeros(3)
    x[1] = tn.tensor(4.0)
    x.copy_([1.0, 2.0, 3.0])
    x.uniform_()
    x.normal_()
    assert not x.requires_grad and x._node is None
    w = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 2.0
    y[0] = 5.0                                          # the written place gets no gradient, the rest 2
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 2.0, 2.0])
    np.testing.assert_array_equal(y.detach().numpy(), [5.0, 4.0, 6.0])


def test_copy_casts_and_routes_the_gradient_to_a_float_source():
    x = tn.zeros(3)                                     # float32, filled from float64: the gradient goes back
    src = tn.tensor([1.5, -2.0, 0.25], dtype=tn.float64, requires_grad=True)
    x.copy_(src)
    (x * tn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.dtype == np.float32 and x.tolist() == [1.5, -2.0, 0.25]
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 2.0, 3.0])
    assert src.grad.dtype == np.float64
    i = tn.zeros(3, dtype=tn.int64)                     # float into int truncates toward 0 (PyTorch's cast)
    i.copy_(tn.tensor([1.7, -2.5, 3.0]))
    assert i.dtype == np.int64 and i.tolist() == [1, -2, 3] and not i.requires_grad
    f = tn.zeros(2, dtype=tn.float64)
    f.copy_(tn.tensor([3, -4]))
    assert f.dtype == np.float64 and f.tolist() == [3.0, -4.0]


def test_random_fills_default_to_the_unit_interval_and_the_standard_normal():
    tn.manual_seed(0)
    u = tn.empty(20000).uniform_().numpy()
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    n = tn.empty(20000).normal_().numpy()
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1.0) < 0.03
    d = tn.empty(4, dtype=tn.float64).uniform_()
    assert d.dtype == np.float64 and not d.requires_grad


def test_random_fills_refuse_integer_tensors_as_pytorch_does():
    for op in ("uniform_", "normal_"):
        with pytest.raises(RuntimeError, match=f"^{op}: fills floating-point tensors only, got int64$"):
            getattr(tn.zeros(3, dtype=tn.int64), op)()


def test_fill_casts_a_number_and_routes_a_tensors_gradient():
    i = tn.zeros(3, dtype=tn.int64).fill_(2.5)                 # PyTorch casts the number: 2
    assert i.dtype == np.int64 and i.tolist() == [2, 2, 2] and i.requires_grad is False
    f = tn.zeros(2, dtype=tn.float64).fill_(0.1)
    assert f.dtype == np.float64 and f.tolist() == [0.1, 0.1] and f.requires_grad is False
    v = tn.tensor(2.0, requires_grad=True)
    x = tn.zeros(3)
    x.fill_(v)
    (x * tn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.tolist() == [2.0, 2.0, 2.0] and v.grad.item() == 6.0


def test_inplace_writes_cast_within_a_kind_and_name_the_op_on_a_shape_mismatch():
    x = tn.ones(3)
    x.add_(tn.tensor([0.5, 1.0, 1.5], dtype=tn.float64))        # float64 into float32: same kind, allowed
    assert x.dtype == np.float32 and x.tolist() == [1.5, 2.0, 2.5]
    for t in (tn.ones(3), tn.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2.0):   # no graph, and recorded
        with pytest.raises(RuntimeError, match=re.escape("add_: output with shape [3] doesn't match the broadcast "
                                                         "shape [2, 3]")):
            t.add_(tn.ones((2, 3)))
