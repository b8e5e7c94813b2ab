"""Assertions: gradients against central differences, and the two backends against each other."""
import contextlib

import numpy as np

from .. import backend as _backend
from ..backend import reference
from ..gradcheck import gradcheck
from ..tensor import Tensor


def assert_gradients_match(fn, *inputs, eps=1e-6, atol=1e-8, rtol=1e-6):
    """Assert that d <w, fn(*inputs)> / d x analytic == <w, f(x+eps) - f(x-eps)> / 2 eps for every
    input x that requires a gradient (in float64; w seeded random weights on the outputs, as in
    `tn.gradcheck`). Raises GradcheckError naming the input, the
    index and both values. Tighter than `tn.gradcheck`'s PyTorch defaults: central differences
    in float64 are good to ~1e-9 relative at eps = 1e-6, so a backward 1e-5 relatively wrong fails."""
    return gradcheck(fn, *inputs, eps=eps, atol=atol, rtol=rtol)


# Float32 agreement of the two backends, per kernel the compiled backend implements itself, from
# its error bound: in units of eps of each value, plus as many of the largest magnitude the kernel
# meets (a cancellation inside its formula rounds on that scale). GEMM (matmul, linear,
# linear_backward) has no bound relative to its result: within k u (|A| |B|)_ij of the exact product.
ULPS = {
    # the same IEEE operations in the same order on both backends: bit for bit
    "add": 0, "subtract": 0, "multiply": 0, "relu": 0, "relu_backward": 0, "same_layout": 0, "broadcast_to": 0,
    "activation": 0,
    # exp by the kernels' polynomial (<= 1 ulp, kernels/elementwise.h), then a few roundings;
    # NumPy's exp and tanh are within 1 ulp
    "sigmoid": 8, "sigmoid_backward": 8, "tanh": 8, "tanh_backward": 8,
    # a max, exp, a sum of up to C terms and a log or a division: 16 covers C <= 16 (the tests' sizes)
    "softmax": 16, "softmax_backward": 16, "log_softmax": 16, "log_softmax_backward": 16,
    "cross_entropy": 16, "cross_entropy_backward": 16,
}


def own_kernels():
    """The kernel names the compiled backend implements itself (not with the reference's function)."""
    compiled = _backend._load("cython")
    return frozenset(n for n in _backend.KERNELS if getattr(compiled, n) is not getattr(reference, n))


class _Recorder:
    """Stands in for the active backend and notes each kernel name an op asks it for."""

    def __init__(self, module):
        self.module, self.names = module, set()

    def __getattr__(self, name):
        self.names.add(name)
        return getattr(self.module, name)


def kernels_called(fn, *inputs):
    """The kernel names fn(*inputs) and its backward ask the active backend for."""
    recorder, saved = _Recorder(_backend.active), _backend.active
    _backend.active = recorder
    try:
        _run(fn, inputs, None)
    finally:
        _backend.active = saved
    return frozenset(recorder.names)


def _run(fn, inputs, name):
    with _backend.use_backend(name) if name else contextlib.nullcontext():
        tensors = [Tensor(t._data.copy(), requires_grad=t.requires_grad) if isinstance(t, Tensor) else t for t in inputs]
        out = fn(*tensors)
        grads = []
        if out.requires_grad:
            seed = np.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape) if out.numel() else np.zeros(out.shape, out.dtype)
            out.backward(seed)
            grads = [t.grad for t in tensors if isinstance(t, Tensor) and t.requires_grad]
    return out._data, grads


def assert_backends_match(fn, *inputs, rtol=None, atol=None, ulps=None, backends=("numpy", "cython")):
    """Assert that fn(*inputs) and its input gradients agree between two backends; returns the
    names of the compiled backend's own kernels it ran (ValueError if none: the two sides would
    run the same code, a comparison that cannot fail).

    Values match when |a - b| <= atol + rtol |b| (NaN matching NaN). Defaults: float64
    rtol = atol = 1e-10; float32 rtol = ulps eps and atol = ulps eps max(1, |inputs|, |output|),
    with `ulps` from ULPS for the kernels fn runs (say it for the GEMM family, whose bound is not
    relative to its result)."""
    available = _backend.available()
    names = [b for b in backends if b in available]
    if len(names) < 2:
        raise RuntimeError(f"assert_backends_match: needs backends {backends}, only {available} are available")
    with _backend.use_backend(names[1]):
        ran = kernels_called(fn, *inputs) & own_kernels()
    if not ran:
        raise ValueError("assert_backends_match: fn runs no kernel the compiled backend implements itself, so both "
                         "backends would run the same code; check it once, directly")
    dtypes = {t.dtype for t in inputs if isinstance(t, Tensor)}
    if ulps is None and np.dtype(np.float32) in dtypes and not ran - ULPS.keys():
        ulps = max(ULPS[k] for k in ran)
    ref_value, ref_grads = _run(fn, inputs, names[0])
    value, grads = _run(fn, inputs, names[1])
    if ulps is not None:  # the absolute part: ulps of the largest magnitude a kernel meets (input, output, gradient 1)
        scale = max([1.0] + [float(np.max(np.abs(a), initial=0, where=np.isfinite(a)))
                             for a in [ref_value] + [t._data for t in inputs if isinstance(t, Tensor)]])
        eps = float(np.finfo(np.float32).eps)
        rtol, atol = (ulps * eps if rtol is None else rtol), (ulps * eps * scale if atol is None else atol)
    _assert_close("value", value, ref_value, rtol, atol)
    if len(grads) != len(ref_grads):
        raise AssertionError(f"backends disagree on which inputs get gradients: {len(grads)} vs {len(ref_grads)}")
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        if (g is None) != (r is None):
            raise AssertionError(f"gradient of input {i}: one backend gave None")
        if g is not None:
            _assert_close(f"gradient of input {i}", g, r, rtol, atol)
    return sorted(ran)


def _assert_close(what, actual, expected, rtol, atol):
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        raise AssertionError(f"{what}: shape/dtype {actual.shape} {actual.dtype} vs reference {expected.shape} {expected.dtype}")
    if actual.dtype == np.float32 and (rtol is None or atol is None):
        raise ValueError(f"assert_backends_match: {what}: no float32 error bound in ULPS for these kernels; give ulps")
    tol = 1e-10
    np.testing.assert_allclose(actual, expected, rtol=tol if rtol is None else rtol, atol=tol if atol is None else atol,
                               equal_nan=True, err_msg=what)
