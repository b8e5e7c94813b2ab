"""Testing tools for tinynn's own suite and for other people's property tests.

    from tinynn.testing import assert_gradients_match, assert_backends_match, arrays, broadcastable_shapes

`assert_gradients_match(fn, *inputs)` compares analytic gradients with central differences in
float64; `assert_backends_match(fn, *inputs)` runs `fn` on the reference and the compiled backend
and compares values and gradients. The hypothesis strategies draw arrays, Tensors and mutually
broadcastable shapes (hypothesis is needed only for the strategies).
"""
import numpy as np

from . import backend as _backend
from .gradcheck import GradcheckError, gradcheck
from .tensor import Tensor


def assert_gradients_match(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Assert that d sum(fn(*inputs)) / d x analytic == (f(x+eps) - f(x-eps)) / 2 eps for every
    input x that requires a gradient (in float64). Raises GradcheckError naming the input, the
    index and both values."""
    return gradcheck(fn, *inputs, eps=eps, atol=atol, rtol=rtol)


def _fresh(inputs):
    return [Tensor(t.data.copy(), requires_grad=t.requires_grad) if isinstance(t, Tensor) else t for t in inputs]


def _run(fn, inputs, name):
    with _backend.use_backend(name):
        tensors = _fresh(inputs)
        out = fn(*tensors)
        grads = []
        if out.requires_grad:
            seed = np.linspace(-1, 1, out.size, dtype=out.dtype).reshape(out.shape) if out.size else np.zeros(out.shape, out.dtype)
            out.backward(seed)
            grads = [t.grad for t in tensors if isinstance(t, Tensor) and t.requires_grad]
    return out.data, grads


def assert_backends_match(fn, *inputs, rtol=None, atol=None, backends=("numpy", "cython")):
    """Assert that fn(*inputs) and its input gradients agree between two backends.

    Values match when |a - b| <= atol + rtol |b| (NaN matching NaN); defaults scale with the
    dtype: rtol = atol = 1e-4 for float32, 1e-10 for float64."""
    available = _backend.available()
    names = [b for b in backends if b in available]
    if len(names) < 2:
        raise RuntimeError(f"assert_backends_match: needs backends {backends}, only {available} are available")
    ref_value, ref_grads = _run(fn, inputs, names[0])
    value, grads = _run(fn, inputs, names[1])
    _assert_close("value", value, ref_value, rtol, atol)
    if len(grads) != len(ref_grads):
        raise AssertionError(f"backends disagree on which inputs get gradients: {len(grads)} vs {len(ref_grads)}")
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        if (g is None) != (r is None):
            raise AssertionError(f"gradient of input {i}: one backend gave None")
        if g is not None:
            _assert_close(f"gradient of input {i}", g, r, rtol, atol)


def _assert_close(what, actual, expected, rtol, atol):
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        raise AssertionError(f"{what}: shape/dtype {actual.shape} {actual.dtype} vs reference {expected.shape} {expected.dtype}")
    tol = 1e-10 if actual.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(actual, expected, rtol=tol if rtol is None else rtol, atol=tol if atol is None else atol,
                               equal_nan=True, err_msg=what)


# ---------------------------------------------------------------- hypothesis strategies
def float_dtypes():
    """Strategy: float32 or float64."""
    from hypothesis import strategies as st

    return st.sampled_from([np.float32, np.float64])


def arrays(dtype=np.float64, shape=None, min_value=-10.0, max_value=10.0, max_dims=3, max_side=5):
    """Strategy: ndarrays of `dtype` (a dtype or a strategy of dtypes) with finite values in
    [min_value, max_value] and a drawn shape (or the given one)."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shapes = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side) if shape is None else st.just(shape)
    dtypes = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))

    @st.composite
    def draw(draw_):
        dt = np.dtype(draw_(dtypes))
        if dt.kind == "f":
            width = 32 if dt == np.float32 else 64
            elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
        else:
            elements = st.integers(int(max(min_value, np.iinfo(dt).min)), int(min(max_value, np.iinfo(dt).max)))
        return draw_(hnp.arrays(dt, draw_(shapes), elements=elements))

    return draw()


def tensors(dtype=np.float64, shape=None, requires_grad=True, **kwargs):
    """Strategy: Tensors wrapping `arrays(...)`."""
    return arrays(dtype, shape, **kwargs).map(lambda a: Tensor(a, requires_grad=requires_grad and a.dtype.kind == "f"))


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Strategy: a tuple of `num_shapes` shapes that broadcast together (NumPy's rules)."""
    from hypothesis.extra import numpy as hnp

    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda s: s.input_shapes)


__all__ = ["assert_gradients_match", "assert_backends_match", "GradcheckError", "arrays", "tensors",
           "broadcastable_shapes", "float_dtypes"]
