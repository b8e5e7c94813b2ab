"""Gradients of the shape, indexing and construction ops of tinynn/tensor_extras/ and tinynn/ops/index_more.py:
float64 gradcheck and gradgradcheck (central differences) on both backends, for every differentiable op,
its in-place forms on a non-leaf, and the reductions of scatter_reduce / index_reduce with and without
include_self (prod with zeros in x and src: the exclusive products; amax/amin at distinct values)."""
import numpy as np
import pytest

import tinynn as tn

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(7)


def _i(*values):
    return tn.tensor(np.array(values, dtype=np.int64))


INDEX = tn.tensor(np.array([[0, 1, 0], [3, 3, 3], [2, 0, 2]]))
MASK = tn.tensor(np.array([[True, False, True], [False, True, False]]))

# name -> (fn of the float inputs, the inputs)
CASES = {
    "unbind": (lambda x: tn.unbind(x, 1), [A]),
    "select": (lambda x: x.select(1, -1), [A]),
    "tensor_split sections": (lambda x: tn.tensor_split(x, 3, dim=1), [A]),
    "tensor_split indices": (lambda x: x.tensor_split([1, 5, 3, 10]), [V]),
    "hsplit vsplit dsplit": (lambda x: tn.hsplit(x, 3) + tn.vsplit(x, [1]) + tn.dsplit(x, 2), [B]),
    "split_with_sizes": (lambda x: x.split_with_sizes([1, 3], dim=-1), [A]),
    "swapaxes swapdims": (lambda x: tn.swapaxes(x, 0, 2) * tn.swapdims(x, 2, 0), [B]),
    "take": (lambda x: x.take(tn.tensor([[0, -1], [5, 5]])), [A]),
    "take_along_dim": (lambda x: tn.take_along_dim(x, tn.tensor([[[0, 2, 2, 1], [1, 0, 0, 0]]]), dim=1), [B[:, :, :1]]),
    "take_along_dim flat": (lambda x: tn.take_along_dim(x, tn.tensor([[5, 0, 5]])), [A]),
    "index_fill with a tensor value": (lambda x, v: x.index_fill(0, _i(0, 0, 2), v), [A, np.array(2.0)]),
    "index_copy": (lambda x, s: x.index_copy(1, _i(3, 1), s), [A, RNG.standard_normal((3, 2))]),
    "index_put": (lambda x, v: x.index_put((_i(0, 2), _i(1, 3)), v), [A, RNG.standard_normal(2)]),
    "index_put accumulate": (lambda x, v: tn.index_put(x, (_i(0, 0, 2),), v, accumulate=True), [A, RNG.standard_normal(4)]),
    "masked_scatter": (lambda x, s: x.masked_scatter(MASK, s), [RNG.standard_normal(3), RNG.standard_normal(7)]),
    "put": (lambda x, s: x.put(_i(1, -1, 4), s), [A, RNG.standard_normal(3)]),
    "put accumulate": (lambda x, s: x.put(_i(1, 1, 4), s, accumulate=True), [A, RNG.standard_normal(3)]),
    "unfold": (lambda x: x.unfold(2, 2, 1), [B]),
    "unfold transposed, step > size": (lambda x: x.t().unfold(0, 1, 2), [A]),
    "view_as reshape_as type_as": (lambda x: x.view_as(tn.zeros(4, 3)) + x.t().reshape_as(tn.zeros(4, 3)).type_as(x), [A]),
    "atleast": (lambda x, s: tn.atleast_3d(x, s) + (tn.atleast_2d(s), tn.atleast_1d(s)), [A, np.array(1.5)]),
    "block_diag": (lambda a, b, c: tn.block_diag(a, b, c), [np.array(2.0), V[:2], A[:2, :1]]),
    "broadcast_tensors": (lambda a, b: tn.broadcast_tensors(a, b), [A[:, :1], V[:4]]),
    "cartesian_prod": (lambda a, b: tn.cartesian_prod(a, b), [V[:2], V[2:5]]),
    "combinations": (lambda a: tn.combinations(a, 3, with_replacement=True), [V[:3]]),
    "column_stack row_stack": (lambda a, b: (tn.column_stack([a, b]), tn.row_stack([b.t(), a])), [V[:3], A[:, :2]]),
    "diag_embed": (lambda x: tn.diag_embed(x, -1, 0, 2), [A]),
    "diagflat": (lambda x: x.diagflat(1), [A]),
    "fliplr flipud": (lambda x: tn.fliplr(x) * x.flipud(), [B]),
    "rot90": (lambda x: (x.rot90(1), tn.rot90(x, 2, [2, 0]), x.rot90(-1, [1, 2]), x.rot90(4)), [B]),
    "ravel": (lambda x: x.t().ravel(), [A]),
    "vander": (lambda x: (tn.vander(x), tn.vander(x, 4, increasing=True)), [np.array([1.5, 0.0, -2.0])]),
    "select_scatter": (lambda x, s: tn.select_scatter(x, s, 1, -1), [A, RNG.standard_normal(3)]),
    "slice_scatter": (lambda x, s: x.slice_scatter(s, 1, 1, None, 2), [A, RNG.standard_normal((3, 2))]),
    "diagonal_scatter": (lambda x, s: x.diagonal_scatter(s, 1, 0, 2), [B, RNG.standard_normal((3, 2))]),
    "sum_to_size": (lambda x: x.sum_to_size(3, 1), [B]),
    "scatter (src), distinct places": (lambda x, s: x.scatter(1, tn.tensor([[0, 1, 2], [3, 2, 1]]), s),
                                       [A, RNG.standard_normal((2, 3))]),
}


def _inplace(name, *args):
    def fn(x, *tensors):
        y = x * 1.0  # a non-leaf: in-place ops on it are recorded
        getattr(y, name)(*args, *tensors)
        return y
    return fn


CASES.update({
    "index_fill_": (_inplace("index_fill_", 1, _i(0, 3), -1.0), [A]),
    "index_copy_": (lambda x, s: _inplace("index_copy_", 0, _i(2, 0))(x, s), [A, RNG.standard_normal((2, 4))]),
    "index_put_": (lambda x, v: _inplace("index_put_", (_i(1),))(x, v), [A, RNG.standard_normal(4)]),
    "masked_scatter_": (lambda x, s: _inplace("masked_scatter_", MASK)(x, s), [RNG.standard_normal((2, 3)),
                                                                               RNG.standard_normal(6)]),
    "put_": (lambda x, s: _inplace("put_", _i(0, 5))(x, s), [A, RNG.standard_normal(2)]),
    "scatter_reduce_": (lambda x, s: _inplace("scatter_reduce_", 1, INDEX)(x, s, "amax"), [A, RNG.standard_normal((3, 3))]),
    "index_reduce_": (lambda x, s: _inplace("index_reduce_", 0, _i(2, 0, 2))(x, s, "mean"),
                      [A, RNG.standard_normal((3, 4))]),
    "fill_diagonal_ with a tensor value": (lambda x, v: _inplace("fill_diagonal_")(x, v), [A, np.array(0.5)]),
    "unsqueeze_ t_ transpose_ swapaxes_ squeeze_": (
        lambda x: (x * 1.0).unsqueeze_(0).transpose_(0, 2).swapaxes_(0, 1).squeeze_(2).t_().swapdims_(0, 1), [A]),
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_and_their_gradients_match_central_differences(name, backend_name):
    fn, arrays = CASES[name]
    inputs = [tn.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    assert tn.gradcheck(fn, *inputs)
    assert tn.gradgradcheck(fn, *inputs)


X = RNG.standard_normal((3, 4))
SRC = RNG.standard_normal((3, 3))


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_gradients(reduce, include_self, backend_name):
    def fn(x, s):
        return x.scatter_reduce(1, INDEX, s, reduce, include_self=include_self)
    inputs = [tn.tensor(X, requires_grad=True), tn.tensor(SRC, requires_grad=True)]
    assert tn.gradcheck(fn, *inputs) and tn.gradgradcheck(fn, *inputs)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_gradients(reduce, include_self, backend_name):
    def fn(x, s):
        return tn.index_reduce(x, 1, _i(0, 3, 0, 0, 2), s, reduce, include_self=include_self)
    inputs = [tn.tensor(X, requires_grad=True), tn.tensor(RNG.standard_normal((3, 5)), requires_grad=True)]
    assert tn.gradcheck(fn, *inputs) and tn.gradgradcheck(fn, *inputs)


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradients_with_zeros_in_x_and_src(include_self, backend_name):
    """Place 0: x = 0 and one zero in src; place 1: no zero; place 2: src's only element is 0; place 3: x = 0
    alone. The gradient of a zero factor is the product of the others, not 0 / 0."""
    def fn(x, s):
        return x.scatter_reduce(0, _i(0, 0, 1, 1, 1, 2), s, "prod", include_self=include_self)
    inputs = [tn.tensor([0.0, 2.0, 3.0, 0.0], requires_grad=True),
              tn.tensor([2.0, 0.0, 1.5, 0.5, 3.0, 0.0], requires_grad=True)]
    assert tn.gradcheck(fn, *inputs) and tn.gradgradcheck(fn, *inputs)
    y = fn(*inputs)
    y.backward(tn.ones(4))
    # d y_p / d src_k = the product of the other factors at p (x_p among them when include_self): at place 0
    # x_0 = 0 zeroes both with include_self; place 2's lone src (a zero) gets x_2 = 3, or 1 without x
    expected_src = [0.0, 0.0, 3.0, 9.0, 1.5, 3.0] if include_self else [0.0, 2.0, 1.5, 4.5, 0.75, 1.0]
    np.testing.assert_allclose(inputs[1].grad.numpy(), expected_src)
    np.testing.assert_allclose(inputs[0].grad.numpy(), [0.0, 2.25, 0.0, 1.0] if include_self else [0, 0, 0, 1.0])


def test_unique_consecutive_sends_each_run_its_gradient_through_its_first_element(backend_name):
    x = tn.tensor([1.5, 1.5, 0.0, 0.0, 1.5], requires_grad=True)
    values = tn.unique_consecutive(x)
    assert values.tolist() == [1.5, 0.0, 1.5]
    values.backward(tn.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [1.0, 0.0, 2.0, 0.0, 3.0]  # positions 0, 2, 4 start the runs
