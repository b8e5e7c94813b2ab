"""The int8 convolution (kernels.quantized_conv2d: quantize once, im2col straight into the micro-kernels'
layout, u7 x s8 GEMM per group, epilogue written to NCHW) against the reference backend's
quantized_conv2d (im2col of the zero-padded float input, then the quantized Linear's formula), bit for
bit on every int8 path and SIMD level, over strides, paddings, dilations, groups, odd sizes and batch 1;
and the reference against a direct sum written here."""
import numpy as np
import pytest

from tinynn.backend import reference

kernels = pytest.importorskip("tinynn.kernels")

from test_int8_paths import each_path  # noqa: E402, F401 (the fixture: every int8 path at every SIMD level)

# (N, C, H, W), O, kernel, stride, padding (top, bottom, left, right), dilation, groups
GEOMETRIES = [
    ((2, 3, 7, 6), 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((1, 1, 8, 8), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((3, 8, 8, 8), 16, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    ((2, 4, 9, 8), 6, (3, 2), (2, 1), (2, 0, 1, 3), (1, 2), 2),
    ((1, 16, 5, 5), 33, (3, 3), (2, 2), (1, 1, 1, 1), (2, 2), 1),
    ((2, 6, 6, 7), 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 6),
    ((5, 20, 4, 4), 40, (2, 2), (1, 1), (0, 1, 0, 1), (1, 1), 4),
    ((1, 2, 3, 3), 3, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    # 750 rows of columns in blocks of 672: the second block starts inside an image, mid-row (4, 2)
    ((30, 8, 5, 5), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    # the quantized copy moves 8 channels x 8 positions at a time: the digits ResNet's 8x8 maps, and
    # 19 channels by 10 columns (two blocks of channels and 3 left over, one block of columns and 2)
    ((2, 8, 8, 8), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 19, 11, 10), 7, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    # a row of the columns takes 3 runs of 3 C bytes: constant-size moves for C = 8 (above), 16, 32
    ((2, 16, 6, 6), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 32, 4, 4), 8, (3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 1),
]


def case(geometry, seed):
    (n, c, h, w), o, (kh, kw), _, _, _, groups = geometry
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, h, w)) * 1.5 + 0.3).astype(np.float32)
    wq = rng.integers(-128, 128, (o, kh * kw * c // groups)).astype(np.int8)
    s_w = (rng.random(o) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32) if seed % 2 else None
    return x, [np.ascontiguousarray(r) for r in wq.reshape(groups, o // groups, -1)], s_w, bias


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("act", ["none", "relu"])
@pytest.mark.parametrize("dynamic", [False, True])
def test_every_path_equals_the_reference(each_path, geometry, act, dynamic):
    _, _, kernel, stride, padding, dilation, _ = geometry
    x, ws, s_w, bias = case(geometry, len(str(geometry)) + dynamic)
    s_a, z_a = (None, None) if dynamic else (np.float32(0.031), 41)
    want = reference.quantized_conv2d(x, ws, kernel, stride, padding, dilation, s_a, z_a, s_w, bias, act)
    packed = [kernels.PackedInt8Weight(w) for w in ws]
    got = each_path(lambda: kernels.quantized_conv2d(x, packed, kernel, stride, padding, dilation, s_a, z_a,
                                                     s_w, bias, act))
    for p, y in got.items():
        assert y.shape == want.shape and y.dtype == np.float32
        np.testing.assert_array_equal(y, want, err_msg=p)
    threads = kernels.quantized_conv2d(x, packed, kernel, stride, padding, dilation, s_a, z_a, s_w, bias, act,
                                       num_threads=2)
    np.testing.assert_array_equal(threads, want)


@pytest.mark.parametrize("geometry", GEOMETRIES[:5])
def test_the_reference_is_the_direct_sum(geometry):
    # y[n, o, i, j] = (sum over the window of (a - z_a) w, with padding contributing a = z_a) s_a s_w + b
    (n, c, h, w), o, (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw), groups = geometry
    x, ws, s_w, bias = case(geometry, 3)
    s_a, z_a = np.float32(0.05), 30
    y = reference.quantized_conv2d(x, ws, (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw), s_a, z_a, s_w, bias)
    a = np.clip(np.rint(x.astype(np.float64) / np.float64(s_a)) + z_a, 0, 127).astype(np.int64)  # no ties here
    assert np.all(np.abs(x / s_a - np.rint(x / s_a)) != 0.5)
    ap = np.full((n, c, h + pt + pb, w + pl + pr), z_a, np.int64)
    ap[:, :, pt:pt + h, pl:pl + w] = a
    og, cg = o // groups, c // groups
    for oo in range(o):
        g = oo // og
        wo4 = ws[g][oo % og].astype(np.int64).reshape(kh, kw, cg)
        for i in range(y.shape[2]):
            for j in range(y.shape[3]):
                win = ap[:, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                acc = np.einsum("ncuv,uvc->n", win - z_a, wo4)
                want = acc.astype(np.float32) * (s_a * s_w[oo]) + (0 if bias is None else bias[oo])
                np.testing.assert_array_equal(y[:, oo, i, j], want.astype(np.float32))


def test_bad_input_names_the_op():
    packed = [kernels.PackedInt8Weight(np.ones((4, 27), np.int8))]
    x = np.ones((2, 3, 5, 5), np.float32)
    with pytest.raises(ValueError, match="quantized_conv2d.*does not fit"):
        kernels.quantized_conv2d(x, packed, (3, 3), (1, 1), (0, 0, 0, 0), (3, 3), None, None, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="quantized_conv2d.*groups"):
        kernels.quantized_conv2d(np.ones((2, 4, 5, 5), np.float32), packed, (3, 3), (1, 1), (0,) * 4, (1, 1), None,
                                 None, np.ones(4, np.float32))
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="quantized_conv2d.*not finite"):
        kernels.quantized_conv2d(x, packed, (3, 3), (1, 1), (0,) * 4, (1, 1), None, None, np.ones(4, np.float32))
