"""Optimizers and schedulers: trajectories on a quadratic against the formulas computed by hand."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.optim import lr_scheduler

A = np.array([1.0, 2.0, -0.5])   # f(p) = 0.5 * sum(a * p^2), grad = a * p
P0 = np.array([1.0, -2.0, 3.0])


def run(make_opt, steps=4):
    """Parameter values after each of `steps` optimizer steps on f."""
    p = nn.Parameter(tn.tensor(P0.copy()))
    opt = make_opt([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (tn.tensor(A) * p * p).sum()).backward()
        opt.step()
        out.append(p.numpy().copy())
    return np.array(out)


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=4):
    p, b, out = P0.copy(), None, []
    for t in range(steps):
        g = A * p + weight_decay * p
        if momentum:
            b = g.copy() if t == 0 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.9, dampening=0.3),
    dict(momentum=0.8, nesterov=True),
    dict(weight_decay=0.1),
    dict(momentum=0.9, dampening=0.5, weight_decay=0.05),
    dict(momentum=0.7, nesterov=True, weight_decay=0.2),
])
def test_sgd_trajectory(kw, backend_name):
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, lr=0.1, **kw)), sgd_reference(0.1, **kw), rtol=1e-12)


def test_sgd_first_steps_by_hand():
    # momentum 0.9, lr 0.1, a = 1, p0 = 1:  g1 = 1, b1 = 1, p1 = 0.9;  g2 = 0.9, b2 = 0.9 + 0.9 = 1.8, p2 = 0.72
    p = nn.Parameter(tn.tensor(np.array([1.0])))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for expected in (0.9, 0.72):
        opt.zero_grad()
        (0.5 * p * p).sum().backward()
        opt.step()
        assert p.numpy()[0] == pytest.approx(expected)


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, steps=4):
    p, m, v, out = P0.copy(), np.zeros(3), np.zeros(3), []
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = A * p
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize("kw", [dict(), dict(betas=(0.8, 0.9)), dict(eps=0.1), dict(weight_decay=0.1)])
def test_adam_trajectory(kw, backend_name):
    np.testing.assert_allclose(run(lambda ps: optim.Adam(ps, lr=0.05, **kw)), adam_reference(0.05, **kw), rtol=1e-10)


@pytest.mark.parametrize("kw", [dict(), dict(weight_decay=0.3), dict(betas=(0.5, 0.6), eps=1e-3, weight_decay=0.0)])
def test_adamw_trajectory(kw, backend_name):
    wd = kw.pop("weight_decay", 1e-2)
    expected = adam_reference(0.05, weight_decay=wd, decoupled=True, **kw)
    np.testing.assert_allclose(run(lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=wd, **kw)), expected, rtol=1e-10)


def test_adam_first_step_is_lr_times_sign():
    # with bias correction, m_hat = g and v_hat = g^2, so step 1 moves every coordinate by lr * g / (|g| + eps)
    out = run(lambda ps: optim.Adam(ps, lr=0.01, eps=0.0), steps=1)[0]
    np.testing.assert_allclose(out, P0 - 0.01 * np.sign(A * P0), rtol=1e-12)


def test_adamw_default_decay_and_adam_default():
    p = nn.Parameter(tn.zeros(2))
    assert optim.AdamW([p]).param_groups[0]["weight_decay"] == 1e-2
    g = optim.Adam([p]).param_groups[0]
    assert (g["lr"], g["betas"], g["eps"], g["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0.0)


def test_param_groups_and_skipping_missing_grads():
    a, b = nn.Parameter(tn.ones(2)), nn.Parameter(tn.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad = np.ones(2, np.float32)
    b.grad = np.ones(2, np.float32)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.5)
    a.grad = None
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)  # no gradient, no update
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_argument_errors():
    p = nn.Parameter(tn.ones(2))
    with pytest.raises(ValueError):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.05),
    lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
])
def test_state_dict_resume_matches_uninterrupted(make):
    full = run(make, steps=6)
    p = nn.Parameter(tn.tensor(P0.copy()))
    opt = make([p])

    def step(o, q):
        o.zero_grad()
        (0.5 * (tn.tensor(A) * q * q).sum()).backward()
        o.step()

    for _ in range(3):
        step(opt, p)
    sd = opt.state_dict()
    q = nn.Parameter(tn.tensor(p.numpy().copy()))
    opt2 = make([q])
    opt2.load_state_dict(sd)
    for _ in range(3):
        step(opt2, q)
    np.testing.assert_allclose(q.numpy(), full[-1], rtol=1e-12)


def test_load_state_dict_mismatch():
    a = optim.SGD([nn.Parameter(tn.ones(2))], lr=0.1)
    b = optim.SGD([nn.Parameter(tn.ones(2)), nn.Parameter(tn.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="parameters"):
        b.load_state_dict(a.state_dict())


# ---------------------------------------------------------------- schedulers
def lrs(scheduler_factory, epochs=12, lr=0.1):
    opt = optim.SGD([nn.Parameter(tn.ones(1))], lr=lr)
    sched = scheduler_factory(opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == out[-1]
    return np.array(out)


def test_step_lr():
    expected = [0.1 * 0.5 ** (t // 3) for t in range(13)]
    np.testing.assert_allclose(lrs(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)), expected, rtol=1e-12)
    np.testing.assert_allclose(lrs(lambda o: lr_scheduler.StepLR(o, 4))[[0, 3, 4, 8]], [0.1, 0.1, 0.01, 0.001], rtol=1e-12)


def test_exponential_lr():
    np.testing.assert_allclose(lrs(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)), [0.1 * 0.9**t for t in range(13)], rtol=1e-12)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing(eta_min):
    T = 5
    got = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=eta_min), epochs=3 * T)
    expected = [eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(3 * T + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert got[T] == pytest.approx(eta_min)


def test_scheduler_per_group_and_errors():
    a, b = nn.Parameter(tn.ones(1)), nn.Parameter(tn.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.05, 0.5])
    with pytest.raises(TypeError):
        lr_scheduler.StepLR("not an optimizer", 2)
    with pytest.raises(ValueError):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)


def test_mixed_first_steps_and_step_counts(backend_name):
    """A parameter that gets its first gradient later starts its own momentum / Adam step count."""
    for make, reference in (
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1), lambda steps: sgd_reference(0.1, momentum=0.9, weight_decay=0.1, steps=steps)),
        (lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1), lambda steps: adam_reference(0.05, weight_decay=0.1, steps=steps)),
    ):
        early, late = nn.Parameter(tn.tensor(P0.copy())), nn.Parameter(tn.tensor(P0.copy()))
        opt = make([early, late])
        for t in range(4):
            opt.zero_grad()
            loss = 0.5 * (tn.tensor(A) * early * early).sum()
            if t >= 2:
                loss = loss + 0.5 * (tn.tensor(A) * late * late).sum()
            loss.backward()
            opt.step()
        np.testing.assert_allclose(early.numpy(), reference(4)[-1], rtol=1e-12)
        np.testing.assert_allclose(late.numpy(), reference(2)[-1], rtol=1e-12)


def test_non_contiguous_and_float32_parameters(backend_name):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    p = nn.Parameter(tn.zeros(1))
    p.data = base.T  # a non-contiguous view
    p.grad = np.ones((4, 3), np.float32)
    optim.SGD([p], lr=0.5, momentum=0.9).step()
    np.testing.assert_allclose(p.numpy(), base.T - 0.5)
    q = nn.Parameter(tn.ones(3))
    q.grad = np.full(3, 2.0, np.float32)
    optim.AdamW([q], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(q.numpy(), (1 - 0.05) - 0.1, rtol=1e-6)


def test_scheduler_state_dict_resumes(tmp_path):
    def make():
        opt = optim.SGD([nn.Parameter(tn.ones(1))], lr=0.1)
        return opt, lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)

    opt, sched = make()
    for _ in range(3):
        opt.step()
        sched.step()
    tn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    ckpt = tn.load(tmp_path / "s.npz")
    opt2, sched2 = make()
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    for _ in range(3):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr(), rel=1e-12)
    assert sched2.get_last_lr()[0] == pytest.approx(0.01)
