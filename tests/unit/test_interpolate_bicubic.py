"""F.interpolate / nn.Upsample with mode="bicubic" (Keys' cubic convolution, a = -0.75, border taps
clamped, as PyTorch) and mode="area" on 5-D inputs: weights worked out by hand on tiny grids, a loop over
the defining sum written from Keys' kernel, constants kept, a ramp kept where the kernel's symmetry
says so (and biased by the closed-form first moment elsewhere), the identity at equal sizes, overshoot
left unclamped; area as block means; gradients and gradients of gradients in float64 on both backends;
the errors (3-D/5-D bicubic, antialias, integer dtypes)."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_more_layers import check_gradients

A = -0.75


def keys(s):
    """Keys' kernel: (a + 2)|s|^3 - (a + 3)|s|^2 + 1 on |s| <= 1, a|s|^3 - 5a|s|^2 + 8a|s| - 4a on 1 < |s| < 2."""
    s = abs(s)
    if s <= 1:
        return (A + 2) * s ** 3 - (A + 3) * s ** 2 + 1
    return A * s ** 3 - 5 * A * s ** 2 + 8 * A * s - 4 * A if s < 2 else 0.0


def source(i, n, m, align_corners, scale=None):
    """PyTorch's cubic source position of output i (no clamping at 0)."""
    if align_corners:
        return i * (n - 1) / (m - 1) if m > 1 else 0.0
    r = 1 / scale if scale else n / m
    return r * (i + 0.5) - 0.5


def resize_by_loops(x, size, align_corners, scales=(None, None)):
    """y[i, j] = sum_{k, l} W(t_i - k) W(t_j - l) x[clamp(i0 + k), clamp(j0 + l)], k, l in -1..2, for x (H, W)."""
    (h, w), (n_h, n_w) = size, x.shape
    y = np.zeros(size)
    for i, j in np.ndindex(h, w):
        yi, xj = source(i, n_h, h, align_corners, scales[0]), source(j, n_w, w, align_corners, scales[1])
        i0, j0 = int(np.floor(yi)), int(np.floor(xj))
        for k, l in np.ndindex(4, 4):
            r, c = min(max(i0 + k - 1, 0), n_h - 1), min(max(j0 + l - 1, 0), n_w - 1)
            y[i, j] += keys(yi - i0 - (k - 1)) * keys(xj - j0 - (l - 1)) * x[r, c]
    return y


def test_weights_by_hand():
    """4 -> 8 along W, no alignment: x_src = i / 2 - 1/4. Output 3 sits at 1.25 (t = 1/4):
    W(1.25) = -0.10546875, W(0.25) = 0.87890625, W(0.75) = 0.26171875, W(1.75) = -0.03515625.
    Output 0 sits at -0.25 (i0 = -1, t = 3/4): taps -2, -1, 0, 1 clamp to 0, 0, 0, 1."""
    v = tn.tensor([[[[1.0, 10.0, 100.0, 1000.0]]]], dtype=tn.float64)
    y = F.interpolate(v, size=(1, 8), mode="bicubic").numpy()[0, 0, 0]
    assert y[3] == -0.10546875 * 1 + 0.87890625 * 10 + 0.26171875 * 100 - 0.03515625 * 1000
    assert y[0] == (-0.03515625 + 0.26171875 + 0.87890625) * 1 - 0.10546875 * 10
    # midway (t = 1/2): -3/32, 19/32, 19/32, -3/32; align_corners 4 -> 7 puts output 1 at 0.5
    y = F.interpolate(v, size=(1, 7), mode="bicubic", align_corners=True).numpy()[0, 0, 0]
    assert y[1] == (-3 * 1 + 19 * 1 + 19 * 10 - 3 * 100) / 32 and y[2] == 10.0  # output 2 sits on pixel 1


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size, scale", [((5, 7), None), ((3, 2), None), ((1, 4), None), ((6, 5), (1.7, 2.3)),
                                         ((2, 2), (0.6, 0.5))])
def test_the_defining_sum(align_corners, size, scale, backend_name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 3)) if scale is None else rng.standard_normal((2, 3, 4, 2))
    options = dict(size=size) if scale is None else dict(scale_factor=scale)
    y = F.interpolate(tn.tensor(x), mode="bicubic", align_corners=align_corners, **options)
    expected = [[resize_by_loops(x[n, c], y.shape[2:], align_corners, scale or (None, None)) for c in range(3)]
                for n in range(2)]
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    assert y.dtype == tn.float64 and F.interpolate(tn.tensor(x, dtype=tn.float32), mode="bicubic",
                                                   **options).dtype == tn.float32


@pytest.mark.parametrize("align_corners", [False, True])
def test_constants_are_kept_and_equal_sizes_are_the_identity(align_corners):
    y = F.interpolate(tn.full((1, 2, 3, 5), 2.5, dtype=tn.float64), size=(7, 4), mode="bicubic",
                      align_corners=align_corners)
    np.testing.assert_allclose(y.numpy(), 2.5, rtol=1e-14)  # the weights sum to 1 (border taps clamped)
    x = tn.randn(1, 2, 3, 5)
    np.testing.assert_array_equal(F.interpolate(x, size=(3, 5), mode="bicubic", align_corners=align_corners).numpy(),
                                  x.numpy())


def test_a_ramp_is_kept_at_the_kernels_symmetric_points_and_biased_elsewhere():
    """Keys' kernel with a = -0.75 keeps linear functions only where t is 0 or 1/2 (its symmetry); at other t an
    interior ramp v[j] = j comes out as x + sum_k W(t - k) k - t (only a = -1/2 removes that bias, Keys 1981)."""
    ramp = tn.tensor(np.arange(8.0)[None, None, None])
    y = F.interpolate(ramp, size=(1, 15), mode="bicubic", align_corners=True).numpy()[0, 0, 0]  # x = i / 2
    np.testing.assert_allclose(y[2:-2], np.arange(2, 13) / 2, atol=1e-14)
    y = F.interpolate(ramp, size=(1, 11), mode="bicubic", align_corners=True).numpy()[0, 0, 0]  # x = 0.7 i
    for i in range(3, 8):  # taps in the interior
        x = 0.7 * i
        t = x - np.floor(x)
        bias = sum(keys(t - k) * k for k in (-1, 0, 1, 2)) - t
        assert abs(y[i] - (x + bias)) < 1e-12 and (abs(bias) > 1e-3 or t in (0.0, 0.5))


def test_overshoot_is_not_clamped():
    """Negative lobes: a step 0 0 1 1 resampled overshoots below 0 and above 1 (PyTorch clamps only uint8)."""
    y = F.interpolate(tn.tensor([[[[0.0, 0.0, 1.0, 1.0]]]]), size=(1, 8), mode="bicubic").numpy()
    assert y.min() < 0 and y.max() > 1


def test_upsample_layer_and_errors():
    m = nn.Upsample(scale_factor=2, mode="bicubic", align_corners=True)
    assert repr(m) == "Upsample(scale_factor=2.0, mode='bicubic')"
    x = tn.randn(1, 2, 3, 4)
    np.testing.assert_array_equal(m(x).numpy(), F.interpolate(x, scale_factor=2, mode="bicubic",
                                                              align_corners=True).numpy())
    with pytest.raises(NotImplementedError, match=r"Only 3D, 4D and 5D .* \(got 3D\) .* \(got bicubic\)"):
        F.interpolate(x[0], size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match=r"\(got 5D\)"):
        F.interpolate(x.unsqueeze(0), size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match="mode='bicubic' with antialias=True is not supported"):
        F.interpolate(x, size=3, mode="bicubic", antialias=True)
    with pytest.raises(NotImplementedError, match="'bicubic' is not implemented for dtype uint8"):
        F.interpolate(tn.ones(1, 1, 2, 2, dtype=tn.uint8), size=3, mode="bicubic")


@pytest.mark.parametrize("options", [dict(size=(5, 3)), dict(scale_factor=1.5, align_corners=True),
                                     dict(size=(2, 2))])
def test_bicubic_gradients(options, backend_name):
    x = tn.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), requires_grad=True)
    check_gradients(lambda x: F.interpolate(x, mode="bicubic", **options) ** 2, x)


# ---------------------------------------------------------------- area on 5-D inputs
def test_area_on_volumes_is_the_mean_of_each_adaptive_window(backend_name):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 6, 2))
    y = F.interpolate(tn.tensor(x), size=(2, 3, 1), mode="area").numpy()  # 2x2x2 blocks
    np.testing.assert_allclose(y, x.reshape(2, 3, 2, 2, 3, 2, 1, 2).mean(axis=(3, 5, 7)), atol=1e-14)
    y = F.interpolate(tn.tensor(x), size=(3, 4, 3), mode="area").numpy()  # uneven, overlapping windows
    edges = [[(i * n // m, -(-(i + 1) * n // m)) for i in range(m)] for n, m in zip((4, 6, 2), (3, 4, 3))]
    for (a, b), (c, d), (e, f) in [(r, s, t) for r in edges[0] for s in edges[1] for t in edges[2]]:
        i, j, k = edges[0].index((a, b)), edges[1].index((c, d)), edges[2].index((e, f))
        np.testing.assert_allclose(y[:, :, i, j, k], x[:, :, a:b, c:d, e:f].mean(axis=(2, 3, 4)), atol=1e-14)
    check_gradients(lambda v: F.interpolate(v, scale_factor=0.5, mode="area") ** 2,
                    tn.tensor(rng.standard_normal((1, 1, 2, 4, 2)), requires_grad=True))
