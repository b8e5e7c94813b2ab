"""Tensor.X_ for PyTorch's in-place math (tinynn/ops/inplace_more.py) and torch.X_(x): each writes x.X(...)
into x's own memory with PyTorch's rules (returns x, bumps the version counter, refuses on a leaf that
requires grad, keeps x's dtype, routes the gradient to x's previous node). Values against the out-of-place
op (tested against closed forms elsewhere) and against hand computations; gradients checked in float64, to
the second order, on both backends."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.ops.inplace_more import FUNCTION_NAMES, NAMES

RNG = np.random.default_rng(5)
F = RNG.uniform(0.2, 0.9, (3, 3))
I = RNG.integers(1, 9, (3, 3))
BOOL = F > 0.5

# name -> (input array, arguments): the out-of-place op's arguments; None: no arguments
INTEGER = {"gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not"}
ARGS = {
    "acosh": (F + 1, ()), "arccosh": (F + 1, ()), "atan2": (F, (F.T,)), "arctan2": (F, (F.T,)), "fmod": (F, (0.3,)),
    "remainder": (F, (F.T,)), "floor_divide": (F, (0.3,)), "true_divide": (F, (F.T,)), "multiply": (F, (2.5,)),
    "divide": (F, (F.T,)), "subtract": (F, (F.T,)), "lerp": (F, (F.T, 0.25)), "clamp_min": (F, (0.5,)),
    "clamp_max": (F, (0.5,)), "tril": (F, (-1,)), "triu": (F, (1,)), "cumsum": (F, (1,)), "cumprod": (F, (0,)),
    "addmm": (F, (F, F.T)), "addmv": (F[0], (F, F[1])), "baddbmm": (F[None], (F[None], F[None])),
    "addbmm": (F, (np.stack([F, F]), np.stack([F.T, F]))), "addr": (F, (F[0], F[1])), "addcmul": (F, (F.T, F)),
    "addcdiv": (F, (F.T, F)), "renorm": (F, (2, 0, 0.5)), "masked_fill": (F, (BOOL, -1.0)),
    "logical_and": (F, (BOOL,)), "logical_or": (F, (BOOL,)), "logical_xor": (F, (BOOL,)),
    "gcd": (I, (I.T,)), "lcm": (I, (I.T,)), "bitwise_left_shift": (I, (I.T % 4,)), "bitwise_right_shift": (I, (I.T % 4,)),
    "bitwise_and": (I, (I.T,)), "bitwise_or": (I, (I.T,)), "bitwise_xor": (I, (I.T,)), "bitwise_not": (I, ()),
    **{name: (F, (F.T,)) for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
                                       "less_equal", "not_equal")},
}


def _tensors(args):
    return [tn.tensor(a) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("name", NAMES)
def test_each_inplace_method_writes_its_out_of_place_result_into_the_tensor(name):
    array, args = ARGS.get(name, (F, ()))
    x = tn.tensor(array)
    view = x.detach()                                   # shares x's memory
    expected = getattr(x, name)(*_tensors(args))
    version = x._version
    assert getattr(x, name + "_")(*_tensors(args)) is x
    assert x.dtype == np.asarray(array).dtype and x._version == version + 1
    np.testing.assert_array_equal(x.numpy(), expected.numpy().astype(x.dtype))
    np.testing.assert_array_equal(view.numpy(), x.numpy())


def test_hand_computed_inplace_results_keep_the_dtype():
    x = tn.tensor([1.0, 2.0, 3.0])
    assert x.clone().eq_(2).tolist() == [0.0, 1.0, 0.0] and x.clone().eq_(2).dtype == tn.float32
    assert x.clone().lt_(tn.tensor([2.0, 2.0, 2.0])).tolist() == [1.0, 0.0, 0.0]
    assert x.clone().logical_not_().tolist() == [0.0, 0.0, 0.0]
    assert tn.tensor([1, 2, 3]).ne_(2.5).tolist() == [1, 1, 1]
    assert tn.tensor([1, 2]).square_().tolist() == [1, 4] and tn.tensor([4.0]).rsqrt_().tolist() == [0.5]
    assert tn.tensor([5, 3]).gcd_(tn.tensor([10, 9])).tolist() == [5, 3] and tn.tensor([3, 7]).lcm_(tn.tensor([2, 2])).tolist() == [6, 14]
    assert tn.tensor([5, -7]).divide_(2, rounding_mode="trunc").tolist() == [2, -3]
    assert tn.tensor([5.0, 7.0]).subtract_(1, alpha=2).tolist() == [3.0, 5.0]
    assert tn.ones(2, 2).addmm_(tn.ones(2, 3), tn.ones(3, 2), beta=2, alpha=0.5).tolist() == [[3.5, 3.5], [3.5, 3.5]]
    assert tn.ones(2).lerp_(tn.zeros(2), 0.25).tolist() == [0.75, 0.75]
    assert tn.tensor([1, 2]).masked_fill_(tn.tensor([True, False]), 5).tolist() == [5, 2]
    m = tn.ones(3, 3)
    assert m.tril_().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]] and m.cumsum_(0).tolist() == [[1, 0, 0], [2, 1, 0], [3, 2, 1]]


def test_integer_operators_in_place():
    x = tn.tensor([1, 2, 12])
    y = x
    y <<= 2
    assert y is x and x.tolist() == [4, 8, 48]
    x >>= 1
    assert x.tolist() == [2, 4, 24]
    x &= 6
    assert x.tolist() == [2, 4, 0]
    x |= 1
    assert x.tolist() == [3, 5, 1]
    x ^= 3
    assert x.tolist() == [0, 6, 2]
    b = tn.tensor([True, False])
    b &= tn.tensor([True, True])
    assert b.tolist() == [True, False]


def test_results_that_cannot_be_written_back_are_refused():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        tn.tensor([1, 2]).sin_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        tn.tensor([1, 2]).true_divide_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        tn.tensor([1, 2]).clamp_min_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        tn.ones(1).addcmul_(tn.ones(2), tn.ones(2))
    with pytest.raises(RuntimeError, match="should match"):
        tn.tensor([1, 2]).cumsum_(0, dtype=tn.float32)
    with pytest.raises(RuntimeError, match="should match"):
        tn.tensor([1.0, 2.0]).cumprod_(0, dtype=tn.float64)
    with pytest.raises(TypeError, match="gcd"):
        tn.tensor([1.0]).gcd_(tn.tensor([2.0]))


def test_a_leaf_that_requires_grad_changes_only_under_no_grad():
    w = tn.tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w.sin_()
    with tn.no_grad():
        w.clamp_max_(0.75)
    assert w.tolist() == [0.5, 0.75] and w.requires_grad and w.is_leaf


def test_the_gradient_reaches_the_node_before_the_change():
    x = tn.tensor([0.3, -0.7], dtype=tn.float64, requires_grad=True)
    y = x * 2
    y.sin_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(2 * np.array([0.3, -0.7])), rtol=1e-12)
    x.grad = None
    other = tn.tensor([1.0, 1.0], dtype=tn.float64, requires_grad=True)
    y = x * 1
    y.atan2_(other)                                     # d atan2(y, o) / dy = o / (y^2 + o^2), d/do = -y / (y^2 + o^2)
    y.sum().backward()
    r = 1 / (np.array([0.3, -0.7]) ** 2 + 1)
    np.testing.assert_allclose(x.grad.numpy(), r, rtol=1e-12)
    np.testing.assert_allclose(other.grad.numpy(), -np.array([0.3, -0.7]) * r, rtol=1e-12)


def test_a_comparison_in_place_keeps_requires_grad_and_sends_zero_gradient():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.gt_(4.0)
    assert y.tolist() == [0.0, 1.0] and y.requires_grad and y.dtype == tn.float32
    (y * 5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_changing_a_tensor_a_backward_saved_is_an_error():
    x = tn.tensor([0.3, 0.7], requires_grad=True)
    y = x * 1
    z = y.sin()                                         # saves y
    y.cos_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_torch_level_inplace_functions_are_the_methods():
    x = tn.tensor([0.25, 4.0])
    assert tn.rsqrt_(x) is x and x.tolist() == [2.0, 0.5]
    assert tn.square_(x).tolist() == [4.0, 0.25] and tn.negative_(x).tolist() == [-4.0, -0.25]
    assert tn.clamp_min_(x, -1.0).tolist() == [-1.0, -0.25] and tn.fix_(x).tolist() == [-1.0, -0.0]
    assert tn.gcd_(tn.tensor([4, 6]), tn.tensor([6, 4])).tolist() == [2, 2]
    assert tn.zero_(x).tolist() == [0.0, 0.0] and tn.fill_(x, 3.0).tolist() == [3.0, 3.0]
    for name in FUNCTION_NAMES:
        assert callable(getattr(tn, name)) and hasattr(tn.Tensor, name), name


GRADIENT_CASES = {
    "atan2_": (lambda x, y: (x * 1).atan2_(y), 2),
    "addcmul_": (lambda x, y: (x * 1).addcmul_(y, y, value=2), 2),
    "addcdiv_": (lambda x, y: (x * 1).addcdiv_(y, y + 3), 2),
    "lerp_": (lambda x, y: (x * 1).lerp_(y, 0.3), 2),
    "renorm_": (lambda x: (x * 1).renorm_(2, 0, 0.5), 1),
    "cumprod_": (lambda x: (x * 1).cumprod_(1), 1),
    "asinh_": (lambda x: (x * 1).asinh_(), 1),
    "reciprocal_": (lambda x: (x * 1).reciprocal_(), 1),
    "tril_ then exp2_": (lambda x: (x * 1).tril_().exp2_(), 1),
    "eq_ (zero gradient)": (lambda x, y: (x * 1).eq_(y) + x, 2),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradients_through_inplace_ops(name, backend_name):
    fn, n = GRADIENT_CASES[name]
    inputs = [tn.tensor(a, dtype=tn.float64, requires_grad=True) for a in (F, F.T + 0.5)[:n]]
    assert tn.gradcheck(fn, *inputs)
    assert tn.gradgradcheck(fn, *inputs)
