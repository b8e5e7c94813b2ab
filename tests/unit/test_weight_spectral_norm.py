"""Weight and spectral normalisation, both forms (nn.utils.parametrizations and the older hook-based
nn.utils.weight_norm / spectral_norm): PyTorch's state-dict keys, w = g v / ||v|| per dim, sigma from
power iteration against numpy.linalg.svd, eval mode leaving u and v alone, removal, and float64
gradient checks through the wrapped Linear on every backend."""
import warnings

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
from tinynn.func import functional_call
from tinynn.nn.utils import parametrizations

BACKENDS = tn.backend.available()


def _linear(out_features=4, in_features=3, seed=0):
    tn.manual_seed(seed)
    return nn.Linear(in_features, out_features).double()


def _norm_except(w, dim):
    if dim is None:
        return np.linalg.norm(w)
    axes = tuple(d for d in range(w.ndim) if d != dim)
    return np.sqrt((w * w).sum(axis=axes, keepdims=True))


# ---------------------------------------------------------------- weight_norm

@pytest.mark.parametrize("dim, g_shape", [(0, (4, 1)), (1, (1, 3)), (None, ())])
def test_weight_norm_keys_and_closed_form(dim, g_shape):
    m = _linear()
    w0 = m.weight.numpy().copy()
    parametrizations.weight_norm(m, dim=dim)
    state = m.state_dict()
    assert list(state) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    g, v = state["parametrizations.weight.original0"].numpy(), state["parametrizations.weight.original1"].numpy()
    assert g.shape == g_shape and v.shape == (4, 3)
    np.testing.assert_allclose(g, _norm_except(w0, dim))  # g = ||w||, v = w: the weight is unchanged
    np.testing.assert_array_equal(v, w0)
    np.testing.assert_allclose(m.weight.numpy(), w0, rtol=1e-14)
    rng = np.random.default_rng(1)
    g_new, v_new = rng.uniform(0.5, 2.0, g_shape), rng.standard_normal((4, 3))
    m.load_state_dict({"bias": m.bias, "parametrizations.weight.original0": g_new,
                       "parametrizations.weight.original1": v_new})
    np.testing.assert_allclose(m.weight.numpy(), g_new * v_new / _norm_except(v_new, dim), rtol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weight_norm_gradcheck(backend):
    with tn.use_backend(backend):
        m = parametrizations.weight_norm(_linear())
        plist = m.parametrizations.weight
        g = plist.original0.detach().clone().requires_grad_()
        v = plist.original1.detach().clone().requires_grad_()
        x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True)

        def f(g, v, x):
            return functional_call(m, {"parametrizations.weight.original0": g,
                                       "parametrizations.weight.original1": v}, (x,))
        assert tn.gradcheck(f, g, v, x)
        assert tn.gradgradcheck(f, g, v, x)


def test_old_weight_norm_hook_keys_and_removal():
    m = _linear()
    w0 = m.weight.numpy().copy()
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert m.weight_g.shape == (4, 1) and isinstance(m.weight_v, nn.Parameter)
    assert not isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.numpy(), w0, rtol=1e-14)
    with tn.no_grad():
        m.weight_g.mul_(2.0)
    x = np.array([[1.0, -1.0, 2.0]])
    np.testing.assert_allclose(m(tn.tensor(x)).numpy(), x @ (2 * w0).T + m.bias.numpy(), rtol=1e-12)  # the hook ran
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.numpy(), 2 * w0, rtol=1e-14)
    assert not m._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_weight_norm_gradcheck(backend):
    with tn.use_backend(backend), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m = nn.utils.weight_norm(_linear(), dim=1)
        g, v = m.weight_g.detach().clone().requires_grad_(), m.weight_v.detach().clone().requires_grad_()
        x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True)
        assert tn.gradcheck(lambda g, v, x: functional_call(m, {"weight_g": g, "weight_v": v}, (x,)), g, v, x)


# ---------------------------------------------------------------- spectral_norm

def _power_step(W, u, v, u_first):
    """One power-iteration step: u <- W v / ||W v||, v <- W^T u / ||W^T u|| (v first in the old form)."""
    unit = lambda a: a / np.linalg.norm(a)  # noqa: E731
    if u_first:
        u = unit(W @ v)
        return u, unit(W.T @ u)
    v = unit(W.T @ u)
    return unit(W @ v), v


def test_spectral_norm_keys_sigma_and_svd():
    m = _linear(5, 4)
    W = m.weight.numpy().copy()
    parametrizations.spectral_norm(m, n_power_iterations=3)
    state = m.state_dict()
    assert list(state) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
                           "parametrizations.weight.0._v"]
    assert state["parametrizations.weight.0._u"].shape == (5,) and state["parametrizations.weight.0._v"].shape == (4,)
    for _ in range(30):
        out = m.weight.numpy()
    sn = m.parametrizations.weight[0]
    u, v = sn._u.numpy(), sn._v.numpy()
    np.testing.assert_allclose(out, W / (u @ W @ v), rtol=1e-13)  # W / sigma, sigma = u^T W v
    sigma_max = np.linalg.svd(W, compute_uv=False)[0]
    np.testing.assert_allclose(u @ W @ v, sigma_max, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.svd(out, compute_uv=False)[0], 1.0, rtol=1e-6)


def test_spectral_norm_training_iterates_and_eval_does_not():
    m = parametrizations.spectral_norm(_linear())
    sn = m.parametrizations.weight[0]
    W = m.parametrizations.weight.original.numpy()
    u0, v0 = sn._u.numpy().copy(), sn._v.numpy().copy()
    _ = m.weight  # one training-mode read: one step, u first
    u1, v1 = _power_step(W, u0, v0, u_first=True)
    np.testing.assert_allclose(sn._u.numpy(), u1, rtol=1e-12)
    np.testing.assert_allclose(sn._v.numpy(), v1, rtol=1e-12)
    m.eval()
    u_before, v_before = sn._u.numpy().copy(), sn._v.numpy().copy()
    first, second = m.weight.numpy(), m.weight.numpy()
    np.testing.assert_array_equal(sn._u.numpy(), u_before)
    np.testing.assert_array_equal(sn._v.numpy(), v_before)
    np.testing.assert_array_equal(first, second)


def test_spectral_norm_dims_vectors_and_errors():
    conv_t = nn.ConvTranspose2d(3, 5, 2)  # weight (3, 5, 2, 2): dim defaults to 1
    parametrizations.spectral_norm(conv_t)
    assert conv_t.parametrizations.weight[0]._u.shape == (5,) and conv_t.parametrizations.weight[0]._v.shape == (12,)
    conv = nn.Conv2d(3, 5, 2)
    parametrizations.spectral_norm(conv)
    assert conv.parametrizations.weight[0]._u.shape == (5,)
    m = nn.Linear(3, 4).double()
    parametrizations.spectral_norm(m, "bias")  # 1-D: b / ||b||
    b = m.parametrizations.bias.original.numpy()
    np.testing.assert_allclose(m.bias.numpy(), b / np.linalg.norm(b), rtol=1e-14)
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        parametrizations.spectral_norm(nn.Linear(3, 4), "nothing")


def test_spectral_norm_state_dict_round_trip():
    src = parametrizations.spectral_norm(_linear(seed=0)).eval()
    dst = parametrizations.spectral_norm(_linear(seed=5)).eval()
    dst.load_state_dict(src.state_dict())
    x = tn.randn(2, 3, dtype=tn.float64)
    np.testing.assert_array_equal(dst(x).numpy(), src(x).numpy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_spectral_norm_gradcheck(backend):
    """In eval mode u, v are constants: d/dW of W / (u^T W v), checked with central differences."""
    with tn.use_backend(backend):
        m = parametrizations.spectral_norm(_linear()).eval()
        w = m.parametrizations.weight.original.detach().clone().requires_grad_()
        x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True)

        def f(w, x):
            return functional_call(m, {"parametrizations.weight.original": w}, (x,))
        assert tn.gradcheck(f, w, x)
        assert tn.gradgradcheck(f, w, x)


def test_old_spectral_norm_keys_iteration_and_removal():
    m = _linear()
    W = m.weight.numpy().copy()
    nn.utils.spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_u", "weight_v"]
    u0, v0 = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    x = tn.randn(2, 3, dtype=tn.float64)
    m(x)  # training mode: one step, v first
    u1, v1 = _power_step(W, u0, v0, u_first=False)
    np.testing.assert_allclose(m.weight_u.numpy(), u1, rtol=1e-12)
    np.testing.assert_allclose(m.weight_v.numpy(), v1, rtol=1e-12)
    np.testing.assert_allclose(m.weight.numpy(), W / (u1 @ W @ v1), rtol=1e-13)
    m.eval()
    m(x)
    np.testing.assert_array_equal(m.weight_u.numpy(), u1)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.numpy(), W / (u1 @ W @ v1), rtol=1e-13)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_spectral_norm_gradcheck(backend):
    with tn.use_backend(backend):
        m = nn.utils.spectral_norm(_linear()).eval()
        w = m.weight_orig.detach().clone().requires_grad_()
        x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True)
        assert tn.gradcheck(lambda w, x: functional_call(m, {"weight_orig": w}, (x,)), w, x)
