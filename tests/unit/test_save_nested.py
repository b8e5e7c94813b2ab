"""tn.save / tn.load: nested containers of tensors and plain values round trip with their types;
load's map_location and weights_only arguments."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
from tinynn.optim import lr_scheduler


def same(a, b):
    """Equal values of equal types, all the way down (Tensors compared by dtype, shape and values)."""
    if isinstance(a, tn.Tensor):
        return isinstance(b, tn.Tensor) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.numpy(), b.numpy())
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def test_nested_tensors_numbers_strings_none_bools(tmp_path):
    obj = {
        "model": {"w": tn.tensor(np.arange(6.0).reshape(2, 3)), "b": tn.tensor(np.zeros(2, np.float32))},
        "history": [0.5, 0.25, (1, "two", None, True, False)],
        "pairs": ((tn.tensor(np.array([1, 2])), -3), [[], {}, ()]),
        "flags": {"done": False, "nan": float("nan"), "inf": -math.inf, 7: "int key"},
        "empty": tn.tensor(np.zeros((0, 4), np.float32)),
        "scalar": tn.tensor(np.float64(2.5)),
    }
    tn.save(obj, tmp_path / "n.npz")
    assert same(obj, tn.load(tmp_path / "n.npz"))


@pytest.mark.parametrize("obj", [
    tn.tensor(np.eye(3)),
    [tn.tensor([1.0]), 2, "three"],
    (None, True),
    42,
    "just a string",
])
def test_any_top_level_value(obj, tmp_path):
    tn.save(obj, tmp_path / "x.npz")
    assert same(obj, tn.load(tmp_path / "x.npz"))


def test_training_checkpoint_with_optimizer_and_scheduler(tmp_path):
    net = nn.Linear(3, 2)
    opt = optim.Adam([{"params": [net.weight]}, {"params": [net.bias], "lr": 0.1}], lr=0.01, amsgrad=True)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    x = tn.tensor(np.ones((4, 3), np.float32))
    for _ in range(2):
        opt.zero_grad()
        (net(x) * net(x)).sum().backward()
        opt.step()
        sched.step()
    ckpt = {"epoch": 2, "model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    tn.save(ckpt, tmp_path / "ckpt.npz")
    back = tn.load(tmp_path / "ckpt.npz", map_location="cpu", weights_only=True)
    assert back["epoch"] == 2
    groups = back["optimizer"]["param_groups"]
    assert [g["params"] for g in groups] == [[0], [1]] and groups[0]["betas"] == (0.9, 0.999)
    assert groups[0]["amsgrad"] is True and groups[1]["lr"] == pytest.approx(0.01)   # StepLR(2) after 2 epochs
    state = back["optimizer"]["state"]
    assert set(state) == {0, 1} and state[0]["step"] == 2
    np.testing.assert_array_equal(np.asarray(state[0]["max_exp_avg_sq"]), opt.state[net.weight]["max_exp_avg_sq"])
    assert back["scheduler"]["last_epoch"] == 2


@pytest.mark.parametrize("where", [None, "cpu", "cpu:0"])
def test_map_location_cpu(where, tmp_path):
    class Device:   # what a torch.device("cpu")-like object offers
        type = "cpu"

    tn.save({"w": tn.tensor([1.0])}, tmp_path / "m.npz")
    for loc in (where, Device()):
        assert tn.load(tmp_path / "m.npz", map_location=loc)["w"].tolist() == [1.0]


def test_map_location_and_weights_only_errors(tmp_path):
    path = tmp_path / "m.npz"
    tn.save({"w": tn.tensor([1.0])}, path)
    with pytest.raises(RuntimeError, match="'cuda'.*CPU only"):
        tn.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="map_location"):
        tn.load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(ValueError, match="weights_only=False.*never unpickles"):
        tn.load(path, weights_only=False)
    with pytest.raises(TypeError):
        tn.load(path, "cpu", True, "extra")
