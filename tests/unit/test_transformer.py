"""TransformerEncoderLayer and TransformerEncoder: PyTorch's submodule names and keys, the
post-norm output statistics, pre-norm residual identity, causal independence, gradient checks."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn

rng = np.random.default_rng(5)

KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
        "norm2.weight", "norm2.bias"]


def test_keys_and_submodules_are_pytorchs():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert list(layer.state_dict()) == KEYS
    assert [name for name, _ in layer.named_children()] == [
        "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    assert layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5 and layer.linear1.out_features == 16
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    assert list(enc.state_dict()) == [f"layers.{i}.{k}" for i in range(3) for k in KEYS] + ["norm.weight", "norm.bias"]
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight  # copies, not one shared layer
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.numpy(), enc.layers[2].linear1.weight.numpy())


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_post_norm_output_rows_have_mean_0_and_variance_1(activation, backend_name):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation).double()
    y = layer(tn.tensor(rng.normal(size=(5, 3, 8)) * 4)).numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, rtol=1e-3)  # eps = 1e-5 against a variance of order 1


def test_pre_norm_with_zero_output_projections_is_the_identity(backend_name):
    """x + SA(norm1(x)) + FF(norm2(.)): with out_proj and linear2 zero, both branches add 0."""
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    with tn.no_grad():
        for p in (layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias, layer.linear2.weight, layer.linear2.bias):
            p.zero_()
    x = tn.randn(4, 2, 8)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_a_causal_encoder_does_not_look_ahead(backend_name):
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2)
    mask = tn.tensor(np.triu(np.ones((6, 6), bool), 1))
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    base = enc(tn.tensor(x), mask=mask, is_causal=True).numpy()
    x[:, 4:] += 5
    out = enc(tn.tensor(x), mask=mask, is_causal=True).numpy()
    np.testing.assert_array_equal(out[:, :4], base[:, :4])
    assert not np.allclose(out[:, 4:], base[:, 4:])


def test_padding_keys_change_nothing_for_the_other_positions(backend_name):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    x = rng.normal(size=(1, 5, 8))
    pad = tn.tensor(np.array([[False, False, False, True, True]]))
    full = layer(tn.tensor(x), src_key_padding_mask=pad).numpy()
    short = layer(tn.tensor(x[:, :3])).numpy()
    np.testing.assert_allclose(full[:, :3], short, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradcheck(norm_first, backend_name):
    from test_nn import module_gradcheck

    class Weighted(nn.Module):  # sum(w * y): a plain sum of a LayerNorm's output is constant
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu", norm_first=norm_first)

        def forward(self, x):
            return self.layer(x) * tn.tensor(np.arange(24.0).reshape(3, 2, 4) - 11)
    assert module_gradcheck(Weighted(), rng.normal(size=(3, 2, 4)), atol=1e-7) == len(KEYS)


def test_dropout_runs_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = tn.randn(4, 2, 8)
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_unknown_activation_is_an_error():
    with pytest.raises(ValueError, match="activation should be relu/gelu, not 'swish'"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
