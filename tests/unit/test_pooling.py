"""MaxPool1d/2d, AvgPool2d, AdaptiveAvgPool2d: against loops written from PyTorch's definitions
(window positions, ceil_mode, divisors, the argmax and its tie rule), closed forms, float64
gradient checks on every backend, and the errors."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

per_backend = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the backend stays set


@st.composite
def pool_configs(draw, dilation=True):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, (1, 1), (2, 1), (2, 3)]))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    reach = [d * (k - 1) + 1 for d, k in zip(dil, kernel)]
    hw = tuple(draw(st.integers(max(1, r - 2 * p), 7)) for r, p in zip(reach, padding))
    return dict(n=draw(st.integers(1, 2)), hw=hw, kernel=kernel, stride=stride, padding=padding, dilation=dil,
                ceil_mode=draw(st.booleans()))


def output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length, from its documentation's formula."""
    n = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(n) if ceil_mode else math.floor(n)) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


def loop_max_pool(x, c):
    """max pooling by PyTorch's CPU loop: in-bounds taps in row-major order, a new maximum when
    strictly greater or NaN; the index starts at the first tap at or past row and column 0 (so a
    window that lies all in the padding gives -inf there)."""
    (kh, kw), (dh, dw), (ph, pw) = c["kernel"], c["dilation"], c["padding"]
    sh, sw = c["stride"] or c["kernel"]
    h, w = x.shape[2:]
    ho, wo = (output_size(h, kh, sh, ph, dh, c["ceil_mode"]), output_size(w, kw, sw, pw, dw, c["ceil_mode"]))
    y, idx = np.full((*x.shape[:2], ho, wo), -np.inf), np.zeros((*x.shape[:2], ho, wo), np.int64)
    for n, ch, i, j in np.ndindex(y.shape):
        taps = [(i * sh - ph + u * dh, j * sw - pw + v * dw) for u in range(kh) for v in range(kw)]
        taps = [(r, q) for r, q in taps if 0 <= r < h and 0 <= q < w]
        first_r, first_q = i * sh - ph, j * sw - pw  # the first tap at or past row / column 0
        first_r += -(-max(0, -first_r) // dh) * dh
        first_q += -(-max(0, -first_q) // dw) * dw
        best, where = -np.inf, first_r * w + first_q  # a window all in the padding keeps this
        for r, q in taps:
            if x[n, ch, r, q] > best or np.isnan(x[n, ch, r, q]):
                best, where = x[n, ch, r, q], r * w + q
        y[n, ch, i, j], idx[n, ch, i, j] = best, where
    return y, idx


def distinct(shape, seed):
    """Values at least 0.1 apart, so a central difference never crosses a tie."""
    rng = np.random.default_rng(seed)
    return tn.tensor(rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape),
                     requires_grad=True)


@per_backend
@given(pool_configs(), st.integers(0, 2**32 - 1))
def test_max_pool2d_values_and_indices_follow_pytorchs_loop(backend_name, c, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((c["n"], 2, *c["hw"])))  # rounded: many ties
    args = (c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"])
    y, idx = F.max_pool2d(tn.tensor(x), *args, return_indices=True)
    expected_y, expected_idx = loop_max_pool(x, c)
    np.testing.assert_array_equal(y.numpy(), expected_y)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)


@per_backend
@given(pool_configs(), st.integers(0, 2**32 - 1))
def test_max_pool2d_gradients_match_central_differences(backend_name, c, seed):
    x = distinct((c["n"], 2, *c["hw"]), seed)
    pool = (lambda x: F.max_pool2d(x, c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"]))
    assume(np.isfinite(pool(x).numpy()).all())  # (a dilated window can hold padding only: its -inf has no gradient)
    assert assert_gradients_match(pool, x)


def test_max_pool_gradient_goes_to_the_first_maximum_or_the_last_nan(backend_name):
    x = tn.tensor(np.array([[[[1.0, 3.0], [3.0, 2.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1], [0, 0]]]])
    x = tn.tensor(np.array([[[[np.nan, 3.0], [np.nan, 2.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 0], [1, 0]]]])
    # overlapping windows that choose the same element add their gradients there
    x = tn.tensor(np.array([[[0.0, 5.0, 1.0, 0.0]]]), requires_grad=True)
    y = F.max_pool1d(x, 2, stride=1)
    np.testing.assert_array_equal(y.numpy(), [[[5, 5, 1]]])
    (y * tn.tensor(np.array([1.0, 2.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 3, 4, 0]]])


def loop_avg_pool(x, c, count_include_pad):
    """Average pooling by PyTorch's definition: the divisor is the window clipped to the padded input
    (count_include_pad) or to the input."""
    (kh, kw), (ph, pw) = c["kernel"], c["padding"]
    sh, sw = c["stride"] or c["kernel"]
    h, w = x.shape[2:]
    ho, wo = output_size(h, kh, sh, ph, 1, c["ceil_mode"]), output_size(w, kw, sw, pw, 1, c["ceil_mode"])
    y = np.zeros((*x.shape[:2], ho, wo))
    for i, j in np.ndindex(ho, wo):
        h0, w0 = i * sh - ph, j * sw - pw
        h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
        size = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
        y[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / (size if count_include_pad else (h1 - h0) * (w1 - w0))
    return y


@per_backend
@given(pool_configs(dilation=False), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_follows_pytorchs_definition_and_its_gradient_checks(backend_name, c, include, seed):
    x = tn.tensor(np.random.default_rng(seed).standard_normal((c["n"], 2, *c["hw"])), requires_grad=True)
    pool = (lambda x: F.avg_pool2d(x, c["kernel"], c["stride"], c["padding"], c["ceil_mode"], include))
    np.testing.assert_allclose(pool(x).numpy(), loop_avg_pool(x.numpy(), c, include), rtol=1e-12, atol=1e-15)
    assert assert_gradients_match(pool, x)


def test_average_pooling_of_a_constant_is_the_constant(backend_name):
    x = tn.full((2, 3, 7, 6), 2.5)
    np.testing.assert_array_equal(F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False, ceil_mode=True).numpy(), 2.5)
    np.testing.assert_array_equal(F.avg_pool2d(x, (2, 3)).numpy(), 2.5)
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(x, (4, 5)).numpy(), 2.5)
    # counting the zero padding: a 3x3 window at a corner holds 4 of the input's values
    assert F.avg_pool2d(x, 3, 1, padding=1).numpy()[0, 0, 0, 0] == pytest.approx(2.5 * 4 / 9)


def test_adaptive_avg_pool2d_windows_are_pytorchs(backend_name):
    x = np.arange(5.0)[None, None, None, :] * np.ones((1, 1, 2, 1))
    # windows [floor(i 5 / 3), ceil((i + 1) 5 / 3)): [0, 2), [1, 4), [3, 5)
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(tn.tensor(x), (1, 3)).numpy(), [[[[0.5, 2.0, 3.5]]]])
    y = F.adaptive_avg_pool2d(tn.tensor(x), (None, 1)).numpy()
    np.testing.assert_array_equal(y, np.full((1, 1, 2, 1), 2.0))
    x = tn.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((4, 5))(x).numpy(), x.numpy())


@per_backend
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_adaptive_avg_pool2d_gradients_match_central_differences(backend_name, h, w, ho, wo, seed):
    x = tn.tensor(np.random.default_rng(seed).standard_normal((1, 2, h, w)), requires_grad=True)
    assert assert_gradients_match(lambda x: F.adaptive_avg_pool2d(x, (ho, wo)) ** 2, x)


def test_pooling_layers_take_pytorchs_arguments():
    pool = nn.MaxPool2d(2)
    assert pool.stride == 2 and pool.padding == 0 and pool.dilation == 1 and not pool.ceil_mode
    x = tn.randn(2, 3, 7, 7)
    assert pool(x).shape == (2, 3, 3, 3) and nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 4, 4)
    y, idx = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 4, 4) and idx.dtype == np.int64
    assert nn.AvgPool2d(3, 2, 1)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool1d(3, 2)(tn.randn(2, 3, 9)).shape == (2, 3, 4)
    assert nn.MaxPool2d(2)(tn.randn(3, 4, 4)).shape == (3, 2, 2)  # unbatched
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)


def test_pooling_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"MaxPool2d: padding \(2, 2\) must be at most half of the kernel size \(3, 3\)"):
        F.max_pool2d(tn.randn(1, 1, 5, 5), 3, padding=2)
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel \(4, 4\) .* larger than the padded input \(input shape "
                                         r"\(1, 1, 3, 3\)"):
        F.max_pool2d(tn.randn(1, 1, 3, 3), 4)
    with pytest.raises(ValueError, match=r"AvgPool2d: expected a 4-D input \(N, C, H, W\), got shape \(5,\)"):
        F.avg_pool2d(tn.randn(5), 2)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must hold ints >= 1"):
        F.adaptive_avg_pool2d(tn.randn(1, 1, 3, 3), (0, 2))
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel_size must be an int >= 1"):
        F.max_pool2d(tn.randn(1, 1, 3, 3), 0)


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_an_empty_stride_means_the_kernel_size(backend_name, pool):
    """PyTorch's stride=None, () and [] all default to kernel_size."""
    x = tn.tensor(np.arange(36.0).reshape(1, 1, 6, 6))
    expected = pool(x, (2, 3), (2, 3)).numpy()
    assert expected.shape == (1, 1, 3, 2)
    for stride in (None, (), []):
        np.testing.assert_array_equal(pool(x, (2, 3), stride).numpy(), expected)


@pytest.mark.parametrize("pool, name", [(F.max_pool2d, "MaxPool2d"), (F.avg_pool2d, "AvgPool2d")])
def test_pooling_argument_errors_say_which_argument_and_its_value(pool, name):
    x = tn.randn(1, 1, 5, 5)
    checks = [("stride", 1), ("padding", 0)] + ([("dilation", 1)] if pool is F.max_pool2d else [])
    for what, minimum in checks:
        with pytest.raises(ValueError, match=rf"{name}: {what} must be an int >= {minimum} or a pair of them, "
                                             rf"got {minimum - 1}$"):
            pool(x, 2, **{what: minimum - 1})
