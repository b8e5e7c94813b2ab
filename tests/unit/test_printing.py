"""Printing tensors (tinynn/printing.py): `repr`, `str` and `print` give what PyTorch prints.

Every expected string below is PyTorch's documented output for the same values, dtype and flags
(its rules: one format per tensor, chosen from the nonzero finite values -- scientific notation
when max/min > 1000, max > 1e8 or min < 1e-4, "1." style when all are whole, else `precision`
decimals -- right-aligned to the widest; rows wrapped at `linewidth`; more than `threshold`
elements summarised to `edgeitems` at each end; suffixes for non-default dtypes, requires_grad
and grad_fn), written out literally and checked once against PyTorch 2.13 by hand. tinynn spells
a dtype `tinynn.float64` where PyTorch writes `torch.float64`.
"""
import re
import time

import numpy as np
import pytest

import tinynn as tn
from tinynn import printing


@pytest.fixture(autouse=True)
def restore_print_options():
    saved = printing.get_printoptions()
    yield
    tn.set_printoptions(**saved)


# (name, the tensor, set_printoptions arguments, PyTorch's output)
CASES = [
    ('default_precision', lambda tn: tn.tensor([1.123456, -2.5, 0.1]), {},
     'tensor([ 1.1235, -2.5000,  0.1000])'),
    ('rounding_half', lambda tn: tn.tensor([0.12345, 2.0]), {},
     'tensor([0.1235, 2.0000])'),
    ('sci_ratio', lambda tn: tn.tensor([1e-5, 1.23456e5]), {},
     'tensor([1.0000e-05, 1.2346e+05])'),
    ('sci_large', lambda tn: tn.tensor([1.5e9, 2e9]), {},
     'tensor([1.5000e+09, 2.0000e+09])'),
    ('sci_small', lambda tn: tn.tensor([5e-5, 6e-5]), {},
     'tensor([5.0000e-05, 6.0000e-05])'),
    ('ratio_1000_not_sci', lambda tn: tn.tensor([1.5, 1500.0]), {},
     'tensor([   1.5000, 1500.0000])'),
    ('ratio_over_1000_sci', lambda tn: tn.tensor([1.0, 1001.0]), {},
     'tensor([1.0000e+00, 1.0010e+03])'),
    ('integral', lambda tn: tn.tensor([1.0, 2.0, 30.0]), {},
     'tensor([ 1.,  2., 30.])'),
    ('integral_negative', lambda tn: tn.tensor([-1.0, 20.0, -300.0]), {},
     'tensor([  -1.,   20., -300.])'),
    ('ints', lambda tn: tn.tensor([1, -20, 300]), {},
     'tensor([  1, -20, 300])'),
    ('bools', lambda tn: tn.tensor([True, False, True]), {},
     'tensor([ True, False,  True])'),
    ('negative_alignment', lambda tn: tn.tensor([[-1.5, 2.25], [3.0, -40.125]]), {},
     'tensor([[ -1.5000,   2.2500],\n'
     '        [  3.0000, -40.1250]])'),
    ('nan_inf', lambda tn: tn.tensor([float('nan'), 1.5, float('-inf'), float('inf')]), {},
     'tensor([   nan, 1.5000,   -inf,    inf])'),
    ('nan_inf_integral', lambda tn: tn.tensor([float('nan'), 1.0, float('-inf'), 100.0]), {},
     'tensor([ nan,   1., -inf, 100.])'),
    ('all_zero', lambda tn: tn.zeros(3), {},
     'tensor([0., 0., 0.])'),
    ('negative_zero', lambda tn: tn.tensor([-0.0, 1.0]), {},
     'tensor([-0., 1.])'),
    ('scalar_float', lambda tn: tn.tensor(3.5), {},
     'tensor(3.5000)'),
    ('scalar_int', lambda tn: tn.tensor(7), {},
     'tensor(7)'),
    ('scalar_negative_zero', lambda tn: tn.tensor(-0.0), {},
     'tensor(-0.)'),
    ('scalar_bool', lambda tn: tn.tensor(True), {},
     'tensor(True)'),
    ('empty', lambda tn: tn.tensor([]), {},
     'tensor([])'),
    ('empty_2d', lambda tn: tn.zeros(0, 3), {},
     'tensor([], size=(0, 3))'),
    ('empty_int', lambda tn: tn.zeros(0, dtype=tn.int64), {},
     'tensor([], dtype=tinynn.int64)'),
    ('empty_bool', lambda tn: tn.zeros(2, 0, dtype=tn.bool), {},
     'tensor([], size=(2, 0), dtype=tinynn.bool)'),
    ('nested_2d', lambda tn: tn.arange(6.0).reshape(2, 3) / 4, {},
     'tensor([[0.0000, 0.2500, 0.5000],\n'
     '        [0.7500, 1.0000, 1.2500]])'),
    ('nested_3d', lambda tn: tn.arange(12).reshape(2, 2, 3), {},
     'tensor([[[ 0,  1,  2],\n'
     '         [ 3,  4,  5]],\n'
     '\n'
     '        [[ 6,  7,  8],\n'
     '         [ 9, 10, 11]]])'),
    ('nested_4d', lambda tn: tn.arange(8.0).reshape(2, 2, 1, 2), {},
     'tensor([[[[0., 1.]],\n'
     '\n'
     '         [[2., 3.]]],\n'
     '\n'
     '\n'
     '        [[[4., 5.]],\n'
     '\n'
     '         [[6., 7.]]]])'),
    ('wrap', lambda tn: tn.arange(25.0) / 8, {},
     'tensor([0.0000, 0.1250, 0.2500, 0.3750, 0.5000, 0.6250, 0.7500, 0.8750, 1.0000,\n'
     '        1.1250, 1.2500, 1.3750, 1.5000, 1.6250, 1.7500, 1.8750, 2.0000, 2.1250,\n'
     '        2.2500, 2.3750, 2.5000, 2.6250, 2.7500, 2.8750, 3.0000])'),
    ('wrap_2d', lambda tn: tn.arange(30).reshape(2, 15) * 1000, {},
     'tensor([[    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n'
     '         10000, 11000, 12000, 13000, 14000],\n'
     '        [15000, 16000, 17000, 18000, 19000, 20000, 21000, 22000, 23000, 24000,\n'
     '         25000, 26000, 27000, 28000, 29000]])'),
    ('summarize_1d', lambda tn: tn.arange(2000), {},
     'tensor([   0,    1,    2,  ..., 1997, 1998, 1999])'),
    ('summarize_2d', lambda tn: tn.arange(1_000_000.0).reshape(1000, 1000), {},
     'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n'
     '         9.9900e+02],\n'
     '        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n'
     '         1.9990e+03],\n'
     '        [2.0000e+03, 2.0010e+03, 2.0020e+03,  ..., 2.9970e+03, 2.9980e+03,\n'
     '         2.9990e+03],\n'
     '        ...,\n'
     '        [9.9700e+05, 9.9700e+05, 9.9700e+05,  ..., 9.9800e+05, 9.9800e+05,\n'
     '         9.9800e+05],\n'
     '        [9.9800e+05, 9.9800e+05, 9.9800e+05,  ..., 9.9900e+05, 9.9900e+05,\n'
     '         9.9900e+05],\n'
     '        [9.9900e+05, 9.9900e+05, 9.9900e+05,  ..., 1.0000e+06, 1.0000e+06,\n'
     '         1.0000e+06]])'),
    ('summarize_3d', lambda tn: tn.arange(60).reshape(3, 4, 5), {'threshold': 10, 'edgeitems': 1},
     'tensor([[[ 0,  ...,  4],\n'
     '         ...,\n'
     '         [15,  ..., 19]],\n'
     '\n'
     '        ...,\n'
     '\n'
     '        [[40,  ..., 44],\n'
     '         ...,\n'
     '         [55,  ..., 59]]])'),
    ('summarize_mixed', lambda tn: (tn.arange(1001.0) - 500) / 3, {},
     'tensor([-166.6667, -166.3333, -166.0000,  ...,  166.0000,  166.3333,\n'
     '         166.6667])'),
    ('precision_2', lambda tn: tn.tensor([1.12345, 2.5]), {'precision': 2},
     'tensor([1.12, 2.50])'),
    ('precision_0', lambda tn: tn.tensor([1.6, 2.4]), {'precision': 0},
     'tensor([2, 2])'),
    ('threshold_5', lambda tn: tn.arange(10), {'threshold': 5},
     'tensor([0, 1, 2,  ..., 7, 8, 9])'),
    ('threshold_edgeitems_1', lambda tn: tn.arange(20.0).reshape(4, 5), {'threshold': 5, 'edgeitems': 1},
     'tensor([[ 0.,  ...,  4.],\n'
     '        ...,\n'
     '        [15.,  ..., 19.]])'),
    ('edgeitems_0', lambda tn: tn.arange(10), {'threshold': 5, 'edgeitems': 0},
     'tensor([...], size=(10,))'),
    ('linewidth_30', lambda tn: tn.arange(12.0) / 3, {'linewidth': 30},
     'tensor([0.0000, 0.3333,\n'
     '        0.6667, 1.0000,\n'
     '        1.3333, 1.6667,\n'
     '        2.0000, 2.3333,\n'
     '        2.6667, 3.0000,\n'
     '        3.3333, 3.6667])'),
    ('profile_short', lambda tn: tn.arange(1001.0) / 3, {'profile': 'short'},
     'tensor([0.00e+00, 3.33e-01,  ..., 3.33e+02, 3.33e+02])'),
    ('sci_mode_false', lambda tn: tn.tensor([1e-5, 1.23456e5]), {'sci_mode': False},
     'tensor([     0.0000, 123456.0000])'),
    ('sci_mode_true', lambda tn: tn.tensor([1.5, 2.0]), {'sci_mode': True},
     'tensor([1.5000e+00, 2.0000e+00])'),
    ('sci_mode_true_integral', lambda tn: tn.tensor([1.0, 200.0]), {'sci_mode': True},
     'tensor([1.0000e+00, 2.0000e+02])'),
    ('float64', lambda tn: tn.tensor([1.5, 2.0], dtype=tn.float64), {},
     'tensor([1.5000, 2.0000], dtype=tinynn.float64)'),
    ('float16', lambda tn: tn.tensor([0.1, 2.0], dtype=tn.float16), {},
     'tensor([0.1000, 2.0000], dtype=tinynn.float16)'),
    ('int32', lambda tn: tn.tensor([1, 2], dtype=tn.int32), {},
     'tensor([1, 2], dtype=tinynn.int32)'),
    ('uint8', lambda tn: tn.tensor([0, 255], dtype=tn.uint8), {},
     'tensor([  0, 255], dtype=tinynn.uint8)'),
    ('int8_scalar', lambda tn: tn.tensor(-3, dtype=tn.int8), {},
     'tensor(-3, dtype=tinynn.int8)'),
    ('requires_grad', lambda tn: tn.tensor([1.0, 2.0], requires_grad=True), {},
     'tensor([1., 2.], requires_grad=True)'),
    ('requires_grad_float64', lambda tn: tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True), {},
     'tensor([1., 2.], dtype=tinynn.float64, requires_grad=True)'),
    ('grad_fn_sum', lambda tn: (tn.tensor([1.0, 3.0], requires_grad=True) * 2).sum(), {},
     'tensor(8., grad_fn=<SumBackward0>)'),
    ('grad_fn_mm', lambda tn: tn.ones(2, 2, requires_grad=True) @ tn.ones(2, 2), {},
     'tensor([[2., 2.],\n'
     '        [2., 2.]], grad_fn=<MmBackward0>)'),
    ('suffix_new_line', lambda tn: tn.arange(9.0, dtype=tn.float64) / 3, {},
     'tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667],\n'
     '       dtype=tinynn.float64)'),
    ('suffix_new_line_grad_fn', lambda tn: tn.arange(9.0, requires_grad=True) / 3, {},
     'tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667],\n'
     '       grad_fn=<DivBackward0>)'),
]


@pytest.mark.parametrize("name, make, options, expected", CASES, ids=[case[0] for case in CASES])
def test_repr_and_str_are_pytorchs(name, make, options, expected):
    tn.set_printoptions(**options)
    t = make(tn)
    assert repr(t) == expected
    assert str(t) == expected


def test_print_writes_the_repr(capsys):
    print(tn.tensor([[1.0, -2.5]]))
    assert capsys.readouterr().out == "tensor([[ 1.0000, -2.5000]])\n"


def test_a_transposed_view_prints_its_values_in_order():
    assert repr(tn.arange(6.0).reshape(2, 3).T) == "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])"


def test_a_summarised_million_element_tensor_prints_fast():
    t = tn.randn(1000, 1000)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        text = repr(t)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.1 and text.count("...") == 7  # 6 rows of "..." plus the row of rows


def test_options_persist_and_unnamed_ones_keep_their_value_except_sci_mode():
    tn.set_printoptions(precision=2, sci_mode=False)
    tn.set_printoptions(threshold=5)
    options = printing.get_printoptions()
    assert options == {"precision": 2, "threshold": 5, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
    assert repr(tn.arange(10.0) / 3) == "tensor([0.00, 0.33, 0.67,  ..., 2.33, 2.67, 3.00])"


def test_profiles_set_their_options_and_named_arguments_override_them():
    tn.set_printoptions(profile="short")
    assert printing.get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80,
                                           "sci_mode": None}
    tn.set_printoptions(profile="full", linewidth=100)
    assert printing.get_printoptions() == {"precision": 4, "threshold": float("inf"), "edgeitems": 3,
                                           "linewidth": 100, "sci_mode": None}
    tn.set_printoptions(profile="default")
    assert printing.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                                           "sci_mode": None}


def test_profile_full_prints_every_element():
    tn.set_printoptions(threshold=5)
    assert repr(tn.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    tn.set_printoptions(profile="full")
    assert repr(tn.arange(10)) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def test_an_unknown_profile_is_a_value_error():
    with pytest.raises(ValueError, match="set_printoptions: unknown profile 'long'"):
        tn.set_printoptions(profile="long")


def test_the_dtype_suffix_follows_the_default_dtype():
    tn.set_default_dtype(tn.float64)
    try:
        assert repr(tn.tensor([1.5])) == "tensor([1.5000])"
        assert repr(tn.tensor([1.5], dtype=tn.float32)) == "tensor([1.5000], dtype=tinynn.float32)"
        assert repr(tn.zeros(0, dtype=tn.float32)) == "tensor([], dtype=tinynn.float32)"
    finally:
        tn.set_default_dtype(tn.float32)


@pytest.mark.parametrize("make, name", [
    (lambda x, v: x[0], "SelectBackward0"),
    (lambda x, v: x[:, 1:], "SliceBackward0"),
    (lambda x, v: x[[0, 1]], "IndexBackward0"),
    (lambda x, v: x[None], "UnsqueezeBackward0"),
    (lambda x, v: x.reshape(4), "ViewBackward0"),
    (lambda x, v: x.transpose(0, 1), "TransposeBackward0"),
    (lambda x, v: x.T, "PermuteBackward0"),
    (lambda x, v: x ** 2, "PowBackward0"),
    (lambda x, v: x ** x, "PowBackward1"),
    (lambda x, v: 2 ** x, "PowBackward2"),
    (lambda x, v: x.sum(), "SumBackward0"),
    (lambda x, v: x.sum(0), "SumBackward1"),
    (lambda x, v: x.mean(), "MeanBackward0"),
    (lambda x, v: x.max(), "MaxBackward1"),
    (lambda x, v: x @ x, "MmBackward0"),
    (lambda x, v: x @ v, "MvBackward0"),
    (lambda x, v: v @ v, "DotBackward0"),
    (lambda x, v: v @ x, "SqueezeBackward4"),
    (lambda x, v: x.reshape(1, 2, 2) @ x, "UnsafeViewBackward0"),
    (lambda x, v: x + v, "AddBackward0"),
    (lambda x, v: x.exp(), "ExpBackward0"),
    (lambda x, v: x.relu(), "ReluBackward0"),
    (lambda x, v: x.log1p(), "Log1PBackward0"),
    (lambda x, v: x.clamp(0, 1), "ClampBackward1"),
    (lambda x, v: tn.cat([x, x]), "CatBackward0"),
    (lambda x, v: x.to(tn.float64), "ToCopyBackward0"),
    (lambda x, v: tn.nn.functional.linear(x, x, v), "AddmmBackward0"),
    (lambda x, v: tn.nn.functional.cross_entropy(x, tn.tensor([0, 1])), "NllLossBackward0"),
])
def test_grad_fn_is_named_as_pytorch_names_the_backward(make, name):
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = tn.tensor([1.0, -1.0], requires_grad=True)
    y = make(x, v)
    assert repr(y).endswith(f"grad_fn=<{name}>)")
    assert printing.backward_name(y.grad_fn) == name


def test_grad_fn_repr_is_pytorchs_and_the_op_class_keeps_its_name():
    y = tn.tensor([1.0, 3.0], requires_grad=True).sum()
    assert re.fullmatch(r"<SumBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert type(y.grad_fn).__name__ == "Sum"


def test_a_custom_function_node_is_named_after_its_class():
    class Cube(tn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            return grad

    assert repr(Cube.apply(tn.tensor([2.0], requires_grad=True))) == "tensor([8.], grad_fn=<CubeBackward>)"


def test_unrecorded_results_have_no_grad_suffix():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with tn.no_grad():
        assert repr(x * 2) == "tensor([2., 4.])"
    assert repr(x.detach()) == "tensor([1., 2.])"


def test_a_parameter_prints_as_pytorchs():
    assert repr(tn.nn.Parameter(tn.tensor([1.0, 2.0]))) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_printing_leaves_numpy_print_options_alone():
    before = np.get_printoptions()
    tn.set_printoptions(precision=2, threshold=3, linewidth=20, sci_mode=True)
    repr(tn.arange(100.0))
    assert np.get_printoptions() == before
