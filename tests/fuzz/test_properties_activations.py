"""Hypothesis properties of the activations LeakyReLU, SiLU, ELU, Softplus, Hardtanh and GELU (exact
and tanh): on random shapes (0 to 3 dims, empty, one element, up to 33 a side), float32 and
float64, any memory layout (strided, transposed, negative strides, misaligned, read-only,
broadcast) and values with NaN / +-inf / +-0 / denormals / near-overflow sprinkled in, the value and
the gradient under a random upstream gradient agree on both backends with the float64 reference,
element by element within each formula's error bound (helpers.agreement); plus the identities that
need no reference. GELU has compiled kernels of its own; the others run the reference's functions on
both backends (test_backend_table.py), so for them the float32 check against float64 is the point."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn
import tinynn.nn.functional as F

from helpers import fuzzing as fz
from helpers.agreement import assert_agree

K = 8  # roundings per element: exp / log1p / erf / tanh within 1-4 ulps, then a few products and sums


def sigmoid(z):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def shapes():
    return st.lists(fz.st_side(big=False), max_size=3).map(tuple)


@st.composite
def inputs(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return draw(fz.st_array(draw(shapes()), dtype))


# name: (fn(x), bound(x, y, grad_in, upstream) -> (value magnitude, gradient magnitude) in ulps)
def leaky(slope):
    # one product x * slope (slope rounded to float32 first in float32): 2 roundings of |y|
    return lambda t: F.leaky_relu(t, slope), lambda x, y, g, u: (4 * np.abs(y), 4 * np.abs(g))


def elu(alpha):
    def bound(x, y, g, u):
        slope = np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))
        return K * np.abs(y), K * np.abs(u) * slope
    return lambda t: F.elu(t, alpha), bound


def softplus(beta, threshold):
    def bound(x, y, g, u):
        s = sigmoid(beta * x)
        # beta x rounds once (relative eps): y moves by s |x| eps, sigmoid by s (1 - s) |beta x| eps
        return (K * (np.abs(y) + np.abs(x) * s),
                K * np.abs(u) * (s + s * (1 - s) * np.abs(beta * x) + (beta * x > threshold)))
    return lambda t: F.softplus(t, beta, threshold), bound


def silu_bound(x, y, g, u):
    s = sigmoid(x)
    # s (1 + x (1 - s)): 1 - s cancels as s -> 1 (an absolute error eps of the 1), so |x| (1 + s)
    return K * np.abs(y), K * np.abs(u) * s * (1 + np.abs(x) * (1 + s))


def hardtanh(lo, hi):
    return lambda t: F.hardtanh(t, lo, hi), lambda x, y, g, u: (0 * x, 0 * x)  # a selection: exact


def _erf(z):
    return np.vectorize(lambda v: math.erf(v) if np.isfinite(v) else np.sign(v) if not np.isnan(v) else v,
                        otypes=[float])(z)


def gelu_exact(x, y, g, u):
    # x (1 + erf) / 2: 1 + erf cancels for x < 0 (absolute error eps of the 1), so |x| (1 + |erf|) / 2;
    # the derivative's x e^(-x^2 / 2): x^2 rounds (relative eps), e^ carries x^2 / 2 of it
    e = np.abs(_erf(x / np.sqrt(2)))
    with np.errstate(all="ignore"):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        return K * (np.abs(y) + np.abs(x) * (1 + e) / 2), K * np.abs(u) * (1 + np.abs(x) * phi * (1 + x * x))


def gelu_tanh(x, y, g, u):
    # (1 + t) / 2 + x (1 - t^2) c (1 + 3 k x^2) / 2: 1 + t and 1 - t^2 cancel where |t| -> 1 (each an
    # absolute error eps of its 1), and z = c (x + k x^3) rounds (t moves by (1 - t^2) |z| eps)
    c = np.sqrt(2 / np.pi)
    with np.errstate(all="ignore"):
        z = c * (x + 0.044715 * x ** 3)
        t = np.tanh(z)
        sech2 = 1 - t * t
        value = np.abs(y) + np.abs(x) * (1 + np.abs(t)) / 2 + np.abs(x) * np.abs(z) * sech2
        slope = (1 + np.abs(t)) / 2 + np.abs(z) * sech2 \
            + np.abs(x) * (1 + t * t) * c * (1 + 3 * 0.044715 * x * x) * (1 + np.abs(z))
    return K * value, K * np.abs(u) * slope


CASES = {
    "leaky_relu": leaky(0.01), "leaky_relu 0.2": leaky(0.2), "leaky_relu -0.5": leaky(-0.5),
    "silu": (F.silu, silu_bound),
    "elu": elu(1.0), "elu 0.5": elu(0.5),
    "softplus": softplus(1.0, 20.0), "softplus beta=2 threshold=3": softplus(2.0, 3.0),
    "softplus beta=0.5 threshold=1": softplus(0.5, 1.0),
    "hardtanh": hardtanh(-1.0, 1.0), "hardtanh -2 0.5": hardtanh(-2.0, 0.5), "hardtanh 0 0": hardtanh(0.0, 0.0),
    "gelu": (F.gelu, gelu_exact), "gelu tanh": (lambda t: F.gelu(t, approximate="tanh"), gelu_tanh),
}


@pytest.mark.parametrize("name", sorted(CASES))
@given(x=inputs(), seed=st.integers(0, 2**32 - 1))
def test_activation_values_and_gradients_agree_with_the_float64_reference(name, x, seed):
    fn, bound = CASES[name]

    def magnitudes(arrays, values, grads, ups):
        return list(bound(arrays[0], values[0], grads[0], ups[0]))
    assert_agree(fn, [x], magnitudes, seed=seed, what=name)


# ---------------------------------------------------------------- identities (no reference)
finite = st.floats(-30, 30, width=32)


@given(st.lists(finite, min_size=1, max_size=40), st.sampled_from(tn.backend.available()))
def test_silu_is_x_times_sigmoid_x(values, backend):
    """Within the backend's sigmoid bound (4 ulps: test_fuzz_kernels.py's ACT_ULPS; silu is the
    reference's x sigmoid(x) on both backends, Tensor.sigmoid the compiled kernel on cython) plus
    the product's rounding."""
    x = np.array(values, np.float64)
    with tn.use_backend(backend):
        np.testing.assert_allclose(F.silu(tn.tensor(x)).numpy(), x * tn.tensor(x).sigmoid().numpy(),
                                   rtol=5 * np.finfo(np.float64).eps, atol=1e-300)


@given(st.lists(finite, min_size=1, max_size=40), st.sampled_from([0.5, 1.0, 2.0, 4.0]), st.sampled_from([1.0, 3.0, 20.0]),
       st.sampled_from(tn.backend.available()))
def test_softplus_is_x_exactly_past_its_threshold_and_log1p_exp_below(values, beta, threshold, backend):
    x = np.array(values, np.float64)
    with tn.use_backend(backend):
        t = tn.tensor(x, requires_grad=True)
        y = F.softplus(t, beta, threshold)
        y.sum().backward()
    above = beta * x > threshold
    np.testing.assert_array_equal(y.numpy()[above], x[above])
    np.testing.assert_array_equal(t.grad.numpy()[above], 1.0)
    np.testing.assert_allclose(y.numpy()[~above], np.logaddexp(0, beta * x[~above]) / beta, rtol=1e-15)
    np.testing.assert_allclose(t.grad.numpy()[~above], sigmoid(beta * x[~above]), rtol=1e-15)


@given(st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=40), finite, finite,
       st.sampled_from(tn.backend.available()))
def test_hardtanh_is_clamp_and_its_gradient_is_one_strictly_inside(values, a, b, backend):
    lo, hi = min(a, b), max(a, b)
    x = np.array(values, np.float32)
    with tn.use_backend(backend):
        t = tn.tensor(x, requires_grad=True)
        y = F.hardtanh(t, lo, hi)
        y.sum().backward()
        np.testing.assert_array_equal(y.numpy(), tn.tensor(x).clamp(lo, hi).numpy())
    np.testing.assert_array_equal(y.numpy(), np.minimum(np.maximum(x, np.float32(lo)), np.float32(hi)))
    np.testing.assert_array_equal(t.grad.numpy(), ((x > lo) & (x < hi)).astype(np.float32))


@given(st.lists(finite, min_size=1, max_size=40), st.floats(-3, 3), st.sampled_from(tn.backend.available()))
def test_leaky_relu_and_elu_are_the_identity_for_positive_inputs_only(values, slope, backend):
    x = np.array(values, np.float64)
    with tn.use_backend(backend):
        lr, el = F.leaky_relu(tn.tensor(x), slope).numpy(), F.elu(tn.tensor(x), abs(slope)).numpy()
    pos = x > 0
    np.testing.assert_array_equal(lr[pos], x[pos])
    np.testing.assert_array_equal(el[pos], x[pos])
    np.testing.assert_allclose(lr[~pos], slope * x[~pos], rtol=1e-15)
    np.testing.assert_allclose(el[~pos], abs(slope) * np.expm1(x[~pos]), rtol=1e-15, atol=1e-300)


@given(st.lists(st.floats(-8, 8), min_size=1, max_size=40), st.sampled_from(["none", "tanh"]),
       st.sampled_from(tn.backend.available()))
def test_gelu_minus_gelu_of_minus_x_is_x(values, approximate, backend):
    """x Phi(x) - (-x) Phi(-x) = x (Phi(x) + Phi(-x)) = x; the tanh form is odd-symmetric the same way."""
    x = np.array(values, np.float64)
    with tn.use_backend(backend):
        d = F.gelu(tn.tensor(x), approximate).numpy() - F.gelu(tn.tensor(-x), approximate).numpy()
    np.testing.assert_allclose(d, x, rtol=4e-15, atol=4e-15)


def test_gelu_of_a_zero_dim_tensor_on_the_reference_backend():
    """Regression (found by the property above): the reference's erf per element returned a Python
    float for a 0-d input, and gelu raised AttributeError on the numpy backend only."""
    for backend in tn.backend.available():
        with tn.use_backend(backend):
            x = tn.tensor(1.0, dtype=tn.float64, requires_grad=True)
            y = F.gelu(x)
            y.backward()
        assert y.shape == () and abs(y.item() - 0.5 * (1 + math.erf(1 / math.sqrt(2)))) < 1e-15
        assert abs(x.grad.item() - (0.5 * (1 + math.erf(1 / math.sqrt(2))) + math.exp(-0.5) / math.sqrt(2 * math.pi))) < 1e-15
