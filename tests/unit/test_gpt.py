"""GPT and TransformerClassifier: shapes, causality, the loss's closed form, masking of
unscored targets, generation, errors, model files."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F
from tinynn.models import GPT, TransformerClassifier
from tinynn.models.gpt_training import load_gpt, save_gpt

rng = np.random.default_rng(0)


def small():
    return GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def test_logits_shape_and_keys():
    model = small()
    idx = rng.integers(0, 11, (3, 5))
    assert model(idx).shape == (3, 5, 11)
    keys = list(model.state_dict())
    assert keys[:2] == ["wte.weight", "wpe.weight"] and keys[-3:] == ["ln_f.weight", "ln_f.bias", "lm_head.weight"]
    assert "h.1.attn.c_attn.weight" in keys and model.state_dict()["h.1.attn.c_attn.weight"].shape == (48, 16)


def test_a_zero_head_gives_the_uniform_loss_log_v(backend_name):
    model = small()
    with tn.no_grad():
        model.lm_head.weight.zero_()
    idx = rng.integers(0, 11, (4, 8))
    logits, loss = model(idx, idx)
    assert not logits.numpy().any()
    assert loss.item() == pytest.approx(math.log(11), rel=1e-6)


def test_negative_targets_are_not_scored(backend_name):
    model = small()
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    targets[:, :3] = -1
    logits, loss = model(idx, targets)
    expected = F.cross_entropy(logits[:, 3:].reshape(-1, 11), tn.tensor(targets[:, 3:].reshape(-1)))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert np.abs(model.wte.weight.grad.numpy()).sum() > 0


def test_position_t_sees_only_tokens_up_to_t(backend_name):
    model = small()
    idx = rng.integers(0, 11, (2, 8))
    base = model(idx).numpy()
    changed = idx.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 11
    out = model(changed).numpy()
    np.testing.assert_array_equal(out[:, :5], base[:, :5])
    assert not np.allclose(out[:, 5:], base[:, 5:])


def test_generate_greedy_is_the_argmax_path_and_crops_to_the_context():
    model = small().eval()
    idx = rng.integers(0, 11, (2, 3))
    out = model.generate(idx, 9, top_k=1).numpy()
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out[:, :3], idx)
    seq = idx.copy()
    for _ in range(9):  # the argmax of the last position, fed back through the last block_size tokens
        nxt = model(seq[:, -8:]).numpy()[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(out, seq)


def test_sampling_follows_top_k_and_the_seed():
    model = small().eval()
    idx = np.zeros((1, 1), np.int64)
    tn.manual_seed(3)
    a = model.generate(idx, 6, temperature=0.7, top_k=3).numpy()
    tn.manual_seed(3)
    assert (model.generate(idx, 6, temperature=0.7, top_k=3).numpy() == a).all()
    first = model(idx).numpy()[0, -1]
    assert a[0, 1] in np.argsort(first)[-3:]


def test_errors():
    model = small()
    with pytest.raises(ValueError, match="GPT: a sequence of length 9 is longer than the model's context block_size=8"):
        model(np.zeros((1, 9), np.int64))
    with pytest.raises(ValueError, match="GPT: n_embd 10 must be divisible by n_head 3"):
        GPT(5, 4, 1, 3, 10)
    with pytest.raises(IndexError, match="embedding: index 11 is out of range for an embedding of size 11"):
        model(np.array([[1, 11]]))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(np.zeros((1, 1), np.int64), 1, temperature=0)


def test_model_file_round_trip(tmp_path):
    model = small().eval()
    save_gpt(model, tmp_path / "m.npz", task="add")
    again, spec = load_gpt(tmp_path / "m.npz")
    assert spec["arch"] == "gpt" and spec["task"] == "add" and spec["config"]["n_layer"] == 2
    idx = rng.integers(0, 11, (2, 8))
    np.testing.assert_array_equal(again(idx).numpy(), model(idx).numpy())
    tn.save({"x": tn.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="not a GPT model file written by tinynn"):
        load_gpt(tmp_path / "other.npz")


def test_transformer_classifier_shapes_and_gradients(backend_name):
    model = TransformerClassifier(input_dim=8, seq_len=8, num_classes=10, d_model=16, nhead=2, num_layers=2,
                                  dim_feedforward=32, dropout=0.0)
    x = tn.tensor(rng.random((5, 64)).astype(np.float32))
    logits = model(x)
    assert logits.shape == (5, 10)
    np.testing.assert_allclose(model(x.reshape(5, 8, 8)).numpy(), logits.numpy(), rtol=1e-6)
    F.cross_entropy(logits, tn.tensor(np.arange(5))).backward()
    assert all(p.grad is not None for p in model.parameters())
    assert "encoder.layers.1.self_attn.in_proj_weight" in model.state_dict()
    with pytest.raises(ValueError, match=r"each sample needs seq_len \* input_dim = 8 \* 8 values, got shape \(5, 60\)"):
        model(tn.zeros(5, 60))
