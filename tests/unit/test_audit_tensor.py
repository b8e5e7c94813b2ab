"""Regressions found by a differential audit of Tensor, its ops and autograd against PyTorch's
documented behaviour. Every expected value is written out by hand from the formula or from
PyTorch's documented rule it quotes (never computed by tinynn or PyTorch)."""
import math

import numpy as np
import pytest

import tinynn as tn

F32, F64, I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)


# ---------------------------------------------------------------- promotion of the remaining binary ops
@pytest.mark.parametrize("op", [tn.maximum, tn.minimum, lambda a, b: a % b, lambda a, b: a // b])
def test_maximum_minimum_remainder_floor_divide_promote_as_add_does(op):
    # torch.result_type: int32 with float32 is float32; uint8 with int8 is int16; a 0-d int64 does
    # not widen an int32 tensor; an int tensor with a Python float is the default dtype (float32)
    i32, f32 = tn.tensor([4, 6], dtype=tn.int32), tn.tensor([2.0, 4.0])
    assert op(i32, f32).dtype == F32 and op(f32, i32).dtype == F32
    assert op(tn.tensor([4, 6], dtype=tn.uint8), tn.tensor([2, 4], dtype=tn.int8)).dtype == np.dtype(np.int16)
    assert op(i32, tn.tensor(3)).dtype == np.dtype(np.int32)
    assert op(i32, 2.5).dtype == F32 and op(tn.tensor([1.0, 2.0], dtype=tn.float16), i32).dtype == np.dtype(np.float16)


def test_integer_floor_division_and_remainder_follow_floor_rules_and_refuse_zero():
    a = tn.tensor([7, -7, 7, -7], dtype=tn.int32)
    b = tn.tensor([2, 2, -2, -2], dtype=tn.int32)
    assert (a // b).tolist() == [3, -4, -4, 3]            # floor(7/2) = 3, floor(-3.5) = -4
    assert (a % b).tolist() == [1, 1, -1, -1]             # a - floor(a/b) b: the divisor's sign
    assert (a // b).dtype == np.dtype(np.int32)
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        tn.tensor([1, 2]) // 0
    with pytest.raises(ZeroDivisionError, match="remainder"):
        tn.tensor([1, 2]) % tn.tensor([1, 0])
    assert (tn.tensor([1.0, -1.0]) // 0).tolist() == [math.inf, -math.inf]   # floats: IEEE


def test_div_rounding_modes_and_alpha():
    a, b = tn.tensor([7, -7]), tn.tensor([2, 2])
    assert a.div(b, rounding_mode="floor").tolist() == [3, -4]
    assert a.div(b, rounding_mode="trunc").tolist() == [3, -3]          # toward zero
    assert a.div(b).tolist() == [3.5, -3.5] and a.div(b).dtype == F32
    assert tn.tensor([7.0, -7.0]).div(2, rounding_mode="trunc").tolist() == [3.0, -3.0]
    assert tn.ones(2).add(tn.ones(2), alpha=3).tolist() == [4.0, 4.0]   # input + alpha other
    assert tn.sub(tn.ones(2), tn.ones(2), alpha=3).tolist() == [-2.0, -2.0]


def test_subtraction_with_a_bool_operand_is_refused():
    mask = tn.tensor([True, False])
    for make in (lambda: mask - mask, lambda: tn.ones(2) - mask, lambda: mask - 1, lambda: 1 - mask,
                 lambda: tn.ones(2) - True):
        with pytest.raises(TypeError, match="Sub: subtraction.*bool"):
            make()


def test_pow_refuses_bools_and_negative_integer_exponents_by_name():
    with pytest.raises(TypeError, match="Pow: not implemented for bool"):
        tn.tensor([True]) ** tn.tensor([True])
    with pytest.raises(ValueError, match="Pow: integers to negative integer powers"):
        tn.tensor([1, 2]) ** tn.tensor([-1, 2])
    assert (tn.tensor([2, 3]) ** 2).tolist() == [4, 9]


def test_clamp_takes_the_promoted_dtype_of_its_bounds():
    assert tn.tensor([1, 5]).clamp(0.5, 2.5).tolist() == [1.0, 2.5]
    assert tn.tensor([1, 5]).clamp(0.5, 2.5).dtype == F32               # int tensor, float bound
    assert tn.tensor([1, 5]).clamp(0, 2).dtype == I64
    assert tn.tensor([1.0, 5.0]).clamp(tn.tensor(2.0, dtype=tn.float64)).dtype == F32   # a 0-d bound does not widen


# ---------------------------------------------------------------- unary ops
def test_sign_of_nan_is_zero_and_of_a_bool_is_itself():
    assert tn.tensor([math.nan, -2.0, 0.0, 3.0]).sign().tolist() == [0.0, -1.0, 0.0, 1.0]
    s = tn.tensor([True, False]).sign()
    assert s.dtype == np.bool_ and s.tolist() == [True, False]
    with pytest.raises(TypeError, match="floor: not implemented for bool"):
        tn.tensor([True]).floor()


def test_integer_inputs_of_float_functions_take_the_default_dtype():
    try:
        tn.set_default_dtype(tn.float64)
        assert tn.tensor([1, 2]).sin().dtype == F64 and tn.tensor([1]).sigmoid().dtype == F64
    finally:
        tn.set_default_dtype(tn.float32)
    assert tn.tensor([1, 2]).sin().dtype == F32


def test_square_log10_and_builtin_abs():
    assert tn.tensor([2, -3]).square().tolist() == [4, 9] and tn.tensor([2, -3]).square().dtype == I64
    np.testing.assert_allclose(tn.tensor([1.0, 10.0, 1000.0]).log10().numpy(), [0.0, 1.0, 3.0], atol=1e-6)
    assert abs(tn.tensor([-1, 2])).tolist() == [1, 2]
    x = tn.tensor([1.0, 3.0], dtype=tn.float64, requires_grad=True)
    x.square().sum().backward()
    assert x.grad.tolist() == [2.0, 6.0]                                   # d x^2 / dx = 2x


# ---------------------------------------------------------------- reductions
def test_integer_sums_accumulate_in_int64():
    u = tn.tensor([255, 255], dtype=tn.uint8)
    assert u.sum().dtype == I64 and u.sum().item() == 510                  # no uint8/uint64 wrap-around
    assert u.cumsum(0).dtype == I64 and u.cumsum(0).tolist() == [255, 510]
    assert u.prod().dtype == I64 and u.prod().item() == 65025
    assert tn.tensor([True, True, False]).sum().dtype == I64


def test_all_and_any_of_uint8_stay_uint8():
    u = tn.tensor([1, 0], dtype=tn.uint8)
    assert u.all().dtype == np.uint8 and u.all().item() == 0 and u.any().item() == 1
    assert tn.tensor([1.0, 2.0]).all().dtype == np.bool_


def test_var_and_std_read_a_lone_bool_as_unbiased():
    # var(unbiased) is PyTorch's overload: x.var(False) is the population variance, never dim 0
    x = tn.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert x.var(False).shape == () and x.var(False).item() == pytest.approx(1.25)      # sum (x - 2.5)^2 / 4
    assert x.std(True).item() == pytest.approx(math.sqrt(5 / 3))                         # / (n - 1)


def test_std_gradient_is_zero_where_the_std_is_zero():
    # PyTorch's std_backward masks 0/0: a constant row has std 0 and gradient 0
    x = tn.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], dtype=tn.float64, requires_grad=True)
    x.std(1).sum().backward()
    # row 2: d std / dx_i = (x_i - mean) / ((n - 1) std) = (-1, 0, 1) / 2
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]], atol=1e-12)
    assert tn.gradcheck(lambda t: t.std(1), (tn.tensor([[1.0, 2.0, 4.0]], dtype=tn.float64, requires_grad=True),))


def test_logsumexp_of_integers_is_computed_in_floats():
    out = tn.tensor([[1, 2, 255]], dtype=tn.uint8).logsumexp(1)
    assert out.dtype == F32
    assert out.item() == pytest.approx(255.0, abs=1e-4)                    # 255 + log(1 + e^-253 + e^-254)
    assert tn.tensor([True, False]).logsumexp(0).item() == pytest.approx(math.log(math.e + 1), rel=1e-6)


def test_norm_of_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match="norm: expected a floating-point tensor"):
        tn.tensor([3, 4]).norm()


def test_prod_cumsum_cumprod_take_dtype():
    x = tn.tensor([1, 2, 3], dtype=tn.int32)
    assert x.prod(dtype=tn.float64).dtype == F64 and x.prod(dtype=tn.float64).item() == 6.0
    assert x.cumsum(0, dtype=tn.float32).tolist() == [1.0, 3.0, 6.0]
    assert x.cumprod(0, dtype=tn.float64).dtype == F64


# ---------------------------------------------------------------- creation
def test_arange_refuses_a_step_of_the_wrong_sign_and_takes_keywords_and_tensors():
    with pytest.raises(RuntimeError, match="arange: upper bound"):
        tn.arange(0, -5)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        tn.arange(0, 5, -1)
    assert tn.arange(3, 3).tolist() == []
    assert tn.arange(end=4).tolist() == [0, 1, 2, 3]
    assert tn.arange(tn.tensor(3)).dtype == I64 and tn.arange(tn.tensor(3)).tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="arange: not implemented for dtype bool"):
        tn.arange(3, dtype=tn.bool)


def test_arange_with_an_integer_dtype_truncates_as_pytorch():
    # int64 truncates start, end, step first: arange(0, 5, 1); other integer dtypes count
    # ceil((5 - 0.5) / 1.5) = 3 values of 0 + 1 k
    assert tn.arange(0.5, 5, 1.5, dtype=tn.int64).tolist() == [0, 1, 2, 3, 4]
    assert tn.arange(0.5, 5, 1.5, dtype=tn.int32).tolist() == [0, 1, 2]
    assert tn.arange(-2.5, 1, 1).tolist() == [-2.5, -1.5, -0.5, 0.5]


def test_linspace_with_an_integer_dtype_truncates_the_ends():
    # linspace(0, 10, 7) = 0, 1.67, 3.33, 5, 6.67, 8.33, 10, truncated
    assert tn.linspace(0, 10.5, 7, dtype=tn.int64).tolist() == [0, 1, 3, 5, 6, 8, 10]


def test_random_fills_of_integer_dtypes_are_refused():
    for make in (lambda: tn.rand(2, dtype=tn.int64), lambda: tn.randn(2, dtype=tn.int32),
                 lambda: tn.rand_like(tn.tensor([1, 2]))):
        with pytest.raises(NotImplementedError, match="floating-point values only"):
            make()


def test_full_like_takes_fill_value_by_keyword():
    assert tn.full_like(tn.tensor([1.0, 2.0]), fill_value=3).tolist() == [3.0, 3.0]
    assert tn.full_like(tn.tensor([1, 2]), 2.7).tolist() == [2, 2]         # input's dtype: int64


# ---------------------------------------------------------------- shapes and views
def test_view_shares_memory_and_refuses_a_layout_that_needs_a_copy():
    x = tn.arange(6.0).reshape(2, 3)
    v = x.view(-1)
    v[0] = 100.0
    assert x[0, 0].item() == 100.0
    with pytest.raises(RuntimeError, match="view: view size .* use .reshape"):
        x.t().view(-1)
    assert x.t().reshape(-1).tolist() == [100.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert x.t().contiguous().view(-1).shape == (6,)
    assert tn.tensor([1.0]).view(tn.int32).item() == 0x3F800000            # IEEE-754 bits of 1.0f


def test_flip_split_keyword_and_is_contiguous():
    x = tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tn.float64, requires_grad=True)
    assert x.flip(1).tolist() == [[3.0, 2.0, 1.0], [6.0, 5.0, 4.0]]
    assert x.flip(0, 1).tolist() == [[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]]
    (x.flip(1) * tn.tensor([1.0, 2.0, 3.0], dtype=tn.float64)).sum().backward()
    assert x.grad.tolist() == [[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]]          # the weights flipped back
    assert [p.tolist() for p in tn.arange(3).split(split_size=2)] == [[0, 1], [2]]
    assert tn.ones(2, 3).is_contiguous() and not tn.ones(2, 3).t().is_contiguous()


# ---------------------------------------------------------------- indexing
def test_a_list_holding_sequences_indexes_like_a_tuple():
    x = tn.arange(12).reshape(3, 4)
    assert x[[[0, 1], [1, 0]]].tolist() == [1, 4]                          # x[[0, 1], [1, 0]]
    assert x[[0, slice(1, 3)]].tolist() == [1, 2]                          # x[0, 1:3]
    assert x[[2, 0]].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]           # a flat list: rows
    assert x[[]].shape == (0, 4)


def test_a_uint8_index_tensor_is_a_mask():
    x = tn.tensor([10, 20, 30])
    assert x[tn.tensor([1, 0, 1], dtype=tn.uint8)].tolist() == [10, 30]


def test_gather_and_index_select_refuse_negative_indices():
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(IndexError, match=r"gather: index out of range \[0, 2\)"):
        x.gather(1, tn.tensor([[-1], [0]]))
    with pytest.raises(IndexError, match=r"index_select: index out of range \[0, 2\)"):
        x.index_select(0, tn.tensor([-1]))


def test_masked_fill_keeps_the_tensors_dtype_and_takes_a_0d_value_only():
    x = tn.tensor([1, 2, 3])
    out = x.masked_fill(tn.tensor([True, False, True]), 2.7)
    assert out.dtype == I64 and out.tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="masked_fill: value must be a number or a 0-d tensor"):
        tn.ones(3).masked_fill(tn.tensor([True, False, True]), tn.tensor([5.0]))
    wide = tn.tensor([1.0, 2.0]).masked_fill(tn.tensor([[True, False], [False, True]]), 0.0)
    assert wide.tolist() == [[0.0, 2.0], [1.0, 0.0]]                       # self broadcast to the mask


def test_setitem_passes_the_gradient_to_the_value_and_around_it():
    x = tn.tensor([1.0, 2.0, 3.0], dtype=tn.float64, requires_grad=True)
    v = tn.tensor(5.0, dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    y[1:] = v                                                             # v broadcast into two places
    (y * tn.tensor([2.0, 3.0, 4.0], dtype=tn.float64)).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0] and v.grad.item() == 7.0     # 3 + 4
    assert tn.gradcheck(lambda a, b: _put(a, b), (tn.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tn.float64, requires_grad=True),
                                                   tn.tensor([0.5, -1.0], dtype=tn.float64, requires_grad=True)))
    assert tn.gradgradcheck(_put, (tn.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tn.float64, requires_grad=True),
                                   tn.tensor([0.5, -1.0], dtype=tn.float64, requires_grad=True)))


def _put(a, b):
    y = a * a
    y[[0, 1], [1, 0]] = b * b
    return y


# ---------------------------------------------------------------- logic
def test_bitwise_and_logical_operators():
    t, f = tn.tensor([True, False]), tn.tensor([True, True])
    assert (t & f).tolist() == [True, False] and (t | f).tolist() == [True, True]
    assert (t ^ f).tolist() == [False, True] and (~t).tolist() == [False, True]
    assert (tn.tensor([6, 3]) & 5).tolist() == [4, 1] and (~tn.tensor([0, 5])).tolist() == [-1, -6]
    with pytest.raises(TypeError, match="bitwise operators need integer or bool"):
        tn.ones(2) & tn.ones(2)
    assert tn.logical_and(tn.tensor([2.0, 0.0]), tn.tensor([1, 1])).tolist() == [True, False]
    assert tn.tensor([0.0, 2.0]).logical_not().tolist() == [True, False]


def test_comparison_methods_tests_and_predicates():
    x = tn.tensor([1.0, math.nan, math.inf])
    assert x.isnan().tolist() == [False, True, False] and x.isinf().tolist() == [False, False, True]
    assert x.isfinite().tolist() == [True, False, False] and tn.tensor([1, 2]).isfinite().tolist() == [True, True]
    assert tn.ones(2).eq(1).tolist() == [True, True] and tn.ones(2).lt(1).tolist() == [False, False]
    assert tn.equal(tn.ones(2), tn.ones(2)) is True and tn.equal(tn.ones(2), tn.ones(3)) is False
    assert tn.allclose(tn.tensor([1.0]), tn.tensor([1.0 + 1e-9])) is True
    assert 2.0 in tn.tensor([1.0, 2.0]) and 5.0 not in tn.tensor([1.0, 2.0])
    assert tn.tensor([0, 3, 0, 4]).nonzero().tolist() == [[1], [3]]
    assert [i.tolist() for i in tn.where(tn.tensor([[False, True]]))] == [[0], [1]]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(tn.tensor(1.0))


# ---------------------------------------------------------------- matrix products and softmax
def test_mm_and_bmm_refuse_what_matmul_would_broadcast():
    with pytest.raises(RuntimeError, match="mm: expects two 2-d tensors"):
        tn.ones(2, 2, 2).mm(tn.ones(2, 2))
    with pytest.raises(RuntimeError, match="bmm: expects two 3-d tensors with the same batch size"):
        tn.ones(1, 2, 2).bmm(tn.ones(3, 2, 2))
    assert tn.ones(2, 3).mm(tn.ones(3, 1)).tolist() == [[3.0], [3.0]]


def test_softmax_needs_floats_and_takes_dtype():
    with pytest.raises(TypeError, match="softmax: needs a floating-point tensor"):
        tn.tensor([1, 2]).softmax(0)
    out = tn.tensor([0.0, 0.0]).softmax(0, dtype=tn.float64)
    assert out.dtype == F64 and out.tolist() == [0.5, 0.5]


# ---------------------------------------------------------------- in place
def test_more_in_place_ops_write_through_views():
    x = tn.tensor([1.0, 2.0, 3.0])
    head = x[:2]
    head **= 2
    assert x.tolist() == [1.0, 4.0, 3.0]
    x.neg_().abs_()
    assert x.tolist() == [1.0, 4.0, 3.0]
    y = tn.tensor([7.0, -7.0])
    y //= 2
    assert y.tolist() == [3.0, -4.0]
    z = tn.zeros(1000).uniform_(**{"from": 2.0, "to": 3.0})
    assert 2.0 <= z.min().item() and z.max().item() < 3.0


def test_repr_leaves_the_default_dtypes_implicit():
    assert repr(tn.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype" not in repr(tn.tensor([True])) and "dtype" not in repr(tn.ones(2))
    assert "dtype=tinynn.int32" in repr(tn.tensor([1], dtype=tn.int32))


# ---------------------------------------------------------------- autograd and in-place ops
def test_ops_recorded_before_an_in_place_change_still_reach_the_old_node():
    # z = exp(y) saved only its output, so changing y afterwards must not change dz/dx = e^x;
    # y's later consumers see the new y: y[0] = 1 then y *= 3, so d sum(y^2)/dx = 18 x on row 2
    x = tn.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    z = y.exp()
    y[0] = 1.0
    y.mul_(3.0)
    (z.sum() + (y * y).sum()).backward()
    e = np.exp([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(x.grad.numpy(), e + np.array([[0.0, 0.0], [36.0, 54.0]]), rtol=1e-12)


def test_relu_saves_its_output_so_its_input_may_change_in_place():
    # PyTorch's relu backward reads the result (y > 0), so h += relu(h) is allowed:
    # d sum(h + relu(h)) / dx = 2 (1 + [x > 0]) for h = 2 x
    x = tn.tensor([-1.0, 2.0], dtype=tn.float64, requires_grad=True)
    h = x * 2.0
    r = h.relu()
    h += r
    h.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="modified by an inplace operation: ReLU"):
        _relu_output_changed()


def _relu_output_changed():
    x = tn.tensor([1.0], requires_grad=True)
    y = x.relu()
    z = y * 2.0   # saves only the constant 2 (the factor y's gradient needs), as PyTorch's mul
    y.add_(1.0)   # relu's own saved output changed
    (y.sum() + z.sum()).backward()


def test_mul_saves_only_the_factors_a_gradient_needs():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    z = h * 3.0          # dz/dh = 3: h itself is not needed
    h.add_(5.0)
    (z.sum() + h.sum()).backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_comparing_with_none_and_detach_in_place():
    x = tn.ones(2)
    assert (x == None) is False and (x != None) is True  # noqa: E711 - the comparison under test
    y = tn.ones(2, requires_grad=True) * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad


def test_new_creation_methods_take_the_tensors_dtype():
    x = tn.tensor([1, 2])
    assert x.new_zeros(2, 3).dtype == I64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_full((2,), 3.5).tolist() == [3, 3]                      # cast to int64, as PyTorch
    assert x.new_tensor([1.5]).tolist() == [1] and x.new_ones(2, dtype=tn.float64).dtype == F64
    assert tn.ones(1).new_empty(0).shape == (0,)


def test_an_integer_tensor_never_comes_to_require_grad_by_assignment():
    x = tn.tensor([1, 2])
    x[0] = tn.tensor(5.0, requires_grad=True)
    assert x.tolist() == [5, 2] and not x.requires_grad


def test_inf_and_nan_results_are_silent_as_in_pytorch_and_numpy_warnings_elsewhere_are_kept():
    """PyTorch computes 0/0, sqrt(-1), inf - inf and float32(1e308) without a warning; NumPy warns.
    Under `python -W error` tinynn's ops stay silent on both backends, and the user's own NumPy still warns."""
    import pathlib
    import subprocess
    import sys
    code = "\n".join([
        "import numpy as np, tinynn as tn",
        "for name in ('numpy', 'cython'):",
        "    with tn.use_backend(name):",
        "        x = tn.tensor([0.0, -1.0, float('inf'), float('-inf'), float('nan'), 1e308])",
        "        r = [x / 0, x.sqrt(), x.log(), x.log2(), x.log1p(), x.sin(), x.acos(), x * 0, x - x,",
        "             x.reciprocal(), x.rsqrt(), x.sum(), x.mean(), x.var(), x.std(), x.nansum(), x.frac(),",
        "             x % 0, x.float(), tn.tensor([1e308], dtype=tn.float32), x.long(), x.outer(x), x @ x]",
        "print('ok')",
        "try:",
        "    np.array([0.0]) / 0",
        "except RuntimeWarning:",
        "    print('user warning kept')",
    ])
    installed = pathlib.Path(tn.__file__).parent.parent  # (not the checkout: under `pip install .` it has no kernels)
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, cwd=installed)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["ok", "user warning kept"] and out.stderr == ""


def test_max_min_and_argmax_over_a_nonempty_dim_of_an_empty_tensor_give_the_empty_result():
    """PyTorch: (0, 1).amax(-1) has shape (0,); only an empty reduced extent is an error."""
    x = tn.zeros(0, 1)
    assert x.amax(-1).shape == (0,) and x.amin(-1).shape == (0,) and x.argmax(-1).shape == (0,)
    assert x.max(-1).values.shape == (0,) and x.max(-1).indices.dtype == tn.int64
    with pytest.raises(ValueError, match=r"Max: cannot reduce an empty tensor of shape \(2, 0\) along dim 1"):
        tn.zeros(2, 0).amax(-1)
    with pytest.raises(ValueError, match=r"argmax: cannot reduce an empty tensor of shape \(0, 3\)"):
        tn.zeros(0, 3).argmax()


def test_erf_of_a_0d_tensor_is_a_0d_tensor():
    """erf(0.5) = 0.5204998778... (math.erf per element gave a Python float for a 0-d input)."""
    for name in ("numpy", "cython"):
        with tn.use_backend(name):
            y = tn.tensor(0.5, dtype=tn.float64).erf()
            assert y.shape == () and abs(y.item() - 0.5204998778130465) < 1e-15


@pytest.mark.parametrize("name", ["numpy", "cython"])
def test_second_derivatives_through_a_vector_dot_product(name):
    """d^2/dx^2 of x (u . x): the dot product's 0-d result is an array the graph keeps on both backends."""
    with tn.use_backend(name):
        u = tn.randn(3, dtype=tn.float64)
        x = tn.randn(3, dtype=tn.float64, requires_grad=True)
        assert isinstance((u @ x)._data, np.ndarray)
        assert tn.gradgradcheck(lambda x: x * (u @ x), (x,))


@pytest.mark.parametrize("name", ["numpy", "cython"])
def test_second_derivatives_through_0d_intermediates(name):
    """d/ds of d/dx sum(x s^2) = 2 s sum(1) = 2 at s = 0.5, x of length 2: the 0-d product s s (a NumPy
    scalar inside) stays in the gradient's graph."""
    with tn.use_backend(name):
        x = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
        s = tn.tensor(0.5, dtype=tn.float64, requires_grad=True)
        (gx,) = tn.autograd.grad((x * (s * s)).sum(), [x], create_graph=True)
        (gs,) = tn.autograd.grad(gx.sum(), [s])
        assert gs.item() == 2.0
        assert tn.gradgradcheck(lambda x, s: x * (s * s), (x, s))
        assert tn.gradgradcheck(lambda x, a: x / a.sum() ** 2, (x, s))


def test_an_integer_index_is_a_0d_view_and_in_place_on_a_recorded_view_is_refused():
    """PyTorch: x[0, 0] shares x's memory. An in-place change of a view of a recorded tensor rewrites
    the base's history in PyTorch; tinynn refuses it by name rather than give the base a wrong gradient."""
    x = tn.zeros(2, 2)
    x[0, 0].add_(1.0)
    assert x.tolist() == [[1.0, 0.0], [0.0, 0.0]]
    w = tn.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = w * 1
    with pytest.raises(RuntimeError, match="mul_: tinynn cannot change in place a view of a tensor that autograd"):
        a[1:3].mul_(2)
    with pytest.raises(RuntimeError, match="add_: tinynn cannot change in place a view"):
        a.view(2, 2).add_(1)
    b = w * 1
    b[1:3] = b[1:3] * 2            # writing through the base is recorded: d/dw = [1, 2, 2, 1]
    b.sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 2.0, 1.0]


def test_max_shares_its_gradient_as_g_over_k_rounded_once():
    """PyTorch: each of k tied maxima gets g / k; (1 / k) g rounds twice (-0.6000000000000001 for -3 / 5)."""
    x = tn.full((5,), -3.0, dtype=tn.float64, requires_grad=True)
    x.max().backward(tn.tensor(-3.0, dtype=tn.float64))
    assert x.grad.tolist() == [-3.0 / 5] * 5
