"""Learning-rate schedulers: every value derived from PyTorch's documented formula for it."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.optim import lr_scheduler as L


def sgd(lr=0.1, groups=1, **kw):
    return optim.SGD([{"params": [nn.Parameter(tn.ones(1))]} for _ in range(groups)], lr=lr, **kw)


def run(opt, sched, epochs):
    """The first group's lr at epoch 0 (after construction) and after each of `epochs` steps."""
    out = [sched.get_last_lr()[0]]
    while len(out) <= epochs:
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [group["lr"] for group in opt.param_groups]
        out.append(opt.param_groups[0]["lr"])
    return out


def test_multistep():
    opt = sgd()
    expected = [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]   # gamma^(number of milestones <= t)
    np.testing.assert_allclose(run(opt, L.MultiStepLR(opt, milestones=[5, 2], gamma=0.1), 6), expected, rtol=1e-12)
    opt = sgd()
    np.testing.assert_allclose(run(opt, L.MultiStepLR(opt, [3, 3], gamma=0.5), 4), [0.1, 0.1, 0.1, 0.025, 0.025], rtol=1e-12)


def test_multistep_and_linear_jump_to_an_epoch():
    opt = sgd()
    s = L.MultiStepLR(opt, [2, 4], gamma=0.1)
    s.step(5)
    assert s.get_last_lr() == pytest.approx([0.001])
    opt = sgd()
    s = L.LinearLR(opt, start_factor=0.5, total_iters=4)
    s.step(3)
    assert s.get_last_lr() == pytest.approx([0.1 * 0.875])


def test_lambda_per_group():
    opt = sgd(groups=2)
    opt.param_groups[1]["lr"] = 1.0
    s = L.LambdaLR(opt, [lambda t: 0.95**t, lambda t: 1 / (t + 1)])
    for t in range(1, 5):
        opt.step()
        s.step()
        assert s.get_last_lr() == pytest.approx([0.1 * 0.95**t, 1.0 / (t + 1)], rel=1e-12)
    with pytest.raises(ValueError, match="LambdaLR: expected 2"):
        L.LambdaLR(sgd(groups=2), [lambda t: 1.0])


def test_linear():
    opt = sgd()
    # factor 0.5 + 0.5 min(t, 4) / 4
    expected = [0.1 * (0.5 + 0.5 * min(t, 4) / 4) for t in range(7)]
    np.testing.assert_allclose(run(opt, L.LinearLR(opt, start_factor=0.5, total_iters=4), 6), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="LinearLR"):
        L.LinearLR(sgd(), start_factor=0)


def test_one_cycle_default_two_phase_cos_with_momentum():
    # max_lr 1, N = 10: lr0 = 1/25 = 0.04, lr_min = 0.04 / 1e4. Phase 1 ends at step 0.3 N - 1 = 2,
    # phase 2 at N - 1 = 9. cos anneal: end + (start - end)(1 + cos(pi pct)) / 2.
    opt = sgd(lr=0.5, momentum=0.9)
    s = L.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lr0, lo = 0.04, 0.04 / 1e4
    cos = lambda a, b, pct: b + (a - b) * (1 + math.cos(math.pi * pct)) / 2  # noqa: E731
    expected = [lr0, cos(lr0, 1.0, 0.5), 1.0] + [cos(1.0, lo, (t - 2) / 7) for t in range(3, 11)]
    momenta = [0.95, 0.9, 0.85] + [cos(0.85, 0.95, (t - 2) / 7) for t in range(3, 11)]
    got, got_m = [s.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(10):
        opt.step()
        s.step()
        got.append(s.get_last_lr()[0])
        got_m.append(opt.param_groups[0]["momentum"])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got_m, momenta, rtol=1e-12)
    assert got[1] == pytest.approx(0.52) and got[9] == pytest.approx(lo)
    with pytest.raises(ValueError, match="total_steps is 10"):
        s.step()


def test_one_cycle_three_phase_linear_cycles_adam_beta1():
    # N = 10, pct 0.3: phases end at steps 2, 4, 9; lr0 = 0.1 / 10, lr_min = lr0 / 100.
    opt = optim.Adam([nn.Parameter(tn.ones(1))], lr=0.5, betas=(0.9, 0.99))
    s = L.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5, anneal_strategy="linear", three_phase=True,
                     div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)
    lrs, betas = [s.get_last_lr()[0]], [opt.param_groups[0]["betas"]]
    for _ in range(9):
        s.step()
        lrs.append(s.get_last_lr()[0])
        betas.append(opt.param_groups[0]["betas"])
    lr0, lo = 0.01, 0.0001
    expected = [lr0, 0.055, 0.1, 0.055, lr0] + [lr0 + (lo - lr0) * k / 5 for k in range(1, 6)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    np.testing.assert_allclose([b[0] for b in betas], [0.9, 0.85, 0.8, 0.85, 0.9] + [0.9] * 5, rtol=1e-12)
    assert all(b[1] == 0.99 for b in betas)


def test_one_cycle_errors():
    with pytest.raises(ValueError, match="total_steps"):
        L.OneCycleLR(sgd(momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        L.OneCycleLR(sgd(momentum=0.9), max_lr=1.0, total_steps=5, anneal_strategy="cosine")
    with pytest.raises(ValueError, match="momentum"):
        L.OneCycleLR(optim.Adagrad([nn.Parameter(tn.ones(1))]), max_lr=1.0, total_steps=5)


def plateau(metrics, **kw):
    opt = sgd(lr=1.0)
    s = L.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        s.step(m)
        out.append(s.get_last_lr()[0])
    return out


def test_plateau_patience_cooldown_min_lr():
    # best 10, then 9; from epoch 3 no improvement: more than patience=2 bad epochs -> halve.
    flat = [10, 9, 9, 9, 9, 9, 9, 9, 9]
    assert plateau(flat, factor=0.5, patience=2) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    # cooldown 1: the epoch after a reduction counts as neither good nor bad.
    assert plateau(flat, factor=0.5, patience=2, cooldown=1) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert plateau(flat, factor=0.5, patience=0, min_lr=0.3) == [1, 1, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


def test_plateau_thresholds_and_max_mode():
    # rel: 9.9995 is not below 10 (1 - 1e-4) = 9.999, so it is a bad epoch.
    assert plateau([10, 9.9995], patience=0) == [1, 0.1]
    # max / abs 0.5: 1.0 -> 1.4 is not an improvement (needs > 1.5); 2.0 is.
    assert plateau([1.0, 1.4, 2.0, 2.4], mode="max", threshold_mode="abs", threshold=0.5, patience=0,
                   factor=0.5) == [1, 0.5, 0.5, 0.25]
    assert plateau([tn.tensor(3.0), 2.0], patience=0) == [1, 1]
    with pytest.raises(ValueError, match="factor"):
        plateau([], factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        plateau([], mode="lowest")


def test_sequential_warmup_then_exponential():
    # LinearLR(0.1 -> 1 over 2 epochs) until epoch 2, then ExponentialLR(0.5) restarted at its epoch 0.
    opt = sgd(lr=1.0)
    warm = L.LinearLR(opt, start_factor=0.1, total_iters=2)
    decay = L.ExponentialLR(opt, gamma=0.5)
    s = L.SequentialLR(opt, [warm, decay], milestones=[2])
    np.testing.assert_allclose(run(opt, s, 5), [0.1, 0.55, 1.0, 0.5, 0.25, 0.125], rtol=1e-12)
    with pytest.raises(ValueError, match="milestones"):
        L.SequentialLR(opt, [warm, decay], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        L.SequentialLR(opt, [warm, L.ExponentialLR(sgd(), 0.5)], milestones=[2])


class Halving:
    """A callable object: LambdaLR's state_dict keeps its attributes."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, t):
        return self.base**t


@pytest.mark.parametrize("make, metric", [
    (lambda o: L.StepLR(o, 2, gamma=0.5), False),
    (lambda o: L.MultiStepLR(o, [1, 4], gamma=0.3), False),
    (lambda o: L.LinearLR(o, start_factor=0.2, total_iters=5), False),
    (lambda o: L.LambdaLR(o, Halving()), False),
    (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=12), False),
    (lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.5, total_iters=2), L.CosineAnnealingLR(o, T_max=4)], [3]), False),
    (lambda o: L.ReduceLROnPlateau(o, patience=1, factor=0.5), True),
])
def test_state_dict_round_trip_through_a_file(make, metric, tmp_path):
    metrics = [5, 4, 4, 4, 3, 3, 3, 3, 3, 3]
    opt = sgd(momentum=0.9)
    s = make(opt)
    for k in range(4):
        opt.step()
        s.step(metrics[k]) if metric else s.step()
    tn.save({"opt": opt.state_dict(), "sched": s.state_dict()}, tmp_path / "ckpt.npz")
    ckpt = tn.load(tmp_path / "ckpt.npz")
    opt2 = sgd(momentum=0.9)
    s2 = make(opt2)
    opt2.load_state_dict(ckpt["opt"])
    s2.load_state_dict(ckpt["sched"])
    assert s2.get_last_lr() == pytest.approx(s.get_last_lr(), rel=1e-12)
    for k in range(4, 8):
        for sch in (s, s2):
            sch.step(metrics[k]) if metric else sch.step()
        assert s2.get_last_lr() == pytest.approx(s.get_last_lr(), rel=1e-12)
        assert opt2.param_groups[0]["momentum"] == pytest.approx(opt.param_groups[0]["momentum"], rel=1e-12)
