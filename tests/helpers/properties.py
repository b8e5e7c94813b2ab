"""Shared code of the tensor-math property tests (tests/fuzz/test_properties_{sorting_selection,
shape_elementwise,products}.py): a strategy of small arrays with many ties, and one call that runs an op
on both backends under a random upstream gradient.

`arrays(...)` draws a shape (0 to 3 dims, sides 0..5), a dtype and a memory layout (tinynn.testing.LAYOUTS:
strided, transposed, negative strides, misaligned, read-only, broadcast), and values of a drawn kind:
"ties" (the integers -3..3, so ties are common and every sum of a few of them is exact in float64),
"normal" (standard normal at a drawn scale) or "special" (ties with NaN, +-inf and -0.0 sprinkled in).

`run_both(fn, arrays)` calls fn on Tensors sharing the arrays' memory, on the reference ("numpy") and
the compiled ("cython") backend, and backward from every differentiable output with an upstream
gradient of small integers, through tn.autograd.grad. It checks on each backend that neither the
forward nor the backward wrote to an input array or to the upstream gradient, that both backends give
the same shapes and dtypes, and the same values and gradients: exactly (NaN where NaN), or within
`rtol` of the larger magnitude when the op runs the compiled backend's own arithmetic (add, multiply,
matmul) whose rounding may differ. It returns the reference backend's (values, gradients, upstream)."""
import numpy as np
from hypothesis import strategies as st

import tinynn as tn
from tinynn.testing import LAYOUTS, as_layout

from . import fuzzing as fz

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
INTS = tuple(np.dtype(t) for t in (np.int8, np.int32, np.int64, np.uint8))
KINDS = ("ties", "normal", "special")


def values(rng, shape, dtype, kind):
    """An ndarray of `shape` and `dtype` holding values of `kind` (see the module's docstring)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        return rng.integers(0 if dtype.kind == "u" else -3, 7 if dtype.kind == "u" else 4, shape).astype(dtype)
    if kind == "normal":
        return np.asarray(rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 30.0]), dtype)
    a = rng.integers(-3, 4, shape).astype(dtype)
    if kind == "special" and a.size:
        k = rng.integers(1, a.size + 1)
        a.reshape(-1)[rng.integers(0, a.size, k)] = rng.choice(np.array([np.nan, np.inf, -np.inf, -0.0], dtype), k)
    return a


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=5):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def arrays(draw, dtypes=FLOATS, shape=None, kinds=KINDS, layouts=LAYOUTS, **shape_args):
    """An ndarray: drawn shape (or `shape`: a tuple or a strategy), dtype, layout, kind of values and seed."""
    shape = draw(shapes(**shape_args) if shape is None else shape if isinstance(shape, st.SearchStrategy)
                 else st.just(tuple(shape)))
    dtype = draw(st.sampled_from(tuple(dtypes)))
    kind, layout = draw(st.sampled_from(tuple(kinds))), draw(st.sampled_from(tuple(layouts)))
    return as_layout(values(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), shape, dtype, kind), layout)


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def run(backend, fn, arrays, seed=0, grad=None):
    """(values, input gradients, upstream gradients) of fn on `backend`, checking that the forward and
    the backward leave the input arrays and the upstream gradients as they were. Float arrays require a
    gradient (unless grad[k] is False); other arguments are passed as they are."""
    with tn.use_backend(backend):
        saved = fz.snapshot(arrays)
        ts = [tn.from_numpy(a) if isinstance(a, np.ndarray) else a for a in arrays]
        inputs = [t for k, t in enumerate(ts) if isinstance(t, tn.Tensor) and t.dtype.kind == "f"
                  and (grad is None or grad[k])]
        for t in inputs:
            t.requires_grad_()
        outs = _outputs(fn(*ts))
        fz.assert_unchanged(f"forward ({backend})", arrays, saved)
        wanted = [o for o in outs if o.requires_grad]
        rng = np.random.default_rng(seed)
        ups = [rng.integers(-3, 4, o.shape).astype(o.dtype) for o in wanted]
        grads = []
        if wanted and inputs:
            kept = [u.copy() for u in ups]
            grads = tn.autograd.grad(wanted, inputs, [tn.from_numpy(u) for u in ups], allow_unused=True)
            grads = [None if g is None else g.numpy() for g in grads]
            fz.assert_unchanged(f"backward ({backend})", arrays, saved)
            fz.assert_unchanged(f"backward ({backend}): the upstream gradient", ups, kept)
        return [np.asarray(o.numpy()) for o in outs], grads, ups


def run_both(fn, arrays, seed=0, rtol=0.0, grad=None):
    """run() on both backends; they agree (see the module's docstring). Returns the reference's results."""
    with fz.quiet():
        ref = run("numpy", fn, arrays, seed, grad)
        got = run("cython", fn, arrays, seed, grad)
    for what, r, g in [(f"value {k}", r, g) for k, (r, g) in enumerate(zip(ref[0], got[0]))] + \
                      [(f"grad {k}", r, g) for k, (r, g) in enumerate(zip(ref[1], got[1]))]:
        if (r is None) != (g is None):
            raise fz.Mismatch(f"{what}: None on one backend only")
        if r is not None:
            scale = fz.finite_max(r) if r.dtype.kind == "f" else 0.0
            fz.assert_matches(f"{what} (compiled vs reference)", g, r, rtol=rtol, atol=rtol * scale)
    if len(ref[0]) != len(got[0]) or len(ref[1]) != len(got[1]):
        raise fz.Mismatch("the backends return different numbers of results")
    return ref


def assert_same(got, want, what=""):
    """Equal values (NaN where NaN, -0.0 equal to 0.0), equal shapes, and equal dtypes when want has one."""
    got = np.asarray(got)
    if isinstance(want, np.ndarray) and got.dtype != want.dtype:
        raise AssertionError(f"{what}: dtype {got.dtype}, expected {want.dtype}")
    np.testing.assert_array_equal(got, want, err_msg=what, strict=False)
    if got.shape != np.shape(want):
        raise AssertionError(f"{what}: shape {got.shape}, expected {np.shape(want)}")

