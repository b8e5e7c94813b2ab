"""Embedding: the lookup, its scatter-add gradient, padding_idx, initialisation, errors."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match


def test_lookup_picks_rows(backend_name):
    emb = nn.Embedding(5, 3)
    idx = tn.tensor([[4, 0, 4], [1, 1, 2]])
    y = emb(idx)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y.numpy(), emb.weight.numpy()[[[4, 0, 4], [1, 1, 2]]])


def test_gradient_counts_each_index(backend_name):
    """d sum(W[idx]) / dW[i] = (how often i occurs) * ones."""
    emb = nn.Embedding(5, 2)
    emb(tn.tensor([[4, 0, 4], [1, 4, 2]])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [1, 1, 1, 0, 3])
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 1], [1, 1, 1, 0, 3])


def test_embedding_gradcheck(backend_name):
    w = tn.tensor(np.random.default_rng(0).normal(size=(6, 3)), requires_grad=True)
    idx = np.array([[0, 5, 5], [2, 0, 3]])
    scale = tn.tensor(np.arange(18.0).reshape(2, 3, 3))
    assert assert_gradients_match(lambda w: F.embedding(tn.tensor(idx), w) * scale, w)


def test_padding_row_starts_at_zero_and_never_learns(backend_name):
    emb = nn.Embedding(4, 3, padding_idx=1)
    assert emb.weight.numpy()[1].tolist() == [0.0, 0.0, 0.0]
    emb(tn.tensor([1, 2, 1, 0])).sum().backward()
    assert emb.weight.grad.numpy()[1].tolist() == [0.0, 0.0, 0.0]
    assert emb.weight.grad.numpy()[2].tolist() == [1.0, 1.0, 1.0]
    assert nn.Embedding(4, 3, padding_idx=-1).padding_idx == 3


def test_init_is_standard_normal_and_keys_are_pytorchs():
    emb = nn.Embedding(4000, 8)
    w = emb.weight.numpy()
    assert list(emb.state_dict()) == ["weight"] and w.shape == (4000, 8)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # 32,000 draws: 5 sigma


@pytest.mark.parametrize("bad", [5, -1])
def test_an_index_out_of_range_names_the_index_and_the_size(bad):
    with pytest.raises(IndexError, match=f"embedding: index {bad} is out of range for an embedding of size 5"):
        nn.Embedding(5, 2)(tn.tensor([0, bad]))


def test_other_errors():
    with pytest.raises(TypeError, match="embedding: indices must be integers, got dtype float32"):
        nn.Embedding(5, 2)(tn.tensor([1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx 5 must be within num_embeddings 5"):
        nn.Embedding(5, 2, padding_idx=5)
