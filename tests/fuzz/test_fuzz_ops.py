"""Fuzzing the public ops: Tensors of random dtypes, shapes, layouts and special values through
every public op, on the compiled backend against the NumPy reference backend (values and, for
float inputs, gradients). Each call either gives the reference's answer (NaN where it has NaN) or
raises TypeError / ValueError / IndexError on both backends. Also hypothesis-drawn random graphs
over special values. See tests/fuzzing.py; TINYNN_FUZZ_CASES=N runs N cases per test."""
import numpy as np
import pytest
from hypothesis import given

import tinynn as tn
from tinynn.testing import graphs

from helpers import fuzzing as fz
from helpers.fuzzing import ALLOWED, Mismatch, draw_array, draw_dtype, draw_shape

if "cython" not in tn.backend.available():  # pragma: no cover - CI always builds the kernels
    pytest.skip("the compiled kernels are not built", allow_module_level=True)

CHUNKS = 8
PER_CHUNK = 160


def _axis(rng, nd):
    return None if rng.random() < 0.3 or nd == 0 else int(rng.integers(-nd - (rng.random() < 0.05), nd))


# name: (arity, fn(tensors, rng-drawn params) , params(rng, shapes))
UNARY = {
    "exp": lambda x, p: x.exp(), "log": lambda x, p: x.log(), "sqrt": lambda x, p: x.sqrt(),
    "abs": lambda x, p: x.abs(), "relu": lambda x, p: x.relu(), "sigmoid": lambda x, p: x.sigmoid(),
    "tanh": lambda x, p: x.tanh(), "neg": lambda x, p: -x, "clip": lambda x, p: x.clip(-1.0, 2.0),
    "pow": lambda x, p: x ** 2, "rpow": lambda x, p: 2.0 ** x, "rdiv": lambda x, p: 1.0 / x,
    "sum": lambda x, p: x.sum(axis=p), "mean": lambda x, p: x.mean(axis=p), "max": lambda x, p: x.max(axis=p),
    "min": lambda x, p: x.min(dim=p, keepdims=True), "softmax": lambda x, p: x.softmax(axis=-1 if p is None else p),
    "log_softmax": lambda x, p: x.log_softmax(axis=-1 if p is None else p), "reshape": lambda x, p: x.reshape(-1),
    "transpose": lambda x, p: x.transpose(), "flatten": lambda x, p: x.flatten(), "index": lambda x, p: x[p],
    "argmax": lambda x, p: x.argmax(axis=p), "gt": lambda x, p: x > 0.5,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b, "where": lambda a, b: tn.where(a > b, a, b),
    "concatenate": lambda a, b: tn.concatenate([a, b], axis=-1), "stack": lambda a, b: tn.stack([a, b]),
    "eq": lambda a, b: a == b,
}


def _index(rng, shape):
    kind = rng.random()
    if not shape:
        return ()
    if kind < 0.3:
        return int(rng.integers(-shape[0] - 1, shape[0] + 1))
    if kind < 0.6:
        return slice(int(rng.integers(-3, 3)), None, int((1, -1, 2)[rng.integers(3)]))
    if kind < 0.9:
        return np.array(rng.integers(-shape[0] - 1, shape[0] + 1, size=int(rng.integers(0, 4))))
    return (Ellipsis, 0)


def draw_case(rng):
    if rng.random() < 0.55:
        name = sorted(UNARY)[rng.integers(len(UNARY))]
        x = draw_array(rng, draw_shape(rng), draw_dtype(rng, 0.8))
        param = _index(rng, x.shape) if name == "index" else _axis(rng, x.ndim)
        return name, (lambda ts: UNARY[name](ts[0], param)), [x], param
    name = sorted(BINARY)[rng.integers(len(BINARY))]
    shape = draw_shape(rng)
    other = shape if rng.random() < 0.5 else (shape[-1:] if rng.random() < 0.5 else draw_shape(rng))
    if name == "matmul":
        k = fz.draw_side(rng)
        shape, other = draw_shape(rng, 0, 1) + (fz.draw_side(rng), k), (k if rng.random() < 0.9 else k + 1, fz.draw_side(rng))
    dtype = draw_dtype(rng, 0.8)
    a = draw_array(rng, shape, dtype)
    b = draw_array(rng, other, dtype if rng.random() < 0.85 else draw_dtype(rng, 0.8))
    return name, (lambda ts: BINARY[name](ts[0], ts[1])), [a, b], None


def evaluate(backend, fn, arrays):
    """(value, grads) or the exception, on one backend; inputs are fresh Tensors each time."""
    with tn.use_backend(backend):
        try:
            ts = [tn.Tensor(np.array(a), requires_grad=a.dtype.kind == "f") for a in arrays]
        except ALLOWED as exc:
            return exc
        try:
            out = fn(ts)
            grads = None
            if out.requires_grad:
                out.backward(np.ones(out.shape, dtype=out.dtype))
                grads = [t.grad for t in ts]
            return out.numpy(), grads
        except ALLOWED as exc:
            return exc


def check(name, arrays, got, want):
    if isinstance(want, Exception) or isinstance(got, Exception):
        if isinstance(want, Exception) and isinstance(got, Exception):
            return "refused"
        raise Mismatch(f"{name}: cython {'raised ' + repr(got) if isinstance(got, Exception) else 'returned'} but "
                       f"numpy {'raised ' + repr(want) if isinstance(want, Exception) else 'returned'}")
    dtype = got[0].dtype
    rtol = fz.tolerance(dtype, 1e-4, 1e-9) if dtype.kind == "f" else 0
    loose = fz.nonfinite_rows(*[a.astype(np.float64) for a in arrays if a.dtype.kind in "fiub"]) \
        if all(a.dtype.kind in "fiub" for a in arrays) else True
    scale = max([fz.finite_max(a) for a in arrays if a.dtype.kind in "fiub"] + [1.0])
    atol = rtol * scale * scale * 64
    fz.assert_matches(f"{name} value", got[0], want[0], rtol=rtol, atol=atol, overflow_ok=True,
                      loose=True if np.ndim(loose) > np.ndim(got[0]) else np.any(loose))
    if (got[1] is None) != (want[1] is None):
        raise Mismatch(f"{name}: only one backend recorded a graph")
    for k, (g, w) in enumerate(zip(got[1] or [], want[1] or [])):
        if (g is None) != (w is None):
            raise Mismatch(f"{name}: gradient {k} is None on one backend only")
        if g is not None:
            fz.assert_matches(f"{name} grad {k}", g, w, rtol=rtol, atol=atol, overflow_ok=True, loose=np.any(loose))
    return "ok"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_public_ops(chunk):
    n = (fz.case_count() // CHUNKS) if fz.case_count() else PER_CHUNK
    outcomes = {"ok": 0, "refused": 0}
    with fz.quiet():
        for i in range(n):
            rng = np.random.default_rng([chunk, i, 7])
            name, fn, arrays, param = draw_case(rng)
            saved = fz.snapshot(arrays)
            try:
                want = evaluate("numpy", fn, arrays)
                got = evaluate("cython", fn, arrays)
                outcomes[check(name, arrays, got, want)] += 1
                fz.assert_unchanged(name, arrays, saved)
            except Exception as exc:
                raise AssertionError(f"ops chunk={chunk} i={i}: {name}({fz.describe(arrays)}, param={param!r})\n"
                                     f"  -> {type(exc).__name__}: {exc}") from exc
    fz.COUNTS["public ops"] += n
    assert outcomes["ok"] > 0


@given(graphs(min_value=-3, max_value=3, max_ops=6, num_inputs=(1, 3)))
def test_random_graphs_with_special_values_agree_across_backends(graph_and_inputs):
    """Drawn graphs whose inputs also hold NaN / inf / 1e38 / denormals: both backends agree."""
    graph, inputs = graph_and_inputs
    specials = np.array([np.nan, np.inf, -np.inf, 1e38, -1e38, 5e-324, 0.0])
    arrays = []
    for k, t in enumerate(inputs):
        a = t.numpy().copy()
        if a.size:
            a.reshape(-1)[k % a.size] = specials[(k + a.size) % len(specials)]
        arrays.append(a)
    with fz.quiet():
        want = evaluate("numpy", lambda ts: graph(*ts), arrays)
        got = evaluate("cython", lambda ts: graph(*ts), arrays)
        check(repr(graph), arrays, got, want)
    fz.COUNTS["random graphs (special values)"] += 1


def test_int_and_float16_tensors_work_on_both_backends():
    """Regression (found by the fuzzer): the compiled backend sent ints/float16 to the float-only
    kernels (TypeError) where the reference computes them."""
    for data in (np.arange(-2, 3), np.array([0.5, -1.0], np.float16), np.array([[3, 1]], np.int8)):
        results = []
        for name in ("numpy", "cython"):
            with tn.use_backend(name):
                t = tn.tensor(data)
                results.append([t.relu().numpy(), t.sigmoid().numpy(), t.tanh().numpy(), t.reshape(1, -1).softmax().numpy()])
        for a, b in zip(*results):
            np.testing.assert_allclose(b, a, rtol=1e-3)
            assert a.dtype == b.dtype
