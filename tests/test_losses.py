"""Losses: hand-computed closed forms, float64 gradient checks, reductions and errors."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(0)


def t64(a, grad=True):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------- MSE
def test_mse_closed_form():
    x, y = tn.tensor([1.0, 2.0, 4.0]), tn.tensor([0.0, 2.0, 1.0])
    assert nn.MSELoss()(x, y).item() == pytest.approx((1 + 0 + 9) / 3)
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(10)
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).data, [1, 0, 9])


def test_mse_gradcheck():
    for reduction in ("mean", "sum", "none"):
        assert tn.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), t64(rng.normal(size=(3, 2))), t64(rng.normal(size=(3, 2))))


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
    np.testing.assert_allclose(out.data, per, rtol=1e-12)
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
def test_cross_entropy_gradcheck(reduction, smoothing):
    target = tn.tensor([0, 2, 1, 2])
    assert tn.gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction, label_smoothing=smoothing),
                        t64(rng.normal(size=(4, 3))))


def test_cross_entropy_errors():
    logits = tn.zeros(2, 3)
    with pytest.raises(IndexError, match="3"):
        nn.CrossEntropyLoss()(logits, tn.tensor([0, 3]))
    with pytest.raises(IndexError):
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
