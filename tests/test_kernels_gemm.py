"""The GEMM kernels (kernels/gemm.*) against the NumPy reference backend.

Float results are checked against a float64 product with the textbook error bound of a
k-term dot product, |C - AB| <= c k eps (|A| |B|); int8 results must be exact.  Every check
runs on both micro-kernel paths (AVX2+FMA when the CPU has it, and portable C)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

pytest.importorskip("tinynn.kernels")
from tinynn import kernels  # noqa: E402
from tinynn.backend import cython as cy, numpy_ref as ref  # noqa: E402

FLOATS = (np.float32, np.float64)
ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
# 1, MR-1, MR, MR+1, NR-1, NR, NR+1, primes: edge tiles of every kind
SIZES = (1, 2, 5, 6, 7, 8, 9, 13, 15, 16, 17, 31, 97, 131)
SIMD_PATHS = ["portable"] + (["avx2+fma"] if kernels.info()["simd_available"] == "avx2+fma" else [])


@pytest.fixture(params=SIMD_PATHS)
def simd(request):
    """Run a test on each micro-kernel path this machine has."""
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


def rand(shape, dtype, rng):
    return rng.standard_normal(shape).astype(dtype)


def assert_gemm_close(c, a, b):
    """|C - AB| <= 4 k eps (|A||B|) + tiny, with AB computed in float64."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact = a64 @ b64
    eps = np.finfo(c.dtype).eps
    bound = 4 * max(a.shape[1], 1) * eps * (np.abs(a64) @ np.abs(b64)) + np.finfo(c.dtype).tiny
    assert c.shape == exact.shape and c.dtype == a.dtype
    err = np.abs(c.astype(np.float64) - exact)
    assert np.all(err <= bound), f"max error {err.max()} for shapes {a.shape} x {b.shape}"


def layouts(x):
    """The same matrix as C order, F order, a transposed copy's .T, and a negatively strided view."""
    yield x
    yield np.asfortranarray(x)
    yield np.ascontiguousarray(x.T).T
    yield np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]


# ---------------------------------------------------------------- float matmul
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_sizes_not_multiples_of_blocks(dtype, simd):
    rng = np.random.default_rng(1)
    for m in SIZES:
        for n in SIZES:
            k = SIZES[(m * 7 + n) % len(SIZES)]
            a, b = rand((m, k), dtype, rng), rand((k, n), dtype, rng)
            assert_gemm_close(kernels.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_layouts_and_views(dtype, simd):
    rng = np.random.default_rng(2)
    a, b = rand((23, 19), dtype, rng), rand((19, 29), dtype, rng)
    for a2 in layouts(a):
        for b2 in layouts(b):
            assert_gemm_close(kernels.matmul(a2, b2), a, b)
    big_a, big_b = rand((50, 60), dtype, rng), rand((70, 90), dtype, rng)
    sa, sb = big_a[3:40:2, 50:5:-3], big_b[::-4, 1::5]      # sliced, non-contiguous, negative strides
    sb = sb[: sa.shape[1]]
    assert_gemm_close(kernels.matmul(sa, sb), sa, sb)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_crosses_every_cache_block(dtype, simd):
    rng = np.random.default_rng(3)
    for m, k, n in [(150, 300, 40), (5, 520, 7), (3, 3, 3100), (80, 9, 75)]:   # > MC, > KC (twice), > NC
        a, b = rand((m, k), dtype, rng), rand((k, n), dtype, rng)
        assert_gemm_close(kernels.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_zero_size_and_one_element(dtype):
    for m, k, n in [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0), (1, 1, 1)]:
        a, b = np.ones((m, k), dtype), np.full((k, n), 2, dtype)
        c = kernels.matmul(a, b)
        assert c.shape == (m, n) and c.dtype == dtype
        np.testing.assert_array_equal(c, np.full((m, n), 2 * k, dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_threads_give_identical_results(dtype):
    rng = np.random.default_rng(4)
    a, b = rand((203, 170), dtype, rng), rand((170, 301), dtype, rng)
    c1 = kernels.matmul(a, b, num_threads=1)
    for nt in (2, 3, 4):
        np.testing.assert_array_equal(kernels.matmul(a, b, num_threads=nt), c1)
    assert_gemm_close(c1, a, b)


def test_matmul_out_argument():
    rng = np.random.default_rng(5)
    a, b = rand((20, 30), np.float32, rng), rand((30, 10), np.float32, rng)
    out = np.full((10, 20), np.nan, np.float32).T                         # F-ordered, strided
    assert kernels.matmul(a, b, out=out) is out
    assert_gemm_close(out, a, b)
    sq = rand((16, 16), np.float64, rng)
    expected = sq @ sq
    res = kernels.matmul(sq, sq, out=sq)                                   # out overlaps both inputs
    assert res is sq
    np.testing.assert_allclose(sq, expected, rtol=1e-12, atol=1e-12)


@given(m=st.integers(0, 40), k=st.integers(0, 40), n=st.integers(0, 40),
       dtype=st.sampled_from(FLOATS), ta=st.booleans(), tb=st.booleans(), seed=st.integers(0, 2**16))
def test_matmul_hypothesis_shapes(m, k, n, dtype, ta, tb, seed):
    rng = np.random.default_rng(seed)
    a = rand((k, m), dtype, rng).T if ta else rand((m, k), dtype, rng)
    b = rand((n, k), dtype, rng).T if tb else rand((k, n), dtype, rng)
    assert_gemm_close(kernels.matmul(a, b), a, b)


def test_matmul_special_values_propagate():
    a = np.array([[np.inf, 1.0], [np.nan, 0.0]], np.float32)
    b = np.eye(2, dtype=np.float32)
    c = kernels.matmul(a, b)
    assert np.isnan(c[0, 0]) or np.isinf(c[0, 0])   # inf * 0 in the product gives nan, like BLAS
    assert np.isnan(c[1, 0])


# ---------------------------------------------------------------- bad input
def test_matmul_rejects_bad_input():
    f32, f64 = np.ones((3, 4), np.float32), np.ones((4, 2), np.float64)
    with pytest.raises(TypeError, match="float32.*float64"):
        kernels.matmul(f32, f64)
    with pytest.raises(TypeError, match="int64"):
        kernels.matmul(np.ones((3, 4), np.int64), np.ones((4, 2), np.int64))
    with pytest.raises(TypeError):
        kernels.matmul([[1.0]], [[1.0]])
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 2\)"):
        kernels.matmul(f32, np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        kernels.matmul(np.ones(4, np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        kernels.matmul(np.ones((2, 3, 4), np.float32), np.ones((4, 2), np.float32))
    b = np.ones((4, 2), np.float32)
    ro = np.zeros((3, 2), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        kernels.matmul(f32, b, out=ro)
    with pytest.raises(ValueError, match="shape"):
        kernels.matmul(f32, b, out=np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        kernels.matmul(f32, b, out=np.zeros((3, 2), np.float64))
    with pytest.raises(ValueError, match="num_threads"):
        kernels.matmul(f32, b, num_threads=0)
    with pytest.raises(ValueError, match="activation"):
        kernels.linear(f32, np.ones((2, 4), np.float32), None, "gelu")
    with pytest.raises(TypeError, match="bias"):
        kernels.linear(f32, np.ones((2, 4), np.float32), np.ones(2, np.float64))
    with pytest.raises(ValueError, match="bias"):
        kernels.linear(f32, np.ones((2, 4), np.float32), np.ones(3, np.float32))
    with pytest.raises(TypeError, match="int16"):
        kernels.int8_matmul(np.ones((2, 2), np.int8), np.ones((2, 2), np.int16))
    with pytest.raises(ValueError, match="aligned"):
        kernels.int8_matmul(np.ones((2, 3), np.int8), np.ones((2, 2), np.int8))
    with pytest.raises(ValueError, match="row_scale"):
        kernels.int8_linear(np.ones((2, 3), np.int8), np.ones((4, 3), np.int8), np.ones(3), 1.0)


# ---------------------------------------------------------------- fused linear
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_linear_forward_and_backward_match_reference(activation, dtype, simd):
    rng = np.random.default_rng(6)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for n, d_in, d_out in [(1, 1, 1), (7, 13, 17), (33, 70, 19)]:
        x = rand((n, d_in), dtype, rng)
        w = rand((d_out, d_in), dtype, rng)
        for bias in (None, rand((d_out,), dtype, rng)):
            y = cy.linear(x, w, bias, activation)
            y_ref = ref.linear(x, w, bias, activation)
            assert y.dtype == y_ref.dtype
            np.testing.assert_allclose(y, y_ref, **tol)
            g = rand(y.shape, dtype, rng)
            for got, want in zip(cy.linear_backward(x, w, y, g, activation),
                                 ref.linear_backward(x, w, y_ref, g, activation)):
                assert got.shape == want.shape and got.dtype == want.dtype
                np.testing.assert_allclose(got, want, **tol)


def test_linear_strided_inputs_and_zero_features():
    rng = np.random.default_rng(7)
    x = rand((20, 90), np.float64, rng)[::2, ::3]       # (10, 30), strided
    w = rand((30, 40), np.float64, rng).T[::4]        # (10, 30), column-major rows
    b = rand((10,), np.float64, rng)
    np.testing.assert_allclose(kernels.linear(x, w, b, "tanh"), ref.linear(x, w, b, "tanh"), rtol=1e-12)
    x0, w0 = np.zeros((3, 0)), np.zeros((4, 0))
    np.testing.assert_allclose(kernels.linear(x0, w0, b[:4], "sigmoid"), ref.linear(x0, w0, b[:4], "sigmoid"))


# ---------------------------------------------------------------- backend matmul semantics
@pytest.mark.parametrize("shapes", [((5,), (5,)), ((5,), (5, 3)), ((4, 5), (5,)), ((2, 4, 5), (5, 3)),
                                    ((40, 50), (3, 50, 60)), ((2, 1, 40, 50), (3, 50, 60)), ((6,), (2, 6, 7))])
@pytest.mark.parametrize("dtype", FLOATS)
def test_backend_matmul_has_np_matmul_semantics(shapes, dtype):
    rng = np.random.default_rng(8)
    a, b = rand(shapes[0], dtype, rng), rand(shapes[1], dtype, rng)
    c, want = cy.matmul(a, b), np.matmul(a, b)
    assert c.shape == want.shape and c.dtype == want.dtype
    np.testing.assert_allclose(c, want, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_backend_matmul_falls_back_for_other_dtypes():
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(cy.matmul(a, a.T), a @ a.T)
    m = cy.matmul(np.ones((2, 3), np.float32), np.ones((3, 2), np.float64))
    assert m.dtype == np.float64
    with pytest.raises(ValueError):
        cy.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


# ---------------------------------------------------------------- int8
def int8_ref(a, b):
    return a.astype(np.int32) @ b.astype(np.int32)


def test_int8_matmul_exact_over_full_range(simd):
    rng = np.random.default_rng(9)
    for m, k, n in [(1, 1, 1), (5, 7, 17), (7, 2, 15), (6, 1, 16), (97, 131, 33), (100, 1025, 20), (13, 3, 3100)]:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        b = rng.integers(-128, 128, (k, n), dtype=np.int8)
        np.testing.assert_array_equal(kernels.int8_matmul(a, b), int8_ref(a, b))
        np.testing.assert_array_equal(kernels.int8_matmul(np.asfortranarray(a), b.T.copy().T), int8_ref(a, b))


def test_int8_matmul_extremes(simd):
    k = 3000
    lo = np.full((7, k), -128, np.int8)
    np.testing.assert_array_equal(kernels.int8_matmul(lo, lo.T.copy()), np.full((7, 7), k * 16384, np.int32))
    hi = np.full((k, 17), 127, np.int8)
    np.testing.assert_array_equal(kernels.int8_matmul(lo, hi), np.full((7, 17), -k * 128 * 127, np.int32))
    mixed = np.where(np.arange(k * 5).reshape(5, k) % 3 == 0, -128, 127).astype(np.int8)
    np.testing.assert_array_equal(kernels.int8_matmul(mixed, mixed[:, ::-1].T), int8_ref(mixed, mixed[:, ::-1].T))


def test_int8_matmul_views_threads_and_empty():
    rng = np.random.default_rng(10)
    big = rng.integers(-128, 128, (90, 120), dtype=np.int8)
    a, b = big[::3, ::-2], big[5:65, 1::4]
    want = int8_ref(a, b)
    for nt in (1, 2, 3):
        np.testing.assert_array_equal(kernels.int8_matmul(a, b, num_threads=nt), want)
    for m, k, n in [(0, 3, 4), (3, 0, 4), (3, 4, 0)]:
        c = kernels.int8_matmul(np.ones((m, k), np.int8), np.ones((k, n), np.int8))
        assert c.dtype == np.int32 and c.shape == (m, n) and not c.any()


@given(m=st.integers(0, 30), k=st.integers(0, 70), n=st.integers(0, 40), seed=st.integers(0, 2**16))
def test_int8_matmul_hypothesis(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)
    np.testing.assert_array_equal(kernels.int8_matmul(a, b), int8_ref(a, b))


def test_quantize_rows_matches_reference():
    x = np.array([[0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e6, -1e6, 0.0, 3.49]], np.float32)
    for scale, zp in [(1.0, 0), (np.array([1.0], np.float32), 3), (0.5, -2)]:
        np.testing.assert_array_equal(kernels.quantize_rows(x, scale, zp), ref.quantize_rows(x, scale, zp))
    rng = np.random.default_rng(11)
    for dtype in FLOATS:
        x = (rng.standard_normal((9, 33)) * 50).astype(dtype)
        s = rng.uniform(0.1, 2.0, 9).astype(np.float32)
        np.testing.assert_array_equal(kernels.quantize_rows(x, s), ref.quantize_rows(x, s))
        np.testing.assert_array_equal(cy.quantize_rows(x[:, ::-2], s, 5), ref.quantize_rows(x[:, ::-2], s, 5))


@pytest.mark.parametrize("relu", [False, True])
def test_requantize_and_int8_linear_match_reference(relu, simd):
    rng = np.random.default_rng(12)
    for n, d_in, d_out in [(1, 1, 1), (7, 13, 17), (40, 1100, 23)]:
        xq = rng.integers(-128, 128, (n, d_in), dtype=np.int8)
        wq = rng.integers(-128, 128, (d_out, d_in), dtype=np.int8)
        rs = rng.uniform(0.001, 0.1, n).astype(np.float32)
        cs = rng.uniform(0.001, 0.1, d_out).astype(np.float32)
        for bias in (None, rng.standard_normal(d_out).astype(np.float32)):
            want = ref.int8_linear(xq, wq, rs, cs, bias, relu)
            np.testing.assert_allclose(kernels.int8_linear(xq, wq, rs, cs, bias, relu), want, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(cy.int8_linear(xq, wq, rs, cs, bias, relu), want, rtol=1e-6, atol=1e-6)
            acc = int8_ref(xq, wq.T)
            np.testing.assert_allclose(cy.requantize(acc, rs, cs, bias, relu),
                                       ref.requantize(acc, rs, cs, bias, relu), rtol=1e-6, atol=1e-6)
    acc = rng.integers(-1000, 1000, (4, 5)).astype(np.int32)
    np.testing.assert_allclose(kernels.requantize(acc, 0.5, 0.25), ref.requantize(acc, 0.5, 0.25), rtol=1e-6)


def test_matmul_strided_negative_and_misaligned_out():
    rng = np.random.default_rng(13)
    a, b = rand((37, 50), np.float64, rng), rand((50, 29), np.float64, rng)
    big = np.full((80, 70), 7.0)
    out = big[::-2, ::2][:37, :29]                       # negative row stride, every other column
    assert kernels.matmul(a, b, out=out) is out
    assert_gemm_close(out, a, b)
    assert np.count_nonzero(big == 7.0) == big.size - out.size   # nothing outside out was touched
    misaligned = np.zeros(37 * 29 * 8 + 1, np.uint8)[1:].view(np.float64).reshape(37, 29)
    assert not misaligned.flags.aligned
    assert kernels.matmul(a, b, out=misaligned) is misaligned
    assert_gemm_close(misaligned, a, b)
    x = np.zeros(5 * 10 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(5, 10)
    x[:] = 1
    np.testing.assert_array_equal(kernels.matmul(x, np.ones((10, 3), np.float32)), np.full((5, 3), 10, np.float32))


# ---------------------------------------------------------------- minmax (one-pass range)
def _same(got, expected):
    assert type(got) is type(expected)
    assert (np.isnan(got) and np.isnan(expected)) or got == expected


@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       shape=st.sampled_from([(1,), (7,), (8,), (9,), (17,), (3, 5), (13, 31), (2, 1025)]),
       layout=st.sampled_from(["c", "f", "strided", "reversed"]), simd=st.sampled_from(["auto", "portable"]))
def test_minmax_matches_reference(data, dtype, shape, layout, simd):
    n = int(np.prod(shape))
    finite = st.floats(-1e30, 1e30, allow_nan=False)
    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
    values = data.draw(st.lists(finite | special, min_size=n, max_size=n))
    x = np.array(values, dtype=dtype).reshape(shape)
    if layout == "f":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=-1)[..., ::2]
    elif layout == "reversed":
        x = x[..., ::-1]
    previous = kernels.set_simd(simd)
    try:
        lo, hi = kernels.minmax(x)
        rlo, rhi = ref.minmax(x)
        _same(lo, rlo)
        _same(hi, rhi)
        assert cy.minmax(x) == (lo, hi) or np.isnan(lo)
    finally:
        kernels.set_simd(previous)


def test_minmax_nan_anywhere_and_misaligned():
    x = np.arange(37, dtype=np.float32) - 5
    for i in (0, 7, 8, 36):
        y = x.copy()
        y[i] = np.nan
        lo, hi = kernels.minmax(y)
        assert np.isnan(lo) and np.isnan(hi)
    buf = np.zeros(x.nbytes + 1, np.uint8)
    mis = np.frombuffer(buf.data, np.float32, count=x.size, offset=1)
    mis[...] = x
    assert kernels.minmax(mis) == (np.float32(-5), np.float32(31))


def test_minmax_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        kernels.minmax(np.zeros((3, 0), np.float32))
    with pytest.raises(ValueError, match="empty"):
        ref.minmax(np.zeros(0))
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.minmax(np.zeros(3, np.int32))
    with pytest.raises(TypeError, match="ndarray"):
        kernels.minmax([1.0, 2.0])
    assert cy.minmax(np.array([3, -1, 2])) == (-1, 3)          # ints: the reference


@given(data=st.data(), n=st.sampled_from([1, 15, 16, 17, 31, 32, 33, 100]), m=st.integers(1, 3),
       zp=st.integers(-128, 127), log_scale=st.floats(-6, 3), simd=st.sampled_from(["auto", "portable"]))
def test_quantize_rows_vector_body_exact(data, n, m, zp, log_scale, simd):
    """Contiguous float32 rows go through a 16-wide vector body: int8 values identical to the
    reference, NaN -> 0, +-inf and huge values clamped, ties rounded to even."""
    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.5, 1.5, -2.5, 1e30, -1e30, 0.0])
    values = data.draw(st.lists(st.floats(-1e4, 1e4, allow_nan=False) | special, min_size=m * n, max_size=m * n))
    x = np.array(values, np.float32).reshape(m, n)
    s = np.float32(10.0 ** log_scale)
    previous = kernels.set_simd(simd)
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            expected = ref.quantize_rows(x, s, zp)
            expected[np.isnan(x)] = 0   # (the reference's NaN cast is platform-defined; the kernel's is 0)
            np.testing.assert_array_equal(kernels.quantize_rows(x, s, zp), expected)
            per_row = np.full(m, s, np.float32)
            np.testing.assert_array_equal(kernels.quantize_rows(x, per_row, zp), expected)
    finally:
        kernels.set_simd(previous)
