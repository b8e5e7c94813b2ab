"""The float GEMM (tinynn.kernels.matmul / linear) on its blocked, packed path, against a float64
product with an error bound, element by element (helpers.fuzzing.check_product):

- |c - a b| <= (k + 2) eps |a| |b| where a's row and b's column are finite (a k-term dot product,
  each product and partial sum rounded once; FMA only tightens it);
- where they are not, the one class IEEE arithmetic gives whatever the order of the sum: NaN for a
  NaN input, an inf * 0 term, or +inf and -inf terms meeting; +-inf for infinite terms of one sign.

The direct small-product path (gemm_direct.h) serves products of fewer than TNN_GEMM_MIN_PARALLEL
= 2^20 multiply-adds with k <= KC = 256 (kernels/gemm.h); the sizes drawn here are past both
limits (k > 256, or m n k > 2^20), so the packed micro-kernels, several KC blocks and the OpenMP
split all run. Inputs: NaN / inf / near-overflow values, negative strides, non-contiguous,
misaligned and empty operands, on every SIMD path this machine has."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn

from helpers import fuzzing as fz

if "cython" not in tn.backend.available():  # pragma: no cover - CI always builds the kernels
    pytest.skip("the compiled kernels are not built", allow_module_level=True)

from tinynn import kernels as K  # noqa: E402

KC = 256                 # kernels/gemm.h: the k block; k > KC never takes the direct path
MIN_PARALLEL = 1 << 20   # kernels/gemm.h: TNN_GEMM_MIN_PARALLEL, products below it run on one thread
SIMD_PATHS = ("portable",) + (("auto",) if K.info()["simd_available"] != "portable" else ())
INPUT_LAYOUTS = ("C", "F", "sliced", "negative", "transposed", "misaligned", "readonly")


def on_simd(path, fn):
    previous = K.set_simd(path)
    try:
        return fn()
    finally:
        K.set_simd(previous)


@st.composite
def blocked_sizes(draw):
    """(m, k, n) past the direct path: k > KC, or m n k > 2^20 (then also threaded); with an
    empty or single-row/column operand now and then."""
    kind = draw(st.sampled_from(("deep", "large", "edge")))
    if kind == "deep":
        m, k, n = draw(st.integers(1, 40)), draw(st.integers(KC + 1, 3 * KC + 7)), draw(st.integers(1, 40))
    elif kind == "large":
        m, n = draw(st.integers(97, 160)), draw(st.integers(97, 160))
        k = draw(st.integers(MIN_PARALLEL // (m * n) + 1, KC))
    else:
        m, k, n = draw(st.sampled_from((0, 1))), draw(st.integers(KC + 1, 2 * KC)), draw(st.integers(0, 33))
        if draw(st.booleans()):
            m, n = n, m
    return m, k, n


@given(data=st.data(), size=blocked_sizes(), dtype=st.sampled_from(fz.FLOATS),
       simd=st.sampled_from(SIMD_PATHS), threads=st.sampled_from((1, 2)))
def test_blocked_matmul_within_its_error_bound(data, size, dtype, simd, threads):
    m, k, n = size
    a = data.draw(fz.st_array((m, k), dtype, INPUT_LAYOUTS), label="a")
    b = data.draw(fz.st_array((k, n), dtype, INPUT_LAYOUTS), label="b")
    with fz.quiet():
        c = on_simd(simd, lambda: K.matmul(a, b, num_threads=threads))
        fz.check_product(f"matmul {m}x{k}x{n} {dtype} {simd}", c, a, b)
    fz.COUNTS["gemm (blocked path)"] += 1


@given(data=st.data(), size=blocked_sizes(), dtype=st.sampled_from(fz.FLOATS), simd=st.sampled_from(SIMD_PATHS))
def test_blocked_linear_without_activation_is_the_product_plus_bias(data, size, dtype, simd):
    """y = x W^T + b on the packed path with its fused bias epilogue: the bound of the product
    and one more rounding for the bias (classes: NaN + v and inf - inf are NaN)."""
    m, k, n = size
    x = data.draw(fz.st_array((m, k), dtype, INPUT_LAYOUTS), label="x")
    w = data.draw(fz.st_array((n, k), dtype, INPUT_LAYOUTS), label="w")
    bias = data.draw(fz.st_array((n,), dtype, INPUT_LAYOUTS), label="bias")
    with fz.quiet():
        y = on_simd(simd, lambda: K.linear(x, w, bias, "none"))
        # bias as one more column of x and row of W^T: the same dot product, one term longer
        x1 = np.concatenate([x, np.ones((m, 1), dtype)], axis=1)
        w1 = np.concatenate([w.T, bias[None, :]], axis=0)
        fz.check_product(f"linear {m}x{k}x{n} {dtype} {simd}", y, x1, w1)
    fz.COUNTS["gemm (blocked path)"] += 1


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", fz.FLOATS)
@pytest.mark.parametrize("k", (2, KC + 3))   # the direct path, then the packed one
def test_inf_times_zero_gives_nan_and_inf_stays_inf(k, dtype, simd):
    """The elements whose IEEE answer is determined: inf * 1 + 1 * 0 = inf exactly; inf * 0 (+ 1)
    = NaN; NaN anywhere in the row = NaN; -inf and +inf terms meeting = NaN; finite elsewhere."""
    a = np.zeros((4, k), dtype)
    b = np.zeros((k, 3), dtype)
    a[0, 0], a[0, 1] = np.inf, 1.0            # row 0: inf in column 0
    a[1, 0], a[1, 1] = np.nan, 1.0            # row 1: NaN
    a[2, 0], a[2, 1] = np.inf, -np.inf        # row 2: inf and -inf (-inf * 0 in column 0)
    a[3, 1] = 2.0                             # row 3: finite
    b[0, 0], b[1, 0] = 1.0, 0.0               # column 0: inf * 1 + 1 * 0
    b[0, 1], b[1, 1] = 0.0, 1.0               # column 1: inf * 0 + 1 * 1
    b[0, 2], b[1, 2] = 1.0, 1.0               # column 2: inf * 1 + 1 * 1, and +inf - inf in row 2
    c = on_simd(simd, lambda: K.matmul(a, b))
    want = np.array([[np.inf, np.nan, np.inf],
                     [np.nan, np.nan, np.nan],
                     [np.nan, np.nan, np.nan],
                     [0.0, 2.0, 2.0]], dtype)
    np.testing.assert_array_equal(c, want)   # (assert_array_equal: NaN matches NaN only)
    assert c[0, 0] == np.inf and c[0, 2] == np.inf


@pytest.mark.parametrize("dtype", fz.FLOATS)
def test_empty_operands_give_zeros_or_empty(dtype):
    """k = 0: every element is an empty sum, exactly 0 (also for m n k past the blocks' sizes)."""
    for m, k, n in ((300, 0, 300), (0, 300, 5), (5, 300, 0)):
        c = K.matmul(np.ones((m, k), dtype), np.ones((k, n), dtype))
        assert c.shape == (m, n) and c.dtype == dtype
        np.testing.assert_array_equal(c, np.zeros((m, n), dtype))
