"""Second derivatives of the sequence ops (GELU, LayerNorm, Embedding, scaled dot-product attention)
and of whole nn.TransformerEncoderLayer / nn.MultiheadAttention: float64 `tn.gradgradcheck` (the
create_graph gradient checked against central differences in the inputs and in the incoming
gradient) on both backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F


def _x(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return tn.tensor(rng.standard_normal(shape) * scale, dtype=tn.float64, requires_grad=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate, backend_name):
    x = _x(3, 4, scale=1.5)
    assert tn.gradgradcheck(lambda t: F.gelu(t, approximate=approximate), x)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(affine, backend_name):
    x, w, b = _x(2, 3, 4), _x(3, 4, seed=1), _x(3, 4, seed=2)
    if affine:
        assert tn.gradgradcheck(lambda t, u, c: F.layer_norm(t, (3, 4), u, c), x, w, b)
    else:
        assert tn.gradgradcheck(lambda t: F.layer_norm(t, (4,)), x)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_weight(padding_idx, backend_name):
    indices = tn.tensor([[0, 2, 1], [2, 2, 3]])
    w = _x(4, 3)
    assert tn.gradgradcheck(lambda t: F.embedding(indices, t, padding_idx=padding_idx) ** 2, w)


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
def test_scaled_dot_product_attention(mask, backend_name):
    q, k, v = _x(2, 3, 4), _x(2, 3, 4, seed=1), _x(2, 3, 2, seed=2)
    options = {"is_causal": mask == "causal"}
    if mask == "bool":
        options["attn_mask"] = tn.tensor([[True, False, True], [True, True, False], [False, True, True]])
    inputs = (q, k, v)
    if mask == "float":
        inputs += (_x(3, 3, seed=3),)

    def attention(q, k, v, m=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **options)
    assert tn.gradgradcheck(attention, inputs)


def test_transformer_encoder_layer(backend_name):
    tn.manual_seed(0)
    layer = tn.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu",
                                          batch_first=True).double()
    params = list(layer.parameters())
    x = _x(2, 3, 4)
    assert tn.gradgradcheck(lambda t, w: layer(t) * w.sum(), x, params[0])


def test_multihead_attention(backend_name):
    tn.manual_seed(0)
    mha = tn.nn.MultiheadAttention(4, 2, batch_first=True).double()
    q, kv = _x(2, 3, 4), _x(2, 2, 4, seed=1)
    assert tn.gradgradcheck(lambda a, b: mha(a, b, b)[0], q, kv)
