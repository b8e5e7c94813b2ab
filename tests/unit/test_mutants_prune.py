"""Tests that kill mutants mutmut left alive in tinynn/compress/prune.py (scripts/mutation.py;
report in docs/mutation-report.md), through its public functions: the errors name the function
and the cause; `layers=` picks layers by module or by name; structured pruning zeroes whole
neurons (weight row and bias entry) and leaves a single-layer model's only layer in; report()'s
fields against counts made here; ties broken by position; shrink() folds constant neurons into
the next bias and keeps the dtype."""

import numpy as np
import pytest

import tinynn as tn
from helpers.messages import raises
from tinynn import nn
from tinynn.compress import prune



def mlp(*sizes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for k, (i, o) in enumerate(zip(sizes, sizes[1:])):
        lin = nn.Linear(i, o, dtype=dtype)
        lin.weight.numpy()[...] = rng.standard_normal((o, i))
        lin.bias.numpy()[...] = rng.standard_normal(o)
        layers += [lin] + ([nn.ReLU()] if k < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def weight(layer):
    return np.asarray(layer.weight.numpy())


def test_errors_name_the_function_and_the_cause():
    with raises(ValueError, "prune.magnitude: ReLU has no Linear layer to prune"):
        prune.magnitude(nn.ReLU(), 0.5)
    with raises(ValueError, "prune.sparsity: ReLU has no Linear layer"):
        prune.sparsity(nn.ReLU())
    model = mlp(3, 4, 2)
    with raises(ValueError, "prune.magnitude: no Linear layer named 'x'; have ['0', '2']"):
        prune.magnitude(model, 0.5, layers=["x"])
    with raises(ValueError, "prune.magnitude: Linear in layers is not a Linear of this model"):
        prune.magnitude(model, 0.5, layers=[nn.Linear(3, 4)])
    with raises(TypeError, "prune.shrink: expected an nn.Sequential, got Linear"):
        prune.shrink(nn.Linear(2, 2))
    with raises(ValueError, "prune.shrink: the model has no Linear layer"):
        prune.shrink(nn.Sequential(nn.ReLU()))


@pytest.mark.parametrize("by_name", [True, False])
def test_layers_picks_the_layers_to_prune(by_name):
    model = mlp(3, 4, 2)
    second = "2" if by_name else model[2]
    prune.magnitude(model, 1.0, layers=[second])
    assert np.all(weight(model[2]) == 0) and np.count_nonzero(weight(model[0])) == 12
    assert prune.is_pruned(model[2]) and not prune.is_pruned(model[0])


def test_structured_pruning_of_a_single_layer_model_prunes_it():
    """With one Linear, that layer is pruned (only a multi-layer model spares its output layer)."""
    layer = mlp(3, 4)[0]
    norms = np.linalg.norm(weight(layer), axis=1)
    prune.magnitude(layer, 2, structured=True)
    dead = np.argsort(norms, kind="stable")[:2]
    assert np.all(weight(layer)[dead] == 0) and np.all(np.asarray(layer.bias.numpy())[dead] == 0)
    alive = np.setdiff1d(np.arange(4), dead)
    assert np.all(weight(layer)[alive] != 0)
    model = mlp(3, 4, 2)
    prune.magnitude(model, 1.0, structured=True)
    assert np.all(weight(model[0]) == 0) and np.count_nonzero(weight(model[2])) == 8


def test_ties_are_broken_by_position():
    layer = nn.Linear(4, 1)
    layer.weight.numpy()[...] = [[1.0, -1.0, 1.0, 2.0]]
    prune.magnitude(layer, 2)
    np.testing.assert_array_equal(weight(layer), [[0.0, 0.0, 1.0, 2.0]])


def test_report_counts_zeros_neurons_and_dead_rows():
    model = mlp(3, 4, 2)
    model[0].weight.data[1] = 0                      # one dead row
    model[0].weight.data[2, 0] = 0
    rows = prune.report(model)
    assert [r["layer"] for r in rows] == ["0", "2"]
    assert rows[0]["shape"] == (4, 3) and rows[0]["weights"] == 12 and rows[0]["zeros"] == 4
    assert rows[0]["sparsity"] == 4 / 12 and rows[0]["neurons"] == 4 and rows[0]["pruned_neurons"] == 1
    assert rows[1]["neurons"] == 2 and rows[1]["pruned_neurons"] == 0 and rows[1]["masked"] is False
    assert prune.sparsity(model) == 4 / 20
    assert prune.report(nn.Sequential(nn.Linear(0, 3)))[0]["sparsity"] == 0.0
    assert prune.sparsity(nn.Sequential(nn.Linear(0, 3))) == 0.0
    assert prune.report(nn.Linear(2, 2))[0]["layer"] == ""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shrink_folds_constant_neurons_and_keeps_outputs_and_dtype(dtype):
    model = mlp(3, 5, 4, 2, dtype=dtype, seed=1)
    prune.magnitude(model, 2, structured=True, layers=["0"])
    x = tn.tensor(np.random.default_rng(2).standard_normal((6, 3)).astype(dtype))
    want = model(x).numpy()
    small = prune.shrink(model)
    assert small[0].out_features == 3 and small[0].weight.dtype == dtype
    np.testing.assert_allclose(small(x).numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12)
    live = mlp(3, 5, 2, seed=3)                          # a dead row with a live bias: c_j = relu(b_j) folds in
    live[0].weight.data[1] = 0
    live[0].bias.data[1] = 0.75
    x = tn.tensor(np.random.default_rng(4).standard_normal((4, 3)))
    small = prune.shrink(live)
    assert small[0].out_features == 4
    np.testing.assert_allclose(small(x).numpy(), live(x).numpy(), rtol=1e-12)


def test_many_ties_are_broken_by_position():
    # 300 weights of magnitude 1, 2 or 3; pruning 150 takes every 1 and then the 2s in order of position
    mags = np.random.default_rng(0).integers(1, 4, 300).astype(np.float64)
    layer = nn.Linear(300, 1, dtype=np.float64)
    layer.weight.numpy()[...] = mags * np.where(np.arange(300) % 2, 1, -1)
    prune.magnitude(layer, 150)
    ones, twos = np.flatnonzero(mags == 1), np.flatnonzero(mags == 2)
    expected = np.zeros(300, bool)
    expected[ones] = True
    expected[twos[:150 - ones.size]] = True
    np.testing.assert_array_equal(weight(layer)[0] == 0, expected)


@pytest.mark.parametrize("rows", [[[1e-23, 0.0], [5e-24, 0.0]], [[3e19, 0.0], [2e19, 0.0]]])
def test_neuron_norms_neither_underflow_nor_overflow_in_float32(rows):
    # ||W_j||_2 of float32 rows whose squares leave float32's range (0 or inf): the smaller row (index 1) goes
    layer = nn.Linear(2, 2)
    layer.weight.numpy()[...] = rows
    prune.magnitude(layer, 1, structured=True)
    np.testing.assert_array_equal(np.any(weight(layer) != 0, axis=1), [True, False])


def test_count_errors_name_the_units_and_the_layer():
    with raises(ValueError, "prune.magnitude: amount=3 is more than the 2 unpruned neurons of layer 'Linear' "
                            "(weight shape (2, 3))"):
        prune.magnitude(nn.Linear(3, 2), 3, structured=True)
    with raises(ValueError, "prune.magnitude: amount=7 is more than the 6 unpruned weights of layer 'Linear' "
                            "(weight shape (2, 3))"):
        prune.magnitude(nn.Linear(3, 2), 7)
    with raises(ValueError, "prune.magnitude: amount=9 is more than the 8 unpruned weights of layer '0' "
                            "(weight shape (4, 2))"):
        prune.magnitude(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)), 9, layers=["0"])


def test_load_state_dict_of_a_lone_layer_and_strict_by_default():
    layer = mlp(3, 4)[0]
    prune.magnitude(layer, 5)
    sd = layer.state_dict()
    fresh = nn.Linear(3, 4, dtype=np.float64)
    prune.load_state_dict(fresh, sd)
    assert prune.is_pruned(fresh)
    np.testing.assert_array_equal(weight(fresh), weight(layer))
    with pytest.raises(Exception, match="extra"):
        prune.load_state_dict(nn.Linear(3, 4, dtype=np.float64), dict(sd, extra=np.zeros(1)))
    prune.load_state_dict(nn.Linear(3, 4, dtype=np.float64), dict(sd, extra=np.zeros(1)), strict=False)


def test_a_neuron_without_inputs_counts_as_pruned():
    # its weight row is (vacuously) all zero
    assert prune.report(nn.Linear(0, 3))[0]["pruned_neurons"] == 3


def test_shrink_errors_in_full_and_an_independent_result():
    with raises(ValueError, "prune.shrink: module 1 (Softmax) is neither Linear nor an elementwise activation; "
                            "shrink handles Sequential(Linear, activation, ..., Linear) and convolutional networks"):
        prune.shrink(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1)))
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1))
    small = prune.shrink(model)
    assert small[1] is not model[1]                      # a new model: its modules are its own
    small.eval()
    assert model[1].training
    small[1].register_forward_hook(lambda module, args, out: None)   # (a shallow copy would share the hook table)
    assert small[1].has_hooks and not model[1].has_hooks


def test_shrink_adds_no_bias_for_a_zero_constant():
    # a dead neuron with relu(b) = 0 contributes nothing: the next layer stays bias-free
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False))
    model[0].weight.data[1] = 0
    model[0].bias.data[1] = -2.0
    small = prune.shrink(model)
    assert small[0].out_features == 2 and small[2].bias is None
    x = tn.tensor([[0.5, -1.0]])
    np.testing.assert_allclose(small(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_shrink_of_a_conv_net_leaves_the_model_it_was_given_untouched():
    tn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    prune.magnitude(model, amount=0.5, structured=True)
    shapes = [tuple(p.shape) for p in model.parameters()]
    small = prune.shrink(model)
    assert small is not model and small[0] is not model[0]
    assert [tuple(p.shape) for p in model.parameters()] == shapes     # the original keeps its channels
    assert small[0].weight.shape[0] < 4


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_structured_conv_pruning_zeroes_the_batch_norm_of_each_pruned_channel(scope):
    tn.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    with tn.no_grad():
        model[1].weight.fill_(2.0)
        model[1].bias.fill_(1.0)                  # a pruned channel would otherwise output relu(1) everywhere
    prune.magnitude(model, amount=0.5, structured=True, scope=scope)
    w = model[0].weight.numpy().reshape(4, -1)
    pruned = ~np.any(w != 0, axis=1)
    assert pruned.sum() == 2
    np.testing.assert_array_equal(model[1].weight.numpy()[pruned], 0.0)
    np.testing.assert_array_equal(model[1].bias.numpy()[pruned], 0.0)
    np.testing.assert_array_equal(model[1].bias.numpy()[~pruned], 1.0)


def test_shrink_of_a_conv_net_whose_linear_run_ends_before_the_last_module():
    # the run Linear, ReLU, Linear ends at Softmax: it is shrunk, and the modules after it are kept
    tn.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 3),
                          nn.Softmax(dim=1))
    prune.magnitude(model, amount=0.5, structured=True)
    small = prune.shrink(model)
    x = tn.randn(2, 1, 6, 6)
    np.testing.assert_allclose(small(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert isinstance(small[-1], nn.Softmax) and small[3].weight.shape[0] < 8
