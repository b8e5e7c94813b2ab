"""ConvTranspose2d, GroupNorm, InstanceNorm1d/2d and interpolate/Upsample: PyTorch's names, defaults,
state-dict keys, initialisation and errors; forwards against closed forms (the adjoint identity of the
transposed convolution, a loop over its defining sum, per-group moments, the documented source-index
formulas of interpolation worked out by hand); gradients and gradients of gradients against central
differences in float64 on every backend."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_gradgradcheck import assert_same_as_first_order


def t64(rng, *shape):
    return tn.tensor(rng.standard_normal(shape), requires_grad=True)


def check_gradients(fn, *inputs):
    """gradcheck, the create_graph gradient equal to the first-order one, and gradgradcheck."""
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


# ---------------------------------------------------------------- ConvTranspose2d
def transposed_by_loops(x, w, b, stride, padding, output_padding, groups, dilation):
    """The defining sum: x[n, c, i, j] W[c, o', u, v] added at y[n, g (O/G) + o', s i - p + d u, s j - p + d v]."""
    n, cin, h, wd = x.shape
    per_out = w.shape[1]
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    ho = (h - 1) * sh - 2 * ph + dh * (w.shape[2] - 1) + oh + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (w.shape[3] - 1) + ow + 1
    y = np.zeros((n, per_out * groups, ho, wo))
    for c in range(cin):
        g = c // (cin // groups)
        for i, j, u, v in np.ndindex(h, wd, w.shape[2], w.shape[3]):
            r, q = sh * i - ph + dh * u, sw * j - pw + dw * v
            if 0 <= r < ho and 0 <= q < wo:
                y[:, g * per_out:(g + 1) * per_out, r, q] += x[:, c, i, j, None] * w[c, :, u, v]
    return y if b is None else y + b[:, None, None]


CONFIGS = [  # (N, C_in, C_out, (H, W), kernel, stride, padding, output_padding, groups, dilation)
    (2, 3, 4, (3, 4), (3, 2), (1, 1), (0, 0), (0, 0), 1, (1, 1)),
    (1, 4, 6, (4, 3), (3, 3), (2, 3), (1, 1), (1, 2), 2, (1, 1)),
    (2, 2, 2, (3, 3), (2, 3), (1, 2), (0, 1), (1, 1), 1, (2, 2)),  # output_padding >= stride (< dilation)
    (1, 3, 3, (2, 5), (1, 3), (3, 1), (1, 0), (2, 0), 3, (1, 1)),  # output_padding > padding: zero rows after
]


@pytest.mark.parametrize("config", CONFIGS)
def test_conv_transpose2d_is_the_defining_sum(config, backend_name):
    n, cin, cout, hw, k, s, p, op, g, d = config
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((n, cin, *hw)), rng.standard_normal((cin, cout // g, *k)), rng.standard_normal(cout)
    y = F.conv_transpose2d(tn.tensor(x), tn.tensor(w), tn.tensor(b), s, p, op, g, d)
    np.testing.assert_allclose(y.numpy(), transposed_by_loops(x, w, b, s, p, op, g, d), atol=1e-12)
    y32 = F.conv_transpose2d(tn.tensor(x, dtype=tn.float32), tn.tensor(w, dtype=tn.float32), stride=s, padding=p,
                             output_padding=op, groups=g, dilation=d)
    assert y32.dtype == tn.float32
    np.testing.assert_allclose(y32.numpy(), transposed_by_loops(x, w, None, s, p, op, g, d), atol=1e-4)


@pytest.mark.parametrize("config", [c for c in CONFIGS if all(o < st for o, st in zip(c[7], c[5]))])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(config, backend_name):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)> for every x, y (output_padding < stride)."""
    n, cin, cout, hw, k, s, p, op, g, d = config
    rng = np.random.default_rng(1)
    w = tn.tensor(rng.standard_normal((cin, cout // g, *k)))
    y = tn.tensor(rng.standard_normal((n, cin, *hw)))
    xt = F.conv_transpose2d(y, w, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    x = tn.tensor(rng.standard_normal(xt.shape))
    conv = F.conv2d(x, w, stride=s, padding=p, dilation=d, groups=g)
    assert conv.shape == y.shape
    assert math.isclose((conv * y).sum().item(), (x * xt).sum().item(), rel_tol=1e-10)


def test_conv_transpose2d_by_hand():
    x, w = tn.tensor([[[[1.0, 2.0]]]]), tn.tensor([[[[1.0, 10.0]]]])
    assert F.conv_transpose2d(x, w).tolist() == [[[[1.0, 12.0, 20.0]]]]
    assert F.conv_transpose2d(x, w, stride=2).tolist() == [[[[1.0, 10.0, 2.0, 20.0]]]]
    assert F.conv_transpose2d(x, w, stride=2, padding=(0, 1)).tolist() == [[[[10.0, 2.0]]]]
    assert F.conv_transpose2d(x, w, stride=2, output_padding=1, bias=tn.tensor([0.5])).tolist() == \
        [[[[1.5, 10.5, 2.5, 20.5, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5]]]]  # one more row and column: zeros, plus b
    assert F.conv_transpose2d(x[0], w).shape == (1, 1, 3)  # unbatched (C, H, W)


@pytest.mark.parametrize("config", CONFIGS)
def test_conv_transpose2d_gradients(config, backend_name):
    n, cin, cout, hw, k, s, p, op, g, d = config
    rng = np.random.default_rng(2)
    x, w, b = t64(rng, 1, cin, *hw), t64(rng, cin, cout // g, *k), t64(rng, cout)
    check_gradients(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d), x, w, b)


def test_conv_transpose2d_errors():
    x, w = tn.randn(2, 4, 5, 5), tn.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match="output_padding .* smaller than either stride"):
        F.conv_transpose2d(x, w, output_padding=1)
    with pytest.raises(ValueError, match="input has 5 channels"):
        F.conv_transpose2d(tn.randn(2, 5, 5, 5), w)
    with pytest.raises(ValueError, match="groups=3 does not divide"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(ValueError, match="bias of shape"):
        F.conv_transpose2d(x, w, tn.randn(4))
    with pytest.raises(TypeError, match="one float dtype"):
        F.conv_transpose2d(x.double(), w)
    with pytest.raises(ValueError, match="stride"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(ValueError, match="not positive"):
        F.conv_transpose2d(tn.randn(1, 4, 1, 1), w, padding=3)


def test_conv_transpose2d_layer():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=True, dilation=1)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [("weight", (4, 3, 3, 3)), ("bias", (6,))]
    assert (m.kernel_size, m.stride, m.padding, m.output_padding, m.dilation, m.groups, m.transposed,
            m.padding_mode) == ((3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2, True, "zeros")
    assert m(tn.randn(2, 4, 5, 5)).shape == (2, 6, 10, 10)  # (5 - 1) 2 - 2 + 2 + 1 + 1
    assert repr(m) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                       "output_padding=(1, 1), groups=2)")
    assert nn.ConvTranspose2d(1, 1, 2, bias=False).bias is None
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="groups=4 must divide"):
        nn.ConvTranspose2d(4, 6, 3, groups=4)


def test_conv_transpose2d_output_size():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2)  # sizes (5 - 1) 2 + 3 = 11 .. 11 + 2 - 1 = 12
    x = tn.randn(1, 4, 5, 5)
    assert m(x, output_size=[12, 11]).shape == (1, 6, 12, 11)
    assert m(x, output_size=[1, 6, 12, 12]).shape == (1, 6, 12, 12)
    assert m(x[0], output_size=[6, 12, 12]).shape == (6, 12, 12)
    with pytest.raises(ValueError, match=r"valid sizes range from \[11, 11\] to \[12, 12\]"):
        m(x, output_size=[13, 13])
    with pytest.raises(ValueError, match="must have 2 or 4 elements"):
        m(x, output_size=[13])


def test_conv_transpose2d_initialisation():
    """PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b, fan_in = W.shape[1] kh kw = C_out/groups kh kw."""
    tn.manual_seed(0)
    m = nn.ConvTranspose2d(64, 32, 3, groups=2)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.numpy(), m.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has standard deviation a / sqrt(3)
    assert np.abs(b).max() <= bound


# ---------------------------------------------------------------- GroupNorm, InstanceNorm
def test_group_norm_moments_and_affine(backend_name):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 3, 4)) * 3 + 1
    y = F.group_norm(tn.tensor(x), 3, eps=0.0).numpy().reshape(2, 3, -1)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-12)
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    groups = x.reshape(2, 3, -1)
    xhat = ((groups - groups.mean(-1, keepdims=True)) / np.sqrt(groups.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    expected = xhat * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(F.group_norm(tn.tensor(x), 3, tn.tensor(w), tn.tensor(b)).numpy(), expected, atol=1e-12)
    m = nn.GroupNorm(3, 6)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.tolist() == [1.0] * 6 and m.bias.tolist() == [0.0] * 6
    assert repr(m) == "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)"
    np.testing.assert_allclose(m(tn.tensor(x, dtype=tn.float32)).numpy(), xhat, atol=1e-5)
    m.weight.data.fill_(3.0)
    m.reset_parameters()
    assert m.weight.tolist() == [1.0] * 6
    assert list(nn.GroupNorm(3, 6, affine=False).state_dict()) == []
    assert F.group_norm(tn.randn(0, 6, 2), 2).shape == (0, 6, 2)


def test_group_norm_gradients(backend_name):
    rng = np.random.default_rng(4)
    check_gradients(lambda x, w, b: F.group_norm(x, 2, w, b), t64(rng, 2, 4, 3), t64(rng, 4), t64(rng, 4))
    check_gradients(lambda x: nn.GroupNorm(3, 3, affine=False).double()(x), t64(rng, 2, 3, 2, 2))


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F.group_norm(tn.randn(2, 6, 4), 4)
    with pytest.raises(ValueError, match="at least 2 dims"):
        F.group_norm(tn.randn(6), 2)
    with pytest.raises(ValueError, match=r"weight and bias of shape \(6,\)"):
        F.group_norm(tn.randn(2, 6, 4), 2, tn.ones(3))
    with pytest.raises(TypeError, match="share one dtype"):
        F.group_norm(tn.randn(2, 6, 4).double(), 2, tn.ones(6))
    with pytest.raises(TypeError, match="float input"):
        F.group_norm(tn.ones(2, 6, 4, dtype=tn.int64), 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.group_norm(tn.randn(1, 2, 1), 2)


def test_instance_norm2d_defaults_and_running_stats():
    rng = np.random.default_rng(5)
    m = nn.InstanceNorm2d(3)
    assert (m.eps, m.momentum, m.affine, m.track_running_stats) == (1e-5, 0.1, False, False)
    assert list(m.state_dict()) == []
    x = rng.standard_normal((2, 3, 4, 5)) * 2 + 3
    y = m(tn.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean((2, 3)), 0, atol=1e-12)
    var = x.var((2, 3))
    np.testing.assert_allclose(y.var((2, 3)), var / (var + 1e-5), rtol=1e-12)  # (x - mu) / sqrt(var + eps)
    assert m(tn.tensor(x[0])).shape == (3, 4, 5)  # unbatched
    t = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert list(t.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    t(tn.tensor(x, dtype=tn.float32))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_allclose(t.running_mean.numpy(), 0.1 * flat.mean(-1).mean(0), rtol=1e-5)
    np.testing.assert_allclose(t.running_var.numpy(), 0.9 + 0.1 * flat.var(-1, ddof=1).mean(0), rtol=1e-5)
    t.eval()
    mean, var = t.running_mean.numpy().astype(np.float64), t.running_var.numpy().astype(np.float64)
    expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
    np.testing.assert_allclose(t(tn.tensor(x, dtype=tn.float32)).numpy(), expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        m(tn.randn(3, 4))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        m(tn.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"to match num_features \(5\)"):
        nn.InstanceNorm2d(5, affine=True)(tn.randn(2, 3, 4, 4))
    assert nn.InstanceNorm1d(3)(tn.randn(2, 3, 7)).shape == (2, 3, 7)


def test_instance_norm_gradients(backend_name):
    rng = np.random.default_rng(6)
    check_gradients(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), t64(rng, 2, 2, 2, 3), t64(rng, 2),
                    t64(rng, 2))


# ---------------------------------------------------------------- interpolate, Upsample
def along_w(y):
    return y.numpy()[0, 0, 0].tolist()


def test_interpolate_nearest_index_formula():
    """y[i] = x[floor(i in / out)] (on 2-D images: x[i // 2] when out = 2 in, whatever the scale factor)."""
    x = tn.arange(5.0).reshape(1, 1, 1, 5)
    assert along_w(F.interpolate(x, size=(1, 3))) == [0.0, 1.0, 3.0]  # floor(0, 5/3, 10/3)
    assert along_w(F.interpolate(x, size=(1, 8))) == [0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0]  # floor(5 i / 8)
    assert along_w(F.interpolate(x, scale_factor=2)) == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    assert F.interpolate(x, scale_factor=1.5).shape == (1, 1, 1, 7)  # floor(5 * 1.5)
    # with a scale factor the step is 1 / scale_factor: floor(i / 1.5) = 0 0 1 2 2 3 4
    assert along_w(F.interpolate(x, scale_factor=(1, 1.5))) == [0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 4.0]
    # ... unless recompute_scale_factor: floor(i 5 / 7) = 0 0 1 2 2 3 4 as well; 2.2 -> 11: floor(i 5/11)
    assert along_w(F.interpolate(x, scale_factor=(1, 2.2), recompute_scale_factor=True)) == \
        [0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    # nearest-exact: floor((i + 1/2) 5 / 3) = 0 2 4
    assert along_w(F.interpolate(x, size=(1, 3), mode="nearest-exact")) == [0.0, 2.0, 4.0]
    # a 1-D signal takes floor(i / 2.41) even where out = 2 in: 0 0 0 1
    assert F.interpolate(tn.tensor([[[0.0, 1.0]]]), scale_factor=2.41).tolist() == [[[0.0, 0.0, 0.0, 1.0]]]
    img = tn.arange(6.0).reshape(1, 1, 2, 3)
    assert F.interpolate(img, scale_factor=2).numpy()[0, 0, :, 0].tolist() == [0.0, 0.0, 3.0, 3.0]
    assert F.interpolate(tn.tensor([[[1, 2]]], dtype=tn.uint8), size=3).dtype == tn.uint8


def test_interpolate_bilinear_source_formula():
    """x_src = (i + 1/2) in / out - 1/2 clamped at 0 (align_corners=False) or i (in - 1) / (out - 1) (True);
    y = (1 - l) v[floor x_src] + l v[floor x_src + 1], l = x_src - floor x_src."""
    v = tn.tensor([[[[0.0, 4.0]]]])
    # 2 -> 4: x_src = 0 (clamped), 0.25, 0.75, 1.25 (the last pixel: v[1])
    assert along_w(F.interpolate(v, size=(1, 4), mode="bilinear")) == [0.0, 1.0, 3.0, 4.0]
    # align_corners: x_src = 0, 1/3, 2/3, 1
    np.testing.assert_allclose(along_w(F.interpolate(v.double(), size=(1, 4), mode="bilinear", align_corners=True)),
                               [0.0, 4 / 3, 8 / 3, 4.0], atol=1e-15)
    # 3 -> 2, no alignment: x_src = 0.25, 1.75
    w = tn.tensor([[[[0.0, 4.0, 8.0]]]], dtype=tn.float64)
    np.testing.assert_allclose(along_w(F.interpolate(w, size=(1, 2), mode="bilinear")), [1.0, 7.0])
    # a plane a r + b c + d sampled at aligned corners is the plane at the new grid
    rows, cols = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing="ij")
    plane = tn.tensor((2 * rows - 3 * cols + 1)[None, None])
    r2, c2 = np.meshgrid(np.arange(7) * 3 / 6, np.arange(9) * 4 / 8, indexing="ij")
    np.testing.assert_allclose(F.interpolate(plane, size=(7, 9), mode="bilinear", align_corners=True).numpy()[0, 0],
                               2 * r2 - 3 * c2 + 1, atol=1e-12)
    line = tn.tensor([[[0.0, 1.0, 4.0]]], dtype=tn.float64)  # linear, (N, C, L): 3 -> 4, x_src = 0, 0.625, 1.375, 2.125
    np.testing.assert_allclose(F.interpolate(line, size=4, mode="linear").tolist(), [[[0.0, 0.625, 2.125, 4.0]]])
    assert F.interpolate(tn.randn(1, 1, 2, 2, 2), scale_factor=2, mode="trilinear").shape == (1, 1, 4, 4, 4)


@pytest.mark.parametrize("mode,options", [("nearest", {"scale_factor": 2}), ("nearest", {"size": (3, 5)}),
                                          ("nearest-exact", {"scale_factor": 1.7}), ("bilinear", {"size": (5, 2)}),
                                          ("bilinear", {"scale_factor": 1.5, "align_corners": True}),
                                          ("area", {"size": (2, 3)})])
def test_interpolate_gradients(mode, options, backend_name):
    rng = np.random.default_rng(7)
    check_gradients(lambda x: F.interpolate(x, mode=mode, **options), t64(rng, 2, 1, 3, 4))


def test_interpolate_gradient_of_nearest_sums_the_copies():
    """d/dx of sum_i g_i y_i = sum of the g_i that read x_j."""
    x = tn.tensor([[[[1.0, 2.0, 3.0]]]], requires_grad=True)
    y = F.interpolate(x, size=(1, 5))  # floor(3 i / 5) = 0 0 1 1 2
    y.backward(tn.tensor([[[[1.0, 10.0, 100.0, 1000.0, 10000.0]]]]))
    assert x.grad.tolist() == [[[[11.0, 1100.0, 10000.0]]]]


def test_upsample_layers():
    m = nn.Upsample(scale_factor=2)
    assert repr(m) == "Upsample(scale_factor=2.0, mode='nearest')"
    bilinear = nn.Upsample(size=(3, 5), mode="bilinear", align_corners=True)
    assert repr(bilinear) == "Upsample(size=(3, 5), mode='bilinear')"
    assert m(tn.randn(1, 2, 3, 4)).shape == (1, 2, 6, 8)
    assert list(m.state_dict()) == []
    v = tn.tensor([[[[0.0, 3.0]]]])
    assert along_w(nn.UpsamplingBilinear2d(size=(1, 4))(v)) == [0.0, 1.0, 2.0, 3.0]  # align_corners=True
    assert along_w(nn.UpsamplingNearest2d(scale_factor=2)(v)) == [0.0, 0.0, 3.0, 3.0]


def test_interpolate_errors():
    x = tn.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=False)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(x[0], size=3, mode="bilinear")
    with pytest.raises(NotImplementedError, match=r"\(got 3D\) for the modes: .* \(got bicubic\)"):
        F.interpolate(x[0], size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match="got 2D"):
        F.interpolate(tn.randn(3, 4), size=3)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(3,))
    with pytest.raises(RuntimeError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(TypeError, match="expected size"):
        F.interpolate(x, size=3.0)
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(NotImplementedError, match="int64"):
        F.interpolate(tn.ones(1, 1, 2, 2, dtype=tn.int64), scale_factor=2, mode="bilinear")
