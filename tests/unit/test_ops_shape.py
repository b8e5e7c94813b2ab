"""Shape and indexing ops with PyTorch's meaning: shapes and values from NumPy's equivalents,
float64 gradient checks on both backends, and the errors that name the op."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.testing import assert_gradients_match

A = np.arange(24.0).reshape(2, 3, 4) / 10.0


def weighted(t):
    """t times fixed weights, so a gradient check sees every element separately."""
    return t * tn.tensor(np.arange(1.0, t.numel() + 1).reshape(t.shape) / t.numel())


@pytest.mark.parametrize("call, closed", [
    (lambda t: t.unsqueeze(0), lambda a: a[None]),
    (lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    (lambda t: t.unsqueeze(1).squeeze(), lambda a: a),
    (lambda t: t[:, :1].squeeze(1), lambda a: a[:, 0]),
    (lambda t: t[:, :1].squeeze(0), lambda a: a[:, :1]),  # a dim not of size 1 stays
    (lambda t: t[:1].expand(3, 3, 4), lambda a: np.broadcast_to(a[:1], (3, 3, 4))),
    (lambda t: t[:, :1].expand(-1, 5, -1), lambda a: np.broadcast_to(a[:, :1], (2, 5, 4))),
    (lambda t: t[0, 0].expand_as(t), lambda a: np.broadcast_to(a[0, 0], a.shape)),
    (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    (lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    (lambda t: t.flatten(0, 1), lambda a: a.reshape(6, 4)),
    (lambda t: t.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
    (lambda t: t.view(4, 6), lambda a: a.reshape(4, 6)),
    (lambda t: t.reshape(-1, 8), lambda a: a.reshape(3, 8)),
    (lambda t: t.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    (lambda t: t.repeat(2, 1, 1, 2), lambda a: np.tile(a, (2, 1, 1, 2))),
    (lambda t: t.narrow(2, 1, 2), lambda a: a[:, :, 1:3]),
    (lambda t: t.narrow(-2, -2, 2), lambda a: a[:, 1:3]),
    (lambda t: t.index_select(1, tn.tensor([2, 0, 2])), lambda a: a[:, [2, 0, 2]]),
    (lambda t: t.gather(2, tn.tensor(np.array([[[3, 0], [1, 1], [0, 2]]] * 2))),
     lambda a: np.take_along_axis(a, np.array([[[3, 0], [1, 1], [0, 2]]] * 2), axis=2)),
    (lambda t: t.gather(0, tn.tensor(np.array([[[1, 0, 1, 1]]]))), lambda a: a[[1, 0, 1, 1], 0, [0, 1, 2, 3]][None, None]),
    (lambda t: t.masked_fill(tn.tensor(A > 1.0), -1.0), lambda a: np.where(a > 1.0, -1.0, a)),
    (lambda t: t.masked_fill(tn.tensor(np.array([True, False, True, False])), 0.0), lambda a: a * [0, 1, 0, 1]),
])
def test_values_and_gradient(call, closed, backend_name):
    x = tn.tensor(A, requires_grad=True)
    out = call(x)
    np.testing.assert_array_equal(out.numpy(), closed(A))
    assert assert_gradients_match(lambda t: weighted(call(t)), x)


def test_gather_and_index_select_add_up_gradients_of_repeated_indices(backend_name):
    x = tn.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    x.gather(1, tn.tensor([[2, 2, 0]])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 2.0]])
    y = tn.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    tn.index_select(y, 1, tn.tensor([1, 1])).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.0, 2.0, 0.0]])


def test_scatter_writes_src_and_splits_the_gradient(backend_name):
    x = tn.tensor(np.zeros((2, 4)), requires_grad=True)
    src = tn.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    index = tn.tensor([[3, 0], [1, 2]])
    out = x.scatter(1, index, src)
    np.testing.assert_array_equal(out.numpy(), [[2.0, 0.0, 0.0, 1.0], [0.0, 4.0, 5.0, 0.0]])
    (out * tn.tensor(np.arange(8.0).reshape(2, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 2.0, 0.0], [4.0, 0.0, 0.0, 7.0]])
    np.testing.assert_array_equal(src.grad, [[3.0, 0.0, 0.0], [5.0, 6.0, 0.0]])
    np.testing.assert_array_equal(tn.scatter(x, 0, tn.tensor([[1, 0]]), value=9.0).data, [[0, 9, 0, 0], [9, 0, 0, 0]])
    assert assert_gradients_match(lambda a, s: weighted(a.scatter(1, index, s)), x, src)


def test_split_and_chunk_pieces_as_pytorch_cuts_them(backend_name):
    x = tn.tensor(np.arange(10.0), requires_grad=True)
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]  # ceil(10 / 3) = 4 each
    assert [p.shape for p in tn.chunk(x, 4)] == [(3,), (3,), (3,), (1,)]
    a, b = tn.split(x, [6, 4])
    (a.sum() * 2.0 + b.sum() * 3.0).backward()
    np.testing.assert_array_equal(x.grad, [2.0] * 6 + [3.0] * 4)
    with pytest.raises(ValueError, match="split: sections \\[3, 3\\] do not add up to 10"):
        x.split([3, 3])


def test_shape_errors_name_the_op():
    x = tn.ones(2, 3)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(2, 4\)"):
        x.expand(2, 4)
    with pytest.raises(IndexError, match="unsqueeze: dim 3 is out of range"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match="narrow: start 2 and length 2 exceed dim 1 of size 3"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match=r"gather: index out of range \[0, 3\) along dim 1"):
        x.gather(1, tn.tensor([[3]]))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        x.gather(1, tn.tensor([[1.0]]))
    with pytest.raises(TypeError, match="masked_fill: mask must be bool"):
        x.masked_fill(tn.ones(2, 3), 0.0)
    with pytest.raises(ValueError, match="repeat: 1 repeats for a tensor with 2 dims"):
        x.repeat(2)


def test_function_spellings():
    x = tn.tensor(A)
    assert tn.unsqueeze(x, 1).shape == (2, 1, 3, 4) and tn.squeeze(x[:1]).shape == (3, 4)
    assert tn.flatten(x, 1).shape == (2, 12) and tn.transpose(x, 0, 2).shape == (4, 3, 2)
    assert tn.permute(x, (2, 0, 1)).shape == (4, 2, 3) and tn.narrow(x, 0, 1, 1).shape == (1, 3, 4)
    assert tn.gather(x, 0, tn.tensor(np.zeros((1, 3, 4), dtype=np.int64))).shape == (1, 3, 4)


def test_scatter_value_takes_the_inputs_dtype_and_an_overflow_is_refused(backend_name):
    # PyTorch: value= is converted to the input's dtype (2.7 -> 2 in uint8); a value out of its
    # range is an error, not a wrapped integer
    x = tn.tensor(np.zeros(3, dtype=np.uint8))
    index = tn.tensor([1])
    assert x.scatter(0, index, value=2.7).tolist() == [0, 2, 0] and x.scatter(0, index, value=7).dtype == np.uint8
    with pytest.raises(OverflowError, match=r"^scatter: value 300 cannot be converted to uint8 without overflow$"):
        x.scatter(0, index, value=300)
    w = tn.tensor(np.zeros(3), requires_grad=True)
    out = w.scatter(0, index, value=0.5)   # the value is a constant: only w's gradient, zero where written
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 0.0, 1.0])
    assert not tn.tensor(np.zeros(3)).scatter(0, index, src=np.array([4.0])).requires_grad


def test_stack_along_the_dim_given_as_dim(backend_name):
    a, b = tn.tensor(A[0]), tn.tensor(A[1])           # (3, 4) each
    for kw in ({"dim": 1}, {"axis": 1}):
        out = tn.stack([a, b], **kw)
        assert out.shape == (3, 2, 4), kw
        np.testing.assert_array_equal(out.numpy(), np.stack([A[0], A[1]], axis=1))
    assert tn.stack([a, b]).shape == (2, 3, 4) and tn.stack([a, b], dim=-1).shape == (3, 4, 2)


def test_permute_refuses_dims_past_the_last_even_when_they_wrap_to_a_permutation():
    # dim 2 of a 2-D tensor (and dim 1 of a 1-D one) is out of range in PyTorch, though it is 0 modulo ndim
    m, v = tn.zeros(2, 3), tn.zeros(4)
    for t, dims in ((m, (1, 2)), (m, (2, 1)), (v, (1,))):
        with pytest.raises(ValueError, match=r"^permute: dims .* are not a permutation"):
            t.permute(*dims)
    assert m.permute(-1, -2).shape == (3, 2) and v.permute(-1).shape == (4,)
