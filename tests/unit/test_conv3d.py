"""Conv3d / F.conv3d and ConvTranspose3d / F.conv_transpose3d (vol2col + matmul): forwards against the
defining 7-loop sum, against conv2d (an independent path) when the depth is 1, and through the adjoint
identity <conv3d(x, W), y> = <x, conv_transpose3d(y, W)>; padding modes against NumPy's padding;
PyTorch's shapes, state-dict keys, initialisation bound, repr and errors; float64 gradients and
gradients of gradients on every backend."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.backend.reference_conv3d import col2vol, vol2col
from test_gradgradcheck import assert_same_as_first_order

BACKENDS = tn.backend.available()


def conv3d_by_loops(x, w, b, stride, padding, dilation, groups):
    """y[n, o, i, j, l] = b_o + sum_{c, t, u, v} W[o, c, t, u, v] x[n, g C/G + c, s i - p + d t, ...] (zero outside)."""
    n, cin, *size = x.shape
    o, cg, *k = w.shape
    out = [(sz + 2 * p - d * (kk - 1) - 1) // s + 1 for sz, p, d, kk, s in zip(size, padding, dilation, k, stride)]
    y = np.zeros((n, o, *out))
    for oc, i, j, l in np.ndindex(o, *out):
        g = oc // (o // groups)
        for c, t, u, v in np.ndindex(cg, *k):
            pos = [s * a - p + d * kk for s, a, p, d, kk in zip(stride, (i, j, l), padding, dilation, (t, u, v))]
            if all(0 <= q < sz for q, sz in zip(pos, size)):
                y[:, oc, i, j, l] += w[oc, c, t, u, v] * x[:, g * cg + c, pos[0], pos[1], pos[2]]
    return y if b is None else y + b[:, None, None, None]


CONFIGS = [  # (N, C_in, C_out, (D, H, W), kernel, stride, padding, dilation, groups, bias)
    (1, 1, 1, (3, 3, 3), (2, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, False),
    (2, 2, 3, (4, 3, 5), (2, 1, 3), (2, 1, 2), (1, 0, 1), (1, 1, 1), 1, True),
    (1, 4, 2, (5, 4, 4), (3, 2, 2), (1, 2, 1), (0, 1, 2), (2, 1, 2), 2, True),
    (2, 3, 3, (3, 4, 3), (1, 3, 2), (1, 1, 1), (1, 1, 0), (1, 2, 1), 3, False),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", CONFIGS)
def test_conv3d_equals_the_defining_sum(backend, config):
    n, cin, cout, size, k, s, p, d, g, bias = config
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((n, cin, *size)), rng.standard_normal((cout, cin // g, *k))
    b = rng.standard_normal(cout) if bias else None
    with tn.use_backend(backend):
        y = F.conv3d(tn.tensor(x), tn.tensor(w), None if b is None else tn.tensor(b), s, p, d, g)
    np.testing.assert_allclose(y.numpy(), conv3d_by_loops(x, w, b, s, p, d, g), atol=1e-12)


def test_conv3d_same_valid_and_unbatched():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 2, 4, 5, 3)), rng.standard_normal((3, 2, 2, 3, 2))
    same = F.conv3d(tn.tensor(x), tn.tensor(w), padding="same", dilation=(1, 2, 1))
    assert same.shape == (2, 3, 4, 5, 3)   # PyTorch's split: total d (k - 1), the odd one after
    padded = np.pad(x, ((0, 0), (0, 0), (0, 1), (2, 2), (0, 1)))
    np.testing.assert_allclose(same.numpy(), conv3d_by_loops(padded, w, None, (1, 1, 1), (0, 0, 0), (1, 2, 1), 1),
                               atol=1e-12)
    valid = F.conv3d(tn.tensor(x), tn.tensor(w), padding="valid")
    np.testing.assert_allclose(valid.numpy(), F.conv3d(tn.tensor(x), tn.tensor(w)).numpy())
    np.testing.assert_allclose(F.conv3d(tn.tensor(x[0]), tn.tensor(w)).numpy(), valid.numpy()[0])
    assert tn.conv3d is F.conv3d and tn.conv_transpose3d is F.conv_transpose3d


def test_depth_one_equals_conv2d():
    """Kernel depth 1 on a volume of depth 1 is a 2-D convolution, which runs on its own kernels."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    y2 = F.conv2d(tn.tensor(x), tn.tensor(w), tn.tensor(b), (2, 1), (1, 1), (1, 2), 2)
    y3 = F.conv3d(tn.tensor(x[:, :, None]), tn.tensor(w[:, :, None]), tn.tensor(b), (1, 2, 1), (0, 1, 1), (1, 1, 2), 2)
    np.testing.assert_allclose(y3.numpy()[:, :, 0], y2.numpy(), atol=1e-12)


TRANSPOSED = [  # (N, C_in, C_out, (D, H, W), kernel, stride, padding, output_padding, groups, dilation)
    (1, 2, 3, (2, 3, 2), (2, 2, 3), (1, 1, 1), (0, 0, 0), (0, 0, 0), 1, (1, 1, 1)),
    (2, 4, 2, (3, 2, 3), (3, 2, 2), (2, 1, 3), (1, 0, 1), (1, 0, 2), 2, (1, 2, 1)),
    (1, 3, 3, (2, 2, 2), (1, 2, 3), (2, 2, 1), (0, 1, 1), (1, 0, 0), 3, (2, 1, 1)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", TRANSPOSED)
def test_conv_transpose3d_is_the_adjoint_of_conv3d(backend, config):
    """<conv3d(z, W), x> = <z, conv_transpose3d(x, W)> for every z of the transposed output's shape,
    whose size is PyTorch's (D - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    n, cin, cout, size, k, s, p, op, g, d = config
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((n, cin, *size)), rng.standard_normal((cin, cout // g, *k))
    with tn.use_backend(backend):
        y = F.conv_transpose3d(tn.tensor(x), tn.tensor(w), None, s, p, op, g, d).numpy()
    expected = [(m - 1) * st - 2 * pp + dd * (kk - 1) + o + 1 for m, st, pp, dd, kk, o in zip(size, s, p, d, k, op)]
    assert y.shape == (n, cout, *expected)
    z = rng.standard_normal(y.shape)
    forward = conv3d_by_loops(z, w, None, s, p, d, g)   # the conv3d of z has x's shape: output_padding is cut off
    np.testing.assert_allclose((forward * x).sum(), (z * y).sum(), rtol=1e-10)
    b = rng.standard_normal(cout)
    yb = F.conv_transpose3d(tn.tensor(x), tn.tensor(w), tn.tensor(b), s, p, op, g, d).numpy()
    np.testing.assert_allclose(yb, y + b[:, None, None, None], atol=1e-12)
    np.testing.assert_allclose(F.conv_transpose3d(tn.tensor(x[0]), tn.tensor(w), None, s, p, op, g, d).numpy(), y[0],
                               atol=1e-12)


def test_vol2col_and_col2vol_are_adjoints():
    rng = np.random.default_rng(4)
    geometry = ((2, 3, 2), (1, 2, 1), ((1, 0), (1, 2), (0, -1)), (2, 1, 1))
    x = rng.standard_normal((2, 3, 4, 5, 4))
    cols = vol2col(x, *geometry)
    # Do = (4 + 1 - 1 - 1) // 2 + 1, Ho = 5 + 3 - 4 - 1 + 1, Wo = 4 - 1 - 1 - 1 + 1 (the -1 crops a column)
    assert cols.shape == (2, 3 * 12, 2 * 4 * 2)
    y = rng.standard_normal(cols.shape)
    np.testing.assert_allclose((cols * y).sum(), (x * col2vol(y, x.shape[2:], *geometry)).sum(), rtol=1e-12)


@pytest.mark.parametrize("mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_padding_modes_equal_numpy_padding(mode, numpy_mode):
    rng = np.random.default_rng(5)
    conv = nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 1, 2), padding_mode=mode, dtype=tn.float64)
    x = rng.standard_normal((2, 2, 3, 4, 5))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (2, 2)), mode=numpy_mode)
    expected = conv3d_by_loops(padded, conv.weight.numpy(), conv.bias.numpy(), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1)
    np.testing.assert_allclose(conv(tn.tensor(x)).numpy(), expected, atol=1e-12)
    assert f"padding_mode={mode})" in repr(conv)


def test_layers_follow_pytorch():
    conv = nn.Conv3d(4, 6, (3, 1, 2), stride=2, groups=2)
    assert conv.weight.shape == (6, 2, 3, 1, 2) and conv.bias.shape == (6,)
    assert list(conv.state_dict()) == ["weight", "bias"] and conv.weight.dtype == np.float32
    bound = 1 / math.sqrt(2 * 3 * 1 * 2)   # kaiming_uniform_(a=sqrt(5)): 1 / sqrt(fan_in), fan_in = C/G kD kH kW
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert repr(conv) == "Conv3d(4, 6, kernel_size=(3, 1, 2), stride=(2, 2, 2), groups=2)"
    assert conv(tn.randn(1, 4, 5, 5, 5)).shape == (1, 6, 2, 3, 2)
    up = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1, bias=False)
    assert up.weight.shape == (4, 2, 3, 3, 3) and list(up.state_dict()) == ["weight"]
    assert repr(up) == "ConvTranspose3d(4, 2, kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1), bias=False)"
    x = tn.randn(1, 4, 3, 4, 5)
    assert up(x).shape == (1, 2, 5, 7, 9) and up(x, output_size=(6, 8, 9)).shape == (1, 2, 6, 8, 9)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.conv3d(tn.randn(1, 2, 3, 3), tn.randn(1, 2, 2, 2)), ValueError, "conv3d: expected input"),
    (lambda: F.conv3d(tn.randn(1, 3, 3, 3, 3), tn.randn(2, 2, 1, 1, 1)), ValueError, "groups=1"),
    (lambda: F.conv3d(tn.randn(1, 2, 3, 3, 3), tn.randn(1, 2, 2, 2, 2), stride=2, padding="same"), ValueError,
     "strided"),
    (lambda: F.conv3d(tn.randn(1, 2, 2, 3, 3), tn.randn(1, 2, 3, 2, 2)), ValueError, "larger than the padded input"),
    (lambda: F.conv3d(tn.randn(1, 2, 3, 3, 3), tn.randn(1, 2, 1, 1, 1, dtype=tn.float64)), TypeError, "float dtype"),
    (lambda: F.conv_transpose3d(tn.randn(1, 2, 3, 3, 3), tn.randn(2, 1, 2, 2, 2), output_padding=1), ValueError,
     "output_padding"),
    (lambda: nn.Conv3d(3, 4, 3, groups=2), ValueError, "groups=2"),
    (lambda: nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect"), ValueError, "zeros"),
])
def test_errors_name_the_op(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _check(fn, *inputs):
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_and_gradients_of_gradients(backend):
    rng = np.random.default_rng(6)

    def t(*shape):
        return tn.tensor(rng.standard_normal(shape), requires_grad=True)
    with tn.use_backend(backend):
        _check(lambda x, w, b: F.conv3d(x, w, b, (2, 1, 1), (1, 0, 1), (1, 2, 1), 2),
               t(1, 2, 3, 4, 3), t(2, 1, 2, 2, 2), t(2))
        _check(lambda x, w, b: F.conv_transpose3d(x, w, b, (2, 1, 2), (0, 1, 1), (1, 0, 1), 2, (1, 1, 2)),
               t(1, 2, 2, 2, 2), t(2, 1, 2, 2, 2), t(2))
