"""F.ctc_loss and nn.CTCLoss against the definition of Graves et al. (2006): p(l | x) is the sum, over
every path pi of length T whose collapse B(pi) (merge repeats, then drop blanks) is l, of
prod_t y^t_{pi_t}, enumerated by brute force on tiny inputs. Also the closed forms (one frame and one
label: -log p; an alignment that is unique: minus the sum of its log-probabilities; an empty target: the
all-blank path), impossible alignments (+inf, zero_infinity), both target layouts, the reductions,
the occupation identity of the gradient, and float64 gradcheck and gradgradcheck on both backends."""
import itertools

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(3)


def log_probs(t, n, c, normalised=True):
    a = rng.dirichlet(np.ones(c), size=(t, n)) if normalised else rng.uniform(0.1, 1.0, (t, n, c))
    return np.log(a)


def collapse(path, blank):
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return [k for k in merged if k != blank]


def brute_force_nll(lp, target, blank=0):
    """-ln sum_{pi : B(pi) = target} prod_t e^(lp[t, pi_t]) for one sample lp (T, C), by enumeration."""
    t, c = lp.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t):
        if collapse(path, blank) == list(target):
            total += np.exp(sum(lp[i, k] for i, k in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def ctc(lp, targets, il, tl, **kw):
    return F.ctc_loss(tn.tensor(lp), tn.tensor(np.asarray(targets)), tn.tensor(np.asarray(il)),
                      tn.tensor(np.asarray(tl)), **kw)


def test_one_frame_one_label_is_minus_log_p():
    lp = log_probs(1, 1, 4)
    assert np.isclose(ctc(lp, [[2]], [1], [1], reduction="sum").item(), -lp[0, 0, 2], rtol=1e-14)


def test_a_unique_alignment_is_the_product_of_its_probabilities():
    lp = log_probs(4, 1, 5)
    # T = U: every frame emits its label, no blank fits
    assert np.isclose(ctc(lp, [[1, 3, 2, 4]], [4], [4], reduction="sum").item(),
                      -(lp[0, 0, 1] + lp[1, 0, 3] + lp[2, 0, 2] + lp[3, 0, 4]), rtol=1e-14)
    # a repeated label needs a blank between: (1, 1) in 3 frames is only 1, b, 1
    assert np.isclose(ctc(lp[:3], [[1, 1]], [3], [2], reduction="sum").item(),
                      -(lp[0, 0, 1] + lp[1, 0, 0] + lp[2, 0, 1]), rtol=1e-14)
    # an empty target: only the all-blank path
    assert np.isclose(ctc(lp, [[1]], [4], [0], reduction="sum").item(), -lp[:, 0, 0].sum(), rtol=1e-14)


def test_two_frames_one_label_by_hand():
    lp = log_probs(2, 1, 3)
    p = np.exp(lp[:, 0])
    # paths for "1" in two frames: (1, 1), (b, 1), (1, b)
    expected = -np.log(p[0, 1] * p[1, 1] + p[0, 0] * p[1, 1] + p[0, 1] * p[1, 0])
    assert np.isclose(ctc(lp, [[1]], [2], [1], reduction="sum").item(), expected, rtol=1e-14)


@pytest.mark.parametrize("blank", [0, 2])
def test_matches_the_enumeration_of_paths(blank):
    t, n, c = 5, 4, 3
    lp = log_probs(t, n, c, normalised=blank == 0)  # the definition needs no normalisation
    labels = [k for k in range(c) if k != blank]
    targets = np.array([[labels[0], labels[1], labels[1]], [labels[1], 0, 0], [labels[0], labels[0], 0],
                        [0, 0, 0]])
    tl, il = np.array([3, 1, 2, 0]), np.array([5, 4, 3, 2])
    expected = np.array([brute_force_nll(lp[:il[i], i], targets[i, :tl[i]], blank) for i in range(n)])
    got = ctc(lp, targets, il, tl, blank=blank, reduction="none")
    assert got.shape == (n,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ctc(lp, targets, il, tl, blank=blank, reduction="sum").item(), expected.sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(ctc(lp, targets, il, tl, blank=blank).item(),
                               (expected / np.maximum(tl, 1)).mean(), rtol=1e-12)  # mean: per target length
    flat = np.concatenate([targets[i, :tl[i]] for i in range(n)])
    np.testing.assert_array_equal(ctc(lp, flat, il, tl, blank=blank, reduction="none").numpy(), got.numpy())


def test_impossible_alignments_and_zero_infinity():
    lp = log_probs(3, 2, 4)
    targets, il, tl = [[1, 1], [1, 2]], [2, 3], [2, 2]  # (1, 1) needs 3 frames, it has 2
    out = ctc(lp, targets, il, tl, reduction="none")
    assert out.numpy()[0] == np.inf and np.isfinite(out.numpy()[1])
    x = tn.tensor(lp, requires_grad=True)
    zeroed = F.ctc_loss(x, tn.tensor(targets), tn.tensor(il), tn.tensor(tl), reduction="none", zero_infinity=True)
    assert zeroed.numpy()[0] == 0 and zeroed.numpy()[1] == out.numpy()[1]
    zeroed.sum().backward()
    assert not x.grad.numpy()[:, 0].any() and np.isfinite(x.grad.numpy()).all()
    # every path through a class of log-probability -inf is impossible; the rest still counts
    lp[:, :, 3] = -np.inf
    assert ctc(lp, [[1, 2], [3, 1]], [3, 3], [2, 2], reduction="none").numpy()[1] == np.inf
    finite = ctc(lp, [[1, 2], [3, 1]], [3, 3], [2, 2], reduction="none").numpy()[0]
    assert np.isclose(finite, brute_force_nll(lp[:, 0], [1, 2]), rtol=1e-12)


def test_gradient_is_the_occupation_probability():
    """d(-ln p) / d x[t, k] = -(sum of the probabilities of the paths with pi_t = k) / p: over k, -1 at
    every frame the input lasts, 0 after it."""
    lp = tn.tensor(log_probs(5, 2, 4), requires_grad=True)
    F.ctc_loss(lp, tn.tensor([[1, 2], [3, 3]]), tn.tensor([5, 3]), tn.tensor([2, 2]), reduction="sum").backward()
    sums = lp.grad.numpy().sum(axis=2)
    np.testing.assert_allclose(sums[:, 0], -np.ones(5), rtol=1e-12)
    np.testing.assert_allclose(sums[:3, 1], -np.ones(3), rtol=1e-12)
    assert not lp.grad.numpy()[3:, 1].any()


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_gradients_of_first_and_second_order(reduction, backend_name):
    x = tn.tensor(log_probs(4, 2, 3), requires_grad=True)
    targets, il, tl = tn.tensor([[1, 1], [2, 0]]), tn.tensor([4, 3]), tn.tensor([2, 1])
    fn = lambda a: F.ctc_loss(a, targets, il, tl, reduction=reduction)  # noqa: E731
    assert tn.gradcheck(fn, x) and tn.gradgradcheck(fn, x)
    logits = tn.tensor(rng.normal(size=(3, 1, 3)), requires_grad=True)  # through log_softmax, as in training
    fn = lambda z: F.ctc_loss(z.log_softmax(2), tn.tensor([[2, 1]]), tn.tensor([3]), tn.tensor([2]))  # noqa: E731
    assert tn.gradcheck(fn, logits) and tn.gradgradcheck(fn, logits)


def test_unbatched_shapes_dtypes_and_module():
    lp = log_probs(4, 1, 3)
    one = F.ctc_loss(tn.tensor(lp[:, 0]), tn.tensor([1, 2]), tn.tensor(4), tn.tensor(2), reduction="none")
    assert one.shape == () and np.isclose(one.item(), brute_force_nll(lp[:, 0], [1, 2]), rtol=1e-12)
    assert F.ctc_loss(tn.tensor(lp.astype(np.float32)), tn.tensor([[1, 2]]), (4,), (2,)).dtype == np.float32
    module = nn.CTCLoss(blank=0, reduction="sum")
    assert repr(nn.CTCLoss()) == "CTCLoss()" and (module.blank, module.zero_infinity) == (0, False)
    assert np.isclose(module(tn.tensor(lp), tn.tensor([[1, 2]]), [4], [2]).item(), one.item(), rtol=1e-14)


def test_errors_name_the_problem():
    lp, targets, il, tl = tn.tensor(log_probs(4, 2, 3)), tn.tensor([[1, 2], [1, 0]]), [4, 4], [2, 1]
    with pytest.raises(RuntimeError, match="at most 4"):
        F.ctc_loss(lp, targets, [5, 4], tl)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, targets, [4], tl)
    with pytest.raises(RuntimeError, match="target_lengths to have value at least 0"):
        F.ctc_loss(lp, targets, il, [2, -1])
    with pytest.raises(RuntimeError, match="must be integral"):
        F.ctc_loss(lp, targets, tn.tensor([4.0, 4.0]), tl)
    with pytest.raises(RuntimeError, match="S >= the longest target length 3"):
        F.ctc_loss(lp, targets, il, [3, 1])
    with pytest.raises(RuntimeError, match="sum\\(target_lengths\\) = 3"):
        F.ctc_loss(lp, tn.tensor([1, 2]), il, tl)
    with pytest.raises(IndexError, match="label 3 is out of range for 3 classes"):
        F.ctc_loss(lp, tn.tensor([[1, 3], [1, 0]]), il, tl)
    with pytest.raises(ValueError, match="blank must be in label range"):
        F.ctc_loss(lp, targets, il, tl, blank=3)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.ctc_loss(tn.tensor(np.zeros((4, 2, 3), np.int64)), targets, il, tl)
    with pytest.raises(RuntimeError, match="must not be empty"):
        F.ctc_loss(tn.zeros(0, 2, 3), targets, [0, 0], [0, 0])
    with pytest.raises(RuntimeError, match=r"\(T, N, C\) or \(T, C\)"):
        F.ctc_loss(tn.zeros(1, 4, 2, 3), targets, il, tl)
    with pytest.raises(ValueError, match="unknown reduction"):
        nn.CTCLoss(reduction="avg")
