"""PyTorch-style custom Functions (static forward(ctx, ...) / backward(ctx, ...) on Tensors):
PyTorch's beginner example (a Legendre P3 Function fitting sin with manual SGD) reaches the loss
a NumPy least-squares fit of the same cubic predicts; float64 gradcheck and gradgradcheck; a
create_graph through a backward written in Tensor ops; ctx's needs_input_grad,
mark_non_differentiable and its version check; tinynn's own instance-style Functions unchanged."""
import math

import numpy as np
import pytest

import tinynn as torch  # the example runs with only this import changed


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 0.5 (5 x^3 - 3 x);  P3'(x) = 1.5 (5 x^2 - 1)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_pytorch_beginner_example_fits_sin_with_a_legendre_function():
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    # a + b P3(c + d x) is a cubic in x, and it can be any cubic with odd part alpha x + beta x^3,
    # beta / alpha < 0 (sin's best cubic is one): the least-squares cubic's residual is the lowest
    # loss any parameters reach. 2000 SGD steps at 5e-6 leave the tail of a geometric decay above it
    # (PyTorch's tutorial run prints 8.9): within 2% of the optimum, and never below it (float32 sums
    # of 2000 terms are good to ~1e-5 relatively).
    xs = np.linspace(-np.pi, np.pi, 2000)
    _, residual, _, _ = np.linalg.lstsq(np.stack([xs ** k for k in range(4)], 1), np.sin(xs), rcond=None)
    optimum = float(residual[0])
    assert optimum * (1 - 1e-4) <= loss.item() <= optimum * 1.02


def test_gradcheck_and_gradgradcheck_of_a_ctx_function(backend_name):
    x = torch.tensor(np.linspace(-1.2, 1.3, 7), requires_grad=True)
    assert torch.gradcheck(LegendrePolynomial3.apply, x)
    assert torch.gradgradcheck(LegendrePolynomial3.apply, x)   # its backward is Tensor ops: differentiable


def test_create_graph_through_a_ctx_function_gives_closed_form_derivatives(backend_name):
    x = torch.tensor([-0.8, 0.1, 0.6], dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(LegendrePolynomial3.apply(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = torch.autograd.grad(d2.sum(), x)
    xv = x.numpy()
    np.testing.assert_allclose(d1.numpy(), 1.5 * (5 * xv ** 2 - 1), rtol=1e-15)
    np.testing.assert_allclose(d2.numpy(), 15 * xv, rtol=1e-15)
    np.testing.assert_allclose(d3.numpy(), [15.0, 15.0, 15.0], rtol=1e-15)


class ScaleAndIndex(torch.autograd.Function):
    """y = s x for a Python number s; records which inputs need a gradient."""

    seen = None

    @staticmethod
    def forward(ctx, x, s, w):
        ctx.s = s
        ScaleAndIndex.seen = ctx.needs_input_grad
        ctx.save_for_backward(x, w)
        return x * s * w

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * ctx.s * w, None, (g * ctx.s * x if ctx.needs_input_grad[2] else None)


def test_ctx_attributes_non_tensor_arguments_and_needs_input_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 5.0])
    y = ScaleAndIndex.apply(x, 2.0, w)
    assert ScaleAndIndex.seen == (True, False, False)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 10.0])
    assert w.grad is None
    with torch.no_grad():
        assert not ScaleAndIndex.apply(x, 2.0, w).requires_grad


def test_a_saved_tensor_changed_in_place_makes_backward_raise():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = LegendrePolynomial3.apply(h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation: LegendrePolynomial3"):
        y.sum().backward()


class ArgmaxAndValue(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        index = torch.tensor(int(np.argmax(x.numpy())))
        ctx.mark_non_differentiable(index)
        return index

    @staticmethod
    def backward(ctx, g):
        return None


class WrongCount(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_mark_non_differentiable_and_a_wrong_number_of_gradients():
    x = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    index = ArgmaxAndValue.apply(x)
    assert index.item() == 1 and not index.requires_grad
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 2 gradients, but forward took 1 inputs"):
        WrongCount.apply(x).sum().backward()
    with pytest.raises(TypeError, match="static backward"):
        type("NoBackward", (torch.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x)})


def test_instance_style_functions_keep_working_next_to_ctx_ones():
    class Double(torch.autograd.Function):   # tinynn's own style: methods on arrays
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g * 2

    x = torch.tensor([1.0, -1.0], requires_grad=True)
    (Double.apply(x) * LegendrePolynomial3.apply(x)).sum().backward()   # d/dx 2x P3(x) = 2 P3 + 2x P3'
    xv = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 0.5 * (5 * xv ** 3 - 3 * xv) + 2 * xv * 1.5 * (5 * xv ** 2 - 1))
