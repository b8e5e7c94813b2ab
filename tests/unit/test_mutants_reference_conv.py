"""Tests that kill mutants mutmut left alive in the reference backend's convolution, pooling, batch
norm and padding kernels (reference_conv.py; scripts/mutation.py, report in docs/mutation-report.md),
called directly against closed forms written here: results in the inputs' float dtype (as PyTorch's
tensors and gradients keep theirs), and the padding modes position by position."""
import numpy as np
import pytest

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
