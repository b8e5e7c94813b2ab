"""MultiMarginLoss and MultiLabelMarginLoss: hand-computed values (the examples worked by hand from the
documented formulas), a NumPy loop written from the formulas on random inputs (every reduction, p = 1
and 2, margins, class weights, one-sample inputs), the hinge's zero gradient at the kink, PyTorch's
shape and error rules, the modules, and float64 gradcheck and gradgradcheck on both backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(7)


def t64(a, grad=False):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def multi_margin_reference(x, y, p=1, margin=1.0, w=None):
    """l_n = (1 / C) sum_{i != y_n} w_{y_n} max(0, margin - x[n, y_n] + x[n, i])^p, by loops."""
    n, c = x.shape
    out = np.zeros(n)
    for k in range(n):
        for i in range(c):
            if i != y[k]:
                out[k] += (1.0 if w is None else w[y[k]]) * max(0.0, margin - x[k, y[k]] + x[k, i]) ** p
    return out / c


def multilabel_reference(x, y):
    """l_n = (1 / C) sum_{j in J} sum_{i not in J} max(0, 1 - (x[n, j] - x[n, i])), J = y_n before its first -1."""
    n, c = x.shape
    out = np.zeros(n)
    for k in range(n):
        targets = []
        for v in y[k]:
            if v < 0:
                break
            targets.append(v)
        for j in targets:
            for i in range(c):
                if i not in targets:
                    out[k] += max(0.0, 1 - (x[k, j] - x[k, i]))
    return out / c


def reduce(values, reduction):
    return {"none": values, "sum": values.sum(), "mean": values.mean()}[reduction]


def test_hand_computed_examples():
    x = t64([[0.1, 0.2, 0.4, 0.8]])
    # y = 3: (1/4) (max(0, 1 - 0.8 + 0.1) + max(0, 1 - 0.8 + 0.2) + max(0, 1 - 0.8 + 0.4)) = (0.3 + 0.4 + 0.6) / 4
    assert np.isclose(F.multi_margin_loss(x, tn.tensor([3])).item(), 0.325, rtol=1e-14)
    assert np.isclose(F.multi_margin_loss(x, tn.tensor([3]), p=2).item(), (0.09 + 0.16 + 0.36) / 4, rtol=1e-14)
    w = t64([1.0, 1.0, 1.0, 2.0])  # the weight multiplies the p-th power: 2 (0.09 + 0.16 + 0.36) / 4
    assert np.isclose(F.multi_margin_loss(x, tn.tensor([3]), p=2, weight=w).item(), 0.305, rtol=1e-14)
    # margin 0.5: only 0.5 - 0.8 + 0.4 = 0.1 is positive
    assert np.isclose(F.multi_margin_loss(x, tn.tensor([3]), margin=0.5).item(), 0.1 / 4, rtol=1e-13)
    # targets 3 and 0 (then -1 ends the list): pairs (3,1), (3,2), (0,1), (0,2):
    # (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4)) + (1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) = 0.4 + 0.6 + 1.1 + 1.3
    y = tn.tensor([[3, 0, -1, 1]])
    assert np.isclose(F.multilabel_margin_loss(x, y).item(), 3.4 / 4, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_matches_the_formula(p, reduction):
    x, y, w = rng.normal(size=(6, 5)), rng.integers(0, 5, 6), rng.uniform(0.2, 2.0, 5)
    for margin, weight in ((1.0, None), (0.4, w)):
        got = F.multi_margin_loss(t64(x), tn.tensor(y), p=p, margin=margin,
                                  weight=None if weight is None else t64(weight), reduction=reduction)
        np.testing.assert_allclose(got.numpy(), reduce(multi_margin_reference(x, y, p, margin, weight), reduction),
                                   rtol=1e-13, atol=1e-15)
        module = nn.MultiMarginLoss(p, margin, None if weight is None else t64(weight), reduction=reduction)
        np.testing.assert_array_equal(module(t64(x), tn.tensor(y)).numpy(), got.numpy())


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_multilabel_margin_loss_matches_the_formula(reduction):
    x = rng.normal(size=(6, 5))
    y = rng.integers(-1, 5, (6, 5))
    y[0] = [2, 2, 4, -1, 0]      # a repeated index counts twice; what follows -1 is ignored
    y[1] = [0, 1, 2, 3, 4]       # every class a target: nothing to compare with
    y[2] = [-1, 1, 2, 3, 4]      # no target
    got = F.multilabel_margin_loss(t64(x), tn.tensor(y), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), reduce(multilabel_reference(x, y), reduction), rtol=1e-13, atol=1e-15)
    assert multilabel_reference(x, y)[1] == 0 and multilabel_reference(x, y)[2] == 0
    module = nn.MultiLabelMarginLoss(reduction=reduction)
    np.testing.assert_array_equal(module(t64(x), tn.tensor(y)).numpy(), got.numpy())


def test_one_sample_and_dtypes():
    x, y = rng.normal(size=4), 2
    expected = multi_margin_reference(x[None], [y])[0]
    for target, shape in ((tn.tensor(y), ()), (tn.tensor([y]), (1,))):  # the loss has the target's shape
        out = F.multi_margin_loss(t64(x), target, reduction="none")
        assert out.shape == shape and np.isclose(out.numpy().sum(), expected, rtol=1e-14)
    assert F.multi_margin_loss(t64(0.5), tn.tensor(0)).item() == 0.0    # one class: nothing to compare
    t = np.array([1, 3, -1, 0])
    out = F.multilabel_margin_loss(t64(x), tn.tensor(t), reduction="none")
    assert out.shape == () and np.isclose(out.item(), multilabel_reference(x[None], t[None])[0], rtol=1e-14)
    x32 = tn.tensor(x[None].astype(np.float32))
    assert F.multi_margin_loss(x32, tn.tensor([1])).dtype == np.float32
    assert F.multilabel_margin_loss(x32, tn.tensor(t[None])).dtype == np.float32
    assert F.multi_margin_loss(tn.zeros(0, 3), tn.tensor(np.zeros(0, np.int64)), reduction="none").shape == (0,)


def test_the_gradient_at_the_hinge_is_zero():
    # every non-target score sits exactly at the hinge: margin - x_y + x_i = 0, so nothing flows (PyTorch's)
    x = t64([[0.0, 1.0, 0.0]], grad=True)
    F.multi_margin_loss(x, tn.tensor([1])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 3)))
    x = t64([[0.0, 1.0, 0.0]], grad=True)
    F.multilabel_margin_loss(x, tn.tensor([[1, -1, 0]])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 3)))
    # just inside the margin: d/dx of (1/C)(margin - x_y + x_i) is +1/C on i, -1/C on y per active pair
    x = t64([[0.5, 1.0, 0.2]], grad=True)
    F.multi_margin_loss(x, tn.tensor([1]), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, -2 / 3, 1 / 3]], rtol=1e-15)


@pytest.mark.parametrize("p", [1, 2])
def test_gradients_of_first_and_second_order(p, backend_name):
    x, y = t64(rng.normal(size=(3, 4)), grad=True), tn.tensor(rng.integers(0, 4, 3))
    w = t64(rng.uniform(0.5, 2.0, 4))
    fn = lambda a: F.multi_margin_loss(a, y, p=p, margin=0.7, weight=w, reduction="none")  # noqa: E731
    assert tn.gradcheck(fn, x) and tn.gradgradcheck(fn, x)
    t = tn.tensor(np.array([[1, 3, -1, 0], [0, -1, 2, 2], [3, 2, 1, 0]]))
    fn = lambda a: F.multilabel_margin_loss(a, t, reduction="sum")  # noqa: E731
    assert tn.gradcheck(fn, x) and tn.gradgradcheck(fn, x)


def test_errors_name_the_problem():
    x = t64(rng.normal(size=(3, 4)))
    y = tn.tensor([0, 3, 1])
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, y, p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(IndexError, match="target 4 is out of range for 4 classes"):
        F.multi_margin_loss(x, tn.tensor([0, 4, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.multi_margin_loss(x, y.double())
    with pytest.raises(RuntimeError, match=r"expected size \[3\]"):
        F.multi_margin_loss(x, y[:2])
    with pytest.raises(ValueError, match="one-dimensional with 4 entries"):
        F.multi_margin_loss(x, y, weight=t64([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="not differentiable with respect to weight"):
        F.multi_margin_loss(x, y, weight=t64(np.ones(4), grad=True))
    with pytest.raises(RuntimeError, match="non-empty vector or matrix"):
        F.multi_margin_loss(tn.zeros(1, 3, 4), y)
    with pytest.raises(RuntimeError, match="non-empty vector or matrix"):
        F.multilabel_margin_loss(tn.zeros(2, 0), tn.tensor(np.zeros((2, 0), np.int64)))
    with pytest.raises(TypeError, match="floating-point input"):
        F.multi_margin_loss(tn.tensor([[1, 2]]), tn.tensor([0]))
    with pytest.raises(ValueError, match="unknown reduction"):
        F.multilabel_margin_loss(x, tn.tensor(np.zeros((3, 4), np.int64)), reduction="avg")
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, tn.tensor(np.zeros((2, 4), np.int64)))
    with pytest.raises(IndexError, match="target -2 is out of range"):
        F.multilabel_margin_loss(x, tn.tensor(np.full((3, 4), -2)))


def test_modules_have_pytorch_arguments_and_state():
    m = nn.MultiMarginLoss(weight=tn.ones(3))
    assert (m.p, m.margin, m.reduction) == (1, 1.0, "mean") and list(m.state_dict()) == ["weight"]
    assert repr(m) == "MultiMarginLoss()" and repr(nn.MultiLabelMarginLoss()) == "MultiLabelMarginLoss()"
    assert nn.MultiLabelMarginLoss(size_average=False).reduction == "sum"
    assert nn.MultiMarginLoss(reduce=False).reduction == "none"
