"""Tests that kill mutants mutmut left alive in tinynn/optim/ (scripts/mutation.py; the report is
docs/mutation-report.md). Each checks a documented behaviour the other tests left open: the exact
error messages (they name the optimizer and the bad value), boundary values of each check, and the
bookkeeping of parameter groups and state.  The schedulers' tests are in
test_mutants_optim_schedulers.py."""
import math

import numpy as np
import pytest

import tinynn as tn
from helpers.messages import raises
from tinynn import optim


def params(*shapes):
    return [tn.nn.Parameter(np.ones(s, np.float32)) for s in shapes]


# ---------------------------------------------------------------- Optimizer bookkeeping
def test_optimizer_errors_name_the_class_and_the_cause():
    p = params((2,))
    with raises(TypeError, "SGD: params must be an iterable of Parameters or dicts, got a single Tensor"):
        optim.SGD(p[0], lr=0.1)
    with raises(ValueError, "Adam: got an empty parameter list"):
        optim.Adam([])
    opt = optim.SGD(p, lr=0.1)
    with raises(TypeError, "SGD: a parameter group must be a dict, got list"):
        opt.add_param_group([1])
    with raises(TypeError, "SGD: can only optimize Tensors, got ndarray"):
        opt.add_param_group({"params": [np.ones(2)]})
    with raises(TypeError, "SGD: can only optimize floating-point tensors, got dtype int64"):
        opt.add_param_group({"params": [tn.Tensor(np.arange(2))]})
    with raises(ValueError, "SGD: some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": p})
    assert optim.SGD([{"params": params((1,))}]).param_groups[0]["lr"] == 1e-3   # PyTorch 2.13's default


def test_a_single_tensor_group_and_extra_keys_are_kept():
    a, b = params((2,), (3,))
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.5, "note": "head"})
    group = opt.param_groups[1]
    assert group["params"] == [b] and group["lr"] == 0.5 and group["note"] == "head" and group["momentum"] == 0.0
    assert "params" in opt.state_dict()["param_groups"][1]


def test_zero_grad_to_zeros_keeps_arrays_of_the_parameters_shape():
    a, b = params((2, 3), (4,))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = np.full((2, 3), 5.0, np.float32)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, np.zeros((2, 3), np.float32))
    assert b.grad is None          # no gradient yet: stays None
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.5), lambda p: optim.Adam(p, lr=0.5)])
def test_step_returns_the_closure_loss_and_skips_only_params_without_grad(make):
    a, b, c = params((2,), (2,), (2,))
    opt = make([a, b, c])
    a.grad, c.grad = np.ones(2, np.float32), np.ones(2, np.float32)   # b has none: the one after it still moves
    assert opt.step(lambda: 42.0) == 42.0
    assert np.all(a.numpy() < 1) and np.all(c.numpy() < 1)
    np.testing.assert_array_equal(b.numpy(), np.ones(2, np.float32))


def test_non_contiguous_parameter_data_is_copied_once_to_c_order():
    p = tn.nn.Parameter(np.ones((4, 4), np.float32))
    p.data = np.asfortranarray(p.numpy())[:, ::2]    # (4, 2), not C-contiguous
    opt = optim.SGD([p], lr=1.0)
    p.grad = np.ones((4, 2), np.float32)
    opt.step()
    assert p.numpy().flags.c_contiguous and p.numpy().shape == (4, 2)
    np.testing.assert_array_equal(p.numpy(), np.zeros((4, 2), np.float32))
    held = p.numpy()
    opt.step()
    assert p.numpy() is held      # checked once: the same array is updated in place from then on


def test_load_state_dict_errors_and_casts():
    a = params((3,))
    opt = optim.SGD(a, lr=0.1, momentum=0.9)
    a[0].grad = np.ones(3, np.float32)
    opt.step()
    sd = opt.state_dict()
    with raises(ValueError, "SGD.load_state_dict: expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({})
    with raises(ValueError, "SGD.load_state_dict: loaded state has 0 parameter groups, this optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with raises(ValueError, "SGD.load_state_dict: group 0 has 2 parameters in the loaded state but 1 here"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1], "lr": 0.1}]})
    with raises(ValueError, "SGD.load_state_dict: state for unknown parameter index 5"):
        opt.load_state_dict({"state": {5: {}}, "param_groups": sd["param_groups"]})
    bad = {"state": {0: {"momentum_buffer": np.ones(4)}}, "param_groups": sd["param_groups"]}
    with raises(ValueError, "SGD.load_state_dict: state 'momentum_buffer' of parameter 0 has shape (4,), "
                            "the parameter has shape (3,)"):
        opt.load_state_dict(bad)
    for saved in (np.full(3, 2.0, np.float64), np.full(3, 2.0, np.float32)):   # cast, or the same dtype
        groups = [dict(sd["param_groups"][0], lr=np.array(0.25), betas=[np.float64(0.5), 0.6])]
        value = tn.Tensor(saved) if saved.dtype == np.float64 else saved
        opt.load_state_dict({"state": {0: {"momentum_buffer": value, "step": np.array(7)}},
                             "param_groups": groups})
        buf = opt.state[a[0]]["momentum_buffer"]
        assert buf.dtype == np.float32 and buf is not saved
        np.testing.assert_array_equal(buf, np.full(3, 2.0, np.float32))
        saved[:] = 0                                       # copied, not shared
        assert buf[0] == 2.0
    assert opt.state[a[0]]["step"] == 7 and type(opt.state[a[0]]["step"]) is int
    group = opt.param_groups[0]
    assert group["lr"] == 0.25 and type(group["lr"]) is float
    assert group["betas"] == (0.5, 0.6) and type(group["betas"]) is tuple and type(group["betas"][0]) is float
    assert group["params"] == a


def test_repr_lists_each_group_and_its_options_but_not_the_params():
    opt = optim.SGD([{"params": params((1,))}, {"params": params((1,)), "lr": 0.5}], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0.0\n    lr: 0.1\n    maximize: False\n"
                         "    momentum: 0.0\n    nesterov: False\n    weight_decay: 0.0\nParameter Group 1\n"
                         "    dampening: 0.0\n    lr: 0.5\n    maximize: False\n    momentum: 0.0\n"
                         "    nesterov: False\n    weight_decay: 0.0\n)")


# ---------------------------------------------------------------- SGD / Adam option checks
def test_sgd_checks_each_option_with_its_own_message():
    p = params((1,))
    optim.SGD(p, lr=0.0)                       # lr = 0 is allowed (>= 0)
    with raises(ValueError, "SGD: invalid learning rate -1"):
        optim.SGD(p, lr=-1)
    with raises(ValueError, "SGD: invalid momentum -0.5"):
        optim.SGD(p, lr=0.1, momentum=-0.5)
    with raises(ValueError, "SGD: invalid weight_decay -0.1"):
        optim.SGD(p, lr=0.1, weight_decay=-0.1)
    with raises(ValueError, "SGD: Nesterov momentum requires a momentum > 0 and zero dampening"):
        optim.SGD(p, lr=0.1, nesterov=True)
    assert optim.SGD(p).defaults["lr"] == 1e-3


def test_adam_checks_each_option_and_the_boundaries_of_betas():
    p = params((1,))
    optim.Adam(p, lr=0.0, betas=(0.0, 0.0), eps=0.0)     # the closed ends are allowed
    for cls in (optim.Adam, optim.AdamW):
        name = cls.__name__
        with raises(ValueError, f"{name}: invalid learning rate -1.0"):
            cls(p, lr=-1.0)
        with raises(ValueError, f"{name}: invalid eps -1e-08"):
            cls(p, eps=-1e-8)
        with raises(ValueError, f"{name}: invalid weight_decay -0.1"):
            cls(p, weight_decay=-0.1)
        for betas in ((1.0, 0.5), (0.5, 1.0), (-0.1, 0.5), (0.5, -0.1), (0.5, 1.5)):
            with raises(ValueError, f"{name}: invalid betas {betas}; each must be in [0, 1)"):
                cls(p, betas=betas)


def test_adamw_default_learning_rate_and_weight_decay():
    opt = optim.AdamW(params((1,)))
    assert opt.param_groups[0]["lr"] == 1e-3 and opt.param_groups[0]["weight_decay"] == 1e-2


# ---------------------------------------------------------------- Adagrad (PyTorch's rule), AdamW defaults
def test_adagrad_two_steps_by_hand():
    """lr~ = lr / (1 + (t - 1) lr_decay); g <- g + wd p; s <- s + g^2; p <- p - lr~ g / (sqrt(s) + eps)."""
    b, a = params((1,), (1,))                                    # b first: skipped, and the loop goes on
    opt = optim.Adagrad([b, a], lr=0.5, lr_decay=0.25, weight_decay=0.1, initial_accumulator_value=0.3, eps=0.5)
    p, s = 1.0, 0.3
    for t in (1, 2):
        a.grad = tn.tensor(np.array([2.0], np.float32))          # b has no gradient: it stays, a still moves
        assert opt.step(lambda: 7.0) == 7.0
        g = 2.0 + 0.1 * p
        s += g * g
        p -= 0.5 / (1 + (t - 1) * 0.25) * g / (math.sqrt(s) + 0.5)
        assert a.numpy()[0] == pytest.approx(p, rel=1e-6) and b.numpy()[0] == 1.0


def test_adagrad_defaults_maximize_and_checks():
    (p,) = params((1,))
    opt = optim.Adagrad([p])
    assert opt.defaults["lr"] == 1e-2 and opt.defaults["maximize"] is False
    p.grad = tn.tensor(np.array([1.0], np.float32))
    opt.step()
    assert p.numpy()[0] == pytest.approx(1.0 - 1e-2 / (1 + 1e-10), rel=1e-7)
    (q,) = params((1,))
    up = optim.Adagrad([q], lr=0.5, maximize=True)
    q.grad = tn.tensor(np.array([1.0], np.float32))
    up.step()
    assert q.numpy()[0] == pytest.approx(1.5, rel=1e-6)              # ascent: p + lr g / sqrt(g^2)


def test_adamw_defaults_to_no_amsgrad():
    assert optim.AdamW(params((1,))).defaults["amsgrad"] is False


# ---------------------------------------------------------------- RMSprop (PyTorch's rule)
@pytest.mark.parametrize("centered, momentum", [(False, 0.0), (True, 0.5)])
def test_rmsprop_two_steps_by_hand(centered, momentum):
    """v <- alpha v + (1 - alpha) g^2; centered: a <- alpha a + (1 - alpha) g, v~ = v - a^2;
    mu > 0: b <- mu b + g / (sqrt(v~) + eps), p <- p - lr b; else p <- p - lr g / (sqrt(v~) + eps)."""
    idle, a_param = params((1,), (1,))                           # idle first: skipped, and the loop goes on
    opt = optim.RMSprop([idle, a_param], lr=0.1, alpha=0.5, eps=0.25, weight_decay=0.2, momentum=momentum,
                        centered=centered)
    p, v, a, b = 1.0, 0.0, 0.0, 0.0
    for step in (1, 2):
        a_param.grad = tn.tensor(np.array([3.0], np.float32))    # idle has no gradient: it stays, a_param moves
        assert opt.step(lambda: 5.0) == 5.0
        g = 3.0 + 0.2 * p
        v = 0.5 * v + 0.5 * g * g
        a = 0.5 * a + 0.5 * g
        denom = math.sqrt(v - a * a if centered else v) + 0.25
        if momentum:
            b = momentum * b + g / denom
            p -= 0.1 * b
        else:
            p -= 0.1 * g / denom
        assert a_param.numpy()[0] == pytest.approx(p, rel=1e-6) and idle.numpy()[0] == 1.0
    state = opt.state[a_param]
    assert state["step"] == 2 and idle not in opt.state
    if centered:
        assert state["grad_avg"][0] == pytest.approx(a, rel=1e-6)   # a = alpha a + (1 - alpha) g, PyTorch's sign
    for key in ("square_avg",) + (("grad_avg",) if centered else ()) + (("momentum_buffer",) if momentum else ()):
        assert state[key].dtype == np.float32, key


def test_rmsprop_defaults_and_checks():
    (p,) = params((1,))
    opt = optim.RMSprop([p])
    assert opt.defaults["lr"] == 1e-2 and opt.defaults["weight_decay"] == 0


def test_amsgrad_with_l2_weight_decay_two_steps_by_hand():
    """g <- g + wd p; m, v as Adam; v_max = max(v_max, v); p <- p - lr / (1 - b1^t) m / (sqrt(v_max) / sqrt(1 - b2^t) + eps)."""
    (w,) = params((1,))
    opt = optim.Adam([w], lr=0.1, betas=(0.5, 0.75), eps=0.25, weight_decay=0.2, amsgrad=True)
    p, m, v, v_max = 1.0, 0.0, 0.0, 0.0
    for t, grad in ((1, 3.0), (2, 0.1), (3, 10.0)):  # the second v is smaller: v_max keeps the first
        w.grad = tn.tensor(np.array([grad], np.float32))
        opt.step()
        g = grad + 0.2 * p
        m = 0.5 * m + 0.5 * g
        v = 0.75 * v + 0.25 * g * g
        v_max = max(v_max, v)
        p -= 0.1 / (1 - 0.5**t) * m / (math.sqrt(v_max) / math.sqrt(1 - 0.75**t) + 0.25)
        assert w.numpy()[0] == pytest.approx(p, rel=1e-6), t
        assert opt.state[w]["exp_avg_sq"][0] == pytest.approx(v, rel=1e-6)
        assert opt.state[w]["max_exp_avg_sq"][0] == pytest.approx(v_max, rel=1e-6)


def test_sgd_names_itself_for_unknown_keywords():
    with raises(TypeError, "SGD.__init__() got unexpected keyword arguments ['turbo']"):
        optim.SGD(params((1,)), lr=0.1, turbo=True)


def test_adam_defaults_state_and_parameters_without_gradients():
    assert optim.Adam(params((1,))).defaults["amsgrad"] is False
    with raises(TypeError, "Adam.__init__() got unexpected keyword arguments ['turbo']"):
        optim.Adam(params((1,)), turbo=True)
    idle, w = params((1,), (1,))
    opt = optim.Adam([idle, w], lr=0.1, amsgrad=True)
    w.grad = tn.tensor(np.array([2.0], np.float32))             # the first has no gradient: skipped, not the end
    opt.step()
    assert w.numpy()[0] == pytest.approx(0.9, rel=1e-5) and idle.numpy()[0] == 1.0   # Adam's first step: lr sign(g)
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert opt.state[w][key].dtype == np.float32, key
    first, second = params((1,), (1,))                            # after one AMSGrad update the loop goes on
    both = optim.Adam([first, second], lr=0.1, amsgrad=True)
    first.grad = second.grad = tn.tensor(np.array([-2.0], np.float32))
    both.step()
    assert first.numpy()[0] == second.numpy()[0] == pytest.approx(1.1, rel=1e-5)


@pytest.mark.parametrize("cls, keys", [(optim.Adagrad, ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")),
                                       (optim.RMSprop, ("lr", "alpha", "eps", "weight_decay", "momentum"))])
def test_unknown_keywords_and_negative_options_are_named(cls, keys):
    with raises(TypeError, f"{cls.__name__}.__init__() got unexpected keyword arguments ['turbo']"):
        cls(params((1,)), turbo=True)
    for key in keys:
        with raises(ValueError, f"{cls.__name__}: invalid {key} -1.0; it must be >= 0"):
            cls(params((1,)), **{key: -1.0})
