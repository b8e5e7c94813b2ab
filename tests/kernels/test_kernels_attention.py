"""The sequence-model kernels (kernels/attention/) against the reference on every SIMD path the
machine has: scaled (causal) softmax, layer norm and GELU, forward and backward, float32 and
float64, sizes that are not multiples of the vector width; attention on both backends."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.backend import reference as ref

kernels = pytest.importorskip("tinynn.kernels")
compiled = pytest.importorskip("tinynn.backend.compiled")
DTYPES = (np.float32, np.float64)
ROWS = ((1, 1), (1, 7), (3, 8), (5, 9), (7, 17), (4, 33), (2, 129))  # (rows, width)


@pytest.fixture(params=kernels.simd_paths())
def simd(request):
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


def close(got, expected, dtype, scale=1.0, ulps=16):
    eps = np.finfo(dtype).eps
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=ulps * eps, atol=ulps * eps * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_scaled_softmax(simd, dtype, causal):
    rng = np.random.default_rng(0)
    for length, keys in ((1, 1), (4, 4), (7, 7), (9, 5), (3, 17), (17, 17), (40, 41)):
        s = (rng.standard_normal((2, length, keys)) * 3).astype(dtype)
        g = rng.standard_normal(s.shape).astype(dtype)
        p = ref.scaled_softmax(s, 0.37, causal)
        got = kernels.scaled_softmax(s, 0.37, causal)
        close(got, p, dtype)
        if causal:  # exactly zero above the diagonal: the mask is exact, not a large negative number
            assert (got[:, np.triu_indices(length, 1, keys)[0], np.triu_indices(length, 1, keys)[1]] == 0).all()
        close(kernels.scaled_softmax_backward(p, g, 0.37), ref.scaled_softmax_backward(p, g, 0.37), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm(simd, dtype):
    rng = np.random.default_rng(1)
    for m, n in ROWS:
        x = (rng.standard_normal((m, n)) * 3 + 1).astype(dtype)
        w, b, g = (rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype),
                   rng.standard_normal((m, n)).astype(dtype))
        for weight, bias in ((w, b), (w, None), (None, None)):
            y, mu, r = kernels.layer_norm(x, weight, bias, 1e-5)
            y_ref, mu_ref, r_ref = ref.layer_norm(x, weight, bias, 1e-5)
            scale = np.abs(x).max() * (1 if n > 1 else 1e3)  # one column: x - mu = 0 up to rounding, r = 1/sqrt(eps)
            close(y, y_ref, dtype, scale=scale, ulps=64)
            close(mu, mu_ref, dtype, scale=np.abs(x).max())
            for got, want in zip(kernels.layer_norm_backward(x, weight, mu_ref, r_ref, g),
                                 ref.layer_norm_backward(x, weight, mu_ref, r_ref, g)):
                close(got, want, dtype, scale=np.abs(want).max(initial=1) * m * (1 if n > 1 else 1e3), ulps=64)
        assert kernels.layer_norm_backward(x, w, mu_ref, r_ref, g, (False, True, False))[::2] == (None, None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(simd, dtype, approximate):
    x = np.concatenate([np.linspace(-9, 9, 1001), [0.0, -0.0, 1e-30, -40.0, 40.0]]).astype(dtype)
    g = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    # against the formula in float64 on the same inputs: the kernel computes the tanh form as
    # x sigmoid(2u), which keeps the digits a float32 1 + tanh(u) near -1 cancels away
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    close(kernels.gelu(x, approximate), ref.gelu(x64, approximate).astype(dtype), dtype, ulps=8)
    close(kernels.gelu_backward(x, g, approximate), ref.gelu_backward(x64, g64, approximate).astype(dtype), dtype,
          scale=np.abs(g).max() * np.abs(x).max(), ulps=16)  # the derivative's terms reach |x| before cancelling
    strided = x[:1001].reshape(-1, 7)[:, ::2]  # copied to C order first
    close(kernels.gelu(strided, approximate), ref.gelu(strided, approximate), dtype, ulps=8)


def test_kernel_errors_name_the_kernel():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="scaled_softmax_backward: grad is float64 but the other arrays are float32"):
        kernels.scaled_softmax_backward(x, x.astype(np.float64), 1.0)
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(2,\), expected \(3,\)"):
        kernels.layer_norm(x, np.ones(2, np.float32), None, 1e-5)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        kernels.gelu(x, "erf")
    with pytest.raises(ValueError, match="scaled_softmax: scores need at least 2 dims"):
        kernels.scaled_softmax(np.zeros(3), 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_attention_backends_agree(dtype, batch):
    """compiled.attention (batched GEMM + fused softmax) against the reference, with a float mask,
    causal, and dropout, forward and backward; large enough that the batched GEMM runs."""
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(batch + (40, 48)).astype(dtype) for _ in range(3))
    g = rng.standard_normal(batch + (40, 48)).astype(dtype)
    drop = (rng.random(batch + (40, 40)) > 0.2).astype(dtype) / dtype(0.8)
    mask = np.where(rng.random((40, 40)) > 0.3, 0, -np.inf).astype(dtype)
    mask[:, 0] = 0
    for options in ({}, {"causal": True}, {"mask": mask}, {"dropout_mask": drop, "causal": True}):
        out, p = compiled.attention(q, k, v, scale=0.15, **options)
        out_ref, p_ref = ref.attention(q, k, v, scale=0.15, **options)
        close(p, p_ref, dtype, ulps=64)
        close(out, out_ref, dtype, scale=np.abs(v).max(), ulps=256)
        d = options.get("dropout_mask")
        for got, want in zip(compiled.attention_backward(q, k, v, p_ref, g, 0.15, d),
                             ref.attention_backward(q, k, v, p_ref, g, 0.15, d)):
            close(got, want, dtype, scale=np.abs(want).max(), ulps=256)
