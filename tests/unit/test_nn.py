"""Modules, Parameters and layers: registration, state dicts, modes, gradients through modules."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match


def module_gradcheck(module, x, eps=1e-6, atol=1e-8, rtol=1e-6):
    """Analytic d sum(module(x)) / d (x, every parameter) against central differences, in float64
    (the tolerances of tinynn.testing.assert_gradients_match: a backward 1e-5 wrong fails)."""
    module.double()
    x = tn.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    assert assert_gradients_match(lambda inp: module(inp), x)
    module.zero_grad()
    module(x).sum().backward()
    checked = 0
    for name, p in module.named_parameters():
        numeric = np.zeros_like(p.numpy())
        with tn.no_grad():
            for i in np.ndindex(p.shape):
                saved = p.numpy()[i]
                p.numpy()[i] = saved + eps
                plus = module(x).numpy().sum()
                p.numpy()[i] = saved - eps
                minus = module(x).numpy().sum()
                p.numpy()[i] = saved
                numeric[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(p.grad, numeric, atol=atol, rtol=rtol, err_msg=name)
        checked += 1
    return checked


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# ---------------------------------------------------------------- Parameter and Module
def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(tn.zeros(2, 3))
    assert isinstance(p, tn.Tensor) and p.requires_grad and p.is_leaf
    assert p.shape == (2, 3) and p.dtype == np.float32
    t = tn.ones(2)
    assert nn.Parameter(t).numpy() is t.numpy()  # shares the array, as PyTorch shares storage
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    with pytest.raises(TypeError):
        nn.Parameter(np.arange(3))


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters())) == 4
    assert net.fc1 is net._modules["fc1"]  # plain attribute read


def test_shared_parameters_are_listed_once():
    net = nn.Module()
    lin = nn.Linear(2, 2)
    net.a, net.b = lin, lin
    assert len(list(net.parameters())) == 2


def test_assigning_before_init_and_wrong_types():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tn.zeros(1))

    with pytest.raises(AttributeError, match="__init__"):
        Bad()
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter"):
        lin.weight = tn.zeros(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    del lin.weight
    assert list(lin.named_parameters()) == []


def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert net.training and net[1][0].training
    assert net.eval() is net
    assert not net.training and not net[1][0].training
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad():
    net = Net()
    net(tn.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    # as PyTorch's: detached Tensors sharing memory with the parameters
    assert all(isinstance(v, tn.Tensor) and not v.requires_grad for v in sd.values())
    assert np.shares_memory(sd["fc1.weight"].numpy(), a.fc1.weight.numpy())
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = tn.randn(3, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.fc1.weight.numpy() is not a.fc1.weight.numpy()  # copied in place, not aliased


def test_load_state_dict_errors():
    net = Net()
    sd = dict(net.state_dict())
    extra = dict(sd, **{"fc3.weight": np.zeros(1)})
    with pytest.raises(ValueError, match="unexpected keys.*fc3.weight"):
        net.load_state_dict(extra)
    missing = {k: v for k, v in sd.items() if k != "fc2.bias"}
    with pytest.raises(ValueError, match="missing keys.*fc2.bias"):
        net.load_state_dict(missing)
    result = net.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["fc2.bias"]
    wrong = dict(sd, **{"fc1.weight": np.zeros((4, 5), np.float32)})
    with pytest.raises(ValueError, match=r"fc1.weight.*\(4, 5\).*\(5, 4\)"):
        net.load_state_dict(wrong)


def test_buffers_in_state_dict():
    m = nn.Linear(2, 2)
    m.register_buffer("mask", np.ones((2, 2), np.float32))
    m.register_buffer("scratch", np.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["weight", "bias", "mask"]
    sd = dict(m.state_dict(), mask=np.zeros((2, 2)))
    m.load_state_dict(sd)
    assert np.all(m.mask == 0)


def test_hooks_run_and_can_be_removed():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    lin(tn.zeros(3, 2))
    h.remove()
    lin(tn.zeros(3, 2))
    assert seen == [(3, 2)]


# ---------------------------------------------------------------- Linear
def test_linear_forward_formula():
    lin = nn.Linear(3, 2)
    x = tn.randn(4, 3)
    expected = x.numpy() @ lin.weight.numpy().T + lin.bias.numpy()
    np.testing.assert_allclose(lin(x).numpy(), expected, rtol=1e-6)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None
    np.testing.assert_allclose(no_bias(x).numpy(), x.numpy() @ no_bias.weight.numpy().T, rtol=1e-6)
    np.testing.assert_allclose(lin(tn.randn(2, 5, 3)).shape, (2, 5, 2))


def test_linear_default_init_bounds():
    tn.manual_seed(1)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight.numpy(), lin.bias.numpy()):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    # U(-b, b) has std b / sqrt(3)
    assert abs(lin.weight.numpy().std() - bound / math.sqrt(3)) < 0.02 * bound


def test_linear_wrong_features_names_both_numbers():
    lin = nn.Linear(64, 10)
    with pytest.raises(ValueError, match=r"63.*64|64.*63"):
        lin(tn.zeros(8, 63))


def test_linear_seed_reproducible():
    tn.manual_seed(5)
    a = nn.Linear(3, 3)
    tn.manual_seed(5)
    b = nn.Linear(3, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


# ---------------------------------------------------------------- gradient checks through modules
@pytest.mark.parametrize("make", [
    lambda: nn.Linear(3, 2),
    lambda: nn.Linear(3, 2, bias=False),
    nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity,
    lambda: nn.Softmax(dim=-1), lambda: nn.Softmax(dim=0),
    lambda: nn.LogSoftmax(dim=1),
    nn.Flatten,
    lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()),
])
def test_module_gradcheck(make, backend_name):
    module = make()
    x = np.random.default_rng(0).normal(size=(4, 3)) + 0.05  # away from relu's kink
    module_gradcheck(module, x)


def test_flatten_and_dropout_gradcheck(backend_name):
    module_gradcheck(nn.Flatten(), np.random.default_rng(1).normal(size=(2, 3, 2)))
    drop = nn.Dropout(0.3)
    drop.eval()
    module_gradcheck(drop, np.ones((2, 3)))
    drop.train()
    tn.manual_seed(3)
    x = tn.tensor(np.ones((50, 4)), requires_grad=True)
    y = drop(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())  # d y / d x = mask / (1 - p) = y for x = 1


def test_sequential_fusion_matches_unfused():
    tn.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())
    x = tn.randn(5, 3)
    fused = seq(x).numpy()
    unfused = x
    for m in seq:
        unfused = m(unfused)
    np.testing.assert_allclose(fused, unfused.numpy(), rtol=1e-6)
    seen = []
    seq[1].register_forward_hook(lambda *a: seen.append(1))
    seq(x)
    assert seen == [1]  # a hooked activation is not fused away


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), "relu")
    assert seq(tn.zeros(4, 2)).shape == (4, 1)


# ---------------------------------------------------------------- activations, flatten, dropout
def test_activation_values():
    x = tn.tensor([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [[0, 0, 2]])
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    e = np.exp(x.numpy())
    np.testing.assert_allclose(nn.Softmax(dim=-1)(x).numpy(), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(x).numpy(), np.log(e / e.sum()), rtol=1e-5)
    assert nn.Identity(3, foo=1)(x) is x


def test_flatten_shapes():
    x = tn.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)


def test_dropout_inverted_scaling_and_eval():
    tn.manual_seed(0)
    drop = nn.Dropout(p=0.25)
    x = tn.ones(200, 100)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert abs(y.mean() - 1.0) < 0.03  # E[y] = x
    drop.eval()
    assert drop(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_follows_manual_seed():
    drop = nn.Dropout(0.5)
    tn.manual_seed(42)
    a = drop(tn.ones(10, 10)).numpy()
    tn.manual_seed(42)
    b = drop(tn.ones(10, 10)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, drop(tn.ones(10, 10)).numpy())


def test_functional_closed_forms(backend_name):
    x = tn.randn(3, 4)
    x64, w, b = x.double(), tn.tensor([[1.0, -2.0, 0.5, 0.0], [0.25, 1.0, -1.0, 3.0]]).double(), tn.tensor([0.5, -1.0]).double()
    a = x64.numpy()
    expected = np.stack([a[:, 0] - 2 * a[:, 1] + 0.5 * a[:, 2] + 0.5, 0.25 * a[:, 0] + a[:, 1] - a[:, 2] + 3 * a[:, 3] - 1],
                        axis=1)  # x W^T + b, written out
    np.testing.assert_allclose(F.linear(x64, w, b).numpy(), expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(F.linear(x64, w).numpy(), expected - b.numpy(), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(F.relu(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_allclose(F.tanh(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(F.softmax(x, dim=0).numpy().sum(axis=0), np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(np.exp(F.log_softmax(x, dim=1).numpy()).sum(axis=1), np.ones(3), rtol=1e-6)
    assert F.dropout(x, 0.5, training=False) is x


def test_module_double_keeps_parameter_objects():
    net = Net()
    params = list(net.parameters())
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert net(tn.randn(2, 4, dtype=np.float64)).dtype == np.float64


# ---------------------------------------------------------------- init
from tinynn.nn import init  # noqa: E402


def big(shape=(300, 500)):
    return nn.Parameter(tn.zeros(*shape))


def test_uniform_and_normal():
    w = init.uniform_(big(), -2.0, 3.0)
    assert w.numpy().min() >= -2 and w.numpy().max() < 3
    assert abs(w.numpy().mean() - 0.5) < 0.02 and abs(w.numpy().std() - 5 / math.sqrt(12)) < 0.02
    w = init.normal_(big(), mean=1.0, std=0.5)
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    w = init.uniform_(big())
    assert w.numpy().min() >= 0 and w.numpy().max() < 1
    assert w.dtype == np.float32


def test_zeros_ones_constant():
    w = init.ones_(big((3, 4)))
    assert np.all(w.numpy() == 1)
    assert np.all(init.zeros_(w).numpy() == 0)
    assert np.all(init.constant_(w, 0.25).numpy() == 0.25)


def test_xavier():
    fan_in, fan_out = 500, 300
    a = math.sqrt(6 / (fan_in + fan_out))
    w = init.xavier_uniform_(big(), gain=2.0)
    assert np.abs(w.numpy()).max() <= 2 * a and np.abs(w.numpy()).max() > 0.99 * 2 * a
    assert abs(w.numpy().std() - 2 * a / math.sqrt(3)) < 0.01 * 2 * a
    w = init.xavier_normal_(big())
    assert abs(w.numpy().std() - math.sqrt(2 / (fan_in + fan_out))) < 0.01 * math.sqrt(2 / 800)


def test_kaiming_defaults_and_modes():
    # defaults: a=0, mode=fan_in, nonlinearity=leaky_relu -> gain sqrt(2 / (1 + 0)) = sqrt(2)
    w = init.kaiming_uniform_(big())
    bound = math.sqrt(2) * math.sqrt(3 / 500)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound
    w = init.kaiming_uniform_(big(), mode="fan_out", nonlinearity="relu")
    assert abs(np.abs(w.numpy()).max() - math.sqrt(2) * math.sqrt(3 / 300)) < 0.01 * math.sqrt(6 / 300)
    w = init.kaiming_normal_(big())
    assert abs(w.numpy().std() - math.sqrt(2 / 500)) < 0.01 * math.sqrt(2 / 500)
    w = init.kaiming_normal_(big(), a=1.0, mode="fan_out")  # leaky slope 1 -> gain 1
    assert abs(w.numpy().std() - math.sqrt(1 / 300)) < 0.01 * math.sqrt(1 / 300)
    w = init.kaiming_uniform_(big(), a=math.sqrt(5))  # Linear's weight init: bound 1 / sqrt(fan_in)
    assert abs(np.abs(w.numpy()).max() - 1 / math.sqrt(500)) < 0.01 / math.sqrt(500)


def test_fans_include_receptive_field_and_errors():
    assert init._calculate_fan_in_and_fan_out(tn.zeros(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.xavier_uniform_(tn.zeros(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(big((2, 2)), mode="fan_avg")
    with pytest.raises(TypeError):
        init.uniform_(np.zeros(3))


def test_calculate_gain():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("sigmoid") == 1 and init.calculate_gain("linear") == 1
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError):
        init.calculate_gain("swish")


def test_init_follows_manual_seed():
    tn.manual_seed(9)
    a = init.normal_(big((4, 4))).numpy().copy()
    tn.manual_seed(9)
    np.testing.assert_array_equal(init.normal_(big((4, 4))).numpy(), a)


def test_deepcopy_and_pickle_keep_structure():
    import copy
    import pickle

    net = Net()
    net.shared = net.fc1  # one module under two names
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight.requires_grad
        assert clone.shared is clone.fc1
        assert clone.fc1.weight.numpy() is not net.fc1.weight.numpy()
        x = tn.randn(2, 4)
        np.testing.assert_array_equal(clone(x).numpy(), net(x).numpy())
        assert list(clone.state_dict()) == list(net.state_dict())


def test_linear_with_mixed_dtypes_returns_each_gradient_in_its_inputs_dtype():
    # the op computes in the promoted dtype (float64) and casts each gradient back
    layer = nn.Linear(3, 2)
    x = tn.tensor(np.arange(12.0).reshape(4, 3), dtype=np.float64, requires_grad=True)
    y = layer(x)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    # d sum(x W^T + b) / dW_ij = sum_n x_nj,  / db_i = N,  / dx_nj = sum_i W_ij
    np.testing.assert_allclose(layer.weight.grad, np.tile(x.numpy().sum(axis=0), (2, 1)), rtol=1e-6)
    np.testing.assert_array_equal(layer.bias.grad, [4.0, 4.0])
    np.testing.assert_allclose(x.grad, np.tile(layer.weight.numpy().sum(axis=0), (4, 1)), rtol=1e-6)


def test_a_linear_with_an_unknown_activation_is_refused():
    layer, x = nn.Linear(3, 2), tn.zeros(4, 3)
    for bad in ("bogus", 3, None):
        with pytest.raises(ValueError, match=r"^Linear: unknown activation .*; choose one of"):
            layer(x, activation=bad)
