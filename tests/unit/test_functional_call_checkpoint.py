"""tinynn.func.functional_call (and nn.utils.stateless.functional_call) and tinynn.utils.checkpoint:
the module left exactly as it was, gradients with respect to the substituted tensors in closed form,
checkpointed gradients equal to the plain ones bit for bit (with dropout inside), for both variants."""
import warnings

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
from tinynn.func import functional_call
from tinynn.utils.checkpoint import checkpoint, checkpoint_sequential

BACKENDS = tn.backend.available()


def _snapshot(module):
    return {name: (id(t), t.numpy().copy()) for name, t in module.state_dict(keep_vars=True).items()}


def _assert_unchanged(module, snapshot):
    now = module.state_dict(keep_vars=True)
    assert list(now) == list(snapshot)
    for name, (ident, values) in snapshot.items():
        assert id(now[name]) == ident
        np.testing.assert_array_equal(now[name].numpy(), values)
        owner, _, attr = name.rpartition(".")
        assert getattr(module.get_submodule(owner), attr) is now[name]


# ---------------------------------------------------------------- functional_call

def test_functional_call_values_gradients_and_restoration():
    """y = x W'^T + b' for L = sum(y): dL/dW' = 1^T x (every row the column sums of x), dL/db' = n."""
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2)).double()
    before = _snapshot(model)
    rng = np.random.default_rng(0)
    W = tn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = tn.tensor(rng.standard_normal(2), requires_grad=True)
    x = rng.standard_normal((4, 3))
    y = tn.func.functional_call(model, {"0.weight": W, "0.bias": b}, (tn.tensor(x),))
    np.testing.assert_allclose(y.numpy(), x @ W.numpy().T + b.numpy(), rtol=1e-14)
    _assert_unchanged(model, before)
    gW, gb = tn.autograd.grad(y.sum(), (W, b))
    np.testing.assert_allclose(gW.numpy(), np.tile(x.sum(0), (2, 1)), rtol=1e-14)
    np.testing.assert_array_equal(gb.numpy(), [4.0, 4.0])
    assert all(p.grad is None for p in model.parameters())
    partial = functional_call(model, ({"0.weight": W},), tn.tensor(x))  # a sequence of dicts, args not a tuple
    np.testing.assert_allclose(partial.numpy(), x @ W.numpy().T + model[0].bias.numpy(), rtol=1e-14)


def test_functional_call_restores_after_an_exception_and_keeps_rebinding():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(tn.ones(2))
            self.register_buffer("count", tn.zeros(()))

        def forward(self, x, fail=False):
            self.count = self.count + 1  # rebinds the buffer
            if fail:
                raise ValueError("boom")
            return x * self.w

    m = Counter()
    before = _snapshot(m)
    with pytest.raises(ValueError, match="boom"):
        functional_call(m, {"w": tn.zeros(2), "count": tn.zeros(())}, (tn.ones(2),), {"fail": True})
    _assert_unchanged(m, before)
    values = {"count": tn.zeros(())}
    out = functional_call(m, values, tn.ones(2))
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0])
    _assert_unchanged(m, before)
    assert values["count"].item() == 1.0  # what the module rebound, as in PyTorch
    functional_call(m, {"extra": tn.ones(1)}, tn.ones(2))  # an unknown key is set for the call only
    assert not hasattr(m, "extra")


def test_functional_call_strict_ties_and_errors():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.a(x) + self.b(x)

    m = Tied()
    x = tn.tensor([[1.0, 2.0]])
    W = tn.eye(2)
    np.testing.assert_allclose(functional_call(m, {"a.weight": W}, x).numpy(), [[2.0, 4.0]])
    untied = functional_call(m, {"a.weight": W}, x, tie_weights=False).numpy()
    np.testing.assert_allclose(untied, [[1.0, 2.0]] + x.numpy() @ m.a.weight.numpy().T, rtol=1e-6)
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(m, {"a.weight": W, "b.weight": 2 * W}, x)
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'c'.*\n\tMissing key\(s\): 'b.weight'"):
        functional_call(m, {"a.weight": W, "c": W}, x, tie_weights=False, strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(m, [{"a.weight": W}, {"a.weight": W}], x)
    with pytest.raises(ValueError, match="a dict, or a list/tuple of dicts"):
        functional_call(m, W, x)
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = nn.utils.stateless.functional_call(m, {"a.weight": W}, x)
    np.testing.assert_allclose(out.numpy(), [[2.0, 4.0]])


# ---------------------------------------------------------------- checkpoint

def _model():
    tn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 8), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(8, 3)).double()


def _run(mode, x0, segments=None):
    """Gradients of sum(y^2) (input and every parameter), y and the random stream's next draw."""
    m = _model()
    layers = list(m)
    x = tn.tensor(x0, requires_grad=True)
    tn.manual_seed(1)

    def part(lo, hi):
        def f(h):
            for layer in layers[lo:hi]:
                h = layer(h)
            return h
        return f
    if mode == "plain":
        y = part(0, 7)(x)
    elif segments:
        y = checkpoint_sequential(m, segments, x, use_reentrant=mode == "reentrant")
    else:
        reentrant = mode == "reentrant"
        y = checkpoint(part(3, 7), checkpoint(part(0, 3), x, use_reentrant=reentrant), use_reentrant=reentrant)
    (y * y).sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()], y.detach().numpy(), tn.rand(3).numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["reentrant", "non-reentrant"])
@pytest.mark.parametrize("segments", [None, 3])
def test_checkpoint_gradients_equal_plain_bit_for_bit(backend, mode, segments):
    x0 = np.random.default_rng(3).standard_normal((5, 6))
    with tn.use_backend(backend):
        grads, y, after = _run("plain", x0)
        got_grads, got_y, got_after = _run(mode, x0, segments)
    np.testing.assert_array_equal(got_y, y)
    for a, b in zip(got_grads, grads):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got_after, after)  # backward's recomputation left the random stream alone


def test_checkpoint_without_preserved_rng_draws_new_masks():
    x = tn.ones(200, dtype=tn.float64, requires_grad=True)
    tn.manual_seed(0)
    y = checkpoint(lambda t: nn.functional.dropout(t, 0.5), x, use_reentrant=False, preserve_rng_state=False)
    y.sum().backward()
    assert not np.array_equal(x.grad.numpy(), y.detach().numpy())  # the recomputed mask is another one


def test_reentrant_warnings_and_argument_rules():
    lin = nn.Linear(3, 2).double()
    x = tn.randn(4, 3, dtype=tn.float64)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lin, x.requires_grad_())
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential(nn.Sequential(lin, nn.Tanh()), 2, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(lin, x.detach(), use_reentrant=True)
    assert not y.requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda t, scale=1.0: t * scale, x, scale=2.0, use_reentrant=True)
    c = lin.weight * 2  # computed outside, captured, needs a gradient
    y = checkpoint(lambda t: t @ c.mT, x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="computed outside it"):
        y.sum().backward()


def test_non_reentrant_reaches_parameters_grad_and_closures():
    lin = nn.Linear(3, 2).double()
    x = tn.randn(4, 3, dtype=tn.float64)  # needs no gradient: the parameters still get theirs
    y = checkpoint(lin, x, use_reentrant=False)
    assert y.requires_grad
    (gW,) = tn.autograd.grad(y.sum(), lin.weight)
    np.testing.assert_allclose(gW.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-14)
    assert lin.weight.grad is None
    w = tn.randn(3, dtype=tn.float64, requires_grad=True)
    c = w * 2  # a captured tensor with a graph of its own, also used outside the checkpoint
    s = tn.randn(3, dtype=tn.float64, requires_grad=True)
    y = checkpoint(lambda t, k=None: (t * c * k).sum(), s, k=tn.tensor(3.0, dtype=tn.float64), use_reentrant=False)
    (y + c.sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * s.detach().numpy() + 2, rtol=1e-14)
    np.testing.assert_allclose(s.grad.numpy(), 3 * c.detach().numpy(), rtol=1e-14)


def test_several_outputs_and_in_place_changes():
    a = tn.tensor([1.0, 2.0, 3.0], dtype=tn.float64, requires_grad=True)
    b = tn.tensor([-1.0, 0.5, 2.0], dtype=tn.float64, requires_grad=True)
    for reentrant in (True, False):
        a.grad = b.grad = None
        p, q, label = checkpoint(lambda s, t: (s * t, s + t, "tag"), a, b, use_reentrant=reentrant)
        assert label == "tag"
        (2 * p.sum() + (q * q).sum()).backward()  # dL/da = 2 b + 2 (a + b), dL/db = 2 a + 2 (a + b)
        s = a.detach().numpy() + b.detach().numpy()
        np.testing.assert_allclose(a.grad.numpy(), 2 * b.detach().numpy() + 2 * s, rtol=1e-14)
        np.testing.assert_allclose(b.grad.numpy(), 2 * a.detach().numpy() + 2 * s, rtol=1e-14)
    x = tn.ones(3, dtype=tn.float64, requires_grad=True)
    h = x * 1.0
    y = checkpoint(lambda t: (t * t).sum(), h, use_reentrant=False)
    with tn.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("backend", BACKENDS)
def test_checkpoint_gradcheck(backend):
    """Both variants against central differences; the non-reentrant one also to second order
    (reentrant refuses create_graph, as its nested backward cannot build a graph)."""
    with tn.use_backend(backend):
        rng = np.random.default_rng(4)
        x = tn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
        W = tn.tensor(rng.standard_normal((3, 3)), requires_grad=True)

        def block(a, w):
            return (a @ w).tanh() * a
        for reentrant in (True, False):
            assert tn.gradcheck(lambda a, w: checkpoint(block, a, w, use_reentrant=reentrant), x, W)
        assert tn.gradgradcheck(lambda a, w: checkpoint(block, a, w, use_reentrant=False), x, W)
        y = checkpoint(block, x, W, use_reentrant=True)
        with pytest.raises(RuntimeError, match="create_graph"):
            tn.autograd.grad(y.sum(), x, create_graph=True)


def test_checkpoint_under_no_grad_just_runs():
    lin = nn.Linear(3, 2)
    x = tn.randn(1, 3, requires_grad=True)
    with tn.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for reentrant in (True, False):
            y = checkpoint(lin, x, use_reentrant=reentrant)
            assert not y.requires_grad
            np.testing.assert_array_equal(y.numpy(), lin(x).numpy())
