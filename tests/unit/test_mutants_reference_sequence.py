"""Tests that kill mutants mutmut left alive in the reference backend's sequence kernels
(reference_attention.py; reference_recurrent.py left none; scripts/mutation.py, report in
docs/mutation-report.md), each backend's kernels called directly against closed forms written here:
the defaults of their signatures (scale 1, the exact GELU), `needs` giving None for each gradient not
asked for, a mask and causal together, and results in the inputs' float dtype."""
import math

import numpy as np
import pytest

from tinynn.backend import compiled, reference as ref

BACKENDS = pytest.mark.parametrize("B", [ref, compiled], ids=["reference", "compiled"])


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _qkv(dtype=np.float64, length=3, keys=4):
    rng = np.random.default_rng(7)
    return (rng.standard_normal((2, length, 5)).astype(dtype), rng.standard_normal((2, keys, 5)).astype(dtype),
            rng.standard_normal((2, keys, 3)).astype(dtype))


@BACKENDS
def test_attention_defaults_to_scale_one(B):
    q, k, v = _qkv()
    p = _softmax(q @ np.swapaxes(k, -1, -2))                   # softmax(Q K^T), unscaled
    out, probs = B.attention(q, k, v)
    np.testing.assert_allclose(probs, p, rtol=1e-12)
    np.testing.assert_allclose(out, p @ v, rtol=1e-12)
    g = np.random.default_rng(8).standard_normal(out.shape)
    dq, dk, dv, dz = B.attention_backward(q, k, v, probs, g)
    dp = g @ np.swapaxes(v, -1, -2)
    want_dz = p * (dp - (dp * p).sum(axis=-1, keepdims=True))  # dZ = P (dP - sum_j dP_j P_j), times scale 1
    np.testing.assert_allclose(dz, want_dz, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dq, want_dz @ k, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dk, np.swapaxes(want_dz, -1, -2) @ q, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dv, np.swapaxes(p, -1, -2) @ g, rtol=1e-12)


@BACKENDS
def test_attention_with_a_mask_and_causal_masks_both(B):
    q, k, v = _qkv(length=4, keys=4)
    mask = np.zeros((4, 4))
    mask[:, 0] = -np.inf                                        # nobody looks at key 0 ...
    mask[0, 0] = 0.0                                            # ... except query 0, which has no other
    z = 0.5 * (q @ np.swapaxes(k, -1, -2)) + mask
    z = np.where(np.arange(4)[None, :] > np.arange(4)[:, None], -np.inf, z)   # and no key j > i
    out, probs = B.attention(q, k, v, mask, True, 0.5)
    np.testing.assert_allclose(probs, _softmax(z), rtol=1e-12)
    assert np.all(probs[:, 1, 2:] == 0) and np.all(probs[:, 1:, 0] == 0)
    np.testing.assert_allclose(out, _softmax(z) @ v, rtol=1e-12)


@BACKENDS
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, False, False), (True, True, False)])
def test_attention_backward_gives_none_where_not_needed(B, needs):
    q, k, v = _qkv()
    out, probs = B.attention(q, k, v, None, False, 0.25)
    g = np.ones_like(out)
    full = B.attention_backward(q, k, v, probs, g, 0.25)
    got = B.attention_backward(q, k, v, probs, g, 0.25, None, needs)
    for wanted, a, b in zip(needs, got[:3], full[:3]):
        if wanted:
            np.testing.assert_allclose(a, b, rtol=1e-14)
        else:
            assert a is None
    np.testing.assert_allclose(got[3], full[3], rtol=1e-14)     # dZ, the mask's gradient, always


@pytest.mark.parametrize("needs", [(False, True, False), (True, False, True), (False, False, False)])
def test_layer_norm_backward_gives_none_where_not_needed(needs):
    rng = np.random.default_rng(3)
    x, w, g = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
    mu = x.mean(axis=1)
    r = 1 / np.sqrt(x.var(axis=1) + 1e-5)
    xhat = (x - mu[:, None]) * r[:, None]
    dx, dw, db = ref.layer_norm_backward(x, w, mu, r, g, needs)
    assert (dx is None) != needs[0] and (dw is None) != needs[1] and (db is None) != needs[2]
    if needs[1]:
        np.testing.assert_allclose(dw, (g * xhat).sum(axis=0), rtol=1e-13)
    if needs[2]:
        np.testing.assert_allclose(db, g.sum(axis=0), rtol=1e-13)


@BACKENDS
def test_gelu_defaults_to_the_exact_form(B):
    x = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(B.gelu(x), x * phi, rtol=1e-13, atol=1e-16)
    d = phi + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)     # Phi(x) + x phi(x)
    np.testing.assert_allclose(B.gelu_backward(x, np.full(5, 2.0)), 2 * d, rtol=1e-13)
    # the tanh form differs from the exact one by up to ~5e-4 here: the default is not it
    assert np.max(np.abs(B.gelu(x, "tanh") - x * phi)) > 1e-4


def test_sequence_kernels_keep_float32():
    """float32 in, float32 out (as PyTorch's gradients have their tensors' dtype)."""
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    assert ref.gelu(x).dtype == ref.gelu_backward(x, g).dtype == np.float32
    assert ref.gelu_backward(x, g, "tanh").dtype == np.float32
    y, mu, r = ref.layer_norm(x, None, None, 1e-5)
    assert ref.layer_norm_backward(x, None, mu, r, g)[0].dtype == np.float32
    probs = ref.scaled_softmax(x, 0.5)
    assert probs.dtype == ref.scaled_softmax_backward(probs, g, 0.5).dtype == np.float32
    dw = ref.embedding_backward(np.array([[0, 2], [2, 1]]), g[:2, :3].reshape(2, 1, 3).repeat(2, axis=1), 4)
    assert dw.dtype == np.float32 and dw.shape == (4, 3)


def test_embedding_backward_scatter_adds_every_position():
    """dW[i] = sum of grad[n] over the positions n holding index i, for an index array of any rank."""
    idx = np.array([[[0, 2]], [[2, 2]]])                        # (2, 1, 2): rank 3
    grad = np.arange(12.0).reshape(2, 1, 2, 3)
    dw = ref.embedding_backward(idx, grad, 4, padding_idx=None)
    want = np.zeros((4, 3))
    want[0] = grad[0, 0, 0]
    want[2] = grad[0, 0, 1] + grad[1, 0, 0] + grad[1, 0, 1]
    np.testing.assert_array_equal(dw, want)


@BACKENDS
def test_scaled_softmax_is_not_causal_by_default_and_does_not_overflow(B):
    s = np.array([[500.0, 499.0, 0.0], [1.0, 2.0, 3.0]])      # e^1000 overflows float64: shift by the max
    e1 = 1 / (1 + math.exp(-2.0) + math.exp(-1000.0))
    want = np.array([[e1, e1 * math.exp(-2.0), e1 * math.exp(-1000.0)], _softmax(2 * np.array([1.0, 2.0, 3.0]))])
    np.testing.assert_allclose(B.scaled_softmax(s, 2.0), want, rtol=1e-14)
