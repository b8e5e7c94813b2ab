"""Tests that kill mutants mutmut left alive in tinynn/ops/ (scripts/mutation.py; report in
docs/mutation-report.md), second part: the factories that build ops at import time, the layers'
less travelled options (batch norm with a weight and no bias, pad, pooling's ceil mode), second
derivatives against closed forms, and the errors of those ops, word for word.  The first part,
test_mutants_ops.py, holds the broadcasting, shape and reduction errors and gradients."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F
from helpers.messages import raises


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
    with raises(ValueError, "argmax: cannot reduce an empty tensor of shape (0,) along dim None"):
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
    x = tn.tensor([1 / 7, 2 / 7, 3 / 7], requires_grad=True)
    (x * x).backward(grad=tn.tensor([1.0, 0.0, -1.0]))   # d/dx sum_i v_i x_i^2 = 2 v x
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.array([1.0, 0.0, -1.0]) * x.numpy())
