"""The GEMM kernels (kernels/gemm.*) against the NumPy reference backend.

Float results are checked against an exact-enough product (float64 for float32 inputs, long
double for float64 ones) with the textbook error bound of a k-term dot product,
|C - AB| <= c k eps (|A| |B|); int8 results must be exact.  Every check runs on every
micro-kernel path the CPU has (portable C, AVX2+FMA 6 x 16 / 6 x 8 tiles, AVX-512 12 x 32 /
12 x 16 tiles), forced with kernels.set_simd."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

pytest.importorskip("tinynn.kernels")
from tinynn import kernels  # noqa: E402
from tinynn.backend import compiled as cy, reference as ref  # noqa: E402

FLOATS = (np.float32, np.float64)
ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
# 1, MR-1, MR, MR+1, NR-1, NR, NR+1 of both tile shapes (AVX2 MR 6, NR 16 / 8; AVX-512 MR 12,
# NR 32 / 16; half-height AVX-512 slivers of <= 6 rows), primes: edge tiles of every kind
SIZES = (1, 2, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 25, 31, 32, 33, 97, 131)
SIMD_PATHS = kernels.simd_paths()   # every path this CPU runs: portable, avx2, avx512


@pytest.fixture(params=SIMD_PATHS)
def simd(request):
    """Run a test on each micro-kernel path this machine has."""
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


@pytest.fixture(params=["direct", "packed"])
def path(request):
    """Run a test on both float GEMM paths: the direct small-product one (gemm/gemm_direct.h, taken
    below 2^20 multiply-adds with k <= 256) and the blocked, packed one (forced by a limit of 0)."""
    previous = kernels._set_gemm_direct_max(1 << 40 if request.param == "direct" else 0)
    yield request.param
    kernels._set_gemm_direct_max(previous)


def rand(shape, dtype, rng):
    return rng.standard_normal(shape).astype(dtype)


def assert_gemm_close(c, a, b):
    """|C - AB| <= 4 k eps (|A||B|) + tiny, with AB computed in float64 for float32 inputs and in
    long double (64-bit significand on x86) for float64 ones up to 2^22 multiply-adds (NumPy's
    long double matmul is a slow plain loop; beyond, float64 BLAS, still far inside the bound)."""
    m, k = a.shape
    wide = np.longdouble if a.dtype == np.float64 and m * k * b.shape[1] <= 1 << 22 else np.float64
    a64, b64 = a.astype(wide), b.astype(wide)
    exact = a64 @ b64
    eps = np.finfo(c.dtype).eps
    bound = 4 * max(k, 1) * eps * (np.abs(a64) @ np.abs(b64)) + np.finfo(c.dtype).tiny
    assert c.shape == exact.shape and c.dtype == a.dtype
    err = np.abs(c.astype(wide) - exact)
    assert np.all(err <= bound), f"max error {err.max()} for shapes {a.shape} x {b.shape}"


def layouts(x):
    """The same matrix as C order, F order, a transposed copy's .T, and a negatively strided view."""
    yield x
    yield np.asfortranarray(x)
    yield np.ascontiguousarray(x.T).T
    yield np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]


# ---------------------------------------------------------------- float matmul
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_sizes_not_multiples_of_blocks(dtype, simd, path):
    rng = np.random.default_rng(1)
    for m in SIZES:
        for n in SIZES:
            k = SIZES[(m * 7 + n) % len(SIZES)]
            a, b = rand((m, k), dtype, rng), rand((k, n), dtype, rng)
            assert_gemm_close(kernels.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_layouts_and_views(dtype, simd, path):
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
def test_matmul_threads_give_identical_results(dtype, simd):
    rng = np.random.default_rng(4)
    a, b = rand((203, 170), dtype, rng), rand((170, 301), dtype, rng)
    c1 = kernels.matmul(a, b, num_threads=1)
    for nt in (2, 3, 4):
        np.testing.assert_array_equal(kernels.matmul(a, b, num_threads=nt), c1)
    assert_gemm_close(c1, a, b)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m, k, n", [(25, 256, 67), (64, 200, 128), (130, 97, 300), (7, 250, 1000)])
def test_vector_paths_agree_bit_for_bit_within_one_kc_block(m, k, n, dtype):
    """With k <= 256 (one KC block on both), AVX2 and AVX-512 give the same bits: every element is
    the FMA chain fma(a_ip, b_pj, acc) over p in order, whatever the tile width or height."""
    paths = [p for p in SIMD_PATHS if p != "portable"]
    if len(paths) < 2:
        pytest.skip("needs two vector paths (AVX2 and AVX-512)")
    rng = np.random.default_rng(m * n + k)
    a, b = rand((m, k), dtype, rng), rand((k, n), dtype, rng)
    results = []
    previous = kernels.set_simd(paths[0])
    try:
        for p in paths:
            kernels.set_simd(p)
            for bv in (b, np.asfortranarray(b)):
                results.append(kernels.matmul(a, bv))
    finally:
        kernels.set_simd(previous)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    assert_gemm_close(results[0], a, b)


# Shapes for the parallel path (gemm/gemm_real.h: tn_gemm_parallel): few rows (units cut across
# columns), many rows (units of row blocks, rounded up to a multiple of the thread count), and
# k x n above the shared-B limit of 4 MB (two jc blocks); none a multiple of the blocks.
PARALLEL_SHAPES = [(37, 1100, 1000), (301, 257, 203), (13, 300, 3001), (1000, 263, 45)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m, k, n", PARALLEL_SHAPES)
def test_matmul_parallel_units_equal_one_thread(m, k, n, dtype, simd):
    """1, 2 and 3 threads give the 1-thread bits (every C element is summed in the same KC
    blocks in the same order, whoever computes it) for row-major A (read in place) and
    transposed A (packed), row-major B and B = W^T."""
    rng = np.random.default_rng(m + k + n)
    a, b = rand((m, k), dtype, rng), rand((k, n), dtype, rng)
    for a_view, b_view in [(a, b), (np.asfortranarray(a), np.asfortranarray(b))]:
        c1 = kernels.matmul(a_view, b_view, num_threads=1)
        for nt in (2, 3):
            np.testing.assert_array_equal(kernels.matmul(a_view, b_view, num_threads=nt), c1)
        assert_gemm_close(c1, a, b)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_linear_parallel_epilogue_equals_one_thread(activation):
    """The fused bias + activation lands on every unit's tiles exactly once, with the bias of
    the right columns (units start mid-row when columns are cut)."""
    rng = np.random.default_rng(8)
    x, w, bias = rand((45, 700), np.float32, rng), rand((530, 700), np.float32, rng), rand((530,), np.float32, rng)
    y1 = kernels.linear(x, w, bias, activation, num_threads=1)
    for nt in (2, 3):
        np.testing.assert_array_equal(kernels.linear(x, w, bias, activation, num_threads=nt), y1)
    np.testing.assert_allclose(y1, ref.linear(x, w, bias, activation), rtol=1e-4, atol=1e-4)


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
def test_linear_forward_and_backward_match_reference(activation, dtype, simd, path):
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


# ---------------------------------------------------------------- direct (unpacked) small products
def _views(x, kind):
    """x (2-D) as a C, F, transposed-copy, negatively strided, sliced or misaligned array."""
    if kind == "C":
        return np.ascontiguousarray(x)
    if kind == "F":
        return np.asfortranarray(x)
    if kind == "negative":
        return np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]
    if kind == "sliced":
        big = np.zeros((2 * x.shape[0] + 1, 3 * x.shape[1] + 1), x.dtype)
        big[1::2, 1::3] = x
        return big[1::2, 1::3]
    buf = np.zeros(x.size * x.itemsize + 1, np.uint8)[1:]                   # "misaligned"
    out = buf.view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


VIEWS = ("C", "F", "negative", "sliced", "misaligned")


@given(m=st.integers(0, 20), k=st.integers(0, 300), n=st.integers(0, 40), dtype=st.sampled_from(FLOATS),
       va=st.sampled_from(VIEWS), vb=st.sampled_from(VIEWS), act=st.sampled_from(ACTIVATIONS),
       with_bias=st.booleans(), simd_level=st.sampled_from(SIMD_PATHS), seed=st.integers(0, 2**16))
def test_direct_path_bit_identical_to_packed(m, k, n, dtype, va, vb, act, with_bias, simd_level, seed):
    """The direct path sums each C_ij in the same order with the same operations as the packed
    one, so both give the same bits (k <= 256; beyond, both run the packed path)."""
    rng = np.random.default_rng(seed)
    a, b, w = rand((m, k), dtype, rng), rand((k, n), dtype, rng), rand((n, k), dtype, rng)
    if a.size:
        a.reshape(-1)[rng.integers(0, a.size, 2)] = (np.nan, -0.0)
    bias = rand((n,), dtype, rng) if with_bias else None
    a2, b2, w2 = _views(a, va), _views(b, vb), _views(w, vb)
    previous_simd = kernels.set_simd(simd_level)
    try:
        results = []
        for limit in (1 << 40, 0):
            previous = kernels._set_gemm_direct_max(limit)
            try:
                results.append((kernels.matmul(a2, b2), kernels.linear(a2, w2, bias, act)))
            finally:
                kernels._set_gemm_direct_max(previous)
    finally:
        kernels.set_simd(previous_simd)
    (c_direct, y_direct), (c_packed, y_packed) = results
    np.testing.assert_array_equal(c_direct, c_packed)
    np.testing.assert_array_equal(y_direct, y_packed)


@pytest.mark.parametrize("dtype", FLOATS)
def test_direct_path_edges_and_fused_epilogue(dtype, simd):
    """Tile edges of the direct path (rows 1..7, columns around 8 and 16, k around the transpose
    step) with bias and every activation, against the float64 reference."""
    rng = np.random.default_rng(21)
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for m in (1, 2, 3, 4, 5, 6, 7, 13):
        for n in (1, 3, 4, 7, 8, 9, 15, 16, 17, 33):
            k = (1, 2, 3, 4, 5, 7, 8, 9, 64, 256)[(m + n) % 10]
            x, w, b = rand((m, k), dtype, rng), rand((n, k), dtype, rng), rand((n,), dtype, rng)
            for act in ACTIVATIONS:
                want = ref.linear(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), act)
                np.testing.assert_allclose(kernels.linear(x, w, b, act), want, **tol)
            assert_gemm_close(kernels.matmul(x, w.T.copy()), x, w.T)


def test_direct_path_writes_only_inside_c():
    """Edge tiles of the direct path write only the valid part of C (checked through out=)."""
    rng = np.random.default_rng(22)
    for dtype in FLOATS:
        a, b = rand((5, 9), dtype, rng), rand((9, 11), dtype, rng)
        big = np.full((12, 30), 7.0, dtype)
        out = big[1:6, 2:24:2]                                    # (5, 11), column stride 2
        assert kernels.matmul(a, b, out=out) is out
        assert_gemm_close(out, a, b)
        assert np.count_nonzero(big == 7.0) == big.size - out.size


# ---------------------------------------------------------------- fast paths of the wrappers
def test_fast_path_takes_exact_arrays_and_checked_path_the_rest():
    """Views the fast path does not take (misaligned, non-native byte order, subclasses) go
    through the checked path: copied when that is valid, refused with the full message if not."""
    rng = np.random.default_rng(23)
    x, w, b = rand((4, 6), np.float32, rng), rand((5, 6), np.float32, rng), rand((5,), np.float32, rng)
    want = ref.linear(x, w, b, "relu")
    np.testing.assert_allclose(kernels.linear(_views(x, "misaligned"), _views(w, "misaligned"), b, "relu"), want,
                               rtol=1e-6)
    mis_b = np.zeros(5 * 4 + 1, np.uint8)[1:].view(np.float32)
    mis_b[:] = b
    np.testing.assert_allclose(kernels.linear(x, w, mis_b, "relu"), want, rtol=1e-6)
    np.testing.assert_allclose(kernels.linear(x, w, b[None, :].T[:, 0].copy(), "relu"), want, rtol=1e-6)
    strided_b = np.repeat(b, 2)[::2]                       # non-contiguous bias: copied
    np.testing.assert_allclose(kernels.linear(x, w, strided_b, "relu"), want, rtol=1e-6)
    swapped = x.astype(x.dtype.newbyteorder())
    with pytest.raises(TypeError, match=r"matmul: expected two float32 or two float64 arrays, got >f4"):
        kernels.matmul(swapped, w.T)
    with pytest.raises(TypeError, match="linear: expected x and weight both float32"):
        kernels.linear(swapped, w)
    np.testing.assert_allclose(cy.linear(swapped, w, b, "relu"), want, rtol=1e-6)   # the backend: reference
    np.testing.assert_allclose(cy.matmul(swapped, w.T), x @ w.T, rtol=1e-6)
    with pytest.raises(ValueError, match="activation"):
        kernels.linear(x, w, None, ["relu"])
    with pytest.raises(ValueError, match=r"linear: expected x \(N, in\) and weight \(out, in\)"):
        kernels.linear(x, w.T)
    with pytest.raises(ValueError, match=r"matmul: shapes \(4, 6\) and \(5, 6\) are not aligned"):
        kernels.matmul(x, w)
    with pytest.raises(ValueError, match="num_threads"):
        kernels.linear(x, w, b, "none", num_threads=0)
    np.testing.assert_array_equal(kernels.linear(x, w, b, "relu", num_threads=2), kernels.linear(x, w, b, "relu"))


def test_same_float_predicates():
    f32, f64 = np.ones((2, 3), np.float32), np.ones((2, 3))
    assert kernels.same_float(f32) and kernels.same_float(f32, f32[:, ::-1], None)
    assert kernels.same_float(f64, f64.T, f64[:1])
    assert not kernels.same_float(f32, f64) and not kernels.same_float(f32, None, f64)
    class Sub(np.ndarray):
        pass
    for bad in (np.ones(3, np.int64), np.ones(3, np.float16), f32.astype(">f4"), f64.view(Sub), [1.0], 1.0, None):
        assert not kernels.same_float(bad)
    assert kernels.same_float_shape(f32, f32.copy()) and not kernels.same_float_shape(f32, f32.T)
    assert not kernels.same_float_shape(f32, f64) and not kernels.same_float_shape(f32, 1.0)


# ---------------------------------------------------------------- fused linear backward
NEEDS = [(True, True, True), (True, False, False), (False, True, True), (False, False, True), (False, False, False)]


def _reference_backward(x, w, y, g, act, needs):
    return ref.linear_backward(x.astype(np.float64), w.astype(np.float64), y.astype(np.float64),
                               g.astype(np.float64), act, needs)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_linear_backward_kernel_matches_reference(act, dtype, simd, path):
    rng = np.random.default_rng(24)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    for (n, d_in, d_out), needs, view in zip([(1, 1, 1), (4, 64, 128), (7, 13, 17), (33, 70, 19), (0, 5, 3), (3, 0, 4)],
                                             NEEDS + NEEDS, VIEWS + VIEWS):
        x, w = rand((n, d_in), dtype, rng), rand((d_out, d_in), dtype, rng)
        y = kernels.linear(x, w, None, act)
        g = rand((n, d_out), dtype, rng)
        args = [_views(x, view), _views(w, view), y, _views(g, view)]
        saved = [a.copy() for a in args]
        got = kernels.linear_backward(*args, act, needs)
        for a, s in zip(args, saved):
            np.testing.assert_array_equal(a, s)                     # inputs untouched
        want = _reference_backward(x, w, y, g, act, needs)
        assert len(got) == 3
        for gv, wv, need in zip(got, want, needs):
            if not need:
                assert gv is None
                continue
            assert gv.dtype == dtype and gv.shape == wv.shape and gv.flags.c_contiguous
            np.testing.assert_allclose(gv, wv, **tol)
        present = [gv for gv in got if gv is not None]
        assert not any(np.shares_memory(p, q) for i, p in enumerate(present) for q in present[i + 1:])
        assert not any(np.shares_memory(p, a) for p in present for a in args)


def test_linear_backward_bias_grad_is_numpys_column_sum_and_the_backend_is_bit_identical():
    """db is summed row after row, as NumPy's d.sum(axis=0) does for a C-contiguous d: the same bits;
    the fused kernel gives the same bits as the composition it replaced (relu_backward, two matmuls)."""
    rng = np.random.default_rng(25)
    for dtype in FLOATS:
        for n, d_in, d_out in [(4, 64, 128), (64, 784, 128), (5, 3, 1), (1, 7, 9), (200, 10, 33)]:
            x, w = rand((n, d_in), dtype, rng), rand((d_out, d_in), dtype, rng)
            g = rand((n, d_out), dtype, rng)
            g[0, 0] = -0.0
            for act in ACTIVATIONS:
                y = kernels.linear(x, w, None, act)
                dx, dw, db = cy.linear_backward(x, w, y, g, act, (True, True, True))
                d = g if act == "none" else getattr(kernels, act + "_backward")(y, g)
                np.testing.assert_array_equal(db, d.sum(axis=0))
                assert np.signbit(db).tolist() == np.signbit(d.sum(axis=0)).tolist()
                np.testing.assert_array_equal(dx, kernels.matmul(d, w))
                np.testing.assert_array_equal(dw, kernels.matmul(d.T, x))


def test_linear_backward_strided_broadcast_and_misaligned_grads():
    rng = np.random.default_rng(26)
    x, w = rand((6, 5), np.float64, rng), rand((4, 5), np.float64, rng)
    for act in ACTIVATIONS:
        y = kernels.linear(x, w, None, act)
        for g in (np.broadcast_to(np.float64(0.5), (6, 4)),              # zero strides (a sum's gradient)
                  rand((6, 8), np.float64, rng)[:, ::2], _views(rand((6, 4), np.float64, rng), "misaligned"),
                  np.asfortranarray(rand((6, 4), np.float64, rng))):
            for ys in (y, np.asfortranarray(y), _views(y, "misaligned")):
                got = kernels.linear_backward(x, w, ys, g, act)
                for gv, wv in zip(got, _reference_backward(x, w, y, np.asarray(g), act, (True, True, True))):
                    np.testing.assert_allclose(gv, wv, rtol=1e-12, atol=1e-14)


def test_linear_backward_rejects_bad_input():
    x, w, g = np.ones((3, 4), np.float32), np.ones((2, 4), np.float32), np.ones((3, 2), np.float32)
    y = np.ones((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"linear_backward: expected x, weight and grad all float32 or all float64, "
                                        r"got float32, float64 and float32"):
        kernels.linear_backward(x, w.astype(np.float64), y, g)
    with pytest.raises(TypeError, match="linear_backward: expected numpy.ndarrays"):
        kernels.linear_backward(x, w, y, g.tolist())
    with pytest.raises(TypeError, match="int64"):
        kernels.linear_backward(x.astype(np.int64), w.astype(np.int64), y, g.astype(np.int64))
    with pytest.raises(ValueError, match=r"linear_backward: expected x \(N, in\) and weight \(out, in\), got \(3, 4\) and \(2, 5\)"):
        kernels.linear_backward(x, np.ones((2, 5), np.float32), y, g)
    with pytest.raises(ValueError, match=r"linear_backward: grad has shape \(3, 3\).*\(3, 2\)"):
        kernels.linear_backward(x, w, y, np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match=r"linear_backward: y has shape \(2, 3\) but grad has shape \(3, 2\)"):
        kernels.linear_backward(x, w, y.T.copy(), g, "relu")
    with pytest.raises(TypeError, match="linear_backward: y must be a float32 ndarray, got NoneType"):
        kernels.linear_backward(x, w, None, g, "tanh")
    with pytest.raises(TypeError, match="linear_backward: y must be a float32 ndarray, got float64"):
        kernels.linear_backward(x, w, y.astype(np.float64), g, "sigmoid")
    with pytest.raises(ValueError, match="linear_backward: unknown activation 'gelu'"):
        kernels.linear_backward(x, w, y, g, "gelu")
    with pytest.raises(ValueError, match="linear_backward: needs must hold 3 flags"):
        kernels.linear_backward(x, w, y, g, "relu", (True, True))
    with pytest.raises(ValueError, match="num_threads"):
        kernels.linear_backward(x, w, y, g, "relu", (True, True, True), num_threads=0)
    dx, dw, db = kernels.linear_backward(x, w, None, g, "none", [1, 0, True])     # y unused for "none"; any sequence
    assert dw is None and dx.shape == (3, 4) and db.shape == (2,)
