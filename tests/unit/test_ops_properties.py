"""Hypothesis properties of the PyTorch-named ops against NumPy's definitions over random shapes
(none of these ops has a compiled kernel of its own, so there is no backend pair to compare)."""
import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinynn as tn

shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


@given(data=st.data(), shape=shapes)
def test_max_along_a_dim_is_numpys_max_and_argmax_and_its_gradient_is_one_hot(data, shape):
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)))  # ties are common
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = tn.tensor(a, requires_grad=True)
    values, indices = x.max(dim)
    np.testing.assert_array_equal(values.numpy(), a.max(axis=dim))
    np.testing.assert_array_equal(indices.numpy(), a.argmax(axis=dim))
    values.sum().backward()
    expected = np.zeros_like(a)
    np.put_along_axis(expected, np.expand_dims(a.argmax(axis=dim), dim), 1.0, axis=dim)
    np.testing.assert_array_equal(x.grad, expected)


@given(data=st.data(), shape=shapes)
def test_gather_is_take_along_axis(data, shape):
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, 4)) if d == dim else n for d, n in enumerate(shape))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))  # PyTorch's gather refuses negative indices
    np.testing.assert_array_equal(tn.tensor(a).gather(dim, tn.tensor(index)).data, np.take_along_axis(a, index, axis=dim))


@given(data=st.data(), shape=shapes)
def test_split_then_cat_and_transpose_twice_are_the_identity(data, shape):
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1, 5))
    x = tn.tensor(a)
    np.testing.assert_array_equal(tn.cat(x.split(size, dim), dim).data, a)
    np.testing.assert_array_equal(tn.cat(x.chunk(size, dim), dim).data, a)
    other = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_array_equal(x.transpose(dim, other).numpy(), np.swapaxes(a, dim, other))
    np.testing.assert_array_equal(x.transpose(dim, other).transpose(dim, other).numpy(), a)


@given(a=hnp.arrays(np.float64, 6, elements=st.floats(-100, 100)),
       b=hnp.arrays(np.float64, 6, elements=st.floats(0.5, 10) | st.floats(-10, -0.5)))
def test_floor_division_and_remainder_recombine_and_the_remainder_has_the_divisors_sign(a, b):
    x, y = tn.tensor(a), tn.tensor(b)
    q, r = (x // y).data, (x % y).data
    np.testing.assert_allclose(q * b + r, a, atol=1e-9 * (1 + np.abs(a).max()))
    assert np.all((r == 0) | (np.sign(r) == np.sign(b)))
    assert np.all(np.abs(r) <= np.abs(b))
