"""Tests that kill mutants mutmut left alive in the reference backend's convolution, pooling, batch
norm and padding kernels (reference_conv.py; scripts/mutation.py, report in docs/mutation-report.md),
called directly against closed forms written here: results in the inputs' float dtype (as PyTorch's
tensors and gradients keep theirs), the padding modes position by position, and max pooling's
indices where a window has no maximum (PyTorch's start index, and no gradient for padding)."""
import numpy as np
import pytest

from tinynn import kernels
from tinynn.backend import reference as ref


def test_pad_and_its_backward_keep_float32():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    y = ref.pad(x, ((0, 0), (0, 0), (1, 0), (0, 2)), "constant", 0.5)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 0], [[0.5, 0.5, 0.5, 0.5, 0.5], [0, 1, 2, 0.5, 0.5], [3, 4, 5, 0.5, 0.5]])
    g = ref.pad_backward(np.ones((1, 1, 3, 5), np.float32), ((0, 0), (0, 0), (1, 0), (0, 2)), "constant", x.shape)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_batch_norm_backward_keeps_float32():
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((3, 2, 4)).astype(np.float32), rng.standard_normal((3, 2, 4)).astype(np.float32)
    y, mean, var = ref.batch_norm(x, None, None, 1e-5)
    assert y.dtype == np.float32
    gx, gw, gb = ref.batch_norm_backward(g, x, mean, var, np.ones(2, np.float32), 1e-5)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    # dL/dx = r (g - mean g - xhat mean(g xhat)) per channel, in float64 to float32's precision
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    r = 1 / np.sqrt(x64.var(axis=(0, 2)) + 1e-5)
    xhat = (x64 - x64.mean(axis=(0, 2))[:, None]) * r[:, None]
    want = r[:, None] * (g64 - g64.mean(axis=(0, 2))[:, None] - xhat * (g64 * xhat).mean(axis=(0, 2))[:, None])
    np.testing.assert_allclose(gx, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("needs", [(True, False, True), (True, True, False), (False, True, False)])
def test_batch_norm_backward_gives_none_where_not_needed(needs):
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    gx, gw, gb = ref.batch_norm_backward(g, x, mean, var, None, 1e-5, needs)
    assert (gx is None) != needs[0] and (gw is None) != needs[1] and (gb is None) != needs[2]
    xhat = (x - mean[:, None]) / np.sqrt(var + 1e-5)[:, None]
    if needs[1]:
        np.testing.assert_allclose(gw, (g * xhat).sum(axis=(0, 2)), rtol=1e-12)     # dL/dgamma = sum g xhat
    if needs[2]:
        np.testing.assert_allclose(gb, g.sum(axis=(0, 2)), rtol=1e-12)              # dL/dbeta = sum g


def test_adaptive_avg_pool2d_keeps_float32():
    x = np.arange(2 * 5 * 3, dtype=np.float32).reshape(1, 2, 5, 3)
    y = ref.adaptive_avg_pool2d(x, (2, 1))
    assert y.dtype == np.float32
    # windows along H for 5 -> 2: [0, 3) and [2, 5); along W for 3 -> 1: [0, 3)
    np.testing.assert_array_equal(y[0, 0, :, 0], [x[0, 0, 0:3].mean(), x[0, 0, 2:5].mean()])
    g = ref.adaptive_avg_pool2d_backward(np.ones((1, 2, 2, 1), np.float32), x.shape)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g[0, 0, :, 0], [1 / 9, 1 / 9, 2 / 9, 1 / 9, 1 / 9], rtol=1e-6)


def test_avg_pool2d_backward_keeps_float32():
    # 2x2 windows, stride 2, no padding: each input element is in one window of divisor 4
    g = ref.avg_pool2d_backward(np.ones((1, 1, 2, 2), np.float32), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0), False, True)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.full((1, 1, 4, 4), 0.25, np.float32))


def pytorch_start_index(i, j, stride, padding, dilation, width):
    """PyTorch's CPU max-pool index of a window with no maximum (nothing but -inf, or padding only):
    its start, each coordinate stepped by the dilation until it is at or after 0."""
    r, q = i * stride[0] - padding[0], j * stride[1] - padding[1]
    while r < 0:
        r += dilation[0]
    while q < 0:
        q += dilation[1]
    return r * width + q


@pytest.mark.parametrize("max_pool2d", [ref.max_pool2d, kernels.max_pool2d], ids=["reference", "compiled"])
def test_max_pool2d_of_windows_of_minus_inf_take_pytorchs_start_index(max_pool2d):
    # every window is all -inf; strides and dilations differ per axis and do not divide the padding
    x = np.full((1, 2, 8, 10), -np.inf)
    stride, padding, dilation = (3, 2), (1, 1), (2, 3)
    y, idx = max_pool2d(x, (3, 3), stride, padding, dilation, False)
    assert y.shape == idx.shape == (1, 2, 2, 3) and np.all(y == -np.inf)
    want = [[pytorch_start_index(i, j, stride, padding, dilation, 10) for j in range(3)] for i in range(2)]
    assert want == [[12, 11, 13], [22, 21, 23]]
    np.testing.assert_array_equal(idx, np.broadcast_to(want, idx.shape))
    # padding 2 over a stride of 1: the first two rows of windows start above the input
    x = np.full((1, 1, 6, 8), -np.inf)
    stride, padding, dilation = (1, 3), (2, 1), (1, 3)
    y, idx = max_pool2d(x, (5, 3), stride, padding, dilation, False)
    assert idx.shape == (1, 1, 6, 2)
    want = [[pytorch_start_index(i, j, stride, padding, dilation, 8) for j in range(2)] for i in range(6)]
    np.testing.assert_array_equal(idx[0, 0], want)


@pytest.mark.parametrize("max_pool2d", [ref.max_pool2d, kernels.max_pool2d], ids=["reference", "compiled"])
def test_max_pool2d_windows_of_padding_only_get_no_gradient(max_pool2d):
    # kernel 2 dilated by 2 with padding 1 on a height of 1: each window's rows are -1 and 1, both
    # outside the input; PyTorch's index is then past the input (1 * W + j), and its gradient
    # goes nowhere
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    y, idx = max_pool2d(x, (2, 1), (1, 1), (1, 0), (2, 1), False)
    np.testing.assert_array_equal(y, np.full((1, 1, 1, 3), -np.inf))
    np.testing.assert_array_equal(idx, [[[[3, 4, 5]]]])
    gx = ref.max_pool2d_backward(np.ones((1, 1, 1, 3)), idx, x.shape)
    np.testing.assert_array_equal(gx, np.zeros_like(x))
    # a mix: a window of the input takes its gradient, the padding-only one of another plane none
    x = np.array([[[[4.0, 1.0, 2.0]]], [[[0.0, 7.0, 3.0]]]])
    idx = np.array([[[[0, 3]]], [[[1, 5]]]])
    gx = ref.max_pool2d_backward(np.array([[[[2.0, 5.0]]], [[[3.0, 6.0]]]]), idx, x.shape)
    np.testing.assert_array_equal(gx, [[[[2, 0, 0]]], [[[0, 3, 0]]]])


def test_avg_pool2d_keeps_float32():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    y = ref.avg_pool2d(x, (2, 2), (2, 2), (0, 0), False, True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 0], [[2.5, 4.5], [10.5, 12.5]])   # the mean of each 2x2 block
