"""Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD: first steps worked out by hand from PyTorch's documented
update rules, convergence on a quadratic, parameter groups, maximize, option errors (PyTorch's messages)
and state_dict round trips that continue bit for bit."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from helpers.optim_paths import P0, trajectory


# ---------------------------------------------------------------- Adadelta
def test_adadelta_two_steps_by_hand():
    # rho 0.9, eps 1e-6, lr 1, g = p. Step 1: v = 0.1 g^2, dx = sqrt(eps) / sqrt(v + eps) g, u = 0.1 dx^2.
    # Step 2: g = p1, v = 0.9 v + 0.1 g^2, dx = sqrt(u + eps) / sqrt(v + eps) g.
    got = trajectory(lambda ps: optim.Adadelta(ps))
    for k, p0 in enumerate(P0):
        v = 0.1 * p0**2
        dx = math.sqrt(1e-6) / math.sqrt(v + 1e-6) * p0
        u = 0.1 * dx**2
        p1 = p0 - dx
        v = 0.9 * v + 0.1 * p1**2
        p2 = p1 - math.sqrt(u + 1e-6) / math.sqrt(v + 1e-6) * p1
        np.testing.assert_allclose(got[:, k], [p1, p2], rtol=1e-12)


def test_adadelta_weight_decay_and_lr_scale_the_step():
    # lr 0.5, wd 0.2, rho 0.5, eps 1e-2, c = (1, -1): g = c + 0.2 p0, v = 0.5 g^2, dx = 0.1 / sqrt(v + 0.01) g.
    got = trajectory(lambda ps: optim.Adadelta(ps, lr=0.5, rho=0.5, eps=1e-2, weight_decay=0.2),
                     grads=[[1.0, -1.0]], steps=1)
    for k, (p0, c) in enumerate(zip(P0, [1.0, -1.0])):
        g = c + 0.2 * p0
        np.testing.assert_allclose(got[0, k], p0 - 0.5 * 0.1 / math.sqrt(0.5 * g * g + 0.01) * g, rtol=1e-12)


# ---------------------------------------------------------------- Adamax
def test_adamax_two_steps_by_hand():
    # betas (0.9, 0.99), eps 0, lr 0.1, gradients c1 then c2. Step 1: m = 0.1 c1, u = |c1|: p -= 0.1 sign(c1).
    # Step 2: m = 0.09 c1 + 0.1 c2, u = max(0.99 |c1|, |c2|), p -= 0.1 / (1 - 0.81) m / u.
    grads = [[2.0, -1.0], [1.0, -3.0]]
    got = trajectory(lambda ps: optim.Adamax(ps, lr=0.1, betas=(0.9, 0.99), eps=0.0), grads=grads)
    for k, p0 in enumerate(P0):
        c1, c2 = grads[0][k], grads[1][k]
        p1 = p0 - 0.1 * math.copysign(1, c1)
        p2 = p1 - 0.1 / (1 - 0.81) * (0.09 * c1 + 0.1 * c2) / max(0.99 * abs(c1), abs(c2))
        np.testing.assert_allclose(got[:, k], [p1, p2], rtol=1e-12)


def test_adamax_eps_is_inside_the_max():
    # A zero gradient after a first step: u = max(0.999 |c1|, 0 + eps); with c1 = 0 too, u = eps, m = 0: no move.
    got = trajectory(lambda ps: optim.Adamax(ps, lr=0.1, eps=0.5), grads=[[0.0, 1.0]], steps=1)
    np.testing.assert_allclose(got[0], [1.0, 2.0 - 0.1 / 0.1 * 0.1 / 1.5], rtol=1e-12)   # m^ = 1, u = 1 + 0.5


# ---------------------------------------------------------------- NAdam
def _mu(t, b1=0.9, psi=4e-3):
    return b1 * (1 - 0.5 * 0.96 ** (t * psi))


def test_nadam_two_steps_by_hand():
    # betas (0.9, 0.999), eps 0, lr 0.1, gradients c1 then c2; d = sqrt(v / (1 - b2^t)).
    grads = [[2.0, -1.0], [1.0, -3.0]]
    got = trajectory(lambda ps: optim.NAdam(ps, lr=0.1, eps=0.0), grads=grads)
    mu1, mu2, mu3 = _mu(1), _mu(2), _mu(3)
    for k, p0 in enumerate(P0):
        c1, c2 = grads[0][k], grads[1][k]
        m, d = 0.1 * c1, abs(c1)                                    # v = 0.001 c1^2, v^ = c1^2
        p1 = p0 - 0.1 * (1 - mu1) / (1 - mu1) * c1 / d - 0.1 * mu2 / (1 - mu1 * mu2) * m / d
        m, v = 0.9 * m + 0.1 * c2, 0.999 * 0.001 * c1**2 + 0.001 * c2**2
        d = math.sqrt(v / (1 - 0.999**2))
        p2 = p1 - 0.1 * (1 - mu2) / (1 - mu1 * mu2) * c2 / d - 0.1 * mu3 / (1 - mu1 * mu2 * mu3) * m / d
        np.testing.assert_allclose(got[:, k], [p1, p2], rtol=1e-6)   # (mu_product is float32, as PyTorch's)


@pytest.mark.parametrize("decoupled", [False, True])
def test_nadam_weight_decay_and_momentum_decay(decoupled):
    # One step, psi 0.1, wd 0.5, lr 0.1, eps 0, c = (1, -2). L2: g = c + 0.5 p0; decoupled: p0 <- p0 (1 - 0.05), g = c.
    # With v^ = g^2 the step is 0.1 sign(g) (1 + 0.1 mu2 / (1 - mu1 mu2)).
    got = trajectory(lambda ps: optim.NAdam(ps, lr=0.1, eps=0.0, weight_decay=0.5, momentum_decay=0.1,
                                            decoupled_weight_decay=decoupled), grads=[[1.0, -2.0]], steps=1)
    mu1, mu2 = _mu(1, psi=0.1), _mu(2, psi=0.1)
    for k, (p0, c) in enumerate(zip(P0, [1.0, -2.0])):
        start, g = (p0 * 0.95, c) if decoupled else (p0, c + 0.5 * p0)
        step = 0.1 * math.copysign(1, g) * (1 + 0.1 * mu2 / (1 - mu1 * mu2))
        np.testing.assert_allclose(got[0, k], start - step, rtol=1e-6)


# ---------------------------------------------------------------- RAdam
def test_radam_constant_gradient_closed_form():
    # A constant gradient c and eps 0: m^ = c and l_t = sqrt(1 - b2^t) / sqrt(v_t) = 1 / |c|, so each step moves
    # by lr c (rho_t <= 5, the first five steps for b2 = 0.999) or by lr r_t sign(c) (rectified).
    c, lr, b2 = [0.5, -2.0], 0.01, 0.999
    got = trajectory(lambda ps: optim.RAdam(ps, lr=lr, eps=0.0), grads=[c] * 9, steps=9)
    rho_inf = 2 / (1 - b2) - 1
    p = np.array(P0)
    for t in range(1, 10):
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            p = p - lr * r * np.sign(c)
        else:
            p = p - lr * np.array(c)
        np.testing.assert_allclose(got[t - 1], p, rtol=1e-9, err_msg=f"step {t}")
    assert rho_inf - 2 * 5 * b2**5 / (1 - b2**5) <= 5 < rho_inf - 2 * 6 * b2**6 / (1 - b2**6)   # both branches ran


@pytest.mark.parametrize("decoupled", [False, True])
def test_radam_weight_decay_first_step(decoupled):
    # Step 1 is unrectified: p <- p - lr g. L2: g = c + wd p0; decoupled: p0 (1 - lr wd) - lr c.
    got = trajectory(lambda ps: optim.RAdam(ps, lr=0.1, weight_decay=0.5, decoupled_weight_decay=decoupled),
                     grads=[[1.0, -1.0]], steps=1)
    p0, c = np.array(P0), np.array([1.0, -1.0])
    expected = p0 * (1 - 0.05) - 0.1 * c if decoupled else p0 - 0.1 * (c + 0.5 * p0)
    np.testing.assert_allclose(got[0], expected, rtol=1e-12)


# ---------------------------------------------------------------- Rprop
def test_rprop_sign_rule_by_hand():
    # lr 0.1, etas (0.5, 1.2). Coordinate 0: +, +, -, +; coordinate 1: -, +, +, +.
    grads = [[1.0, -2.0], [3.0, 1.0], [-1.0, 4.0], [2.0, 2.0]]
    got = trajectory(lambda ps: optim.Rprop(ps, lr=0.1), grads=grads, steps=4)
    expected = [
        [1.0 - 0.1, 2.0 + 0.1],          # first step: sizes lr, move against the sign
        [0.9 - 0.12, 2.1],               # 0: same sign, size 0.12; 1: flipped, size 0.05, no move (prev <- 0)
        [0.78, 2.1 - 0.05],              # 0: flipped, size 0.06, no move; 1: prev 0, size stays 0.05
        [0.78 - 0.06, 2.05 - 0.06],      # 0: prev 0, size 0.06; 1: same sign, size 0.06
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_rprop_step_sizes_are_clamped():
    # Sizes grow 0.1 -> 0.12 but are capped at 0.11; they shrink 0.11 -> 0.055 but not below 0.08.
    got = trajectory(lambda ps: optim.Rprop(ps, lr=0.1, step_sizes=(0.08, 0.11)),
                     grads=[[1.0, 1.0]] * 3 + [[-1.0, 1.0]] * 2, steps=5)
    np.testing.assert_allclose(got[:, 0], [0.9, 0.79, 0.68, 0.68, 0.68 + 0.08], rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], [1.9, 1.79, 1.68, 1.57, 1.46], rtol=1e-12)


# ---------------------------------------------------------------- ASGD
def test_asgd_four_steps_by_hand():
    # lr 0.1, lambd 0.5, alpha 0.75, t0 1, g = p. The eta and mu schedules (eta_0 = lr, mu_0 = 1) and the average
    # a_t = a + mu (p - a) written out; mu = 1 / max(1, t - t0) first drops below 1 after step 3 (1/2, used by step 4).
    p = nn.Parameter(tn.tensor(np.array(P0)))
    opt = optim.ASGD([p], lr=0.1, lambd=0.5, t0=1)
    x, ax, eta, mu = np.array(P0), np.zeros(2), 0.1, 1.0
    for t in range(1, 5):
        opt.zero_grad()
        (0.5 * p * p).sum().backward()
        opt.step()
        x = x * (1 - 0.5 * eta) - eta * x
        ax = ax + mu * (x - ax)
        eta, mu = 0.1 / (1 + 0.5 * 0.1 * t) ** 0.75, 1 / max(1, t - 1)
        np.testing.assert_allclose(p.numpy(), x, rtol=1e-6)          # (eta and mu are float32, as PyTorch's)
        np.testing.assert_allclose(opt.state[p]["ax"], ax, rtol=1e-6)
        np.testing.assert_allclose([float(opt.state[p]["eta"]), float(opt.state[p]["mu"])], [eta, mu], rtol=1e-6)
    assert mu == 1 / 3


def test_asgd_weight_decay_is_added_to_the_gradient():
    got = trajectory(lambda ps: optim.ASGD(ps, lr=0.1, lambd=0.0, weight_decay=0.5), grads=[[1.0, -1.0]], steps=1)
    np.testing.assert_allclose(got[0], [1.0 - 0.1 * 1.5, 2.0 - 0.1 * 0.0], rtol=1e-6)


# ---------------------------------------------------------------- common behaviour
ALL = [
    (optim.Adadelta, {"step", "square_avg", "acc_delta"}),
    (optim.Adamax, {"step", "exp_avg", "exp_inf"}),
    (optim.NAdam, {"step", "exp_avg", "exp_avg_sq", "mu_product"}),
    (optim.RAdam, {"step", "exp_avg", "exp_avg_sq"}),
    (optim.Rprop, {"step", "prev", "step_size"}),
    (optim.ASGD, {"step", "eta", "mu", "ax"}),
]
LRS = {optim.Adadelta: 2.0, optim.Adamax: 0.05, optim.NAdam: 0.05, optim.RAdam: 0.05, optim.Rprop: 0.01,
       optim.ASGD: 0.02}
DECAY = {cls: ({} if cls is optim.Rprop else {"weight_decay": 0.1}) for cls, _ in ALL}   # (Rprop has none)


@pytest.mark.parametrize("cls, names", ALL)
def test_state_dict_round_trip_through_a_file(cls, names, tmp_path):
    """Three steps, save, load into a fresh optimizer on a copy of the parameters: the next three steps
    agree bit for bit, and the state carries PyTorch's names ('step' a 0-d float32 Tensor)."""
    grads = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0], [2.0, 2.0], [0.1, -0.3], [1.5, 0.5]]

    def steps(p, opt, gs):
        for c in gs:
            opt.zero_grad()
            (tn.tensor(np.array(c)) * p).sum().backward()
            opt.step()

    p = nn.Parameter(tn.tensor(np.array(P0)))
    opt = cls([p], **DECAY[cls])
    steps(p, opt, grads[:3])
    sd = opt.state_dict()
    assert set(sd["state"][0]) == names
    assert sd["state"][0]["step"].dtype == np.float32 and sd["state"][0]["step"].item() == 3.0
    tn.save(sd, tmp_path / "opt.npz")
    q = nn.Parameter(tn.tensor(np.array(p.numpy(), copy=True)))
    other = cls([q], lr=123.0)
    other.load_state_dict(tn.load(tmp_path / "opt.npz"))
    assert other.param_groups[0] == {**opt.param_groups[0], "params": [q]}
    steps(p, opt, grads[3:])
    steps(q, other, grads[3:])
    np.testing.assert_array_equal(q.numpy(), p.numpy())


@pytest.mark.parametrize("cls, names", ALL)
def test_converges_on_an_ill_conditioned_quadratic(cls, names):
    # f(p) = 0.5 (p_1^2 + 10 p_2^2): minimum 0 at the origin.
    a = tn.tensor(np.array([1.0, 10.0]))
    p = nn.Parameter(tn.tensor(np.array([2.0, -1.5])))
    opt = cls([p], lr=LRS[cls])
    for _ in range(400):
        opt.zero_grad()
        (0.5 * (a * p * p).sum()).backward()
        opt.step()
    assert np.abs(p.numpy()).max() < 5e-2, p.numpy()


@pytest.mark.parametrize("cls, names", ALL)
def test_maximize_is_minimizing_the_negated_loss(cls, names):
    grads = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0]]
    up = trajectory(lambda ps: cls(ps, maximize=True), grads, steps=3)
    down = trajectory(cls, [[-g for g in c] for c in grads], steps=3)
    np.testing.assert_array_equal(up, down)
    assert not np.array_equal(up, trajectory(cls, grads, steps=3))


@pytest.mark.parametrize("cls", [optim.Adamax, optim.Rprop, optim.RAdam])
def test_parameter_groups_keep_their_own_rates(cls):
    # The first step of each moves a coordinate by its group's lr: Adamax and Rprop lr sign(g), RAdam lr g.
    a, b = nn.Parameter(tn.tensor(np.array([1.0]))), nn.Parameter(tn.tensor(np.array([1.0])))
    opt = cls([{"params": [a]}, {"params": [b], "lr": 0.001}], lr=0.1, **({"eps": 0.0} if cls is optim.Adamax else {}))
    (2.0 * a + 2.0 * b).sum().backward()
    opt.step()
    move = 2.0 if cls is optim.RAdam else 1.0
    np.testing.assert_allclose([a.item(), b.item()], [1 - 0.1 * move, 1 - 0.001 * move], rtol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.001]


@pytest.mark.parametrize("cls, names", ALL)
def test_parameters_without_gradient_are_skipped(cls, names):
    a, b = nn.Parameter(tn.tensor(np.array([1.0]))), nn.Parameter(tn.tensor(np.array([1.0])))
    opt = cls([a, b])
    (3.0 * a).sum().backward()
    opt.step()
    assert b.item() == 1.0 and b not in opt.state and a.item() != 1.0


def test_float32_parameters_keep_float32_state():
    p = nn.Parameter(tn.tensor(np.array(P0, dtype=np.float32)))
    for cls, names in ALL:
        opt = cls([p])
        (p * p).sum().backward()
        opt.step()
        p.grad = None
        sd = opt.state_dict()["state"][0]
        for key in names - {"step"}:
            assert sd[key].dtype == np.float32, (type(opt).__name__, key)
    assert p.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda p: optim.Adadelta(p, lr=-1.0), "Adadelta: Invalid learning rate: -1.0"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Adadelta: Invalid rho value: 1.5"),
    (lambda p: optim.Adadelta(p, eps=-1.0), "Adadelta: Invalid epsilon value: -1.0"),
    (lambda p: optim.Adadelta(p, weight_decay=-1.0), "Adadelta: Invalid weight_decay value: -1.0"),
    (lambda p: optim.Adamax(p, lr=float("nan")), "Adamax: Invalid learning rate: nan"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "Adamax: Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.NAdam(p, betas=(0.9, -0.1)), "NAdam: Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.NAdam(p, momentum_decay=-1.0), "NAdam: Invalid momentum_decay value: -1.0"),
    (lambda p: optim.RAdam(p, eps=-1e-8), "RAdam: Invalid epsilon value: -1e-08"),
    (lambda p: optim.Rprop(p, etas=(0.5, 1.0)), "Rprop: Invalid eta values: 0.5, 1.0"),
    (lambda p: optim.Rprop(p, etas=(1.5, 2.0)), "Rprop: Invalid eta values: 1.5, 2.0"),
    (lambda p: optim.ASGD(p, weight_decay=-0.1), "ASGD: Invalid weight_decay value: -0.1"),
    (lambda p: optim.ASGD([{"params": p, "lr": -0.5}]), "ASGD: Invalid learning rate: -0.5"),
])
def test_invalid_options_raise_pytorchs_messages(call, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.") + "$"):
        call([nn.Parameter(tn.ones(2))])


@pytest.mark.parametrize("cls, names", ALL)
def test_pytorch_defaults_and_implementation_keywords(cls, names):
    p = nn.Parameter(tn.ones(2))
    opt = cls([p], foreach=None, differentiable=False, capturable=False)
    defaults = {"Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
                "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
                "NAdam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                              decoupled_weight_decay=False),
                "RAdam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False),
                "Rprop": dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
                "ASGD": dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0)}[type(opt).__name__]
    group = opt.param_groups[0]
    assert {k: group[k] for k in defaults} == defaults
    assert group["maximize"] is False and group["foreach"] is None
    with pytest.raises(NotImplementedError, match="differentiable"):
        cls([p], differentiable=True)
    with pytest.raises(TypeError, match="momentun"):
        cls([p], momentun=0.9)
