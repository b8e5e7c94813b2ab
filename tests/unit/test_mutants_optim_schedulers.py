"""Tests that kill mutants mutmut left alive in tinynn/optim/ (scripts/mutation.py; the report is
docs/mutation-report.md), second part: the learning-rate schedulers' error messages, their closed
forms against the recursions (StepLR, cosine annealing past T_max, OneCycleLR's phase ends), resuming
at an epoch, and ReduceLROnPlateau's rule as PyTorch documents it.  The first part,
test_mutants_optim.py, holds the optimizers."""
import math

import numpy as np
import pytest

import tinynn as tn
from helpers.messages import raises
from tinynn import optim


def params(*shapes):
    return [tn.nn.Parameter(np.ones(s, np.float32)) for s in shapes]


# ---------------------------------------------------------------- schedulers
def sgd(lr=1.0):
    return optim.SGD(params((1,)), lr=lr)


def test_scheduler_errors():
    with raises(TypeError, "StepLR: list is not an Optimizer"):
        optim.lr_scheduler.StepLR([], step_size=1)
    with raises(KeyError, "\"StepLR: param 'initial_lr' is not set in group 0 when resuming\""):
        optim.lr_scheduler.StepLR(sgd(), step_size=1, last_epoch=3)
    for bad in (0, 1.5):
        with raises(ValueError, f"StepLR: step_size must be a positive int, got {bad!r}"):
            optim.lr_scheduler.StepLR(sgd(), step_size=bad)
        with raises(ValueError, f"CosineAnnealingLR: T_max must be a positive int, got {bad!r}"):
            optim.lr_scheduler.CosineAnnealingLR(sgd(), T_max=bad)
    optim.lr_scheduler.StepLR(sgd(), step_size=1)            # 1 is allowed
    optim.lr_scheduler.CosineAnnealingLR(sgd(), T_max=1)


def test_resuming_keeps_the_recorded_initial_lr():
    opt = sgd(0.8)
    opt.param_groups[0]["initial_lr"] = 2.0
    s = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=0)
    assert s.base_lrs == [2.0] and s.last_epoch == 1
    s = optim.lr_scheduler.ExponentialLR(sgd(0.8), gamma=0.5)
    assert s.base_lrs == [0.8] and s._step_count == 1


@pytest.mark.parametrize("epoch", [0, 1, 3, 5, 7])
def test_step_to_an_epoch_uses_the_closed_forms(epoch):
    s = optim.lr_scheduler.StepLR(sgd(), step_size=2, gamma=0.5)
    s.step(epoch)
    assert s.last_epoch == epoch and s.get_last_lr() == [0.5 ** (epoch // 2)]
    e = optim.lr_scheduler.ExponentialLR(sgd(2.0), gamma=0.5)
    e.step(epoch)
    assert e.get_last_lr() == [pytest.approx(2.0 * 0.5**epoch)]
    c = optim.lr_scheduler.CosineAnnealingLR(sgd(1.0), T_max=4, eta_min=0.25)
    c.step(epoch)
    assert c.get_last_lr() == [pytest.approx(0.25 + 0.75 * (1 + math.cos(math.pi * epoch / 4)) / 2)]


def test_cosine_recursion_follows_the_closed_form_past_t_max():
    c = optim.lr_scheduler.CosineAnnealingLR(sgd(1.0), T_max=3, eta_min=0.1)
    for t in range(1, 13):          # past T_max: a cosine of period 2 T_max (t - 1 - T = 0 mod 2 T)
        c.step()
        assert c.get_last_lr() == [pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * t / 3)) / 2, abs=1e-12)], t
    assert c._step_count == 13


def test_cosine_default_eta_min_is_zero_and_first_step_after_a_resume_is_the_closed_form():
    c = optim.lr_scheduler.CosineAnnealingLR(sgd(1.0), T_max=2)
    c.step()
    assert c.get_last_lr() == [pytest.approx(0.5)]
    opt = sgd(0.3)                   # resumed with lr 0.3 but initial_lr 1: PyTorch 2.13 keeps the group's lr
    opt.param_groups[0]["initial_lr"] = 1.0
    r = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2, last_epoch=0)
    assert r.get_last_lr() == [pytest.approx(0.3)]


def test_cosine_recursion_continues_from_an_lr_changed_by_hand():
    """PyTorch's chainable form: lr_t = eta + (lr_{t-1} - eta) (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)),
    from whatever lr the group holds (the closed form would ignore a change made between steps)."""
    opt = optim.SGD(params((1,)), lr=1.0)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    for _ in range(3):
        opt.step()
        sched.step()
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    sched.step()
    expected = 0.1 + (0.5 - 0.1) * (1 + math.cos(math.pi * 4 / 10)) / (1 + math.cos(math.pi * 3 / 10))
    assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)


def test_step_to_an_epoch_without_a_closed_form_uses_get_lr():
    # LambdaLR has no separate closed form: step(epoch) is lr_0 * lambda(epoch) through get_lr
    opt = optim.SGD(params((1,)), lr=2.0)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + e))
    sched.step(epoch=4)
    assert opt.param_groups[0]["lr"] == 2.0 / 5 and sched.last_epoch == 4


# ---------------------------------------------------------------- ReduceLROnPlateau (PyTorch's rule)
def plateau(lr=1.0, groups=1, **kw):
    opt = optim.SGD([{"params": params((1,))} for _ in range(groups)], lr=lr)
    return opt, optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)


def test_plateau_defaults_patience_10_factor_0_1_and_bookkeeping():
    opt, s = plateau(2.0)
    assert s.get_last_lr() == [2.0] and s.last_epoch == 0
    s.step(1.0)                                # improves on +inf: best = 1
    assert s.last_epoch == 1 and s.num_bad_epochs == 0
    for epoch in range(2, 12):                 # 10 bad epochs: not more than patience yet
        s.step(1.0)
        assert opt.param_groups[0]["lr"] == 2.0, epoch
    s.step(1.0)                                # the 11th: lr x 0.1
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2) and s.get_last_lr() == [opt.param_groups[0]["lr"]]
    s.step(1.0, epoch=40)
    assert s.last_epoch == 40


def test_plateau_a_first_metric_no_better_than_the_start_is_a_bad_epoch():
    opt, s = plateau(1.0, patience=0)
    s.step(float("inf"))                       # inf < inf (1 - threshold) is false: bad at once, and patience 0
    assert s.num_bad_epochs == 0 and opt.param_groups[0]["lr"] == pytest.approx(0.1)
    _, s = plateau(1.0, patience=5)
    s.step(float("inf"))
    assert s.num_bad_epochs == 1


@pytest.mark.parametrize("mode, threshold_mode, best, better, not_better", [
    ("min", "rel", 2.0, 0.99, 1.0),            # a < best (1 - 0.5) = 1
    ("min", "abs", 10.0, 9.0, 9.5),            # a < best - 0.5 = 9.5 (rel would need a < 5)
    ("max", "rel", 2.0, 3.5, 3.0),             # a > best (1 + 0.5) = 3 (abs: 2.5; 2 + 0.5: 5)
    ("max", "abs", 2.0, 2.75, 2.5),            # a > best + 0.5 = 2.5 (rel would need a > 3)
])
def test_plateau_improvement_thresholds(mode, threshold_mode, best, better, not_better):
    _, s = plateau(mode=mode, threshold=0.5, threshold_mode=threshold_mode)
    assert s.is_better(better, best) and not s.is_better(not_better, best)
    if threshold_mode == "abs" and mode == "min":
        assert not s.is_better(10.2, best)
    if threshold_mode == "rel" and mode == "max":
        assert not s.is_better(2.75, best)


def test_plateau_cooldown_min_lrs_and_eps():
    opt, s = plateau(1.0, patience=0, cooldown=2)
    lrs = []
    for _ in range(5):
        s.step(5.0)                            # 1: best; 2: bad -> reduce; 3, 4: cooldown; 5: bad -> reduce
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, pytest.approx(0.1), pytest.approx(0.1), pytest.approx(0.1), pytest.approx(0.01)]
    opt, s = plateau(1.0, groups=2, patience=0, min_lr=[0.5, 0.0])
    s.step(1.0)
    s.step(1.0)
    assert [g["lr"] for g in opt.param_groups] == [0.5, pytest.approx(0.1)]
    for lr, factor in ((1e-9, 0.1), (2e-8, 0.5)):   # a change of eps (1e-8) or less is not made
        opt, s = plateau(lr, patience=0, factor=factor)
        s.step(1.0)
        s.step(1.0)
        assert opt.param_groups[0]["lr"] == lr


def test_plateau_errors():
    with raises(TypeError, "ReduceLROnPlateau: str is not an Optimizer"):
        optim.lr_scheduler.ReduceLROnPlateau("sgd")
    with raises(ValueError, "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got 'log'"):
        plateau(threshold_mode="log")
    with raises(ValueError, "ReduceLROnPlateau: expected 2 min_lrs (one per group), got 1"):
        plateau(groups=2, min_lr=[0.1])


# ---------------------------------------------------------------- LambdaLR's state, SequentialLR, MultiStepLR
class Warmup:
    def __init__(self):
        self.scale = 2.0

    def __call__(self, epoch):
        return self.scale * (epoch + 1)


def test_lambda_state_dict_keeps_callable_objects_state_only():
    def halve(epoch):
        return 0.5 ** epoch
    opt = optim.SGD([{"params": params((1,))} for _ in range(3)], lr=1.0)
    w = Warmup()
    s = optim.lr_scheduler.LambdaLR(opt, [halve, w, abs])
    state = s.state_dict()
    assert state["lr_lambdas"] == [None, {"scale": 2.0}, {}] and "optimizer" not in state
    w.scale = 7.0
    s.load_state_dict(state)                       # the object's attributes come back; functions stay
    assert w.scale == 2.0 and s.lr_lambdas == [halve, w, abs]
    bare = {k: v for k, v in state.items() if k != "lr_lambdas"}
    s.load_state_dict(bare)                        # (a state without lr_lambdas loads the rest)
    assert s.last_epoch == state["last_epoch"]


def test_sequential_lr_errors_and_first_rates():
    opt = sgd(1.0)
    with raises(ValueError, "SequentialLR: expects at least one scheduler"):
        optim.lr_scheduler.SequentialLR(opt, [], [])
    with raises(ValueError, "SequentialLR: scheduler 0 (ReduceLROnPlateau) cannot be sequenced"):
        optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.ReduceLROnPlateau(opt)], [])
    with raises(ValueError, "SequentialLR: scheduler 1 (object) cannot be sequenced"):
        optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.ExponentialLR(opt, 0.5), object()], [1])
    with raises(ValueError, "SequentialLR: scheduler 0 (StepLR) is bound to another optimizer"):
        optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.StepLR(sgd(), 1)], [])
    exp = optim.lr_scheduler.ExponentialLR(opt, 0.5)
    with raises(ValueError, "SequentialLR: expects 1 milestones for 2 schedulers, got 0"):
        optim.lr_scheduler.SequentialLR(opt, [exp, exp], [])
    opt = sgd(1.0)
    first = optim.lr_scheduler.ExponentialLR(opt, 0.5)
    warm = optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)   # (built last: its epoch 0 is 0.5)
    s = optim.lr_scheduler.SequentialLR(opt, [first, warm], [2])
    assert s.get_last_lr() == [1.0]                # the first scheduler's epoch 0


def test_sequential_lr_restarts_each_scheduler_at_its_milestone():
    opt = sgd(1.0)
    a = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    b = optim.lr_scheduler.ExponentialLR(opt, gamma=0.1)
    c = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    s = optim.lr_scheduler.SequentialLR(opt, [a, b, c], milestones=[2, 4])
    got = [s.get_last_lr()[0]]
    for _ in range(6):
        s.step()
        got.append(s.get_last_lr()[0])
    # epochs 0, 1: a (1, 0.5); 2, 3: b from its epoch 0 (1, 0.1); 4, 5, 6: c from its epoch 0 (1, 0.9, 0.81)
    assert got == pytest.approx([1.0, 0.5, 1.0, 0.1, 1.0, 0.9, 0.81])


def test_multistep_default_gamma_and_resume():
    s = optim.lr_scheduler.MultiStepLR(sgd(1.0), milestones=[1])
    s.step()
    assert s.get_last_lr() == [pytest.approx(0.1)]
    opt = sgd(0.1)
    opt.param_groups[0]["initial_lr"] = 1.0
    r = optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], last_epoch=2)
    assert r.last_epoch == 3 and r.base_lrs == [1.0]


# ---------------------------------------------------------------- OneCycleLR
def one_cycle(*args, **kw):
    return optim.lr_scheduler.OneCycleLR(*args, **kw)


def test_one_cycle_argument_checks():
    opt = sgd()
    with raises(TypeError, "OneCycleLR: str is not an Optimizer"):
        one_cycle("sgd", 1.0, total_steps=10)
    message = "OneCycleLR: give total_steps, or epochs and steps_per_epoch (positive ints)"
    for epochs, steps in ((0, 5), (5, 0), (2.0, 5), (None, 5)):
        with raises(ValueError, message):
            one_cycle(opt, 1.0, epochs=epochs, steps_per_epoch=steps)
    assert one_cycle(sgd(), 1.0, epochs=1, steps_per_epoch=1).total_steps == 1
    for bad in (0, -3, 2.0):
        with raises(ValueError, f"OneCycleLR: total_steps must be a positive int, got {bad!r}"):
            one_cycle(opt, 1.0, total_steps=bad)
    assert one_cycle(sgd(), 1.0, total_steps=1).get_last_lr() == [pytest.approx(1.0 / 25 / 1e4)]  # one step: the end
    for bad in (-0.1, 1.5, True):
        with raises(ValueError, f"OneCycleLR: pct_start must be a float in [0, 1], got {bad!r}"):
            one_cycle(opt, 1.0, total_steps=10, pct_start=bad)
    for edge in (0, 1):
        one_cycle(sgd(), 1.0, total_steps=10, pct_start=edge)
    two = optim.SGD([{"params": params((1,))}, {"params": params((1,))}], lr=1.0, momentum=0.9)
    with raises(ValueError, "OneCycleLR: expected 2 values of max_lr (one per group), got 1"):
        one_cycle(two, [1.0], total_steps=10)
    s = one_cycle(two, [1.0, 0.5], total_steps=10)
    assert s.get_last_lr() == pytest.approx([1.0 / 25, 0.5 / 25])


def test_one_cycle_linear_three_phase_at_a_phase_end_is_pytorchs_value():
    # three phases over N = 10, pct 0.3: lr0 -> max (steps 0..2), max -> lr0 (..4), lr0 -> min (..9); at step 4
    # PyTorch is still in phase 2 with pct = 1: (lr0 - max) * 1 + max, which is not lr0 itself in floats
    s = one_cycle(sgd(), 1.0, total_steps=10, anneal_strategy="linear", three_phase=True)
    for _ in range(4):
        s.step()
    assert s.get_last_lr() == [(1.0 / 25 - 1.0) * 1.0 + 1.0]
    assert s.get_last_lr() != [1.0 / 25]


def test_linear_lr_defaults_and_factor_ranges():
    opt = sgd(3.0)
    s = optim.lr_scheduler.LinearLR(opt)                     # start 1/3, end 1, over 5 epochs
    got = [s.get_last_lr()[0]]
    for _ in range(6):
        s.step()
        got.append(s.get_last_lr()[0])
    assert got == pytest.approx([1.0, 1.4, 1.8, 2.2, 2.6, 3.0, 3.0])
    for start, end in ((1.0, 0.0), (1.0, 1.0)):              # PyTorch: start in (0, 1], end in [0, 1]
        optim.lr_scheduler.LinearLR(sgd(), start_factor=start, end_factor=end)
    for start, end in ((1.5, 1.0), (0.0, 1.0), (0.5, 1.5), (0.5, -0.1)):
        with raises(ValueError, f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], "
                                f"got {start} and {end}"):
            optim.lr_scheduler.LinearLR(sgd(), start_factor=start, end_factor=end)


@pytest.mark.parametrize("make", [
    lambda o, e: optim.lr_scheduler.StepLR(o, 2, last_epoch=e),
    lambda o, e: optim.lr_scheduler.MultiStepLR(o, [2], last_epoch=e),
    lambda o, e: optim.lr_scheduler.ExponentialLR(o, 0.5, last_epoch=e),
    lambda o, e: optim.lr_scheduler.CosineAnnealingLR(o, 4, last_epoch=e),
    lambda o, e: optim.lr_scheduler.LambdaLR(o, lambda t: 1.0, last_epoch=e),
    lambda o, e: optim.lr_scheduler.LinearLR(o, last_epoch=e),
])
def test_every_scheduler_resumes_at_the_epoch_given(make):
    opt = sgd(0.1)
    opt.param_groups[0]["initial_lr"] = 1.0
    s = make(opt, 2)
    assert s.last_epoch == 3 and s.base_lrs == [1.0]


def test_lambda_lr_refuses_a_non_optimizer_first():
    for lr_lambda in (lambda e: 1.0, [lambda e: 1.0]):
        with raises(TypeError, "LambdaLR: list is not an Optimizer"):
            optim.lr_scheduler.LambdaLR([], lr_lambda)


def test_one_cycle_per_group_momenta_and_optimizers_without_momentum():
    two = optim.SGD([{"params": params((1,))}, {"params": params((1,))}], lr=1.0, momentum=0.9)
    for key in ("max_momentum", "base_momentum"):
        with raises(ValueError, f"OneCycleLR: expected 2 values of {key} (one per group), got 3"):
            one_cycle(two, 1.0, total_steps=10, **{key: [0.9, 0.9, 0.9]})
    one_cycle(two, 1.0, total_steps=10, max_momentum=[0.95, 0.9], base_momentum=[0.85, 0.8])
    assert [g["momentum"] for g in two.param_groups] == [0.95, 0.9]          # step 0: the max momenta
    with raises(ValueError, "OneCycleLR: Adagrad has neither momentum nor betas; pass cycle_momentum=False"):
        one_cycle(optim.Adagrad(params((1,))), 1.0, total_steps=10)
    opt = sgd()
    one_cycle(opt, 1.0, total_steps=10, cycle_momentum=False)
    resumed = one_cycle(opt, 1.0, total_steps=10, cycle_momentum=False, last_epoch=3)
    assert resumed.last_epoch == 4
