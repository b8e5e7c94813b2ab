"""nn.utils (clipping, parameters <-> vector), Module.to / apply / named_modules / requires_grad_, ModuleDict."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
from tinynn.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def with_grads(*grads):
    """Parameters whose gradients are the given arrays (set through backward of the linear loss g . p)."""
    ps = []
    for g in grads:
        g = np.asarray(g, dtype=np.float64)
        p = nn.Parameter(tn.tensor(np.ones_like(g)))
        (tn.tensor(g) * p).sum().backward()
        ps.append(p)
    return ps


def grads_of(ps):
    return [np.array(p.grad if isinstance(p.grad, np.ndarray) else p.grad.numpy()) for p in ps]


def test_clip_grad_norm_scales_to_max_norm():
    # |(3, 4, 12)| = 13 over two parameters: scale by 6.5 / (13 + 1e-6).
    ps = with_grads([3.0, 4.0], [[12.0]])
    total = clip_grad_norm_(ps, max_norm=6.5)
    assert isinstance(total, tn.Tensor) and total.item() == pytest.approx(13.0)
    coef = 6.5 / (13 + 1e-6)
    a, b = grads_of(ps)
    np.testing.assert_allclose(a, [3 * coef, 4 * coef], rtol=1e-12)
    np.testing.assert_allclose(b, [[12 * coef]], rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_and_takes_one_tensor():
    (p,) = with_grads([0.3, -0.4])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(grads_of([p])[0], [0.3, -0.4])


@pytest.mark.parametrize("norm_type, expected", [(1, 3 + 4 + 12), (3.0, (27 + 64 + 1728) ** (1 / 3)),
                                                 (math.inf, 12.0), ("inf", 12.0)])
def test_clip_grad_norm_other_norms(norm_type, expected):
    ps = with_grads([3.0, -4.0], [[-12.0]])
    assert clip_grad_norm_(ps, 1.0, norm_type=norm_type).item() == pytest.approx(expected)
    total_after = clip_grad_norm_(ps, 1e9, norm_type=norm_type).item()
    assert total_after == pytest.approx(expected / (expected + 1e-6))


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
def test_clip_grad_norm_nonfinite():
    ps = with_grads([1.0, np.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(ps, 1.0).item())   # as PyTorch: scaled by 1 / inf = 0 (and inf * 0 = nan)
    g = grads_of(ps)[0]
    assert g[0] == 0.0 and math.isnan(g[1])


def test_clip_grad_norm_without_gradients():
    assert clip_grad_norm_([nn.Parameter(tn.ones(2))], 1.0).item() == 0.0


def test_clip_grad_value():
    ps = with_grads([-3.0, 0.5, 2.0])
    clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(grads_of(ps)[0], [-1.0, 0.5, 1.0])


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2).double()
    vec = parameters_to_vector(lin.parameters())
    np.testing.assert_array_equal(vec.numpy(), np.concatenate([lin.weight.numpy().ravel(), lin.bias.numpy()]))
    (vec * tn.tensor(np.arange(8.0))).sum().backward()   # differentiable: d/dW = arange laid out as W
    np.testing.assert_array_equal(grads_of([lin.weight])[0], np.arange(6.0).reshape(2, 3))
    vector_to_parameters(tn.tensor(np.arange(8.0) + 1), lin.parameters())
    np.testing.assert_array_equal(lin.weight.numpy(), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(lin.bias.numpy(), [7, 8])
    with pytest.raises(ValueError, match="8 elements"):
        vector_to_parameters(tn.tensor(np.zeros(7)), lin.parameters())
    with pytest.raises(TypeError, match="expected a Tensor"):
        vector_to_parameters(np.zeros(8), lin.parameters())


# ---------------------------------------------------------------- Module
def net():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))


def test_to_dtype_and_cpu():
    m = net()
    assert m.to("cpu") is m and m.cpu() is m
    assert m.to(device="cpu", dtype=np.float64) is m
    assert all(p.dtype == np.float64 for p in m.parameters())
    m.to("cpu", tn.float32)
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.to(tn.tensor(np.zeros(1)))   # the dtype of a tensor: float64
    assert all(p.dtype == np.float64 for p in m.parameters())


def test_to_rejects_other_devices_and_dtypes():
    with pytest.raises(RuntimeError, match="'cuda'.*CPU only"):
        net().to("cuda")
    with pytest.raises(RuntimeError, match="'cuda:0'"):
        net().to("cuda:0", np.float32)
    with pytest.raises(TypeError, match="floating-point"):
        net().to(np.int64)
    with pytest.raises(TypeError, match="unexpected"):
        net().to(dtype=np.float32, devise="cpu")


def test_apply_named_modules_requires_grad():
    m = net()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]   # children first, then self
    assert [name for name, _ in m.named_modules()] == ["", "0", "1", "2", "2.0"]
    shared = nn.Linear(1, 1)
    twice = nn.Sequential(shared, shared)
    assert [n for n, _ in twice.named_modules()] == ["", "0"]
    assert [n for n, _ in twice.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_module_dict():
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    d["dec"] = nn.Linear(3, 1)
    assert list(d) == ["enc", "act", "dec"] and len(d) == 3 and "act" in d
    assert [k for k, _ in d.items()] == list(d.keys())
    assert sum(p.numel() for p in d.parameters()) == 2 * 3 + 3 + 3 + 1
    assert sorted(d.state_dict()) == ["dec.bias", "dec.weight", "enc.bias", "enc.weight"]
    assert isinstance(d.pop("act"), nn.ReLU) and list(d) == ["enc", "dec"]
    del d["dec"]
    assert list(d) == ["enc"] and sum(1 for _ in d.parameters()) == 2
    d.update([("x", nn.Identity())])
    assert list(d.values())[-1].__class__ is nn.Identity
    with pytest.raises(KeyError, match="no module named 'nope'"):
        d["nope"]
    with pytest.raises(TypeError, match="strings"):
        d[1] = nn.ReLU()
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_clipping_gradients_given_as_tensors():
    """p.grad may be a Tensor (PyTorch's type): clipped in place all the same."""
    a, b = nn.Parameter(tn.tensor(np.zeros(2))), nn.Parameter(tn.tensor(np.zeros(1)))
    a.grad, b.grad = tn.tensor(np.array([3.0, 4.0])), tn.tensor(np.array([-12.0]))
    grad_a = a.grad
    assert clip_grad_norm_([a, b], 1.3).item() == pytest.approx(13.0)
    coef = 1.3 / (13 + 1e-6)
    assert a.grad is grad_a and isinstance(a.grad, tn.Tensor)
    np.testing.assert_allclose(a.grad.numpy(), [3 * coef, 4 * coef], rtol=1e-12)
    clip_grad_value_([a, b], 0.5)
    np.testing.assert_allclose(b.grad.numpy(), [-0.5])
