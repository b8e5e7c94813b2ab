"""Tests that kill mutants mutmut left alive in tinynn/ops/ (scripts/mutation.py; report in
docs/mutation-report.md), through the public API only: every bad input raises the exception whose
message names the op and the shapes (the house rule, checked word for word here), and the
gradients of the ops whose arguments other tests left at their defaults (permute with dims,
mean over an axis with keepdims, clip with one bound, fake quantization's clipped range)."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F
from helpers.messages import raises


def t(*shape, grad=True):
    n = int(np.prod(shape)) if shape else 1
    return tn.tensor(np.arange(1, n + 1, dtype=np.float64).reshape(shape) / 7, requires_grad=grad)


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "Add"), (lambda a, b: a - b, "Sub"),
                                      (lambda a, b: a * b, "Mul"), (lambda a, b: a / b, "Div"),
                                      (lambda a, b: a ** b, "Pow")])
def test_broadcast_errors_name_the_op_and_both_shapes(op, name, backend_name):
    with raises(ValueError, f"{name}: shapes (2, 3) and (4,) cannot be broadcast together"):
        op(t(2, 3), t(4))


def test_matmul_errors(backend_name):
    with raises(ValueError, "matmul: both operands need at least 1 dimension, got shapes () and (3,)"):
        t() @ t(3)
    with raises(ValueError, "matmul: both operands need at least 1 dimension, got shapes (3,) and ()"):
        t(3) @ t()
    with raises(ValueError, "matmul: shapes (2, 3) and (4, 5) are not aligned: 3 (last axis of the first) "
                            "!= 4 (axis -2 of the second)"):
        t(2, 3) @ t(4, 5)
    with raises(ValueError, "matmul: shapes (2, 3) and (4,) are not aligned: 3 (last axis of the first) "
                            "!= 4 (axis 0 of the second)"):
        t(2, 3) @ t(4)
    with raises(ValueError, "matmul: batch shapes of (2, 2, 3) and (3, 3, 4) cannot be broadcast together"):
        t(2, 2, 3) @ t(3, 3, 4)


def test_linear_errors(backend_name):
    with raises(ValueError, "Linear: input has 3 features but the layer expects 4 (input shape (2, 3), "
                            "weight shape (5, 4))"):
        F.linear(t(2, 3), t(5, 4))
    with raises(ValueError, "Linear: input has 0 features but the layer expects 4 (input shape (), "
                            "weight shape (5, 4))"):
        F.linear(t(), t(5, 4))
    if backend_name == "cython":   # (the reference backend computes x @ w.T for a 1-D weight: see the report)
        with raises(ValueError, "Linear: input has 4 features but the layer expects ? (input shape (2, 4), "
                                "weight shape (4,))"):
            F.linear(t(2, 4), t(4))
    with raises(ValueError, "Linear: bias of shape (4,) does not match weight of shape (5, 4)"):
        F.linear(t(2, 4), t(5, 4), t(4))
    y = F.linear(t(2, 4), t(5, 4), t(5))       # a bias of the right shape passes
    assert y.shape == (2, 5)


def test_reduction_and_shape_errors(backend_name):
    with raises(IndexError, "mean: dim 2 is out of range for a tensor with 2 dimensions (expected in [-2, 1])"):
        t(2, 3).mean(axis=2)
    with raises(IndexError, "sum: dim -3 is out of range for a tensor with 2 dimensions (expected in [-2, 1])"):
        t(2, 3).sum(axis=-3)
    with raises(TypeError, "mean: needs a floating-point tensor, got int64"):
        tn.tensor(np.arange(3)).mean()
    with raises(ValueError, "Max: cannot reduce an empty tensor of shape (0, 2) along dim None"):
        tn.tensor(np.zeros((0, 2))).max()
    # a whole reordering is permute(*dims) (PyTorch); transpose(dim0, dim1) swaps two, so (0, 0) is the identity
    with raises(ValueError, "permute: dims (0, 0) are not a permutation of the 2 dims of shape (2, 3)"):
        t(2, 3).permute(0, 0)
    with raises(ValueError, "permute: dims (0, 1, 2) are not a permutation of the 2 dims of shape (2, 3)"):
        t(2, 3).permute(0, 1, 2)
    with raises(TypeError, "transpose(dim0, dim1) swaps two dims, got (0, 1, 2); permute(*dims) reorders them all"):
        t(2, 3).transpose(0, 1, 2)
    np.testing.assert_array_equal(t(2, 3).transpose(0, 0).numpy(), t(2, 3).numpy())
    with raises(ValueError, "clamp: at least one of min and max must be given"):
        t(2).clip()


@pytest.mark.parametrize("axes", [(1, 2, 0), (2, 0, 1), (-1, 0, 1)])
def test_transpose_with_axes_routes_the_gradient_back(axes, backend_name):
    """(Negative axes gave a gradient of the transposed shape: argsort of (-1, 0, 1) is the identity.)"""
    x = t(2, 3, 4)
    w = tn.tensor(np.random.default_rng(0).standard_normal(np.transpose(x.numpy(), axes).shape))
    (x.permute(*axes) * w).sum().backward()       # a whole reordering: permute (PyTorch's transpose swaps two)
    np.testing.assert_array_equal(x.grad, np.transpose(w.numpy(), np.argsort([a % 3 for a in axes])))
    assert x.permute(*axes).shape == np.transpose(x.numpy(), axes).shape


@pytest.mark.parametrize("axis, keepdims", [(0, True), (1, False), ((0, 2), True), (None, True), (-1, False)])
def test_mean_over_axes_value_shape_and_gradient(axis, keepdims, backend_name):
    x = t(2, 3, 4)
    y = x.mean(axis=axis, keepdims=keepdims)
    want = np.mean(x.numpy(), axis=axis, keepdims=keepdims)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-15)
    w = np.arange(1, want.size + 1, dtype=np.float64).reshape(want.shape)
    (y * tn.tensor(w)).sum().backward()
    count = x.numpy().size // max(want.size, 1)
    expanded = w if keepdims or axis is None else np.expand_dims(w, axis)
    np.testing.assert_allclose(x.grad, np.broadcast_to(expanded / count, x.shape), rtol=1e-15)
    assert t(2, 3).mean().shape == ()      # keepdims defaults to False


def test_clip_with_one_bound_passes_the_gradient_inside_it(backend_name):
    x = tn.tensor(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), requires_grad=True)
    x.clip(min=-1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 1])     # x = lo counts as inside
    x.grad = None
    x.clip(max=1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1, 1, 0])
    x.grad = None
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), [-1, -1, 0, 1, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])


def test_sub_and_div_gradients_with_broadcasting(backend_name):
    a, b = t(2, 3), t(3)
    (a - b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad, np.full(3, -2.0))
    a, b = t(2, 3), t(3)
    (a / b).sum().backward()
    np.testing.assert_allclose(a.grad, np.broadcast_to(1 / b.numpy(), (2, 3)), rtol=1e-15)
    np.testing.assert_allclose(b.grad, -(a.numpy() / b.numpy()**2).sum(axis=0), rtol=1e-14)
    c = t(3, grad=False)
    (t(2, 3) - c).sum().backward()
    assert c.grad is None


# ---------------------------------------------------------------- second round (report's open survivors)
def test_axis_bounds_of_zero_and_one_dimensional_tensors(backend_name):
    v = t(3)
    np.testing.assert_allclose(v.sum(axis=-1).numpy(), v.numpy().sum())
    np.testing.assert_allclose(t().sum(axis=0).numpy(), t().numpy())          # a 0-d tensor takes axis 0 and -1
    np.testing.assert_allclose(t().sum(axis=-1).numpy(), t().numpy())
    for bad in (1, -2):
        with raises(IndexError, f"sum: dim {bad} is out of range for a tensor with 1 dimensions (expected in [-1, 0])"):
            v.sum(axis=bad)
    with raises(IndexError, "max: dim 2 is out of range for a tensor with 2 dimensions (expected in [-2, 1])"):
        t(2, 3).max(axis=2)
    with raises(IndexError, "amax: dim 2 is out of range for a tensor with 2 dimensions (expected in [-2, 1])"):
        t(2, 3).amax(axis=2)
    with raises(IndexError, "Softmax: axis 2 is out of range for a tensor with 2 dimensions"):
        t(2, 3).softmax(axis=2)
    with raises(IndexError, "LogSoftmax: axis -3 is out of range for a tensor with 2 dimensions"):
        t(2, 3).log_softmax(axis=-3)
    np.testing.assert_array_equal(t(3).permute(-1).numpy(), t(3).numpy())     # a 1-d tensor's one axis, as -1
    np.testing.assert_array_equal(t(3).transpose(0, -1).numpy(), t(3).numpy())


def test_messages_name_the_last_axis_for_three_dimensional_inputs(backend_name):
    with raises(ValueError, "Linear: input has 3 features but the layer expects 4 (input shape (2, 5, 3), "
                            "weight shape (6, 4))"):
        F.linear(t(2, 5, 3), t(6, 4))
    with raises(ValueError, "matmul: shapes (2, 5, 3) and (4, 6) are not aligned: 3 (last axis of the first) "
                            "!= 4 (axis -2 of the second)"):
        t(2, 5, 3) @ t(4, 6)


def test_shape_op_errors(backend_name):
    with raises(ValueError, "cat: needs at least one tensor"):
        tn.concatenate([])
    with raises(ValueError, "stack: needs at least one tensor"):
        tn.stack([])
    with pytest.raises(ValueError, match=r"^cat: shapes \[\(2, 3\), \(2, 4\)\] along axis 0: "):
        tn.concatenate([t(2, 3), t(2, 4)])
    with pytest.raises(ValueError, match=r"^stack: shapes \[\(2, 3\), \(2, 4\)\] along axis 0: "):
        tn.stack([t(2, 3), t(2, 4)])
    with raises(ValueError, "where: shapes (2,), (3,) and (3,) cannot be broadcast together"):
        tn.where(tn.tensor(np.array([True, False])), t(3), t(3))
    with raises(ValueError, "binary_cross_entropy: target shape (3,) differs from input shape (2,); they must match"):
        F.binary_cross_entropy(tn.tensor(np.array([0.2, 0.7])), tn.tensor(np.zeros(3)))
    with raises(ValueError, "binary_cross_entropy_with_logits: target shape (3,) differs from input shape (2,); "
                            "they must match"):
        F.binary_cross_entropy_with_logits(t(2), tn.tensor(np.zeros(3)))


def test_cross_entropy_checks_and_empty_batch(backend_name):
    x, y = t(4, 3), tn.tensor(np.array([0, 2, 1, 0]))
    with raises(ValueError, "cross_entropy: expected logits (N, C) and target (N,), got (12,) and (4,)"):
        F.cross_entropy(x.reshape(-1), y)
    with raises(ValueError, "cross_entropy: expected logits (N, C) and target (N,), got (4, 3) and (2, 2)"):
        F.cross_entropy(x, y.reshape(2, 2))
    with raises(TypeError, "cross_entropy: target must hold integer class indices, got dtype float64"):
        F.cross_entropy(x, tn.tensor(np.zeros(4)))
    with raises(ValueError, "cross_entropy: label_smoothing must be in [0, 1], got 1.5"):
        F.cross_entropy(x, y, label_smoothing=1.5)
    smooth = F.cross_entropy(x, y, label_smoothing=1.0)     # 1 is allowed: the uniform target
    logp = x.numpy() - np.log(np.exp(x.numpy()).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(smooth.numpy(), -logp.mean(axis=1).mean(), rtol=1e-12)
    empty = F.cross_entropy(tn.tensor(np.zeros((0, 3), np.float32)), tn.tensor(np.zeros(0, np.int64)))
    assert np.isnan(empty.numpy()) and empty.dtype == np.float32


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_one_sided_gradients(needs, backend_name):
    """Only the operand that asks for a gradient gets one (and the right one)."""
    a = tn.tensor(np.arange(1.0, 4.0), requires_grad=needs[0])        # 1-D: the product reshapes its gradient
    b = tn.tensor(np.arange(1.0, 7.0).reshape(3, 2) / 5, requires_grad=needs[1])
    (a @ b).sum().backward()
    if needs[0]:
        np.testing.assert_allclose(a.grad, b.numpy().sum(axis=1), rtol=1e-15)
        assert b.grad is None
    else:
        np.testing.assert_allclose(b.grad, np.broadcast_to(a.numpy()[:, None], (3, 2)), rtol=1e-15)
        assert a.grad is None
    x = tn.tensor(np.arange(1.0, 25.0).reshape(2, 3, 4) / 9, requires_grad=needs[0])   # 3-D through Linear
    w = tn.tensor(np.arange(1.0, 21.0).reshape(5, 4) / 11, requires_grad=needs[1])
    g = np.arange(1.0, 31.0).reshape(2, 3, 5)
    (F.linear(x, w) * tn.tensor(g)).sum().backward()
    if needs[0]:
        np.testing.assert_allclose(x.grad, g @ w.numpy(), rtol=1e-14)
        assert w.grad is None
    else:
        np.testing.assert_allclose(w.grad, g.reshape(-1, 5).T @ x.numpy().reshape(-1, 4), rtol=1e-14)
        assert x.grad is None


def test_linear_on_three_dimensional_input_with_bias_and_mixed_dtypes(backend_name):
    x = tn.tensor(np.arange(1.0, 25.0).reshape(2, 3, 4).astype(np.float32) / 9, requires_grad=True)
    w = tn.tensor(np.arange(1.0, 21.0).reshape(5, 4) / 11, requires_grad=True)      # float64
    b = tn.tensor(np.arange(5.0), requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_allclose(y.numpy(), x.numpy().astype(np.float64) @ w.numpy().T + b.numpy(), rtol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3, 4)
    np.testing.assert_allclose(b.grad, np.full(5, 6.0))
    with raises(ValueError, "Linear: bias of shape (4,) does not match weight of shape (5, 4)"):
        F.linear(x, w, tn.tensor(np.zeros(4)))


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax"])   # max(dim) takes one dim (PyTorch); amax a tuple
def test_reductions_over_a_tuple_of_axes_without_keepdims(reduce, backend_name):
    x = tn.tensor(np.random.default_rng(2).standard_normal((2, 3, 4)), requires_grad=True)
    y = getattr(x, reduce)(axis=(0, 2))
    assert y.shape == (3,)
    w = np.array([1.0, -2.0, 3.0])
    (y * tn.tensor(w)).sum().backward()
    if reduce == "amax":
        mask = x.numpy() == x.numpy().max(axis=(0, 2), keepdims=True)
        want = mask * w[None, :, None]
    else:
        want = np.broadcast_to(w[None, :, None] / (8 if reduce == "mean" else 1), x.shape)
    np.testing.assert_allclose(x.grad, want, rtol=1e-15)
    assert tn.tensor(np.zeros((0, 3))).mean(axis=1).shape == (0,)


def test_log_softmax_along_the_first_axis(backend_name):
    x = t(3, 2)
    y = x.log_softmax(axis=0)
    want = x.numpy() - np.log(np.exp(x.numpy()).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-14)
    g = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    (y * tn.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad, g - np.exp(want) * g.sum(axis=0, keepdims=True), rtol=1e-13)


def test_list_index_and_cast_gradients(backend_name):
    x = t(4)
    x[[0, 2, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 2, 0])
    x32 = tn.tensor(np.ones(3, np.float32), requires_grad=True)
    x32.double().sum().backward()
    assert x32.grad.dtype == np.float32


def test_mixed_dtype_linear_without_bias_and_tuple_index_gradients(backend_name):
    x = tn.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, np.broadcast_to(w.numpy().sum(axis=0), (2, 3)))
    m = t(2, 3)
    m[[0, 0, 1], [1, 1, 2]].sum().backward()            # a repeated element of a tuple index counts twice
    np.testing.assert_array_equal(m.grad, [[0, 2, 0], [0, 0, 1]])
    with raises(ValueError, "cat: shapes [(), ()] along axis 0: zero-dimensional arrays cannot be concatenated"):
        tn.concatenate([t(), t()])
