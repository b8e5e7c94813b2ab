"""Second derivatives of the sequence ops (GELU, LayerNorm, Embedding, scaled dot-product attention)
and of whole nn.TransformerEncoderLayer / nn.MultiheadAttention: float64 `tn.gradgradcheck` (the
create_graph gradient checked against central differences in the inputs and in the incoming
gradient) on both backends, after checking that the create_graph gradient (the composite kernels
of ops/differentiable.py) equals the first-order one (the backend's kernels), itself gradchecked."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F
from test_gradgradcheck import assert_same_as_first_order


def _check(fn, *inputs, exact=True):
    """fn passes gradcheck (when its gradient is the true one: not for a padding row);
    its create_graph gradient equals the first-order one; gradgradcheck."""
    inputs = inputs[0] if len(inputs) == 1 and isinstance(inputs[0], tuple) else inputs
    assert not exact or tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    return tn.gradgradcheck(fn, *inputs)


def _x(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return tn.tensor(rng.standard_normal(shape) * scale, dtype=tn.float64, requires_grad=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate, backend_name):
    x = _x(3, 4, scale=1.5)
    assert _check(lambda t: F.gelu(t, approximate=approximate), x)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(affine, backend_name):
    x, w, b = _x(2, 3, 4), _x(3, 4, seed=1), _x(3, 4, seed=2)
    if affine:
        assert _check(lambda t, u, c: F.layer_norm(t, (3, 4), u, c), x, w, b)
    else:
        assert _check(lambda t: F.layer_norm(t, (4,)), x)


@pytest.mark.parametrize("wanted", ["input", "weight", "bias"])
def test_layer_norm_one_input_at_a_time(wanted, backend_name):
    """Only one of x, w, b requires grad (the others are constants): it gets its gradient."""
    x, w, b = _x(2, 3, 4), _x(3, 4, seed=1), _x(3, 4, seed=2)
    fixed = {"input": x, "weight": w, "bias": b}
    fixed = {name: (t if name == wanted else t.detach()) for name, t in fixed.items()}

    def fn(t):
        return F.layer_norm(**{**fixed, wanted: t}, normalized_shape=(3, 4))
    assert _check(fn, fixed[wanted])


def test_layer_norm_of_non_contiguous_input_and_weight(backend_name):
    """A transposed x and w are flattened as copies (not views of the inputs): create_graph
    recomputes them from the inputs."""
    x, w = _x(2, 4, 3), _x(4, 3, seed=1)
    assert _check(lambda t, u: F.layer_norm(t.transpose(-1, -2), (3, 4), u.t()), x, w)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_weight(padding_idx, backend_name):
    indices = tn.tensor([[0, 2, 1], [2, 2, 3]])
    w = _x(4, 3)
    assert _check(lambda t: F.embedding(indices, t, padding_idx=padding_idx) ** 2, w,
                  exact=padding_idx is None)  # PyTorch: the padding row gets no gradient


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
def test_scaled_dot_product_attention(mask, backend_name):
    q, k, v = _x(2, 3, 4), _x(2, 3, 4, seed=1), _x(2, 3, 2, seed=2)
    allowed = tn.tensor([[True, False, True], [True, True, False], [False, True, True]]) if mask == "bool" else None
    inputs = (q, k, v) + ((_x(3, 3, seed=3),) if mask == "float" else ())

    def attention(q, k, v, m=allowed):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=mask == "causal")
    assert _check(attention, inputs)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_broadcast_batch_and_more_keys_than_queries(causal, backend_name):
    q, k, v = _x(2, 3, 4), _x(5, 4, seed=1), _x(5, 2, seed=2)  # key and value shared by the batch
    assert _check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), q, k, v)


def test_attention_with_dropout(backend_name):
    """The same dropout mask in every call (re-seeded): the mask scales P in dV and dP."""
    q, k, v = _x(2, 3, 4), _x(2, 5, 4, seed=1), _x(2, 5, 2, seed=2)

    def fn(q, k, v):
        tn.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    assert _check(fn, q, k, v)


@pytest.mark.parametrize("wanted", [0, 1, 2])
def test_attention_one_input_at_a_time(wanted, backend_name):
    """Only one of query, key, value requires grad (the others are constants): it gets its gradient."""
    inputs = [_x(2, 3, 4), _x(2, 5, 4, seed=1), _x(2, 5, 2, seed=2)]
    inputs = [t if i == wanted else t.detach() for i, t in enumerate(inputs)]

    def fn(t):
        return F.scaled_dot_product_attention(*inputs[:wanted], t, *inputs[wanted + 1:])
    assert _check(fn, inputs[wanted])


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer(norm_first, backend_name):
    tn.manual_seed(0)
    layer = tn.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu",
                                          batch_first=True, norm_first=norm_first).double()
    params = list(layer.parameters())
    x = _x(2, 3, 4)
    assert _check(lambda t, w: layer(t) * w.sum(), x, params[0])


@pytest.mark.parametrize("output", [0, 1])  # the attended values, the averaged attention weights
def test_multihead_attention(output, backend_name):
    tn.manual_seed(0)
    mha = tn.nn.MultiheadAttention(4, 2, batch_first=True).double()
    q, kv = _x(2, 3, 4), _x(2, 2, 4, seed=1)
    padding = tn.tensor([[False, True], [False, False]])
    assert _check(lambda a, b: mha(a, b, b, key_padding_mask=padding)[output], q, kv)


ACTIVATIONS = {  # name -> the function (kinks away from the sample points: 1.5 x standard normal)
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "silu": F.silu,
    "elu": lambda t: F.elu(t, alpha=0.7),
    "softplus": lambda t: F.softplus(t, beta=2.0, threshold=2.0),
    "hardtanh": lambda t: F.hardtanh(t, -1.0, 1.0) * t,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations(name, backend_name):
    assert _check(ACTIVATIONS[name], _x(3, 4, seed=5, scale=1.5))
