"""Hypothesis properties of the ops that move, pick or accumulate elements: tril/triu, diagonal/diag, roll,
movedim, flip, hstack/vstack/dstack, masked_select, scatter_add, index_add, repeat_interleave, tile,
meshgrid. Each expected result is the op's definition written out as a loop or an index formula here
(tril keeps x[i, j] where j - i <= k; roll puts x[i] at (i + s) mod n; scatter_add adds src[p] at p
with p[dim] replaced by index[p]; ...), plus the identities that need no formula (tril(k) + triu(k + 1)
= x, roll by s then -s, flip twice, movedim and back). Every op here is linear in its float input, so
its gradient is the forward's adjoint: it must put each upstream element back where the forward took
it from (summed where the forward copied an element several times). On drawn shapes, dtypes, memory
layouts and values with ties, NaN and infinities, on both backends (helpers.properties.run_both)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn

from helpers.properties import FLOATS, INTS, arrays, assert_same, run_both, shapes

ANY = FLOATS + INTS + (np.dtype(np.bool_),)
EXACT = ("ties", "special")   # small integers (sums exact), with NaN and infinities


def moved(g, shape):
    """The zero array of `shape` and g's dtype, to be filled with g's elements."""
    return np.zeros(shape, np.asarray(g).dtype)


# ---------------------------------------------------------------- triangles and diagonals
@given(arrays(dtypes=ANY, min_dims=2), st.integers(-3, 3) | st.integers(-6, 6), st.integers(0, 2**16))
def test_tril_and_triu_keep_the_elements_on_their_side_of_diagonal_k(x, k, seed):
    (low,), grads_low, ups = run_both(lambda t: tn.tril(t, k), [x], seed)
    (up,), _, _ = run_both(lambda t: tn.triu(t, k + 1), [x], seed)
    rows, cols = np.indices(x.shape[-2:])
    keep = cols - rows <= k
    assert_same(low, np.where(keep, x, np.zeros((), x.dtype)), "tril")
    assert_same(up, np.where(~keep, x, np.zeros((), x.dtype)), "triu(k + 1)")
    if x.dtype != np.bool_:
        assert_same(low + up, x, "tril(k) + triu(k + 1) = x")
    if grads_low:
        assert_same(grads_low[0], np.where(keep, ups[0], 0).astype(x.dtype), "gradient")


@st.composite
def diagonal_cases(draw):
    x = draw(arrays(dtypes=ANY, min_dims=2))
    dim1, dim2 = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=2, max_size=2,
                               unique_by=lambda d: d % x.ndim))
    return x, draw(st.integers(-6, 6)), dim1, dim2


@given(diagonal_cases(), st.integers(0, 2**16))
def test_diagonal_takes_the_elements_with_j_minus_i_equal_to_the_offset(case, seed):
    x, offset, dim1, dim2 = case
    (y,), grads, ups = run_both(lambda t: tn.diagonal(t, offset, dim1, dim2), [x], seed)
    m = np.moveaxis(x, (dim1, dim2), (-2, -1))
    places = [(i, i + offset) for i in range(m.shape[-2]) if 0 <= i + offset < m.shape[-1]]
    assert y.shape == m.shape[:-2] + (len(places),) and y.dtype == x.dtype
    for k, (i, j) in enumerate(places):
        assert_same(y[..., k], m[..., i, j], f"element {k}")
    if grads:
        expected = moved(ups[0], m.shape)
        for k, (i, j) in enumerate(places):
            expected[..., i, j] = ups[0][..., k]
        assert_same(grads[0], np.moveaxis(expected, (-2, -1), (dim1, dim2)), "gradient")


@given(arrays(dtypes=ANY, min_dims=1, max_dims=1), st.integers(-4, 4), st.integers(0, 2**16))
def test_diag_puts_a_vector_on_a_diagonal_of_zeros_and_takes_it_back(v, k, seed):
    (d,), grads, ups = run_both(lambda t: tn.diag(t, k), [v], seed)
    n = len(v) + abs(k)
    assert d.shape == (n, n) and d.dtype == v.dtype
    rows, cols = np.indices((n, n))
    assert not d[cols - rows != k].any(), "zeros off the diagonal"
    assert_same(np.array([d[i, i + k] for i in range(n) if 0 <= i + k < n], v.dtype).reshape(v.shape), v)
    assert_same(tn.diag(tn.tensor(d), k).numpy(), v, "diag(diag(v, k), k) = v")
    if grads:
        assert_same(grads[0], np.array([ups[0][i, i + k] for i in range(n) if 0 <= i + k < n], v.dtype).reshape(v.shape))


# ---------------------------------------------------------------- roll, movedim, flip
@st.composite
def roll_cases(draw):
    x = draw(arrays(dtypes=ANY, min_dims=1))
    if draw(st.booleans()):
        return x, draw(st.integers(-12, 12)), None
    dims = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=3))
    return x, tuple(draw(st.integers(-12, 12)) for _ in dims), tuple(dims)


@given(roll_cases(), st.integers(0, 2**16))
def test_roll_moves_element_i_to_i_plus_s_mod_n_and_back(case, seed):
    x, shifts, dims = case
    (y,), grads, ups = run_both(lambda t: tn.roll(t, shifts, dims), [x], seed)
    expected = x.reshape(-1) if dims is None else x
    for s, d in ([(shifts, 0)] if dims is None else zip(shifts, dims)):
        n = expected.shape[d]   # y[(i + s) mod n] = x[i], i.e. y[j] = x[(j - s) mod n]
        expected = np.take(expected, (np.arange(n) - s) % n if n else np.arange(0), axis=d)
    assert_same(y, expected.reshape(x.shape), "roll")
    back = tn.roll(tn.tensor(y), tuple(-s for s in shifts) if dims is not None else -shifts, dims).numpy()
    assert_same(back, x, "roll by -s undoes roll by s")
    sizes = x.size if dims is None else tuple(x.shape[d] for d in dims)
    assert_same(tn.roll(tn.tensor(x), sizes, dims).numpy(), x, "roll by the size is the identity")
    if grads:   # the adjoint of a permutation is its inverse
        assert_same(grads[0], tn.roll(tn.tensor(ups[0]), tuple(-s for s in shifts) if dims is not None else -shifts,
                                      dims).numpy(), "gradient")


@st.composite
def movedim_cases(draw):
    x = draw(arrays(dtypes=ANY, min_dims=1, max_dims=4, max_side=3))
    n = x.ndim
    src = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    dst = draw(st.permutations(range(n)))[:len(src)]
    negate = draw(st.booleans())
    if len(src) == 1 and draw(st.booleans()):
        return x, src[0] - n * negate, dst[0]
    return x, [s - n * negate for s in src], list(dst)


@given(movedim_cases(), st.integers(0, 2**16))
def test_movedim_puts_each_source_dim_at_its_destination_and_moves_back(case, seed):
    x, source, destination = case
    (y,), grads, ups = run_both(lambda t: tn.movedim(t, source, destination), [x], seed)
    src = [s % x.ndim for s in np.atleast_1d(source)]
    dst = list(np.atleast_1d(destination))
    order = [None] * x.ndim   # y's dim k is x's dim order[k]; the other dims keep their order
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    assert_same(y, x.transpose(order), "movedim")
    assert_same(tn.movedim(tn.tensor(y), destination, source).numpy(), x, "and back")
    if grads:
        assert_same(grads[0], ups[0].transpose(np.argsort(order)), "gradient")


@given(arrays(dtypes=ANY, min_dims=1), st.data(), st.integers(0, 2**16))
def test_flip_reverses_each_dim_and_twice_is_the_identity(x, data, seed):
    dims = data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), unique_by=lambda d: d % x.ndim))
    (y,), grads, ups = run_both(lambda t: tn.flip(t, dims), [x], seed)
    reverse = tuple(slice(None, None, -1) if any(d % x.ndim == a for d in dims) else slice(None) for a in range(x.ndim))
    assert_same(y, x[reverse], "x[..., n - 1 - i, ...]")
    assert_same(tn.flip(tn.tensor(y), dims).numpy(), x, "flip twice")
    if grads:
        assert_same(grads[0], ups[0][reverse], "gradient")


# ---------------------------------------------------------------- hstack, vstack, dstack
MADE = {"hstack": lambda s: s or (1,),                                  # a 0-d tensor: (1,)
        "vstack": lambda s: (1,) * (2 - len(s)) + s,                      # (n,) -> (1, n)
        "dstack": lambda s: (1,) * (2 - len(s)) + s + (1,)}               # (n,) -> (1, n, 1), (m, n) -> (m, n, 1)


@st.composite
def stack_cases(draw):
    """(which, tensors, the shape each is made first, the dim they are joined along)."""
    which = draw(st.sampled_from(sorted(MADE)))
    least = {"hstack": 1, "vstack": 2, "dstack": 3}[which]
    ndim, dtype, count = draw(st.integers(0, 3)), draw(st.sampled_from(FLOATS + INTS)), draw(st.integers(1, 3))
    dim = {"hstack": 0 if ndim <= 1 else 1, "vstack": 0, "dstack": 2}[which]
    if ndim < least:
        small = draw(shapes(ndim, ndim, 0, 3))
        given_shapes, made = [small] * count, [MADE[which](small)] * count
    else:
        common = draw(shapes(ndim, ndim, 0, 3))
        given_shapes = [common[:dim] + (draw(st.integers(0, 3)),) + common[dim + 1:] for _ in range(count)]
        made = given_shapes
    return which, [draw(arrays(dtypes=(dtype,), shape=s)) for s in given_shapes], made, dim


@given(stack_cases(), st.integers(0, 2**16))
def test_stacks_join_the_tensors_made_at_least_1_2_3_d_along_their_dim(case, seed):
    which, tensors, made, dim = case
    (y,), grads, ups = run_both(lambda *ts: getattr(tn, which)(list(ts)), tensors, seed)
    assert y.shape[dim] == sum(s[dim] for s in made) and y.dtype == tensors[0].dtype
    start = 0
    for k, (t, shape) in enumerate(zip(tensors, made)):
        piece = (slice(None),) * dim + (slice(start, start + shape[dim]),)
        assert_same(y[piece], t.reshape(shape), f"tensor {k}")
        if grads:
            assert_same(grads[k], ups[0][piece].reshape(t.shape), f"gradient {k}")
        start += shape[dim]


# ---------------------------------------------------------------- masked_select, scatter_add, index_add
@given(shapes(max_dims=3, max_side=3).flatmap(lambda s: st.tuples(st.just(s), st.lists(st.booleans(), min_size=len(s),
                                                                                       max_size=len(s)))),
       st.sampled_from(ANY), st.integers(0, 2**16), st.booleans())
def test_masked_select_lists_the_chosen_elements_in_row_major_order(shape_and_ones, dtype, seed, swap):
    shape, ones = shape_and_ones
    rng = np.random.default_rng(seed)
    small = tuple(1 if o else s for s, o in zip(shape, ones))   # one of them broadcast along some dims
    xs, ms = (small, shape) if swap else (shape, small)
    x = np.asarray(rng.integers(-3, 4, xs).astype(dtype) if dtype != np.bool_ else rng.random(xs) < 0.5)
    mask = np.asarray(rng.random(ms) < 0.5)
    (y,), grads, ups = run_both(lambda t, m: tn.masked_select(t, m), [x, mask], seed)
    full = np.broadcast_shapes(xs, ms)
    where = [p for p in np.ndindex(*full) if np.broadcast_to(mask, full)[p]]
    assert_same(y, np.array([np.broadcast_to(x, full)[p] for p in where], x.dtype).reshape(-1), "selected")
    if grads:   # an element broadcast to several chosen places gets the sum of their gradients
        expected = moved(ups[0], x.shape)
        for g, p in zip(ups[0], where):
            expected[tuple(0 if n == 1 else i for i, n in zip(p[len(full) - x.ndim:], x.shape))] += g
        assert_same(grads[0], expected, "gradient")


@st.composite
def scatter_cases(draw):
    shape = draw(shapes(1, 3, 1, 4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(0, 4)) if d == dim % len(shape) else draw(st.integers(0, n))
                        for d, n in enumerate(shape))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    dtype = draw(st.sampled_from(FLOATS + INTS[:3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    index = rng.integers(0, shape[dim], index_shape)
    return draw(arrays(dtypes=(dtype,), shape=shape, kinds=EXACT)), dim, index, \
        draw(arrays(dtypes=(dtype,), shape=src_shape, kinds=EXACT))


@given(scatter_cases(), st.integers(0, 2**16))
def test_scatter_add_adds_each_src_element_at_its_index(case, seed):
    x, dim, index, src = case
    (y,), grads, ups = run_both(lambda t, i, s: tn.scatter_add(t, dim, i, s), [x, index, src], seed)
    d = dim % x.ndim
    expected = x.copy()
    for p in np.ndindex(*index.shape):   # y[p with p[dim] = index[p]] += src[p]
        q = p[:d] + (index[p],) + p[d + 1:]
        with np.errstate(invalid="ignore"):
            expected[q] += src[p]
    assert_same(y, expected, "scatter_add")
    if grads:
        assert_same(grads[0], ups[0], "d/dself")
        g_src = moved(ups[0], src.shape)
        for p in np.ndindex(*index.shape):
            g_src[p] = ups[0][p[:d] + (index[p],) + p[d + 1:]]
        assert_same(grads[1], g_src, "d/dsrc")


@st.composite
def index_add_cases(draw):
    shape = draw(shapes(1, 3, 1, 4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, shape[dim], draw(st.integers(0, 5)))
    source_shape = shape[:dim % len(shape)] + (len(index),) + shape[dim % len(shape) + 1:]
    dtype = draw(st.sampled_from(FLOATS + INTS[:3]))
    alpha = draw(st.sampled_from([1, 2, -1] + ([0.5, -0.25] if dtype.kind == "f" else [])))
    return draw(arrays(dtypes=(dtype,), shape=shape, kinds=EXACT)), dim, index, \
        draw(arrays(dtypes=(dtype,), shape=source_shape, kinds=EXACT)), alpha


@given(index_add_cases(), st.integers(0, 2**16))
def test_index_add_adds_alpha_times_slice_k_of_source_at_index_k(case, seed):
    x, dim, index, source, alpha = case
    (y,), grads, ups = run_both(lambda t, i, s: tn.index_add(t, dim, i, s, alpha=alpha), [x, index, source], seed)
    d = dim % x.ndim
    expected = x.copy()
    for k, i in enumerate(index):
        with np.errstate(invalid="ignore"):
            expected[(slice(None),) * d + (i,)] += np.asarray(alpha * np.take(source, k, axis=d)).astype(x.dtype)
    assert_same(y, expected, "index_add")
    if grads:
        assert_same(grads[0], ups[0], "d/dself")
        assert_same(grads[1], (alpha * np.take(ups[0], index, axis=d)).astype(x.dtype).reshape(source.shape), "d/dsource")


# ---------------------------------------------------------------- repeat_interleave, tile, meshgrid
@given(arrays(dtypes=ANY, max_dims=2), st.data(), st.integers(0, 2**16))
def test_repeat_interleave_repeats_each_slice_in_place(x, data, seed):
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    n = x.size if dim is None else x.shape[dim]
    per_element = data.draw(st.booleans())
    repeats = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64) if per_element \
        else data.draw(st.integers(0, 3))
    arg = (lambda: tn.tensor(repeats)) if per_element else (lambda: repeats)
    (y,), grads, ups = run_both(lambda t: tn.repeat_interleave(t, arg(), dim), [x], seed)
    counts = np.broadcast_to(repeats, (n,))
    flat = x.reshape(-1) if dim is None else x
    axis = 0 if dim is None else dim % x.ndim
    assert y.shape[axis] == counts.sum() and y.dtype == x.dtype
    pieces = [np.take(flat, [k] * int(c), axis=axis) for k, c in enumerate(counts)]
    expected = np.concatenate(pieces, axis) if pieces else np.take(flat, np.arange(0), axis=axis)
    assert_same(y, expected, "repeated in place")
    if grads:   # each element's gradient: the sum over its copies
        ends = np.cumsum(counts)
        parts = [np.take(ups[0], np.arange(e - c, e), axis=axis).sum(axis=axis, keepdims=True)
                 for e, c in zip(ends, counts)]
        expected = np.concatenate(parts, axis) if parts else moved(ups[0], flat.shape)
        assert_same(grads[0], expected.astype(x.dtype).reshape(x.shape), "gradient")


def test_repeat_interleave_of_counts_keeps_their_dtype():
    """Regression (found by the property tests): repeat_interleave(int32 counts) gave int64 (PyTorch: int32);
    int8/int16/uint8 counts are refused, as by PyTorch."""
    y = tn.repeat_interleave(tn.tensor([2, 0, 1], dtype=tn.int32))
    assert y.dtype == tn.int32 and y.tolist() == [0, 0, 2]
    with pytest.raises(TypeError, match="int32 or int64"):
        tn.repeat_interleave(tn.tensor([1, 2], dtype=tn.uint8))


@given(arrays(dtypes=ANY, max_dims=3, max_side=3), st.lists(st.integers(0, 3), max_size=4).map(tuple),
       st.integers(0, 2**16))
def test_tile_is_periodic_with_the_input_as_its_period(x, reps, seed):
    (y,), grads, ups = run_both(lambda t: tn.tile(t, reps), [x], seed)
    n = max(x.ndim, len(reps))
    base, times = (1,) * (n - x.ndim) + x.shape, (1,) * (n - len(reps)) + reps
    assert y.shape == tuple(b * r for b, r in zip(base, times)) and y.dtype == x.dtype
    if y.size:
        at = np.indices(y.shape)
        assert_same(y, x.reshape(base)[tuple(i % b for i, b in zip(at, base))], "y[p] = x[p mod shape]")
    if grads:   # the sum over the copies: split each dim into (copy, place) and sum the copies
        split = ups[0].reshape([s for b, r in zip(base, times) for s in (r, b)])
        assert_same(grads[0], split.sum(axis=tuple(range(0, 2 * n, 2))).astype(x.dtype).reshape(x.shape), "gradient")


@given(st.lists(shapes(0, 1, 0, 4), min_size=1, max_size=3), st.sampled_from(FLOATS + INTS), st.integers(0, 2**16))
def test_meshgrid_ij_puts_input_i_along_dim_i_and_xy_swaps_the_first_two(input_shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    ts = [rng.integers(-3, 4, s).astype(dtype) for s in input_shapes]
    ij, grads, ups = run_both(lambda *a: tn.meshgrid(*a, indexing="ij"), ts, seed)
    sizes = tuple(t.size for t in ts)
    for i, (t, out) in enumerate(zip(ts, ij)):
        assert out.shape == sizes and out.dtype == t.dtype
        for p in np.ndindex(*sizes):
            assert out[p] == t.reshape(-1)[p[i]]
        if grads:
            others = tuple(a for a in range(len(ts)) if a != i)
            assert_same(grads[i], ups[i].sum(axis=others).reshape(t.shape).astype(dtype), f"gradient {i}")
    xy, _, _ = run_both(lambda *a: tn.meshgrid(*a, indexing="xy"), ts, seed)
    for a, b in zip(ij, xy):
        assert_same(b, np.swapaxes(a, 0, 1) if len(ts) > 1 else a, "xy = ij with the first two dims swapped")


def test_meshgrid_refuses_tensors_of_different_dtypes():
    """Regression (found by the property tests): meshgrid accepted mixed dtypes; PyTorch refuses them."""
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.meshgrid(tn.tensor([1, 2]), tn.tensor([1.0]), indexing="ij")
