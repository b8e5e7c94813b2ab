"""Case generators and checks shared by the fuzz tests (tests/fuzz/test_fuzz_*.py).

A case is drawn from a seeded generator, so (test, chunk, index) reproduces it exactly. Each case
calls one kernel (tinynn.kernels.*), one backend function (tinynn.backend.compiled.*) or one public
op on inputs with a random shape (zero-size, 1-element, primes, block edges, occasionally large),
dtype (float16/32/64, ints, bool, object, complex), memory layout (tinynn.testing.LAYOUTS: C, F,
sliced, negative strides, misaligned, read-only, broadcast) and values (NaN, +-inf, +-0, denormals,
1e38, the dtype's max). The call must either return what the reference (tinynn.backend.reference)
returns -- same shape and dtype, element by element within the op's error bound (ulps, or
n eps times the sum of |terms| for sums and products), NaN and inf only where the float64
reference has the same one or where the bound may overflow (assert_within_bound) -- or raise
TypeError / ValueError / IndexError.
A case whose inputs meet the documented contract must not be refused, and no call may write to
its (non-output) inputs.
"""
import collections
import os
import warnings

import numpy as np

from tinynn.testing import LAYOUTS, as_layout

COUNTS = collections.Counter()  # cases run, by test module; printed by the fuzz tests' summary test
ALLOWED = (TypeError, ValueError, IndexError)

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
FLOATS = (F32, F64)
OTHER_DTYPES = tuple(np.dtype(t) for t in (np.float16, np.int8, np.int32, np.int64, np.uint8, np.uint64, np.bool_,
                                           object, np.complex64, np.complex128))
SIDES = (0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 17, 31, 33)
BIG_SIDES = (64, 97, 127, 257)


def case_count():
    """Cases per fuzz test (TINYNN_FUZZ_CASES scales the run: e.g. 200000 for a long local run)."""
    return int(os.environ.get("TINYNN_FUZZ_CASES", "0")) or None


class Mismatch(AssertionError):
    pass


# ---------------------------------------------------------------- drawing inputs
def draw_dtype(rng, p_valid=0.85):
    if rng.random() < p_valid:
        return FLOATS[rng.integers(2)]
    return OTHER_DTYPES[rng.integers(len(OTHER_DTYPES))]


def draw_side(rng, big=0.02):
    return int(BIG_SIDES[rng.integers(len(BIG_SIDES))]) if rng.random() < big else int(SIDES[rng.integers(len(SIDES))])


def draw_shape(rng, min_dims=0, max_dims=3, big=0.02):
    return tuple(draw_side(rng, big) for _ in range(rng.integers(min_dims, max_dims + 1)))


def special_values(dtype):
    if dtype.kind not in "fc":
        return None
    f = np.finfo(dtype)
    vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, float(f.smallest_subnormal), -float(f.smallest_subnormal) * 3,
            float(f.tiny) / 2, float(f.max), -float(f.max)]
    if f.max > 1e38:
        vals += [1e38, -1e38]
    return np.array(vals)


def draw_values(rng, shape, dtype, p_special=0.35):
    """Normal values at a random scale; with probability p_special, special values sprinkled in."""
    scale = (1e-3, 1.0, 1.0, 3.0, 30.0)[rng.integers(5)]
    a = rng.standard_normal(shape) * scale
    specials = special_values(dtype if dtype.kind in "fc" else F64)
    if a.size and rng.random() < p_special:
        k = rng.integers(1, max(2, a.size // 3) + 1)
        idx = rng.integers(0, a.size, size=k)
        a.reshape(-1)[idx] = specials[rng.integers(0, len(specials), size=k)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            return np.clip(np.nan_to_num(np.rint(a * 10)), info.min, info.max).astype(dtype)
        if dtype.kind == "b":
            return a > 0
        if dtype.kind == "c":
            return (a + 1j * rng.standard_normal(shape)).astype(dtype)
        if dtype.kind == "O":
            return a.astype(object)
        return a.astype(dtype)


def draw_layout(rng):
    return LAYOUTS[rng.integers(len(LAYOUTS))] if rng.random() < 0.6 else "C"


def draw_array(rng, shape, dtype, layout=None, p_special=0.35):
    a = draw_values(rng, shape, dtype, p_special)
    return as_layout(a, layout or draw_layout(rng))


def describe(x):
    if isinstance(x, np.ndarray):
        flags = "".join(c for c, f in (("C", x.flags.c_contiguous), ("F", x.flags.f_contiguous),
                                       ("a", x.flags.aligned), ("w", x.flags.writeable)) if f)
        return f"ndarray{x.shape}:{x.dtype}:strides={x.strides}:{flags}"
    if isinstance(x, (list, tuple)):
        return type(x)(describe(v) for v in x)
    return repr(x)


# ---------------------------------------------------------------- comparing
def assert_matches(what, out, ref, rtol, atol=0.0, overflow_ok=False, loose=None):
    """out equals ref: same shape and dtype; NaN exactly where ref is NaN; the same infinities;
    |out - ref| <= atol + rtol |ref| elsewhere (atol may be an array). overflow_ok: where one side
    is inf and the other is finite beyond half the dtype's max, the order of operations decided the
    overflow. loose: a boolean mask (broadcastable) of places whose inputs were not finite or near
    overflow; there a non-finite value on either side passes (inf - inf vs inf * 0, or a sum that
    overflows or not, depends on the order of operations), but two finite values must still match."""
    out, ref = np.asarray(out), np.asarray(ref)
    if out.shape != ref.shape:
        raise Mismatch(f"{what}: shape {out.shape} vs reference {ref.shape}")
    if out.dtype != ref.dtype:
        raise Mismatch(f"{what}: dtype {out.dtype} vs reference {ref.dtype}")
    if out.dtype.kind not in "fc":
        if not _same(out, ref):
            bad = np.argwhere(out != ref)[0]
            raise Mismatch(f"{what}: at {tuple(bad)}: {out[tuple(bad)]!r} vs reference {ref[tuple(bad)]!r}")
        return
    o = out.astype(np.complex128 if out.dtype.kind == "c" else np.float64)
    r = ref.astype(o.dtype)
    with np.errstate(all="ignore"):
        nan_o, nan_r = np.isnan(o), np.isnan(r)
        bad = nan_o != nan_r
        inf_o, inf_r = np.isinf(o) & ~nan_o, np.isinf(r) & ~nan_r
        bad |= (inf_o | inf_r) & ~(inf_o & inf_r & (o == r))
        if overflow_ok and out.dtype.kind == "f":
            big = float(np.finfo(out.dtype).max) / 2
            flip = (inf_o & ~inf_r & ~nan_r & (np.abs(r) >= big) & (np.sign(o) == np.sign(r))) | \
                   (inf_r & ~inf_o & ~nan_o & (np.abs(o) >= big) & (np.sign(o) == np.sign(r)))
            bad &= ~flip
        if loose is not None:
            bad &= ~(np.broadcast_to(loose, bad.shape) & (nan_o | inf_o | nan_r | inf_r))
        fin = ~(nan_o | nan_r | inf_o | inf_r)
        bad |= fin & (o != r) & ~(np.abs(o - r) <= atol + rtol * np.abs(r))
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        atol = np.broadcast_to(atol, bad.shape)[i]
        raise Mismatch(f"{what}: at {i}: {out[i]!r} vs reference {ref[i]!r} (rtol={rtol}, atol={atol:.3g}; "
                       f"{int(bad.sum())} of {bad.size} differ)")


def assert_within_bound(what, out, ref, r64, tol, overflow):
    """out (one kernel or backend) against ref (the reference backend, same dtype) and r64 (the
    reference computed in float64 on the same inputs), element by element:

    - where `overflow` (the error bound's own magnitude reaches the dtype's max, so an intermediate
      may overflow or not, and two overflows may meet as inf - inf = NaN, by the order of operations
      alone) out may be non-finite; a finite out must still be within tol of ref or r64; the same
      where ref and r64 differ in class (finite, NaN, +inf, -inf): an intermediate over- or
      underflowed in the narrower dtype (float32 a ** (b - 1) times b = 0 is inf * 0);
    - elsewhere, where r64 is NaN, out is NaN (NaN propagates whatever the order of operations);
      where r64 is +-inf, out is the same infinity; where r64 is finite, out is finite and
      |out - ref| <= tol (tol: an array from the op's documented error bound).
    No other waiver: a NaN or inf at any other element fails."""
    out, ref = np.asarray(out), np.asarray(ref)
    if out.shape != ref.shape or out.dtype != ref.dtype:
        raise Mismatch(f"{what}: {out.shape} {out.dtype} vs reference {ref.shape} {ref.dtype}")
    o, r = out.astype(np.float64), ref.astype(np.float64)
    r64 = np.broadcast_to(np.asarray(r64, np.float64), o.shape)
    with np.errstate(all="ignore"):
        overflow = np.broadcast_to(overflow, o.shape) | (_finite_class(r) != _finite_class(r64))
        close = np.isfinite(o) & ((np.isfinite(r) & (np.abs(o - r) <= tol)) | (np.isfinite(r64) & (np.abs(o - r64) <= tol))
                                  | (np.broadcast_to(tol, o.shape) == np.inf))   # (a bound that overflowed says nothing)
        same = (np.isnan(r64) & np.isnan(o)) | (np.isinf(r64) & (o == r64)) | (np.isfinite(r64) & close)
        # (where the float64 reference itself overflowed by its own order, the truth is unknown at
        # this precision: a finite out is as right as the reference's infinity)
        lost = ~np.isfinite(r) & ~np.isfinite(r64)
        bad = np.where(overflow, np.isfinite(o) & ~close & ~lost, ~same)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        t = np.broadcast_to(tol, o.shape)[i]
        raise Mismatch(f"{what}: at {i}: {out[i]!r} vs reference {ref[i]!r} (float64 {r64[i]!r}, bound {t:.3g}"
                       f"{', may overflow' if overflow[i] else ''}; {int(bad.sum())} of {bad.size} differ)")


def _finite_class(a):
    """0 finite, 1 NaN, 2 +inf, 3 -inf."""
    return np.select([np.isnan(a), a == np.inf, a == -np.inf], [1, 2, 3], 0)


def may_overflow(magnitude, dtype):
    """Where an error bound's magnitude (sum of |terms|, float64, non-finite inputs left out)
    reaches half the dtype's max: there the order of operations decides an overflow."""
    dtype = np.dtype(dtype) if np.dtype(dtype).kind in "fc" else F64   # (ints: NumPy computes in float64)
    with np.errstate(all="ignore"):
        return np.asarray(magnitude, np.float64) >= float(np.finfo(dtype).max) / 2


def finite_part(a):
    """a as float64 with its non-finite values set to 0 (magnitudes of the finite terms)."""
    with np.errstate(all="ignore"):
        a = np.asarray(a, np.float64)
        return np.where(np.isfinite(a), a, 0.0)


def ieee_product(a, b):
    """(r64, magnitude) for C = A B (2-D), in float64: where a row of A and a column of B hold
    only finite values, r64 is their float64 product and magnitude |A| |B| (the error bound's
    sum of |terms|); elsewhere r64 is the class IEEE arithmetic determines whatever the order of
    the sum: NaN if a term is NaN (a NaN input, or inf * 0) or terms of +inf and -inf meet; +inf
    (-inf) if some term is +inf (-inf) and none is NaN or of the other sign. Counted with products
    of 0/1 matrices, so no BLAS shortcut (skipping zeros of B) can hide an inf * 0."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    af, bf = finite_part(a64), finite_part(b64)
    with np.errstate(all="ignore"):
        r = af @ bf
        magnitude = np.abs(af) @ np.abs(bf)
        f = lambda m: m.astype(np.float64)  # noqa: E731
        nan = (f(np.isnan(a64)) @ np.ones_like(bf) + np.ones_like(af) @ f(np.isnan(b64))
               + f(np.isinf(a64)) @ f(b64 == 0) + f(a64 == 0) @ f(np.isinf(b64))) > 0
        pos = (f(a64 == np.inf) @ f(b64 > 0) + f(a64 == -np.inf) @ f(b64 < 0)
               + f(a64 > 0) @ f(b64 == np.inf) + f(a64 < 0) @ f(b64 == -np.inf)) > 0
        neg = (f(a64 == np.inf) @ f(b64 < 0) + f(a64 == -np.inf) @ f(b64 > 0)
               + f(a64 > 0) @ f(b64 == -np.inf) + f(a64 < 0) @ f(b64 == np.inf)) > 0
    r = np.where(pos, np.inf, r)
    r = np.where(neg, -np.inf, r)
    r = np.where(nan | (pos & neg), np.nan, r)
    return r, magnitude


def check_product(what, c, a, b, extra=0.0):
    """c == a @ b, element by element (ieee_product): where the row and column are finite,
    |c - a b| <= (k + 2) eps |a| |b| + extra (the bound of a k-term dot product, each product and
    sum rounded once, against the exact float64 value) and finite unless that magnitude may
    overflow; where they are not, the class IEEE arithmetic determines (NaN, +inf, -inf)."""
    r64, magnitude = ieee_product(a, b)
    if np.shape(c) != r64.shape:
        raise Mismatch(f"{what}: shape {np.shape(c)} vs reference {r64.shape}")
    if c.dtype != a.dtype:
        raise Mismatch(f"{what}: dtype {c.dtype} vs {a.dtype}")
    eps, tiny = float(np.finfo(a.dtype).eps), float(np.finfo(a.dtype).tiny)
    k = a.shape[-1]
    with np.errstate(all="ignore"):
        bound = magnitude * (k + 2) * eps + extra + tiny
        ref = r64.astype(a.dtype)
    assert_within_bound(what, c, ref, r64, bound, may_overflow(magnitude + extra, a.dtype))


def eps(dtype):
    return float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else 1e-3


def finite_max(a, axis=None, keepdims=False):
    """max |a| over the finite values (0 where there are none)."""
    with np.errstate(all="ignore"):
        a = np.asarray(a, dtype=np.float64)
        return np.max(np.where(np.isfinite(a), np.abs(a), 0), axis=axis, keepdims=keepdims, initial=0.0)


def snapshot(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in args]


def _same(a, b):
    if a.dtype.hasobject:
        return a.shape == b.shape and all(x is y or x == y or (x != x and y != y) for x, y in zip(a.flat, b.flat))
    return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def assert_unchanged(name, args, saved):
    for k, (a, s) in enumerate(zip(args, saved)):
        if s is not None and not _same(np.asarray(a), s):
            raise Mismatch(f"{name}: modified its input argument {k}")


def quiet():
    """Context: no NumPy floating-point warnings (special values are the point here)."""
    class _Quiet:
        def __enter__(self):
            self.err = np.seterr(all="ignore")
            self.w = warnings.catch_warnings()
            self.w.__enter__()
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)

        def __exit__(self, *exc):
            self.w.__exit__(*exc)
            np.seterr(**self.err)
            return False
    return _Quiet()


# ---------------------------------------------------------------- hypothesis strategies
# Arrays are made by the seeded generators above from a drawn seed (drawing each element through
# hypothesis would be slow at the large sizes); what hypothesis draws, and shrinks, is the case:
# shape, dtype, layout, how many special values, the seed.
def st_side(big=True):
    """A side length: 0, 1, block edges and primes, and (big) sides past the kernels' blocks."""
    from hypothesis import strategies as st

    return st.sampled_from(SIDES + (BIG_SIDES if big else ()))


def st_array(shape, dtype, layouts=LAYOUTS, p_special=(0.0, 0.05, 0.35)):
    """An ndarray of `shape` and `dtype` in a drawn layout (non-contiguous, negative strides,
    misaligned, ...) whose values are normal at a drawn scale, with NaN / +-inf / +-0 / denormals /
    near-overflow values sprinkled in with a drawn probability."""
    from hypothesis import strategies as st

    @st.composite
    def draw(draw_):
        seed = draw_(st.integers(0, 2**32 - 1))
        layout = draw_(st.sampled_from(tuple(layouts)))
        p = draw_(st.sampled_from(tuple(p_special)))
        return draw_array(np.random.default_rng(seed), tuple(shape), np.dtype(dtype), layout, p_special=p)
    return draw()
