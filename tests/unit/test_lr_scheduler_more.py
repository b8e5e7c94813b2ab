"""CyclicLR against its closed form (a triangle wave of period step_size_up + step_size_down, scaled per
policy), its momentum cycling for SGD and Adam, its state_dict and errors; resuming the recursive schedulers
(last_epoch >= 0) keeps the optimizer's rates at construction, as PyTorch 2.13."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, CyclicLR, ExponentialLR, LinearLR


def sgd(lr=1.0, groups=1, momentum=0.0):
    return optim.SGD([{"params": [nn.Parameter(tn.ones(1))]} for _ in range(groups)], lr=lr, momentum=momentum)


def wave(n, up, down):
    """The triangle wave h in [0, 1]: rising over `up` steps, falling over `down` steps, period up + down."""
    k = n % (up + down)
    return k / up if k <= up else (up + down - k) / down


def lrs_over(sched, steps):
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    return out


@pytest.mark.parametrize("up, down", [(4, 2), (3, None), (1, 5)])
def test_triangular_is_a_triangle_wave(up, down):
    opt = sgd(lr=123.0)
    sched = CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=up, step_size_down=down, cycle_momentum=False)
    down = up if down is None else down
    expected = [0.1 + 0.9 * wave(n, up, down) for n in range(25)]
    np.testing.assert_allclose(lrs_over(sched, 25), expected, rtol=1e-12)
    assert opt.param_groups[0]["initial_lr"] == 0.1      # construction put the group at base_lr


def test_triangular2_halves_the_amplitude_every_cycle():
    sched = CyclicLR(sgd(), base_lr=0.1, max_lr=1.0, step_size_up=3, step_size_down=3, mode="triangular2",
                     cycle_momentum=False)
    expected = [0.1 + 0.9 * wave(n, 3, 3) / 2 ** (n // 6) for n in range(30)]
    np.testing.assert_allclose(lrs_over(sched, 30), expected, rtol=1e-12)


def test_exp_range_scales_by_gamma_to_the_step_count():
    sched = CyclicLR(sgd(), base_lr=0.1, max_lr=1.0, step_size_up=2, mode="exp_range", gamma=0.9, cycle_momentum=False)
    assert sched.scale_mode == "iterations"
    expected = [0.1 + 0.9 * wave(n, 2, 2) * 0.9**n for n in range(20)]
    np.testing.assert_allclose(lrs_over(sched, 20), expected, rtol=1e-12)


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_a_custom_scale_fn_gets_the_cycle_or_the_step(scale_mode):
    sched = CyclicLR(sgd(), base_lr=0.0, max_lr=1.0, step_size_up=2, scale_fn=lambda x: 1 / (1 + x),
                     scale_mode=scale_mode, cycle_momentum=False)
    x = (lambda n: n // 4 + 1) if scale_mode == "cycle" else (lambda n: n)
    np.testing.assert_allclose(lrs_over(sched, 12), [wave(n, 2, 2) / (1 + x(n)) for n in range(12)], rtol=1e-12)


def test_momentum_moves_against_the_rate_for_sgd_and_for_adams_beta1():
    opt = sgd(momentum=0.5)
    sched = CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)          # momentum 0.8 .. 0.9
    p = nn.Parameter(tn.ones(1))
    adam = optim.Adam([p], betas=(0.5, 0.99))
    adam_sched = CyclicLR(adam, base_lr=0.1, max_lr=1.0, step_size_up=2, base_momentum=0.7, max_momentum=0.95)
    assert (opt.param_groups[0]["max_momentum"], opt.param_groups[0]["base_momentum"]) == (0.9, 0.8)
    for n in range(9):
        h = wave(n, 2, 2)
        assert opt.param_groups[0]["momentum"] == pytest.approx(0.9 - 0.1 * h, abs=1e-12)
        b1, b2 = adam.param_groups[0]["betas"]
        assert b1 == pytest.approx(0.95 - 0.25 * h, abs=1e-12) and b2 == 0.99
        for o, s in ((opt, sched), (adam, adam_sched)):
            o.step()
            s.step()


def test_values_per_group():
    opt = sgd(groups=2, momentum=0.9)
    sched = CyclicLR(opt, base_lr=[0.1, 0.01], max_lr=[1.0, 0.02], step_size_up=1, max_momentum=[0.9, 0.99])
    for n in range(4):
        h = wave(n, 1, 1)
        assert sched.get_last_lr() == pytest.approx([0.1 + 0.9 * h, 0.01 + 0.01 * h])
        assert opt.param_groups[1]["momentum"] == pytest.approx(0.99 - 0.19 * h)
        opt.step()
        sched.step()


def test_errors():
    with pytest.raises(ValueError, match="base_lr must have the same length as optimizer.param_groups"):
        CyclicLR(sgd(groups=2), base_lr=[0.1], max_lr=1.0)
    with pytest.raises(ValueError, match="mode 'sawtooth' is invalid and scale_fn is None"):
        CyclicLR(sgd(), 0.1, 1.0, mode="sawtooth")
    adadelta = optim.Adadelta([nn.Parameter(tn.ones(1))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        CyclicLR(adadelta, 0.1, 1.0)
    CyclicLR(adadelta, 0.1, 1.0, cycle_momentum=False)
    with pytest.raises(TypeError, match="not an Optimizer"):
        CyclicLR("sgd", 0.1, 1.0)


class Halving:
    """A callable scale function with state (saved in the scheduler's state_dict by its __dict__)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base**x


def test_state_dict_round_trip_resumes_the_schedule():
    opt = sgd(momentum=0.9)
    sched = CyclicLR(opt, 0.1, 1.0, step_size_up=3, scale_fn=Halving(0.5))
    lrs_over(sched, 5)
    sd = sched.state_dict()
    assert sd["_scale_fn_custom"] == {"base": 0.5} and "_scale_fn_ref" not in sd and sd["last_epoch"] == 5
    other_opt = sgd(momentum=0.9)
    other_opt.load_state_dict(opt.state_dict())
    other = CyclicLR(other_opt, 0.1, 1.0, step_size_up=3, scale_fn=Halving(0.25))
    other.load_state_dict(sd)
    assert other._scale_fn_custom.base == 0.5 and other.last_epoch == 5
    assert lrs_over(other, 7) == lrs_over(sched, 7)
    plain = CyclicLR(sgd(), 0.1, 1.0, mode="triangular2")
    assert plain.state_dict()["_scale_fn_custom"] is None
    restored = CyclicLR(sgd(), 0.1, 1.0)
    restored.load_state_dict(plain.state_dict())
    assert restored.mode == "triangular2" and restored.scale_fn(3) == 0.25


# ---------------------------------------------------------------- resuming (last_epoch >= 0)
def resumed(lr, initial_lr):
    opt = sgd(lr)
    opt.param_groups[0]["initial_lr"] = initial_lr
    return opt


def test_resuming_keeps_the_rate_then_continues_the_recursion():
    # The optimizer (from a checkpoint) holds lr 0.3 at epoch 4; the schedulers keep it and go on from there.
    exp = ExponentialLR(resumed(0.3, 1.0), gamma=0.5, last_epoch=3)
    assert exp.get_last_lr() == [0.3] and lrs_over(exp, 3)[1:] == pytest.approx([0.15, 0.075])
    cos = CosineAnnealingLR(resumed(0.3, 1.0), T_max=10, eta_min=0.1, last_epoch=3)
    assert cos.get_last_lr() == [0.3]
    cos.step()
    ratio = (1 + math.cos(math.pi * 5 / 10)) / (1 + math.cos(math.pi * 4 / 10))
    assert cos.get_last_lr() == [pytest.approx(0.1 + (0.3 - 0.1) * ratio)]
    lin = LinearLR(resumed(0.3, 1.0), start_factor=0.5, total_iters=10, last_epoch=3)
    assert lin.get_last_lr() == [0.3]
    lin.step()   # t = 5: lr <- lr (1 + (e - s) / (T s + (t - 1)(e - s)))
    assert lin.get_last_lr() == [pytest.approx(0.3 * (1 + 0.5 / (10 * 0.5 + 4 * 0.5)))]
    const = ConstantLR(resumed(0.3, 1.0), factor=0.5, total_iters=4, last_epoch=3)   # epoch 4 = total_iters: / factor
    assert const.get_last_lr() == [pytest.approx(0.6)]
