"""Fuzzing the public ops: Tensors of random dtypes, shapes, layouts and special values through
every public op, on the compiled backend against the NumPy reference backend (values and, for
float inputs, gradients). Each call either gives the reference's answer (NaN where it has NaN) or
raises TypeError / ValueError / IndexError on both backends. Also hypothesis-drawn random graphs
over special values. See tests/helpers/fuzzing.py; TINYNN_FUZZ_CASES=N runs N cases per test."""
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
    "sum": lambda x, p: x.sum(axis=p), "mean": lambda x, p: x.mean(axis=p), "max": lambda x, p: x.amax(axis=p),
    "min": lambda x, p: x.amin(dim=p, keepdims=True), "softmax": lambda x, p: x.softmax(axis=-1 if p is None else p),
    "log_softmax": lambda x, p: x.log_softmax(axis=-1 if p is None else p), "reshape": lambda x, p: x.reshape(-1),
    "transpose": lambda x, p: x.transpose(), "flatten": lambda x, p: x.flatten(), "index": lambda x, p: x[p],
    "argmax": lambda x, p: x.argmax(axis=p), "gt": lambda x, p: x > 0.5,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "power": lambda a, b: a ** b, "matmul": lambda a, b: a @ b, "where": lambda a, b: tn.where(a > b, a, b),
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


def evaluate(backend, fn, arrays, absolute=False):
    """(value, grads) or the exception, on one backend; inputs are fresh Tensors each time.
    absolute: run a + b instead of fn (the magnitude of a - b)."""
    with tn.use_backend(backend):
        try:
            ts = [tn.Tensor(np.array(a), requires_grad=a.dtype.kind == "f") for a in arrays]
        except ALLOWED as exc:
            return exc
        try:
            out = ts[0] + ts[1] if absolute else fn(ts)
            grads = None
            if out.requires_grad:
                out.backward(np.ones(out.shape, dtype=out.dtype))
                grads = [t.grad for t in ts]
            return out.numpy(), grads
        except ALLOWED as exc:
            return exc


# ---------------------------------------------------------------- error bounds, per element
# A float result is checked element by element against the reference backend's (same dtype) with
# tol = C eps mag + C tiny, from the op's documented error bound (eps, tiny: of the result's dtype):
# - sums and products (add, sub, mul, pow = x ** 2, sum, mean, matmul and the gradients they record,
#   which sum over broadcast axes): the standard bound of a floating-point sum of n terms,
#   |fl(s) - s| <= n eps sum |terms|, so mag = the same op on |x| in float64 and C = the longest
#   sum + 2 (the reduced count; k for matmul; the broadcast factor for a gradient);
# - elementwise functions: C ulps of the float64 result (ULPS: 1 for the correctly rounded
#   IEEE operations, 4 for NumPy's exp / log / pow and the kernels' polynomial sigmoid / tanh);
#   sigmoid's and tanh's gradients g y (1 - y), g (1 - y^2) also carry y's error into 1 - y;
# - softmax, log_softmax: a row sum of n exponentials, C = n + 4, over the terms' magnitudes;
# - selections and copies (abs, neg, relu, clip, max, min, index, shape ops, where, stack,
#   concatenate): the result is one of the inputs, so C = 1 ulp of the result.
# Non-finite values: see fz.assert_within_bound (NaN where the float64 reference is NaN, the same
# infinity where it is inf, anything non-finite only where the bound's magnitude may overflow).
SUMS = {"add", "sub", "mul", "pow", "sum", "mean", "matmul"}
ULPS = {"exp": 4, "log": 4, "sqrt": 1, "rpow": 4, "power": 4, "rdiv": 1, "div": 1, "sigmoid": 4, "tanh": 4}
SOFTMAX = {"softmax", "log_softmax"}


def _abs_inputs(arrays):
    """Inputs for the magnitude run: |x| of the finite values in float64 (ints stay ints)."""
    return [np.abs(fz.finite_part(a)) if a.dtype.kind == "f" else a for a in arrays]


def _bounds(name, fn, param, arrays, want, r64):
    """(C, value magnitude, [grad magnitudes], overflow masks for value and grads)."""
    value, grads = want
    out64, grads64 = r64
    sizes = [max(a.size, 1) for a in arrays]
    if name in SUMS:
        mag_value, mag_grads = evaluate("numpy", fn, _abs_inputs(arrays),
                                        absolute=name == "sub")
        reduced = max(sizes) // max(np.size(value), 1) if name in ("sum", "mean") else 1
        k = arrays[0].shape[-1] if name == "matmul" and arrays[0].ndim else 1
        c = reduced + k + max(sizes) // min(sizes) + 2
        mags = [np.abs(np.asarray(mag_value, np.float64))] + [None if g is None else np.abs(np.asarray(g, np.float64))
                                                               for g in (mag_grads or [])]
        return c, mags, mags
    with np.errstate(all="ignore"):
        av = np.abs(fz.finite_part(out64))
        ag = [None if g is None else np.abs(fz.finite_part(g)) for g in (grads64 or [])]
        if name in SOFTMAX:
            axis = -1 if param is None else param
            x = fz.finite_part(arrays[0])
            n = arrays[0].shape[axis] if arrays[0].ndim else 1
            spread = 2 * fz.finite_max(x, axis=axis, keepdims=True) + np.log(max(n, 1)) + 1
            if name == "log_softmax":      # (x - m) - log sum e^(x - m): the error of x - m and of log S
                mag_v = av + spread
                mag_g = [None if g is None else 1 + np.exp(-av) * n for g in ag]
            else:                          # y (g - sum g y): |y| (1 + sum |y|)
                mag_v = av
                mag_g = [None if g is None else av * (1 + np.sum(av, axis=axis, keepdims=True)) for g in ag]
            over = fz.may_overflow(spread, arrays[0].dtype if arrays[0].dtype.kind == "f" else fz.F64)
            return n + 4, [mag_v] + mag_g, [over] + [over for _ in mag_g]
        c = ULPS.get(name, 1)
        mag_g = list(ag)
        if name in ("sigmoid", "tanh"):   # y's own error enters 1 - y (or 1 - y^2): |y| (1 + |y|) per unit g
            mag_g = [None if g is None else g + av * (1 + av) for g in ag]
        mags = [av] + mag_g
        return c + 2, mags, mags


def check(name, arrays, got, want, r64=None, fn=None, param=None):
    if isinstance(want, Exception) or isinstance(got, Exception):
        if isinstance(want, Exception) and isinstance(got, Exception):
            return "refused"
        raise Mismatch(f"{name}: cython {'raised ' + repr(got) if isinstance(got, Exception) else 'returned'} but "
                       f"numpy {'raised ' + repr(want) if isinstance(want, Exception) else 'returned'}")
    if (got[1] is None) != (want[1] is None):
        raise Mismatch(f"{name}: only one backend recorded a graph")
    for k, (g, w) in enumerate(zip(got[1] or [], want[1] or [])):
        if (g is None) != (w is None):
            raise Mismatch(f"{name}: gradient {k} is None on one backend only")
    pairs = [("value", got[0], want[0])] + [(f"grad {k}", g, w) for k, (g, w) in enumerate(zip(got[1] or [], want[1] or []))]
    if got[0].dtype.kind != "f" or any(np.asarray(w).dtype.kind not in "f" for _, _, w in pairs if w is not None):
        for what, g, w in pairs:   # ints, bool, complex, object: both backends give the same values exactly
            if w is not None:
                fz.assert_matches(f"{name} {what}", g, w, rtol=0)
        return "ok"
    if r64 is None or isinstance(r64, Exception):
        r64 = want
    c, mags, overflow_mags = _bounds(name, fn, param, arrays, want, r64)
    refs64 = [r64[0]] + list(r64[1] or [])
    for (what, g, w), mag, om, ref64 in zip(pairs, mags, overflow_mags, refs64):
        if w is None:
            continue
        dtype = np.asarray(w).dtype
        e, tiny = fz.eps(dtype), float(np.finfo(dtype).tiny)
        with np.errstate(all="ignore"):
            tol = c * e * np.broadcast_to(mag, np.shape(w)) + c * tiny
            over = om if om is not None and np.asarray(om).dtype == bool else fz.may_overflow(mag * (1 + c * e), dtype)
        fz.assert_within_bound(f"{name} {what}", g, w, ref64, tol, np.broadcast_to(over, np.shape(w)))
    return "ok"


def reference64(fn, arrays):
    """(value, grads) on the reference backend with the float inputs in float64."""
    return evaluate("numpy", fn, [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])


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
                r64 = None if isinstance(want, Exception) else reference64(fn, arrays)
                outcomes[check(name, arrays, got, want, r64, fn, param)] += 1
                fz.assert_unchanged(name, arrays, saved)
            except Exception as exc:
                raise AssertionError(f"ops chunk={chunk} i={i}: {name}({fz.describe(arrays)}, param={param!r})\n"
                                     f"  -> {type(exc).__name__}: {exc}") from exc
    fz.COUNTS["public ops"] += n
    assert outcomes["ok"] > 0


GRAPH_ULPS = 2 ** 16


def check_graph(what, got, want):
    """A graph of up to 6 ops, each within a few ulps of its intermediate values, whose errors the
    graph may amplify: per element, GRAPH_ULPS ulps of the computation's scale (the largest finite
    value among the output and the gradients, at least the inputs' 3) plus the element itself; the
    non-finite rules of fz.assert_within_bound with the reference (already float64) as r64."""
    if isinstance(want, Exception) or isinstance(got, Exception):
        check(what, [], got, want)
        return
    pairs = [("value", got[0], want[0])] + [(f"grad {k}", g, w) for k, (g, w) in enumerate(zip(got[1] or [], want[1] or []))]
    scale = max([3.0] + [fz.finite_max(w) for _, _, w in pairs if w is not None])
    for name, g, w in pairs:
        if (g is None) != (w is None):
            raise Mismatch(f"{what}: {name} is None on one backend only")
        if w is not None:
            with np.errstate(all="ignore"):
                tol = GRAPH_ULPS * fz.eps(w.dtype) * (scale + np.abs(fz.finite_part(w)))
            fz.assert_within_bound(f"{what} {name}", g, w, w, tol, np.zeros(np.shape(w), bool))


@given(graphs(min_value=-3, max_value=3, max_ops=6, num_inputs=(1, 3)))
def test_random_graphs_with_special_values_agree_across_backends(graph_and_inputs):
    """Drawn float64 graphs whose inputs also hold NaN / inf / denormals: both backends agree, element
    by element (values near overflow are fuzzed op by op above, where each op's bound is known)."""
    graph, inputs = graph_and_inputs
    specials = np.array([np.nan, np.inf, -np.inf, 5e-324, -0.0, 0.0])
    arrays = []
    for k, t in enumerate(inputs):
        a = t.numpy().copy()
        if a.size:
            a.reshape(-1)[k % a.size] = specials[(k + a.size) % len(specials)]
        arrays.append(a)
    with fz.quiet():
        want = evaluate("numpy", lambda ts: graph(*ts), arrays)
        got = evaluate("cython", lambda ts: graph(*ts), arrays)
        check_graph(repr(graph), got, want)
    fz.COUNTS["random graphs (special values)"] += 1


def test_int_and_float16_tensors_work_on_both_backends():
    """Regression (found by the fuzzer): the compiled backend sent ints/float16 to the float-only
    kernels (TypeError) where the reference computes them."""
    for data in (np.arange(-2, 3), np.array([0.5, -1.0], np.float16), np.array([[3, 1]], np.int8)):
        results = []
        for name in ("numpy", "cython"):
            with tn.use_backend(name):
                t = tn.tensor(data)
                floating = t if t.dtype.kind == "f" else t.float()   # softmax of an integer tensor is refused, as in PyTorch
                results.append([t.relu().numpy(), t.sigmoid().numpy(), t.tanh().numpy(), floating.reshape(1, -1).softmax().numpy()])
        for a, b in zip(*results):
            np.testing.assert_allclose(b, a, rtol=1e-3)
            assert a.dtype == b.dtype
