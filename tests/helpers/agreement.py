"""One public op on both backends, values and gradients, element by element (the property tests
tests/fuzz/test_properties_*.py).

`assert_agree(fn, arrays, bound)` runs `fn` on Tensors that share the arrays' memory (so a
strided, transposed, negative-stride or misaligned array reaches the op as it is), backward with a
random upstream gradient, on the compiled backend, on the reference backend and on the reference
backend in float64 (the float inputs cast exactly, the same upstream gradient). Each result of
the compiled backend and of the reference backend must then be, per element
(helpers.fuzzing.assert_within_bound):
- within tol = eps * M + C tiny of the reference (compiled) or of the float64 reference (both),
  where M = bound(...) is the op's documented error bound at that element, in units of eps of the
  result's dtype (a multiple of the sum of |terms| the element is made of: never a global maximum);
- NaN exactly where the float64 reference is NaN, the same infinity where it is infinite, and
  finite elsewhere, unless the float32 reference itself over- or underflowed there (an
  intermediate that float64 holds and float32 does not).
Where the compiled backend has no kernel of its own for the op, the first comparison runs the same
code twice; the second still checks the float32 arithmetic of that code against float64.
"""
import numpy as np

import tinynn as tn

from . import fuzzing as fz

F64 = np.dtype(np.float64)


def leaves(arrays, dtype=None, grad=None):
    """Tensors on the arrays' own memory (float ones require grad, unless grad[k] is False);
    dtype: float inputs cast to it."""
    out = []
    for k, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        if dtype is not None and a.dtype.kind == "f":
            a = a.astype(dtype)
        t = tn.from_numpy(a)
        out.append(t.requires_grad_() if a.dtype.kind == "f" and (grad is None or grad[k]) else t)
    return out


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def upstream(outputs, seed):
    """A random upstream gradient for each output (standard normal, rounded to the output's dtype)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]


def run(backend, fn, arrays, grads, dtype=None, grad=None):
    """(outputs, input gradients) of fn on `backend`; `grads` are the upstream gradients (arrays)."""
    with tn.use_backend(backend):
        ts = leaves(arrays, dtype, grad)
        outs = _as_tuple(fn(*ts))
        wanted = [o for o in outs if o.requires_grad]
        if wanted and grads is not None:
            total = sum((o * tn.tensor(g.astype(o.dtype))).sum() for o, g in zip(outs, grads) if o.requires_grad)
            total.backward()
        return ([o.numpy() for o in outs],
                [t.grad.numpy() if t.grad is not None else None for t in ts if isinstance(t, tn.Tensor) and t.requires_grad])


def assert_agree(fn, arrays, bound, seed=0, ulps=16, what="op", grad=None):
    """fn(*arrays) and its gradients agree on the two backends within `bound` (see the module's
    docstring). bound(arrays64, values64, grads64, upstream64) -> one magnitude M per output and per
    gradient (arrays broadcastable to them, float64, in units of the result's eps); the tolerance
    also has `ulps` tiny (denormal results). grad: which float arrays require a gradient (default
    all). Returns the float64 results (values, grads)."""
    with fz.quiet():
        ref_values, ref_grads = run("numpy", fn, arrays, None, grad=grad)
        grads = upstream([np.asarray(v) for v in ref_values], seed)
        ref_values, ref_grads = run("numpy", fn, arrays, grads, grad=grad)
        values, got_grads = run("cython", fn, arrays, grads, grad=grad)
        v64, g64 = run("numpy", fn, arrays, [g.astype(F64) for g in grads], F64, grad)
        mags = bound([a.astype(F64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in arrays],
                     v64, g64, [g.astype(F64) for g in grads])
        names = [f"value {k}" for k in range(len(v64))] + [f"grad {k}" for k in range(len(g64))]
        if len(mags) != len(names):
            raise ValueError(f"{what}: bound gave {len(mags)} magnitudes for {len(names)} results")
        for name, got, ref, r64, mag in zip(names, values + got_grads, ref_values + ref_grads, v64 + g64, mags):
            if (got is None) != (ref is None):
                raise fz.Mismatch(f"{what} {name}: None on one backend only")
            if ref is None:
                continue
            dtype = np.asarray(ref).dtype
            if dtype.kind != "f":
                fz.assert_matches(f"{what} {name}", got, ref, rtol=0)
                continue
            m = np.broadcast_to(np.nan_to_num(np.abs(np.asarray(mag, F64)), nan=np.inf), np.shape(ref))
            tol = fz.eps(dtype) * m + ulps * float(np.finfo(dtype).tiny)
            # (m, in units of eps, is the sum of the |terms| times a small count: where that reaches the
            # dtype's max an intermediate may overflow while the float64 result is finite)
            over = fz.may_overflow(m, dtype) | fz.may_overflow(np.abs(fz.finite_part(r64)) * 2, dtype)
            over &= ~np.isnan(np.asarray(r64))   # (a magnitude that is NaN there, from the NaN itself, waives nothing)
            fz.assert_within_bound(f"{what} {name} (compiled)", got, ref, r64, tol, over)
            with np.errstate(all="ignore"):
                fz.assert_within_bound(f"{what} {name} (reference)", ref, np.asarray(r64).astype(dtype), r64, tol, over)
    return v64, g64
