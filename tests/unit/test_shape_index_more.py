"""The shape, indexing and introspection names of tinynn/tensor_extras/ (and the ScatterReduce and Unfold ops):
values computed by hand from PyTorch's documented definitions, view-ness (shared memory and version
counter, writes reaching the base), dtypes and PyTorch's errors. Gradients: test_shape_index_more_gradients.py."""
import numpy as np
import pytest

import tinynn as tn

X = tn.arange(12.0).reshape(3, 4)  # [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def shapes(pieces):
    return [tuple(p.shape) for p in pieces]


def shares(a, b):
    return np.shares_memory(a.numpy(), b.numpy())


# ---------------------------------------------------------------- splitting and selecting (views)
def test_unbind_and_select_give_views_of_the_slices(backend_name):
    x = X.clone()
    cols = tn.unbind(x, 1)
    assert [c.tolist() for c in cols] == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
    assert x.select(1, -1).tolist() == [3, 7, 11] and tn.select(x, 0, 2).tolist() == [8, 9, 10, 11]
    x.select(0, 1).add_(100.0)  # a write into the view reaches the base, and counts as one of its versions
    assert x[1].tolist() == [104, 105, 106, 107] and x._version == 1 and cols[0]._version == 1
    scalar = tn.tensor([1.0, 2.0]).select(0, 1)
    assert scalar.shape == () and shares(scalar, scalar)  # a 0-d view, not a copy
    with pytest.raises(IndexError, match=r"select\(\): index 4 out of range"):
        x.select(1, 4)
    with pytest.raises(IndexError, match="0-dim"):
        tn.tensor(1.0).select(0, 0)
    with pytest.raises(IndexError, match="no dimensions"):
        tn.tensor(1.0).unbind()


def test_tensor_split_by_sections_and_by_indices():
    v = tn.arange(7)
    assert shapes(tn.tensor_split(v, 3)) == [(3,), (2,), (2,)]  # 7 = 3 + 2 + 2: the first 7 % 3 one longer
    pieces = v.tensor_split([1, 5, 3, 10])                     # [0:1] [1:5] [5:3] [3:10] [10:]
    assert [p.tolist() for p in pieces] == [[0], [1, 2, 3, 4], [], [3, 4, 5, 6], []]
    assert [p.tolist() for p in tn.tensor_split(v, [-2])] == [[0, 1, 2, 3, 4], [5, 6]]
    assert shapes(tn.tensor_split(v, tn.tensor(2))) == [(4,), (3,)]       # a 0-d tensor: sections
    assert shapes(tn.tensor_split(v, tn.tensor([2]))) == [(2,), (5,)]     # a 1-d one: indices
    assert shapes(tn.tensor_split(v, sections=2)) == shapes(tn.tensor_split(v, indices=[4]))
    assert shapes(X.tensor_split(3, dim=1)) == [(3, 2), (3, 1), (3, 1)]
    assert all(shares(p, X) for p in tn.tensor_split(X, 2))
    with pytest.raises(RuntimeError, match="larger than 0"):
        tn.tensor_split(v, 0)
    with pytest.raises(RuntimeError, match="dtype of long"):
        tn.tensor_split(v, tn.tensor([2.0]))
    with pytest.raises(RuntimeError, match="0 dims"):
        tn.tensor_split(tn.tensor(1.0), 2)


def test_hsplit_vsplit_dsplit_need_even_sections_and_enough_dims():
    assert shapes(tn.hsplit(tn.arange(6), 3)) == [(2,), (2,), (2,)]          # 1-d: along dim 0
    assert shapes(tn.hsplit(tn.ones(2, 6), [1, 4])) == [(2, 1), (2, 3), (2, 2)]
    assert shapes(tn.vsplit(tn.ones(4, 2), 2)) == [(2, 2), (2, 2)]
    assert shapes(tn.dsplit(tn.ones(1, 2, 4), [3])) == [(1, 2, 3), (1, 2, 1)]
    with pytest.raises(RuntimeError, match="not divisible by the split_size 4"):
        tn.hsplit(tn.arange(6), 4)
    with pytest.raises(RuntimeError, match="at least 2 dimension"):
        tn.vsplit(tn.arange(6), 3)
    with pytest.raises(RuntimeError, match="at least 3 dimension"):
        tn.ones(2, 2).dsplit(2)


def test_split_with_sizes_swapaxes_and_swapdims():
    assert [p.tolist() for p in tn.arange(5).split_with_sizes([2, 3])] == [[0, 1], [2, 3, 4]]
    assert shapes(tn.split_with_sizes(X, [1, 3], dim=-1)) == [(3, 1), (3, 3)]
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        tn.arange(5).split_with_sizes([2, 2])
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.arange(5).split_with_sizes([6, -1])
    y = tn.ones(2, 3, 4).swapaxes(0, 2)
    assert y.shape == (4, 3, 2) and tn.swapdims(tn.ones(2, 3, 4), -1, 1).shape == (2, 4, 3)
    assert X.swapaxes(0, 1).tolist() == X.t().tolist() and shares(X.swapdims(0, 1), X)


def test_unfold_is_a_strided_view_of_the_windows(backend_name):
    x = tn.arange(10.0)
    windows = x.unfold(0, 3, 2)  # windows start at 0, 2, 4, 6: (10 - 3) // 2 + 1 = 4 of them
    assert windows.tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]] and shares(windows, x)
    assert tn.ones(2, 3, 4).unfold(-1, 2, 1).shape == (2, 3, 3, 2)
    assert X.t().unfold(1, 2, 1).tolist() == [[[0, 4], [4, 8]], [[1, 5], [5, 9]], [[2, 6], [6, 10]], [[3, 7], [7, 11]]]
    assert x.unfold(0, 0, 1).shape == (11, 0) and tn.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    apart = x.unfold(0, 2, 3)      # windows that do not overlap can be written through
    apart.mul_(-1.0)
    assert x.tolist() == [0, -1, 2, -3, -4, 5, -6, -7, 8, 9] and x._version == 1
    with pytest.raises(ValueError, match="read-only"):  # overlapping windows: tinynn refuses the write
        windows.add_(1.0)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 10 but size is 11"):
        x.unfold(0, 11, 1)
    with pytest.raises(RuntimeError, match="step is 0"):
        x.unfold(0, 2, 0)


# ---------------------------------------------------------------- the index ops
def test_take_and_take_along_dim():
    assert X.take(tn.tensor([[0, -1], [5, 5]])).tolist() == [[0, 11], [5, 5]]
    with pytest.raises(IndexError, match="out of bounds"):
        tn.take(X, tn.tensor([12]))
    with pytest.raises(RuntimeError, match="long tensor"):
        X.take(tn.tensor([1], dtype=tn.int32))
    assert tn.take_along_dim(X, tn.tensor([[5, 0]])).tolist() == [5, 0]            # flattened
    assert tn.take_along_dim(X, tn.tensor([[3], [0], [1]]), dim=1).tolist() == [[3], [4], [9]]
    assert tn.take_along_dim(X, tn.tensor([[2, 1, 0, 2]]), dim=0).tolist() == [[8, 5, 2, 11]]  # index broadcast
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        tn.take_along_dim(X, tn.tensor([0]), dim=1)


def test_index_fill_and_index_copy():
    y = X.index_fill(1, tn.tensor([0, -1]), -1.5)
    assert y[:, 0].tolist() == [-1.5] * 3 and y[:, 3].tolist() == [-1.5] * 3 and y[:, 1:3].tolist() == X[:, 1:3].tolist()
    assert tn.arange(3).index_fill(0, tn.tensor([1]), 2.7).tolist() == [0, 2, 2]  # cast to int64 (truncated)
    with pytest.raises(RuntimeError, match="0-dimensional value"):
        X.index_fill(0, tn.tensor([0]), tn.tensor([1.0]))
    with pytest.raises(IndexError, match="long tensor"):
        X.index_fill(0, tn.tensor([0.0]), 1.0)
    z = tn.zeros(3, 2).index_copy(0, tn.tensor([2, 0]), tn.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert z.tolist() == [[3, 4], [0, 0], [1, 2]]
    x = tn.zeros(3, 2)
    assert x.index_copy_(1, tn.tensor([1]), tn.ones(3, 1)) is x and x.tolist() == [[0, 1]] * 3
    with pytest.raises(IndexError, match="Number of indices"):
        tn.index_copy(tn.zeros(3, 2), 0, tn.tensor([1]), tn.ones(2, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.zeros(3, 2).index_copy(0, tn.tensor([1]), tn.ones(1, 2, dtype=tn.int64))


def test_index_put_replaces_or_accumulates():
    index = (tn.tensor([0, 0, 2]), tn.tensor([1, 1, 3]))
    values = tn.tensor([1.0, 2.0, 3.0])
    assert tn.zeros(3, 4).index_put(index, values, accumulate=True)[0, 1].item() == 3.0  # 1 + 2
    put = tn.zeros(3, 4).index_put(index, values)
    assert put[2, 3].item() == 3.0 and put.sum().item() in (5.0, 4.0)  # a repeated place takes one of the values
    rows = tn.zeros(3, 2).index_put((tn.tensor([True, False, True]),), tn.tensor(5.0))
    assert rows.tolist() == [[5, 5], [0, 0], [5, 5]]
    x = tn.zeros(3)
    assert tn.index_put_(x, (tn.tensor([-1]),), tn.tensor(4.0), accumulate=True) is x and x.tolist() == [0, 0, 4]
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.zeros(3).index_put((tn.tensor([0]),), tn.tensor(5))
    with pytest.raises(IndexError, match="too many indices"):
        tn.zeros(3).index_put((tn.tensor([0]), tn.tensor([0])), tn.tensor(1.0))
    with pytest.raises(TypeError, match="expected Tensor as element 0"):
        tn.zeros(3).index_put(([0],), tn.tensor(1.0))


def test_scatter_reduce_against_its_definition():
    x = tn.tensor([1.0, 2.0, 3.0, 4.0])
    index, src = tn.tensor([0, 0, 2, 2, 2]), tn.tensor([5.0, -1.0, 2.0, 7.0, 0.5])
    expected = {"sum": [5, 2, 12.5, 4], "prod": [-5, 2, 21, 4], "mean": [5 / 3, 2, 12.5 / 4, 4],
                "amax": [5, 2, 7, 4], "amin": [-1, 2, 0.5, 4]}
    without_x = {"sum": [4, 2, 9.5, 4], "prod": [-5, 2, 7, 4], "mean": [2, 2, 9.5 / 3, 4],
                 "amax": [5, 2, 7, 4], "amin": [-1, 2, 0.5, 4]}
    for reduce in expected:
        np.testing.assert_allclose(x.scatter_reduce(0, index, src, reduce).numpy(), expected[reduce], rtol=1e-6)
        np.testing.assert_allclose(tn.scatter_reduce(x, 0, index, src, reduce, include_self=False).numpy(),
                                   without_x[reduce], rtol=1e-6)
    ints = tn.tensor([-1, 2]).scatter_reduce(0, tn.tensor([0, 0]), tn.tensor([-2, -4]), "mean")
    assert ints.tolist() == [-3, 2] and ints.dtype == tn.int64  # (-1 - 2 - 4) / 3 rounds down
    assert np.isnan(tn.tensor([1.0, 2.0]).scatter_reduce(0, tn.tensor([0]), tn.tensor([np.nan]), "amax")[0].item())
    y = X.scatter_reduce(1, tn.tensor([[0, 1, 0], [3, 3, 3], [2, 0, 2]]), tn.ones(3, 5), "sum")  # src cut to index
    assert y.tolist() == [[2, 2, 2, 3], [4, 5, 6, 10], [9, 9, 12, 11]]
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin"):
        x.scatter_reduce(0, index, src, "max")
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_reduce(0, tn.tensor([-1]), tn.tensor([1.0]), "sum")
    with pytest.raises(RuntimeError, match="same dtype"):
        x.scatter_reduce(0, tn.tensor([0]), tn.tensor([1]), "sum")
    z = x.clone()
    assert z.scatter_reduce_(0, index, src, "amax") is z and z.tolist() == [5, 2, 7, 4]


def test_index_reduce_and_the_legacy_scatter_reduce():
    x = tn.ones(3, 2)
    source = tn.tensor([[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    assert x.index_reduce(0, tn.tensor([0, 0, 2]), source, "prod").tolist() == [[8, 15], [1, 1], [6, 7]]
    assert x.index_reduce(0, tn.tensor([0, 0, 2]), source, "mean", include_self=False).tolist() == [[3, 4], [1, 1], [6, 7]]
    assert tn.index_reduce(x, 1, tn.tensor([1]), tn.zeros(3, 1), "amin").tolist() == [[1, 0]] * 3
    with pytest.raises(RuntimeError, match="one of prod, mean, amax or amin but got sum"):
        x.index_reduce(0, tn.tensor([0]), tn.ones(1, 2), "sum")
    assert tn.zeros(3).scatter(0, tn.tensor([0, 0]), 2.0, reduce="add").tolist() == [4, 0, 0]
    y = tn.ones(3)
    assert y.scatter_(0, tn.tensor([0, 0, 2]), tn.tensor([3.0, 2.0, 5.0]), reduce="multiply") is y
    assert y.tolist() == [6, 1, 5]
    with pytest.raises(RuntimeError, match="either add or multiply"):
        y.scatter(0, tn.tensor([0]), 1.0, reduce="mean")
    w = tn.zeros(3, requires_grad=True)
    legacy = (w * 1).scatter(0, tn.tensor([0]), tn.ones(1), reduce="add")
    with pytest.raises(RuntimeError, match="derivative is not implemented"):
        legacy.sum().backward()


def test_masked_scatter_and_put():
    mask = tn.tensor([[True, False, True], [False, True, False]])
    y = tn.zeros(2, 3).masked_scatter(mask, tn.arange(6.0))
    assert y.tolist() == [[0, 0, 1], [0, 2, 0]]  # source's first elements, in row-major order
    assert tn.masked_scatter(tn.zeros(3), mask, tn.arange(6.0)).tolist() == [[0, 0, 1], [0, 2, 0]]
    with pytest.raises(RuntimeError, match="Number of elements of source"):
        tn.zeros(2, 3).masked_scatter(mask, tn.arange(2.0))
    with pytest.raises(RuntimeError, match="boolean masks"):
        tn.zeros(3).masked_scatter(tn.tensor([1, 0, 1], dtype=tn.uint8), tn.arange(3.0))
    x = tn.zeros(2, 3)
    assert x.put_(tn.tensor([1, -1]), tn.tensor([7.0, 8.0])) is x and x.tolist() == [[0, 7, 0], [0, 0, 8]]
    assert tn.put(tn.zeros(2, 3), tn.tensor([1, 1]), tn.tensor([7.0, 8.0]), True).tolist() == [[0, 15, 0], [0, 0, 0]]
    with pytest.raises(IndexError, match="same number of elements"):
        tn.zeros(2, 3).put(tn.tensor([1, 2]), tn.tensor([7.0]))


def test_select_slice_and_diagonal_scatter():
    assert tn.select_scatter(tn.zeros(2, 3), tn.ones(2), 1, -1).tolist() == [[0, 0, 1], [0, 0, 1]]
    assert tn.zeros(4, 2).slice_scatter(tn.ones(2, 2), start=1, step=2).tolist() == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert tn.zeros(3, 3).diagonal_scatter(tn.tensor([1.0, 2.0]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert tn.zeros(2, 3).select_scatter(tn.tensor([1, 2]), 1, 0).dtype == tn.float32  # src cast to self's dtype
    with pytest.raises(RuntimeError, match="src size = \\[3\\], slice size = \\[2\\]"):
        tn.zeros(2, 3).select_scatter(tn.ones(3), 1, 0)
    with pytest.raises(RuntimeError, match="slice size"):
        tn.zeros(3, 3).diagonal_scatter(tn.ones(3), 1)


def test_fill_diagonal_wraps_tall_matrices_only_when_asked():
    assert tn.zeros(3, 2).fill_diagonal_(2.0).tolist() == [[2, 0], [0, 2], [0, 0]]
    wrapped = tn.zeros(7, 3).fill_diagonal_(1.0, wrap=True)  # flat places 0, 4, 8, 12, 16, 20
    assert wrapped.sum(1).tolist() == [1, 1, 1, 0, 1, 1, 1] and wrapped[4, 0].item() == 1.0
    cube = tn.zeros(2, 2, 2).fill_diagonal_(1.5)
    assert cube[0, 0, 0].item() == cube[1, 1, 1].item() == 1.5 and cube.sum().item() == 3.0
    assert tn.zeros(2, 2, dtype=tn.int64).fill_diagonal_(1.7).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(RuntimeError, match="equal length"):
        tn.zeros(2, 3, 2).fill_diagonal_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        tn.zeros(2, 2, requires_grad=True).fill_diagonal_(1.0)
