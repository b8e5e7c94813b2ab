"""The constructions (atleast_*, block_diag, broadcast_*, cartesian_prod, combinations, column_stack, diag_embed,
diagflat, rot90, vander, tril/triu_indices), the position finders (unravel_index, argwhere,
unique_consecutive), the in-place view ops and the introspection names of tinynn/tensor_extras/: values by hand
from PyTorch's documented definitions, view-ness, dtypes and PyTorch's errors."""
import numpy as np
import pytest

import tinynn as tn

X = tn.arange(12.0).reshape(3, 4)  # [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_atleast_views_return_one_tensor_or_a_tuple():
    s, v = tn.tensor(3.0), tn.arange(3)
    assert tn.atleast_1d(X) is X and tn.atleast_1d(s).shape == (1,)
    assert np.shares_memory(tn.atleast_1d(s).numpy(), s.numpy())
    assert [t.shape for t in tn.atleast_2d(s, v)] == [(1, 1), (1, 3)]
    assert [t.shape for t in tn.atleast_3d([s, v, X, tn.ones(2, 3, 4, 5)])] == [(1, 1, 1), (1, 3, 1), (3, 4, 1),
                                                                                 (2, 3, 4, 5)]
    assert tn.atleast_1d() == () and isinstance(tn.atleast_2d((X,)), tuple)
    with pytest.raises(TypeError, match="expects tensors"):
        tn.atleast_1d(3)


def test_block_diag_and_its_result_dtype():
    b = tn.block_diag(tn.tensor(2), tn.tensor([1.0, 2.0]), tn.ones(2, 1, dtype=tn.float64))
    assert b.dtype == tn.float64 and b.tolist() == [[2, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert tn.block_diag(tn.tensor(2.0, dtype=tn.float64), tn.ones(1)).dtype == tn.float32  # a 0-d tensor's
    assert tn.block_diag().shape == (1, 0)                                                    # dtype counts less
    assert tn.block_diag(tn.zeros(0, 2), tn.ones(1, 1)).tolist() == [[0, 0, 1]]
    with pytest.raises(RuntimeError, match="2 or fewer dimensions"):
        tn.block_diag(tn.ones(1, 1, 1))


def test_broadcast_tensors_and_broadcast_shapes():
    a, b = tn.broadcast_tensors(tn.ones(3, 1), tn.arange(4.0))
    assert a.shape == b.shape == (3, 4) and b[2].tolist() == [0, 1, 2, 3]
    assert tn.broadcast_shapes((3, 1), (4,), 1, ()) == (3, 4) and isinstance(tn.broadcast_shapes((2,)), tn.Size)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        tn.broadcast_tensors(tn.ones(3), tn.ones(4))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        tn.broadcast_shapes((3,), (4,))
    with pytest.raises(ValueError, match="negative length"):
        tn.broadcast_shapes((-1,), (4,))


def test_cartesian_prod_and_combinations_follow_itertools_order():
    assert tn.cartesian_prod(tn.tensor([1, 2]), tn.tensor([3, 4, 5])).tolist() == [[1, 3], [1, 4], [1, 5], [2, 3],
                                                                                     [2, 4], [2, 5]]
    one = tn.tensor([1, 2])
    assert tn.cartesian_prod(one) is one
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.cartesian_prod(tn.tensor([1]), tn.tensor([1.0]))
    with pytest.raises(RuntimeError, match="1D vector"):
        tn.cartesian_prod(tn.ones(2, 2))
    v = tn.tensor([1, 2, 3])
    assert tn.combinations(v).tolist() == [[1, 2], [1, 3], [2, 3]]
    assert tn.combinations(tn.tensor([1, 2]), 3, True).tolist() == [[1, 1, 1], [1, 1, 2], [1, 2, 2], [2, 2, 2]]
    assert tn.combinations(v, 0).shape == (0,) and tn.combinations(v, 4).shape == (0, 4)
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.combinations(v, -1)


def test_column_stack_row_stack_diag_embed_and_diagflat():
    assert tn.column_stack([tn.tensor([1, 2]), tn.tensor([[3, 4], [5, 6]])]).tolist() == [[1, 3, 4], [2, 5, 6]]
    assert tn.row_stack([tn.tensor([1, 2]), tn.tensor([[3, 4]])]).tolist() == [[1, 2], [3, 4]]
    d = tn.diag_embed(tn.tensor([[1, 2], [3, 4]]), offset=1)
    assert d.dtype == tn.int64 and d.tolist() == [[[0, 1, 0], [0, 0, 2], [0, 0, 0]], [[0, 3, 0], [0, 0, 4], [0, 0, 0]]]
    moved = tn.diag_embed(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), offset=-1, dim1=0, dim2=2)
    assert moved.shape == (3, 2, 3) and moved[1, 0, 0].item() == 1.0 and moved[2, 1, 1].item() == 4.0
    with pytest.raises(RuntimeError, match="cannot be identical"):
        tn.diag_embed(X, 0, 0, -3)
    assert tn.diagflat(tn.tensor([[1, 2], [3, 4]]), -1)[1:, :4].tolist() == [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0],
                                                                          [0, 0, 0, 4]]
    assert tn.tensor(3).diagflat().tolist() == [[3]]


def test_flips_and_rot90_are_copies():
    assert tn.fliplr(tn.tensor([[0, 1], [2, 3]])).tolist() == [[1, 0], [3, 2]]
    assert tn.arange(3).flipud().tolist() == [2, 1, 0]
    assert tn.rot90(X).tolist() == [[3, 7, 11], [2, 6, 10], [1, 5, 9], [0, 4, 8]]       # y[i, j] = x[j, n-1-i]
    assert X.rot90(-1, [1, 0]).tolist() == X.rot90().tolist() and X.rot90(2).tolist() == X.flip(0, 1).tolist()
    assert X.rot90(3).tolist() == [[8, 4, 0], [9, 5, 1], [10, 6, 2], [11, 7, 3]]
    assert X.rot90(4).tolist() == X.tolist() and not np.shares_memory(X.rot90(4).numpy(), X.numpy())
    with pytest.raises(RuntimeError, match="Input must be >= 2-d"):
        tn.arange(3).fliplr()
    with pytest.raises(RuntimeError, match="rotation dims to be different"):
        X.rot90(1, [0, -2])
    with pytest.raises(RuntimeError, match="total rotation dims == 2"):
        X.rot90(1, [0, 1, 2])


def test_ravel_view_as_reshape_as_type_as_and_sum_to_size():
    assert np.shares_memory(X.ravel().numpy(), X.numpy()) and X.t().ravel().tolist()[:4] == [0, 4, 8, 1]
    assert X.view_as(tn.zeros(4, 3)).shape == (4, 3) and X.t().reshape_as(tn.zeros(12)).shape == (12,)
    with pytest.raises(RuntimeError, match="reshape"):
        X.t().view_as(tn.zeros(12))
    assert X.type_as(tn.zeros(1, dtype=tn.int32)).dtype == tn.int32 and X.type_as(X) is X
    b = tn.ones(2, 3, 4)
    assert b.sum_to_size(3, 1).tolist() == [[8.0]] * 3 and b.sum_to_size((1, 3, 1)).shape == (1, 3, 1)
    assert b.sum_to_size(2, 3, 4) is b
    with pytest.raises(RuntimeError, match="not expandable"):
        X.sum_to_size(3)


def test_vander_powers_and_dtypes():
    assert tn.vander(tn.tensor([1, 2, 3]), 4).tolist() == [[1, 1, 1, 1], [8, 4, 2, 1], [27, 9, 3, 1]]
    assert tn.vander(tn.tensor([1.0, 2.0, 3.0]), increasing=True).tolist() == [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    assert tn.vander(tn.tensor([True, False])).dtype == tn.int64
    assert tn.vander(tn.tensor([2], dtype=tn.int32)).dtype == tn.int64
    assert tn.vander(tn.tensor([1.0, 2.0]), 0).shape == (2, 0)
    with pytest.raises(RuntimeError, match="one-dimensional"):
        tn.vander(X)


def test_triangle_indices_and_unravel_index():
    assert tn.tril_indices(3, 4, 1).tolist() == [[0, 0, 1, 1, 1, 2, 2, 2, 2], [0, 1, 0, 1, 2, 0, 1, 2, 3]]
    up = tn.triu_indices(3, 3, -1, dtype=tn.int32)
    assert up.dtype == tn.int32 and up.tolist() == [[0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2, 0, 1, 2, 1, 2]]
    assert tn.triu_indices(0, 3).shape == (2, 0)
    with pytest.raises(RuntimeError, match="row must be non-negative"):
        tn.tril_indices(-1, 3)
    with pytest.raises(RuntimeError, match="integer dtype"):
        tn.tril_indices(3, 3, dtype=tn.float32)
    rows, cols = tn.unravel_index(tn.tensor([4, 1, -1, 6]), (2, 3))   # 4 = 1 * 3 + 1; -1 and 6 wrap
    assert rows.tolist() == [1, 0, 1, 0] and cols.tolist() == [1, 1, 2, 0] and rows.dtype == tn.int64
    assert [t.tolist() for t in tn.unravel_index(tn.tensor(23), (2, 3, 4))] == [1, 2, 3]
    with pytest.raises(TypeError, match="integer dtype"):
        tn.unravel_index(tn.tensor(1.0), (2, 3))
    with pytest.raises(ValueError, match="negative"):
        tn.unravel_index(tn.tensor([1]), (-1, 3))


def test_argwhere_and_unique_consecutive(backend_name):
    assert tn.argwhere(tn.tensor([[1, 0], [0, 3]])).tolist() == [[0, 0], [1, 1]]
    assert tn.tensor(3.0).argwhere().shape == (1, 0)
    x = tn.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    values, inverse, counts = tn.unique_consecutive(x, return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3, 1, 2] and inverse.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert counts.tolist() == [2, 2, 1, 2, 1] and x.unique_consecutive(return_counts=True)[1].tolist() == [2, 2, 1, 2, 1]
    rows = tn.tensor([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]]).unique_consecutive(True, True, dim=0)
    assert [r.tolist() for r in rows] == [[[1, 1], [2, 3], [1, 1]], [0, 0, 1, 1, 2], [2, 2, 1]]
    assert tn.unique_consecutive(tn.tensor([np.nan, np.nan, 1.0])).shape == (3,)  # NaN != NaN
    scalar = tn.unique_consecutive(tn.tensor(3), return_inverse=True, return_counts=True)
    assert [t.shape for t in scalar] == [(1,), (), (1,)]


def test_in_place_view_ops_change_shape_over_the_same_memory(backend_name):
    x = tn.zeros(1, 3, 1)
    data = x.numpy()
    assert x.squeeze_(0) is x and x.shape == (3, 1) and x._version == 1 and np.shares_memory(x.numpy(), data)
    assert x.t_().shape == (1, 3) and x.unsqueeze_(0).transpose_(0, 2).shape == (3, 1, 1)
    assert x.swapaxes_(0, 1).swapdims_(1, 2).squeeze_().shape == (3,) and x._version == 7
    with pytest.raises(RuntimeError, match="t_\\(\\) expects a tensor with <= 2 dimensions"):
        tn.zeros(1, 2, 3).t_()
    leaf = tn.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.unsqueeze_(0)
    with tn.no_grad():
        assert leaf.unsqueeze_(0).shape == (1, 2, 3) and leaf.is_leaf
    a = tn.ones(2, 3, requires_grad=True)
    b = a * 2
    b.t_().unsqueeze_(0)
    assert b.shape == (1, 3, 2) and type(b.grad_fn).__name__ != "Mul"
    (b * tn.arange(6.0).reshape(1, 3, 2)).sum().backward()
    assert a.grad.tolist() == [[0, 4, 8], [2, 6, 10]]  # d/da of 2 a^T weighted by arange(6).reshape(3, 2)


def test_introspection_answers_as_pytorch_does():
    assert X.nelement() == 12 and X.ndimension() == 2 and X.nbytes == 48 and X.itemsize == 4
    assert X.expand(2, 3, 4).nbytes == 96   # numel * itemsize, not the memory behind the view
    assert (X.is_cpu, X.is_cuda, X.is_sparse, X.is_quantized, X.is_meta, X.is_nested) == (True, False, False, False,
                                                                                        False, False)
    assert X.layout is tn.strided and repr(tn.strided) == "tinynn.strided" and isinstance(X.layout, tn.layout)
    assert X[1:, 2:].storage_offset() == 6 and X[1].data_ptr() - X.data_ptr() == 16 and X.storage_offset() == 0
    assert not X.is_complex() and not tn.is_complex(X) and X.is_signed() and tn.is_signed(tn.tensor([1]))
    assert not tn.tensor([1], dtype=tn.uint8).is_signed() and not tn.tensor([True]).is_signed()
    assert X.is_same_size(tn.ones(3, 4, dtype=tn.int64)) and not tn.is_same_size(X, X.t())
    assert X.equal(X.clone()) and not X.equal(X + 1) and tn.clone(X).tolist() == X.tolist() and tn.numel(X) == 12
    assert tn.is_tensor(X) and tn.is_tensor(tn.nn.Parameter(X)) and not tn.is_tensor(X.numpy())
    assert tn.is_floating_point(X) and not tn.is_floating_point(tn.tensor([1]))
    with pytest.raises(TypeError, match="must be Tensor"):
        tn.is_floating_point(1.0)
    assert not tn.tensor([0.0]).is_nonzero() and tn.is_nonzero(tn.tensor([[2]])) and tn.tensor(np.nan).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value"):
        X.is_nonzero()
    with pytest.raises(RuntimeError, match="no values"):
        tn.tensor([]).is_nonzero()
    x = tn.ones(1, requires_grad=True)
    b, c = x * 2, x * 3
    b.retain_grad()
    assert b.retains_grad and not c.retains_grad and not x.retains_grad


def test_integer_casts_and_the_dtypes_tinynn_lacks():
    x = tn.tensor([-1.0, 44.0, 1.9, -1.9])
    assert x.byte().dtype == tn.uint8 and x.byte().tolist() == [255, 44, 1, 255]  # truncated, wrapped mod 256
    assert x.char().dtype == tn.int8 and x.char().tolist() == [-1, 44, 1, -1]
    assert x.short().dtype == tn.int16 and x.short().tolist() == [-1, 44, 1, -1]
    u = tn.tensor([1], dtype=tn.uint8)
    assert u.byte() is u
    for name, missing in (("bfloat16", "bfloat16"), ("cfloat", "complex64"), ("cdouble", "complex128"),
                          ("chalf", "complex32")):
        with pytest.raises(TypeError, match=f"tinynn has no {missing} dtype"):
            getattr(x, name)()
