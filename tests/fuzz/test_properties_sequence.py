"""Hypothesis properties of the sequence-model ops: scaled_dot_product_attention (bool and float
masks, is_causal, scale), MultiheadAttention, layer_norm (with and without affine, one or two
normalized dims) and embedding (padding_idx, the largest index, repeated indices): on random
shapes (batch 0 and 1 included), float32 and float64 and any memory layout, values and gradients
under a random upstream gradient agree on both backends with the float64 reference, per element
within the op's error bound (helpers.agreement); plus identities that need no reference."""
import numpy as np
from hypothesis import example, given, strategies as st

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

from helpers import fuzzing as fz
from helpers.agreement import assert_agree

K = 8
dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**32 - 1)
small = st.sampled_from([1, 1, 2, 3, 5, 8])
backends = st.sampled_from(tn.backend.available())


def finite_abs(a):
    return np.abs(fz.finite_part(a))


# ---------------------------------------------------------------- scaled dot-product attention
@st.composite
def attention_case(draw):
    dtype = draw(dtypes)
    batch = draw(st.sampled_from([(), (0,), (1,), (2,), (2, 3)]))
    length, keys, e, ev = draw(small), draw(small), draw(small), draw(small)
    q = draw(fz.st_array(batch + (length, e), dtype, p_special=(0.0, 0.0, 0.02)))
    k = draw(fz.st_array(batch + (keys, e), dtype, p_special=(0.0,)))
    v = draw(fz.st_array(batch + (keys, ev), dtype, p_special=(0.0, 0.0, 0.02)))
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask = None
    if kind in ("bool", "float"):
        allowed = rng.random((length, keys)) < 0.7
        allowed[:, 0] = True                      # every query keeps a key (a row of -inf only is NaN)
        mask = allowed if kind == "bool" else np.where(allowed, rng.standard_normal((length, keys)), -np.inf).astype(dtype)
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return q, k, v, mask, kind == "causal", scale


def attention_bound(q, k, v, mask, causal, scale, ups, mags=None, extra=0):
    """softmax(s Q K^T + M) V: the scores within (E + K) eps s |Q| |K|^T (P moves by that, relatively),
    the output a sum of S terms P |V|; the gradients the same sums over G (dS = P (dP - sum dP P)).
    mags: the magnitudes of Q, K, V's own terms when they are computed (else |Q|, |K|, |V|); extra:
    roundings those carry (relative, in eps)."""
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    aq, ak, av = mags or (finite_abs(q), finite_abs(k), finite_abs(v))
    g = np.abs(ups[0])
    with np.errstate(all="ignore"):
        scores = s * np.einsum("...le,...se->...ls", q, k) + (0 if mask is None or mask.dtype == bool
                                                               else np.where(np.isfinite(mask), mask, 0))
        allowed = np.ones(scores.shape, bool) if mask is None else np.broadcast_to(
            mask if mask.dtype == bool else np.isfinite(mask), scores.shape)
        if causal:
            allowed = allowed & np.tri(*scores.shape[-2:], dtype=bool)
        scores = np.where(allowed, scores, -np.inf)
        p = np.exp(scores - np.max(scores, axis=-1, keepdims=True, initial=-np.inf))
        p = np.nan_to_num(p / np.sum(p, axis=-1, keepdims=True))
        err = q.shape[-1] + k.shape[-2] + q.shape[-2] + v.shape[-1] + K + extra \
            + s * np.einsum("...le,...se->...ls", aq, ak).max(axis=-1, keepdims=True, initial=0.0) \
            + (0 if mask is None or mask.dtype == bool else np.abs(np.where(np.isfinite(mask), mask, 0)).max(initial=0))
        out = err * (p @ av)
        dp = g @ np.swapaxes(av, -1, -2)                       # |G| |V|^T
        ds = err * p * (dp + np.sum(p * dp, axis=-1, keepdims=True))
        dq, dk = s * ds @ ak, s * np.swapaxes(ds, -1, -2) @ aq
        dv = np.max(err, axis=(-2, -1), keepdims=True, initial=0.0) * (np.swapaxes(p, -1, -2) @ g)
    grads = [out, dq, dk, dv]
    if mask is not None and mask.dtype != bool:
        grads.append(ds.sum(axis=tuple(range(ds.ndim - 2))) if ds.ndim > 2 else ds)
    return [K * m for m in grads]


@given(case=attention_case(), seed=seeds)
def test_scaled_dot_product_attention_agrees(case, seed):
    q, k, v, mask, causal, scale = case
    arrays = [q, k, v] + ([mask] if mask is not None and mask.dtype != bool else [])

    def fn(q, k, v, *float_mask):
        m = float_mask[0] if float_mask else (None if mask is None else tn.tensor(mask))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal, scale=scale)
    assert_agree(fn, arrays, lambda a, vals, g, u: attention_bound(a[0], a[1], a[2], mask, causal, scale, u),
                 seed=seed, what="scaled_dot_product_attention")


@given(b=small, length=small, e=small, seed=seeds, backend=backends)
def test_attention_over_one_key_returns_its_value(b, length, e, seed, backend):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((b, length, e)), rng.standard_normal((b, 1, e)), rng.standard_normal((b, 1, 3))
    with tn.use_backend(backend):
        out = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.tensor(v)).numpy()
    np.testing.assert_allclose(out, np.broadcast_to(v, (b, length, 3)), rtol=1e-15)


@given(length=st.integers(2, 8), e=small, t=st.integers(0, 6), seed=seeds, backend=backends)
def test_causal_output_at_step_t_ignores_later_keys_and_values(length, e, t, seed, backend):
    t = t % length
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((2, length, e)) for _ in range(3))
    k2, v2 = k.copy(), v.copy()
    k2[:, t + 1:] += rng.standard_normal(k2[:, t + 1:].shape) * 10
    v2[:, t + 1:] = rng.standard_normal(v2[:, t + 1:].shape) * 10
    with tn.use_backend(backend):
        a = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.tensor(v), is_causal=True).numpy()
        b = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k2), tn.tensor(v2), is_causal=True).numpy()
    np.testing.assert_array_equal(a[:, :t + 1], b[:, :t + 1])


# ---------------------------------------------------------------- multi-head attention
@given(dtype=dtypes, n=st.sampled_from([1, 2, 3]), length=small, keys=small, heads=st.sampled_from([1, 2]),
       batch_first=st.booleans(), bias=st.booleans(), seed=seeds)
def test_multihead_attention_agrees(dtype, n, length, keys, heads, batch_first, bias, seed):
    """Per element: the input projections are sums over E of |x| |W| + |b| (their own roundings,
    relative), attention_bound over those magnitudes (with the projections' E roundings more), then
    the output projection's sum over E of |W_out| times the attention output and its error; the
    gradients the same chain backward (the upstream through |W_out|, the result through |W_in|)."""
    e = 2 * heads
    rng = np.random.default_rng(seed)
    layers = {np.dtype(np.float32): nn.MultiheadAttention(e, heads, bias=bias, batch_first=batch_first)}
    if bias:  # (PyTorch's init leaves the biases 0)
        layers[np.dtype(np.float32)].in_proj_bias.data = tn.tensor(rng.standard_normal(3 * e).astype(np.float32))
    layers[np.dtype(np.float64)] = nn.MultiheadAttention(e, heads, bias=bias, batch_first=batch_first).double()
    layers[np.dtype(np.float64)].load_state_dict({k: tn.tensor(np.asarray(v, np.float64))
                                                   for k, v in layers[np.dtype(np.float32)].state_dict().items()})
    if dtype == np.float64 and rng.random() < 0.5:  # float64 weights that are not float32 values too
        layers[np.dtype(np.float64)].load_state_dict({k: tn.tensor(rng.standard_normal(v.shape) * 0.5)
                                                       for k, v in layers[np.dtype(np.float64)].state_dict().items()})
    shape = (lambda s: (n, s, e) if batch_first else (s, n, e))
    q = fz.as_layout(rng.standard_normal(shape(length)).astype(dtype), ("C", "transposed", "negative")[seed % 3])
    kv = rng.standard_normal(shape(keys)).astype(dtype)

    def bound(a, values, grads, ups):
        state = {k: np.asarray(v, np.float64) for k, v in layers[np.dtype(np.float64)].state_dict().items()}
        w_in, w_out = state["in_proj_weight"], state["out_proj.weight"]
        b_in = state.get("in_proj_bias", np.zeros(3 * e))
        time_first = (lambda x: np.swapaxes(x, 0, 1)) if batch_first else (lambda x: x)   # (L, N, E)
        x_q, x_kv, g = time_first(a[0]), time_first(a[1]), time_first(np.abs(ups[0]))
        d = e // heads
        heads_of = lambda x: x.reshape(x.shape[0], n, heads, d).transpose(1, 2, 0, 3)     # noqa: E731  (N, h, L, d)
        merge = lambda x: x.transpose(2, 0, 1, 3).reshape(x.shape[2], n, e)              # noqa: E731
        parts = [(x, w_in[i * e:(i + 1) * e], b_in[i * e:(i + 1) * e]) for i, x in enumerate((x_q, x_kv, x_kv))]
        signed = [heads_of(x @ w.T + b) for x, w, b in parts]
        mags = [heads_of(np.abs(x) @ np.abs(w).T + np.abs(b)) for x, w, b in parts]
        up = heads_of(g @ np.abs(w_out))                       # the upstream through the output projection
        att = attention_bound(*signed, None, False, None, [up], mags=mags, extra=2 * e + K)
        attn_mag = merge(att[0] / K)                            # the attention output's error, in eps
        p_v = merge(np.broadcast_to(mags[2].max(axis=-2, keepdims=True), signed[0].shape))  # >= P |V| (rows of P sum to 1)
        out = attn_mag @ np.abs(w_out).T + (e + K) * (p_v @ np.abs(w_out).T + np.abs(state.get("out_proj.bias", 0)))
        dq = merge(att[1] / K) @ np.abs(w_in[:e])
        dkv = merge(att[2] / K) @ np.abs(w_in[e:2 * e]) + merge(att[3] / K) @ np.abs(w_in[2 * e:])
        back = (lambda x: np.swapaxes(x, 0, 1)) if batch_first else (lambda x: x)
        return [K * (np.abs(values[0]) + back(out)), K * (np.abs(grads[0]) + back(dq)), K * (np.abs(grads[1]) + back(dkv))]
    assert_agree(lambda q, kv: layers[q.dtype](q, kv, kv, need_weights=False)[0], [q, kv], bound, seed=seed,
                 what="MultiheadAttention")


# ---------------------------------------------------------------- layer norm
@st.composite
def layer_norm_case(draw):
    dtype = draw(dtypes)
    batch = draw(st.sampled_from([(0,), (1,), (3,), (2, 3)]))
    normalized = draw(st.sampled_from([(1,), (2,), (7,), (17,), (2, 3), (4, 5)]))
    x = draw(fz.st_array(batch + normalized, dtype, p_special=(0.0, 0.0, 0.05)))
    rng = np.random.default_rng(draw(seeds))
    affine = draw(st.sampled_from([(True, True), (True, False), (False, False)]))
    params = [rng.standard_normal(normalized).astype(dtype) for on in affine if on]
    return x, normalized, affine, params


def layer_norm_bound(x, normalized, affine, params, ups, dtype):
    """Where the squared deviations of a row overflow `dtype` (|x| near its max), the variance is
    inf there and y collapses to beta (PyTorch's float32 kernel too) while float64 holds it: no
    bound on that row's values and input gradients (the bias gradient, sum g, is unaffected)."""
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    n = int(np.prod(normalized))
    ax = finite_abs(x)
    xf = fz.finite_part(x)
    w = np.abs(params[0]) if affine[0] else 1.0
    b = np.abs(params[1]) if affine[1] else 0.0
    with np.errstate(all="ignore"):
        mu = xf.mean(axis=axes, keepdims=True)
        r = 1 / np.sqrt(((xf - mu) ** 2).mean(axis=axes, keepdims=True) + 1e-5)
        xhat = np.abs(xf - mu) * r
        c = n + K
        err = xhat + r * (ax + ax.max(axis=axes, keepdims=True, initial=0.0))   # x - mu rounds on |x| + |mu|
        lost = ((xf - mu) ** 2).sum(axis=axes, keepdims=True) > np.finfo(dtype).max
        err = np.where(lost, np.inf, err)
        y = c * (w * err + b)
        d = np.abs(ups[0]) * w
        dx = c * r * (d + d.mean(axis=axes, keepdims=True) + err * (d * err).mean(axis=axes, keepdims=True))
        rows = tuple(range(x.ndim - len(normalized)))
        count = max(int(np.prod([x.shape[i] for i in rows])), 1)
        dw = (c + count) * np.sum(np.abs(ups[0]) * err, axis=rows)
        db = (c + count) * np.sum(np.abs(ups[0]), axis=rows)
    return [K * y, K * dx] + [K * m for m, on in zip((dw, db), affine) if on]


@given(case=layer_norm_case(), seed=seeds)
@example(case=(np.array([[[24.439875, -32.171497, -3.4028235e38], [-14.862033, -57.244236, 34.164165]]], np.float32),
               (2, 3), (True, True), [np.array([[0.12573022, -0.13210486, 0.64042264],
                                                [0.10490011, -0.5356694, 0.36159506]], np.float32),
                                      np.array([[1.304, 0.94708097, -0.70373523],
                                                [-1.2654215, -0.62327445, 0.04132598]], np.float32)]),
         seed=0)   # float32's max in the row: its variance overflows float32 (found by the thorough profile)
def test_layer_norm_agrees(case, seed):
    x, normalized, affine, params = case

    def fn(x, *ps):
        w = ps[0] if affine[0] else None
        b = ps[1] if affine[1] else None
        return F.layer_norm(x, normalized, w, b)
    assert_agree(fn, [x] + params, lambda a, v, g, u: layer_norm_bound(a[0], normalized, affine, a[1:], u, x.dtype),
                 seed=seed, what=f"layer_norm {normalized} affine={affine}")


@given(rows=small, n=st.integers(2, 40), shift=st.floats(-100, 100), spread=st.floats(0.1, 100), seed=seeds,
       backend=backends, dtype=dtypes)
def test_layer_norm_rows_have_mean_0_and_variance_1(rows, n, shift, spread, seed, backend, dtype):
    x = (np.random.default_rng(seed).standard_normal((rows, n)) * spread + shift).astype(dtype)
    with tn.use_backend(backend):
        y = F.layer_norm(tn.tensor(x), (n,), eps=0.0).numpy().astype(np.float64)
    eps = np.finfo(dtype).eps
    # x - mu carries eps |mu| of error: relative to the row's spread, (|mu| / std) eps per element
    tol = 16 * n * eps * (1 + np.abs(x.astype(np.float64).mean(axis=1)) / x.astype(np.float64).std(axis=1))
    assert np.all(np.abs(y.mean(axis=1)) <= tol)
    assert np.all(np.abs(y.var(axis=1) - 1) <= 4 * tol)


# ---------------------------------------------------------------- embedding
@given(dtype=dtypes, num=st.sampled_from([1, 2, 5, 17]), dim=small, idx_shape=st.sampled_from([(0,), (1,), (6,), (2, 5)]),
       padding=st.sampled_from([None, 0, -1, 1]), seed=seeds)
def test_embedding_agrees(dtype, num, dim, idx_shape, padding, seed):
    rng = np.random.default_rng(seed)
    padding = None if padding is None or padding >= num else padding
    weight = fz.as_layout(rng.standard_normal((num, dim)).astype(dtype), ("C", "transposed", "negative")[seed % 3])
    indices = rng.integers(0, num, idx_shape)
    if indices.size:
        indices.reshape(-1)[0] = num - 1                    # the largest index, and repeats when size > num

    def bound(a, v, g, u):
        counts = np.bincount(indices.reshape(-1), minlength=num)[:, None]
        total = np.zeros((num, dim))
        np.add.at(total, indices.reshape(-1), np.abs(u[0]).reshape(-1, dim))
        return [0 * v[0], (counts + 1) * total]            # a copy is exact; the gradient sums each row's uses
    assert_agree(lambda w: F.embedding(tn.tensor(indices), w, padding_idx=padding), [weight], bound, seed=seed,
                 what="embedding")


@given(num=st.integers(2, 9), dim=small, n=st.integers(0, 12), seed=seeds, backend=backends)
def test_embedding_gradient_counts_each_use_and_is_zero_at_padding_idx(num, dim, n, seed, backend):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num, n)
    pad = int(rng.integers(0, num))
    g = rng.standard_normal((n, dim))
    with tn.use_backend(backend):
        w = tn.tensor(rng.standard_normal((num, dim)), requires_grad=True)
        out = F.embedding(tn.tensor(indices), w, padding_idx=pad)
        out.backward(tn.tensor(g))
    np.testing.assert_array_equal(out.numpy(), w.numpy()[indices])
    expected = np.zeros((num, dim))
    np.add.at(expected, indices, g)
    expected[pad] = 0.0
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-15, atol=1e-15)
    assert not w.grad.numpy()[pad].any()
