"""LBFGS: its first two iterations on a quadratic worked out by hand, convergence to known minima (a
quadratic's A^-1 b, Rosenbrock's (1, 1)), the closure-call bookkeeping, the stopping rules, the strong-Wolfe
line search's conditions, PyTorch's state names and a state_dict round trip that continues bit for bit."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.optim.line_search import cubic_minimizer, strong_wolfe

STATE_NAMES = {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
               "prev_loss", "al"}


def rosenbrock(x):
    """(1 - x_0)^2 + 100 (x_1 - x_0^2)^2: minimum 0 at (1, 1)."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def make_closure(opt, loss_fn, counter=None):
    def closure():
        if counter is not None:
            counter.append(1)
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def test_first_iteration_is_scaled_gradient_descent_and_the_second_a_newton_step():
    # f = (a / 2) |x|^2, g = a x. Iteration 1: d = -g, t = min(1, 1 / |g|_1) lr. Iteration 2: y = a s, so
    # gamma = y.s / y.y = 1 / a and the two-loop recursion with one pair gives d = -g / a = -x: with t = lr = 1
    # the step lands on the minimum 0.
    a, x0 = 3.0, np.array([1.0, -2.0, 0.5])
    x = nn.Parameter(tn.tensor(x0))
    opt = optim.LBFGS([x], max_iter=1)
    closure = make_closure(opt, lambda: 0.5 * a * (x * x).sum())
    loss = opt.step(closure)
    np.testing.assert_allclose(loss.item(), 0.5 * a * (x0 @ x0))
    g0 = a * x0
    x1 = x0 - min(1.0, 1.0 / np.abs(g0).sum()) * g0
    np.testing.assert_allclose(x.numpy(), x1, rtol=1e-14)
    opt.step(closure)
    np.testing.assert_allclose(x.numpy(), np.zeros(3), atol=1e-14)
    s = opt.state[x]
    s_vec, y_vec = x1 - x0, a * (x1 - x0)
    np.testing.assert_allclose(float(s["H_diag"]), 1 / a, rtol=1e-12)
    np.testing.assert_allclose(float(s["ro"][0]), 1 / (y_vec @ s_vec), rtol=1e-12)
    assert (s["n_iter"], s["func_evals"]) == (2, 2)   # the last iteration of a step() makes no extra call


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_quadratic_reaches_the_solution_of_the_linear_system(line_search_fn):
    # f = x.A x / 2 - b.x with A symmetric positive definite: the minimum is A^-1 b.
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    a_np, b_np = m @ m.T + 6 * np.eye(6), rng.standard_normal(6)
    a, b = tn.tensor(a_np), tn.tensor(b_np)
    x = nn.Parameter(tn.zeros(6, dtype=tn.float64))
    opt = optim.LBFGS([x], max_iter=100, line_search_fn=line_search_fn, tolerance_grad=1e-12, tolerance_change=0)
    opt.step(make_closure(opt, lambda: 0.5 * (x * (a @ x)).sum() - (b * x).sum()))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a_np, b_np), atol=1e-10)


def test_rosenbrock_reaches_its_minimum_with_the_line_search():
    x = nn.Parameter(tn.tensor(np.array([-1.5, 2.0])))
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=200, tolerance_grad=1e-10, tolerance_change=1e-14)
    first = opt.step(make_closure(opt, lambda: rosenbrock(x)))
    assert first.item() == pytest.approx(rosenbrock(np.array([-1.5, 2.0])))
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-6)


def test_parameters_of_several_shapes_are_one_flat_vector():
    # f = |W - 2|^2 + |v + 1|^2 over a 2x3 and a 4-vector: minimum W = 2, v = -1; an unused parameter stays put.
    w, v, unused = nn.Parameter(tn.zeros(2, 3)), nn.Parameter(tn.zeros(4)), nn.Parameter(tn.ones(2))
    opt = optim.LBFGS([w, unused, v], line_search_fn="strong_wolfe")
    opt.step(make_closure(opt, lambda: ((w - 2.0) * (w - 2.0)).sum() + ((v + 1.0) * (v + 1.0)).sum()))
    np.testing.assert_allclose(w.numpy(), np.full((2, 3), 2.0), atol=1e-4)
    np.testing.assert_allclose(v.numpy(), np.full(4, -1.0), atol=1e-4)
    np.testing.assert_array_equal(unused.numpy(), [1.0, 1.0])
    assert opt.state_dict()["state"][0]["d"].shape == (12,)


def test_closure_calls_and_stopping_rules():
    x = nn.Parameter(tn.tensor(np.array([-1.5, 2.0])))
    calls = []
    opt = optim.LBFGS([x], max_iter=4)                   # no line search: one call per iteration but the last
    opt.step(make_closure(opt, lambda: rosenbrock(x), calls))
    assert len(calls) == 4 and opt.state[x]["func_evals"] == 4 and opt.state[x]["n_iter"] == 4
    calls.clear()
    opt = optim.LBFGS([x], max_iter=50, max_eval=7, line_search_fn="strong_wolfe")
    opt.step(make_closure(opt, lambda: rosenbrock(x), calls))
    assert len(calls) == opt.state[x]["func_evals"] and 7 <= len(calls) <= 7 + 25   # stops once max_eval is reached
    assert opt.param_groups[0]["max_eval"] == 7 and optim.LBFGS([x], max_iter=20).param_groups[0]["max_eval"] == 25
    calls.clear()
    y = nn.Parameter(tn.tensor(np.array([0.0, 0.0])))   # the gradient is already 0: one call, nothing moves
    opt = optim.LBFGS([y])
    assert opt.step(make_closure(opt, lambda: (y * y).sum(), calls)).item() == 0.0
    assert len(calls) == 1 and y.numpy().tolist() == [0.0, 0.0] and set(opt.state[y]) == {"func_evals", "n_iter"}


def test_history_is_limited_to_history_size():
    x = nn.Parameter(tn.tensor(np.array([-1.5, 2.0])))
    opt = optim.LBFGS([x], history_size=3, max_iter=30, line_search_fn="strong_wolfe", tolerance_change=0)
    opt.step(make_closure(opt, lambda: rosenbrock(x)))
    s = opt.state[x]
    assert s["n_iter"] > 5 and len(s["old_dirs"]) == len(s["old_stps"]) == len(s["ro"]) == 3 and len(s["al"]) == 3


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_bit_for_bit(line_search_fn, tmp_path):
    def run(x, opt, steps):
        for _ in range(steps):
            opt.step(make_closure(opt, lambda: rosenbrock(x)))

    kwargs = dict(max_iter=3, history_size=4, line_search_fn=line_search_fn, lr=0.5 if line_search_fn is None else 1)
    x = nn.Parameter(tn.tensor(np.array([-1.2, 1.0])))
    opt = optim.LBFGS([x], **kwargs)
    run(x, opt, 2)
    sd = opt.state_dict()
    assert set(sd["state"][0]) == STATE_NAMES
    assert isinstance(sd["state"][0]["d"], tn.Tensor) and all(isinstance(r, tn.Tensor) for r in sd["state"][0]["ro"])
    tn.save(sd, tmp_path / "lbfgs.npz")
    y = nn.Parameter(tn.tensor(np.array(x.numpy(), copy=True)))
    other = optim.LBFGS([y])
    other.load_state_dict(tn.load(tmp_path / "lbfgs.npz"))
    assert other.param_groups[0] == {**opt.param_groups[0], "params": [y]}
    run(x, opt, 3)
    run(y, other, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert other.state[y]["n_iter"] == opt.state[x]["n_iter"] > sd["state"][0]["n_iter"]


def test_strong_wolfe_returns_a_point_meeting_both_conditions():
    # phi(t) = f(x + t d) for f = sum(x^4) from x = (1, 2) along d = -grad: the step satisfies sufficient
    # decrease and the strong curvature condition with c1 = 1e-4, c2 = 0.9.
    x0 = np.array([1.0, 2.0])
    f0, g0 = (x0**4).sum(), 4 * x0**3
    d = -g0

    def evaluate(t):
        x = x0 + t * d
        return float((x**4).sum()), 4 * x**3

    f, g, t, evals = strong_wolfe(evaluate, d, 1.0, f0, g0, g0 @ d)
    assert f <= f0 + 1e-4 * t * (g0 @ d)
    assert abs(g @ d) <= 0.9 * abs(g0 @ d)
    assert (f, evals) == (evaluate(t)[0], evals) and 1 < evals <= 25


def test_cubic_minimizer_is_exact_for_a_cubic():
    # phi(x) = (x - 1)^3 - 3 (x - 1) + 5 has its local minimum at x = 2 (phi' = 3 (x - 1)^2 - 3).
    phi, dphi = (lambda x: (x - 1) ** 3 - 3 * (x - 1) + 5), (lambda x: 3 * (x - 1) ** 2 - 3)
    assert cubic_minimizer(1.5, phi(1.5), dphi(1.5), 3.0, phi(3.0), dphi(3.0)) == pytest.approx(2.0, abs=1e-12)
    assert cubic_minimizer(3.0, phi(3.0), dphi(3.0), 1.5, phi(1.5), dphi(1.5)) == pytest.approx(2.0, abs=1e-12)
    assert cubic_minimizer(1.5, phi(1.5), dphi(1.5), 3.0, phi(3.0), dphi(3.0), bounds=(2.5, 4.0)) == 2.5
    # No minimum (d1^2 < g1 g2: slope 1 at both ends but a mean slope of 2/3, so only an inflection): the midpoint.
    assert cubic_minimizer(0.0, 0.0, 1.0, 1.0, 2 / 3, 1.0, bounds=(0.0, 4.0)) == 2.0


def test_errors():
    p = nn.Parameter(tn.ones(2))
    with pytest.raises(ValueError, match="^LBFGS: Invalid learning rate: -1$"):
        optim.LBFGS([p], lr=-1)
    with pytest.raises(ValueError, match=r"LBFGS doesn't support per-parameter options \(parameter groups\)"):
        optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(tn.ones(1))]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optim.LBFGS([p], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="closure"):
        optim.LBFGS([p]).step()
    other = optim.LBFGS([p])
    with pytest.raises(ValueError, match="first parameter"):
        other.load_state_dict({"state": {1: {"n_iter": 1}}, "param_groups": other.state_dict()["param_groups"]})
