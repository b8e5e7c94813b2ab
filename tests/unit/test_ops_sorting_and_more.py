"""sort argsort topk median, tril triu diag diagonal, roll movedim flip hstack vstack dstack, nansum
nanmean fmod frac lerp, stride, and negative slice steps refused: hand-computed values and PyTorch's
documented rules (stable ties, NaN sorted last, the lower median, C's fmod), gradient checks in
float64 (and gradients of gradients) on both backends."""
import math

import numpy as np
import pytest

import tinynn as tn

NAN = float("nan")
A = np.random.default_rng(3).uniform(-2.0, 2.0, (3, 4))  # distinct values: every op below is smooth there
B = np.random.default_rng(4).uniform(-2.0, 2.0, (2, 3, 4))


# ---------------------------------------------------------------- sorting
def test_sort_orders_values_stably_with_nan_last_and_first_when_descending(backend_name):
    x = tn.tensor([3.0, 1.0, 2.0, 1.0, NAN, 2.0])
    values, indices = tn.sort(x)
    np.testing.assert_array_equal(values.numpy(), [1, 1, 2, 2, 3, NAN])
    assert indices.tolist() == [1, 3, 2, 5, 0, 4] and indices.dtype == np.int64  # ties in input order
    down = x.sort(descending=True)
    np.testing.assert_array_equal(down.values.numpy(), [NAN, 3, 2, 2, 1, 1])
    assert down.indices.tolist() == [4, 0, 2, 5, 1, 3]  # stable descending: ties still in input order
    assert type(down).__name__ == "sort" and down._fields == ("values", "indices")
    assert tn.argsort(x, stable=True).tolist() == [1, 3, 2, 5, 0, 4]
    assert x.argsort(0, True).tolist() == [4, 0, 2, 5, 1, 3]


def test_sort_along_a_dim_of_integers_bools_0d_and_empty(backend_name):
    m = tn.tensor([[3, 1, 2], [1, 1, 0]])
    assert m.sort(0).values.tolist() == [[1, 1, 0], [3, 1, 2]] and m.sort(0).indices.tolist() == [[1, 0, 1], [0, 1, 0]]
    assert tn.sort(m, dim=-1, descending=True).values.tolist() == [[3, 2, 1], [1, 1, 0]]
    assert tn.sort(tn.tensor([True, False, True])).indices.tolist() == [1, 0, 2]
    zero_d = tn.sort(tn.tensor(3.0), dim=0)
    assert zero_d.values.shape == () and zero_d.indices.item() == 0
    assert tn.sort(tn.zeros(0, 3), dim=0).values.shape == (0, 3)
    with pytest.raises(IndexError, match="sort: dim 1 is out of range"):
        tn.sort(tn.tensor(3.0), dim=1)


def test_topk_takes_the_k_largest_or_smallest_in_order(backend_name):
    x = tn.tensor([3.0, 1.0, 2.0, 1.0, NAN, 2.0])
    top = tn.topk(x, 3)
    np.testing.assert_array_equal(top.values.numpy(), [NAN, 3, 2])
    assert top.indices.tolist() == [4, 0, 2] and type(top).__name__ == "topk"
    low = x.topk(3, largest=False)
    assert low.values.tolist() == [1, 1, 2] and low.indices.tolist() == [1, 3, 2]
    m = tn.tensor([[1.0, 5.0, 3.0], [4.0, 0.0, 6.0]])
    assert m.topk(1, dim=0).values.tolist() == [[4, 5, 6]]
    assert tn.topk(m, 0).values.shape == (2, 0)
    with pytest.raises(RuntimeError, match="topk: selected index k = 4 out of range"):
        m.topk(4)
    with pytest.raises(RuntimeError, match="topk: selected index k = -1"):
        m.topk(-1)
    with pytest.raises(RuntimeError, match="topk: not supported for bool"):
        tn.topk(tn.tensor([True, False]), 1)


def test_median_is_the_lower_median_and_nan_when_there_is_one(backend_name):
    assert tn.median(tn.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0  # sorted 1 2 3 4: position (4 - 1) // 2 = 1
    assert tn.median(tn.tensor([3, 1, 2])).item() == 2 and tn.median(tn.tensor([3, 1, 2])).dtype == np.int64
    assert math.isnan(tn.median(tn.tensor([1.0, NAN, 2.0])).item())
    assert math.isnan(tn.median(tn.tensor([], dtype=tn.float32)).item())
    values, indices = tn.median(tn.tensor([4.0, 1.0, 3.0, 2.0]), 0)
    assert values.item() == 2.0 and indices.item() == 3
    result = tn.tensor([[1.0, 5.0], [3.0, 2.0]]).median(1, keepdim=True)
    assert result.values.tolist() == [[1.0], [2.0]] and result.indices.tolist() == [[0], [1]]
    assert type(result).__name__ == "median"
    nan_row = tn.tensor([[4.0, 1.0, NAN, 2.0, NAN]]).median(1)  # the first NaN, as PyTorch
    assert math.isnan(nan_row.values.item()) and nan_row.indices.tolist() == [2]
    with pytest.raises(IndexError, match="median: expected reduction dim 0 to have non-zero size"):
        tn.median(tn.zeros(0, 3), 0)
    with pytest.raises(TypeError, match="median: not implemented for bool"):
        tn.median(tn.tensor([True, False]))


def test_median_gradients_go_evenly_to_ties_without_dim_and_to_the_index_with_one(backend_name):
    x = tn.tensor([1.0, 2.0, 2.0, 3.0, 2.0], requires_grad=True)
    tn.median(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    x = tn.tensor([1.0, NAN, 2.0, NAN], requires_grad=True)
    tn.median(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0, 0.5])
    x = tn.tensor([[1.0, 2.0, 2.0, 3.0, 2.0]], requires_grad=True)
    values, indices = tn.median(x, 1)
    values.sum().backward()
    expected = np.zeros((1, 5))
    expected[0, indices.item()] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda t: tn.sort(t, 1, True).values, lambda t: t.sort(0).values, lambda t: tn.topk(t, 2, 1, False).values,
    lambda t: t.topk(2, 0).values, lambda t: tn.median(t), lambda t: tn.median(t, 1).values,
    lambda t: t.median(0, keepdim=True).values,
])
def test_sorting_gradients(call, backend_name):
    assert tn.gradcheck(call, tn.tensor(A, requires_grad=True))
    assert tn.gradgradcheck(call, tn.tensor(A, requires_grad=True))


# ---------------------------------------------------------------- diagonals and triangles
def test_tril_triu_keep_the_triangles_of_the_last_two_dims(backend_name):
    m = tn.arange(12.0).reshape(3, 4)
    assert m.tril(1).tolist() == [[0, 1, 0, 0], [4, 5, 6, 0], [8, 9, 10, 11]]
    assert tn.triu(m, diagonal=-1).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 9, 10, 11]]
    assert tn.tril(tn.tensor([[True, True], [True, True]])).tolist() == [[True, False], [True, True]]
    batch = tn.triu(tn.ones(2, 2, 2, dtype=tn.int64))
    assert batch.dtype == np.int64 and batch.tolist() == [[[1, 1], [0, 1]]] * 2
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        tn.tril(tn.ones(3))


def test_diag_and_diagonal(backend_name):
    assert tn.diag(tn.tensor([1.0, 2.0]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert tn.diag(tn.tensor([1.0, 2.0]), -2).tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0]]
    m = tn.arange(12.0).reshape(3, 4)
    assert tn.diag(m).tolist() == [0, 5, 10] and tn.diag(m, 2).tolist() == [2, 7] and tn.diag(m, -1).tolist() == [4, 9]
    assert tn.diag(m, 5).shape == (0,)
    assert m.diagonal(offset=-1, dim1=1, dim2=0).tolist() == [1, 6, 11]
    cube = tn.arange(24.0).reshape(2, 3, 4)
    assert tn.diagonal(cube, 0, -1, 0).tolist() == [[0, 13], [4, 17], [8, 21]]  # x[i, :, i], the diagonal last
    with pytest.raises(RuntimeError, match="diag: supports 1-d or 2-d tensors, got 3-d"):
        tn.diag(cube)
    with pytest.raises(RuntimeError, match="diagonal: dim1 0 and dim2 0 must be two different dims"):
        tn.diagonal(m, 0, 0, 0)


def test_diagonal_is_a_view_and_diag_a_copy(backend_name):
    m = tn.zeros(3, 4)
    m.diagonal(1).add_(1)
    assert m.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    tn.diag(m, 1).add_(1)
    assert m.sum().item() == 3


@pytest.mark.parametrize("call, x", [
    (lambda t: tn.tril(t, 1), B), (lambda t: t.triu(-1), A), (lambda t: tn.diag(t[0], 1), A),
    (lambda t: tn.diag(t, -1), A), (lambda t: tn.diagonal(t, 1, 2, 0), B), (lambda t: t.diagonal(), A),
])
def test_diagonal_gradients(call, x, backend_name):
    assert tn.gradcheck(call, tn.tensor(x, requires_grad=True))
    assert tn.gradgradcheck(call, tn.tensor(x, requires_grad=True))


# ---------------------------------------------------------------- moving elements
def test_roll_shifts_along_dims_or_the_flattened_tensor(backend_name):
    m = tn.arange(12.0).reshape(3, 4)
    assert tn.roll(m, 1).tolist() == [[11, 0, 1, 2], [3, 4, 5, 6], [7, 8, 9, 10]]
    assert tn.roll(m, 1, 0).tolist() == [[8, 9, 10, 11], [0, 1, 2, 3], [4, 5, 6, 7]]
    assert m.roll((1, -1), (0, 1)).tolist() == [[9, 10, 11, 8], [1, 2, 3, 0], [5, 6, 7, 4]]
    assert tn.roll(m, -7, 1).tolist() == tn.roll(m, 1, 1).tolist()  # -7 = 1 (mod 4)
    same = tn.roll(m, 4, 1)
    same.add_(1)  # a new tensor, never the input itself
    assert m[0, 0].item() == 0
    with pytest.raises(RuntimeError, match="roll: shifts and dims must align"):
        tn.roll(m, (1, 2), 1)
    with pytest.raises(IndexError, match="roll: dim 2 is out of range"):
        tn.roll(m, 1, 2)


def test_movedim_and_flip(backend_name):
    x = tn.zeros(2, 3, 4)
    assert tn.movedim(x, 0, -1).shape == (3, 4, 2) and tn.movedim(x, (0, 1), (2, 0)).shape == (3, 4, 2)
    assert x.moveaxis([0], [2]).shape == (3, 4, 2) and tn.moveaxis(x, 0, 1).shape == (3, 2, 4)
    m = tn.arange(6).reshape(2, 3)
    assert tn.movedim(m, 1, 0).tolist() == [[0, 3], [1, 4], [2, 5]]
    with pytest.raises(RuntimeError, match=r"movedim: repeated dim in `source` \(\[0, 0\]\)"):
        tn.movedim(x, (0, 0), (1, 2))
    with pytest.raises(RuntimeError, match="movedim: source .* must name as many dims"):
        tn.movedim(x, (0, 1), (1,))
    assert m.flip(-1, 0).tolist() == [[5, 4, 3], [2, 1, 0]] and tn.flip(tn.tensor(3.0), (0,)).item() == 3.0
    flipped = m.flip(0)
    flipped.add_(10)  # a copy, as PyTorch's flip
    assert m.tolist() == [[0, 1, 2], [3, 4, 5]] and flipped.stride() == (3, 1)


@pytest.mark.parametrize("op, shapes, shape", [
    ("hstack", [(2,), (3,)], (5,)), ("hstack", [(3, 4), (3, 2)], (3, 6)), ("hstack", [(), ()], (2,)),
    ("vstack", [(2,), (2,)], (2, 2)), ("vstack", [(3, 4), (4,)], (4, 4)),
    ("dstack", [(2,), (2,)], (1, 2, 2)), ("dstack", [(3, 4), (3, 4)], (3, 4, 2)),
])
def test_hstack_vstack_dstack_shapes(op, shapes, shape, backend_name):
    parts = [tn.ones(*s) for s in shapes]
    assert getattr(tn, op)(parts).shape == shape
    assert getattr(tn, op)(tuple(parts)).shape == shape


def test_stacks_join_values_in_order_and_refuse_an_empty_list():
    a, b = tn.tensor([1.0, 2.0]), tn.tensor([3.0, 4.0])
    assert tn.hstack([a, b]).tolist() == [1, 2, 3, 4] and tn.vstack([a, b]).tolist() == [[1, 2], [3, 4]]
    assert tn.dstack([a, b]).tolist() == [[[1, 3], [2, 4]]]
    assert tn.hstack([a, tn.tensor([1, 2])]).dtype == np.float32  # promoted, as cat
    with pytest.raises(RuntimeError, match="hstack: expects a non-empty list"):
        tn.hstack([])
    with pytest.raises(TypeError, match="vstack: expects a list or tuple of tensors"):
        tn.vstack(a)


@pytest.mark.parametrize("call, x", [
    (lambda t: tn.roll(t, (1, -2), (0, 1)), A), (lambda t: t.roll(5), B), (lambda t: tn.movedim(t, (0, 2), (2, 1)), B),
    (lambda t: t.flip(0, 2), B), (lambda t: tn.hstack([t, t * 2]), A), (lambda t: tn.vstack([t[0], t]), A),
    (lambda t: tn.dstack([t, t.exp()]), A), (lambda t: t.cumsum(1), A), (lambda t: t.cumprod(1), A),
])
def test_moving_gradients(call, x, backend_name):
    assert tn.gradcheck(call, tn.tensor(x, requires_grad=True))
    assert tn.gradgradcheck(call, tn.tensor(x, requires_grad=True))


# ---------------------------------------------------------------- NaN-skipping reductions, fmod, frac, lerp
def test_nansum_and_nanmean_skip_nans(backend_name):
    n = tn.tensor([[1.0, NAN], [3.0, 4.0]])
    assert tn.nansum(n).item() == 8.0 and n.nansum(1).tolist() == [1.0, 7.0]
    assert tn.nanmean(n, 0, keepdim=True).tolist() == [[2.0, 4.0]]
    assert tn.nanmean(n).item() == pytest.approx(8 / 3) and tn.nanmean(n, dtype=tn.float64).dtype == np.float64
    assert math.isnan(tn.nanmean(tn.tensor([NAN])).item())
    assert tn.nansum(tn.tensor([1, 2], dtype=tn.int8)).dtype == np.int64  # as sum
    with pytest.raises(TypeError, match="nanmean: needs a floating-point tensor"):
        tn.nanmean(tn.tensor([1, 2]))
    x = tn.tensor([[1.0, NAN], [3.0, 4.0]], requires_grad=True)
    tn.nanmean(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, 0], [1 / 3, 1 / 3]])


def test_fmod_has_the_sign_of_the_dividend_and_frac_of_the_input(backend_name):
    assert tn.fmod(tn.tensor([-3.0, 3.0, -3.5]), 2).tolist() == [-1.0, 1.0, -1.5]  # remainder would give 1, 1, 0.5
    assert tn.fmod(tn.tensor([-3, 3]), 2).tolist() == [-1, 1] and tn.fmod(tn.tensor([-3, 3]), 2).dtype == np.int64
    assert tn.fmod(tn.tensor([-3, 3]), 1.5).dtype == np.float32
    assert all(math.isnan(v) for v in tn.fmod(tn.tensor([-3.0, 3.0]), 0).tolist())
    with pytest.raises(ZeroDivisionError, match="fmod: integer division by zero"):
        tn.fmod(tn.tensor([1, 2]), 0)
    assert tn.frac(tn.tensor([-1.5, 2.25, 3.0])).tolist() == [-0.5, 0.25, 0.0]
    with pytest.raises(TypeError, match="frac: needs a floating-point tensor"):
        tn.tensor([1, 2]).frac()


def test_lerp_is_start_plus_weight_times_the_difference(backend_name):
    start, end = tn.tensor([1.0, 2.0]), tn.tensor([3.0, 6.0])
    assert tn.lerp(start, end, 0.5).tolist() == [2.0, 4.0] and start.lerp(end, 1).tolist() == [3.0, 6.0]
    assert tn.lerp(start, end, tn.tensor([0.25, 2.0])).tolist() == [1.5, 10.0]
    assert tn.lerp(start, end, tn.tensor([[0.5], [1.0]])).shape == (2, 2)
    with pytest.raises(RuntimeError, match="lerp: expected dtype float32 for `end` but got dtype float64"):
        tn.lerp(start, end.double(), 0.5)
    with pytest.raises(TypeError, match="lerp: end must be a Tensor"):
        tn.lerp(start, 3.0, 0.5)


@pytest.mark.parametrize("call", [
    lambda t: tn.nansum(tn.where(t > 1, tn.tensor(NAN, dtype=t.dtype), t), 1),
    lambda t: tn.nanmean(tn.where(t > 1, tn.tensor(NAN, dtype=t.dtype), t), 0),
    lambda t: tn.fmod(t * 3, t[0] + 2.5), lambda t: tn.frac(t * 3),
    lambda t: tn.lerp(t[0], t[1], t[2]), lambda t: t[0].lerp(t[1], 0.7), lambda t: t[0].lerp(t[1], 0.2),
])
def test_nan_reduction_fmod_frac_lerp_gradients(call, backend_name):
    assert tn.gradcheck(call, tn.tensor(A, requires_grad=True))
    assert tn.gradgradcheck(call, tn.tensor(A, requires_grad=True))


def test_fmod_gradient_closed_form(backend_name):
    a, b = tn.tensor([7.0, -7.0], requires_grad=True), tn.tensor([2.0, 2.0], requires_grad=True)
    tn.fmod(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [-3.0, 3.0]  # -trunc(a / b)


# ---------------------------------------------------------------- stride, negative steps
def test_stride_counts_elements():
    m = tn.zeros(3, 4)
    assert m.stride() == (4, 1) and m.stride(0) == 4 and m.stride(-1) == 1
    assert m.t().stride() == (1, 4) and m[:, ::2].stride() == (4, 2) and tn.tensor(1.0).stride() == ()
    assert m.expand(2, 3, 4).stride() == (0, 4, 1)
    with pytest.raises(IndexError, match="stride: dimension 0 given, but a 0-d tensor"):
        tn.tensor(1.0).stride(0)


def test_a_negative_slice_step_is_refused_as_in_pytorch():
    m = tn.arange(6).reshape(2, 3)
    for index in (slice(None, None, -1), (slice(None), slice(None, None, -2)), (Ellipsis, slice(2, 0, -1))):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            m[index]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        m[::-1] = 0
    assert m[:, ::2].tolist() == [[0, 2], [3, 5]]
