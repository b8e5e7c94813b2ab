"""Activation kernels (tinynn.kernels relu/sigmoid/tanh and their backward) against reference.

Every kernel runs on every SIMD path the CPU has (portable C, AVX2+FMA, AVX-512),
float32 and float64, C/F order and non-contiguous views, sizes around the vector
widths and the OpenMP split, and hypothesis-drawn shapes and values."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinynn as tn
from tinynn.backend import reference as ref

kernels = pytest.importorskip("tinynn.kernels")

FORWARD = ("relu", "sigmoid", "tanh")
DTYPES = (np.float32, np.float64)
SIZES = (0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1025, 4099)
SIMD = tuple(kernels.simd_paths())   # every path this CPU runs: portable, avx2, avx512


@pytest.fixture(params=SIMD)
def simd(request):
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


def tol(dtype):
    eps = np.finfo(dtype).eps
    return dict(rtol=8 * eps, atol=4 * np.finfo(dtype).smallest_subnormal)


def bw_tol(dtype):
    # backward formulas are products of a few roundings; compare on the gradient's scale
    eps = np.finfo(dtype).eps
    return dict(rtol=8 * eps, atol=8 * eps)


def values(n, dtype, rng, scale=6.0):
    return (rng.standard_normal(n) * scale).astype(dtype)


def check_forward(name, x):
    expected = getattr(ref, name)(x)
    before = x.copy()
    got = getattr(kernels, name)(x)
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_allclose(got, expected, **tol(x.dtype))
    np.testing.assert_array_equal(x, before)  # input untouched


def check_backward(name, x, g):
    fwd = getattr(ref, name)(x)
    first = x if name == "relu" else fwd  # relu takes its input, sigmoid/tanh their output
    expected = getattr(ref, name + "_backward")(first, g)
    keep_first, keep_g = first.copy(), g.copy()
    got = getattr(kernels, name + "_backward")(first, g)
    assert got.dtype == g.dtype and got.shape == g.shape
    assert not np.shares_memory(got, g) and not np.shares_memory(got, first)
    np.testing.assert_allclose(got, expected, **bw_tol(g.dtype))
    np.testing.assert_array_equal(first, keep_first)
    np.testing.assert_array_equal(g, keep_g)


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sizes(simd, name, dtype):
    rng = np.random.default_rng(1)
    for n in SIZES:
        x = values(n, dtype, rng)
        check_forward(name, x)
        check_backward(name, x, values(n, dtype, rng, 1.0))


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("dtype", DTYPES)
def test_layouts(simd, name, dtype):
    rng = np.random.default_rng(2)
    base = values(37 * 29, dtype, rng).reshape(37, 29)
    g = values(37 * 29, dtype, rng, 1.0).reshape(37, 29)
    for x, gg in [(base, g), (np.asfortranarray(base), np.asfortranarray(g)), (base.T, g.T),
                  (base[::2, 1::3], g[::2, 1::3]), (base[:, 5], g[:, 5]), (base, np.asfortranarray(g)),
                  (base.reshape(37, 29, 1)[:, ::-1], g.reshape(37, 29, 1)[:, ::-1])]:
        check_forward(name, x)
        check_backward(name, x, gg)
    f = np.asfortranarray(base)
    assert getattr(kernels, name)(f).flags.f_contiguous  # output keeps the input's layout


@pytest.mark.parametrize("name", FORWARD)
def test_zero_dim(name):
    x = np.array(0.75, dtype=np.float32)
    check_forward(name, x)
    y = getattr(kernels, name)(np.float64(-0.5))  # a NumPy scalar is taken as a 0-d array
    np.testing.assert_allclose(y, getattr(ref, name)(np.float64(-0.5)))
    check_backward(name, x, np.array(2.0, np.float32))


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_openmp_split(simd, name, threads):
    """Large enough for the threaded path; odd length so the chunks have ragged ends."""
    before = tn.get_num_threads()
    tn.set_num_threads(threads)
    try:
        rng = np.random.default_rng(3)
        x = values((1 << 18) + 13, np.float32, rng)
        check_forward(name, x)
        check_backward(name, x, values(x.size, np.float32, rng, 1.0))
    finally:
        tn.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extremes_are_finite_and_exact(simd, dtype):
    big = np.finfo(dtype).max
    x = np.array([-1e4, 1e4, -1e30 if dtype == np.float32 else -1e300, big, -big, np.inf, -np.inf, 0.0, -0.0,
                  1e-30, -1e-30, 88.0, -88.0, 709.0, -745.0], dtype=dtype)
    s = kernels.sigmoid(x)
    t = kernels.tanh(x)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(t))
    np.testing.assert_allclose(s, ref.sigmoid(x), **tol(dtype))
    np.testing.assert_allclose(t, ref.tanh(x), **tol(dtype))
    assert s[0] == 0 and s[1] == 1 and t[0] == -1 and t[1] == 1
    assert np.signbit(t[8]) and t[8] == 0  # tanh(-0) = -0
    nan = np.array([np.nan], dtype=dtype)
    assert np.isnan(kernels.sigmoid(nan)[0]) and np.isnan(kernels.tanh(nan)[0])
    assert kernels.relu(np.array([-np.inf, np.inf], dtype=dtype)).tolist() == [0, np.inf]


@pytest.mark.parametrize("dtype,limit", [(np.float32, 1.5), (np.float64, 1.5)])
def test_exp_accuracy_in_ulp(dtype, limit):
    """The kernels' exp (range reduction + Taylor polynomial) within `limit` ulp of the true value."""
    lo, hi = (-87.3, 88.7) if dtype == np.float32 else (-708.0, 709.7)
    x = np.concatenate([np.linspace(lo, hi, 200001), np.linspace(-1, 1, 20001)]).astype(dtype)
    exact = np.exp(x.astype(np.longdouble))
    ulp = np.spacing(exact.astype(dtype)).astype(np.longdouble)
    err = np.abs(kernels._exp_array(x).astype(np.longdouble) - exact) / ulp
    assert err.max() <= limit, (x[np.argmax(err)], err.max())


def test_float_tanh_accuracy_in_ulp():
    """float32 tanh (expm1 form, common/activations.h) within 3 ulp of the correctly rounded value
    on every path: 2.6 ulp was the worst over every float32 in [0, 12] when it was written."""
    rng = np.random.default_rng(7)
    a = np.concatenate([np.linspace(0, 12, 400001), rng.uniform(0, 1, 200000), np.geomspace(1e-38, 1, 20001)])
    x = np.concatenate([a, -a]).astype(np.float32)
    exact = np.tanh(x.astype(np.longdouble))
    rounded = exact.astype(np.float32)
    ulp = np.spacing(np.abs(rounded)).astype(np.longdouble)
    ulp[np.abs(rounded) == 1] = 2.0 ** -24  # just below 1 the spacing is 2^-24
    for level in SIMD:
        kernels.set_simd(level)
        err = np.abs(kernels.tanh(x).astype(np.longdouble) - exact) / ulp
        assert err.max() <= 3.0, (level, x[np.argmax(err)], err.max())
    kernels.set_simd("auto")


def test_tanh_near_branch_switch():
    for dtype, a in ((np.float32, 0.55), (np.float64, 0.55)):
        x = np.linspace(a * 0.9, a * 1.1, 10001).astype(dtype)
        x = np.concatenate([x, -x])
        for level in SIMD:
            kernels.set_simd(level)
            np.testing.assert_allclose(kernels.tanh(x), np.tanh(x), rtol=4 * np.finfo(dtype).eps)
        kernels.set_simd("auto")


finite_values = st.floats(-1e4, 1e4, allow_nan=False, width=32)


@given(x=hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
                    elements=finite_values),
       name=st.sampled_from(FORWARD), level=st.sampled_from(SIMD), transpose=st.booleans())
def test_hypothesis_matches_reference(x, name, level, transpose):
    previous = kernels.set_simd(level)
    try:
        if transpose:
            x = x.T
        check_forward(name, x)
        check_backward(name, x, np.ones_like(x) * 0.5)
    finally:
        kernels.set_simd(previous)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", FORWARD)
def test_bad_forward_input(name):
    fn = getattr(kernels, name)
    with pytest.raises(TypeError, match=name):
        fn([1.0, 2.0])
    with pytest.raises(TypeError, match=name):
        fn(np.arange(3))
    with pytest.raises(TypeError, match=name):
        fn(np.ones(3, np.float16))
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="read-only"):
        out = np.empty(4, np.float32)
        out.flags.writeable = False
        fn(x, out=out)
    with pytest.raises(ValueError, match="shape"):
        fn(x, out=np.empty(5, np.float32))
    with pytest.raises(TypeError, match="dtype"):
        fn(x, out=np.empty(4, np.float64))
    with pytest.raises(ValueError, match="contiguous"):
        fn(np.ones((3, 4), np.float32), out=np.empty((4, 3), np.float32).T)


@pytest.mark.parametrize("name", FORWARD)
def test_bad_backward_input(name):
    fn = getattr(kernels, name + "_backward")
    with pytest.raises(ValueError, match="shape"):
        fn(np.ones(3, np.float32), np.ones(4, np.float32))
    with pytest.raises(TypeError, match="float64"):
        fn(np.ones(3, np.float32), np.ones(3, np.float64))
    with pytest.raises(TypeError):
        fn(np.ones(3, np.float32), None)


@pytest.mark.parametrize("name", FORWARD)
def test_out_in_place(simd, name):
    x = np.linspace(-3, 3, 101, dtype=np.float32)
    expected = getattr(ref, name)(x)
    y = getattr(kernels, name)(x, out=x)
    assert y is x
    np.testing.assert_allclose(x, expected, **tol(np.float32))


def test_backend_uses_kernels():
    with tn.use_backend("cython"):
        mod, x = tn.backend.active, np.linspace(-3, 3, 101, dtype=np.float32)
        for name in FORWARD:  # float32/float64 go to the kernel (backend/compiled.py), other dtypes to the reference
            np.testing.assert_array_equal(getattr(mod, name)(x), getattr(kernels, name)(x))
            np.testing.assert_array_equal(getattr(mod, name + "_backward")(x, x), getattr(kernels, name + "_backward")(x, x))


@pytest.mark.parametrize("name", FORWARD)
def test_fast_path_layouts_subclasses_and_byte_order(name):
    """The fast path (exact, aligned, contiguous, native arrays) keeps the input's C or F layout;
    a subclass goes through the checked path (np.empty_like keeps its type); a byte-swapped array
    is refused rather than misread."""
    rng = np.random.default_rng(41)
    x = values(12, np.float64, rng).reshape(3, 4)
    for a in (x, np.asfortranarray(x), x[:1], x.T):
        y = getattr(kernels, name)(a)
        assert y.flags.c_contiguous == a.flags.c_contiguous and y.flags.f_contiguous == a.flags.f_contiguous
        np.testing.assert_allclose(y, getattr(ref, name)(a), **tol(a.dtype))
        g = values(a.size, np.float64, rng).reshape(a.shape)
        g = g if a.flags.c_contiguous else np.asfortranarray(g)
        dy = getattr(kernels, name + "_backward")(a, g)
        np.testing.assert_allclose(dy, getattr(ref, name + "_backward")(a, g), **bw_tol(a.dtype))

    class Sub(np.ndarray):
        pass
    assert type(getattr(kernels, name)(x.view(Sub))) is Sub
    with pytest.raises(TypeError, match=">f8"):
        getattr(kernels, name)(x.astype(">f8"))
    with pytest.raises(TypeError, match=">f8"):
        getattr(kernels, name + "_backward")(x, x.astype(">f8"))


# ---------------------------------------------------------------- small arithmetic (add, subtract, multiply)
ARITH = ("add", "subtract", "multiply")


def _same_bits(got, want):
    """Same type, dtype and shape; the same bits everywhere except a NaN's payload (which operand's
    NaN survives when both are NaN is the compiler's choice, in NumPy's loops as in ours)."""
    assert type(got) is type(want) and got.dtype == want.dtype and np.shape(got) == np.shape(want)
    g, w = np.asarray(got), np.asarray(want)
    nan = np.isnan(w)
    assert np.array_equal(np.isnan(g), nan)
    bits = np.dtype(f"u{g.dtype.itemsize}") if g.dtype.kind == "f" else g.dtype
    assert np.array_equal(g[~nan].view(bits), w[~nan].view(bits))


special_floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=32)


@given(data=st.data(), name=st.sampled_from(ARITH), dtype=st.sampled_from(DTYPES),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=20))
def test_arith_matches_numpy_bit_for_bit(data, name, dtype, shape):
    """Same-shape C-contiguous float arrays (the C loop), with NaN, inf, -0, subnormals and values
    that overflow or underflow (those calls are redone by NumPy)."""
    elems = special_floats if dtype == np.float32 else st.floats(allow_nan=True, allow_infinity=True)
    a = data.draw(hnp.arrays(dtype, shape, elements=elems))
    b = data.draw(hnp.arrays(dtype, shape, elements=elems))
    with np.errstate(all="ignore"):
        _same_bits(getattr(kernels, name)(a, b), getattr(np, name)(a, b))


@given(data=st.data(), name=st.sampled_from(ARITH),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=5),
       dtypes=st.tuples(st.sampled_from((np.float32, np.float64, np.int32, np.float16, np.bool_)),
                        st.sampled_from((np.float32, np.float64, np.int64))),
       layout=st.sampled_from(("C", "F", "sliced", "negative", "misaligned", "swapped", "scalar")))
def test_arith_falls_back_to_numpy_for_everything_else(data, name, shapes, dtypes, layout):
    """Broadcasting, other or mixed dtypes, 0-d arrays, non-contiguous, misaligned or byte-swapped
    views and Python scalars all give exactly NumPy's answer (type, dtype, shape, bits)."""
    s1, s2 = shapes.input_shapes
    a = data.draw(hnp.arrays(dtypes[0], s1, elements=st.integers(-50, 50).map(float) if dtypes[0] != np.bool_ else None))
    b = data.draw(hnp.arrays(dtypes[1], s2, elements=st.integers(-50, 50).map(float)))
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "sliced" and a.ndim:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "negative":
        a = a[::-1] if a.ndim else a
    elif layout == "misaligned":
        buf = np.zeros(a.nbytes + 1, np.uint8)[1:]
        a = buf.view(a.dtype).reshape(a.shape) if a.size else a
        a[...] = 1
    elif layout == "swapped":
        a = a.astype(a.dtype.newbyteorder())
    elif layout == "scalar":
        a = 3.0
    with np.errstate(all="ignore"):
        _same_bits(getattr(kernels, name)(a, b), getattr(np, name)(a, b))


@pytest.mark.parametrize("name", ARITH)
@pytest.mark.parametrize("dtype", DTYPES)
def test_arith_sizes_and_contiguous_layouts(name, dtype):
    rng = np.random.default_rng(42)
    for n in (1, 2, 7, 8, 9, 17, 4095, 4096, 4097, 10000):
        a, b = values(n, dtype, rng), values(n, dtype, rng)
        _same_bits(getattr(kernels, name)(a, b), getattr(np, name)(a, b))
        _same_bits(getattr(kernels, name)(a.reshape(1, n), b.reshape(1, n)), getattr(np, name)(a, b).reshape(1, n))
    a, b = values(12, dtype, rng).reshape(3, 4), values(12, dtype, rng).reshape(3, 4)
    out = getattr(kernels, name)(a, b)
    assert out.flags.c_contiguous and not np.shares_memory(out, a) and not np.shares_memory(out, b)


@pytest.mark.parametrize("name,x,y", [("multiply", 1e30, 1e30), ("add", 3e38, 3e38), ("subtract", -3e38, 3e38),
                                      ("multiply", np.inf, 0.0), ("subtract", np.inf, np.inf), ("multiply", 1e-30, 1e-30)])
def test_arith_floating_point_errors_follow_errstate(name, x, y):
    """A call whose loop raised a floating-point flag is redone by NumPy: np.errstate's warn / raise /
    ignore apply exactly as for the ufunc."""
    a, b = np.full(3, x, np.float32), np.full(3, y, np.float32)
    fn = getattr(kernels, name)
    kind = "under" if name == "multiply" and x == 1e-30 else "invalid" if np.isinf(x) else "over"
    with np.errstate(all="ignore", **{kind: "raise"}):
        with pytest.raises(FloatingPointError):
            fn(a, b)
    with np.errstate(all="ignore", **{kind: "warn"}):
        with pytest.warns(RuntimeWarning):
            got = fn(a, b)
    with np.errstate(all="ignore"):
        _same_bits(got, getattr(np, name)(a, b))
        _same_bits(fn(a[:1], a[:1] * 0 + 1), getattr(np, name)(a[:1], a[:1] * 0 + 1))  # flags left set: clean result


def test_backend_arith_is_the_kernel():
    with tn.use_backend("cython"):
        B = tn.backend.active
        assert B.add is kernels.add and B.subtract is kernels.subtract and B.multiply is kernels.multiply


@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       dtypes=st.tuples(st.sampled_from((np.float32, np.float64, np.float16, np.int64, np.bool_)),
                        st.sampled_from((np.float32, np.float64, np.int64))),
       same=st.booleans(), form=st.sampled_from(("array", "swapped", "view", "numpy scalar", "python float")))
def test_same_layout_matches_reference(data, shapes, dtypes, same, form):
    """kernels.same_layout(a, b) is reference.same_layout: ndarrays of one shape and one dtype
    (byte order included); NumPy and Python scalars are never the same layout."""
    s1, s2 = shapes.input_shapes
    a = data.draw(hnp.arrays(dtypes[0], s1))
    b = a.copy() if same else data.draw(hnp.arrays(dtypes[1], s2))
    if form == "swapped":
        b = b.astype(b.dtype.newbyteorder())
    elif form == "view" and b.ndim:
        b = np.repeat(b, 2, axis=-1)[..., ::2]  # same shape and dtype, not contiguous: still the same layout
    elif form == "numpy scalar":
        b = b.dtype.type(0)
    elif form == "python float":
        b = 1.0
    expected = isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
    assert ref.same_layout(a, b) is expected
    assert kernels.same_layout(a, b) is expected
    assert kernels.same_layout(b, a) is expected


@st.composite
def broadcast_pairs(draw):
    """(x, shape): an array (of a random dtype and layout) and a shape it broadcasts to."""
    target = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    kept = draw(st.integers(0, len(target)))
    shape = tuple(1 if draw(st.booleans()) else n for n in target[len(target) - kept:])
    dtype = draw(st.sampled_from((np.float32, np.float64, np.float16, np.int64, np.bool_)))
    x = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(("C", "F", "reversed", "swapped")))
    if layout == "F" and x.ndim:  # (asfortranarray makes a 0-d array 1-d)
        x = np.asfortranarray(x)
    elif layout == "reversed" and x.ndim:
        x = np.flip(x)
    elif layout == "swapped":
        x = x.astype(x.dtype.newbyteorder())
    return x, target


@given(pair=broadcast_pairs())
def test_broadcast_to_is_numpys_view(pair):
    """kernels.broadcast_to(x, shape) is np.broadcast_to(x, shape): values, dtype, strides, flags
    (read-only), and a view of x's memory."""
    x, shape = pair
    got, want = kernels.broadcast_to(x, shape), np.broadcast_to(x, shape)
    assert type(got) is np.ndarray and got.shape == want.shape and got.dtype == want.dtype
    assert got.strides == want.strides
    for flag in ("C_CONTIGUOUS", "F_CONTIGUOUS", "ALIGNED", "WRITEABLE", "OWNDATA"):
        assert got.flags[flag] == want.flags[flag], flag
    np.testing.assert_array_equal(got, want)
    if got.size:
        assert np.shares_memory(got, x)
    assert ref.broadcast_to(x, shape).shape == shape


@pytest.mark.parametrize("x,shape", [(np.ones(3), (2, 4)), (np.ones((2, 3)), (3,)), (np.ones(3), (-1, 3)),
                                     (np.ones(3), [2, 3]), ([1.0, 2.0], (2, 2)), (np.ones(2), (2, np.int64(2)))])
def test_broadcast_to_hands_everything_else_to_numpy(x, shape):
    """Shapes that do not fit raise NumPy's own ValueError; lists and NumPy integers in the shape
    give NumPy's own result."""
    try:
        want = np.broadcast_to(x, shape)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)[:20]):
            kernels.broadcast_to(x, shape)
    else:
        np.testing.assert_array_equal(kernels.broadcast_to(x, shape), want)


@given(data=st.data(), dtype=st.sampled_from((np.float32, np.float64, np.float16, np.int8, np.int64, np.bool_)),
       shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6), keepdims=st.booleans(),
       layout=st.sampled_from(("C", "F", "sliced")))
def test_backend_sum_and_mean_are_the_references_bit_for_bit(data, dtype, shape, keepdims, layout):
    """The cython backend's sum and mean skip np.sum / np.mean's Python wrappers and must give the
    same dtype, shape and bits (NaN included), and the same warning for an empty mean."""
    from tinynn.backend import compiled as CB
    x = data.draw(hnp.arrays(dtype, shape))
    if layout == "F" and x.ndim:
        x = np.asfortranarray(x)
    elif layout == "sliced" and x.ndim:
        x = np.repeat(x, 2, axis=-1)[..., ::2]
    axis = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1) if x.ndim else st.none(),
                               st.lists(st.integers(0, max(x.ndim - 1, 0)), unique=True, max_size=x.ndim).map(tuple)))
    for name in ("sum", "mean"):
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as want_warnings:
            warnings.simplefilter("always")
            want = getattr(ref, name)(x, axis=axis, keepdims=keepdims)
        before = x.copy()
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as got_warnings:
            warnings.simplefilter("always")
            got = getattr(CB, name)(x, axis=axis, keepdims=keepdims)
        _same_bits(x, before)  # mean divides its own sum in place, never the input
        assert [w.category for w in got_warnings] == [w.category for w in want_warnings], name
        assert type(got) is type(want), name
        assert np.asarray(got).dtype == np.asarray(want).dtype and np.shape(got) == np.shape(want), name
        _same_bits(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("dtype", DTYPES)
def test_vector_paths_give_the_same_bits(dtype):
    """The AVX2 and AVX-512 copies of each span body contract the same expressions into FMAs, so
    every activation (forward and backward) gives the same bits on both, over the whole range
    (both tanh branches, exp's underflow and overflow); the vector width does not matter."""
    paths = [p for p in SIMD if p != "portable"]
    if len(paths) < 2:
        pytest.skip("needs two vector paths (AVX2 and AVX-512)")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(100_003) * 5, np.linspace(-800, 800, 20_001)]).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    results = {}
    previous = kernels.set_simd(paths[0])
    try:
        for p in paths:
            kernels.set_simd(p)
            results[p] = [f(x) for f in (kernels.relu, kernels.sigmoid, kernels.tanh)]
            results[p] += [getattr(kernels, n + "_backward")(y, g) for n, y in zip(FORWARD, results[p])]
    finally:
        kernels.set_simd(previous)
    for got, want in zip(results[paths[1]], results[paths[0]]):
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))
