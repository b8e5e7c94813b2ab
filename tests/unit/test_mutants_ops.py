"""Tests that kill mutants mutmut left alive in tinynn/ops/ (scripts/mutation.py; report in
docs/mutation-report.md), through the public API only: every bad input raises the exception whose
message names the op and the shapes (the house rule, checked word for word here), and the
gradients of the ops whose arguments other tests left at their defaults (permute with dims,
mean over an axis with keepdims, clip with one bound, fake quantization's clipped range)."""
import re

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


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
    with raises(ValueError, "Max: cannot reduce an empty tensor of shape (0, 2)"):
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


# ---- the factories that build ops at import time (activations, unary, the reduction methods, the
# torch.<name> functions, the create_graph kernels). mutmut switches a mutant on only in the test
# process, after tinynn is imported, so what these built at import never runs mutated: these tests
# call each factory again and check what it builds against the formulas and PyTorch's names.

def test_activation_factory_builds_a_slotted_op_running_its_kernel():
    from tinynn.ops.activations import Activation, _activation
    cls = _activation("Leaky", "leaky_relu", "y = x for x > 0, s x otherwise.")
    assert cls.__name__ == "Leaky" and issubclass(cls, Activation) and cls.kernel == "leaky_relu"
    assert cls.__doc__ == "y = x for x > 0, s x otherwise." and cls.__dict__["__slots__"] == ()
    x = tn.tensor([-2.0, 3.0], requires_grad=True)
    y = cls.apply(x, negative_slope=0.25)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [-0.5, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.25, 1.0])


def test_unary_factory_passes_the_kernels_x_and_y_to_the_derivative(backend_name):
    from tinynn.ops.unary import Unary, _unary
    # f = exp, f' written as y x / x (= e^x for x != 0): each of B, x and y must arrive, in that order
    cls = _unary("MyExp", "exp", "y = e^x;  dy/dx = y.", lambda B, x, y: B.multiply(y, B.divide(x, x)))
    assert cls.__name__ == "MyExp" and issubclass(cls, Unary) and cls.kernel == "exp"
    assert cls.__doc__ == "y = e^x;  dy/dx = y." and cls.__dict__["__slots__"] == ()
    x = tn.tensor([-1.5, 0.5, 2.0], dtype=tn.float64, requires_grad=True)
    y = cls.apply(x)
    (y * tn.tensor([1.0, 2.0, 3.0], dtype=tn.float64)).sum().backward()
    np.testing.assert_allclose(y.numpy(), np.exp([-1.5, 0.5, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), np.exp([-1.5, 0.5, 2.0]) * [1, 2, 3], rtol=1e-15)


def test_reduction_method_factory_takes_pytorchs_and_numpys_arguments(backend_name):
    from tinynn.ops.dims import reduction_method
    from tinynn.ops.reduction import Sum
    total = reduction_method(Sum, "total", "y = sum_i x_i")
    assert total.__name__ == total.__qualname__ == "total"
    assert total.__doc__ == "y = sum_i x_i over dim (an int, a tuple, or every dim when None)."
    x = tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert total(x).shape == () and total(x).item() == 21.0
    np.testing.assert_array_equal(total(x, 1).numpy(), [6.0, 15.0])
    np.testing.assert_array_equal(total(x, -2, True).numpy(), [[5.0, 7.0, 9.0]])
    np.testing.assert_array_equal(total(x, axis=1, keepdims=True).numpy(), [[6.0], [15.0]])
    np.testing.assert_array_equal(total(x, keepdims=True).numpy(), [[21.0]])
    assert total(x, 0, dtype=tn.float64).dtype == np.float64 and total(x).dtype == np.float32
    (total(x, 1) * tn.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0] * 3, [10.0] * 3])
    with raises(TypeError, "total: out= is not supported by tinynn; use the returned tensor"):
        total(x, out=tn.zeros(3))
    with raises(IndexError, "total: dim 2 is out of range for a tensor with 2 dimensions (expected in [-2, 1])"):
        total(x, 2)


def test_torch_function_factory_calls_the_method_on_a_tensor_or_a_list():
    from tinynn.ops.torch_names import _function, _method
    from tinynn.ops.unary import Sin
    total = _function("sum")
    assert total.__name__ == total.__qualname__ == "sum"
    assert total.__doc__ == "tn.sum(input, ...) = input.sum(...)."
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(total(x, 0, keepdim=True).numpy(), [[4.0, 6.0]])
    np.testing.assert_array_equal(total([[1, 2], [3, 4]], dim=1).numpy(), [3, 7])
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    total(w * w).backward()                               # a Tensor argument keeps its graph
    assert w.grad.tolist() == [2.0, 4.0]
    sin = _method(Sin)
    assert sin.__doc__ == Sin.__doc__
    np.testing.assert_allclose(sin(tn.tensor([0.5])).numpy(), np.sin([0.5]).astype(np.float32), rtol=1e-6)


def test_create_graph_reduction_and_backward_kernel_factories(backend_name):
    from tinynn.ops.derivatives import SoftmaxBackward
    from tinynn.ops.differentiable import _backward_kernel, _reduction
    from tinynn.ops.reduction import Sum
    x = tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tn.float64)
    total = _reduction(Sum)
    assert total(x).shape == () and total(x).item() == 21.0
    np.testing.assert_array_equal(total(x, axis=1).numpy(), [6.0, 15.0])
    np.testing.assert_array_equal(total(x, axis=0, keepdims=True).numpy(), [[5.0, 7.0, 9.0]])
    y = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    g = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    for axis in (0, 1):    # softmax_backward(y, g) = y (g - sum_j g_j y_j) along the axis
        z = _backward_kernel(SoftmaxBackward)(tn.tensor(y), tn.tensor(g), axis=axis)
        np.testing.assert_allclose(z.numpy(), y * (g - (g * y).sum(axis, keepdims=True)), rtol=1e-14)


def test_batch_norm_training_with_a_weight_and_no_bias_and_a_constant_input(backend_name):
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((3, 2, 4))
    mu, var = xv.mean(axis=(0, 2), keepdims=True), xv.var(axis=(0, 2), keepdims=True)
    xhat = (xv - mu) / np.sqrt(var + 1e-5)
    gv = rng.standard_normal((3, 2, 4))                  # L = sum G y:  dL/dgamma_c = sum_{n, l} G xhat
    w = tn.tensor([1.5, -0.5], dtype=tn.float64, requires_grad=True)
    y = F.batch_norm(tn.tensor(xv), None, None, weight=w, training=True)      # x is a constant here
    (y * tn.tensor(gv)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), xhat * np.array([1.5, -0.5])[:, None], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (gv * xhat).sum(axis=(0, 2)), rtol=1e-12)


def test_pad_crops_to_nothing_but_no_further_and_pads_every_axis(backend_name):
    x = tn.tensor([1.0, 2.0, 3.0])
    assert F.pad(x, (-2, -1)).shape == (0,) and F.pad(x, (-3, 0)).shape == (0,)     # PyTorch: an empty axis
    assert F.pad(x, (1, 1)).tolist() == [0.0, 1.0, 2.0, 3.0, 0.0] and F.pad(tn.zeros(0), (0, 0)).shape == (0,)
    for pad in ((-4, 1), (1, -4), (-2, -2)):
        with raises(ValueError, f"pad: pad {pad} crops more than an axis of the input of shape (3,) holds"):
            F.pad(x, pad)
    with raises(ValueError, "pad: pad must be a tuple of an even number of ints, got (True, 1)"):
        F.pad(x, (True, 1))
    with raises(ValueError, "pad: mode 'reflect' takes no negative padding, got (-1, 1)"):
        F.pad(tn.ones((1, 3)), (-1, 1), mode="reflect")
    r = tn.tensor([[0.0, 1.0, 2.0]])       # circular may wrap the whole axis once, reflect one less
    assert F.pad(r, (3, 0), mode="circular").tolist() == [[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]]
    assert F.pad(r, (0, 3), mode="circular").tolist() == [[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]]
    assert F.pad(r, (2, 2), mode="reflect").tolist() == [[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]
    assert F.pad(r, (5, 5), mode="replicate").shape == (1, 13)
    assert F.pad(tn.ones((1, 1)), (1, 1), mode="replicate").tolist() == [[1.0, 1.0, 1.0]]
    for mode, pad in (("reflect", (3, 0)), ("circular", (4, 0)), ("reflect", (0, 3)), ("circular", (0, 4))):
        with raises(ValueError, f"pad: {mode} padding {pad} must be smaller than the padded axis (input shape (1, 3))"):
            F.pad(r, pad, mode=mode)
    with raises(ValueError, "pad: reflect padding (1, 0) must be smaller than the padded axis (input shape (1, 1))"):
        F.pad(tn.ones((1, 1)), (1, 0), mode="reflect")


def test_batch_norm_errors_name_the_layer_and_the_shapes():
    x = tn.ones((2, 3))
    with raises(ValueError, "BatchNorm: weight of shape (2,) does not match the input's 3 channels (input shape (2, 3))"):
        F.batch_norm(x, None, None, weight=tn.ones(2), training=True)
    with raises(ValueError, "BatchNorm: bias of shape (2,) does not match the input's 3 channels (input shape (2, 3))"):
        F.batch_norm(x, None, None, weight=tn.ones(3), bias=tn.ones(2), training=True)
    with raises(TypeError, "BatchNorm: input, weight and bias must share one float dtype, got int64"):
        F.batch_norm(tn.ones((2, 3), dtype=tn.int64), None, None, training=True)


def test_argmax_of_a_0d_and_an_empty_tensor_and_index_tensors_have_no_gradient():
    assert tn.tensor(3.0).argmax(0).item() == 0 and tn.tensor(3.0).argmin(0, keepdim=True).shape == ()
    with raises(ValueError, "argmax: cannot reduce an empty tensor of shape (0,)"):
        tn.zeros(0).argmax()
    x = tn.tensor([[1.0, 5.0], [7.0, 0.0]], requires_grad=True)
    assert x.argmax().requires_grad is False and x.argmax(1).dtype == np.int64
    assert x.max(1).indices.requires_grad is False and x.min(1, keepdim=True).indices.requires_grad is False


def test_adaptive_avg_pool_output_size_checks_and_none_axes():
    x = tn.ones((1, 2, 4, 6))
    assert F.adaptive_avg_pool2d(x, (2, None)).shape == (1, 2, 2, 6)     # None keeps that axis' size
    assert F.adaptive_avg_pool2d(x, (None, 3)).shape == (1, 2, 4, 3)
    with raises(TypeError, "AdaptiveAvgPool2d: expected a float input, got dtype int64"):
        F.adaptive_avg_pool2d(tn.ones((1, 2, 4, 6), dtype=tn.int64), 2)
    with raises(ValueError, "AdaptiveAvgPool2d: output_size must be an int or a pair, got (1, 2, 3)"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with raises(ValueError, "AdaptiveAvgPool2d: output_size must hold ints >= 1 (or None), got True"):
        F.adaptive_avg_pool2d(x, True)
    for shape in ((1, 1, 0, 4), (1, 1, 4, 0)):
        with raises(ValueError, f"AdaptiveAvgPool2d: input of shape {shape} has an empty spatial axis"):
            F.adaptive_avg_pool2d(tn.ones(shape), 2)


def test_amax_over_one_dim_keeps_the_other_size_one_dims(backend_name):
    x = tn.tensor([[[1.0], [5.0], [3.0]]])                 # (1, 3, 1)
    assert x.amax(1).shape == (1, 1) and x.amin(1).tolist() == [[1.0]] and x.amax((1,)).shape == (1, 1)


def test_avg_pool_ceil_mode_keeps_a_window_that_starts_inside_a_tiny_input(backend_name):
    # width 1, kernel 2, stride 2: floor mode has no window, ceil mode one over the single element (PyTorch: its mean)
    y = F.avg_pool2d(tn.full((1, 1, 1, 1), 4.0), 2, 2, ceil_mode=True)
    assert y.shape == (1, 1, 1, 1) and y.item() == 4.0


def test_max_pool_ceil_mode_on_a_tiny_input_and_conv_gradient_to_the_input_alone(backend_name):
    y = F.max_pool2d(tn.full((1, 1, 1, 1), 4.0), 2, 2, ceil_mode=True)
    assert y.shape == (1, 1, 1, 1) and y.item() == 4.0
    x = tn.tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    w = tn.tensor(np.ones((1, 1, 2, 2)))                  # a frozen kernel: only x asks for a gradient
    F.conv2d(x, w).sum().backward()                       # each x[i, j] is in as many 2x2 windows as cover it
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_softmax_second_derivative_with_a_constant_incoming_gradient(backend_name):
    xv, wv = np.array([0.3, -1.2, 0.8]), np.array([1.0, -2.0, 0.5])   # w a constant: only y's side of SoftmaxBackward
    x = tn.tensor(xv, requires_grad=True)
    (d1,) = tn.autograd.grad((tn.softmax(x, 0) * tn.tensor(wv)).sum(), x, create_graph=True)
    (d2,) = tn.autograd.grad(d1.sum(), x)
    s = np.exp(xv) / np.exp(xv).sum()
    sw = s @ wv                                # d1_i = s_i (w_i - sw); J_ij = d d1_i / d x_j:
    jac = s[:, None] * (np.eye(3) - s[None, :]) * (wv - sw)[:, None] - s[:, None] * s[None, :] * (wv - sw)[None, :]
    np.testing.assert_allclose(d1.numpy(), s * (wv - sw), rtol=1e-14)
    np.testing.assert_allclose(d2.numpy(), jac.sum(axis=0), rtol=1e-12, atol=1e-15)


def test_log_softmax_second_derivatives_against_the_closed_form(backend_name):
    # d1 = d <w, log_softmax(x)> / dx = w - s sum(w); with c constant, d <c, d1> / dw = c - sum(c s) and
    # d <c, d1> / dx = -sum(w) (diag(s) - s s^T) c (gradgradcheck's sum cannot see it: sum(d1) = 0 for all x)
    xv, wv, cv = np.array([0.3, -1.2, 0.8]), np.array([1.0, -2.0, 2.5]), np.array([2.0, 0.5, -1.0])
    x, w = tn.tensor(xv, requires_grad=True), tn.tensor(wv, requires_grad=True)
    (d1,) = tn.autograd.grad((F.log_softmax(x, dim=0) * w).sum(), x, create_graph=True)
    gx, gw = tn.autograd.grad((d1 * tn.tensor(cv)).sum(), [x, w])
    s = np.exp(xv) / np.exp(xv).sum()
    np.testing.assert_allclose(d1.numpy(), wv - s * wv.sum(), rtol=1e-14)
    np.testing.assert_allclose(gw.numpy(), cv - (cv * s).sum(), rtol=1e-14)
    np.testing.assert_allclose(gx.numpy(), -wv.sum() * (s * cv - s * (s @ cv)), rtol=1e-13)
    x2 = tn.tensor(np.array([[0.3, -1.2], [0.8, 0.1]]), requires_grad=True)   # along dim 0 of a matrix
    (d1,) = tn.autograd.grad((F.log_softmax(x2, dim=0) * tn.tensor(np.array([[1.0, 2.0], [3.0, -1.0]]))).sum(),
                             x2, create_graph=True)
    (g2,) = tn.autograd.grad((d1 * tn.tensor(np.array([[1.0, 0.0], [0.0, 0.0]]))).sum(), x2)
    s2 = np.exp(x2.detach().numpy()) / np.exp(x2.detach().numpy()).sum(axis=0)
    col = np.array([4.0, 1.0])                     # sum(w) per column; only column 0 has c != 0
    expected = -col[None, :] * (s2 * np.array([[1.0, 0.0], [0.0, 0.0]]) - s2 * s2[0:1, :] * np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(g2.numpy(), expected, rtol=1e-13, atol=1e-16)


def test_running_ops_of_a_0d_tensor_and_prod_over_its_dim(backend_name):
    s = tn.tensor(3.0, dtype=tn.float64, requires_grad=True)
    for op in ("cumsum", "cumprod"):
        y = getattr(s, op)(0)
        assert y.shape == () and y.item() == 3.0
        with raises(IndexError, f"{op}: dim 1 is out of range for a tensor with 0 dimensions (expected in [-1, 0])"):
            getattr(s, op)(1)
    (s.cumsum(-1) * 2.0 + s.cumprod(0) + s.prod(0)).backward()
    assert s.grad.item() == 4.0


def test_create_graph_kinks_of_elu_and_softplus_and_binary_cross_entropys_target_gradient(backend_name):
    x = tn.tensor([0.0, -1.0, 20.0, 21.0], dtype=tn.float64, requires_grad=True)
    (g,) = tn.autograd.grad(F.elu(x, alpha=0.5).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [0.5, 0.5 * np.exp(-1.0), 1.0, 1.0], rtol=1e-15)   # alpha e^0 at 0
    (g,) = tn.autograd.grad(F.softplus(x).sum(), x, create_graph=True)      # linear only above the threshold 20
    np.testing.assert_allclose(g.numpy(), [0.5, 1 / (1 + np.e), 1 / (1 + np.exp(-20.0)), 1.0], rtol=1e-15)
    p = tn.tensor([0.0, 1.0, 0.3], dtype=tn.float64)
    t = tn.tensor([0.5, 0.5, 0.5], dtype=tn.float64, requires_grad=True)
    (gt,) = tn.autograd.grad(F.binary_cross_entropy(p, t, reduction="sum"), t, create_graph=True)
    # d/dt of -(t log p + (1 - t) log(1 - p)) = log(1 - p) - log p, each log clamped at -100 (PyTorch)
    np.testing.assert_allclose(gt.numpy(), [100.0, -100.0, np.log(0.7) - np.log(0.3)], rtol=1e-14)


def test_more_errors_name_the_op():
    with raises(ValueError, "embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape (4,)"):
        F.embedding(tn.tensor([0]), tn.ones(4))
    with raises(ValueError, "masked_fill: mask of shape (2,) does not broadcast to (3,)"):
        tn.ones(3).masked_fill(tn.tensor([True, False]), 0.0)
    x = tn.tensor([1.5, 2.0])
    assert x.type("float").dtype == np.float32 and x.type("int").dtype == np.int32    # tinynn's names, not NumPy's
    hi = tn.tensor([1.0, 1.0], requires_grad=True)
    tn.clamp(x, max=hi).sum().backward()                  # a tensor max alone still gets its gradient
    assert hi.grad.tolist() == [1.0, 1.0]


def test_copy_from_a_list_and_cross_entropy_of_one_class_under_create_graph(backend_name):
    x = tn.zeros(3)
    x.copy_([1.0, 2.0, 3.0])
    assert x.tolist() == [1.0, 2.0, 3.0]
    z = tn.tensor([[0.7], [-0.2]], dtype=tn.float64, requires_grad=True)   # one class: softmax 1 = q, gradient 0
    (g,) = tn.autograd.grad(F.cross_entropy(z, tn.tensor([0, 0]), label_smoothing=0.4), z, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [[0.0], [0.0]])
    x = tn.tensor([[1.0, 2.0]], requires_grad=True)
    tn.sum(x).backward()                                 # tn.<name> keeps the graph of a Tensor argument
    assert x.grad.tolist() == [[1.0, 1.0]]


# ---- late part of the run (mutstat): size and element checks of conv's int pairs, the older
# spelling backward(grad=)
@pytest.mark.parametrize("option, value, minimum", [("stride", (1, 1, 1), 1), ("stride", 1.5, 1), ("stride", (1, 2.0), 1),
                                                     ("dilation", True, 1), ("padding", (1,), 0)])
def test_conv_pairs_refuse_other_sizes_and_non_integers(option, value, minimum):
    x, w = tn.tensor(np.ones((1, 1, 4, 4))), tn.tensor(np.ones((1, 1, 2, 2)))
    with raises(ValueError, f"Conv2d: {option} must be an int >= {minimum} or a pair of them, got {value!r}"):
        F.conv2d(x, w, **{option: value})
    with raises(ValueError, "MaxPool2d: kernel_size must be an int >= 1 or a pair of them, got (2, 2, 2)"):
        F.max_pool2d(x, (2, 2, 2))


def test_backward_takes_the_incoming_gradient_as_grad_too(backend_name):
    x = t(3)
    (x * x).backward(grad=tn.tensor([1.0, 0.0, -1.0]))   # d/dx sum_i v_i x_i^2 = 2 v x
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.array([1.0, 0.0, -1.0]) * x.numpy())
