"""Hypothesis properties of tinynn/tensor_extras/: each op against its definition written out here as a
loop or an index formula (scatter_reduce as a Python loop over src in index order; unfold's window (i, j)
is x[i step + j]; take reads the flattened x; masked_scatter fills the masked places in row-major order),
and identities that need no formula: stack(unbind(x, d), d) = x, the tensor_split pieces cat back to x,
rot90 four times is x, unique_consecutive's values repeated by its counts are x, diag_embed then diagonal
is x, unravel_index inverts the row-major flat index. On drawn shapes, dtypes, memory layouts and values
with ties, NaN and infinities, on both backends (helpers.properties.run_both), gradients included."""
import functools

import numpy as np
from hypothesis import given, settings, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, INTS, arrays, assert_same, run_both

ANY = FLOATS + INTS + (np.dtype(np.bool_),)
FEW = settings(max_examples=25)


@FEW
@given(arrays(dtypes=ANY, min_dims=1), st.data(), st.integers(0, 2**16))
def test_unbind_then_stack_is_the_identity(x, data, seed):
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    pieces, grads, ups = run_both(lambda t: tn.unbind(t, d), [x], seed)
    assert len(pieces) == x.shape[d]
    for i, p in enumerate(pieces):
        assert_same(p, np.take(x, i, axis=d), f"piece {i}")
    if pieces:
        assert_same(tn.stack([tn.tensor(p) for p in pieces], d).numpy(), x, "stack(unbind(x))")
    if grads:
        assert_same(grads[0], np.stack(ups, d % x.ndim), "gradient")


@FEW
@given(arrays(dtypes=ANY, min_dims=1), st.data(), st.integers(0, 2**16))
def test_tensor_split_pieces_cover_the_dim_in_order(x, data, seed):
    d = data.draw(st.integers(0, x.ndim - 1))
    n = x.shape[d]
    if data.draw(st.booleans()):
        spec = data.draw(st.integers(1, 6))
        small, extra = divmod(n, spec)
        sizes = [small + (k < extra) for k in range(spec)]   # the first n % spec pieces one longer
    else:
        spec = sorted(data.draw(st.lists(st.integers(0, n + 2), max_size=4)))
        bounds = [0, *(min(i, n) for i in spec), n]
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    pieces, grads, ups = run_both(lambda t: tn.tensor_split(t, spec, d), [x], seed)
    assert [p.shape[d] for p in pieces] == sizes
    assert_same(np.concatenate(pieces, d), x, "the pieces cat back to x")
    if grads:
        assert_same(grads[0], np.concatenate(ups, d), "gradient")


def scatter_loop(x, d, index, src, reduce, include_self):
    """PyTorch's definition, one src element at a time in index order (NumPy scalars of x's dtype)."""
    combine = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
    out, count = x.copy(), np.full(x.shape, int(include_self))
    seen = set()
    with np.errstate(all="ignore"):
        for k in np.ndindex(index.shape):
            place = k[:d] + (int(index[k]),) + k[d + 1:]
            first = place not in seen and not include_self   # without x, the first value sent there starts it
            seen.add(place)
            out[place] = src[k] if first else combine(out[place], src[k])
            count[place] += 1
        if reduce == "mean":
            for place in seen:
                out[place] = out[place] / x.dtype.type(count[place]) if x.dtype.kind == "f" else out[place] // count[place]
    return out


@st.composite
def scatter_cases(draw):
    x = draw(arrays(dtypes=FLOATS + (np.dtype(np.int64),), min_dims=1, min_side=1))
    d = draw(st.integers(0, x.ndim - 1))
    shape = tuple(draw(st.integers(0, 4 if a == d else x.shape[a])) for a in range(x.ndim))
    index = np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, x.shape[d], shape)
    src = draw(arrays(dtypes=(x.dtype,), shape=tuple(s + draw(st.integers(0, 1)) for s in shape)))
    return x, d, index, src, draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"])), draw(st.booleans())


@FEW
@given(scatter_cases(), st.integers(0, 2**16))
def test_scatter_reduce_is_the_loop_over_src(case, seed):
    x, d, index, src, reduce, include_self = case
    (y,), grads, ups = run_both(lambda a, s: a.scatter_reduce(d, tn.tensor(index), s, reduce, include_self=include_self),
                                [x, src], seed)
    part = src[tuple(slice(0, n) for n in index.shape)]
    assert_same(y, scatter_loop(x, d, index, part, reduce, include_self), f"scatter_reduce {reduce}")
    if grads and reduce == "sum":   # d y / d x = 1 where x is kept; d y_p / d src_k = 1 at p = its place
        kept = np.ones(x.shape, bool) if include_self else scatter_loop(np.ones(x.shape), d, index, np.zeros(part.shape),
                                                                       "sum", False).astype(bool)
        assert_same(grads[0], np.where(kept, ups[0], 0).astype(x.dtype), "gradient of x")
        expected = np.zeros(src.shape, src.dtype)
        for k in np.ndindex(index.shape):
            expected[k] = ups[0][k[:d] + (int(index[k]),) + k[d + 1:]]
        assert_same(grads[1], expected, "gradient of src")


@FEW
@given(arrays(dtypes=ANY, min_dims=1), st.data(), st.integers(0, 2**16))
def test_unfold_windows_are_x_at_i_step_plus_j_and_the_gradient_counts_them(x, data, seed):
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[d]
    size, step = data.draw(st.integers(0, n)), data.draw(st.integers(1, 4))
    (y,), grads, ups = run_both(lambda t: t.unfold(d, size, step), [x], seed)
    count = (n - size) // step + 1
    moved = np.moveaxis(x, d, -1)
    expected = np.stack([moved[..., i * step:i * step + size] for i in range(count)], -2) if count else None
    assert y.shape == x.shape[:d % x.ndim] + (count,) + x.shape[d % x.ndim + 1:] + (size,)
    assert_same(np.moveaxis(y, d % x.ndim, -2), expected, "windows")
    if grads:
        back = np.zeros(moved.shape, x.dtype)
        g = np.moveaxis(ups[0], d % x.ndim, -2)
        for i in range(count):
            back[..., i * step:i * step + size] += g[..., i, :]
        assert_same(grads[0], np.moveaxis(back, -1, d), "gradient: each element once per window holding it")


@FEW
@given(arrays(dtypes=ANY, min_dims=2), st.data(), st.integers(0, 2**16))
def test_rot90_four_times_is_the_identity_and_k_then_minus_k_too(x, data, seed):
    d0, d1 = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=2, max_size=2, unique=True))
    k = data.draw(st.integers(-6, 6))
    (y,), grads, ups = run_both(lambda t: t.rot90(k, [d0, d1]), [x], seed)
    expected = np.rot90(x, k, axes=(d0, d1))   # NumPy's rot90: the same turn, from d0 towards d1
    assert_same(y, expected, "rot90")
    t = tn.tensor(x)
    assert_same(t.rot90(1, [d0, d1]).rot90(1, [d0, d1]).rot90(1, [d0, d1]).rot90(1, [d0, d1]).numpy(), x, "four turns")
    assert_same(tn.rot90(tn.tensor(y), -k, [d0, d1]).numpy(), x, "k then -k")
    if grads:
        assert_same(grads[0], np.rot90(ups[0], -k, axes=(d0, d1)), "gradient: the inverse turn")


@FEW
@given(arrays(dtypes=ANY, min_dims=1, min_side=1), st.data(), st.integers(0, 2**16))
def test_take_reads_the_flattened_tensor_and_put_writes_it(x, data, seed):
    n = x.size
    index = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=6)), np.int64)
    (y,), grads, ups = run_both(lambda t: t.take(tn.tensor(index)), [x], seed)
    assert_same(y, x.reshape(-1)[index], "take")
    if grads:
        back = np.zeros(n, x.dtype)
        np.add.at(back, index, ups[0])
        assert_same(grads[0], back.reshape(x.shape), "gradient")
    distinct = np.unique(index % n)
    source = np.arange(distinct.size).astype(x.dtype)
    put = tn.tensor(x).put(tn.tensor(distinct), tn.tensor(source))
    assert_same(put.take(tn.tensor(distinct)).numpy(), source, "take after put returns what was put")


@FEW
@given(arrays(dtypes=ANY, min_dims=1), st.integers(0, 2**16))
def test_masked_scatter_fills_the_masked_places_in_row_major_order(x, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random(x.shape) < 0.5
    source = rng.integers(-3, 4, int(mask.sum()) + 2).astype(x.dtype)
    (y,), grads, ups = run_both(lambda t, s: t.masked_scatter(tn.tensor(mask), s), [x, source], seed)
    assert_same(y[mask], source[:mask.sum()], "the masked places")
    assert_same(y[~mask], x[~mask], "the others")
    if grads:
        assert_same(grads[0], np.where(mask, 0, ups[0]).astype(x.dtype), "gradient of x")
        assert_same(grads[1], np.concatenate([ups[0][mask], np.zeros(2, x.dtype)]), "gradient of source")


@FEW
@given(arrays(dtypes=ANY, kinds=("ties",), min_dims=1, max_dims=2), st.booleans())
def test_unique_consecutive_values_repeated_by_counts_give_back_x(x, by_dim):
    dim = 0 if by_dim else None
    values, inverse, counts = tn.unique_consecutive(tn.tensor(x), True, True, dim)
    flat = x.reshape(-1) if dim is None else x
    assert_same(np.repeat(values.numpy(), counts.numpy(), axis=0), flat, "values repeated by counts")
    assert_same(values.numpy()[inverse.numpy().reshape(-1)].reshape(np.shape(flat)), flat, "values[inverse]")
    if len(values) > 1:   # neighbouring runs differ
        assert all(not np.array_equal(a, b) for a, b in zip(values.numpy(), values.numpy()[1:]))


@FEW
@given(arrays(dtypes=ANY, min_dims=1), st.integers(-3, 3), st.integers(0, 2**16))
def test_diag_embed_then_diagonal_is_the_identity(x, offset, seed):
    (y,), grads, ups = run_both(lambda t: tn.diag_embed(t, offset), [x], seed)
    assert_same(np.diagonal(y, offset, -2, -1), x, "diagonal(diag_embed(x))")
    rows, cols = np.indices(y.shape[-2:])
    assert not y[..., cols - rows != offset].any(), "zeros off the diagonal"
    if grads:
        assert_same(grads[0], np.diagonal(ups[0], offset, -2, -1), "gradient")


@FEW
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.lists(st.integers(-100, 100), max_size=8))
def test_unravel_index_inverts_the_row_major_flat_index(shape, flat):
    coords = tn.unravel_index(tn.tensor(np.array(flat, np.int64)), tuple(shape))
    strides = [functools.reduce(lambda a, b: a * b, shape[k + 1:], 1) for k in range(len(shape))]
    again = sum(c.numpy() * s for c, s in zip(coords, strides))
    size = functools.reduce(lambda a, b: a * b, shape, 1)
    assert_same(again, np.array(flat, np.int64) % size, "sum_d coord_d stride_d = index mod numel")
    assert all(((c.numpy() >= 0) & (c.numpy() < n)).all() for c, n in zip(coords, shape))
