"""Regression tests for the silent differences from PyTorch that issue 15 measured: each expected
value is worked out by hand from PyTorch's documented semantics and written here."""
import re

import numpy as np
import pytest

import tinynn as tn
from tinynn.testing import assert_gradients_match


def test_transpose_swaps_two_dims_as_in_pytorch(backend_name):
    x = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(x.transpose(1, 0).numpy(), x.transpose(-1, -2).numpy())
    y = tn.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    z = y.transpose(0, 2)
    assert z.shape == (4, 3, 2)
    assert z.numpy()[3, 1, 0] == y.numpy()[0, 1, 3]
    assert y.transpose(1, -1).shape == (2, 4, 3) and y.mT.shape == (2, 4, 3)
    assert assert_gradients_match(lambda t: y.transpose(0, 2) * tn.arange(24.0, dtype=np.float64).reshape(4, 3, 2), y)
    with pytest.raises(TypeError, match=r"transpose\(dim0, dim1\) swaps two dims.*permute"):
        y.transpose(2, 0, 1)
    with pytest.raises(IndexError, match="transpose: dim 3 is out of range"):
        y.transpose(0, 3)


def test_t_and_T():
    x = tn.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.t().numpy(), np.arange(6.0).reshape(2, 3).T)
    np.testing.assert_array_equal(x.T.numpy(), x.t().numpy())
    v = tn.tensor([1.0, 2.0])
    np.testing.assert_array_equal(v.t().numpy(), [1.0, 2.0])  # a 1-d tensor is its own transpose
    with pytest.raises(ValueError, match=r"t\(\): expects a tensor with <= 2 dimensions"):
        tn.ones(2, 3, 4).t()


def test_permute_with_negative_dims_gives_the_leaf_a_gradient_of_its_shape(backend_name):
    x = tn.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    w = np.arange(24.0).reshape(4, 2, 3)
    out = x.permute(-1, 0, -2)
    assert out.shape == (4, 2, 3)
    (out * tn.tensor(w)).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    # out[k, i, j] = x[i, j, k], so d/dx[i, j, k] = w[k, i, j]
    np.testing.assert_array_equal(x.grad, w.transpose(1, 2, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0, 1)


def test_max_with_dim_is_a_named_tuple_of_values_and_indices(backend_name):
    out = tn.tensor([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05]])
    _, pred = out.max(1)
    np.testing.assert_array_equal(pred.numpy(), [1, 0])
    assert pred.dtype == np.int64
    result = out.max(dim=1, keepdim=True)
    np.testing.assert_array_equal(result.values.numpy(), np.float32([[0.7], [0.9]]))
    np.testing.assert_array_equal(result.indices.numpy(), [[1], [0]])
    assert type(result).__name__ == "max"
    low = out.min(0)
    np.testing.assert_array_equal(low.values.numpy(), np.float32([0.1, 0.05, 0.05]))
    np.testing.assert_array_equal(low.indices.numpy(), [0, 1, 1])
    assert out.max(axis=0, keepdims=True).values.shape == (1, 3)  # NumPy's spellings


def test_max_with_dim_sends_the_whole_gradient_to_the_first_tied_index(backend_name):
    x = tn.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], dtype=np.float64, requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # the first occurrence, as PyTorch returns
    (values * tn.tensor([3.0, 7.0], dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 3.0, 0.0], [7.0, 0.0, 0.0]])
    y = tn.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], dtype=np.float64, requires_grad=True)
    y.min(dim=0).values.sum().backward()  # column mins 1, 1, 0: rows 1, 1, 1
    np.testing.assert_array_equal(y.grad, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_max_of_every_element_shares_the_gradient_evenly_among_ties(backend_name):
    # PyTorch's torch.max docs: "If reduce over all dimensions (no dim specified), gradients evenly
    # distribute between equally max/min values"; amax/amin do so along a dim too.
    x = tn.tensor([1.0, 4.0, 4.0, 4.0, 2.0], dtype=np.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1 / 3, 1 / 3, 1 / 3, 0.0], rtol=1e-15)
    y = tn.tensor([[3.0, 3.0], [0.0, 1.0]], dtype=np.float64, requires_grad=True)
    y.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.5, 0.5], [0.0, 1.0]])
    z = tn.tensor([[3.0, 3.0], [0.0, 1.0]], dtype=np.float64, requires_grad=True)
    z.amin(dim=(0, 1)).backward()
    np.testing.assert_array_equal(z.grad, [[0.0, 0.0], [1.0, 0.0]])


def test_max_with_dim_gradient_check_away_from_ties(backend_name):
    rng = np.random.default_rng(5)
    x = tn.tensor(rng.permutation(24).reshape(2, 3, 4) / 7.0, requires_grad=True)
    for dim in (0, 1, -1):
        assert assert_gradients_match(lambda t: t.max(dim).values * 1.5, x)
        assert assert_gradients_match(lambda t: t.min(dim, keepdim=True).values, x)


def test_argmax_and_argmin_take_dim_and_keepdim_positionally_and_by_keyword():
    x = tn.tensor([[1.0, 9.0, 9.0], [4.0, 0.0, 4.0]])
    np.testing.assert_array_equal(x.argmax(1, True).numpy(), [[1], [0]])
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=False).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(0).numpy(), [0, 1, 1])
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True).numpy(), [[0, 1, 1]])
    assert x.argmax().item() == 1  # of the flattened tensor
    assert x.argmax(None, True).shape == (1, 1)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_every_reduction_takes_keepdim_and_numpys_spelling(op):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tn.tensor(a)
    expected = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[op]
    np.testing.assert_allclose(getattr(x, op)(1, keepdim=True).data, expected(a, axis=1, keepdims=True))
    np.testing.assert_allclose(getattr(x, op)(dim=(0, 2)).data, expected(a, axis=(0, 2)))
    np.testing.assert_allclose(getattr(x, op)(axis=-1, keepdims=True).data, expected(a, axis=-1, keepdims=True))
    with pytest.raises(TypeError, match="both dim"):
        getattr(x, op)(dim=0, axis=0)


def test_reducing_a_0d_tensor_over_dim_0_is_the_tensor():
    x = tn.tensor(3.0, requires_grad=True)
    y = x.sum(0)
    assert y.shape == () and y.item() == 3.0
    y.backward()
    assert float(x.grad) == 1.0
    assert x.mean(-1, keepdim=True).shape == ()


# Pow's gradients from PyTorch's formulas (tools/autograd/templates, pow_backward):
#   d/dx x^y = y x^(y-1), set to 0 where y == 0;   d/dy x^y = x^y ln x, set to 0 where x == 0 and y >= 0.
def test_pow_gradient_at_zero_base_with_zero_exponent_is_zero(backend_name):
    x = tn.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # x^0 is the constant 1: 0 * x^-1 is taken as 0


def test_pow_gradient_of_zero_to_the_x_is_zero_where_x_is_not_negative(backend_name):
    y = tn.tensor([0.0, 0.5, 2.0, -1.0], dtype=np.float64, requires_grad=True)
    (0.0 ** y).sum().backward()
    # 0^y ln 0: masked to 0 for y >= 0; for y = -1, 0^-1 ln 0 = inf * -inf = -inf (unmasked, as in PyTorch)
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0, -np.inf])


def test_pow_gradient_at_zero_zero_is_zero_for_both(backend_name):
    x = tn.tensor([0.0, 3.0], dtype=np.float64, requires_grad=True)
    y = tn.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** y).sum().backward()
    # at (3, 2): d/dx = 2 * 3 = 6, d/dy = 9 ln 3
    np.testing.assert_array_equal(x.grad, [0.0, 6.0])
    np.testing.assert_allclose(y.grad, [0.0, 9 * np.log(3.0)], rtol=1e-15)


def test_pow_gradient_elsewhere_is_unchanged(backend_name):
    x = tn.tensor(np.array([0.5, 1.5, 2.5]), requires_grad=True)
    y = tn.tensor(np.array([-1.5, 0.5, 3.0]), requires_grad=True)
    assert assert_gradients_match(lambda a, b: a ** b, x, y)


def test_transpose_of_a_0d_tensor_takes_only_dims_0_and_minus_1():
    """PyTorch: a 0-d tensor's transpose accepts dims in [-1, 0] and returns the tensor; any other
    dim is an IndexError (found by the mutation tests' review)."""
    x = tn.tensor(2.0)
    assert x.transpose(0, -1).item() == 2.0
    with pytest.raises(IndexError, match="transpose: dim 5"):
        x.transpose(5, 0)


def _dim_error(op, d, ndim):
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    return pytest.raises(IndexError, match=re.escape(f"{op}: dim {d} is out of range for a tensor with {ndim} "
                                                     f"dimensions (expected in [{lo}, {hi}])"))


def test_dim_errors_name_the_op():
    x = tn.ones((2, 3))
    idx = tn.tensor([[0], [1]])
    for op, call in [("index_select", lambda: x.index_select(2, tn.tensor([0]))),
                     ("scatter", lambda: x.scatter(2, idx, value=1.0)),
                     ("unflatten", lambda: x.unflatten(2, (1, 3))), ("prod", lambda: x.prod(2)),
                     ("cumprod", lambda: x.cumprod(2)), ("norm", lambda: x.norm(dim=2)),
                     ("any", lambda: x.any(2)), ("argmax", lambda: x.argmax(2)), ("argmin", lambda: x.argmin(2)),
                     ("min", lambda: x.min(2)), ("max", lambda: x.max(2)), ("cumsum", lambda: x.cumsum(2)),
                     ("logsumexp", lambda: x.logsumexp(2)), ("squeeze", lambda: x.squeeze(2)),
                     ("flatten", lambda: x.flatten(2)), ("flatten", lambda: x.flatten(0, 2)),
                     ("all", lambda: x.all(2)), ("var", lambda: x.var(2)), ("var", lambda: x.std(2)),
                     ("gather", lambda: x.gather(2, idx))]:
        with _dim_error(op, 2, 2):
            call()
    with pytest.raises(TypeError, match=r"^argmin: takes one dim, got \(0, 1\)$"):
        x.argmin(dim=(0, 1))
    for op in ("any", "all"):
        with pytest.raises(TypeError, match=f"^{op}: out= is not supported by tinynn; use the returned tensor$"):
            getattr(x, op)(out=tn.zeros(()))


def test_index_errors_name_the_op():
    x = tn.ones((2, 3))
    with pytest.raises(TypeError, match=re.escape("index_select: index must be a 0-d or 1-d integer tensor, got "
                                                  "shape (1, 1) dtype int64")):
        x.index_select(0, tn.tensor([[0]]))
    with pytest.raises(TypeError, match=re.escape("index_select: index must be a 0-d or 1-d integer tensor, got "
                                                  "shape (1,) dtype float32")):
        x.index_select(0, tn.tensor([0.0]))
    with pytest.raises(TypeError, match=r"^scatter: give exactly one of src and value$"):
        x.scatter(0, tn.tensor([[0]]))
    with pytest.raises(TypeError, match=r"^scatter: give exactly one of src and value$"):
        x.scatter(0, tn.tensor([[0]]), src=tn.ones((1, 1)), value=1.0)
    with pytest.raises(TypeError, match=r"^scatter: index must be an integer tensor, got dtype float32$"):
        x.scatter(0, tn.tensor([[0.0]]), value=1.0)
    with pytest.raises(ValueError, match=re.escape("scatter: index of shape (2, 3) is larger than src of shape (2, 2)")):
        x.scatter(0, tn.zeros((2, 3), dtype=tn.int64), src=tn.ones((2, 2)))


def test_index_select_with_a_0d_index_keeps_the_dim():
    x = tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.index_select(1, tn.tensor(2)).numpy(), [[3.0], [6.0]])   # shape (2, 1)
    np.testing.assert_array_equal(x.index_select(-1, tn.tensor([2, 0])).numpy(), [[3.0, 1.0], [6.0, 4.0]])


def test_scatter_from_a_larger_src_uses_its_leading_block_and_routes_its_gradient(backend_name):
    x = tn.zeros((2, 3), dtype=tn.float64, requires_grad=True)
    src = tn.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    index = tn.tensor([[1, 2], [0, 1]])          # dim 1: row i writes src[i, j] at column index[i, j]
    y = x.scatter(1, index, src=src)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.0, 1.0, 2.0], [5.0, 6.0, 0.0]])
    (y * tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tn.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0], [0.0, 0.0, 6.0]])
    np.testing.assert_array_equal(src.grad.numpy(), [[2.0, 3.0, 0.0, 0.0], [4.0, 5.0, 0.0, 0.0], [0.0] * 4])
    assert src.grad.dtype == np.float64


def test_unflatten_a_middle_dim():
    x = tn.tensor(np.arange(24.0).reshape(2, 6, 2))
    y = x.unflatten(1, (3, -1))
    assert y.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(y.numpy(), np.arange(24.0).reshape(2, 3, 2, 2))
    assert x.unflatten(-1, (1, 2)).shape == (2, 6, 1, 2)


def test_argmax_and_argmin_take_numpys_keepdims_too():
    x = tn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax(1, keepdims=True).tolist() == [[1], [0]]
    assert x.argmin(dim=1, keepdim=True).tolist() == [[0], [1]]
    assert x.argmin(axis=0, keepdims=True).tolist() == [[0, 1, 0]]


def test_any_takes_pytorchs_and_numpys_arguments():
    x = tn.tensor([[0.0, 0.0], [0.0, 2.0]])
    assert x.any().shape == () and x.any().item() is True
    assert x.any(1).tolist() == [False, True] and x.any(dim=0, keepdim=True).tolist() == [[False, True]]
    assert x.any(axis=1, keepdims=True).tolist() == [[False], [True]]
    assert not x.any().requires_grad


def test_norm_shapes_and_errors():
    x = tn.tensor([[3.0, 4.0], [0.0, 0.5]])
    assert x.norm().shape == () and x.norm().item() == pytest.approx(np.sqrt(25.25))
    assert x.norm(p=float("inf")).item() == 4.0
    assert x.norm(dim=1).shape == (2,) and x.norm(dim=(0, 1)).shape == ()
    assert x.norm(dim=1, keepdim=True).shape == (2, 1) and x.norm(keepdim=True).shape == (1, 1)
    np.testing.assert_allclose(x.norm(p=float("inf"), dim=1).numpy(), [4.0, 0.5])   # below 1: max |x|, not 1
    np.testing.assert_allclose(tn.tensor([0.5, -0.25]).norm(p=float("inf")).numpy(), 0.5)
    assert tn.tensor(-3.0).norm().shape == () and tn.tensor(-3.0).norm().item() == 3.0
    with pytest.raises(ValueError, match=r"^norm: p must be positive \(or inf or 'fro'\), got 0.0$"):
        x.norm(p=0)


def test_norm_gradients_scale_with_the_incoming_gradient_and_split_inf_ties(backend_name):
    x = tn.tensor([3.0, -4.0], dtype=tn.float64, requires_grad=True)
    (x.norm() * 3.0).backward()                          # d ||x|| / dx = x / ||x||
    np.testing.assert_allclose(x.grad.numpy(), [3 * 3 / 5, -3 * 4 / 5], rtol=1e-15)
    t = tn.tensor([1.0, -3.0, 3.0, 2.0], dtype=tn.float64, requires_grad=True)
    (t.norm(p=float("inf")) * 2.0).backward()            # PyTorch: sign(x_i) / (number of ties) at each max |x_i|
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, -1.0, 1.0, 0.0])


def test_prod_over_every_element_and_cumprod_with_an_incoming_gradient(backend_name):
    x = tn.tensor([[2.0, 3.0], [4.0, 0.5]], dtype=tn.float64, requires_grad=True)
    (x.prod() * 2.0).backward()                          # d prod / dx_i = prod of the others
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([[6.0, 4.0], [3.0, 24.0]]), rtol=1e-15)
    assert tn.tensor(5.0).prod(0).item() == 5.0
    v = tn.tensor([2.0, 3.0, 4.0], dtype=tn.float64, requires_grad=True)
    (v.cumprod(0) * tn.tensor([1.0, 10.0, 100.0], dtype=tn.float64)).sum().backward()
    # y = (a, ab, abc): dy.w/da = 1 + 10 b + 100 bc, /db = 10 a + 100 ac, /dc = 100 ab
    np.testing.assert_allclose(v.grad.numpy(), [1 + 30 + 1200, 20 + 800, 600], rtol=1e-15)
    w = tn.tensor([[2.0, 3.0, 5.0]], dtype=tn.float64, requires_grad=True)
    w.prod(1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[15.0, 10.0, 6.0]], rtol=1e-15)
    for u, reduce in [(tn.tensor([[7.0]], requires_grad=True), lambda u: u.prod()),   # one factor: gradient 1
                      (tn.tensor([[7.0], [2.0]], requires_grad=True), lambda u: u.prod(1).sum())]:
        reduce(u).backward()
        np.testing.assert_array_equal(u.grad.numpy(), np.ones(u.shape))


def test_type_names_the_dtype_or_casts():
    x = tn.tensor([1.5, 2.0])
    assert isinstance(x.type(), str) and x.type().startswith("tinynn.")
    assert x.type("double").dtype == np.float64 and x.type(tn.float16).dtype == np.float16
    assert x.type("long").tolist() == [1, 2] and x.double().dtype == np.float64


def test_scatter_keeps_the_inputs_dtype_as_pytorch_does():
    i = tn.zeros(3, dtype=tn.int64).scatter(0, tn.tensor([1]), value=2.5)    # the number is cast: 2
    assert i.dtype == np.int64 and i.tolist() == [0, 2, 0]
    f = tn.zeros(3).scatter(0, tn.tensor([2]), value=-1)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.0, -1.0]
    with pytest.raises(TypeError, match=r"^scatter: src has dtype float64 but the input has float32 \(they must match\)$"):
        tn.zeros(3).scatter(0, tn.tensor([1]), src=tn.tensor([2.5], dtype=tn.float64))


def test_inf_norm_over_an_empty_dim_raises_as_in_pytorch():
    inf = float("inf")
    for x, dim in [(tn.zeros(0), None), (tn.zeros((0, 3)), 0), (tn.zeros((2, 0)), (0, 1))]:
        with pytest.raises(ValueError, match=re.escape(f"norm: the inf norm over an empty dim is undefined (max has "
                                                       f"no identity), input shape {x.shape}, dim {dim}")):
            x.norm(p=inf, dim=dim)
    assert tn.zeros((0, 3)).norm(p=inf, dim=1).shape == (0,)    # empty output, every reduced dim non-empty
    assert tn.zeros(0).norm().item() == 0.0                     # p = 2 has an identity: the empty sum


def test_type_names_pytorchs_tensor_types():
    assert tn.tensor([1.5]).type() == "tinynn.FloatTensor" and tn.tensor([1]).type() == "tinynn.LongTensor"
    assert tn.tensor([1.0], dtype=tn.float64).type() == "tinynn.DoubleTensor"
    assert tn.tensor([True]).type() == "tinynn.BoolTensor"


def test_clamp_with_tensor_bounds_routes_the_gradient_as_pytorch_at_every_tie(backend_name):
    # every (x, lo, hi) in {0, 1, 2}^3: x gets it where lo <= x <= hi, lo where x < lo < hi, hi where max(x, lo) > hi
    grid = np.array(np.meshgrid([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0], indexing="ij")).reshape(3, -1)
    x, lo, hi = (tn.tensor(v, dtype=tn.float64, requires_grad=True) for v in grid)
    tn.clamp(x, lo, hi).sum().backward()
    a, b, c = grid
    np.testing.assert_array_equal(x.grad.numpy(), ((b <= a) & (a <= c)).astype(float))
    np.testing.assert_array_equal(lo.grad.numpy(), ((a < b) & (b < c)).astype(float))
    np.testing.assert_array_equal(hi.grad.numpy(), (np.maximum(a, b) > c).astype(float))
    assert (lo.grad.numpy()[(a < b) & (b == c)] == 0).all() and ((a < b) & (b == c)).sum() == 3


def test_clamp_and_where_errors_name_the_op():
    x = tn.ones((2, 3))
    with pytest.raises(ValueError, match=re.escape("clamp: shapes (2, 3) and (4,) cannot be broadcast together")):
        tn.clamp(x, tn.ones(4))
    with pytest.raises(ValueError, match=re.escape("clamp: shapes (2, 3) and (5,) cannot be broadcast together")):
        tn.clamp(x, tn.ones((2, 3)), tn.ones(5))
    with pytest.raises(TypeError, match=r"^where: condition must be bool, got int64$"):
        tn.where(tn.tensor([1, 0, 1]), x, x)
    np.testing.assert_array_equal(tn.where([True, False, True], tn.ones(3), tn.zeros(3)).numpy(), [1.0, 0.0, 1.0])


def test_view_ops_take_a_tuple_of_sizes_or_dims():
    x = tn.tensor([[1.0, 2.0, 3.0]])
    assert x.expand((2, 3)).shape == (2, 3) and x.expand([2, -1]).shape == (2, 3)
    y = x.expand(4, 2, -1)                               # new leading dims, -1 keeps the last dim's 3
    assert y.shape == (4, 2, 3) and (y.numpy() == [1.0, 2.0, 3.0]).all()
    assert x.repeat((2, 1)).tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]] and x.repeat([1, 2]).shape == (1, 6)
    z = tn.ones((1, 3, 1))
    assert z.squeeze((0, 2)).shape == (3,) and z.squeeze([0]).shape == (3, 1) and z.squeeze((0, 1)).shape == (3, 1)
    assert tn.tensor(5.0).flatten().shape == (1,) and tn.tensor(5.0).flatten().tolist() == [5.0]
    assert tn.ones(3).flatten().shape == (3,) and tn.ones((2, 3, 4)).flatten(1, 1).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=re.escape("flatten: start_dim 1 comes after end_dim 0 (shape (1, 3))")):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match=re.escape("expand: 1 sizes for a tensor with 2 dims (shape (1, 3))")):
        x.expand(3)


def test_logsumexp_per_row_stays_finite_and_keeps_pytorchs_shapes():
    x = tn.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]])          # a shift by each row's own max
    np.testing.assert_allclose(x.logsumexp(1).numpy(), [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)
    assert x.logsumexp(1).dtype == np.float32 and not x.logsumexp(1).requires_grad
    assert x.logsumexp(1, keepdim=True).shape == (2, 1) and x.logsumexp(1, True).shape == (2, 1)
    assert tn.ones((1, 3)).logsumexp(1).shape == (1,) and tn.ones((1, 3)).logsumexp(-1, keepdim=True).shape == (1, 1)
    ninf = tn.tensor([[-np.inf, -np.inf], [0.0, 0.0]])               # all -inf: -inf, as PyTorch
    np.testing.assert_allclose(ninf.logsumexp(1).numpy(), [-np.inf, np.log(2)], rtol=1e-6)


def test_min_every_way_it_is_called(backend_name):
    x = tn.tensor([[3.0, 1.0, 1.0], [0.5, 2.0, 4.0]], dtype=tn.float64, requires_grad=True)
    m = x.min()
    m.backward()                                         # every element: the ties share the gradient
    assert m.item() == 0.5 and x.grad.numpy()[1, 0] == 1.0
    y = tn.tensor([1.0, 1.0, 3.0], dtype=tn.float64, requires_grad=True)
    y.min().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 0.5, 0.0])
    assert x.min(tn.tensor([[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], dtype=tn.float64)).tolist() == [[2.0, 1.0, 1.0], [0.5, 2.0, 2.0]]
    assert x.min(1, True).values.shape == (2, 1) and x.min(1, keepdim=True).indices.tolist() == [[1], [0]]
    assert x.min(axis=1).values.tolist() == [1.0, 0.5] and x.min(axis=1, keepdims=True).values.shape == (2, 1)


def test_all_takes_pytorchs_and_numpys_arguments():
    x = tn.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert x.all().shape == () and x.all().item() is False and x.all().requires_grad is False
    assert x.all(1).tolist() == [False, True] and x.all(dim=0, keepdim=True).tolist() == [[True, False]]
    assert x.all(axis=1, keepdims=True).tolist() == [[False], [True]] and x.all(1, True).shape == (2, 1)
    assert x.any().requires_grad is False


def test_var_and_std_pass_every_argument_on():
    x = tn.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=tn.float64)
    # column variances: unbiased (n - 1 = 1): 2 and 4.5; biased (n = 2): 1 and 2.25
    np.testing.assert_allclose(x.var(0).numpy(), [2.0, 4.5])
    np.testing.assert_allclose(x.var(axis=0, keepdims=True).numpy(), [[2.0, 4.5]])
    np.testing.assert_allclose(x.std(0, False).numpy(), [1.0, 1.5])
    np.testing.assert_allclose(x.std(0, keepdim=True, correction=0).numpy(), [[1.0, 1.5]])
    np.testing.assert_allclose(x.std(dim=1, unbiased=True, keepdim=True).numpy(), [[np.sqrt(0.5)], [np.sqrt(2.0)]])
    np.testing.assert_allclose(x.std(axis=1, keepdims=True, correction=0).numpy(), [[0.5], [1.0]])
    assert np.isnan(tn.tensor([3.0]).var().item())                  # n - 1 = 0 degrees of freedom: NaN, as PyTorch


def test_clamp_with_one_tensor_bound_keeps_the_dtype_and_routes_the_gradient(backend_name):
    i = tn.clamp(tn.tensor([1, 5]), min=tn.tensor([2, 2]))           # integers stay integers (PyTorch)
    assert i.dtype == np.int64 and i.tolist() == [2, 5]
    j = tn.clamp(tn.tensor([1, 5], dtype=tn.int32), max=tn.tensor([2, 2], dtype=tn.int32))
    assert j.dtype == np.int32 and j.tolist() == [1, 2]
    h = tn.clamp(tn.tensor([1.0, 5.0], dtype=tn.float16), min=tn.tensor([2.0, 2.0], dtype=tn.float16))
    assert h.dtype == np.float16 and h.tolist() == [2.0, 5.0]
    x = tn.tensor([1.0, 5.0], requires_grad=True)
    lo = tn.tensor([2.0, 2.0], requires_grad=True)
    y = tn.clamp(x, min=lo)
    (y * tn.tensor([1.0, 10.0])).sum().backward()
    assert y.dtype == np.float32 and x.grad.tolist() == [0.0, 10.0] and lo.grad.tolist() == [1.0, 0.0]


def test_floor_divide_and_remainder_take_a_number_on_either_side():
    f = tn.tensor([7.0, -7.0])
    assert (f // 2).dtype == np.float32 and (f // 2).tolist() == [3.0, -4.0]
    assert (7 // tn.tensor([2.0, -2.0])).dtype == np.float32 and (7 // tn.tensor([2.0, -2.0])).tolist() == [3.0, -4.0]
    assert (tn.tensor([7, -7]) // 2).tolist() == [3, -4] and (f // 2).requires_grad is False
    for op, call in [("floor_divide", lambda: tn.ones(3) // tn.ones(2)), ("remainder", lambda: tn.ones(3) % tn.ones(2))]:
        with pytest.raises(ValueError, match=re.escape(f"{op}: shapes (3,) and (2,) cannot be broadcast together")):
            call()


def test_log_softmax_method_takes_dim():
    x = tn.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=tn.float64)
    e = np.exp(2.0)
    np.testing.assert_allclose(x.log_softmax(dim=0).numpy(), np.log([[1 / (1 + e)] * 2, [e / (1 + e)] * 2]), rtol=1e-14)


def test_embedding_errors_name_the_op_and_the_range():
    import tinynn.nn.functional as F
    w = tn.ones((4, 2))
    with pytest.raises(TypeError, match=r"^embedding: indices must be integers, got dtype float32$"):
        F.embedding(tn.tensor([0.0]), w)
    for bad in (4, -1):
        with pytest.raises(IndexError, match=re.escape(f"embedding: index {bad} is out of range for an embedding of "
                                                       "size 4 (valid indices are 0..3)")):
            F.embedding(tn.tensor([bad]), w)


def test_gather_errors_and_a_0d_gather(backend_name):
    x = tn.ones((2, 3))
    with pytest.raises(ValueError, match=re.escape("gather: index has 1 dims but the input has 2 (shapes (2,), (2, 3))")):
        x.gather(1, tn.tensor([0, 1]))
    with pytest.raises(ValueError, match=re.escape("gather: index of shape (1, 4) is larger than the input (2, 3) "
                                                   "outside dim 0")):
        x.gather(0, tn.tensor([[0, 0, 0, 0]]))
    s = tn.tensor(3.0, dtype=tn.float64, requires_grad=True)
    y = s.gather(0, tn.tensor(0))                        # a 0-d gather is the 1-element one, 0-d
    (y * 2.0).backward()
    assert y.shape == () and y.item() == 3.0 and s.grad.shape == () and s.grad.item() == 2.0


def test_gru_keeps_float32(backend_name):
    gru = tn.nn.GRU(3, 4)
    out, h = gru(tn.ones((2, 1, 3)))
    assert out.dtype == np.float32 and h.dtype == np.float32
