"""A fused Linear+activation gives the same bits as the Linear followed by the activation.

The GEMM epilogue (kernels/gemm/gemm_real.h) calls the standalone activation kernels' own
compiled code (kernels/common/activations.h), so y = act(x W^T + b) must be bit-identical
whether act runs inside the GEMM's write or as a second kernel over its result: on every
SIMD path this CPU runs, in float32 and float64, on the direct small-product path and the
blocked path (one and two threads, k over one KC block), and through the public API
(nn.Sequential(Linear, Sigmoid) fuses; F.sigmoid(F.linear(...)) does not) on every backend."""
import contextlib

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

ACTIVATIONS = ("relu", "sigmoid", "tanh")
MODULES = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
# (m, n, k, threads): 5x37x19 and 1x1x1 fit the direct path; 13x45x300 has k over one KC block
# (256); 128^3 and 256^3 on two threads take the grid and the shared-panel parallel paths.
SHAPES = [(5, 37, 19, 1), (1, 1, 1, 1), (4, 16, 0, 1), (13, 45, 300, 1), (128, 128, 128, 2), (256, 256, 256, 2)]


def _kernels():
    try:
        from tinynn import kernels
    except ImportError:
        return None
    return kernels


KERNELS = _kernels()


def simd_paths():
    """Every SIMD path this CPU (and build) can run: portable, avx2, avx512 where present."""
    return [] if KERNELS is None else KERNELS.simd_paths()


@contextlib.contextmanager
def gemm_path(simd, blocked):
    """Run the block on SIMD path `simd`, on the blocked GEMM only if `blocked`."""
    previous_simd = KERNELS.set_simd(simd)
    previous_max = KERNELS._set_gemm_direct_max(0) if blocked else None
    try:
        yield
    finally:
        KERNELS.set_simd(previous_simd)
        if blocked:
            KERNELS._set_gemm_direct_max(previous_max)


def operands(m, n, k, dtype, seed=0):
    """x, W, b with values that reach both branches of sigmoid and tanh (|v| < 0.55 and
    beyond, saturation), and a few special values in x."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((m, k)) * 2).astype(dtype)
    w = (rng.standard_normal((n, k)) / max(1, np.sqrt(k)) * 3).astype(dtype)
    b = (rng.standard_normal(n) * 2).astype(dtype)
    if m * k >= 4:
        x.flat[:4] = [np.inf, -np.inf, np.nan, 40.0]
    return x, w, b


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    uint = np.uint32 if a.dtype == np.float32 else np.uint64
    bad = np.flatnonzero(a.view(uint) != b.view(uint))
    assert bad.size == 0, f"{bad.size} elements differ, first at {bad[0]}: {a.flat[bad[0]]!r} != {b.flat[bad[0]]!r}"


@pytest.mark.skipif(KERNELS is None, reason="the compiled kernels are not built")
@pytest.mark.parametrize("simd", simd_paths())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("blocked", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_kernel_fused_equals_unfused(simd, dtype, shape, blocked, bias):
    m, n, k, threads = shape
    x, w, b = operands(m, n, k, dtype)
    b = b if bias else None
    with gemm_path(simd, blocked):
        linear = KERNELS.linear(x, w, b, "none", num_threads=threads)
        for act in ACTIVATIONS:
            fused = KERNELS.linear(x, w, b, act, num_threads=threads)
            same_bits(fused, getattr(KERNELS, act)(linear))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 37, 19), (13, 45, 300)])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_public_api_fused_equals_unfused(backend_name, dtype, shape, act):
    """nn.Sequential(Linear, Act) runs one fused op; F.act(F.linear(...)) runs two: same bits,
    on every backend, and with the compiled kernels on every SIMD path and both GEMM paths."""
    m, n, k = shape
    x, w, b = operands(m, n, k, dtype, seed=1)
    layer = nn.Linear(k, n).to(dtype)
    layer.weight.numpy()[...] = w
    layer.bias.numpy()[...] = b
    model = nn.Sequential(layer, MODULES[act]())
    xt = tn.tensor(x)
    # (the switches change nothing on the reference backend, which then simply runs four times)
    paths = [(s, blocked) for s in simd_paths() for blocked in (False, True)] or [None]
    for path in paths:
        with gemm_path(*path) if path else contextlib.nullcontext(), np.errstate(invalid="ignore", over="ignore"):
            fused = model(xt).numpy()
            unfused = getattr(F, act)(F.linear(xt, layer.weight, layer.bias)).numpy()
        assert fused.dtype == dtype
        same_bits(fused, unfused)
