"""Fused optimizer updates (kernels.sgd_step / adam_step and the *_multi forms) against reference."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.backend import reference as ref

kernels = pytest.importorskip("tinynn.kernels")
DTYPES = (np.float32, np.float64)
SIZES = (0, 1, 7, 9, 17, 1025, (1 << 17) + 5)


@pytest.fixture(params=kernels.simd_paths())
def simd(request):
    previous = kernels.set_simd(request.param)
    yield request.param
    kernels.set_simd(previous)


def close(a, b):
    eps = np.finfo(a.dtype).eps
    np.testing.assert_allclose(a, b, rtol=8 * eps, atol=8 * eps)


def arrays(n, dtype, rng, count):
    return [rng.standard_normal(n).astype(dtype) for _ in range(count)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum,dampening,wd,nesterov", [(0.0, 0.0, 0.0, False), (0.9, 0.0, 0.0, False),
                                                             (0.9, 0.1, 1e-2, False), (0.9, 0.0, 1e-2, True)])
def test_sgd_matches_reference_over_steps(simd, dtype, momentum, dampening, wd, nesterov):
    rng = np.random.default_rng(0)
    for n in SIZES:
        p, b = arrays(n, dtype, rng, 2)
        p2, b2 = p.copy(), b.copy()
        for step in range(3):
            g = rng.standard_normal(n).astype(dtype)
            keep = g.copy()
            ref.sgd_step(p, g, b if momentum else None, 0.1, momentum, dampening, wd, nesterov, step == 0)
            kernels.sgd_step(p2, g, b2 if momentum else None, 0.1, momentum, dampening, wd, nesterov, step == 0)
            np.testing.assert_array_equal(g, keep)
            close(p2, p)
            close(b2, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wd,decoupled", [(0.0, False), (1e-2, False), (1e-2, True)])
def test_adam_matches_reference_over_steps(simd, dtype, wd, decoupled):
    rng = np.random.default_rng(1)
    for n in SIZES:
        p = rng.standard_normal(n).astype(dtype)
        m, v = np.zeros(n, dtype), np.zeros(n, dtype)
        p2, m2, v2 = p.copy(), m.copy(), v.copy()
        for step in range(1, 4):
            g = rng.standard_normal(n).astype(dtype)
            ref.adam_step(p, g, m, v, step, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled)
            kernels.adam_step(p2, g, m2, v2, step, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled)
            close(p2, p)
            close(m2, m)
            close(v2, v)


def test_non_contiguous_grad_and_2d_params(simd):
    rng = np.random.default_rng(2)
    p = rng.standard_normal((5, 7)).astype(np.float32)
    g = rng.standard_normal((7, 5)).astype(np.float32).T
    p2 = p.copy()
    ref.sgd_step(p, g, None, 0.1, 0.0, 0.0, 0.0, False, True)
    kernels.sgd_step(p2, g, None, 0.1, 0.0, 0.0, 0.0, False, True)
    close(p2, p)


def test_multi_tensor_forms_match_reference():
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4,), (17,), ()]
    ps = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    gs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ms, vs = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    ps2, ms2, vs2 = [p.copy() for p in ps], [m.copy() for m in ms], [v.copy() for v in vs]
    ref.adam_step_multi(ps, gs, ms, vs, 1, 1e-3, 0.9, 0.999, 1e-8, 0.01, True)
    kernels.adam_step_multi(ps2, gs, ms2, vs2, 1, 1e-3, 0.9, 0.999, 1e-8, 0.01, True)
    for a, b in zip(ps2 + ms2 + vs2, ps + ms + vs):
        close(a, b)
    bs, bs2 = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    ref.sgd_step_multi(ps, gs, bs, 0.1, 0.9, 0.0, 0.0, True, True)
    kernels.sgd_step_multi(ps2, gs, bs2, 0.1, 0.9, 0.0, 0.0, True, True)
    for a, b in zip(ps2 + bs2, ps + bs):
        close(a, b)
    with pytest.raises(ValueError, match="length"):
        kernels.adam_step_multi(ps, gs[:1], ms, vs, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)


def test_threaded_update(simd):
    before = tn.get_num_threads()
    try:
        tn.set_num_threads(2)
        test_adam_matches_reference_over_steps(simd, np.float32, 1e-2, True)
    finally:
        tn.set_num_threads(before)


def test_bad_inputs():
    p = np.zeros(4, np.float32)
    g = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="contiguous"):
        kernels.sgd_step(np.zeros(8, np.float32)[::2], g, None, 0.1, 0.0, 0.0, 0.0, False, True)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels.sgd_step(ro, g, None, 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="read-only"):
        kernels.adam_step(p, g, ro, np.zeros(4, np.float32), 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(TypeError, match="float64"):
        kernels.sgd_step(p, g.astype(np.float64), None, 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="shape"):
        kernels.sgd_step(p, np.ones(5, np.float32), None, 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="momentum_buffer"):
        kernels.sgd_step(p, g, None, 0.1, 0.9, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="step"):
        kernels.adam_step(p, g, np.zeros(4, np.float32), np.zeros(4, np.float32), 0, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(TypeError):
        kernels.sgd_step(p.astype(np.int32), g, None, 0.1, 0.0, 0.0, 0.0, False, True)


def test_non_native_byte_order_grad_is_refused_not_misread():
    """A byte-swapped float32 grad once passed the fast path's type-number check and was read as
    native floats; now it is refused with a TypeError naming its dtype (param untouched)."""
    p = np.zeros(5, np.float32)
    g = np.ones(5, np.float32).astype(">f4")
    for call in (lambda: kernels.sgd_step(p, g, None, 0.1, 0.0, 0.0, 0.0, False, False),
                 lambda: kernels.sgd_step_multi([p], [g], None, 0.1, 0.0, 0.0, 0.0, False, False)):
        with pytest.raises(TypeError, match=">f4"):
            call()
    np.testing.assert_array_equal(p, 0)
