"""RMSprop, Adagrad, amsgrad and maximize: first steps derived by hand from PyTorch's documented
update rules, convergence on a quadratic, and state_dict round trips through tn.save / tn.load."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from helpers.optim_paths import P0, trajectory


# ---------------------------------------------------------------- RMSprop
def test_rmsprop_two_steps_by_hand():
    # alpha 0.99, lr 0.01, g = p. Step 1: v = 0.01 g^2, so g / sqrt(v) = 10 for each coordinate.
    # Step 2: p = (0.9, 1.9), v = 0.99 * 0.01 p0^2 + 0.01 p^2 = (0.018, 0.0757).
    got = trajectory(lambda ps: optim.RMSprop(ps, lr=0.01))
    expected = [[0.9, 1.9], [0.9 - 0.01 * 0.9 / math.sqrt(0.018), 1.9 - 0.01 * 1.9 / math.sqrt(0.0757)]]
    np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_rmsprop_centered_momentum_by_hand():
    # alpha 0.9, mu 0.5, centered, lr 0.01. Step 1 (g = (1, 2)): v = 0.1 g^2, a = 0.1 g,
    # v - a^2 = 0.09 g^2, so g / sqrt(v~) = 1 / 0.3 each; b = 10/3; p = p0 - 1/30.
    # Step 2: g = p1; v = 0.9 v + 0.1 g^2; a = 0.9 a + 0.1 g; b = 0.5 b + g / sqrt(v - a^2).
    got = trajectory(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True, eps=0.0))
    expected = []
    for g0 in P0:
        p1 = g0 - 0.01 * (10 / 3)
        v2, a2 = 0.9 * 0.1 * g0**2 + 0.1 * p1**2, 0.9 * 0.1 * g0 + 0.1 * p1
        b2 = 0.5 * (10 / 3) + p1 / math.sqrt(v2 - a2**2)
        expected.append([p1, p1 - 0.01 * b2])
    np.testing.assert_allclose(got, np.array(expected).T, rtol=1e-12)


def test_rmsprop_weight_decay_and_maximize_first_step():
    # maximize: g = -c = (-1, 2); weight decay 1: g = (-1 + 1, 2 + 2) = (0, 4); step 1 moves by lr * 10 sign(g).
    got = trajectory(lambda ps: optim.RMSprop(ps, lr=0.01, weight_decay=1.0, maximize=True), grads=[[1.0, -2.0]], steps=1)
    np.testing.assert_allclose(got[0], [1.0, 2.0 - 0.1], rtol=1e-7)


# ---------------------------------------------------------------- Adagrad
def test_adagrad_two_steps_by_hand():
    # lr 0.1, g = p: s = g^2, so step 1 moves each coordinate by 0.1. Step 2: s = p0^2 + p1^2.
    got = trajectory(lambda ps: optim.Adagrad(ps, lr=0.1))
    expected = [[0.9, 1.9], [0.9 - 0.1 * 0.9 / math.sqrt(1 + 0.81), 1.9 - 0.1 * 1.9 / math.sqrt(4 + 3.61)]]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_adagrad_initial_accumulator_lr_decay_weight_decay():
    # tau 1, lr_decay 0.5, wd 0.1, constant c = (1, 1): step 1 g = c + 0.1 p0, s = 1 + g^2, lr~ = 0.1;
    # step 2 lr~ = 0.1 / 1.5, g = c + 0.1 p1, s += g^2.
    got = trajectory(lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=1.0,
                                              eps=0.0), grads=[[1.0, 1.0]] * 2)
    for k, p0 in enumerate(P0):
        g1 = 1 + 0.1 * p0
        s1 = 1 + g1**2
        p1 = p0 - 0.1 * g1 / math.sqrt(s1)
        g2 = 1 + 0.1 * p1
        p2 = p1 - (0.1 / 1.5) * g2 / math.sqrt(s1 + g2**2)
        np.testing.assert_allclose(got[:, k], [p1, p2], rtol=1e-12)


# ---------------------------------------------------------------- amsgrad, maximize
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_amsgrad_keeps_the_largest_second_moment(cls, backend_name):
    # betas (0.5, 0.5), lr 0.1, eps 0, wd 0. Gradients 2 then 0.5 (both coordinates).
    # Step 1: m = 1, v = 2, m^ = 2, v^ = 4: p -= 0.1. Step 2: m = 0.75, v = 1.125 < v_max = 2;
    # bias corrections 0.75 each, m^ = 1: amsgrad p -= 0.1 / sqrt(2 / 0.75), Adam p -= 0.1 / sqrt(1.125 / 0.75).
    make = lambda ams: (lambda ps: cls(ps, lr=0.1, betas=(0.5, 0.5), eps=0.0, weight_decay=0.0, amsgrad=ams))  # noqa: E731
    grads = [[2.0, 2.0], [0.5, 0.5]]
    ams, plain = trajectory(make(True), grads), trajectory(make(False), grads)
    p0 = np.array(P0)
    np.testing.assert_allclose(ams, [p0 - 0.1, p0 - 0.1 - 0.1 * math.sqrt(0.75 / 2)], rtol=1e-12)
    np.testing.assert_allclose(plain, [p0 - 0.1, p0 - 0.1 - 0.1 * math.sqrt(0.75 / 1.125)], rtol=1e-6)


def test_adamw_amsgrad_decays_weights_first():
    # wd 0.5, lr 0.1: p <- p (1 - 0.05), then the amsgrad step of size lr (first step: m^ / sqrt(v^) = sign g).
    got = trajectory(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5, amsgrad=True, eps=0.0), grads=[[3.0, -1.0]], steps=1)
    np.testing.assert_allclose(got[0], [1.0 * 0.95 - 0.1, 2.0 * 0.95 + 0.1], rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_maximize_negates_the_gradient_before_weight_decay(amsgrad, backend_name):
    # g = -c + wd p = (-1 + 0.1, 1 + 0.2): first Adam step moves by lr against sign(g).
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, maximize=True, amsgrad=amsgrad, eps=0.0),
                     grads=[[1.0, -1.0]], steps=1)
    np.testing.assert_allclose(got[0], [1.1, 1.9], rtol=1e-6)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_maximize(momentum, backend_name):
    # maximize negates the gradient first, then weight decay: g = -c + 0.5 p = (-0.5, 2.5); p -= 0.1 g.
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, momentum=momentum, weight_decay=0.5, maximize=True),
                     grads=[[1.0, -2.0]], steps=1, p0=[1.0, 1.0])
    np.testing.assert_allclose(got[0], [1.05, 0.75], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, maximize=True),
    lambda ps: optim.Adam(ps, lr=0.05, maximize=True),
    lambda ps: optim.AdamW(ps, lr=0.05, maximize=True, weight_decay=0.0, amsgrad=True),
])
def test_maximize_climbs_to_the_maximum(make):
    # f(p) = -0.5 |p - 3|^2 has its maximum at p = 3.
    p = nn.Parameter(tn.tensor(np.zeros(2)))
    opt = make([p])
    for _ in range(400):
        opt.zero_grad()
        (-0.5 * ((p - 3.0) * (p - 3.0)).sum()).backward()
        opt.step()
    np.testing.assert_allclose(p.numpy(), [3.0, 3.0], atol=1e-2)


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.5),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
])
def test_converges_on_an_ill_conditioned_quadratic(make):
    # f(p) = 0.5 (p_1^2 + 25 p_2^2): minimum 0 at the origin.
    a = tn.tensor(np.array([1.0, 25.0]))
    p = nn.Parameter(tn.tensor(np.array([2.0, -1.5])))
    opt = make([p])
    for _ in range(600):
        opt.zero_grad()
        (0.5 * (a * p * p).sum()).backward()
        opt.step()
    assert np.abs(p.numpy()).max() < 2e-2


# ---------------------------------------------------------------- options and state
def test_bad_options_are_named():
    p = nn.Parameter(tn.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="RMSprop: invalid alpha"):
        optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay"):
        optim.Adagrad([p], lr_decay=-1)


@pytest.mark.parametrize("make, names", [
    (lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True), {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (lambda ps: optim.RMSprop(ps), {"step", "square_avg"}),
    (lambda ps: optim.Adagrad(ps, lr_decay=0.1, initial_accumulator_value=0.5), {"step", "sum"}),
    (lambda ps: optim.Adam(ps, amsgrad=True, maximize=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, maximize=True), {"momentum_buffer"}),
])
def test_state_dict_round_trip_through_a_file(make, names, tmp_path):
    """Three steps, save, load into a fresh optimizer on a copy of the parameters: the next
    three steps agree exactly, and the state carries PyTorch's names."""
    grads = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0], [2.0, 2.0], [0.1, -0.3], [1.5, 0.5]]

    def steps(p, opt, gs):
        for c in gs:
            opt.zero_grad()
            (tn.tensor(np.array(c)) * p).sum().backward()
            opt.step()

    p = nn.Parameter(tn.tensor(np.array(P0)))
    opt = make([p])
    steps(p, opt, grads[:3])
    sd = opt.state_dict()
    assert set(sd["state"][0]) == names
    tn.save(sd, tmp_path / "opt.npz")
    q = nn.Parameter(tn.tensor(np.array(p.numpy(), copy=True)))
    other = make([q])
    other.load_state_dict(tn.load(tmp_path / "opt.npz"))
    assert other.param_groups[0] == {**opt.param_groups[0], "params": [q]}
    steps(p, opt, grads[3:])
    steps(q, other, grads[3:])
    np.testing.assert_array_equal(q.numpy(), p.numpy())


def test_adagrad_group_added_later_starts_its_own_accumulator():
    a, b = nn.Parameter(tn.tensor(np.array([1.0]))), nn.Parameter(tn.tensor(np.array([2.0])))
    opt = optim.Adagrad([a], lr=0.1)
    opt.add_param_group({"params": [b], "initial_accumulator_value": 3.0})
    (a * b).sum().backward()   # g_a = 2, g_b = 1
    opt.step()
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [1 - 0.1, 2 - 0.1 * 1 / math.sqrt(3 + 1)], rtol=1e-9)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, maximize=True),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1),
])
def test_gradients_given_as_tensors_update_as_arrays_do(make):
    """PyTorch code may assign p.grad a Tensor (and issue 15 makes every .grad one): same trajectory."""
    grads = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0]]
    from_backward = trajectory(make, grads, steps=3)
    p = nn.Parameter(tn.tensor(np.array(P0)))
    opt = make([p])
    out = []
    for c in grads:
        p.grad = tn.tensor(np.array(c))
        opt.step()
        out.append(np.array(p.numpy(), copy=True))
    np.testing.assert_array_equal(np.array(out), from_backward)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_pytorch_implementation_keywords(cls):
    """foreach / fused / capturable choose how PyTorch computes a step, not its result: accepted;
    differentiable=True is not available; a misspelt keyword is a TypeError naming it."""
    p = nn.Parameter(tn.tensor(np.ones(2)))
    cls([p], lr=0.1, foreach=False, fused=None, capturable=False, differentiable=False)
    with pytest.raises(NotImplementedError, match="differentiable"):
        cls([p], lr=0.1, differentiable=True)
    with pytest.raises(TypeError, match="momentun"):
        cls([p], lr=0.1, momentun=0.9)
