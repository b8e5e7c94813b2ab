"""softmax / log_softmax (+ backward) and fused cross-entropy kernels against reference."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinynn as tn
from tinynn.backend import reference as ref

kernels = pytest.importorskip("tinynn.kernels")
DTYPES = (np.float32, np.float64)
SHAPES = ((0, 5), (1, 1), (1, 7), (7, 1), (5, 8), (4, 9), (3, 15), (2, 17), (3, 1023), (2, 1025), (13, 31))


@pytest.fixture(params=kernels.simd_paths())
def simd(request):
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


def close(got, expected, dtype, scale=1.0):
    eps = np.finfo(dtype).eps
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=16 * eps, atol=16 * eps * scale)


def logits(shape, dtype, rng, scale=4.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_family_shapes(simd, dtype):
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        x = logits(shape, dtype, rng)
        g = logits(shape, dtype, rng, 1.0)
        keep = x.copy(), g.copy()
        for name in ("softmax", "log_softmax"):
            y_ref = getattr(ref, name)(x)
            close(getattr(kernels, name)(x), y_ref, dtype, scale=np.abs(x).max(initial=1))
            close(getattr(kernels, name + "_backward")(y_ref, g), getattr(ref, name + "_backward")(y_ref, g),
                  dtype, scale=np.abs(g).max(initial=1))
        np.testing.assert_array_equal(x, keep[0])
        np.testing.assert_array_equal(g, keep[1])


def test_empty_rows_give_empty_results():
    x = np.zeros((3, 0), np.float32)
    assert kernels.softmax(x).shape == (3, 0) and kernels.log_softmax_backward(x, x).shape == (3, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_layouts_and_ndim(simd, dtype):
    rng = np.random.default_rng(1)
    base = logits((6, 11, 9), dtype, rng)
    for x in (base, np.asfortranarray(base), base.transpose(1, 0, 2), base[:, ::2, 1:], base[0], base[0, 0]):
        close(kernels.softmax(x), ref.softmax(x), dtype)
        close(kernels.log_softmax(x), ref.log_softmax(x), dtype, scale=np.abs(x).max())


def test_softmax_other_axis_is_refused_by_kernel_but_served_by_backend():
    x = np.random.default_rng(2).standard_normal((4, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="last axis"):
        kernels.softmax(x, axis=0)
    with tn.use_backend("cython"):
        b = tn.backend.active
        close(b.softmax(x, axis=0), ref.softmax(x, axis=0), np.float32)
        close(b.log_softmax(x, axis=0), ref.log_softmax(x, axis=0), np.float32, scale=4)
        close(b.softmax(x, axis=1), ref.softmax(x, axis=1), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extremes_stay_finite(simd, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4], [0.0, 0.0, 1e4]], dtype=dtype)
    for name in ("softmax", "log_softmax"):
        y = getattr(kernels, name)(x)
        assert np.all(np.isfinite(y))
        close(y, getattr(ref, name)(x), dtype, scale=1e4)
    loss, probs = kernels.cross_entropy(x, np.array([1, 0, 2, 0]), 0.1)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(probs))
    lr, pr = ref.cross_entropy(x, np.array([1, 0, 2, 0]), 0.1)
    close(loss, lr, dtype, scale=1e4)
    close(probs, pr, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_matches_reference(simd, dtype, smoothing):
    rng = np.random.default_rng(3)
    for n, c in ((0, 4), (1, 1), (1, 7), (9, 8), (17, 9), (5, 1025), (64, 10)):
        x = logits((n, c), dtype, rng)
        t = rng.integers(0, c, n)
        keep = x.copy()
        loss, probs = kernels.cross_entropy(x, t, smoothing)
        lr, pr = ref.cross_entropy(x, t, smoothing)
        close(loss, lr, dtype, scale=np.abs(x).max(initial=1))
        close(probs, pr, dtype)
        g = logits(n, dtype, rng, 1.0)
        close(kernels.cross_entropy_backward(probs, t, smoothing, g), ref.cross_entropy_backward(pr, t, smoothing, g), dtype)
        np.testing.assert_array_equal(x, keep)


def test_cross_entropy_target_dtypes_and_broadcast_grad():
    rng = np.random.default_rng(4)
    x = logits((6, 5), np.float32, rng)
    t = np.array([0, 4, 2, 3, 1, 1])
    expected = ref.cross_entropy(x, t)[0]
    for tt in (t.astype(np.int32), t.astype(np.uint8), t.astype(np.int16), list(t)):
        close(kernels.cross_entropy(x, tt)[0], expected, np.float32, 4)
    probs = kernels.cross_entropy(x, t)[1]
    g = np.broadcast_to(np.float32(0.25), (6,))  # what the mean-reduced op passes
    close(kernels.cross_entropy_backward(probs, t, 0.0, g), ref.cross_entropy_backward(probs, t, 0.0, g), np.float32)
    strided = np.arange(12, dtype=np.float32)[::2]
    close(kernels.cross_entropy_backward(probs, t, 0.0, strided), ref.cross_entropy_backward(probs, t, 0.0, strided),
          np.float32, 12)


def test_threads_split_rows(simd):
    before = tn.get_num_threads()
    rng = np.random.default_rng(5)
    x = logits((301, 257), np.float32, rng)
    t = rng.integers(0, 257, 301)
    try:
        for threads in (1, 2, 3):
            tn.set_num_threads(threads)
            close(kernels.softmax(x), ref.softmax(x), np.float32)
            close(kernels.cross_entropy(x, t)[0], ref.cross_entropy(x, t)[0], np.float32, 16)
    finally:
        tn.set_num_threads(before)


@given(x=hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
                    elements=st.floats(-1e4, 1e4, allow_nan=False, width=32)),
       smoothing=st.sampled_from([0.0, 0.05, 0.5]), data=st.data())
def test_hypothesis_cross_entropy_and_softmax(x, smoothing, data):
    n, c = x.shape
    t = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    scale = np.abs(x).max() + 1
    loss, probs = kernels.cross_entropy(x, t, smoothing)
    lr, pr = ref.cross_entropy(x, t, smoothing)
    close(loss, lr, x.dtype, scale)
    close(probs, pr, x.dtype)
    close(kernels.log_softmax(x), ref.log_softmax(x), x.dtype, scale)
    assert np.all(np.isfinite(kernels.softmax(x)))


def test_bad_inputs():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(IndexError, match="out of range"):
        kernels.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(IndexError, match="-1"):
        kernels.cross_entropy(x, np.array([0, -1, 1]))
    with pytest.raises(IndexError):
        kernels.cross_entropy_backward(x, np.array([0, 1, 9]), 0.0, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="integer"):
        kernels.cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        kernels.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        kernels.cross_entropy(np.zeros(4, np.float32), np.array([0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        kernels.cross_entropy(x, np.array([0, 1, 2]), 1.5)
    with pytest.raises(TypeError):
        kernels.cross_entropy(x.astype(np.int32), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="grad"):
        kernels.cross_entropy_backward(x, np.array([0, 1, 2]), 0.0, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="0-d"):
        kernels.softmax(np.float32(1.0))
    with pytest.raises(ValueError, match="shape"):
        kernels.softmax_backward(x, np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="float64"):
        kernels.log_softmax_backward(x, x.astype(np.float64))
    with pytest.raises(TypeError):
        kernels.softmax([[1.0, 2.0]])


def _misaligned(a):
    """A copy of a whose data pointer is one byte off its dtype's alignment."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_and_checked_paths_agree(simd, dtype):
    """Ready inputs (C-contiguous, aligned, int64 targets) skip np.require; every other layout takes
    the checked path: both must give bit-identical results."""
    rng = np.random.default_rng(11)
    x = logits((9, 13), dtype, rng)
    t = rng.integers(0, 13, 9)
    g = rng.standard_normal(9).astype(dtype)
    gx = logits((9, 13), dtype, rng)
    for e in (0.0, 0.1):
        loss, probs = kernels.cross_entropy(x, t, e)
        dx = kernels.cross_entropy_backward(probs, t, e, g)
        for xx in (_misaligned(x), np.asfortranarray(x), np.concatenate([x, x], 1)[:, ::2] * 0 + x):
            l2, p2 = kernels.cross_entropy(xx, t, e)
            np.testing.assert_array_equal(l2, loss)
            np.testing.assert_array_equal(p2, probs)
        for tt in (_misaligned(t), np.repeat(t, 2)[::2], t.astype(np.int32)):
            np.testing.assert_array_equal(kernels.cross_entropy(x, tt, e)[0], loss)
            np.testing.assert_array_equal(kernels.cross_entropy_backward(probs, tt, e, g), dx)
        for gg in (_misaligned(g), np.repeat(g, 2)[::2], g[::-1].copy()[::-1]):
            np.testing.assert_array_equal(kernels.cross_entropy_backward(probs, t, e, gg), dx)
        other = np.float64 if dtype == np.float32 else np.float32   # converted to probs' dtype
        np.testing.assert_array_equal(kernels.cross_entropy_backward(probs, t, e, g.astype(other)),
                                      kernels.cross_entropy_backward(probs, t, e, g.astype(other).astype(dtype)))
        np.testing.assert_array_equal(kernels.cross_entropy_backward(_misaligned(probs), t, e, g), dx)
    y = kernels.softmax(x)
    for fn, bw, inp in ((kernels.softmax, kernels.softmax_backward, y),
                        (kernels.log_softmax, kernels.log_softmax_backward, kernels.log_softmax(x))):
        np.testing.assert_array_equal(fn(_misaligned(x)), fn(x))
        np.testing.assert_array_equal(fn(x, axis=1), fn(x))
        np.testing.assert_array_equal(bw(_misaligned(inp), gx), bw(inp, gx))
        np.testing.assert_array_equal(bw(inp, np.asfortranarray(gx)), bw(inp, gx))


def test_fast_path_still_refuses_bad_inputs():
    x = np.zeros((3, 4), np.float32)
    t = np.array([0, 1, 2], np.int64)
    with pytest.raises(ValueError, match="shape"):
        kernels.cross_entropy(x, np.array([0, 1, 2, 3], np.int64))
    with pytest.raises(ValueError, match="shape"):
        kernels.cross_entropy(x, t.reshape(3, 1))
    with pytest.raises(IndexError, match="row 2"):
        kernels.cross_entropy(x, np.array([0, 1, 4], np.int64))
    with pytest.raises(ValueError, match="grad"):
        kernels.cross_entropy_backward(x, t, 0.0, np.ones((3, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        kernels.cross_entropy_backward(np.zeros((3, 4, 1), np.float32), t, 0.0, np.ones(3, np.float32))
    with pytest.raises(ValueError, match="last axis"):
        kernels.softmax(x, axis=0)
    with pytest.raises(TypeError, match="float64"):
        kernels.softmax_backward(x, x.astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        kernels.log_softmax_backward(x, np.zeros((3, 5), np.float32))


def test_non_native_byte_order_is_refused_not_misread():
    """A big-endian (byte-swapped) float32 array has NumPy's float32 type number; the fast paths once
    read its bytes as native floats.  Now the kernels refuse it (TypeError) and the backend serves it
    from the reference."""
    rng = np.random.default_rng(40)
    x = logits((3, 5), np.float32, rng)
    sx = x.astype(x.dtype.newbyteorder())
    t = np.array([0, 4, 2])
    for call in (lambda: kernels.softmax(sx), lambda: kernels.log_softmax(sx), lambda: kernels.cross_entropy(sx, t),
                 lambda: kernels.softmax_backward(x, sx), lambda: kernels.cross_entropy_backward(x, t, 0.0, sx[:, 0])):
        with pytest.raises(TypeError, match=">f4"):
            call()
    with tn.use_backend("cython"):
        B = tn.backend.active
        np.testing.assert_allclose(B.softmax(sx), ref.softmax(x), rtol=1e-6)
        np.testing.assert_allclose(B.cross_entropy(sx, t)[0], ref.cross_entropy(x, t)[0], rtol=1e-6)
    close(kernels.cross_entropy(x, t.astype(">i8"))[0], ref.cross_entropy(x, t)[0], np.float32, scale=10)
