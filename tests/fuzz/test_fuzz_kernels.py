"""Fuzzing the compiled kernels, called directly (tinynn.kernels.*) and through the compiled
backend (tinynn.backend.compiled.*), against tinynn.backend.reference (see tests/helpers/fuzzing.py for
what a case is and what counts as a pass).

Each test runs CHUNK_CASES[name] generated cases per chunk; TINYNN_FUZZ_CASES=N runs N per test
instead (a long local run: TINYNN_FUZZ_CASES=100000). A failing case prints its (test, chunk,
index) and arguments; rerun with the same numbers to reproduce it. A chunk that hangs for more
than FUZZ_TIMEOUT seconds dumps every thread's traceback and exits (a hang fails CI loudly)."""
import faulthandler
import os
import zlib

import numpy as np
import pytest

import tinynn as tn
from tinynn.backend import reference as ref

from helpers import fuzzing as fz
from helpers.fuzzing import ALLOWED, F32, F64, FLOATS, Mismatch, assert_matches, describe, draw_array, draw_dtype, draw_shape

if "cython" not in tn.backend.available():  # pragma: no cover - CI always builds the kernels
    pytest.skip("the compiled kernels are not built", allow_module_level=True)

from tinynn import kernels as K  # noqa: E402
from tinynn.backend import compiled as CB  # noqa: E402

CHUNKS = 8
FUZZ_TIMEOUT = float(os.environ.get("TINYNN_FUZZ_TIMEOUT", "300"))
ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
ACT_ULPS = 4  # the epilogue's sigmoid / tanh (libm or the kernels' polynomial exp): a few ulps


class Case:
    """One call: fn(*args, **kwargs); `expect(out)` checks it against the reference; valid: the
    documented contract is met, so refusing the call is a failure."""

    def __init__(self, name, fn, args, kwargs=None, expect=None, valid=True, inplace=()):
        self.name, self.fn, self.args, self.kwargs = name, fn, list(args), dict(kwargs or {})
        self.expect, self.valid, self.inplace = expect, valid, set(inplace)

    def __repr__(self):
        return f"{self.name}(*{describe(self.args)}, **{self.kwargs}) valid={self.valid}"


def run(case):
    """Run one case; returns "ok" or "refused"; raises Mismatch (or the unexpected exception)."""
    watched = [a for k, a in enumerate(case.args) if k not in case.inplace]
    saved = fz.snapshot(watched)
    try:
        out = case.fn(*case.args, **case.kwargs)
    except ALLOWED as exc:
        if case.valid:
            raise Mismatch(f"refused a valid call: {type(exc).__name__}: {exc}") from None
        return "refused"
    fz.assert_unchanged(case.name, watched, saved)
    case.expect(out)
    return "ok"


def run_many(make_case, chunk, n_cases, counter_key):
    outcomes = {"ok": 0, "refused": 0}
    faulthandler.dump_traceback_later(FUZZ_TIMEOUT, exit=True)
    try:
        with fz.quiet():
            for i in range(n_cases):
                rng = np.random.default_rng([chunk, i, zlib.crc32(counter_key.encode())])
                case = None
                try:
                    case = make_case(rng)
                    outcomes[run(case)] += 1
                except Exception as exc:
                    raise AssertionError(f"{counter_key} chunk={chunk} i={i}: {case!r}\n  -> {type(exc).__name__}: {exc}") from exc
    finally:
        faulthandler.cancel_dump_traceback_later()
    fz.COUNTS[counter_key] += n_cases
    return outcomes


# ---------------------------------------------------------------- elementwise activations
def _rtol(dtype, r32=2e-6, r64=1e-14):
    return r32 if dtype == F32 else r64


def _tiny(dtype):
    return float(np.finfo(dtype).tiny) if dtype.kind == "f" else 0.0


def unary_case(api, name):
    fn = getattr(api, name)

    def make(rng):
        x = draw_array(rng, draw_shape(rng), draw_dtype(rng))
        kwargs, valid, out = {}, x.dtype in FLOATS, None
        if api is K and rng.random() < 0.2:
            out = fz.draw_array(rng, x.shape if rng.random() < 0.9 else draw_shape(rng), x.dtype if rng.random() < 0.9
                                else draw_dtype(rng), p_special=0)
            kwargs["out"] = out
            valid = valid and out.shape == x.shape and out.dtype == x.dtype and out.flags.writeable and \
                out.flags.aligned and out.flags.c_contiguous and x.flags.c_contiguous
        x_copy = np.array(x)

        def expect(y):
            r = getattr(ref, name)(x_copy)
            if out is not None and y is not out:
                raise Mismatch("did not return its out= array")
            assert_matches(name, y, r, rtol=0 if name == "relu" else _rtol(x.dtype), atol=_tiny(x.dtype))
        return Case(name, fn, [x], kwargs, expect, valid, inplace={0} if out is x else ())
    return make


def binary_case(api, name):
    fn = getattr(api, name)

    def make(rng):
        dtype = draw_dtype(rng)
        shape = draw_shape(rng)
        a = draw_array(rng, shape, dtype)
        g = draw_array(rng, shape if rng.random() < 0.9 else draw_shape(rng), dtype if rng.random() < 0.9 else draw_dtype(rng))
        valid = a.dtype in FLOATS and a.dtype == g.dtype and a.shape == g.shape

        def expect(y):
            r = getattr(ref, name)(a, g)
            with np.errstate(all="ignore"):  # g (1 - y^2), g y (1 - y): rounding of each product
                atol = 4 * fz.eps(a.dtype) * np.abs(g.astype(np.float64)) * np.maximum(1, np.square(a.astype(np.float64)))
            with np.errstate(all="ignore"):
                r64 = getattr(ref, name)(a.astype(np.float64), g.astype(np.float64))
                tol = np.nan_to_num(atol) + _rtol(a.dtype, 1e-6, 1e-15) * np.abs(fz.finite_part(r)) + _tiny(a.dtype)
            fz.assert_within_bound(name, y, r, r64, tol, fz.may_overflow(atol / (4 * fz.eps(a.dtype)), a.dtype))
        return Case(name, fn, [a, g], {}, expect, valid)
    return make


# ---------------------------------------------------------------- softmax family
def softmax_case(api, name, backward=False):
    fn = getattr(api, name)
    forward = name.replace("_backward", "")

    def make(rng):
        dtype = draw_dtype(rng)
        shape = draw_shape(rng, min_dims=0 if rng.random() < 0.05 else 1)
        x = draw_array(rng, shape, dtype)
        nd = max(x.ndim, 1)
        axis = -1 if (api is K or rng.random() < 0.6) else int(rng.integers(-nd, nd))
        if api is K and rng.random() < 0.05:
            axis = 0
        args = [x]
        valid = x.dtype in FLOATS and x.ndim >= 1 and (axis in (-1, x.ndim - 1) or api is CB)
        if backward:
            if x.dtype in FLOATS and x.ndim >= 1 and rng.random() < 0.9:  # y as the forward made it
                y = getattr(ref, forward)(np.array(x), axis=axis)
                x = fz.as_layout(y, fz.draw_layout(rng))
                args = [x]
            g = draw_array(rng, shape if rng.random() < 0.95 else draw_shape(rng), dtype if rng.random() < 0.95 else draw_dtype(rng))
            args.append(g)
            valid = valid and g.shape == x.shape and g.dtype == x.dtype

        def expect(out):
            r = getattr(ref, name)(*args, axis=axis)
            e, n = fz.eps(x.dtype), max(x.shape[axis], 1) if x.ndim else 1
            if backward:  # a dot product / sum of the row, then one product: ~ n eps |g| |y| (|y| <= 1 or e^y <= 1)
                yy, gg = np.broadcast_arrays(*args)  # (the reference broadcasts mismatched shapes)
                yb = fz.finite_max(np.exp(np.clip(yy, None, 50)) if forward == "log_softmax" else yy, axis, True)
                atol = 8 * n * e * fz.finite_max(gg, axis, True) * np.maximum(1, yb) * np.maximum(1, yb)
                rtol = 8 * e
            else:  # log_softmax: (x - m) - log s cancels near 0: ~ eps (|x - m| + log n)
                atol = 8 * e * (2 * fz.finite_max(x, axis, True) + np.log(n)) if forward == "log_softmax" else 4 * e
                rtol = 8 * e
            # per element against the float64 reference; an intermediate may overflow where a row's
            # magnitude (the bound's |terms|, divided back out of atol) reaches the dtype's max
            if np.asarray(r).dtype.kind != "f":   # (complex, object: the reference's own code, on the backend too)
                assert_matches(name, out, r, rtol=0)
                return
            with np.errstate(all="ignore"):
                r64 = getattr(ref, name)(*[a.astype(np.float64) for a in args], axis=axis)
                tol = atol + rtol * np.abs(fz.finite_part(r)) + _tiny(x.dtype) * 4
                over = atol / (8 * e)
                if backward:   # (e^y unclipped: where it overflows, inf * 0 or inf * s is the order's choice)
                    yy, gg = np.broadcast_arrays(*args)
                    big = np.exp(yy.astype(np.float64)) if forward == "log_softmax" else yy
                    top = np.max(np.where(np.isnan(big), 0, np.abs(big.astype(np.float64))), axis=axis, keepdims=True,
                                 initial=0.0)
                    over = over + n * fz.finite_max(gg, axis, True) * top * top
            fz.assert_within_bound(name, out, r, r64, tol, fz.may_overflow(over, x.dtype))
        return Case(name, fn, args, {"axis": axis}, expect, valid)
    return make


def draw_targets(rng, n, c):
    kind = rng.random()
    if kind < 0.8 and c > 0:
        t = rng.integers(0, c, size=n)
    elif kind < 0.9:
        t = rng.integers(-3, c + 3, size=n)
    else:
        t = rng.integers(0, max(c, 1), size=draw_shape(rng, 1, 2))
    dtype = np.int64 if rng.random() < 0.8 else (np.int32, np.uint8, np.uint64, np.int8, np.float32, np.bool_)[rng.integers(6)]
    with np.errstate(all="ignore"):
        t = t.astype(dtype)
    return fz.as_layout(t, fz.draw_layout(rng))


def draw_smoothing(rng):
    return 0.0 if rng.random() < 0.6 else float((0.1, 1.0, 0.5, -0.1, 1.5, np.nan, 1e-30)[rng.integers(7)])


def _targets_ok(t, n, c):
    return t.dtype.kind in "iu" and t.shape == (n,) and (n == 0 or (t.astype(np.float64).min() >= 0 and t.astype(np.float64).max() < c))


def cross_entropy_case(api):
    def make(rng):
        dtype = draw_dtype(rng)
        shape = (draw_fz_side(rng), draw_fz_side(rng)) if rng.random() < 0.95 else draw_shape(rng)
        x = draw_array(rng, shape, dtype)
        n = x.shape[0] if x.ndim else 0
        c = x.shape[1] if x.ndim > 1 else 0
        t = draw_targets(rng, n, c)
        e = draw_smoothing(rng)
        valid = x.dtype in FLOATS and x.ndim == 2 and _targets_ok(t, n, c) and 0 <= e <= 1

        def expect(out):
            loss, probs = out
            rl, rp = ref.cross_entropy(x, t, e)
            rtol = _rtol(x.dtype, 2e-5, 1e-12)
            # per row: log-sum-exp minus the target's logit cancels to ~ eps (|x| max of the row)
            mag = np.maximum(fz.finite_max(x, axis=-1), 1.0) if x.ndim == 2 else 1.0
            assert_matches("cross_entropy loss", loss, rl, rtol=rtol, atol=rtol * mag, overflow_ok=True)
            assert_matches("cross_entropy probs", probs, rp, rtol=rtol, atol=_tiny(x.dtype) * 4)
        return Case("cross_entropy", api.cross_entropy, [x, t], {"label_smoothing": e}, expect, valid)
    return make


def draw_fz_side(rng):
    return fz.draw_side(rng)


def cross_entropy_backward_case(api):
    def make(rng):
        dtype = draw_dtype(rng)
        n, c = draw_fz_side(rng), draw_fz_side(rng)
        p = draw_array(rng, (n, c) if rng.random() < 0.95 else draw_shape(rng), dtype)
        n = p.shape[0] if p.ndim else 0
        c = p.shape[1] if p.ndim > 1 else 0
        t = draw_targets(rng, n, c)
        e = draw_smoothing(rng)
        kind = rng.random()
        if kind < 0.2:
            g, g_ok = float(rng.standard_normal()), True
        elif kind < 0.35:
            g = np.broadcast_to(np.asarray(rng.standard_normal(), dtype=dtype if dtype in FLOATS else F64), (n,))
            g_ok = True
        else:
            g = draw_array(rng, (n,) if rng.random() < 0.9 else draw_shape(rng), dtype if rng.random() < 0.9 else draw_dtype(rng))
            g_ok = g.shape == (n,) and g.dtype in FLOATS
        valid = p.dtype in FLOATS and p.ndim == 2 and _targets_ok(t, n, c) and 0 <= e <= 1 and g_ok

        def expect(dx):
            gg = np.broadcast_to(np.asarray(g, dtype=p.dtype), (n,))
            r = ref.cross_entropy_backward(p, t, e, gg)
            rtol = _rtol(p.dtype, 1e-5, 1e-13)
            assert_matches("cross_entropy_backward", dx, r, rtol=rtol, atol=_tiny(p.dtype) * 4, overflow_ok=True)
        return Case("cross_entropy_backward", api.cross_entropy_backward, [p, t, e, g], {}, expect, valid)
    return make


# ---------------------------------------------------------------- GEMM family
def gemm_dtype_pair(rng):
    if rng.random() < 0.9:
        d = FLOATS[rng.integers(2)]
        return d, d
    return draw_dtype(rng, 0.3), draw_dtype(rng, 0.3)


def gemm_shapes(rng):
    m, k, n = draw_fz_side(rng), draw_fz_side(rng), draw_fz_side(rng)
    if rng.random() < 0.03:
        m, k, n = 129, 257, 131  # big enough for several blocks and threads
    kb = k if rng.random() < 0.93 else k + 1
    return (m, k), (kb, n)


def matmul_case(rng):
    da, db = gemm_dtype_pair(rng)
    sa, sb = gemm_shapes(rng)
    if rng.random() < 0.04:
        sa = draw_shape(rng)
    a, b = draw_array(rng, sa, da, p_special=0.15), draw_array(rng, sb, db, p_special=0.15)
    kwargs = {}
    valid = da == db and da in FLOATS and a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
    out = None
    r = rng.random()
    if r < 0.2 and a.ndim == 2 and b.ndim == 2:
        out = draw_array(rng, (a.shape[0], b.shape[1]), da if rng.random() < 0.95 else draw_dtype(rng), p_special=0)
        kwargs["out"] = out
        valid = valid and out.dtype == da and out.flags.writeable
    elif r < 0.3:
        kwargs["num_threads"] = (1, 2, 4, 0, -1, 2.5, True)[rng.integers(7)]
        nt = kwargs["num_threads"]
        valid = valid and isinstance(nt, int) and not isinstance(nt, bool) and nt >= 1

    def expect(c):
        if out is not None and c is not out:
            raise Mismatch("did not return its out= array")
        fz.check_product("matmul", c, a, b)
    return Case("matmul", K.matmul, [a, b], kwargs, expect, valid, inplace=())


def linear_case(rng):
    dx, dw = gemm_dtype_pair(rng)
    (m, k), (_, n) = gemm_shapes(rng)
    x = draw_array(rng, (m, k), dx, p_special=0.15)
    w = draw_array(rng, (n, k if rng.random() < 0.95 else k + 1), dw, p_special=0.15)
    bias = None
    if rng.random() < 0.7:
        bias = draw_array(rng, (n,) if rng.random() < 0.95 else (n + 1,), dx if rng.random() < 0.95 else draw_dtype(rng),
                          p_special=0.1)
    act = ACTIVATIONS[rng.integers(4)] if rng.random() < 0.97 else "gelu"
    valid = dx == dw and dx in FLOATS and w.shape[1] == x.shape[1] and act in ACTIVATIONS and \
        (bias is None or (bias.shape == (n,) and bias.dtype == dx))

    def expect(y):
        # the pre-activation x W^T + b as fz.ieee_product (adding b in float64 keeps IEEE's classes:
        # NaN + v, inf - inf are NaN), then the activation in float64; each activation is
        # 1-Lipschitz, so the product's bound carries over, plus ACT_ULPS of the result
        pre, magnitude = fz.ieee_product(x, w.T)
        if bias is not None:
            pre = pre + bias.astype(np.float64)
            magnitude = magnitude + np.abs(fz.finite_part(bias))
        if np.shape(y) != pre.shape or y.dtype != x.dtype:
            raise Mismatch(f"linear: {np.shape(y)} {y.dtype} vs {pre.shape} {x.dtype}")
        r64 = pre if act == "none" else getattr(ref, act)(pre)
        eps, tiny = float(np.finfo(x.dtype).eps), float(np.finfo(x.dtype).tiny)
        with np.errstate(all="ignore"):
            bound = magnitude * (k + 3) * eps + ACT_ULPS * eps * np.abs(fz.finite_part(r64)) + tiny
        overflow = fz.may_overflow(magnitude, x.dtype)
        # where the sum may overflow, FMA order can make it either infinity: act(+-inf) is a right answer
        ends = np.array([-np.inf, np.inf]) if act == "none" else getattr(ref, act)(np.array([-np.inf, np.inf]))
        y = np.where(overflow & np.isin(y, ends.astype(x.dtype)), x.dtype.type(np.nan), y)
        fz.assert_within_bound(f"linear({act})", y, r64.astype(x.dtype), r64, bound, overflow)
    return Case("linear", K.linear, [x, w, bias, act], {}, expect, valid)


def linear_backward_case(api):
    """(dx, dW, db) of y = act(x W^T + b) against products of the reference's d = grad * act'(.)."""
    def make(rng):
        dx_, dw_ = gemm_dtype_pair(rng)
        (m, k), (_, n) = gemm_shapes(rng)
        x = draw_array(rng, (m, k), dx_, p_special=0.1)
        w = draw_array(rng, (n, k if rng.random() < 0.95 else k + 1), dw_, p_special=0.1)
        dg = dx_ if rng.random() < 0.95 else draw_dtype(rng)
        g = draw_array(rng, (m, n) if rng.random() < 0.95 else (m, n + 1), dg, p_special=0.1)
        act = ACTIVATIONS[rng.integers(4)] if rng.random() < 0.97 else "gelu"
        y_values = fz.draw_values(rng, (m, n), dx_ if dx_ in FLOATS else F64, p_special=0.05)
        if act == "sigmoid":
            y_values = ref.sigmoid(y_values)
        elif act == "tanh":
            y_values = np.tanh(y_values)
        y = fz.as_layout(y_values, fz.draw_layout(rng)) if rng.random() < 0.95 else None
        needs = tuple(bool(v) for v in rng.random(3) < 0.8)
        valid = (dx_ == dw_ == dg and dx_ in FLOATS and w.shape[1] == k and g.shape == (m, n) and act in ACTIVATIONS
                 and (act == "none" or (y is not None and y.dtype == dx_)))

        def expect(out):
            got_dx, got_dw, got_db = out
            if not valid:   # (through the backend) what the reference gives for these dtypes
                want = ref.linear_backward(x, w, y, g, act, needs)
                for got, r in zip(out, want):
                    if (got is None) != (r is None):
                        raise Mismatch(f"linear_backward: {got!r} vs reference {r!r}")
                    if r is not None:
                        assert_matches("backend linear_backward", got, r, rtol=1e-5, overflow_ok=True)
                return
            d = g if act == "none" else getattr(ref, act + "_backward")(y, g)
            d = np.asarray(d, dtype=dx_)
            eps = float(np.finfo(dx_).eps)
            with np.errstate(all="ignore"):
                # d's own rounding may differ: the kernel may fuse 1 - y^2 (one rounding, not two)
                slack = 4 * eps * np.abs(d.astype(np.float64))
                if act in ("sigmoid", "tanh"):
                    y64 = np.abs(y.astype(np.float64))
                    slack += 4 * eps * np.abs(g.astype(np.float64)) * (y64 + y64 * y64)
            for need, got, what, a, b in ((needs[0], got_dx, "dx", d, w), (needs[1], got_dw, "dW", d.T, x),
                                          (needs[2], got_db, "db", np.ones((1, m), dx_), d)):
                if not need:
                    if got is not None:
                        raise Mismatch(f"linear_backward: {what} not asked for, got {type(got).__name__}")
                    continue
                with np.errstate(all="ignore"):
                    extra = (slack @ np.abs(w.astype(np.float64)) if what == "dx" else
                             slack.T @ np.abs(x.astype(np.float64)) if what == "dW" else slack.sum(axis=0))
                fz.check_product(f"linear_backward {what} ({act})", got[None, :] if what == "db" else got, a, b,
                              extra=extra)
        return Case("linear_backward", api.linear_backward, [x, w, y, g, act, needs], {}, expect, valid)
    return make


def int8_matmul_case(rng):
    (m, k), (kb, n) = gemm_shapes(rng)
    dt = [np.dtype(np.int8), np.dtype(np.int8)] if rng.random() < 0.9 else [draw_dtype(rng, 0), np.dtype(np.int8)]
    a = draw_array(rng, (m, k), dt[0], p_special=0)
    b = draw_array(rng, (kb, n), dt[1], p_special=0)
    if rng.random() < 0.3 and a.dtype == np.int8:  # the extremes: -128 * -128 sums are the overflow risk
        a = fz.as_layout(np.full(a.shape, -128, np.int8), fz.draw_layout(rng))
        b = fz.as_layout(np.full(b.shape, -128, np.int8), fz.draw_layout(rng))
    valid = a.dtype == b.dtype == np.int8 and k == kb

    def expect(c):
        assert_matches("int8_matmul", c, ref.int8_matmul(a, b), rtol=0)
    return Case("int8_matmul", K.int8_matmul, [a, b], {}, expect, valid)


def draw_scales(rng, n):
    kind = rng.random()
    if kind < 0.3:
        return float(rng.uniform(1e-4, 1)), True
    if kind < 0.9:
        s = fz.draw_array(rng, (n,), F32 if rng.random() < 0.7 else F64, p_special=0.1)
        return s, True
    bad = (fz.draw_array(rng, (n + 1,), F32), np.zeros((2, n + 2), np.float32), "abc", np.array(["x"] * n))
    return bad[rng.integers(len(bad))], False


def draw_epilogue(rng, m, n):
    """The requantization arguments of an m x n int32 accumulator: row and column scales, an
    optional float32 bias, the relu flag, and whether the scales are valid."""
    rs, ok1 = draw_scales(rng, m)
    cs, ok2 = draw_scales(rng, n)
    bias = None if rng.random() < 0.4 else fz.draw_array(rng, (n,), F32, p_special=0.1)
    return rs, cs, bias, bool(rng.random() < 0.5), ok1 and ok2


def int8_linear_case(rng):
    (m, k), (_, n) = gemm_shapes(rng)
    xq = draw_array(rng, (m, k), np.dtype(np.int8) if rng.random() < 0.95 else draw_dtype(rng), p_special=0)
    wq = draw_array(rng, (n, k), np.dtype(np.int8), p_special=0)
    rs, cs, bias, relu, scales_ok = draw_epilogue(rng, m, n)
    valid = xq.dtype == np.int8 and scales_ok

    def expect(y):
        r = ref.int8_linear(xq, wq, rs, cs, bias, relu)
        assert_matches("int8_linear", y, r.astype(np.float32), rtol=2e-6, atol=1e-30, overflow_ok=True)
    return Case("int8_linear", K.int8_linear, [xq, wq, rs, cs, bias, relu], {}, expect, valid)


def requantize_case(rng):
    m, n = draw_fz_side(rng), draw_fz_side(rng)
    acc = draw_array(rng, (m, n), np.dtype(np.int32) if rng.random() < 0.95 else draw_dtype(rng), p_special=0)
    if acc.dtype == np.int32 and rng.random() < 0.2:
        acc = fz.as_layout(np.full((m, n), np.iinfo(np.int32).min, np.int32), fz.draw_layout(rng))
    rs, cs, bias, relu, scales_ok = draw_epilogue(rng, m, n)
    valid = acc.dtype == np.int32 and scales_ok

    def expect(y):
        r = ref.requantize(acc, rs, cs, bias, relu)
        assert_matches("requantize", y, np.asarray(r, np.float32), rtol=2e-6, atol=1e-30, overflow_ok=True)
    return Case("requantize", K.requantize, [acc, rs, cs, bias, relu], {}, expect, valid)


def quantize_rows_case(rng):
    m, n = draw_fz_side(rng), draw_fz_side(rng)
    x = draw_array(rng, (m, n), draw_dtype(rng))
    s, ok = draw_scales(rng, m)
    if rng.random() < 0.3 and x.dtype in FLOATS and x.size:
        # exact ties: x / s = j + 1/2 exactly (a power-of-two scale, half-integers times it), where
        # round-half-even decides, and the neighbours j + 1/2 +- 1 ulp, where it must not
        s, ok = float(2.0 ** rng.integers(-8, 4)), True
        half = (rng.integers(-140, 140, size=(m, n)) + 0.5).astype(x.dtype)
        nudge = rng.choice([-1, 0, 0, 1], size=(m, n))
        half = np.where(nudge == 0, half, np.nextafter(half, half + nudge.astype(x.dtype)))
        x = fz.as_layout((half * x.dtype.type(s)).astype(x.dtype), fz.draw_layout(rng))
    zp_choices = (0, 3, -128, 127, 10**6, np.int64(5), 2.5, True, 10**30)
    zp = 0 if rng.random() < 0.6 else zp_choices[rng.integers(len(zp_choices))]
    valid = x.dtype in FLOATS and ok and isinstance(zp, (int, np.integer)) and not isinstance(zp, bool) and -128 <= zp <= 127

    def expect(q):
        # exact: q = clamp(round_half_even(x / s) + z, -128, 127) with x / s correctly rounded in x's
        # dtype (an IEEE division), so every element, ties included, has one right answer; only
        # where x / s is NaN is the code undefined (the documented formula has none)
        r = ref.quantize_rows(x, s, zp)
        if q.shape != r.shape or q.dtype != np.int8:
            raise Mismatch(f"quantize_rows: {q.shape} {q.dtype} vs {r.shape} int8")
        with np.errstate(all="ignore"):
            sv = np.asarray(s, np.float32).reshape(-1, 1).astype(x.dtype) if np.ndim(s) else x.dtype.type(np.float32(s))
            quotient = x / sv
        bad = ~np.isnan(quotient) & (q != r)
        if bad.any():
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            raise Mismatch(f"quantize_rows: at {i}: {q[i]} vs reference {r[i]} (x={x[i]!r}, x / s={quotient[i]!r})")
    return Case("quantize_rows", K.quantize_rows, [x, s, zp], {}, expect, valid)


# ---------------------------------------------------------------- optimizer updates (in place)
def _state_ok(a, p):
    return (isinstance(a, np.ndarray) and a.dtype == p.dtype and a.shape == p.shape and a.flags.c_contiguous
            and a.flags.writeable and a.flags.aligned)


def _hyper(rng, choices):
    return float(choices[rng.integers(len(choices))])


def _sgd_step_size(p, g, b, lr, momentum, wd):
    """|lr| (2 |g| + |wd p| + |mu b|) in float64, from the inputs (an upper bound on |lr g_eff| of any
    SGD variant); inf or NaN where an input is."""
    with np.errstate(all="ignore"):
        inner = 2 * np.abs(np.asarray(g, np.float64))
        if wd:                           # (a term that is not there: not 0 * inf = NaN)
            inner = inner + abs(wd) * np.abs(np.asarray(p, np.float64))
        if b is not None and momentum:
            inner = inner + abs(momentum) * np.abs(np.asarray(b, np.float64))
        return abs(lr) * inner


def sgd_case(rng):
    dtype = draw_dtype(rng)
    shape = draw_shape(rng, big=0.05)
    p = draw_array(rng, shape, dtype)
    g = draw_array(rng, shape if rng.random() < 0.95 else draw_shape(rng), dtype if rng.random() < 0.95 else draw_dtype(rng))
    momentum = _hyper(rng, (0.0, 0.9, 0.5, np.nan))
    b = draw_array(rng, shape, dtype) if (momentum != 0 and rng.random() < 0.97) else None
    lr, damp, wd = _hyper(rng, (0.1, 1e-3, 0.0, 1e30)), _hyper(rng, (0.0, 0.1)), _hyper(rng, (0.0, 1e-2))
    nesterov, first = bool(rng.random() < 0.3), bool(rng.random() < 0.3)
    valid = p.dtype in FLOATS and _state_ok(p, p) and g.shape == p.shape and g.dtype == p.dtype and \
        (momentum == 0 or _state_ok(b, p))
    rp, rb = np.array(p), None if b is None else np.array(b)
    step = _sgd_step_size(p, g, b, lr, momentum, wd) if valid else None

    def expect(_):
        rg = np.array(g)
        ref.sgd_step(rp, rg, rb, lr, momentum, damp, wd, nesterov, first)
        tol = _rtol(p.dtype, 1e-5, 1e-13)
        with np.errstate(all="ignore"):  # p - lr (g + wd p + mu b): each term rounds (or fuses) on its own
            terms = np.abs(np.array(p, np.float64)) + abs(lr) * (np.abs(rg.astype(np.float64)) * 3 + abs(wd) * np.abs(rp.astype(np.float64)))
            if rb is not None:
                terms = terms + abs(lr * momentum) * np.abs(rb.astype(np.float64))
        atol = np.nan_to_num(8 * fz.eps(p.dtype) * terms, posinf=0) + tol * 10
        # where the step lr (g + wd p + mu b) reaches the dtype's max, whether lr * g overflows depends on
        # fusing p - lr * g into one rounding (the kernel's FMA, PyTorch's add(alpha=-lr): p = -inf,
        # lr g = -1e68 gives -inf) or rounding the product first (the reference: -inf + inf = NaN)
        loose = step >= float(np.finfo(p.dtype).max) / 2
        assert_matches("sgd_step param", p, rp, rtol=tol, atol=atol, overflow_ok=True, loose=loose)
        if b is not None and momentum != 0:
            assert_matches("sgd_step buffer", b, rb, rtol=tol, atol=tol * 10, overflow_ok=True)
    return Case("sgd_step", K.sgd_step, [p, g, b, lr, momentum, damp, wd, nesterov, first], {}, expect, valid,
                inplace={0, 2})


def adam_case(rng):
    dtype = draw_dtype(rng)
    shape = draw_shape(rng, big=0.05)
    p = draw_array(rng, shape, dtype)
    g = draw_array(rng, shape, dtype if rng.random() < 0.95 else draw_dtype(rng))
    m = draw_array(rng, shape, dtype)
    v = draw_array(rng, shape, dtype)
    with np.errstate(all="ignore"):
        if v.dtype.kind == "f" and v.flags.writeable and rng.random() < 0.8:
            v[...] = np.abs(v)
    step = (1, 2, 1000, 0, -1, 1.5)[rng.integers(6)] if rng.random() < 0.2 else 1 + int(rng.integers(5))
    lr, b1, b2 = _hyper(rng, (1e-3, 0.1, 0.0)), _hyper(rng, (0.9, 0.0, 0.5)), _hyper(rng, (0.999, 0.9, 0.0))
    eps, wd = _hyper(rng, (1e-8, 0.0, 1e-3)), _hyper(rng, (0.0, 1e-2))
    decoupled = bool(rng.random() < 0.5)
    valid = p.dtype in FLOATS and _state_ok(p, p) and _state_ok(m, p) and _state_ok(v, p) and g.shape == p.shape \
        and g.dtype == p.dtype and isinstance(step, int) and step >= 1
    rp, rm, rv = np.array(p), np.array(m), np.array(v)

    def expect(_):
        ref.adam_step(rp, np.array(g), rm, rv, step, lr, b1, b2, eps, wd, decoupled)
        tol = _rtol(p.dtype, 2e-5, 1e-12)
        for what, a, r in (("param", p, rp), ("exp_avg", m, rm), ("exp_avg_sq", v, rv)):
            mag = np.abs(r[np.isfinite(r)]).max(initial=1.0)
            assert_matches(f"adam_step {what}", a, r, rtol=tol, atol=tol * mag, overflow_ok=True)
    return Case("adam_step", K.adam_step, [p, g, m, v, step, lr, b1, b2, eps, wd, decoupled], {}, expect, valid,
                inplace={0, 2, 3})


# ---------------------------------------------------------------- through the compiled backend
def backend_matmul_case(rng):
    """np.matmul semantics (1-D, 2-D, batched, any dtype): the cython backend equals reference."""
    dtype = draw_dtype(rng, 0.8)
    nd_a, nd_b = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    k = draw_fz_side(rng)
    batch = draw_shape(rng, 0, 1)
    sa = batch[: max(nd_a - 2, 0)] + ((draw_fz_side(rng), k) if nd_a >= 2 else (k,))
    sb = ((k if rng.random() < 0.95 else k + 1, draw_fz_side(rng)) if nd_b >= 2 else (k,))
    sb = batch[: max(nd_b - 2, 0)] + sb
    if rng.random() < 0.05:
        sa, sb = (40, 33, 35), (35, 37)  # the batched path that calls the kernel per matrix
    a = draw_array(rng, sa, dtype, p_special=0.1)
    b = draw_array(rng, sb, dtype if rng.random() < 0.9 else draw_dtype(rng), p_special=0.1)

    try:
        with fz.quiet():
            r = ref.matmul(np.array(a), np.array(b))
        valid = True     # what the reference computes, the backend must compute
    except ALLOWED:
        r, valid = None, False

    def expect(c):
        c = np.asarray(c)
        if c.shape != np.shape(r) or c.dtype != np.asarray(r).dtype:
            raise Mismatch(f"backend matmul: {c.shape} {c.dtype} vs {np.shape(r)} {np.asarray(r).dtype}")
        if c.dtype.kind != "f" or a.dtype.kind not in "fiub" or b.dtype.kind not in "fiub":
            # ints, bool: exact; complex, object: NumPy's own sums, whose order follows the layout
            with np.errstate(all="ignore"):
                mag = np.abs(np.asarray(a, complex)) @ np.abs(np.asarray(b, complex)) if c.dtype.kind in "cO" else 0
            assert_matches("backend matmul", c, np.asarray(r), rtol=0, atol=np.nan_to_num(mag * 1e-6),
                           loose=np.ones((), bool) if c.dtype.kind in "cO" else None)
            return
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        a2, b2 = np.broadcast_to(a2, batch + a2.shape[-2:]), np.broadcast_to(b2, batch + b2.shape[-2:])
        r64 = np.empty(batch + (a2.shape[-2], b2.shape[-1]))
        magnitude = np.empty_like(r64)
        for index in np.ndindex(*batch):
            r64[index], magnitude[index] = fz.ieee_product(a2[index], b2[index])
        if a.ndim == 1:
            r64, magnitude = r64[..., 0, :], magnitude[..., 0, :]
        if b.ndim == 1:
            r64, magnitude = r64[..., 0], magnitude[..., 0]
        eps, tiny = float(np.finfo(c.dtype).eps), float(np.finfo(c.dtype).tiny)
        with np.errstate(all="ignore"):
            bound = magnitude * (a.shape[-1] + 2) * eps + tiny
        fz.assert_within_bound("backend matmul", c, r, r64, bound, fz.may_overflow(magnitude, c.dtype))
    return Case("backend.matmul", CB.matmul, [a, b], {}, expect, valid=valid)


def backend_case(make_kernel_case):
    """A kernel case sent through tinynn.backend.compiled: anything the reference accepts it must accept."""
    def make(rng):
        case = make_kernel_case(rng)
        fn = getattr(CB, case.name)
        inner = case.expect

        def expect(out):
            inner(out)
        try:
            with fz.quiet():
                getattr(ref, case.name)(*[np.array(a) if isinstance(a, np.ndarray) else a for a in case.args], **case.kwargs)
        except Exception as exc:
            if case.valid:
                raise Mismatch(f"the reference refused a valid call: {type(exc).__name__}: {exc}") from None
            return case   # (the reference refuses it too: the kernel's own error is checked instead)
        return Case(f"backend.{case.name}", fn, case.args, case.kwargs, expect, valid=case.valid, inplace=case.inplace)
    return make


KERNEL_CASES = {
    "relu": unary_case(K, "relu"),
    "sigmoid": unary_case(K, "sigmoid"),
    "tanh": unary_case(K, "tanh"),
    "relu_backward": binary_case(K, "relu_backward"),
    "sigmoid_backward": binary_case(K, "sigmoid_backward"),
    "tanh_backward": binary_case(K, "tanh_backward"),
    "softmax": softmax_case(K, "softmax"),
    "log_softmax": softmax_case(K, "log_softmax"),
    "softmax_backward": softmax_case(K, "softmax_backward", backward=True),
    "log_softmax_backward": softmax_case(K, "log_softmax_backward", backward=True),
    "cross_entropy": cross_entropy_case(K),
    "cross_entropy_backward": cross_entropy_backward_case(K),
    "matmul": matmul_case,
    "linear": linear_case,
    "linear_backward": linear_backward_case(K),
    "int8_matmul": int8_matmul_case,
    "int8_linear": int8_linear_case,
    "requantize": requantize_case,
    "quantize_rows": quantize_rows_case,
    "sgd_step": sgd_case,
    "adam_step": adam_case,
}
# cases per chunk (CHUNKS chunks per kernel): ~ the cost of one case sets its share
CHUNK_CASES = {name: 45 for name in KERNEL_CASES}
CHUNK_CASES.update({"matmul": 40, "linear": 30, "linear_backward": 30, "int8_linear": 30, "int8_matmul": 30})

BACKEND_CASES = {
    "softmax": softmax_case(CB, "softmax"),
    "log_softmax": softmax_case(CB, "log_softmax"),
    "softmax_backward": softmax_case(CB, "softmax_backward", backward=True),
    "log_softmax_backward": softmax_case(CB, "log_softmax_backward", backward=True),
    "matmul": backend_matmul_case,
    "relu": unary_case(CB, "relu"),
    "tanh_backward": binary_case(CB, "tanh_backward"),
    "cross_entropy": cross_entropy_case(CB),
    "linear_backward": backend_case(linear_backward_case(CB)),
}


@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("name", sorted(KERNEL_CASES))
def test_fuzz_kernel(name, chunk):
    n = fz.case_count() or CHUNK_CASES[name]
    n = max(1, n // CHUNKS) if fz.case_count() else n
    outcomes = run_many(KERNEL_CASES[name], chunk, n, f"kernels.{name}")
    assert outcomes["ok"] + outcomes["refused"] == n


@pytest.mark.parametrize("chunk", range(CHUNKS // 2))
@pytest.mark.parametrize("name", sorted(BACKEND_CASES))
def test_fuzz_backend(name, chunk):
    n = fz.case_count() or 40
    n = max(1, n // CHUNKS) if fz.case_count() else n
    outcomes = run_many(BACKEND_CASES[name], 100 + chunk, n, f"backend.{name}")
    assert outcomes["ok"] + outcomes["refused"] == n


def test_fuzz_cases_actually_exercise_both_outcomes():
    """Both branches are reached: most cases give a checked answer, some are refused."""
    total = {"ok": 0, "refused": 0}
    for name, make in KERNEL_CASES.items():
        out = run_many(make, 999, 20, f"kernels.{name}")
        for k in total:
            total[k] += out[k]
    assert total["ok"] > total["refused"] > 0


# ---------------------------------------------------------------- regressions found by fuzzing
def test_relu_of_nan_is_nan():
    x = np.array([np.nan, -np.nan, 1.0, -1.0, -0.0], np.float32)
    for arr in (x, x.astype(np.float64), np.tile(x, 1000)):
        np.testing.assert_array_equal(np.isnan(K.relu(arr)), np.isnan(arr))
        np.testing.assert_array_equal(np.isnan(CB.relu(arr)), np.isnan(ref.relu(arr)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_misaligned_inputs_are_copied_and_misaligned_outputs_refused(dtype):
    x = fz.as_layout(np.linspace(-3, 3, 4099).astype(dtype), "misaligned")
    assert not x.flags.aligned
    np.testing.assert_array_equal(K.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(K.softmax(x.reshape(1, -1)), ref.softmax(np.array(x).reshape(1, -1)), rtol=1e-5)
    out = fz.as_layout(np.zeros(4099, dtype), "misaligned")
    with pytest.raises(ValueError, match="aligned"):
        K.relu(x, out=out)
    p = fz.as_layout(np.ones(16, dtype), "misaligned")
    with pytest.raises(ValueError, match="aligned"):
        K.sgd_step(p, np.ones(16, dtype), None, 0.1, 0.0, 0.0, 0.0, False, True)
    s = fz.as_layout(np.full(3, 0.5, np.float32), "misaligned")
    q = K.quantize_rows(np.ones((3, 4), np.float32), s)
    np.testing.assert_array_equal(q, np.full((3, 4), 2, np.int8))


def test_quantize_rows_refuses_a_zero_point_outside_int8():
    """Regression (found by fuzzing): zero_point=10**30 was accepted and gave 127 for x = -1e38."""
    x = np.array([[-1e38, 0.0, 1e38]], np.float32)
    for zp in (128, -129, 10**30):
        with pytest.raises(ValueError, match="zero_point"):
            K.quantize_rows(x, 0.5, zp)
    np.testing.assert_array_equal(K.quantize_rows(x, 0.5, -128), [[-128, -128, 127]])
    np.testing.assert_array_equal(K.quantize_rows(x, 0.5, 127), [[-128, 127, 127]])


@pytest.mark.parametrize("path", K.simd_paths())
def test_sgd_step_whose_product_overflows_is_either_rounding_of_the_formula(path):
    """Regression (TINYNN_FUZZ_CASES=4000, sgd_step chunk 5 case 459): p = -inf, g = -max, lr = 1e30.
    p - lr g is -inf in exact arithmetic (lr g = -3.4e68 is finite) and with one rounding (the SIMD
    paths of an optimized build fuse it into an FMA, as PyTorch's add(alpha=-lr) does: torch gives -inf);
    rounding lr g first overflows it to -inf and gives -inf + inf = NaN (the reference, op by op; the
    portable path, and every path of the -O0 debug build).
    Either is the formula rounded; elements whose step does not reach the max still match exactly."""
    saved = K.get_simd()
    try:
        K.set_simd(path)
        for dtype in FLOATS:
            big = np.finfo(dtype).max
            p = np.array([-np.inf, np.inf, 1.0, -np.inf] * 8, dtype)
            g = np.array([-big, big, 0.5, 2.0] * 8, dtype)
            K.sgd_step(p, g, None, 1e30, 0.0, 0.0, 0.0, False, False)
            assert np.all(np.isnan(p[0::4]) | (p[0::4] == -np.inf)) and np.all(np.isnan(p[1::4]) | (p[1::4] == np.inf))
            np.testing.assert_array_equal(p[2::4], dtype.type(1.0) - dtype.type(1e30) * dtype.type(0.5))
            np.testing.assert_array_equal(p[3::4], -np.inf)               # lr g finite: -inf stays -inf
        case = sgd_case(np.random.default_rng([5, 459, zlib.crc32(b"kernels.sgd_step")]))
        with fz.quiet():
            assert run(case) == "ok"
    finally:
        K.set_simd(saved)
