"""Pruning: counts (layer/global/iterative), masks through every optimizer, state dicts, shrink, errors."""
import copy

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn
from tinynn import nn, optim, prune


def mlp(*sizes, act=nn.ReLU, bias=True):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def weights(model):
    with tn.no_grad():
        return [m.weight.numpy().copy() for m in linears(model)]


def zeros(w):
    return int(w.size - np.count_nonzero(w))


def train_steps(model, opt, steps, seed=1):
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        x = tn.tensor(rng.standard_normal((16, linears(model)[0].in_features)).astype(np.float32))
        y = tn.tensor(rng.integers(0, linears(model)[-1].out_features, 16))
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


@given(amount=st.floats(0, 1), sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4))
def test_layer_scope_prunes_round_amount_n_in_each_layer(amount, sizes):
    model = mlp(*sizes)
    before = weights(model)
    prune.magnitude(model, amount, scope="layer")
    for w0, w in zip(before, weights(model)):
        k = round(amount * w0.size)
        assert zeros(w) == k
        pruned = w == 0
        if 0 < k < w.size:  # the pruned ones are the smallest |w|
            assert np.abs(w0[pruned]).max() <= np.abs(w0[~pruned]).min()
        np.testing.assert_array_equal(w[~pruned], w0[~pruned])


@given(amount=st.floats(0, 1), sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4))
def test_global_scope_ranks_all_layers_together(amount, sizes):
    model = mlp(*sizes)
    before = np.concatenate([w.ravel() for w in weights(model)])
    prune.magnitude(model, amount, scope="global")
    after = np.concatenate([w.ravel() for w in weights(model)])
    k = round(amount * before.size)
    assert zeros(after) == k
    assert prune.sparsity(model) == k / before.size
    if 0 < k < before.size:
        assert np.abs(before[after == 0]).max() <= np.abs(before[after != 0]).min()


def test_global_differs_from_layer_scope_when_scales_differ():
    model = mlp(4, 6, 3)
    with tn.no_grad():
        model[0].weight.numpy()[...] *= 100  # layer 0 is large: global pruning takes all from layer 2 first
    g = copy.deepcopy(model)
    prune.magnitude(g, 18, scope="global")
    assert [zeros(w) for w in weights(g)] == [0, 18]
    prune.magnitude(model, 9, scope="layer")
    assert [zeros(w) for w in weights(model)] == [9, 9]


def test_python_rounding_of_the_count():
    for n, amount, expected in [(5, 0.5, 2), (7, 0.5, 4), (3, 0.5, 2), (10, 0.25, 2), (10, 0.35, 4)]:
        layer = nn.Linear(n, 1)
        prune.magnitude(layer, amount)
        assert zeros(layer.weight.numpy()) == expected == round(amount * n)


def test_iterative_pruning_prunes_amount_of_what_is_left():
    model = mlp(10, 20, 5)
    prune.magnitude(model, 0.5)
    prune.magnitude(model, 0.5)
    for w in weights(model):
        k1 = round(0.5 * w.size)
        assert zeros(w) == k1 + round(0.5 * (w.size - k1))
    prune.magnitude(model, 3)  # an int count: 3 more per layer
    n = [w.size for w in weights(model)]
    expected = [k + 3 for k in (150, 75)]
    assert [zeros(w) for w in weights(model)] == expected and n == [200, 100]
    before = [w != 0 for w in weights(model)]
    prune.magnitude(model, 0.0)
    assert all(np.array_equal(b, w != 0) for b, w in zip(before, weights(model)))
    prune.magnitude(model, 1.0, scope="global")
    assert prune.sparsity(model) == 1.0


def test_iterative_global_counts():
    model = mlp(8, 8, 8)
    prune.magnitude(model, 0.9, scope="global")
    assert zeros(np.concatenate([w.ravel() for w in weights(model)])) == round(0.9 * 128)
    prune.magnitude(model, 0.5, scope="global")
    left = 128 - round(0.9 * 128)
    assert sum(zeros(w) for w in weights(model)) == round(0.9 * 128) + round(0.5 * left)


OPTIMIZERS = {
    "sgd-momentum-wd-nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
    "sgd-momentum-dampening-wd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05),
    "sgd-plain": lambda p: optim.SGD(p, lr=0.1),
    "adam-wd": lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1),
    "adamw": lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("structured", [False, True])
def test_masks_persist_through_optimizer_with_state_from_before_pruning(name, structured):
    model = mlp(6, 10, 8, 3)
    opt = OPTIMIZERS[name](model.parameters())  # built before pruning: it holds the original Parameters
    train_steps(model, opt, 3)  # momentum buffers / Adam moments are non-zero everywhere
    prune.magnitude(model, 0.6, scope="global", structured=structured)
    masks = [m.weight_mask.copy() for m in linears(model) if prune.is_pruned(m)]
    s0 = prune.sparsity(model)
    before = weights(model)
    train_steps(model, opt, 15, seed=2)
    after = weights(model)
    for mask, w in zip(masks, after):
        assert np.all(w[mask == 0] == 0)
    assert prune.sparsity(model) == s0
    # the unpruned weights did learn
    assert any(not np.array_equal(a[a != 0], b[a != 0]) for a, b in zip(after, before))
    # the optimizer's Parameter is the layer's weight_orig; its gradient is masked
    for m in linears(model):
        if prune.is_pruned(m):
            assert any(p is m.weight_orig for p in opt.param_groups[0]["params"])
            assert np.all(m.weight_orig.grad[m.weight_mask == 0] == 0)
    prune.remove(model)
    for mask, m in zip(masks, linears(model)):
        assert isinstance(m.weight, nn.Parameter) and np.all(m.weight.numpy()[mask == 0] == 0)
    assert prune.sparsity(model) == s0
    assert type(model[0]) is nn.Linear
    # after remove the same Parameter objects are trained on: zeros are no longer enforced
    assert all(any(p is m.weight for p in opt.param_groups[0]["params"]) for m in linears(model))


def test_masked_gradient_and_forward_match_dense_model_with_zeros():
    model = mlp(5, 7, 4)
    prune.magnitude(model, 0.5)
    dense = copy.deepcopy(model)
    prune.remove(dense)
    x = tn.randn(3, 5)
    y = tn.tensor([0, 1, 3])
    nn.CrossEntropyLoss()(model(x), y).backward()
    nn.CrossEntropyLoss()(dense(x), y).backward()
    for m, d in zip(linears(model), linears(dense)):
        np.testing.assert_allclose(m.weight_orig.grad, d.weight.grad * m.weight_mask, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(m.bias.grad, d.bias.grad, rtol=1e-6, atol=1e-7)


def test_state_dict_round_trip_of_pruned_model(tmp_path):
    model = mlp(6, 9, 4)
    prune.magnitude(model, 0.7, scope="global")
    prune.magnitude(model, 0.25, structured=True)
    sd = model.state_dict()
    assert {"0.weight_orig", "0.weight_mask", "0.bias_orig", "0.bias_mask", "2.weight_orig", "2.weight_mask"} <= set(sd)
    path = tmp_path / "pruned.npz"
    tn.save(sd, path)
    loaded = tn.load(path)
    fresh = mlp(6, 9, 4)
    prune.load_state_dict(fresh, loaded)
    x = tn.randn(4, 6)
    with tn.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
    assert prune.sparsity(fresh) == prune.sparsity(model)
    for a, b in zip(linears(fresh), linears(model)):
        np.testing.assert_array_equal(a.weight_mask, b.weight_mask)
    # and into a model pruned differently (masks of other layers are added as needed)
    other = mlp(6, 9, 4)
    prune.magnitude(other, 0.1, structured=True)
    prune.load_state_dict(other, loaded)
    same = mlp(6, 9, 4)  # a model pruned the same way takes plain load_state_dict
    prune.magnitude(same, 0.5)
    prune.magnitude(same, 0.5, structured=True)
    same.load_state_dict(loaded)
    with tn.no_grad():
        np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())
        np.testing.assert_array_equal(same(x).numpy(), model(x).numpy())
    # deepcopy keeps the pruned layers
    twin = copy.deepcopy(model)
    with tn.no_grad():
        np.testing.assert_array_equal(twin(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("act", [nn.ReLU, nn.Sigmoid, nn.Tanh])
@pytest.mark.parametrize("bias", [True, False])
def test_structured_prune_then_shrink_keeps_outputs(act, bias):
    model = mlp(12, 16, 10, 5, act=act, bias=bias)
    prune.magnitude(model, 0.5, structured=True)
    rows = prune.report(model)
    assert [r["pruned_neurons"] for r in rows] == [8, 5, 0]  # the output layer is left alone
    small = prune.shrink(model)
    assert [(m.in_features, m.out_features) for m in linears(small)] == [(12, 8), (8, 5), (5, 5)]
    assert not any(prune.is_pruned(m) for m in linears(small))
    x = tn.randn(20, 12)
    with tn.no_grad():
        np.testing.assert_allclose(small(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    small_params = sum(p.numel() for p in small.parameters())
    assert small_params < sum(w.size for w in weights(model))


def test_structured_global_and_counts():
    model = mlp(4, 6, 6, 2)
    prune.magnitude(model, 0.5, scope="global", structured=True)
    assert sum(r["pruned_neurons"] for r in prune.report(model)[:-1]) == 6
    prune.magnitude(model, 2, structured=True)  # 2 more neurons per hidden layer
    assert sum(r["pruned_neurons"] for r in prune.report(model)[:-1]) == 10
    with pytest.raises(ValueError, match="more than the"):
        prune.magnitude(model, 3, structured=True)


def test_report_and_sparsity():
    model = mlp(4, 5, 2)
    prune.magnitude(model, 0.5)
    rows = prune.report(model)
    assert [r["layer"] for r in rows] == ["0", "2"]
    assert rows[0]["shape"] == (5, 4) and rows[0]["weights"] == 20 and rows[0]["zeros"] == 10
    assert rows[0]["sparsity"] == 0.5 and rows[0]["masked"]
    assert prune.sparsity(model) == (10 + 5) / 30


@pytest.mark.parametrize("amount, error, match", [
    (-0.1, ValueError, "not a fraction"), (1.5, ValueError, "not a fraction"), (float("nan"), ValueError, "not a fraction"),
    (-3, ValueError, "negative"), (True, TypeError, "amount"), ("half", TypeError, "amount"),
    (21, ValueError, "more than the 20 unpruned weights"),
])
def test_bad_amounts(amount, error, match):
    model = mlp(4, 5, 2)
    with pytest.raises(error, match=match):
        prune.magnitude(model, amount)


def test_more_than_the_weights_globally_and_other_errors():
    model = mlp(4, 5, 2)
    with pytest.raises(ValueError, match="more than the 30 unpruned weights"):
        prune.magnitude(model, 31, scope="global")
    prune.magnitude(model, 25, scope="global")
    with pytest.raises(ValueError, match="more than the 5 unpruned"):
        prune.magnitude(model, 6, scope="global")
    with pytest.raises(ValueError, match="scope"):
        prune.magnitude(model, 0.5, scope="net")
    with pytest.raises(ValueError, match="no Linear"):
        prune.magnitude(nn.Sequential(nn.ReLU()), 0.5)
    with pytest.raises(TypeError, match="Sequential"):
        prune.shrink(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="Softmax"):
        prune.shrink(nn.Sequential(nn.Linear(3, 3), nn.Softmax(), nn.Linear(3, 2)))


def test_pruning_is_a_forward_pre_hook_with_pytorchs_state_dict_keys():
    model = mlp(4, 5, 2)
    fresh_keys = list(model.state_dict())
    prune.magnitude(model, 0.5)
    layer = model[0]
    # weight leaves the parameters, weight_orig is appended after bias, the mask after them (PyTorch's order)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert list(model.state_dict()) == ["0.bias", "0.weight_orig", "0.weight_mask",
                                        "2.bias", "2.weight_orig", "2.weight_mask"]
    assert not isinstance(layer.weight, nn.Parameter) and len(layer._forward_pre_hooks) == 1
    assert type(layer) is nn.Linear  # no class swapped in: the hook does the work
    prune.magnitude(model, 0.2, structured=True)  # the bias of the pruned neuron is masked too
    assert list(layer.state_dict()) == ["weight_orig", "bias_orig", "weight_mask", "bias_mask"]
    assert len(layer._forward_pre_hooks) == 2
    np.testing.assert_array_equal(layer.weight.numpy(), layer.weight_orig.numpy() * layer.weight_mask)
    prune.remove(model)
    assert sorted(model.state_dict()) == sorted(fresh_keys)
    assert isinstance(layer.weight, nn.Parameter) and isinstance(layer.bias, nn.Parameter)
    assert not layer._forward_pre_hooks and not layer._buffers and not prune.is_pruned(layer)
    assert not hasattr(layer, "weight_orig") and not hasattr(layer, "weight_mask")


def test_sgd_with_momentum_and_weight_decay_keeps_pruned_weights_zero():
    model = mlp(6, 10, 3)
    prune.magnitude(model, 0.7, scope="global")
    masks = [m.weight_mask.copy() for m in linears(model)]
    orig = [m.weight_orig.numpy().copy() for m in linears(model)]
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    train_steps(model, opt, 5)
    x = tn.randn(7, 6)
    with tn.no_grad():
        out = model(x).numpy()
    h = x.numpy()
    for i, (m, mask, w0) in enumerate(zip(linears(model), masks, orig)):
        # weight decay moved the hidden W_orig entries, the forward saw exact zeros in their place
        assert np.all(m.weight_orig.numpy()[mask == 0] != w0[mask == 0])
        assert np.all(m.weight.numpy()[mask == 0] == 0)
        np.testing.assert_array_equal(m.weight.numpy(), m.weight_orig.numpy() * mask)
        h = h @ (m.weight_orig.numpy() * mask).T + m.bias.numpy()
        h = np.maximum(h, 0) if i == 0 else h
    np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-6)
    prune.remove(model)
    for m, mask in zip(linears(model), masks):
        assert np.all(m.weight.numpy()[mask == 0] == 0)


def test_unstructured_then_structured_then_shrink_keeps_outputs():
    # Rows that unstructured pruning left partly zero are live neurons: shrink must keep them
    # (a test of any(w != 0) per row, not all(w != 0)).
    model = mlp(12, 16, 10, 5)
    prune.magnitude(model, 0.5)
    prune.magnitude(model, 0.25, structured=True)
    rows = prune.report(model)
    assert [r["pruned_neurons"] for r in rows] == [4, round(0.25 * 10), 0]
    small = prune.shrink(model)
    assert [(m.in_features, m.out_features) for m in linears(small)] == [(12, 12), (12, 8), (8, 5)]
    x = tn.randn(20, 12)
    with tn.no_grad():
        np.testing.assert_allclose(small(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_deepcopy_after_training_keeps_a_working_hook():
    model = mlp(5, 6, 3)
    prune.magnitude(model, 0.5)
    train_steps(model, optim.SGD(model.parameters(), lr=0.1), 2)
    twin = copy.deepcopy(model)
    with tn.no_grad():
        twin[0].weight_orig.numpy()[...] += 1.0  # the copy's hook reads the copy's weight_orig
        out = twin(tn.ones(1, 5))
    np.testing.assert_array_equal(twin[0].weight.numpy(), twin[0].weight_orig.numpy() * twin[0].weight_mask)
    assert np.all(model[0].weight.numpy()[model[0].weight_mask == 0] == 0) and out.shape == (1, 3)


def test_structured_pruning_ranks_neurons_by_l2_norm_and_masks_their_bias():
    model = mlp(2, 3, 4, 2)
    with tn.no_grad():
        # L2 norms 1.414, 1.5, 3; L1 norms 2, 1.5, 4: ranking by L2 prunes neuron 0, by L1 neuron 1
        model[0].weight.numpy()[...] = [[1.0, 1.0], [1.5, 0.0], [3.0, 0.0]]
        model[0].bias.numpy()[...] = [0.5, 0.5, 0.5]
    prune.magnitude(model, 1, structured=True, layers=["0"])
    np.testing.assert_array_equal(model[0].weight_mask, [[0, 0], [1, 1], [1, 1]])
    np.testing.assert_array_equal(model[0].bias_mask, [0, 1, 1])
    with tn.no_grad():
        pre = model[0](tn.randn(5, 2)).numpy()
    assert np.all(pre[:, 0] == 0)  # a pruned neuron's pre-activation is exactly zero, bias included


def test_structured_pruning_of_a_two_layer_model_leaves_the_output_layer():
    model = mlp(4, 6, 3)
    prune.magnitude(model, 0.5, structured=True)
    assert [r["pruned_neurons"] for r in prune.report(model)] == [3, 0]
    assert not prune.is_pruned(model[2])


def test_a_count_of_zero_prunes_nothing_but_attaches_masks():
    model = mlp(4, 5, 2)
    prune.magnitude(model, 0)
    assert prune.sparsity(model) == 0.0 and all(prune.is_pruned(m) for m in linears(model))


def test_load_state_dict_updates_the_masked_weight_before_any_forward():
    model = mlp(4, 5, 2)
    prune.magnitude(model, 0.5)
    fresh = mlp(4, 5, 2)
    prune.load_state_dict(fresh, model.state_dict())
    for a, b in zip(linears(fresh), linears(model)):
        np.testing.assert_array_equal(a.weight.numpy(), b.weight_orig.numpy() * b.weight_mask)
