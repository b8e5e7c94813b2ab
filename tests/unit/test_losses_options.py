"""Loss options with PyTorch's formulas, each checked against a NumPy computation written from the
documented formula: class weights, ignore_index, label smoothing, class-probability targets,
(N, C, d1, ...) and unbatched (C,) inputs, PyTorch's weighted mean; BCE weight and pos_weight;
L1, SmoothL1 and Huber; KLDiv's batchmean and log_target. Float64 gradient checks on both backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

rng = np.random.default_rng(1)
X2 = rng.normal(size=(5, 4))               # (N, C)
X3 = rng.normal(size=(3, 4, 2))            # (N, C, d1)
T2 = np.array([0, 3, -100, 1, 3])          # one ignored
T3 = np.array([[0, 3], [2, -100], [1, 1]])
W = np.array([0.5, 2.0, 1.0, 3.0])


def t64(a, grad=True):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def log_softmax(x, axis=1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def expected_ce(x, t, w=None, ignore=-100, eps=0.0, reduction="mean"):
    """PyTorch's documented class-index cross-entropy, computed per sample in NumPy."""
    c = x.shape[1]
    w = np.ones(c) if w is None else w
    logp = np.moveaxis(log_softmax(x), 1, -1).reshape(-1, c)   # (samples, C)
    t = t.reshape(-1)
    losses, weights = np.zeros(len(t)), np.zeros(len(t))
    for n, k in enumerate(t):
        if k == ignore:
            continue
        weights[n] = w[k]
        losses[n] = -(1 - eps) * w[k] * logp[n, k] - eps / c * np.sum(w * logp[n])
    if reduction == "none":
        return losses.reshape(x.shape[:1] + x.shape[2:])
    return losses.sum() / weights.sum() if reduction == "mean" else losses.sum()


CE_CASES = {  # name: (x, t, keyword arguments)
    "2d weight ignore": (X2, T2, dict(weight=W)),
    "2d ignore only": (X2, T2, {}),
    "2d weight smoothing": (X2, np.array([0, 3, 2, 1, 3]), dict(weight=W, label_smoothing=0.2)),
    "2d all three": (X2, T2, dict(weight=W, label_smoothing=0.1)),
    "2d custom ignore": (X2, np.array([0, 3, 2, 1, 3]), dict(ignore_index=3)),
    "3d weight ignore smoothing": (X3, T3, dict(weight=W, label_smoothing=0.3)),
    "3d plain": (X3, np.where(T3 < 0, 0, T3), {}),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CE_CASES))
def test_cross_entropy_class_indices_closed_form_and_gradient(name, reduction, backend_name):
    x, t, kw = CE_CASES[name]
    args = {**kw, "weight": None if "weight" not in kw else tn.tensor(kw["weight"])}
    loss = F.cross_entropy(t64(x), tn.tensor(t), reduction=reduction, **args)
    expected = expected_ce(x, t, kw.get("weight"), kw.get("ignore_index", -100), kw.get("label_smoothing", 0.0),
                           reduction)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12, atol=1e-14)
    module = nn.CrossEntropyLoss(args["weight"], ignore_index=kw.get("ignore_index", -100), reduction=reduction,
                                 label_smoothing=kw.get("label_smoothing", 0.0))
    np.testing.assert_array_equal(module(t64(x), tn.tensor(t)).numpy(), loss.numpy())
    assert assert_gradients_match(lambda a: F.cross_entropy(a, tn.tensor(t), reduction=reduction, **args), t64(x))


def test_the_fused_path_equals_the_general_one_where_both_apply(backend_name):
    t = np.array([0, 3, 2, 1, 3])
    fused, general = t64(X2), t64(X2)
    a = F.cross_entropy(fused, tn.tensor(t), label_smoothing=0.1)            # 2-D, no weight: one fused node
    b = F.cross_entropy(general, tn.tensor(t), weight=tn.ones(4, dtype=tn.float64), label_smoothing=0.1)
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)
    np.testing.assert_allclose(fused.grad.numpy(), general.grad.numpy(), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("x", [X2, X3], ids=["2d", "3d"])
def test_cross_entropy_probability_targets(x, reduction, backend_name):
    p = np.exp(log_softmax(rng.normal(size=x.shape)))
    eps, c = 0.25, x.shape[1]
    q = (1 - eps) * p + eps / c
    wb = W.reshape((-1,) + (1,) * (x.ndim - 2))
    per = -(log_softmax(x) * q * wb).sum(axis=1)
    expected = {"mean": per.sum() / (x.size / c), "sum": per.sum(), "none": per}[reduction]
    fn = lambda a: F.cross_entropy(a, tn.tensor(p), weight=tn.tensor(W), reduction=reduction, label_smoothing=eps)  # noqa: E731
    np.testing.assert_allclose(fn(t64(x)).numpy(), expected, rtol=1e-12)
    assert assert_gradients_match(fn, t64(x))
    assert assert_gradients_match(lambda b: F.cross_entropy(tn.tensor(x), b, reduction=reduction), t64(p))


def test_unbatched_inputs(backend_name):
    x, p = X2[1], np.exp(log_softmax(X2[2:3]))[0]
    np.testing.assert_allclose(F.cross_entropy(t64(x), tn.tensor(3), weight=tn.tensor(W)).numpy(),
                               -log_softmax(x[None])[0, 3], rtol=1e-13)   # the weight cancels in the mean
    none = F.cross_entropy(t64(x), tn.tensor(3), weight=tn.tensor(W), reduction="none")
    assert none.shape == () and np.isclose(none.numpy(), -3.0 * log_softmax(x[None])[0, 3], rtol=1e-13)
    np.testing.assert_allclose(F.cross_entropy(t64(x), tn.tensor(p)).numpy(), -(log_softmax(x[None])[0] * p).sum(),
                               rtol=1e-13)
    np.testing.assert_allclose(F.nll_loss(t64(x), tn.tensor(2)).numpy(), -x[2])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_weight_and_ignore_index(reduction, backend_name):
    for x, t in ((X2, T2), (X3, T3)):
        logp = log_softmax(x)
        expected = expected_ce(x, t, W, reduction=reduction)  # cross-entropy = NLL of log_softmax
        loss = F.nll_loss(t64(logp), tn.tensor(t), weight=tn.tensor(W), reduction=reduction)
        np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12, atol=1e-14)
        module = nn.NLLLoss(tn.tensor(W), reduction=reduction)
        np.testing.assert_array_equal(module(t64(logp), tn.tensor(t)).numpy(), loss.numpy())
        assert assert_gradients_match(lambda a: F.nll_loss(a, tn.tensor(t), tn.tensor(W), reduction=reduction),
                                      t64(logp))
    x = t64(X2)
    np.testing.assert_array_equal(F.nll_loss(x, tn.tensor(np.array([0, 1, 2, 3, 0])), ignore_index=0,
                                             reduction="none").numpy(), [0, -X2[1, 1], -X2[2, 2], -X2[3, 3], 0])


def test_every_target_ignored_gives_nan_mean_and_zero_sum(backend_name):
    t = tn.tensor(np.full(5, -100))
    assert np.isnan(F.cross_entropy(t64(X2), t).numpy())
    assert F.cross_entropy(t64(X2), t, reduction="sum").numpy() == 0.0


def test_bce_weight(backend_name):
    p, y, w = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(size=(4, 3)), np.array([0.5, 1.0, 2.0])
    per = -w * (y * np.log(p) + (1 - y) * np.log(1 - p))
    for reduction, expected in (("mean", per.mean()), ("sum", per.sum()), ("none", per)):
        fn = lambda a: F.binary_cross_entropy(a, tn.tensor(y), weight=tn.tensor(w), reduction=reduction)  # noqa: E731
        np.testing.assert_allclose(fn(t64(p)).numpy(), expected, rtol=1e-12)
        np.testing.assert_array_equal(nn.BCELoss(tn.tensor(w), reduction=reduction)(t64(p), tn.tensor(y)).numpy(),
                                      fn(t64(p)).numpy())
        assert assert_gradients_match(fn, t64(p))


def test_bce_with_logits_weight_and_pos_weight(backend_name):
    x, y = rng.normal(size=(4, 3)) * 3, rng.uniform(size=(4, 3))
    w, pw = np.array([[0.5], [1.0], [2.0], [1.5]]), np.array([1.0, 3.0, 0.25])
    s = 1 / (1 + np.exp(-x))
    per = -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    module = nn.BCEWithLogitsLoss(weight=tn.tensor(w), pos_weight=tn.tensor(pw), reduction="none")
    assert set(module.state_dict()) == {"weight", "pos_weight"}
    np.testing.assert_allclose(module(t64(x), tn.tensor(y)).numpy(), per, rtol=1e-12)
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, tn.tensor(w), pos_weight=tn.tensor(pw))  # noqa: E731
    np.testing.assert_allclose(fn(t64(x), tn.tensor(y)).numpy(), per.mean(), rtol=1e-12)
    assert assert_gradients_match(fn, t64(x), t64(y))
    huge = F.binary_cross_entropy_with_logits(t64([800.0, -800.0]), t64([0.0, 1.0]), pos_weight=tn.tensor([2.0]),
                                              reduction="none")
    np.testing.assert_allclose(huge.numpy(), [800.0, 1600.0])     # finite: no e^800 anywhere


def _d():
    a, b = rng.normal(size=(3, 4)) * 2, rng.normal(size=(3, 4)) * 2
    return a, b, a - b


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_smooth_l1_huber_closed_forms(reduction, backend_name):
    a, b, d = _d()
    red = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    cases = [
        (lambda x, y: F.l1_loss(x, y, reduction=reduction), np.abs(d), nn.L1Loss(reduction=reduction)),
        (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=1.5),
         np.where(np.abs(d) < 1.5, 0.5 * d * d / 1.5, np.abs(d) - 0.75), nn.SmoothL1Loss(reduction=reduction, beta=1.5)),
        (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.0), np.abs(d),
         nn.SmoothL1Loss(reduction=reduction, beta=0.0)),
        (lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.8),
         np.where(np.abs(d) < 0.8, 0.5 * d * d, 0.8 * (np.abs(d) - 0.4)), nn.HuberLoss(reduction=reduction, delta=0.8)),
    ]
    for fn, per, module in cases:
        np.testing.assert_allclose(fn(t64(a), t64(b)).numpy(), red(per), rtol=1e-13)
        np.testing.assert_array_equal(module(t64(a), t64(b)).numpy(), fn(t64(a), t64(b)).numpy())
        assert assert_gradients_match(fn, t64(a), t64(b))
    assert nn.SmoothL1Loss().beta == 1.0 and nn.HuberLoss().delta == 1.0


def test_smooth_l1_gradient_is_sign_outside_and_d_over_beta_inside(backend_name):
    x = t64([0.0, 0.5, 3.0, -3.0])
    F.smooth_l1_loss(x, tn.zeros(4, dtype=tn.float64), reduction="sum", beta=2.0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25, 1.0, -1.0])


def test_kl_div_batchmean_and_log_target(backend_name):
    q = np.exp(log_softmax(rng.normal(size=(4, 5))))
    p = np.exp(log_softmax(rng.normal(size=(4, 5))))
    per = p * (np.log(p) - np.log(q))
    for log_target, target in ((False, p), (True, np.log(p))):
        for reduction, expected in (("batchmean", per.sum() / 4), ("mean", per.mean()), ("sum", per.sum())):
            out = nn.KLDivLoss(reduction=reduction, log_target=log_target)(t64(np.log(q)), t64(target))
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
        assert assert_gradients_match(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
                                      t64(np.log(q)), t64(target))


def test_float32_stays_float32(backend_name):
    x = tn.tensor(X3.astype(np.float32), requires_grad=True)
    for loss in (F.cross_entropy(x, tn.tensor(T3), weight=tn.tensor(W), label_smoothing=0.1),
                 F.cross_entropy(x, tn.tensor(np.exp(log_softmax(X3)))),
                 F.huber_loss(x, tn.zeros(x.shape)), F.l1_loss(x, tn.zeros(x.shape)),
                 F.binary_cross_entropy_with_logits(x, tn.zeros(x.shape), pos_weight=tn.tensor([1.0, 2.0]))):
        loss.backward()
        assert loss.dtype == tn.float32 and x.grad.dtype == tn.float32
        x.grad = None


def test_pytorchs_positional_order_and_deprecated_flags():
    module = nn.CrossEntropyLoss(tn.tensor(W), None, 1)
    assert module.ignore_index == 1 and set(module.state_dict()) == {"weight"}
    assert nn.CrossEntropyLoss().state_dict() == {}
    assert nn.MSELoss(size_average=False).reduction == "sum" and nn.L1Loss(reduce=False).reduction == "none"
    x, t = t64(X2), tn.tensor(np.array([0, 3, 2, 1, 3]))
    np.testing.assert_array_equal(F.cross_entropy(x, t, None, size_average=False).numpy(),
                                  F.cross_entropy(x, t, reduction="sum").numpy())


def test_errors_name_the_loss_and_the_shapes():
    x = t64(X2)
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(3,\) does not match 4 classes"):
        F.cross_entropy(x, tn.tensor(T2), weight=tn.ones(3))
    with pytest.raises(ValueError, match=r"nll_loss: weight of shape \(5,\) does not match 4 classes"):
        nn.NLLLoss(tn.ones(5))(x, tn.tensor(T2))
    with pytest.raises(ValueError, match=r"cross_entropy: expected logits \(N, C, d1, \.\.\.\) and target "
                                         r"\(N, d1, \.\.\.\), got \(3, 4, 2\) and \(3, 3\)"):
        F.cross_entropy(t64(X3), tn.tensor(np.zeros((3, 3), np.int64)))
    with pytest.raises(IndexError, match="cross_entropy: class index 4 is out of range for 4 classes"):
        F.cross_entropy(x, tn.tensor(np.array([0, 4, 1, 1, -100])))
    with pytest.raises(IndexError, match="nll_loss: class index -1 is out of range"):
        F.nll_loss(t64(X3), tn.tensor(np.array([[0, -1], [0, 0], [0, 0]])))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices, got dtype float64"):
        F.nll_loss(x, tn.tensor(np.zeros(5)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight of shape \(3,\) cannot be "
                                         r"broadcast to the input's shape \(5, 4\)"):
        F.binary_cross_entropy_with_logits(x, tn.zeros(5, 4, dtype=tn.float64), pos_weight=tn.ones(3))
    with pytest.raises(ValueError, match=r"huber_loss: target shape \(4,\) differs from input shape \(5, 4\)"):
        nn.HuberLoss()(x, tn.zeros(4))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="L1Loss: unknown reduction"):
        nn.L1Loss(reduction="avg")
