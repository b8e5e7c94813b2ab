"""The convolution kernels (kernels/conv: im2col / col2im on the blocked GEMM) against the NumPy
reference backend, on every SIMD path the CPU has, in float32 and float64, over strides, paddings
(asymmetric too), dilations, groups (depthwise too), pointwise kernels, odd sizes and batch 1, on
one thread and across the batch.

A convolution output is a K-term dot product (K = C/G kh kw), so the float bound is GEMM's:
|y - exact| <= c K eps (|W| * |x|), with `exact` the reference in float64 (float32 inputs) and the
bound computed by the reference convolution of |x| with |W|."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("tinynn.kernels")
import tinynn as tn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import kernels  # noqa: E402
from tinynn.backend import reference as ref  # noqa: E402
from tinynn.testing import assert_backends_match  # noqa: E402

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=kernels.simd_paths())
def simd(request):
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


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
def test_conv_kernels_match_the_reference_within_the_dot_product_bound(simd, geometry, dtype, seed):
    xs, ws, *rest = geometry
    check_all_three(xs, ws, tuple(rest), dtype, np.random.default_rng(seed))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ws, geometry", [
    ((32, 16, 3, 3), ((1, 1), (1, 1, 1, 1), (1, 1), 1)),   # across the batch on 2 threads
    ((16, 16, 1, 1), ((1, 1), (0, 0, 0, 0), (1, 1), 1)),   # pointwise: no im2col
    ((16, 4, 3, 3), ((2, 1), (1, 0, 2, 1), (1, 2), 4)),    # groups, asymmetric padding, stride, dilation
])
@pytest.mark.parametrize("batch, threads", [(5, 2), (1, 2), (5, 1)])
def test_large_convolutions_on_one_and_two_threads(dtype, ws, geometry, batch, threads):
    """Large enough to run in parallel (across the batch, or inside each GEMM for a batch of one)."""
    xs = (batch, ws[1] * geometry[3], 24, 23)
    check_all_three(xs, ws, geometry, dtype, np.random.default_rng(batch), num_threads=threads)


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
