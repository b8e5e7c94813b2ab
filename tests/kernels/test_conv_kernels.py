"""The convolution kernels (kernels/conv: im2col / col2im on the blocked GEMM) against the NumPy
reference backend, on every SIMD path the CPU has, in float32 and float64, over strides, paddings
(asymmetric too), dilations, groups (depthwise too), pointwise kernels, odd sizes and batch 1, on
one thread and across the batch.

A convolution output is a K-term dot product (K = C/G kh kw), so the float bound is GEMM's:
|y - exact| <= c K eps (|W| * |x|), with `exact` the reference in float64 (float32 inputs) and the
bound computed by the reference convolution of |x| with |W|."""
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

pytest.importorskip("tinynn.kernels")
import tinynn as tn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import kernels  # noqa: E402
from tinynn.backend import reference as ref  # noqa: E402
from tinynn.testing import assert_backends_match  # noqa: E402

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=kernels.simd_paths())
def simd(request):
    """Each SIMD path this CPU has, the previous one restored afterwards."""
    request.addfinalizer(functools.partial(kernels.set_simd, kernels.set_simd(request.param)))
    return request.param


@pytest.fixture(params=["chunks", "one image"])
def chunking(request):
    """Images im2col'd side by side into one GEMM (the default for small images), or one at a time."""
    previous = kernels._set_conv_chunk_values(1 << 17 if request.param == "chunks" else 0)
    yield request.param
    kernels._set_conv_chunk_values(previous)


@st.composite
def geometries(draw):
    """(x shape, weight shape, stride, (top, bottom, left, right), dilation, groups) that fit."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans()) and groups > 1
    cg, og = (1, draw(st.integers(1, 2))) if depthwise else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pointwise = draw(st.integers(0, 4)) == 0
    kernel = (1, 1) if pointwise else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if pointwise else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = (0, 0, 0, 0) if pointwise else tuple(draw(st.integers(0, 2)) for _ in range(4))
    h = draw(st.integers(max(1, dilation[0] * (kernel[0] - 1) + 1 - pads[0] - pads[1]), 9))
    w = draw(st.integers(max(1, dilation[1] * (kernel[1] - 1) + 1 - pads[2] - pads[3]), 9))
    n = draw(st.integers(1, 3))
    return (n, groups * cg, h, w), (groups * og, cg, *kernel), stride, pads, dilation, groups


def assert_conv_close(got, exact, bound_scale, k, dtype):
    """|got - exact| <= 4 k eps bound_scale (+ tiny), elementwise."""
    eps = np.finfo(dtype).eps
    assert got.dtype == dtype and got.shape == exact.shape
    err = np.abs(got.astype(np.float64) - exact)
    bound = 4 * k * eps * bound_scale + np.finfo(dtype).tiny
    assert np.all(err <= bound), f"max error {err.max()} against bound {bound.max()}"


def check_all_three(xs, ws, geometry, dtype, rng, num_threads=1):
    """The three kernels on random data of dtype against the float64 reference, within the bound."""
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    y = kernels.conv2d(x, w, b, *geometry, num_threads=num_threads)
    k = ws[1] * ws[2] * ws[3]
    assert_conv_close(y, ref.conv2d(x64, w64, b64, *geometry), ref.conv2d(np.abs(x64), np.abs(w64), np.abs(b64),
                                                                          *geometry), k + 1, dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    g64 = g.astype(np.float64)
    dx = kernels.conv2d_backward_input(g, w, xs, *geometry, num_threads=num_threads)
    assert_conv_close(dx, ref.conv2d_backward_input(g64, w64, xs, *geometry),
                      ref.conv2d_backward_input(np.abs(g64), np.abs(w64), xs, *geometry), ws[0] * ws[2] * ws[3], dtype)
    dw = kernels.conv2d_backward_weight(g, x, ws, *geometry, num_threads=num_threads)
    assert_conv_close(dw, ref.conv2d_backward_weight(g64, x64, ws, *geometry),
                      ref.conv2d_backward_weight(np.abs(g64), np.abs(x64), ws, *geometry), xs[0] * y.shape[2] * y.shape[3],
                      dtype)


@fixture_ok
@given(geometries(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_conv_kernels_match_the_reference_within_the_dot_product_bound(simd, chunking, geometry, dtype, seed):
    xs, ws, *rest = geometry
    check_all_three(xs, ws, tuple(rest), dtype, np.random.default_rng(seed))


@st.composite
def dense_geometries(draw):
    """Geometries that take the dense path (conv_dense_real.h): a map of at most twice as many
    positions as the kernel has taps, and a batch large enough that the dense matrix is no bigger
    than the columns im2col would write (tn_conv_is_dense)."""
    groups, cg, og = draw(st.sampled_from([1, 1, 2, 3])), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    h = draw(st.integers(max(1, dilation[0] * (kernel[0] - 1) + 1 - pads[0] - pads[1]), 8))
    w = draw(st.integers(max(1, dilation[1] * (kernel[1] - 1) + 1 - pads[2] - pads[3]), 8))
    taps, pointwise = kernel[0] * kernel[1], kernel == (1, 1) and stride == (1, 1) and pads == (0, 0, 0, 0)
    assume(h * w <= 2 * taps and not pointwise)
    n = -(-(groups * og * cg * h * w) // (groups * cg * taps)) + draw(st.integers(0, 2))
    return (n, groups * cg, h, w), (groups * og, cg, *kernel), stride, pads, dilation, groups


@fixture_ok
@given(dense_geometries(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_convolutions_of_maps_no_bigger_than_twice_the_kernel_match_the_reference(simd, geometry, dtype, seed):
    xs, ws, *rest = geometry
    check_all_three(xs, ws, tuple(rest), dtype, np.random.default_rng(seed))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_the_digits_resnets_last_convolutions_match_the_reference(dtype, threads):
    """32 -> 32 channels on 2x2 maps and 16 -> 32 at stride 2 from 4x4, batch 64: the dense path
    at the size it was written for, on one and two threads."""
    for xs, ws, stride in (((64, 32, 2, 2), (32, 32, 3, 3), (1, 1)), ((64, 16, 4, 4), (32, 16, 3, 3), (2, 2))):
        check_all_three(xs, ws, (stride, (1, 1, 1, 1), (1, 1), 1), dtype, np.random.default_rng(7), num_threads=threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_infinite_input_reaches_only_the_outputs_that_read_it(dtype):
    """A 3x3 kernel on 4x4 maps (the dense path's size): inf in the corner of x is read by output
    (0, 0) alone, so the other outputs stay the finite reference values, and likewise inf in one
    output gradient reaches only the inputs under its window."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((4, 2, 4, 4)).astype(dtype), rng.standard_normal((1, 2, 3, 3)).astype(dtype)
    geometry = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    x[0, 0, 0, 0] = np.inf
    y = kernels.conv2d(x, w, None, *geometry)
    clean = x.copy()
    clean[0, 0, 0, 0] = 0
    want = ref.conv2d(clean.astype(np.float64), w.astype(np.float64), None, *geometry)
    assert not np.isfinite(y[0, 0, 0, 0])
    mask = np.ones(y.shape, bool)
    mask[0, 0, 0, 0] = False
    np.testing.assert_allclose(y[mask], want[mask], rtol=1e-5 if dtype == np.float32 else 1e-12)
    g = rng.standard_normal(y.shape).astype(dtype)
    g[0, 0, 1, 1] = np.inf
    dx = kernels.conv2d_backward_input(g, w, x.shape, *geometry)
    assert np.isfinite(dx[0, :, 0, :]).all() and np.isfinite(dx[1:]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ws, geometry", [
    ((32, 16, 3, 3), ((1, 1), (1, 1, 1, 1), (1, 1), 1)),   # across the batch on 2 threads
    ((16, 16, 1, 1), ((1, 1), (0, 0, 0, 0), (1, 1), 1)),   # pointwise: no im2col
    ((16, 4, 3, 3), ((2, 1), (1, 0, 2, 1), (1, 2), 4)),    # groups, asymmetric padding, stride, dilation
])
@pytest.mark.parametrize("batch, threads", [(5, 2), (1, 2), (5, 1)])
def test_large_convolutions_on_one_and_two_threads(chunking, dtype, ws, geometry, batch, threads):
    """Large enough to run in parallel (across the batch, or inside each GEMM for a batch of one)."""
    xs = (batch, ws[1] * geometry[3], 24, 23)
    check_all_three(xs, ws, geometry, dtype, np.random.default_rng(batch), num_threads=threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 2])
def test_columns_a_multiple_of_2kb_wide(simd, chunking, dtype, batch):
    """16x32 outputs: 512 positions per image, 2 KB or 4 KB per row of columns, which the kernel pads
    to another row stride so that the GEMM reads them in place."""
    check_all_three((batch, 8, 16, 32), (12, 8, 3, 3), ((1, 1), (1, 1, 1, 1), (1, 1), 1), dtype,
                    np.random.default_rng(batch), num_threads=1)


def test_the_fused_relu_is_relu_of_the_convolution():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    geometry = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    np.testing.assert_array_equal(kernels.conv2d(x, w, b, *geometry, activation="relu"),
                                  np.maximum(kernels.conv2d(x, w, b, *geometry), 0))


def test_strided_and_transposed_views_are_read_correctly():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 7, 3)).transpose(0, 3, 1, 2)  # (2, 3, 5, 7), not contiguous
    w = rng.standard_normal((4, 3, 3, 2))[:, :, ::-1]
    geometry = ((1, 2), (1, 1, 0, 1), (1, 1), 1)
    np.testing.assert_allclose(kernels.conv2d(x, w, None, *geometry), ref.conv2d(x, w, None, *geometry), rtol=1e-12,
                               atol=1e-12)


def test_bad_arguments_raise_instead_of_reading_out_of_bounds():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))
    geometry = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    with pytest.raises(TypeError, match=r"conv2d: weight has dtype float32; expected float64"):
        kernels.conv2d(x, w.astype(np.float32), None, *geometry)
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 2, 5, 5\) and weight \(3, 1, 3, 3\) do not fit groups=1"):
        kernels.conv2d(x, np.zeros((3, 1, 3, 3)), None, *geometry)
    with pytest.raises(ValueError, match=r"conv2d: kernel \(6, 6\) .* does not fit"):
        kernels.conv2d(x, np.zeros((3, 2, 6, 6)), None, *geometry)
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(2,\)"):
        kernels.conv2d(x, w, np.zeros(2), *geometry)
    with pytest.raises(ValueError, match=r"conv2d_backward_input: grad has shape \(1, 3, 2, 2\), the output has shape "
                                         r"\(1, 3, 3, 3\)"):
        kernels.conv2d_backward_input(np.zeros((1, 3, 2, 2)), w, x.shape, *geometry)
    with pytest.raises(ValueError, match=r"conv2d_backward_weight: padding must be 4 ints >= 0"):
        kernels.conv2d_backward_weight(np.zeros((1, 3, 3, 3)), x, w.shape, (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(TypeError, match=r"conv2d: x must be a numpy.ndarray"):
        kernels.conv2d([[1.0]], w, None, *geometry)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_the_compiled_and_reference_backends_agree_through_autograd(dtype, tol):
    rng = np.random.default_rng(2)
    x = tn.tensor(rng.standard_normal((2, 4, 7, 6)).astype(dtype), requires_grad=True)
    w = tn.tensor(rng.standard_normal((6, 2, 3, 2)).astype(dtype), requires_grad=True)
    b = tn.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True)
    ran = assert_backends_match(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
                                x, w, b, rtol=tol, atol=tol)
    assert {"conv2d", "conv2d_backward_input", "conv2d_backward_weight"} <= set(ran)


# ---------------------------------------------------------------- pooling (kernels/conv/pool.h)
@st.composite
def pool_geometries(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ceil_mode = draw(st.booleans())
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
             *(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9)) for d, k, p in zip(dilation, kernel, padding)))
    return shape, kernel, stride, padding, dilation, ceil_mode


@given(pool_geometries(), st.sampled_from([np.float32, np.float64]), st.booleans(), st.integers(0, 2**32 - 1))
def test_pool_kernels_match_the_reference(geometry, dtype, include_pad, seed):
    """Max pooling bit for bit (values, indices, gradients: the same comparisons and additions in the
    same order); average pooling within a few roundings of its window sum."""
    shape, kernel, stride, padding, dilation, ceil_mode = geometry
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * 2).astype(dtype)  # ties
    x[rng.random(shape) < 0.05] = np.nan
    y, idx = kernels.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    ry, ridx = ref.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(kernels.max_pool2d_backward(g, idx, shape), ref.max_pool2d_backward(g, ridx, shape),
                               rtol=4 * np.finfo(dtype).eps)
    x = rng.standard_normal(shape).astype(dtype)
    args = (kernel, stride, padding, ceil_mode, include_pad)
    tol = 8 * kernel[0] * kernel[1] * np.finfo(dtype).eps
    np.testing.assert_allclose(kernels.avg_pool2d(x, *args), ref.avg_pool2d(x, *args), rtol=tol, atol=tol)
    g = rng.standard_normal(ref.avg_pool2d(x, *args).shape).astype(dtype)
    np.testing.assert_allclose(kernels.avg_pool2d_backward(g, shape, *args), ref.avg_pool2d_backward(g, shape, *args),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (1, 2, 7, 9), (2, 3, 6, 22)])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_by_two_max_pooling_matches_the_reference_bit_for_bit(shape, ceil_mode, dtype):
    """The 2x2 stride-2 windows (their own loop in the kernel, four outputs at a time in float32,
    then one at a time) with ties and NaNs; odd sizes with ceil_mode make windows that hang over the
    edge, which take the general loop."""
    rng = np.random.default_rng(5)
    x = np.round(rng.standard_normal(shape)).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan
    x[rng.random(shape) < 0.2] = -np.inf
    y, idx = kernels.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), ceil_mode)
    ry, ridx = ref.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), ceil_mode)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)


@pytest.mark.parametrize("threads", [1, 2])
def test_pool_kernels_on_planes_across_threads(threads):
    x = np.random.default_rng(3).standard_normal((8, 16, 33, 31)).astype(np.float32)
    y, idx = kernels.max_pool2d(x, (3, 3), (2, 2), (1, 1), (1, 1), True, num_threads=threads)
    ry, ridx = ref.max_pool2d(x, (3, 3), (2, 2), (1, 1), (1, 1), True)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    np.testing.assert_array_equal(kernels.max_pool2d_backward(y, idx, x.shape, num_threads=threads),
                                  ref.max_pool2d_backward(y, ridx, x.shape))
    args = ((2, 2), (2, 2), (0, 0), False, True)
    np.testing.assert_allclose(kernels.avg_pool2d(x, *args, num_threads=threads), ref.avg_pool2d(x, *args), rtol=1e-6,
                               atol=4 * 4 * np.finfo(np.float32).eps * np.abs(x).max())


def test_pool_kernels_reject_bad_arguments():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 0\) must be at most half of the kernel size"):
        kernels.max_pool2d(x, (3, 1), (1, 1), (2, 0), (1, 1), False)
    with pytest.raises(ValueError, match=r"max_pool2d_backward: indices must be int64"):
        kernels.max_pool2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.int32), x.shape)
    with pytest.raises(ValueError, match=r"avg_pool2d_backward: grad has shape \(1, 1, 3, 3\), the output has shape"):
        kernels.avg_pool2d_backward(np.zeros((1, 1, 3, 3)), x.shape, (2, 2), (2, 2), (0, 0), False, True)


# ---------------------------------------------------------------- batch norm (kernels/conv/batchnorm.h)
@given(st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 9)), st.sampled_from([np.float32, np.float64]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_batch_norm_kernels_match_the_reference(shape, dtype, affine, seed):
    """Within a few roundings: the kernel sums in double, the reference in the input's dtype."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2)) if affine else (None, None)
    g = rng.standard_normal(shape).astype(dtype)
    tol = 64 * np.finfo(dtype).eps * (1 + shape[0] * shape[2]) ** 0.5
    ours, theirs = kernels.batch_norm(x, w, b, 1e-5), ref.batch_norm(x, w, b, 1e-5)
    for a, r in zip(ours, theirs):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * np.abs(r).max(initial=1))
    for needs in [(True, True, True), (True, False, False), (False, True, True)]:
        got = kernels.batch_norm_backward(g, x, *theirs[1:], w, 1e-5, needs)
        want = ref.batch_norm_backward(g, x, *theirs[1:], w, 1e-5, needs)
        for a, r in zip(got, want):
            assert (a is None) == (r is None)
            if r is not None:
                np.testing.assert_allclose(a, r, rtol=tol, atol=tol * np.abs(r).max(initial=1))


@given(st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(0, 40)), st.sampled_from([np.float32, np.float64]),
       st.booleans(), st.booleans(), st.sampled_from([1e-5, 0.5]), st.integers(0, 2**32 - 1))
def test_batch_norm_eval_kernel_equals_the_reference_bit_for_bit(shape, dtype, has_weight, has_bias, eps, seed):
    """The same roundings in the same order: s = gamma / sqrt(var + eps), t = beta - mu s, x s + t."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    mean, var = rng.standard_normal(shape[1]).astype(dtype), rng.uniform(0, 4, shape[1]).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if has_weight else None
    b = rng.standard_normal(shape[1]).astype(dtype) if has_bias else None
    got = kernels.batch_norm_eval(x, mean, var, w, b, eps)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref.batch_norm_eval(x, mean, var, w, b, eps))


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_eval_kernel_across_threads_is_the_closed_form(threads):
    """var 3 and eps 1: s = 1 / 2 exactly, so y = (x - mu) / 2 * gamma + beta holds to the last bit."""
    x = np.random.default_rng(6).integers(-50, 50, (64, 5, 300)).astype(np.float32)
    mean, var = np.arange(5, dtype=np.float32), np.full(5, 3, np.float32)
    w, b = np.array([2, 4, -2, 1, 0.5], np.float32), np.array([1, 0, -1, 2, 3], np.float32)
    y = kernels.batch_norm_eval(x, mean, var, w, b, 1.0, num_threads=threads)
    np.testing.assert_array_equal(y, (x - mean[:, None]) / 2 * w[:, None] + b[:, None])


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_kernels_across_threads_normalize_each_channel(threads):
    x = (np.random.default_rng(5).standard_normal((32, 8, 300)) * 4 - 7).astype(np.float32)
    y, mean, var = kernels.batch_norm(x, None, None, 0.0, num_threads=threads)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.astype(np.float64).var(axis=(0, 2)), 1, rtol=1e-4)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=(0, 2)), rtol=1e-6)


def test_batch_norm_kernels_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"batch_norm: expected x \(N, C, L\), got shape \(2, 3\)"):
        kernels.batch_norm(np.zeros((2, 3)), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(2,\), expected \(3,\)"):
        kernels.batch_norm(np.zeros((2, 3, 4)), np.ones(2), None, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_eval: var has shape \(2,\), expected \(3,\)"):
        kernels.batch_norm_eval(np.zeros((2, 3, 4)), np.zeros(3), np.ones(2), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_eval: mean and var are needed"):
        kernels.batch_norm_eval(np.zeros((2, 3, 4)), None, np.ones(3), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_backward: grad has shape \(2, 3, 5\), x has shape \(2, 3, 4\)"):
        kernels.batch_norm_backward(np.zeros((2, 3, 5)), np.zeros((2, 3, 4)), np.zeros(3), np.ones(3), None, 1e-5)
