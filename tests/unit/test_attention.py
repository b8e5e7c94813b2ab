"""Scaled dot-product attention and MultiheadAttention: closed forms (one key, causal
independence by perturbation, masks, identity projections against NumPy), float64 gradient
checks on both backends, PyTorch's keys and shapes, errors."""
import math
import re

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

rng = np.random.default_rng(11)


def T(shape, requires_grad=False):
    return tn.tensor(rng.normal(size=shape), requires_grad=requires_grad)


def numpy_attention(q, k, v, add=0.0):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]) + add
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def test_one_key_returns_its_value(backend_name):
    q, k, v = T((2, 3, 5, 4)), T((2, 3, 1, 4)), T((2, 3, 1, 6))
    out = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(v.numpy(), (2, 3, 5, 6)), rtol=1e-15)


def test_equal_scores_average_the_values(backend_name):
    """A zero query scores every key equally: the output is the mean of the values."""
    v = T((4, 3))
    out = F.scaled_dot_product_attention(tn.zeros(2, 5, dtype=tn.float64), T((4, 5)), v)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(v.numpy().mean(0), (2, 3)), rtol=1e-14)


def test_causal_output_at_t_does_not_depend_on_later_inputs(backend_name):
    q, k, v = T((2, 6, 4)), T((2, 6, 4)), T((2, 6, 3))
    base = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    for t in range(6):
        bumped = [x.numpy().copy() for x in (q, k, v)]
        for x in bumped:
            x[:, t + 1:] += rng.normal(size=x[:, t + 1:].shape) * 10
        out = F.scaled_dot_product_attention(*(tn.tensor(x) for x in bumped), is_causal=True).numpy()
        np.testing.assert_array_equal(out[:, :t + 1], base[:, :t + 1])
        if t < 5:
            assert not np.allclose(out[:, t + 1:], base[:, t + 1:])
    np.testing.assert_allclose(base[:, 0], v.numpy()[:, 0], rtol=1e-15)  # position 0 sees only itself


def test_bool_and_float_masks_agree_with_the_formula(backend_name):
    q, k, v = T((3, 2, 4, 5)), T((3, 2, 6, 5)), T((3, 2, 6, 2))
    allowed = rng.random((4, 6)) > 0.4
    allowed[:, 0] = True
    add = np.where(allowed, 0.0, -np.inf)
    expected = numpy_attention(q.numpy(), k.numpy(), v.numpy(), add)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=tn.tensor(allowed)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=tn.tensor(add)).numpy(), expected, rtol=1e-12)
    causal = np.tril(np.ones((4, 6), bool))
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=tn.tensor(causal)).numpy(),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(), rtol=1e-14)


def test_scale_argument(backend_name):
    q, k, v = T((4, 3)), T((5, 3)), T((5, 2))
    out = F.scaled_dot_product_attention(q, k, v, scale=0.5).numpy()
    np.testing.assert_allclose(out, numpy_attention(q.numpy() * 0.5 * math.sqrt(3), k.numpy(), v.numpy()), rtol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_gradcheck_with_broadcast_batch_dims(causal, backend_name):
    q, k, v = T((2, 1, 4, 3), True), T((3, 4, 3), True), T((1, 4, 2), True)
    w = tn.tensor(rng.normal(size=(2, 3, 4, 2)))
    assert assert_gradients_match(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal) * w, q, k, v)


def test_attention_gradcheck_through_a_float_mask(backend_name):
    q, k, v, m = T((2, 3, 4), True), T((2, 5, 4), True), T((2, 5, 3), True), T((3, 5), True)
    w = tn.tensor(rng.normal(size=(2, 3, 3)))
    assert assert_gradients_match(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m) * w, q, k, v, m)


def test_attention_gradcheck_with_dropout(backend_name):
    """The same dropout mask in every call (re-seeded), so the function is deterministic."""
    q, k, v = T((2, 3, 4), True), T((2, 5, 4), True), T((2, 5, 3), True)

    def fn(q, k, v):
        tn.manual_seed(5)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    assert assert_gradients_match(fn, q, k, v)
    tn.manual_seed(5)
    assert not np.allclose(fn(q, k, v).numpy(), F.scaled_dot_product_attention(q, k, v).numpy())


def test_attention_errors():
    q, k, v = T((2, 4, 3)), T((2, 5, 3)), T((2, 5, 2))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\) does not broadcast to the attention scores' shape \(2, 4, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tn.ones(4, 4, dtype=tn.bool))
    with pytest.raises(ValueError, match="give either attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tn.ones(4, 5, dtype=tn.bool), is_causal=True)
    with pytest.raises(ValueError, match=r"do not fit: shapes \(2, 4, 3\), \(2, 5, 2\), \(2, 5, 2\)"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ValueError, match="batch dims of query"):
        F.scaled_dot_product_attention(q, T((3, 5, 3)), T((3, 5, 2)))


def test_attention_errors_in_full_for_each_input():
    """The whole message, and each of query, key, value alone being the one at fault."""
    op = "scaled_dot_product_attention: "
    with pytest.raises(TypeError, match=rf"^{op}query, key and value must be floating point, got int64$"):
        F.scaled_dot_product_attention(*[tn.ones(2, 3, dtype=tn.int64)] * 3)
    with pytest.raises(ValueError, match=rf"^{op}give either attn_mask or is_causal=True, not both$"):
        F.scaled_dot_product_attention(T((4, 3)), T((5, 3)), T((5, 2)), attn_mask=T((4, 5)), is_causal=True)
    for shapes in [((3,), (2, 3), (2, 3)), ((2, 3), (3,), (2, 3)), ((2, 3), (2, 3), (3,))]:
        with pytest.raises(ValueError, match=rf"^{op}query, key and value need at least 2 dims \(\.\.\., L, E\), "
                                             rf"got shapes {re.escape(', '.join(map(str, shapes)))}$"):
            F.scaled_dot_product_attention(*map(T, shapes))
    for shapes in [((2, 4, 3), (3, 5, 3), (2, 5, 2)), ((2, 4, 3), (2, 5, 3), (3, 5, 2))]:  # key's, value's batch
        with pytest.raises(ValueError, match=rf"^{op}batch dims of query .* cannot be broadcast together$"):
            F.scaled_dot_product_attention(*map(T, shapes))


# ---------------------------------------------------------------- MultiheadAttention
def test_mha_with_one_head_and_identity_projections_is_plain_attention(backend_name):
    mha = nn.MultiheadAttention(4, 1, bias=False).double()
    with tn.no_grad():
        mha.in_proj_weight.copy_(tn.tensor(np.vstack([np.eye(4)] * 3)))
        mha.out_proj.weight.copy_(tn.eye(4, dtype=tn.float64))
    q, k, v = rng.normal(size=(5, 2, 4)), rng.normal(size=(7, 2, 4)), rng.normal(size=(7, 2, 4))
    out, weights = mha(tn.tensor(q), tn.tensor(k), tn.tensor(v))
    expected = numpy_attention(q.transpose(1, 0, 2), k.transpose(1, 0, 2), v.transpose(1, 0, 2))
    np.testing.assert_allclose(out.numpy(), expected.transpose(1, 0, 2), rtol=1e-12)
    s = q.transpose(1, 0, 2) @ k.transpose(1, 2, 0) / 2
    np.testing.assert_allclose(weights.numpy(), np.exp(s) / np.exp(s).sum(-1, keepdims=True), rtol=1e-12)


def test_mha_keys_shapes_and_init():
    mha = nn.MultiheadAttention(6, 3)
    assert [(k, tuple(v.shape)) for k, v in mha.state_dict().items()] == [
        ("in_proj_weight", (18, 6)), ("in_proj_bias", (18,)), ("out_proj.weight", (6, 6)), ("out_proj.bias", (6,))]
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    bound = math.sqrt(6 / (18 + 6))  # xavier_uniform_ over the packed (3E, E) matrix, as PyTorch
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    assert list(nn.MultiheadAttention(6, 3, bias=False).state_dict()) == ["in_proj_weight", "out_proj.weight"]


def test_mha_shapes_batch_first_and_unbatched_agree(backend_name):
    mha = nn.MultiheadAttention(8, 2)
    first = nn.MultiheadAttention(8, 2, batch_first=True)
    first.load_state_dict(mha.state_dict())
    x, mem = T((5, 3, 8)).float(), T((4, 3, 8)).float()
    out, w = mha(x, mem, mem)
    assert out.shape == (5, 3, 8) and w.shape == (3, 5, 4)
    out_b, w_b = first(x.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1), average_attn_weights=False)
    np.testing.assert_allclose(out_b.transpose(0, 1).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    assert w_b.shape == (3, 2, 5, 4)
    np.testing.assert_allclose(w_b.numpy().mean(1), w.numpy(), rtol=1e-5, atol=1e-7)
    one, w1 = mha(x[:, 1], mem[:, 1], mem[:, 1])
    np.testing.assert_allclose(one.numpy(), out.numpy()[:, 1], rtol=1e-5, atol=1e-6)
    assert w1.shape == (5, 4)
    fast, none = mha(x, x, x, need_weights=False)
    assert none is None
    np.testing.assert_allclose(fast.numpy(), mha(x, x, x)[0].numpy(), rtol=1e-5, atol=1e-6)


def test_mha_masks(backend_name):
    mha = nn.MultiheadAttention(4, 2).double()
    x = T((3, 2, 4))
    pad = np.array([[False, False, True], [False, False, False]])
    _, w = mha(x, x, x, key_padding_mask=tn.tensor(pad))
    assert (w.numpy()[0, :, 2] == 0).all() and (w.numpy()[1, :, 2] > 0).all()
    causal = np.triu(np.ones((3, 3), bool), 1)  # MHA's bool mask: True = may not attend
    _, w = mha(x, x, x, attn_mask=tn.tensor(causal))
    assert (w.numpy()[:, causal] == 0).all()
    np.testing.assert_allclose(w.numpy().sum(-1), 1, rtol=1e-12)
    out_hint, _ = mha(x, x, x, attn_mask=tn.tensor(causal), is_causal=True, need_weights=False)
    np.testing.assert_allclose(out_hint.numpy(), mha(x, x, x, attn_mask=tn.tensor(causal))[0].numpy(), rtol=1e-12)
    per_head = np.zeros((2 * 2, 3, 3))
    per_head[1, :, 0] = -np.inf
    _, w = mha(x, x, x, attn_mask=tn.tensor(per_head), average_attn_weights=False)
    assert (w.numpy()[0, 1, :, 0] == 0).all() and (w.numpy()[0, 0, :, 0] > 0).all()


def test_mha_gradcheck(backend_name):
    from test_nn import module_gradcheck

    mha = nn.MultiheadAttention(4, 2)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0] * tn.tensor(np.arange(24.0).reshape(3, 2, 4))
    assert module_gradcheck(SelfAttention(), rng.normal(size=(3, 2, 4))) == 4


def test_mha_errors():
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 3"):
        nn.MultiheadAttention(10, 3)
    mha, x = nn.MultiheadAttention(4, 2), tn.randn(3, 2, 4)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 2\) should be \(3, 3\) or \(4, 3, 3\)"):
        mha(x, x, x, attn_mask=tn.zeros(3, 2))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(3, 2\) should be \(2, 3\)"):
        mha(x, x, x, key_padding_mask=tn.zeros(3, 2, dtype=tn.bool))
    with pytest.raises(ValueError, match="is_causal=True is a hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r"must be \(L, N, 4\)"):
        mha(tn.randn(3, 2, 5), x, x)
