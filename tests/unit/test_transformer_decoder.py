"""TransformerDecoderLayer, TransformerDecoder and Transformer (and the encoder options they share):
PyTorch's documented state-dict keys, the residual wiring written out from the layer's own
submodules, a one-key cross-attention closed form, causal independence, key padding as removed
keys, batch_first as a transpose, the causal mask, float64 gradcheck and gradgradcheck."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(13)

DECODER_LAYER_KEYS = [
    "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
    "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight",
    "multihead_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
    "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"]
ENCODER_LAYER_KEYS = [
    "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
    "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
    "norm2.weight", "norm2.bias"]


def _t(*shape):
    return tn.tensor(rng.normal(size=shape))


def _layer(norm_first=False, batch_first=False, **options):
    return nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first, batch_first=batch_first,
                                      **options).double()


def test_keys_submodules_and_defaults_are_pytorchs():
    layer = nn.TransformerDecoderLayer(8, 2)
    assert list(layer.state_dict()) == DECODER_LAYER_KEYS
    assert [name for name, _ in layer.named_children()] == [
        "self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
        "dropout1", "dropout2", "dropout3"]
    assert layer.linear1.out_features == 2048 and layer.dropout3.p == 0.1 and layer.norm3.eps == 1e-5
    assert layer.activation is F.relu and not layer.norm_first and not layer.self_attn.batch_first
    assert list(nn.TransformerDecoderLayer(8, 2, bias=False).state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "multihead_attn.in_proj_weight",
        "multihead_attn.out_proj.weight", "linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight",
        "norm3.weight"]
    dec = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(8))
    assert list(dec.state_dict()) == [f"layers.{i}.{k}" for i in range(2) for k in DECODER_LAYER_KEYS] + [
        "norm.weight", "norm.bias"]
    assert dec.layers[0].linear1.weight is not dec.layers[1].linear1.weight  # copies, not one shared layer


def test_transformer_keys_shapes_and_initialisation():
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16)
    state = model.state_dict()
    assert list(state) == ([f"encoder.layers.{i}.{k}" for i in range(2) for k in ENCODER_LAYER_KEYS]
                           + ["encoder.norm.weight", "encoder.norm.bias"]
                           + [f"decoder.layers.0.{k}" for k in DECODER_LAYER_KEYS]
                           + ["decoder.norm.weight", "decoder.norm.bias"])
    assert state["decoder.layers.0.multihead_attn.in_proj_weight"].shape == (24, 8)
    assert state["encoder.layers.1.linear1.weight"].shape == (16, 8) and state["decoder.norm.bias"].shape == (8,)
    assert (model.d_model, model.nhead, model.batch_first) == (8, 2, False)
    for name, p in model.named_parameters():  # xavier-uniform: |w| <= sqrt(6 / (fan_in + fan_out))
        if p.ndim > 1:
            assert np.abs(p.numpy()).max() <= np.sqrt(6 / sum(p.shape)), name
        elif name.endswith("norm1.weight") or name.endswith("norm.weight"):
            assert np.all(p.numpy() == 1), name
    default = nn.Transformer()
    assert len(default.encoder.layers) == 6 and len(default.decoder.layers) == 6
    assert default.decoder.layers[5].linear1.weight.shape == (2048, 512)
    assert default.encoder.layers[0].self_attn.num_heads == 8


@pytest.mark.parametrize("norm_first", [False, True])
def test_the_layer_is_its_residual_wiring(norm_first, backend_name):
    """The output equals the three residual blocks written out from the layer's own submodules."""
    layer = _layer(norm_first, activation="gelu")
    with tn.no_grad():  # distinct norms and biases, so that a swapped submodule shows
        for p in layer.parameters():
            p.copy_(_t(*p.shape))
    x, m = _t(5, 3, 8), _t(4, 3, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=tn.float64)
    pad = tn.tensor(np.array([[False] * 4, [False, False, True, True], [False] * 4]))

    def sa(h):
        return layer.self_attn(h, h, h, attn_mask=causal)[0]

    def mha(h):
        return layer.multihead_attn(h, m, m, key_padding_mask=pad)[0]

    def ff(h):
        return layer.linear2(F.gelu(layer.linear1(h)))
    if norm_first:
        h = x + sa(layer.norm1(x))
        h = h + mha(layer.norm2(h))
        expected = h + ff(layer.norm3(h))
    else:
        h = layer.norm1(x + sa(x))
        h = layer.norm2(h + mha(h))
        expected = layer.norm3(h + ff(h))
    got = layer(x, m, tgt_mask=causal, memory_key_padding_mask=pad)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_cross_attention_to_one_memory_position_is_its_projected_value(backend_name):
    """With one key, softmax is 1: MHA(x, m) = W_o (W_v m + b_v) + b_o whatever the queries, so a
    pre-norm layer whose self-attention and feed-forward outputs are zeroed adds that constant."""
    layer = _layer(norm_first=True)
    with tn.no_grad():
        for p in (layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias, layer.linear2.weight,
                  layer.linear2.bias):
            p.zero_()
    x, m = _t(5, 2, 8), _t(1, 2, 8)
    w, b = layer.multihead_attn.in_proj_weight.numpy(), layer.multihead_attn.in_proj_bias.numpy()
    value = m.numpy() @ w[16:].T + b[16:]
    added = value @ layer.multihead_attn.out_proj.weight.numpy().T + layer.multihead_attn.out_proj.bias.numpy()
    np.testing.assert_allclose(layer(x, m).numpy(), x.numpy() + added, rtol=1e-12, atol=1e-12)


def test_post_norm_rows_have_mean_0_and_variance_1(backend_name):
    y = nn.TransformerDecoder(_layer(), 2)(_t(5, 3, 8) * 3, _t(4, 3, 8)).numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, rtol=1e-3)  # eps = 1e-5 against a variance of order 1


@pytest.mark.parametrize("is_causal", [None, False, True])
def test_a_causal_transformer_does_not_look_ahead(is_causal, backend_name):
    tn.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True).double()
    src, tgt = _t(2, 4, 8), rng.normal(size=(2, 6, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    base = model(src, tn.tensor(tgt), tgt_mask=mask, tgt_is_causal=is_causal).numpy()
    tgt[:, 3:] += 5
    out = model(src, tn.tensor(tgt), tgt_mask=mask, tgt_is_causal=is_causal).numpy()
    np.testing.assert_allclose(out[:, :3], base[:, :3], rtol=1e-12, atol=1e-12)
    assert not np.allclose(out[:, 3:], base[:, 3:])


def test_padded_keys_are_removed_keys(backend_name):
    """memory padding = a shorter memory; target padding (with the causal mask) = a shorter target."""
    dec = nn.TransformerDecoder(_layer(batch_first=True), 2)
    tgt, mem = _t(1, 5, 8), _t(1, 6, 8)
    mpad = tn.tensor(np.array([[False] * 4 + [True] * 2]))
    tpad = tn.tensor(np.array([[False] * 3 + [True] * 2]))
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=tn.float64)
    full = dec(tgt, mem, tgt_mask=causal, tgt_key_padding_mask=tpad, memory_key_padding_mask=mpad).numpy()
    short = dec(tgt[:, :3], mem[:, :4], tgt_mask=causal[:3, :3]).numpy()
    np.testing.assert_allclose(full[:, :3], short, rtol=1e-12, atol=1e-12)


def test_float_and_bool_masks_agree(backend_name):
    layer = _layer()
    x, m = _t(4, 2, 8), _t(3, 2, 8)
    banned = np.array([[False, True, False], [True, False, False], [False, False, True], [False, True, True]])
    as_bool = layer(x, m, memory_mask=tn.tensor(banned)).numpy()
    as_float = layer(x, m, memory_mask=tn.tensor(np.where(banned, -np.inf, 0.0))).numpy()
    np.testing.assert_array_equal(as_bool, as_float)


def test_batch_first_is_a_transpose_and_unbatched_is_a_batch_of_one(backend_name):
    a = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0).double()
    b = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True).double()
    b.load_state_dict(a.state_dict())
    src, tgt = _t(4, 2, 8), _t(3, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=tn.float64)
    seq_first = a(src, tgt, tgt_mask=mask).numpy()
    batch_first = b(src.transpose(0, 1), tgt.transpose(0, 1), tgt_mask=mask).numpy()
    np.testing.assert_allclose(batch_first, seq_first.transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    single = a(src[:, 1], tgt[:, 1], tgt_mask=mask).numpy()
    np.testing.assert_allclose(single, seq_first[:, 1], rtol=1e-12, atol=1e-12)


def test_transformer_is_decoder_of_encoder(backend_name):
    model = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, norm_first=True).double()
    src, tgt = _t(4, 2, 8), _t(3, 2, 8)
    pad = tn.tensor(np.array([[False, False, False, True], [False] * 4]))
    memory = model.encoder(src, src_key_padding_mask=pad)
    expected = model.decoder(tgt, memory, memory_key_padding_mask=pad).numpy()
    got = model(src, tgt, src_key_padding_mask=pad, memory_key_padding_mask=pad).numpy()
    np.testing.assert_array_equal(got, expected)
    custom = nn.Transformer(8, 2, custom_encoder=model.encoder, custom_decoder=model.decoder)
    assert custom.encoder is model.encoder and custom.decoder is model.decoder


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    inf = float("inf")
    assert mask.dtype == np.float32 and mask.numpy().tolist() == [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=tn.float64).dtype == np.float64
    assert not mask.requires_grad


def test_encoder_options_and_causal_detection(backend_name):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False, mask_check=False)
    assert (enc.enable_nested_tensor, enc.mask_check) == (False, False) and layer.activation is F.relu
    x = _t(2, 5, 8)
    bool_mask = tn.tensor(np.triu(np.ones((5, 5), bool), 1))
    float_mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=tn.float64)
    detected = enc(x, mask=bool_mask).numpy()  # is_causal=None: detected, attention skips the mask
    for mask in (bool_mask, float_mask):
        np.testing.assert_allclose(enc(x, mask=mask, is_causal=False).numpy(), detected, rtol=1e-12, atol=1e-12)


def test_dropout_runs_only_in_training():
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.5)
    x, m = tn.randn(4, 2, 8), tn.randn(3, 2, 8)
    assert not np.allclose(layer(x, m).numpy(), layer(x, m).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x, m).numpy(), layer(x, m).numpy())


def test_activations_by_name_or_callable_and_errors():
    assert nn.TransformerDecoderLayer(8, 2, activation="gelu").activation is F.gelu
    assert nn.TransformerDecoderLayer(8, 2, activation=F.silu).activation is F.silu
    for cls in (nn.TransformerDecoderLayer, nn.TransformerEncoderLayer):
        with pytest.raises(RuntimeError, match=f"{cls.__name__}: activation should be relu/gelu, not 'swish'"):
            cls(8, 2, activation="swish")
        with pytest.raises(TypeError, match="activation must be 'relu', 'gelu' or a callable"):
            cls(8, 2, activation=3)
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match=r"the batch number of src and tgt must be equal, got src of shape "
                                           r"\(3, 2, 8\) and tgt of shape \(3, 4, 8\)"):
        model(tn.randn(3, 2, 8), tn.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match=r"the feature number of src and tgt must be equal to d_model \(8\)"):
        model(tn.randn(3, 2, 6), tn.randn(3, 2, 6))
    with pytest.raises(TypeError, match="generate_square_subsequent_mask: dtype must be a float dtype"):
        nn.Transformer.generate_square_subsequent_mask(3, dtype=tn.int64)


def _swapped(layer, names, fn):
    """fn with the layer's parameters `names` replaced by the Tensors given after fn's own inputs."""
    def call(*args):
        own, values = args[:-len(names)], args[-len(names):]
        saved = []
        for name, value in zip(names, values):
            owner, _, leaf = name.rpartition(".")
            module = layer.get_submodule(owner)
            saved.append((module, leaf, getattr(module, leaf)))
            object.__setattr__(module, leaf, value)
        try:
            return fn(*own)
        finally:
            for module, leaf, param in saved:
                object.__setattr__(module, leaf, param)
    return call


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_gradcheck_and_gradgradcheck(norm_first, backend_name):
    from test_gradgradcheck import assert_same_as_first_order
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, activation="gelu", norm_first=norm_first).double()
    names = ["multihead_attn.in_proj_weight", "linear1.bias", "norm2.weight"]
    causal = np.triu(np.ones((3, 3), bool), 1)
    pad = tn.tensor(np.array([[False, False], [False, True]]))

    def fn(tgt, memory):
        return layer(tgt, memory, tgt_mask=tn.tensor(causal), memory_key_padding_mask=pad)
    fn = _swapped(layer, names, fn)
    params = [layer.get_parameter(n).detach().requires_grad_() for n in names]
    inputs = (tn.tensor(rng.normal(size=(3, 2, 4)), requires_grad=True),
              tn.tensor(rng.normal(size=(2, 2, 4)), requires_grad=True), *params)
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


def test_every_parameter_gets_its_gradient(backend_name):
    from test_nn import module_gradcheck

    class Weighted(nn.Module):  # sum(w * y): a plain sum of a LayerNorm's output is constant
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, batch_first=True)
            self.memory = tn.tensor(rng.normal(size=(2, 2, 4)))

        def forward(self, x):
            return self.layer(x, self.memory) * tn.tensor(np.arange(24.0).reshape(2, 3, 4) - 11)
    assert module_gradcheck(Weighted(), rng.normal(size=(2, 3, 4)), atol=1e-7) == len(DECODER_LAYER_KEYS)
