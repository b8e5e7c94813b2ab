"""Losses: hand-computed closed forms, float64 gradient checks, reductions and errors."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

rng = np.random.default_rng(0)


def t64(a, grad=True):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------- MSE
def test_mse_closed_form():
    x, y = tn.tensor([1.0, 2.0, 4.0]), tn.tensor([0.0, 2.0, 1.0])
    assert nn.MSELoss()(x, y).item() == pytest.approx((1 + 0 + 9) / 3)
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(10)
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).numpy(), [1, 0, 9])


def test_mse_gradcheck(backend_name):
    for reduction in ("mean", "sum", "none"):
        assert assert_gradients_match(lambda a, b: F.mse_loss(a, b, reduction=reduction), t64(rng.normal(size=(3, 2))), t64(rng.normal(size=(3, 2))))


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        F.mse_loss(tn.zeros(3), tn.zeros(3, 1))


# ---------------------------------------------------------------- cross-entropy
def test_cross_entropy_closed_form():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    target = np.array([2, 0])
    lse0 = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    per = np.array([lse0 - 3, math.log(3)])
    out = nn.CrossEntropyLoss(reduction="none")(tn.tensor(logits), tn.tensor(target))
    np.testing.assert_allclose(out.numpy(), per, rtol=1e-12)
    assert nn.CrossEntropyLoss()(tn.tensor(logits), tn.tensor(target)).item() == pytest.approx(per.mean())
    assert nn.CrossEntropyLoss(reduction="sum")(tn.tensor(logits), tn.tensor(target)).item() == pytest.approx(per.sum())


def test_cross_entropy_label_smoothing_closed_form():
    e = 0.1
    logits = np.array([[1.0, 2.0, 3.0]])
    logp = logits - np.log(np.exp(logits).sum())
    q = np.array([e / 3, e / 3, 1 - e + e / 3])
    expected = -(q * logp).sum()
    got = nn.CrossEntropyLoss(label_smoothing=e)(tn.tensor(logits), tn.tensor([2])).item()
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck(reduction, smoothing, backend_name):
    target = tn.tensor([0, 2, 1, 2])
    assert assert_gradients_match(lambda x: F.cross_entropy(x, target, reduction=reduction, label_smoothing=smoothing),
                        t64(rng.normal(size=(4, 3))))


def test_cross_entropy_errors(backend_name):
    logits = tn.zeros(2, 3)
    with tn.use_backend(backend_name):
        with pytest.raises(IndexError, match="class index 3 .*out of range for 3 classes"):
            nn.CrossEntropyLoss()(logits, tn.tensor([0, 3]))
        with pytest.raises(IndexError, match="class index -1 "):
            nn.CrossEntropyLoss()(logits, tn.tensor([-1, 0]))
    with pytest.raises(TypeError, match="float"):
        nn.CrossEntropyLoss()(logits, tn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, tn.tensor([0, 1]), reduction="avg")


def test_unknown_reduction_everywhere():
    for cls in (nn.MSELoss, nn.CrossEntropyLoss, nn.BCELoss, nn.BCEWithLogitsLoss, nn.KLDivLoss):
        with pytest.raises(ValueError, match="reduction"):
            cls(reduction="bogus")
    x = tn.full((2,), 0.5)
    for fn in (F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.kl_div):
        with pytest.raises(ValueError, match="reduction"):
            fn(x, x, reduction="bogus")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")


# ---------------------------------------------------------------- binary cross-entropy
def test_bce_closed_form():
    p, y = tn.tensor([0.9, 0.2, 0.5]), tn.tensor([1.0, 0.0, 1.0])
    per = [-math.log(0.9), -math.log(0.8), -math.log(0.5)]
    np.testing.assert_allclose(nn.BCELoss(reduction="none")(p, y).numpy(), per, rtol=1e-6)
    assert nn.BCELoss()(p, y).item() == pytest.approx(np.mean(per), rel=1e-6)
    assert nn.BCELoss(reduction="sum")(p, y).item() == pytest.approx(np.sum(per), rel=1e-6)


def test_bce_log_is_clamped_at_minus_100():
    p, y = tn.tensor([0.0, 1.0, 0.0]), tn.tensor([1.0, 0.0, 0.0])
    out = nn.BCELoss(reduction="none")(p, y).numpy()
    np.testing.assert_array_equal(out, [100.0, 100.0, 0.0])
    x = tn.tensor(np.array([0.0, 1.0]), requires_grad=True)
    F.binary_cross_entropy(x, tn.tensor(np.array([1.0, 0.0])), reduction="sum").backward()
    assert np.all(np.isfinite(x.grad))  # (p - t) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(x.grad, [-1e12, 1e12])


def test_bce_gradcheck_input_and_target(backend_name):
    p = t64(rng.uniform(0.1, 0.9, size=(3, 2)))
    y = t64(rng.uniform(0, 1, size=(3, 2)))
    for reduction in ("mean", "sum", "none"):
        assert assert_gradients_match(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), p, y)


def test_bce_rejects_out_of_range_and_shape_mismatch():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(tn.tensor([1.5]), tn.tensor([1.0]))
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy(tn.tensor([0.5, 0.5]), tn.tensor([[1.0, 0.0]]))


def test_bce_with_logits_matches_bce_of_sigmoid():
    x = rng.normal(size=(4, 3)) * 3
    y = rng.integers(0, 2, size=(4, 3)).astype(np.float64)
    s = 1 / (1 + np.exp(-x))
    expected = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    got = F.binary_cross_entropy_with_logits(tn.tensor(x), tn.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert nn.BCEWithLogitsLoss()(tn.tensor(x), tn.tensor(y)).item() == pytest.approx(expected.mean())


def test_bce_with_logits_is_stable_for_huge_logits():
    x = tn.tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    y = tn.tensor(np.array([1.0, 0.0, 0.0, 1.0]))
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, -1.0])


def test_bce_with_logits_gradcheck_input_and_target(backend_name):
    for reduction in ("mean", "sum", "none"):
        assert assert_gradients_match(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                            t64(rng.normal(size=(3, 2)) * 2), t64(rng.uniform(size=(3, 2))))


# ---------------------------------------------------------------- KL divergence
def test_kl_div_closed_form_and_reductions():
    q = np.array([[0.5, 0.25, 0.25], [0.1, 0.6, 0.3]])
    p = np.array([[0.25, 0.25, 0.5], [0.0, 0.5, 0.5]])  # a zero target contributes 0 (0 log 0 = 0)
    per = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0) - p * np.log(q)
    inp, tgt = tn.tensor(np.log(q)), tn.tensor(p)
    np.testing.assert_allclose(F.kl_div(inp, tgt, reduction="none").numpy(), per, rtol=1e-12)
    assert nn.KLDivLoss()(inp, tgt).item() == pytest.approx(per.mean())  # mean over all elements
    assert nn.KLDivLoss(reduction="sum")(inp, tgt).item() == pytest.approx(per.sum())
    batchmean = nn.KLDivLoss(reduction="batchmean")(inp, tgt).item()
    assert batchmean == pytest.approx(per.sum() / 2)
    kl0 = 0.25 * math.log(0.25 / 0.5) + 0.25 * math.log(1) + 0.5 * math.log(0.5 / 0.25)
    kl1 = 0.5 * math.log(0.5 / 0.6) + 0.5 * math.log(0.5 / 0.3)
    assert batchmean == pytest.approx((kl0 + kl1) / 2)  # the textbook KL(p || q) per sample
    log_t = nn.KLDivLoss(reduction="sum", log_target=True)(inp, tn.tensor(np.log(np.array([[0.25, 0.25, 0.5]] * 2))))
    assert log_t.item() == pytest.approx(kl0 + (0.25 * math.log(0.25 / 0.1) + 0.25 * math.log(0.25 / 0.6) + 0.5 * math.log(0.5 / 0.3)))


def test_kl_div_gradcheck(backend_name):
    logq = t64(np.log(rng.dirichlet(np.ones(4), size=3)))
    p = t64(rng.dirichlet(np.ones(4), size=3))
    for reduction in ("mean", "sum", "none", "batchmean"):
        assert assert_gradients_match(lambda a, b: F.kl_div(a, b, reduction=reduction), logq, p)
        assert assert_gradients_match(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True), logq, t64(np.log(p.numpy())))
    zero = t64(np.array([[0.0, 0.5, 0.5]]), grad=False)
    x = t64(np.log([[0.2, 0.3, 0.5]]))
    assert assert_gradients_match(lambda a: F.kl_div(a, zero, reduction="sum"), x)
    x.grad = None
    F.kl_div(x, zero, reduction="sum").backward()
    np.testing.assert_allclose(x.grad, [[0.0, -0.5, -0.5]])  # d/dx = -p


def test_nll_loss_matches_cross_entropy(backend_name):
    x = rng.normal(size=(4, 5))
    t = tn.tensor([0, 4, 2, 2])
    ce = F.cross_entropy(tn.tensor(x), t).item()
    assert nn.NLLLoss()(F.log_softmax(tn.tensor(x), dim=1), t).item() == pytest.approx(ce)
    assert assert_gradients_match(lambda a: F.nll_loss(a, t, reduction="sum"), t64(x))
