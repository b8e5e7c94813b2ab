"""Regressions from a differential audit of optim, lr_scheduler, nn.utils and data against PyTorch's
documented behaviour. Every expected value is worked out by hand from the documented formula."""
import collections
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn import data
from tinynn.optim import lr_scheduler as L


def scalar_param(value=1.0):
    return nn.Parameter(tn.tensor(np.array(value)))


# ------------------------------------------------------------------ optimizers
def test_resume_of_a_0d_parameter_keeps_its_momentum_buffer(tmp_path):
    # SGD, lr 0.1, momentum 0.9, g = 1 each step: b = 1, 1.9, 2.71; p = 1 - 0.1 (1 + 1.9 + 2.71) = 0.439
    p = scalar_param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = tn.tensor(np.array(1.0))
        opt.step()
    tn.save(opt.state_dict(), tmp_path / "opt.npz")
    q = scalar_param(float(p.item()))
    resumed = optim.SGD([q], lr=0.1, momentum=0.9)
    resumed.load_state_dict(tn.load(tmp_path / "opt.npz"))
    q.grad = tn.tensor(np.array(1.0))
    resumed.step()
    assert q.item() == pytest.approx(0.439, abs=1e-12)


def test_state_dict_values_are_tensors_and_step_is_a_float32_tensor():
    p = nn.Parameter(tn.tensor(np.ones(3)))
    opt = optim.Adam([p], lr=0.1)
    for _ in range(3):
        p.grad = tn.tensor(np.ones(3))
        opt.step()
    state = opt.state_dict()["state"][0]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert isinstance(state["step"], tn.Tensor) and state["step"].dtype == tn.float32 and state["step"].item() == 3.0
    assert isinstance(state["exp_avg"], tn.Tensor) and state["exp_avg"].shape == (3,)
    # m_3 = (1 - 0.9^3) g for a constant g = 1
    np.testing.assert_allclose(state["exp_avg"].numpy(), 1 - 0.9**3, rtol=1e-12)
    other = optim.Adam([nn.Parameter(tn.tensor(np.ones(3)))], lr=0.1)
    other.load_state_dict(opt.state_dict())
    (step,) = [s["step"] for s in other.state.values()]
    assert step == 3 and type(step) is int


def test_non_leaf_tensors_and_sets_of_parameters_are_rejected():
    w = tn.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="SGD: can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD([{"params": {w}}], lr=0.1)


def test_named_parameters_are_accepted_and_their_names_kept():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    group = opt.param_groups[0]
    assert group["param_names"] == ["weight", "bias"] and group["params"] == [model.weight, model.bias]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="with names, or all without"):
        opt.add_param_group({"params": [nn.Parameter(tn.ones(1))]})


@pytest.mark.parametrize("make, expected", [
    # g = 0.5, lr = 0.1, wd = 0.1; the first Adam step moves by lr m^/(sqrt(v^) + eps) = lr (almost exactly)
    (lambda p: optim.Adam([p], lr=0.1, weight_decay=0.1), 1.0 - 0.1),                     # L2: g + wd p
    (lambda p: optim.Adam([p], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True), 0.99 - 0.1),
    (lambda p: optim.AdamW([p], lr=0.1, weight_decay=0.1), 0.99 - 0.1),                  # p (1 - lr wd) first
])
def test_adam_decoupled_weight_decay_is_adamw(make, expected):
    p = scalar_param()
    opt = make(p)
    p.grad = tn.tensor(np.array(0.5))
    opt.step()
    assert p.item() == pytest.approx(expected, abs=1e-7)
    assert opt.param_groups[0]["decoupled_weight_decay"] == (expected < 0.9)


# ------------------------------------------------------------------ schedulers
def sgd(lr=1.0):
    return optim.SGD([nn.Parameter(tn.ones(1))], lr=lr)


def lrs(opt, sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        out.append(opt.param_groups[0]["lr"])
    return out


def test_constant_polynomial_and_multiplicative_lr():
    opt = sgd()
    np.testing.assert_allclose(lrs(opt, L.ConstantLR(opt, factor=0.5, total_iters=3), 5), [0.5, 0.5, 0.5, 1, 1, 1])
    opt = sgd()   # lr_0 (1 - min(t, 4) / 4)^2
    np.testing.assert_allclose(lrs(opt, L.PolynomialLR(opt, total_iters=4, power=2.0), 6),
                               [1, 0.5625, 0.25, 0.0625, 0, 0, 0], atol=1e-15)
    opt = sgd()   # lr_t = lr_{t-1} 0.5 from t = 1
    np.testing.assert_allclose(lrs(opt, L.MultiplicativeLR(opt, lambda t: 0.5), 3), [1, 0.5, 0.25, 0.125])
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda should be a function"):
        L.MultiplicativeLR(sgd(), 0.5)


def test_cosine_annealing_warm_restarts():
    # T_0 = 2, T_mult = 2: cycles of 2, 4, 8 epochs; lr = (1 + cos(pi T_cur / T_i)) / 2 with eta_min = 0
    opt = sgd()
    s = L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    cos = lambda c, T: (1 + math.cos(math.pi * c / T)) / 2  # noqa: E731
    expected = [cos(0, 2), cos(1, 2), cos(0, 4), cos(1, 4), cos(2, 4), cos(3, 4), cos(0, 8)]
    np.testing.assert_allclose(lrs(opt, s, 6), expected, rtol=1e-12)
    s.step(2.5)   # a fractional epoch: T_cur = 0.5 in the second cycle (T_i = 4)
    assert s.get_last_lr()[0] == pytest.approx(cos(0.5, 4), rel=1e-12) and s.last_epoch == 2
    with pytest.raises(ValueError, match="T_0"):
        L.CosineAnnealingWarmRestarts(sgd(), T_0=0)


def test_chained_scheduler_multiplies_the_factors():
    opt = sgd()
    s = L.ChainedScheduler([L.ConstantLR(opt, factor=0.5, total_iters=2), L.ExponentialLR(opt, gamma=0.9)])
    np.testing.assert_allclose(lrs(opt, s, 3), [0.5, 0.5 * 0.9, 0.9**2, 0.9**3], rtol=1e-12)


# ------------------------------------------------------------------ data: collate
Point = collections.namedtuple("Point", "x y")


def test_default_collate_dtypes_and_containers():
    c = data.default_collate
    assert c([1.5, 2.5]).dtype == tn.float64          # Python floats: float64, as torch.tensor(..., float64)
    assert c([1, 2]).dtype == tn.int64 and c([True, False]).dtype == tn.bool
    assert c([tn.tensor([1, 2], dtype=tn.int32)] * 3).dtype == tn.int32   # tensors keep their dtype
    assert c([np.ones(2, np.uint8)] * 2).dtype == tn.uint8
    assert c([np.float32(1.5)] * 2).dtype == tn.float32
    assert c(["a", "b"]) == ["a", "b"]
    pair = c([(1, 2.0), (3, 4.0)])
    assert type(pair) is list and pair[0].tolist() == [1, 3] and pair[1].dtype == tn.float64
    point = c([Point(1, 2.0), Point(3, 4.0)])
    assert type(point) is Point and point.x.tolist() == [1, 3]
    d = c([{"a": 1, "b": tn.ones(2)}, {"a": 2, "b": tn.zeros(2)}])
    assert d["a"].tolist() == [1, 2] and d["b"].shape == (2, 2)
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        c([None, None])
    with pytest.raises(RuntimeError, match="equal size"):
        c([(1, 2), (1,)])
    with pytest.raises(RuntimeError, match="equal size"):
        c([tn.ones(2), tn.ones(3)])


def test_default_convert_makes_tuples_lists_and_numpy_scalars_tensors():
    out = data.default_convert((np.float32(2.5), np.arange(3), "s"))
    assert type(out) is list and isinstance(out[0], tn.Tensor) and out[0].shape == () and out[0].dtype == tn.float32
    assert isinstance(out[1], tn.Tensor) and out[2] == "s"
    assert type(data.default_convert(Point(1, 2))) is Point


# ------------------------------------------------------------------ data: datasets and loader
def test_tensor_dataset_keeps_the_dtype_of_tensors():
    ds = data.TensorDataset(tn.tensor(np.arange(6, dtype=np.int32)), tn.tensor(np.ones(6, np.uint8)))
    assert ds[2][0].dtype == tn.int32
    xb, yb = next(iter(data.DataLoader(ds, batch_size=4, shuffle=True)))
    assert xb.dtype == tn.int32 and yb.dtype == tn.uint8


def test_loader_batches_are_lists_and_writing_into_one_does_not_change_the_dataset():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = data.TensorDataset(tn.tensor(X), tn.tensor(np.arange(6)))
    batch = next(iter(data.DataLoader(ds, batch_size=4)))
    assert type(batch) is list and len(batch) == 2
    batch[0].mul_(2)
    np.testing.assert_array_equal(batch[0].numpy()[0], [0, 2])
    np.testing.assert_array_equal(ds[0][0].numpy(), [0, 1])
    single = next(iter(data.DataLoader(ds, batch_size=None)))
    assert type(single) is list and single[0].shape == (2,)


def test_loader_batch_sampler_attribute():
    ds = data.TensorDataset(np.zeros((7, 1)))
    loader = data.DataLoader(ds, batch_size=3, drop_last=True)
    bs = loader.batch_sampler
    assert isinstance(bs, data.BatchSampler) and bs.batch_size == 3 and bs.drop_last is True
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    assert data.DataLoader(ds, batch_size=None).batch_sampler is None
    given = [[6, 0]]
    assert data.DataLoader(ds, batch_sampler=given).batch_sampler is given


def test_concat_dataset_and_dataset_addition():
    a = data.TensorDataset(tn.tensor(np.arange(3)))
    b = data.TensorDataset(tn.tensor(np.arange(10, 14)))
    cat = a + b
    assert isinstance(cat, data.ConcatDataset) and len(cat) == 7 and cat.cumulative_sizes == [3, 7]
    assert [cat[i][0].item() for i in (0, 2, 3, 6, -1, -7)] == [0, 2, 10, 13, 13, 0]
    with pytest.raises(IndexError):
        cat[7]
    with pytest.raises(ValueError):
        cat[-8]
    batches = list(data.DataLoader(cat, batch_size=3))
    assert [x.tolist() for (x,) in batches] == [[0, 1, 2], [10, 11, 12], [13]]


@pytest.mark.parametrize("lengths, sizes", [
    ([0.33, 0.33, 0.34], [4, 3, 3]),    # floors 3, 3, 3; the one left over goes to split 0
    ([0.1, 0.1, 0.1, 0.7], [1, 1, 1, 7]),
    ([0.25, 0.25, 0.5], [3, 2, 5]),     # floors 2, 2, 5; the one left over goes to split 0
    ([1, 0], [10, 0]),                  # lengths summing to 1 are fractions, ints too
    ([3, 7], [3, 7]),
])
def test_random_split_sizes(lengths, sizes):
    parts = data.random_split(range(10), lengths, generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == sizes
    assert sorted(int(i) for p in parts for i in p.indices) == list(range(10))


def test_random_split_rejects_bad_fractions_and_subset_takes_lists():
    with pytest.raises(ValueError, match="fraction at index 0"):
        data.random_split(range(10), [1.5, -0.5])
    sub = data.Subset(data.TensorDataset(tn.tensor(np.arange(10))), [3, 1, 5])
    assert sub.indices == [3, 1, 5]
    assert sub[[0, 2]][0].tolist() == [3, 5]


def test_sampler_argument_checks():
    with pytest.raises(ValueError, match="batch_size"):
        data.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        data.BatchSampler(range(3), 2, 1)
    with pytest.raises(TypeError, match="replacement"):
        data.RandomSampler(range(3), replacement=1)


# ------------------------------------------------------------------ saving
def test_save_load_keeps_parameters_and_requires_grad(tmp_path):
    w = nn.Parameter(tn.ones(2))
    frozen = nn.Parameter(tn.zeros(1), requires_grad=False)
    leaf = tn.ones(3, requires_grad=True)
    tn.save({"w": w, "frozen": frozen, "leaf": leaf, "plain": tn.ones(1)}, tmp_path / "t.npz")
    out = tn.load(tmp_path / "t.npz")
    assert isinstance(out["w"], nn.Parameter) and out["w"].requires_grad and out["w"].tolist() == [1.0, 1.0]
    assert isinstance(out["frozen"], nn.Parameter) and not out["frozen"].requires_grad
    assert not isinstance(out["leaf"], nn.Parameter) and out["leaf"].requires_grad and out["leaf"].is_leaf
    assert not out["plain"].requires_grad
