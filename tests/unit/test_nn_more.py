"""The activations, sequence-packing utilities, losses and small layers added after the first round:
values from closed forms written out here (never from torch), PyTorch's documented subgradients at the
kinks, float64 gradient checks (and gradgradchecks where cheap) on both backends, arguments, reprs,
state-dict keys and errors."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.nn.utils import rnn as rnn_utils

X = np.array([[-3.7, -1.2, -0.4, 0.3], [0.8, 1.7, 2.6, -0.05]])  # away from every kink
ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


# name: (function, closed form of the value, closed form of the derivative)
CASES = {
    "selu": (F.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1)),
             lambda x: SCALE * np.where(x > 0, 1.0, ALPHA * np.exp(x))),
    "celu": (lambda t: F.celu(t, 2.0), lambda x: np.where(x > 0, x, 2.0 * (np.exp(x / 2.0) - 1)),
             lambda x: np.where(x > 0, 1.0, np.exp(x / 2.0))),
    "mish": (F.mish, lambda x: x * np.tanh(_softplus(x)),
             lambda x: np.tanh(_softplus(x)) + x * _sig(x) * (1 - np.tanh(_softplus(x)) ** 2)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), lambda x: ((x > 0) & (x < 6)) * 1.0),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), lambda x: ((x > -3) & (x < 3)) / 6.0),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
                  lambda x: np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(_sig(x)), lambda x: 1 - _sig(x)),
    "threshold": (lambda t: F.threshold(t, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0), lambda x: (x > 0.5) * 1.0),
    "softshrink": (F.softshrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
                   lambda x: (np.abs(x) > 0.5) * 1.0),
    "hardshrink": (lambda t: F.hardshrink(t, 1.0), lambda x: np.where(np.abs(x) > 1.0, x, 0.0),
                   lambda x: (np.abs(x) > 1.0) * 1.0),
}
# PyTorch's documented choices at the kinks and at the ends: x -> (value, derivative)
KINKS = {
    "relu6": {0.0: (0.0, 0.0), 6.0: (6.0, 0.0)},
    "hardsigmoid": {-3.0: (0.0, 0.0), 3.0: (1.0, 0.0)},
    "hardswish": {-3.0: (0.0, 0.0), 3.0: (3.0, 1.0)},
    "selu": {0.0: (0.0, SCALE * ALPHA)},
    "celu": {0.0: (0.0, 1.0)},
    "threshold": {0.5: (-2.0, 0.0)},
    "softshrink": {0.5: (0.0, 0.0), -0.5: (0.0, 0.0)},
    "hardshrink": {1.0: (0.0, 0.0), -1.0: (0.0, 0.0)},
    "softsign": {0.0: (0.0, 1.0)},
    "mish": {0.0: (0.0, 0.6)},  # tanh(ln 2) = 3/5
    "logsigmoid": {0.0: (-math.log(2), 0.5), -800.0: (-800.0, 1.0), 800.0: (0.0, 0.0)},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_closed_form_and_gradients(name, backend_name):
    fn, value, derivative = CASES[name]
    x = tn.tensor(X, requires_grad=True)
    y = fn(x)
    np.testing.assert_allclose(y.detach().numpy(), value(X), rtol=1e-12, atol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), derivative(X), rtol=1e-12, atol=1e-14)
    assert tn.gradcheck(fn, (tn.tensor(X, requires_grad=True),))
    assert tn.gradgradcheck(fn, (tn.tensor(X, requires_grad=True),))
    assert fn(tn.tensor(X, dtype=tn.float32)).dtype == tn.float32


@pytest.mark.parametrize("name", sorted(KINKS))
def test_activation_kinks_follow_pytorch(name, backend_name):
    fn = CASES[name][0]
    for point, (value, derivative) in KINKS[name].items():
        x = tn.tensor(point, dtype=tn.float64, requires_grad=True)
        y = fn(x)
        y.backward()
        assert y.item() == pytest.approx(value, abs=1e-15), (name, point)
        assert x.grad.item() == pytest.approx(derivative, abs=1e-15), (name, point)


def test_activations_pass_nan_and_infinities():
    x = tn.tensor([np.nan, np.inf, -np.inf], dtype=tn.float64)
    assert np.isnan(F.hardsigmoid(x).numpy()[0]) and F.hardsigmoid(x).numpy()[1:].tolist() == [1.0, 0.0]
    assert np.isnan(F.hardswish(x).numpy()[0]) and F.hardswish(x).numpy()[1] == np.inf
    assert F.logsigmoid(x).numpy()[1:].tolist() == [0.0, -np.inf]
    assert np.isnan(F.softshrink(x).numpy()[0]) and F.softshrink(x).numpy()[1:].tolist() == [np.inf, -np.inf]
    assert np.isnan(F.hardshrink(x).numpy()[0])
    g = tn.tensor([np.nan, 5.0, -5.0], dtype=tn.float64, requires_grad=True)
    F.hardswish(g).sum().backward()  # no 0 * nan leaking from the unused branch
    assert g.grad.numpy()[1:].tolist() == [1.0, 0.0]


def test_softmin_glu_prelu_closed_forms(backend_name):
    x = tn.tensor([[1.0, 2.0, 4.0]], dtype=tn.float64)
    e = np.exp([-1.0, -2.0, -4.0])
    np.testing.assert_allclose(F.softmin(x, dim=1).numpy(), [e / e.sum()], rtol=1e-14)
    np.testing.assert_allclose(nn.Softmin(1)(x).numpy(), [e / e.sum()], rtol=1e-14)
    assert F.softmin(tn.tensor([1.0, 2.0]), dim=0, dtype=tn.float64).dtype == tn.float64
    v = np.arange(12.0).reshape(2, 6) / 10 - 0.3
    np.testing.assert_allclose(F.glu(tn.tensor(v)).numpy(), v[:, :3] * _sig(v[:, 3:]), rtol=1e-14)
    np.testing.assert_allclose(nn.GLU(0)(tn.tensor(v.T)).numpy(), v.T[:3] * _sig(v.T[3:]), rtol=1e-14)
    assert tn.gradcheck(lambda t: F.glu(t, 1), (tn.tensor(v, requires_grad=True),))
    w = np.array([0.1, -0.2, 0.3])
    xin = np.linspace(-1, 1, 24).reshape(2, 3, 4) + 0.01
    expect = np.where(xin > 0, xin, w[None, :, None] * xin)
    np.testing.assert_allclose(F.prelu(tn.tensor(xin), tn.tensor(w)).numpy(), expect, rtol=1e-14)
    assert tn.gradcheck(F.prelu, (tn.tensor(xin, requires_grad=True), tn.tensor(w, requires_grad=True)))
    assert tn.gradgradcheck(F.prelu, (tn.tensor(xin, requires_grad=True), tn.tensor(w, requires_grad=True)))


def test_activation_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="even"):
        F.glu(tn.randn(2, 3), 1)
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(tn.tensor(1.0))
    with pytest.raises(RuntimeError, match="channel size"):
        F.prelu(tn.randn(3), tn.ones(3))  # a 1-D input has one channel, as in PyTorch
    with pytest.raises(RuntimeError, match="zero-dim"):
        F.prelu(tn.tensor(1.0), tn.ones(1))
    with pytest.raises(RuntimeError, match="lambda"):
        F.softshrink(tn.randn(3), -1.0)
    with pytest.raises(ZeroDivisionError, match="alpha"):
        F.celu(tn.randn(3), 0.0)
    with pytest.raises(TypeError, match="hardswish"):
        F.hardswish(tn.tensor([1, 2]))
    assert F.relu6(tn.tensor([-1, 3, 9])).tolist() == [0, 3, 6]  # integers stay integers (a clamp)
    assert F.softsign(tn.tensor([1, -3])).dtype == tn.float32


def test_activation_modules_arguments_reprs_and_state():
    reprs = {nn.SELU(): "SELU()", nn.SELU(True): "SELU(inplace=True)", nn.CELU(): "CELU(alpha=1.0)",
             nn.CELU(2.0, True): "CELU(alpha=2.0, inplace=True)", nn.Mish(): "Mish()", nn.Softsign(): "Softsign()",
             nn.ReLU6(): "ReLU6()", nn.ReLU6(True): "ReLU6(inplace=True)", nn.Hardsigmoid(True): "Hardsigmoid()",
             nn.Hardswish(): "Hardswish()", nn.PReLU(): "PReLU(num_parameters=1)", nn.LogSigmoid(): "LogSigmoid()",
             nn.Softmin(): "Softmin(dim=None)", nn.GLU(): "GLU(dim=-1)", nn.Tanhshrink(): "Tanhshrink()",
             nn.Threshold(0.1, 20): "Threshold(threshold=0.1, value=20)", nn.Softshrink(): "Softshrink(0.5)",
             nn.Hardshrink(0.3): "Hardshrink(0.3)", nn.Softmax2d(): "Softmax2d()"}
    for module, text in reprs.items():
        assert repr(module) == text
        assert list(module.state_dict()) == ([] if not isinstance(module, nn.PReLU) else ["weight"])
    assert isinstance(nn.ReLU6(), nn.Hardtanh)
    p = nn.PReLU(3, init=0.1, dtype=tn.float64)
    assert p.weight.shape == (3,) and p.weight.dtype == tn.float64 and p.weight.tolist() == [0.1] * 3
    x = tn.tensor([[-1.0, 2.0, -3.0]], dtype=tn.float64)
    assert p(x).tolist() == [[-0.1, 2.0, -0.30000000000000004]]
    with pytest.raises(RuntimeError, match="PReLU"):
        nn.PReLU(device="cuda")


@pytest.mark.parametrize("name", ["selu", "celu", "mish", "relu6", "hardsigmoid", "hardswish", "threshold"])
def test_inplace_activations_write_into_the_input(name, backend_name):
    fn = {"threshold": lambda t, inplace: F.threshold(t, 0.5, -2.0, inplace),
          "celu": lambda t, inplace: F.celu(t, 2.0, inplace)}.get(name, getattr(F, name))
    x = tn.tensor(X, requires_grad=True)
    h = x * 1.0
    out = fn(h, inplace=True)
    assert out is h
    np.testing.assert_allclose(h.detach().numpy(), CASES[name][1](X), rtol=1e-12)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), CASES[name][2](X), rtol=1e-12, atol=1e-14)
    y = tn.tensor([-1.0, 2.0])
    assert F.relu_(y) is y and y.tolist() == [0.0, 2.0]
    assert F.threshold_(y, 1.0, 7.0).tolist() == [7.0, 2.0]


# ---------------------------------------------------------------- nn.utils.rnn


def _seqs():
    return [tn.tensor([[1.0], [2.0]]), tn.tensor([[3.0], [4.0], [5.0]]), tn.tensor([[6.0]])]


def test_pad_sequence_layouts():
    s = _seqs()
    assert rnn_utils.pad_sequence(s).squeeze(-1).tolist() == [[1, 3, 6], [2, 4, 0], [0, 5, 0]]
    assert rnn_utils.pad_sequence(s, batch_first=True, padding_value=-1).squeeze(-1).tolist() == \
        [[1, 2, -1], [3, 4, 5], [6, -1, -1]]
    assert rnn_utils.pad_sequence(s, True, 0.0, "left").squeeze(-1).tolist() == [[0, 1, 2], [3, 4, 5], [0, 0, 6]]
    with pytest.raises(RuntimeError, match="padding_side"):
        rnn_utils.pad_sequence(s, padding_side="middle")
    with pytest.raises(RuntimeError, match="empty"):
        rnn_utils.pad_sequence([])


def test_pack_and_pad_round_trip_in_pytorchs_layout():
    s = _seqs()
    packed = rnn_utils.pack_sequence(s, enforce_sorted=False)  # lengths 2, 3, 1: sorted order 1, 0, 2
    assert packed.data.squeeze(-1).tolist() == [3, 1, 6, 4, 2, 5]
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.batch_sizes.dtype == tn.int64
    assert packed.sorted_indices.tolist() == [1, 0, 2] and packed.unsorted_indices.tolist() == [1, 0, 2]
    padded, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True, padding_value=9.0, total_length=4)
    assert padded.squeeze(-1).tolist() == [[1, 2, 9, 9], [3, 4, 5, 9], [6, 9, 9, 9]]
    assert lengths.tolist() == [2, 3, 1] and lengths.dtype == tn.int64
    assert [u.squeeze(-1).tolist() for u in rnn_utils.unpack_sequence(packed)] == [[1, 2], [3, 4, 5], [6]]
    ties = rnn_utils.pack_padded_sequence(tn.zeros(5, 4), [3, 5, 3, 5], enforce_sorted=False)
    assert ties.sorted_indices.tolist() == [1, 3, 0, 2]  # a stable sort: ties keep their order
    sorted_pack = rnn_utils.pack_sequence([s[1], s[0], s[2]])
    assert sorted_pack.sorted_indices is None and sorted_pack.data.squeeze(-1).tolist() == [3, 1, 6, 4, 2, 5]
    with pytest.raises(RuntimeError, match="decreasing"):
        rnn_utils.pack_sequence(s)
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(tn.zeros(3, 2), [2, 0])
    with pytest.raises(ValueError, match="total_length"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
    x = tn.tensor(np.arange(6.0).reshape(3, 2, 1), requires_grad=True)

    def round_trip(t):
        return rnn_utils.pad_packed_sequence(rnn_utils.pack_padded_sequence(t, [2, 3], enforce_sorted=False))[0]
    assert tn.gradcheck(round_trip, (x.double().detach().requires_grad_(),))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_recurrent_equals_each_sequence_alone(kind, backend_name):
    """Output rows and h_n of a packed batch are those of running every sequence alone to its length."""
    rng = np.random.default_rng(1)
    lengths = [3, 5, 1, 5]
    seqs = [tn.tensor(rng.standard_normal((n, 2))) for n in lengths]
    model = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, dtype=tn.float64)
    h0 = tn.tensor(rng.standard_normal((4, len(seqs), 3)))
    hx = (h0, h0 * 0.5) if kind == "LSTM" else h0
    out, hn = model(rnn_utils.pack_sequence(seqs, enforce_sorted=False), hx)
    assert isinstance(out, rnn_utils.PackedSequence)
    padded, got_lengths = rnn_utils.pad_packed_sequence(out, batch_first=True)
    assert got_lengths.tolist() == lengths and padded.shape == (4, 5, 6)
    for b, s in enumerate(seqs):
        one_hx = (h0[:, b:b + 1], h0[:, b:b + 1] * 0.5) if kind == "LSTM" else h0[:, b:b + 1]
        alone, alone_hn = model(s.unsqueeze(1), one_hx)
        np.testing.assert_allclose(padded[b, :lengths[b]].numpy(), alone[:, 0].numpy(), rtol=1e-12, atol=1e-13)
        assert (padded[b, lengths[b]:].numpy() == 0).all()
        for mine, ref in zip(hn if kind == "LSTM" else (hn,), alone_hn if kind == "LSTM" else (alone_hn,)):
            np.testing.assert_allclose(mine[:, b].numpy(), ref[:, 0].numpy(), rtol=1e-12, atol=1e-13)


def test_packed_recurrent_gradients():
    model = nn.GRU(2, 2, dtype=tn.float64)
    data = tn.tensor(np.random.default_rng(2).standard_normal((3, 2, 2)), requires_grad=True)

    def run(x):
        out, hn = model(rnn_utils.pack_padded_sequence(x, [3, 2]))
        return out.data.sum() + hn.sum() * 2
    assert tn.gradcheck(run, (data,))


# ---------------------------------------------------------------- losses and distances
A = np.array([[1.0, 2.0, 2.0], [0.5, -1.0, 3.0]])
B = np.array([[2.0, 0.0, 1.0], [1.5, 1.0, -2.0]])
C = np.array([[0.0, 1.0, 0.0], [-1.0, 0.5, 1.0]])

# name: (function of float64 tensors, the tensors, closed form of the unreduced loss)
LOSSES = {
    "margin_ranking": (lambda a, b, reduction: F.margin_ranking_loss(a[:, 0], b[:, 0], tn.tensor([1.0, -1.0]), 0.2,
                                                                     reduction=reduction),
                       [1.0 * max(0, -(1.0 - 2.0) + 0.2), max(0, (0.5 - 1.5) + 0.2)]),
    "hinge_embedding": (lambda a, b, reduction: F.hinge_embedding_loss(a[0], tn.tensor([1.0, -1.0, -1.0]), 1.5,
                                                                       reduction=reduction),
                        [1.0, max(0, 1.5 - 2.0), max(0, 1.5 - 2.0)]),
    "soft_margin": (lambda a, b, reduction: F.soft_margin_loss(a, tn.tensor(np.where(B >= 0, 1.0, -1.0)), reduction=reduction),
                    np.log1p(np.exp(-np.where(B >= 0, 1.0, -1.0) * A))),
    "multilabel_soft_margin": (lambda a, b, reduction: F.multilabel_soft_margin_loss(
        a, tn.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), weight=tn.tensor([1.0, 2.0, 0.5], dtype=tn.float64),
        reduction=reduction),
        (-(np.array([[1, 0, 1], [0, 0, 1]]) * np.log(_sig(A)) + (1 - np.array([[1, 0, 1], [0, 0, 1]]))
           * np.log(_sig(-A))) * [1.0, 2.0, 0.5]).mean(1)),
    "cosine_embedding": (lambda a, b, reduction: F.cosine_embedding_loss(a, b, tn.tensor([1, -1]), margin=-0.5,
                                                                         reduction=reduction),
                         [1 - 4.0 / (3 * math.sqrt(5)), max(0, (0.75 - 1 - 6) / math.sqrt(10.25 * 7.25) + 0.5)]),
    "triplet_margin": (lambda a, b, reduction: F.triplet_margin_loss(a, b, tn.tensor(C), margin=1.0, eps=0.0,
                                                                     reduction=reduction),
                       np.maximum(np.linalg.norm(A - B, axis=1) - np.linalg.norm(A - C, axis=1) + 1.0, 0)),
    "poisson_nll": (lambda a, b, reduction: F.poisson_nll_loss(a, tn.tensor([[0.0, 1.0, 3.0], [2.0, 5.0, 0.0]], dtype=tn.float64),
                                                               full=True, reduction=reduction),
                    np.exp(A) - np.array([[0, 1, 3], [2, 5, 0]]) * A
                    + np.array([[0, 0, 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi)],
                                [2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi),
                                 5 * math.log(5) - 5 + 0.5 * math.log(10 * math.pi), 0]])),
    "gaussian_nll": (lambda a, b, reduction: F.gaussian_nll_loss(a, b, b.abs() + 0.5, full=True, reduction=reduction),
                     0.5 * (np.log(np.abs(B) + 0.5) + (A - B) ** 2 / (np.abs(B) + 0.5) + math.log(2 * math.pi))),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_closed_forms_reductions_and_gradients(name, backend_name):
    fn, expected = LOSSES[name]
    expected = np.asarray(expected, dtype=float)
    a, b = tn.tensor(A, requires_grad=True), tn.tensor(B, requires_grad=True)
    np.testing.assert_allclose(fn(a, b, "none").detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    assert fn(a, b, "sum").item() == pytest.approx(expected.sum(), rel=1e-12)
    assert fn(a, b, "mean").item() == pytest.approx(expected.mean(), rel=1e-12)
    assert tn.gradcheck(lambda x, y: fn(x, y, "sum"), (a, b))
    with pytest.raises(ValueError):
        fn(a, b, "average")


def test_loss_modules_arguments_reprs_and_buffers():
    x, y = tn.tensor(A), tn.tensor(B)
    assert repr(nn.TripletMarginLoss()) == "TripletMarginLoss()" and repr(nn.MSELoss(reduction="sum")) == "MSELoss()"
    assert nn.TripletMarginLoss(margin=1.0, p=2, eps=0.0)(x, y, tn.tensor(C)).item() == \
        pytest.approx(LOSSES["triplet_margin"][1].mean())
    assert nn.MarginRankingLoss(0.2, reduction="sum")(x[:, 0], y[:, 0], tn.tensor([1.0, -1.0])).item() == \
        pytest.approx(sum(LOSSES["margin_ranking"][1]))
    assert nn.HingeEmbeddingLoss(size_average=False)(x[0], tn.tensor([1.0, -1.0, -0.5])).item() == 1.0 + 0.0 + (0.0 + 2.0)
    loss = nn.MultiLabelSoftMarginLoss(weight=tn.tensor([1.0, 2.0, 0.5], dtype=tn.float64))
    assert list(loss.state_dict()) == ["weight"]
    assert nn.GaussianNLLLoss(full=True, reduction="none")(x, y, y.abs() + 0.5).shape == (2, 3)
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)  # keyword-only, as in PyTorch
    assert nn.PoissonNLLLoss(log_input=False, eps=0.0)(tn.tensor([2.0]), tn.tensor([1.0])).item() == \
        pytest.approx(2.0 - math.log(2.0))
    assert nn.SoftMarginLoss()(tn.tensor([800.0]), tn.tensor([-1.0])).item() == 800.0  # no overflow
    assert nn.CosineEmbeddingLoss()(x[0], y[0], tn.tensor(1)).item() == pytest.approx(1 - 4.0 / (3 * math.sqrt(5)))
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginLoss(margin=0.0)


def test_gaussian_nll_variance_shapes_and_clamp():
    x, y = tn.tensor(A), tn.tensor(B)
    shared = tn.tensor([[2.0], [0.5]], dtype=tn.float64, requires_grad=True)
    expect = 0.5 * (np.log([[2.0], [0.5]]) + (A - B) ** 2 / [[2.0], [0.5]])
    np.testing.assert_allclose(F.gaussian_nll_loss(x, y, shared, reduction="none").detach().numpy(), expect, rtol=1e-13)
    np.testing.assert_allclose(F.gaussian_nll_loss(x, y, tn.tensor([2.0, 0.5], dtype=tn.float64),
                                                   reduction="none").numpy(), expect, rtol=1e-13)
    with pytest.raises(ValueError, match="size"):
        F.gaussian_nll_loss(x, y, tn.ones(2, 2, dtype=tn.float64))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, y, -tn.ones(2, 3, dtype=tn.float64))
    tiny = tn.tensor([1e-9], dtype=tn.float64, requires_grad=True)
    out = F.gaussian_nll_loss(tn.tensor([0.0], dtype=tn.float64), tn.tensor([0.0], dtype=tn.float64), tiny, eps=1e-6)
    out.backward()  # var clamped to eps, and the gradient is d/dv at v = eps (the clamp is invisible to it)
    assert out.item() == pytest.approx(0.5 * math.log(1e-6)) and tiny.grad.item() == pytest.approx(0.5 / 1e-6)


def test_cosine_similarity_and_pairwise_distance(backend_name):
    a, b = tn.tensor(A, requires_grad=True), tn.tensor(B, requires_grad=True)
    cos = (A * B).sum(1) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)
    np.testing.assert_allclose(F.cosine_similarity(a, b).detach().numpy(), cos, rtol=1e-13)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0)(a, b).detach().numpy(),
                               (A * B).sum(0) / np.linalg.norm(A, axis=0) / np.linalg.norm(B, axis=0), rtol=1e-13)
    assert F.cosine_similarity(tn.zeros(1, 3), tn.ones(1, 3)).tolist() == [0.0]  # eps keeps 0 / 0 away
    assert tn.gradcheck(F.cosine_similarity, (a, b))
    for p in (1.0, 2.0, 3.0):
        d = (np.abs(A - B + 1e-6) ** p).sum(1) ** (1 / p)
        np.testing.assert_allclose(F.pairwise_distance(a, b, p).detach().numpy(), d, rtol=1e-13)
    assert nn.PairwiseDistance(keepdim=True)(a, b).shape == (2, 1)
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()" and repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    assert tn.gradcheck(F.pairwise_distance, (a, b))


# ---------------------------------------------------------------- padding, pixel shuffle, pools, bilinear
def test_padding_layers_values_and_reprs(backend_name):
    x = tn.tensor([[[1.0, 2.0, 3.0]]], dtype=tn.float64)
    assert nn.ZeroPad1d((1, 2))(x).tolist() == [[[0, 1, 2, 3, 0, 0]]]
    assert nn.ConstantPad1d(1, 3.5)(x).tolist() == [[[3.5, 1, 2, 3, 3.5]]]
    assert nn.ReflectionPad1d(2)(x).tolist() == [[[3, 2, 1, 2, 3, 2, 1]]]
    assert nn.ReplicationPad1d((2, 1))(x).tolist() == [[[1, 1, 1, 2, 3, 3]]]
    img = tn.tensor([[[1.0, 2.0], [3.0, 4.0]]], dtype=tn.float64, requires_grad=True)
    assert nn.ZeroPad2d((1, 0, 0, 1))(img).tolist() == [[[0, 1, 2], [0, 3, 4], [0, 0, 0]]]
    assert nn.ConstantPad2d((0, 1, 1, 0), -1.0)(img).tolist() == [[[-1, -1, -1], [1, 2, -1], [3, 4, -1]]]
    assert nn.ReflectionPad2d((1, 0, 1, 0))(img).tolist() == [[[4, 3, 4], [2, 1, 2], [4, 3, 4]]]
    out = nn.ReplicationPad2d(1)(img)
    assert out.tolist()[0][0] == [1, 1, 2, 2] and out.shape == (1, 4, 4)
    out.sum().backward()
    assert img.grad.tolist() == [[[4.0, 4.0], [4.0, 4.0]]]  # each corner is copied into a 2 x 2 block
    assert repr(nn.ZeroPad2d(2)) == "ZeroPad2d((2, 2, 2, 2))" and repr(nn.ReflectionPad1d(2)) == "ReflectionPad1d((2, 2))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    with pytest.raises(ValueError):
        nn.ReflectionPad2d(2)(img)  # reflection needs padding < size
    with pytest.raises(ValueError, match="4-D"):
        nn.ReplicationPad2d(1)(tn.zeros(3, 3))


def test_pixel_shuffle_and_unshuffle(backend_name):
    x = tn.tensor(np.arange(8.0).reshape(2, 4, 1, 1), requires_grad=True)
    y = nn.PixelShuffle(2)(x)
    assert y.tolist() == [[[[0, 1], [2, 3]]], [[[4, 5], [6, 7]]]]
    assert nn.PixelUnshuffle(2)(y).tolist() == x.tolist()
    big = tn.tensor(np.arange(72.0).reshape(2, 9, 2, 2))
    # y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]
    assert F.pixel_shuffle(big, 3)[1, 0, 1 * 3 + 2, 0 * 3 + 1].item() == big[1, 2 * 3 + 1, 1, 0].item()
    assert F.pixel_unshuffle(F.pixel_shuffle(big, 3), 3).tolist() == big.tolist()
    assert tn.gradcheck(lambda t: F.pixel_shuffle(t, 2), (tn.tensor(np.random.rand(1, 8, 2, 3), requires_grad=True),))
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(tn.zeros(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_unshuffle(tn.zeros(1, 3, 3, 2), 2)


def test_one_dimensional_and_adaptive_pools(backend_name):
    x = tn.tensor([[[1.0, 5.0, 2.0, 8.0, 3.0]]], dtype=tn.float64, requires_grad=True)
    assert nn.AvgPool1d(2)(x).tolist() == [[[3.0, 5.0]]]
    assert nn.AvgPool1d(3, 2, 1)(x).tolist() == [[[2.0, 5.0, 11 / 3]]]  # zero padding counted
    assert nn.AvgPool1d(3, 2, 1, count_include_pad=False)(x).tolist() == [[[3.0, 5.0, 5.5]]]
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    # adaptive windows [floor(i L / o), ceil((i + 1) L / o)): L = 5, o = 3 -> [0, 2), [1, 4), [3, 5)
    assert nn.AdaptiveAvgPool1d(3)(x).tolist() == [[[3.0, 5.0, 5.5]]]
    y, idx = nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    assert y.tolist() == [[[5.0, 8.0, 8.0]]] and idx.tolist() == [[[1, 3, 3]]] and idx.dtype == tn.int64
    y.sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0, 2.0, 0.0]]]
    img = tn.tensor(np.array([[1.0, 9.0, 2.0], [4.0, 3.0, 7.0], [6.0, 5.0, 8.0]])[None, None])
    y, idx = F.adaptive_max_pool2d(img, 2, return_indices=True)  # windows rows/cols [0, 2), [1, 3)
    assert y.tolist() == [[[[9.0, 9.0], [6.0, 8.0]]]] and idx.tolist() == [[[[1, 1], [6, 8]]]]
    assert F.adaptive_max_pool2d(img, (None, 1)).tolist() == [[[[9.0], [7.0], [8.0]]]]
    ties, where = F.adaptive_max_pool2d(tn.zeros(1, 1, 2, 2), 1, return_indices=True)
    assert where.tolist() == [[[[0]]]]  # the first maximum, as PyTorch
    assert repr(nn.AdaptiveMaxPool2d((2, 3), True)) == "AdaptiveMaxPool2d(output_size=(2, 3))"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert tn.gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)),
                        (tn.tensor(np.random.default_rng(3).permutation(30).reshape(1, 1, 5, 6) / 7,
                                   requires_grad=True),))


def test_bilinear_layer(backend_name):
    layer = nn.Bilinear(2, 3, 2, dtype=tn.float64)
    w = np.arange(12.0).reshape(2, 2, 3) / 10
    with tn.no_grad():
        layer.weight.copy_(tn.tensor(w))
        layer.bias.copy_(tn.tensor([1.0, -1.0]))
    x1, x2 = np.array([[1.0, -2.0]]), np.array([[0.5, 1.0, 2.0]])
    expect = np.einsum("ni,kij,nj->nk", x1, w, x2) + [1.0, -1.0]
    np.testing.assert_allclose(layer(tn.tensor(x1), tn.tensor(x2)).detach().numpy(), expect, rtol=1e-14)
    assert layer(tn.tensor(x1[0]), tn.tensor(x2[0])).shape == (2,)
    assert list(layer.state_dict()) == ["weight", "bias"] and layer.weight.shape == (2, 2, 3)
    assert repr(layer) == "Bilinear(in1_features=2, in2_features=3, out_features=2, bias=True)"
    assert "bias" not in nn.Bilinear(2, 3, 2, bias=False).state_dict()
    assert float(np.abs(nn.Bilinear(4, 3, 50).weight.numpy()).max()) <= 0.5  # U(-1/sqrt(in1), 1/sqrt(in1))
    assert tn.gradcheck(F.bilinear, (tn.tensor(x1, requires_grad=True), tn.tensor(x2, requires_grad=True),
                                     tn.tensor(w, requires_grad=True), tn.tensor([0.5, 0.1], requires_grad=True)))
    with pytest.raises(RuntimeError, match="bilinear"):
        layer(tn.tensor(x2), tn.tensor(x1))


def test_torch_level_names_of_functional_ops():
    # torch.selu, torch.conv2d, ... are nn.functional's functions with the same arguments
    import tinynn.nn.functional as F
    for name in ("selu", "celu", "prelu", "threshold", "hardshrink", "cosine_similarity", "pairwise_distance",
                 "pixel_shuffle", "pixel_unshuffle", "bilinear", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d",
                 "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "group_norm"):
        assert getattr(tn, name) is getattr(F, name), name
    x = tn.tensor([[3.0, 4.0]])
    assert tn.cosine_similarity(x, x * 2).item() == pytest.approx(1.0)
    with pytest.raises(AttributeError, match="embedding"):
        tn.embedding   # torch.embedding(weight, indices) takes its arguments the other way round
