"""F.embedding_bag and nn.EmbeddingBag: every mode equals the reduction of the plain embedding rows of
each bag (sum, mean, max; per_sample_weights; padding_idx left out of the bag and of its count; empty
bags give zeros), both input layouts and include_last_offset, hand-computed values, the max's gradient
going to the first maximum, the module's state and from_pretrained, PyTorch's errors, and float64
gradcheck and gradgradcheck (weight and per_sample_weights) on both backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(11)
W = np.arange(30, dtype=np.float64).reshape(10, 3)  # row i is (3i, 3i + 1, 3i + 2)
INPUT = np.array([1, 2, 4, 5, 4, 3, 2, 9])


def bag(input, offsets=None, **kw):
    return F.embedding_bag(tn.tensor(input), tn.tensor(W), None if offsets is None else tn.tensor(offsets), **kw)


def reference(weight, flat, bags, mode, sample_weights=None, padding_idx=None):
    """The reduction of each bag's rows, written from the definition."""
    out = np.zeros((len(bags), weight.shape[1]))
    for b, members in enumerate(bags):
        members = [j for j in members if flat[j] != padding_idx]
        if not members:
            continue
        rows = weight[flat[members]] * (1 if sample_weights is None else sample_weights[members][:, None])
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


def test_hand_computed_values():
    # bags [1, 2, 4, 5] and [4, 3, 2, 9]: sums of the first coordinates 3 (1 + 2 + 4 + 5) = 36, 3 * 18 = 54
    np.testing.assert_array_equal(bag(INPUT, [0, 4], mode="sum").numpy(), [[36, 40, 44], [54, 58, 62]])
    np.testing.assert_array_equal(bag(INPUT, [0, 4], mode="mean").numpy(), [[9, 10, 11], [13.5, 14.5, 15.5]])
    np.testing.assert_array_equal(bag(INPUT, [0, 4], mode="max").numpy(), [[15, 16, 17], [27, 28, 29]])
    # padding_idx=2 leaves 2 out of both bags and of their counts: (3 + 12 + 15) / 3 = 10, (12 + 9 + 27) / 3 = 16
    np.testing.assert_array_equal(bag(INPUT, [0, 4], padding_idx=2).numpy(), [[10, 11, 12], [16, 17, 18]])
    # empty bags (offsets 2, 2 and 8 = len) give zeros in every mode
    for mode in ("sum", "mean", "max"):
        out = bag(INPUT, [0, 2, 2, 8], mode=mode).numpy()
        assert not out[1].any() and not out[3].any()
    # per_sample_weights a (sum only): y_b = sum_j a_j W[i_j]; 0 * 3 + 1 * 6 + 2 * 12 + 3 * 15 = 75
    weights = tn.tensor(np.arange(8, dtype=np.float64))
    np.testing.assert_array_equal(bag(INPUT, [0, 4], mode="sum", per_sample_weights=weights).numpy()[0], [75, 81, 87])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_every_mode_is_the_reduction_of_the_embedding_rows(mode):
    weight = rng.normal(size=(7, 4))
    for trial in range(6):
        n = int(rng.integers(0, 9))
        flat = rng.integers(0, 7, n)
        offsets = np.sort(np.concatenate([[0], rng.integers(0, n + 1, 3)]))
        ends = list(offsets[1:]) + [n]
        bags = [list(range(s, e)) for s, e in zip(offsets, ends)]
        padding = [None, 3][trial % 2]
        got = F.embedding_bag(tn.tensor(flat), tn.tensor(weight), tn.tensor(offsets), mode=mode, padding_idx=padding)
        np.testing.assert_allclose(got.numpy(), reference(weight, flat, bags, mode, padding_idx=padding), rtol=1e-14)
        last = F.embedding_bag(tn.tensor(flat), tn.tensor(weight), tn.tensor(np.append(offsets, n)), mode=mode,
                               padding_idx=padding, include_last_offset=True)
        np.testing.assert_array_equal(last.numpy(), got.numpy())
    # sum of one bag = sum of F.embedding's rows
    rows = F.embedding(tn.tensor([[2, 5, 5]]), tn.tensor(weight))
    fixed = F.embedding_bag(tn.tensor([[2, 5, 5]]), tn.tensor(weight), mode=mode)
    np.testing.assert_allclose(fixed.numpy(), {"sum": rows.sum(1), "mean": rows.mean(1),
                                               "max": rows.max(1).values}[mode].numpy(), rtol=1e-14)


def test_two_d_input_and_offsets_agree():
    two_d = bag(INPUT.reshape(2, 4), mode="mean").numpy()
    np.testing.assert_array_equal(two_d, bag(INPUT, [0, 4], mode="mean").numpy())
    # include_last_offset: offsets has B + 1 entries; the last bag runs to the end of the input (PyTorch)
    np.testing.assert_array_equal(bag(INPUT, [0, 3, 5], mode="sum", include_last_offset=True).numpy(),
                                  reference(W, INPUT, [[0, 1, 2], [3, 4, 5, 6, 7]], "sum"))
    assert bag(INPUT.astype(np.int32), np.array([0, 4], np.int32)).dtype == np.float64


def test_max_gradient_goes_to_the_first_maximum():
    weight = tn.tensor([[1.0, 5.0], [1.0, 2.0], [0.0, 5.0]], requires_grad=True)
    out = F.embedding_bag(tn.tensor([0, 1, 2, 2, 0]), weight, tn.tensor([0, 3]), mode="max")
    np.testing.assert_array_equal(out.numpy(), [[1, 5], [1, 5]])
    out.sum().backward()
    # bag 1 (rows 0, 1, 2): row 0 first in both columns; bag 2 (rows 2, 0): column 0 row 0, column 1 row 2
    np.testing.assert_array_equal(weight.grad.numpy(), [[2, 1], [0, 0], [0, 1]])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_gradients_of_first_and_second_order(mode, backend_name):
    weight = tn.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    indices, offsets = tn.tensor([1, 4, 1, 0, 2, 2, 3]), tn.tensor([0, 2, 2, 5])
    fn = lambda w: F.embedding_bag(indices, w, offsets, mode=mode, padding_idx=0) ** 2  # noqa: E731
    assert tn.gradcheck(fn, weight) and tn.gradgradcheck(fn, weight)
    if mode == "sum":
        a = tn.tensor(rng.normal(size=7), requires_grad=True)
        fn = lambda w, s: F.embedding_bag(indices, w, offsets, mode="sum", per_sample_weights=s) ** 2  # noqa: E731
        assert tn.gradcheck(fn, weight, a) and tn.gradgradcheck(fn, weight, a)


def test_module_state_and_from_pretrained():
    tn.manual_seed(0)
    m = nn.EmbeddingBag(10, 3, padding_idx=-2)
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (10, 3) and m.padding_idx == 8
    assert not m.weight.numpy()[8].any() and m.weight.dtype == np.float32
    assert repr(m) == "EmbeddingBag(10, 3, mode='mean', padding_idx=8)"
    assert repr(nn.EmbeddingBag(4, 2, mode="max")) == "EmbeddingBag(4, 2, mode='max')"
    pretrained = tn.tensor(W)
    frozen = nn.EmbeddingBag.from_pretrained(pretrained, mode="sum")
    assert frozen.weight._data is pretrained._data and not frozen.weight.requires_grad
    assert nn.EmbeddingBag.from_pretrained(pretrained, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(frozen(tn.tensor(INPUT), tn.tensor([0, 4])).numpy(), bag(INPUT, [0, 4], mode="sum")
                                  .numpy())
    weights = tn.tensor(np.ones(8))
    np.testing.assert_array_equal(frozen(tn.tensor(INPUT), tn.tensor([0, 4]), weights).numpy(),
                                  bag(INPUT, [0, 4], mode="sum").numpy())


def test_errors_name_the_problem():
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(INPUT, [0, 4], mode="mean", per_sample_weights=tn.tensor(np.ones(8)))
    with pytest.raises(ValueError, match="must have the input's shape"):
        bag(INPUT, [0, 4], mode="sum", per_sample_weights=tn.tensor(np.ones(3)))
    with pytest.raises(TypeError, match="weight's dtype"):
        bag(INPUT, [0, 4], mode="sum", per_sample_weights=tn.tensor(np.ones(8, np.float32)))
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(INPUT.reshape(2, 4), [0, 4])
    with pytest.raises(ValueError, match="offsets has to be a 1-D tensor"):
        bag(INPUT)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        bag(INPUT, [1, 4])
    with pytest.raises(RuntimeError, match="can not be greater than input's length 8"):
        bag(INPUT, [0, 9])
    with pytest.raises(ValueError, match="must not decrease"):
        bag(INPUT, [0, 5, 3])
    with pytest.raises(IndexError, match="10"):
        bag(np.array([10]), [0])
    with pytest.raises(TypeError, match="integer indices"):
        bag(INPUT.astype(np.float64), [0, 4])
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        bag(INPUT, [0, 4], mode="min")
    with pytest.raises(ValueError, match="1-D or 2-D"):
        bag(INPUT.reshape(2, 2, 2))
    with pytest.raises(ValueError, match="padding_idx must be within"):
        bag(INPUT, [0, 4], padding_idx=10)
    with pytest.raises(NotImplementedError, match="max_norm"):
        bag(INPUT, [0, 4], max_norm=1.0)
    with pytest.raises(ValueError, match="padding_idx 7 must be within num_embeddings 5"):
        nn.EmbeddingBag(5, 2, padding_idx=7)
    with pytest.raises(ValueError, match="does not match"):
        nn.EmbeddingBag(5, 2, _weight=tn.ones(4, 2))
