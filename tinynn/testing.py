"""Testing tools for tinynn's own suite and for other people's property tests.

    from tinynn.testing import (assert_gradients_match, assert_backends_match, arrays, tensors,
                                broadcastable_shapes, graphs, layouts, as_layout)

Assertions (no hypothesis needed):
- `assert_gradients_match(fn, *inputs)`: analytic gradients vs central differences in float64,
  tight enough to catch a backward 1e-5 relatively wrong; a failure names the input, the index
  and both values.
- `assert_backends_match(fn, *inputs)`: values and gradients on the reference ("numpy") and the
  compiled ("cython") backend agree (float32 within each kernel's bound in ULPS; NaN matches
  NaN); refuses a function that runs none of the compiled backend's own kernels.
  `own_kernels()`, `kernels_called(fn, *inputs)`: which kernels differ, which a function runs.
- `as_layout(a, layout)`: the same values as `a` in another memory layout (see LAYOUTS).

Hypothesis strategies (hypothesis is imported only when one is called):
- `arrays(dtype, shape, ...)`: ndarrays of chosen dtypes (floats, ints, bool, complex), optionally
  with special values (NaN, +-inf, denormals, huge); `tensors(...)` wraps them in Tensors.
- `broadcastable_shapes(n)`: n shapes that broadcast together.
- `layouts()`: names from LAYOUTS ("C", "F", "sliced", "negative", "misaligned", "readonly", ...).
- `graphs(...)`: a small random computation graph over the differentiable ops: `(fn, inputs)`
  where `fn(*inputs)` replays the drawn program (its repr prints it) on a few leaf Tensors.
  See docs/07-testing.md for examples.
"""
import contextlib

import numpy as np

from . import backend as _backend
from .backend import reference
from .gradcheck import GradcheckError, gradcheck
from .tensor import Tensor


def assert_gradients_match(fn, *inputs, eps=1e-6, atol=1e-8, rtol=1e-6):
    """Assert that d sum(fn(*inputs)) / d x analytic == (f(x+eps) - f(x-eps)) / 2 eps for every
    input x that requires a gradient (in float64). Raises GradcheckError naming the input, the
    index and both values. Tighter than `tn.gradcheck`'s PyTorch defaults: central differences
    in float64 are good to ~1e-9 relative at eps = 1e-6, so a backward 1e-5 relatively wrong fails."""
    return gradcheck(fn, *inputs, eps=eps, atol=atol, rtol=rtol)


# Float32 agreement of the two backends, per kernel the compiled backend implements itself: the
# largest difference, in units of eps, of each value and of the largest value of the output (the
# scale a cancellation inside a kernel's formula rounds on), from each kernel's error bound.
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
# GEMM (matmul, linear, linear_backward): within k u (|A| |B|)_ij of the exact product on each
# backend, which is no bound relative to the result: compared with that bound where tested.


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


def _fresh(inputs):
    return [Tensor(t.data.copy(), requires_grad=t.requires_grad) if isinstance(t, Tensor) else t for t in inputs]


def _run(fn, inputs, name):
    with _backend.use_backend(name) if name else contextlib.nullcontext():
        tensors = _fresh(inputs)
        out = fn(*tensors)
        grads = []
        if out.requires_grad:
            seed = np.linspace(-1, 1, out.size, dtype=out.dtype).reshape(out.shape) if out.size else np.zeros(out.shape, out.dtype)
            out.backward(seed)
            grads = [t.grad for t in tensors if isinstance(t, Tensor) and t.requires_grad]
    return out.data, grads


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
                             for a in [ref_value] + [t.data for t in inputs if isinstance(t, Tensor)]])
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


# ---------------------------------------------------------------- memory layouts
LAYOUTS = ("C", "F", "sliced", "negative", "transposed", "misaligned", "readonly", "broadcast")


def as_layout(a, layout):
    """An array equal to `a` (same shape, dtype, values) stored in another memory layout:

    "C" / "F": contiguous copies; "sliced": every other element of a bigger array along each axis;
    "negative": a view with negative strides; "transposed": a transposed view of a contiguous
    array; "misaligned": data starting at byte offset 1 of a uint8 buffer (not aligned for the
    dtype, legal in NumPy, undefined behaviour for C pointers); "readonly": a read-only copy;
    "broadcast": a zero-stride read-only view where an axis has length 1 (else "C")."""
    a = np.asarray(a)
    if a.ndim == 0 and layout in ("sliced", "negative", "transposed", "broadcast"):
        layout = "C"  # a 0-d array has no strides to play with
    if layout == "C":
        return np.array(a, order="C")
    if layout == "F":
        return np.array(a, order="F")
    if layout == "sliced":
        big = np.zeros(tuple(2 * n + 1 for n in a.shape), dtype=a.dtype)
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if layout == "negative":
        flipped = np.array(a[tuple(slice(None, None, -1) for _ in a.shape)])
        return flipped[tuple(slice(None, None, -1) for _ in a.shape)]
    if layout == "transposed":
        return np.array(a.T, order="C").T
    if layout == "misaligned":
        if a.dtype.hasobject:  # object arrays hold pointers: no raw-buffer views
            return a.copy()
        buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
        view = np.ndarray(a.shape, dtype=a.dtype, buffer=buf, offset=1)
        view[...] = a
        return view
    if layout == "readonly":
        out = a.copy()
        out.flags.writeable = False
        return out
    if layout == "broadcast":
        ones = [i for i, n in enumerate(a.shape) if n == 1]
        if not ones:
            return np.array(a, order="C")
        small = np.array(a, order="C")
        return np.broadcast_to(small, a.shape)  # same shape, zero strides only for the length-1 axes
    raise ValueError(f"as_layout: unknown layout {layout!r}; choose one of {LAYOUTS}")


# ---------------------------------------------------------------- hypothesis strategies
def float_dtypes():
    """Strategy: float32 or float64."""
    from hypothesis import strategies as st

    return st.sampled_from([np.float32, np.float64])


def layouts(names=LAYOUTS):
    """Strategy: a layout name for `as_layout` (default: any of LAYOUTS)."""
    from hypothesis import strategies as st

    return st.sampled_from(tuple(names))


SPECIAL_FLOATS = (np.nan, np.inf, -np.inf, 0.0, -0.0)


def _elements(dt, min_value, max_value, special):
    from hypothesis import strategies as st

    if dt.kind == "f":
        width = {2: 16, 4: 32, 8: 64}[dt.itemsize]
        finfo = np.finfo(dt)
        lo, hi = max(min_value, float(finfo.min)), min(max_value, float(finfo.max))
        base = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=width)
        if not special:
            return base
        extreme = [float(finfo.max), -float(finfo.max), float(finfo.tiny), float(finfo.smallest_subnormal),
                   -float(finfo.smallest_subnormal)]
        if dt.itemsize >= 4:
            extreme += [1e38, -1e38]
        return st.one_of(base, st.sampled_from(SPECIAL_FLOATS + tuple(extreme)))
    if dt.kind == "c":
        part = _elements(np.dtype(f"f{dt.itemsize // 2}"), min_value, max_value, special)
        return st.builds(complex, part, part)
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if special:
            return st.integers(int(info.min), int(info.max))
        return st.integers(int(max(min_value, info.min)), int(min(max_value, info.max)))
    if dt.kind == "O":
        return st.one_of(st.floats(min_value, max_value, allow_nan=False), st.integers(-3, 3))
    raise ValueError(f"arrays: unsupported dtype {dt}")


def arrays(dtype=np.float64, shape=None, min_value=-10.0, max_value=10.0, max_dims=3, max_side=5, min_side=1,
           special=False):
    """Strategy: ndarrays of `dtype` (a dtype or a strategy of dtypes: float16/32/64, signed and
    unsigned ints, bool, complex, object) with values in [min_value, max_value] and a drawn shape
    (or the given one; sides in [min_side, max_side], so min_side=0 allows zero-size arrays).

    special=True also draws NaN, +-inf, +-0.0, denormals, the dtype's extremes and +-1e38 (floats),
    and any value of an integer dtype."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    if shape is None:
        shapes = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side)
    else:
        shapes = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    dtypes = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))

    @st.composite
    def draw(draw_):
        dt = np.dtype(draw_(dtypes))
        shp = draw_(shapes)
        elements = _elements(dt, min_value, max_value, special)
        if dt.kind == "O":
            return np.array(draw_(st.lists(elements, min_size=int(np.prod(shp)), max_size=int(np.prod(shp)))),
                            dtype=object).reshape(shp)
        return draw_(hnp.arrays(dt, shp, elements=elements))

    return draw()


def tensors(dtype=np.float64, shape=None, requires_grad=True, **kwargs):
    """Strategy: Tensors wrapping `arrays(...)` (requires_grad only for float dtypes)."""
    return arrays(dtype, shape, **kwargs).map(lambda a: Tensor(a, requires_grad=requires_grad and a.dtype.kind == "f"))


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4, min_side=1):
    """Strategy: a tuple of `num_shapes` shapes that broadcast together (NumPy's rules)."""
    from hypothesis.extra import numpy as hnp

    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda s: s.input_shapes)


# ---------------------------------------------------------------- random computation graphs
def _ops_table():
    """name -> (arity, apply(tensors, param) -> Tensor, source(names, param) -> str, params(rng, shapes) -> list).

    Every op is one of the public differentiable ops; the few with a restricted domain get their
    argument moved into it (log(x*x + 0.5), x / (y*y + 0.5), ...) so a drawn graph is finite and
    differentiable at generic inputs."""
    from .ops import concatenate, stack, where

    def axis_params(shapes):
        nd = len(shapes[0])
        return [None] + [(a, k) for a in range(-nd, nd) for k in (False, True)] if nd else [None]

    def reduce(method):
        def apply(ts, p):
            return getattr(ts[0], method)() if p is None else getattr(ts[0], method)(axis=p[0], keepdims=p[1])

        def src(ns, p):
            return f"{ns[0]}.{method}()" if p is None else f"{ns[0]}.{method}(axis={p[0]}, keepdims={p[1]})"
        return (1, apply, src, axis_params)

    def unary(expr, fn):
        return (1, lambda ts, p: fn(ts[0]), lambda ns, p: expr.format(*ns), lambda shapes: [None])

    def binary(expr, fn):
        return (2, lambda ts, p: fn(ts[0], ts[1]), lambda ns, p: expr.format(*ns), lambda shapes: [None])

    def last_axes(shapes):
        return list(range(-len(shapes[0]), len(shapes[0])))

    return {
        "neg": unary("-{0}", lambda x: -x),
        "exp": unary("{0}.exp()", lambda x: x.exp()),
        "log": unary("({0} * {0} + 0.5).log()", lambda x: (x * x + 0.5).log()),
        "sqrt": unary("({0} * {0} + 0.5).sqrt()", lambda x: (x * x + 0.5).sqrt()),
        "abs": unary("{0}.abs()", lambda x: x.abs()),
        "relu": unary("{0}.relu()", lambda x: x.relu()),
        "sigmoid": unary("{0}.sigmoid()", lambda x: x.sigmoid()),
        "tanh": unary("{0}.tanh()", lambda x: x.tanh()),
        "clip": unary("{0}.clip(-0.7, 0.8)", lambda x: x.clip(-0.7, 0.8)),
        "square": unary("{0} ** 2", lambda x: x ** 2),
        "rpow": unary("1.5 ** {0}", lambda x: 1.5 ** x),
        "affine": unary("0.5 - 2.0 * {0}", lambda x: 0.5 - 2.0 * x),
        "rdiv": unary("1.0 / ({0} * {0} + 0.5)", lambda x: 1.0 / (x * x + 0.5)),
        "sum": reduce("sum"),
        "mean": reduce("mean"),
        "max": reduce("max"),
        "min": reduce("min"),
        "reshape": unary("{0}.reshape(-1)", lambda x: x.reshape(-1)),
        "transpose": unary("{0}.transpose()", lambda x: x.transpose()),
        "flip": (1, lambda ts, p: ts[0][..., ::-1], lambda ns, p: f"{ns[0]}[..., ::-1]",
                 lambda shapes: [None] if shapes[0] else []),
        "take": (1, lambda ts, p: ts[0][np.array(p)], lambda ns, p: f"{ns[0]}[np.array({p})]",
                 lambda shapes: [sorted({0, shapes[0][0] - 1})] if shapes[0] else []),
        "softmax": (1, lambda ts, p: ts[0].softmax(axis=p), lambda ns, p: f"{ns[0]}.softmax(axis={p})", last_axes),
        "log_softmax": (1, lambda ts, p: ts[0].log_softmax(axis=p), lambda ns, p: f"{ns[0]}.log_softmax(axis={p})",
                        last_axes),
        "add": binary("{0} + {1}", lambda a, b: a + b),
        "sub": binary("{0} - {1}", lambda a, b: a - b),
        "mul": binary("{0} * {1}", lambda a, b: a * b),
        "div": binary("{0} / ({1} * {1} + 0.5)", lambda a, b: a / (b * b + 0.5)),
        "pow": binary("({0} * {0} + 0.5) ** {1}", lambda a, b: (a * a + 0.5) ** b),
        "where": binary("tn.where({0} > {1}, {0}, {1})", lambda a, b: where(a > b, a, b)),
        "matmul": binary("{0} @ {1}", lambda a, b: a @ b),
        "matmul_T": binary("{0} @ {1}.T", lambda a, b: a @ b.T),
        "concatenate": (2, lambda ts, p: concatenate(ts, axis=p), lambda ns, p: f"tn.concatenate([{ns[0]}, {ns[1]}], axis={p})",
                        last_axes),
        "stack": (2, lambda ts, p: stack(ts, axis=p), lambda ns, p: f"tn.stack([{ns[0]}, {ns[1]}], axis={p})",
                  lambda shapes: list(range(len(shapes[0]) + 1))),
    }


KINKED_OPS = frozenset({"abs", "relu", "clip", "max", "min", "where"})
GRAPH_OPS = ("neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "clip", "square", "rpow", "affine",
             "rdiv", "sum", "mean", "max", "min", "reshape", "transpose", "flip", "take", "softmax", "log_softmax",
             "add", "sub", "mul", "div", "pow", "where", "matmul", "matmul_T", "concatenate", "stack")


class Graph:
    """A drawn program over tinynn ops: `graph(*leaves)` replays it and returns the last value.

    `steps` is a list of (op name, argument indices, parameter); value i < len(leaves) is leaf i,
    later values are the steps' outputs. `repr(graph)` prints it as Python source."""

    def __init__(self, n_inputs, steps):
        self.n_inputs, self.steps = n_inputs, list(steps)

    def __call__(self, *leaves):
        if len(leaves) != self.n_inputs:
            raise TypeError(f"Graph: expected {self.n_inputs} inputs, got {len(leaves)}")
        table = _ops_table()
        values = list(leaves)
        for name, args, param in self.steps:
            values.append(table[name][1]([values[i] for i in args], param))
        return values[-1]

    def __repr__(self):
        table = _ops_table()
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"def graph({', '.join(names)}):"]
        for k, (name, args, param) in enumerate(self.steps):
            lines.append(f"    v{k} = {table[name][2]([names[i] for i in args], param)}")
            names.append(f"v{k}")
        lines.append(f"    return {names[-1]}")
        return "\n".join(lines)


def _output_shape(fn, shapes):
    """Shape of fn's result on zero tensors of `shapes`, or None if the op refuses them."""
    import warnings

    from .autograd import no_grad

    try:
        with no_grad(), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn([Tensor(np.zeros(s)) for s in shapes]).shape
    except (ValueError, IndexError, TypeError):
        return None


def graphs(num_inputs=(1, 3), max_ops=5, dtype=np.float64, ops=None, smooth=False, max_dims=3, max_side=4,
           min_value=-1.5, max_value=1.5):
    """Strategy: a small random computation graph and its inputs, `(graph, inputs)`.

    `inputs` are `num_inputs` (an int or a (min, max) range) leaf Tensors of `dtype` with mutually
    broadcastable shapes and `requires_grad=True`; `graph(*inputs)` applies 1..max_ops ops drawn
    from `ops` (default GRAPH_OPS; `smooth=True` drops the kinked ones in KINKED_OPS: abs, relu,
    clip, max, min, where), each to earlier values whose shapes it accepts. The leaf values are
    generic (a seeded uniform draw in [min_value, max_value], never shrunk to 0), so kinks and ties
    are hit with probability ~0 and gradient checks are meaningful. `repr(graph)` is the program."""
    from hypothesis import strategies as st

    names = tuple(ops) if ops is not None else GRAPH_OPS
    if smooth:
        names = tuple(n for n in names if n not in KINKED_OPS)
    unknown = set(names) - set(GRAPH_OPS)
    if unknown:
        raise ValueError(f"graphs: unknown ops {sorted(unknown)}; choose from {GRAPH_OPS}")
    lo, hi = (num_inputs, num_inputs) if isinstance(num_inputs, int) else num_inputs

    @st.composite
    def draw(draw_):
        table = _ops_table()
        n = draw_(st.integers(lo, hi))
        shapes = list(draw_(broadcastable_shapes(n, max_dims=max_dims, max_side=max_side, min_side=1)))
        n_ops = draw_(st.integers(1, max_ops))
        steps = []
        for _ in range(n_ops):
            name = draw_(st.sampled_from(names))
            arity, apply, _, params = table[name]
            # the newest value first (shrinks towards a chain), any earlier one makes a branch
            first = draw_(st.sampled_from([len(shapes) - 1] + list(range(len(shapes) - 1))))
            args = [first] if arity == 1 else [first, draw_(st.integers(0, len(shapes) - 1))]
            options = params([shapes[i] for i in args])
            choices = [p for p in options if _output_shape(lambda ts, p=p: apply(ts, p), [shapes[i] for i in args])
                       is not None]
            if not choices:
                continue  # this op does not fit these shapes; draw the next one
            param = draw_(st.sampled_from(choices))
            shape = _output_shape(lambda ts: apply(ts, param), [shapes[i] for i in args])
            steps.append((name, args, param))
            shapes.append(shape)
        if not steps:
            steps.append(("affine", [len(shapes) - 1], None))
        seed = draw_(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        inputs = [Tensor(rng.uniform(min_value, max_value, size=s).astype(dtype), requires_grad=True)
                  for s in shapes[:n]]
        return Graph(n, steps), inputs

    return draw()


__all__ = ["assert_gradients_match", "assert_backends_match", "own_kernels", "kernels_called", "ULPS", "GradcheckError", "arrays", "tensors",
           "broadcastable_shapes", "float_dtypes", "layouts", "as_layout", "LAYOUTS", "graphs", "Graph",
           "GRAPH_OPS", "KINKED_OPS", "SPECIAL_FLOATS"]
