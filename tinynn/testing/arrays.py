"""Arrays for property tests: memory layouts, and hypothesis strategies of arrays, tensors and shapes
(hypothesis is imported only when a strategy is called)."""
import numpy as np

from ..tensor import Tensor


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
