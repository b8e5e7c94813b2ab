"""dtypes, the default dtype, PyTorch's type promotion, conversions and creation functions.

The promotion table is written out from PyTorch's documented rules (torch.result_type: categories
bool < integer < floating; a zero-dimensional tensor or a Python number takes part only when its
category is higher than the dimensioned operands'; a Python float counts as the default dtype).
"""
import numpy as np
import pytest

import tinynn as tn

F16, F32, F64, I8, I32, I64, U8, B = (np.dtype(t) for t in ("float16", "float32", "float64", "int8",
                                                              "int32", "int64", "uint8", "bool"))


def dim(dtype):
    return tn.tensor(np.ones(2, dtype=dtype))


def zero_dim(dtype):
    return tn.tensor(np.ones((), dtype=dtype))


# (left, right, the dtype PyTorch gives left + right)
PROMOTION_TABLE = [
    (dim(F32), dim(F32), F32),
    (dim(F32), dim(F64), F64),
    (dim(F16), dim(F32), F32),
    (dim(I64), dim(F32), F32),        # an int tensor with a float tensor takes the float's dtype
    (dim(I64), dim(F16), F16),
    (dim(I32), dim(I64), I64),
    (dim(U8), dim(I8), np.dtype("int16")),
    (dim(B), dim(I64), I64),
    (dim(B), dim(F32), F32),
    (dim(B), dim(B), B),
    (dim(F32), 2.0, F32),             # a Python float does not upcast a float tensor
    (dim(F16), 2.0, F16),
    (dim(F32), 2, F32),
    (dim(I32), 2, I32),               # nor a Python int an int tensor
    (dim(U8), 1, U8),
    (dim(I64), 0.5, F32),             # int tensor + Python float: the default dtype
    (dim(I32), 1.0, F32),
    (dim(B), 1, I64),
    (dim(B), 1.5, F32),
    (dim(B), True, B),
    (dim(U8), zero_dim(I64), U8),     # torch.result_type(uint8 tensor, torch.tensor(1)) is uint8
    (dim(I32), zero_dim(I64), I32),
    (dim(F32), zero_dim(F64), F32),   # a 0-d tensor of the same category does not upcast
    (dim(I32), zero_dim(F64), F64),   # ... but one of a higher category does, with its own size
    (dim(I64), zero_dim(F16), F16),
    (zero_dim(I32), zero_dim(I64), I64),
    (zero_dim(I32), 1, I32),
    (zero_dim(F64), 1.0, F64),
    (zero_dim(I64), 1.0, F32),
    (dim(I32), zero_dim(F64), F64),
]


@pytest.mark.parametrize("left, right, expected", PROMOTION_TABLE)
def test_result_type_follows_pytorchs_table(left, right, expected):
    assert tn.result_type(left, right) == expected
    assert tn.result_type(right, left) == expected
    assert (left + right).dtype == expected and (right + left).dtype == expected
    assert (left * right).dtype == expected
    if B not in (np.asarray(left).dtype, np.asarray(right).dtype):  # `-` with any bool operand is an error in PyTorch
        assert (left - right).dtype == expected


def test_the_issue_examples():
    assert (tn.tensor([1, 2, 3]) / 2).dtype == F32
    np.testing.assert_array_equal((tn.tensor([1, 2, 3]) / 2).numpy(), [0.5, 1.0, 1.5])
    assert (tn.tensor([1, 2, 3]) + 0.5).dtype == F32
    assert tn.tensor(2).exp().dtype == F32
    np.testing.assert_allclose(tn.tensor(2).exp().item(), np.exp(2), rtol=1e-6)
    assert (tn.ones(3) * 2.0).dtype == F32 and (2.0 * tn.ones(3)).dtype == F32
    assert (tn.tensor([4, 6]) / tn.tensor([2, 4])).dtype == F32          # int / int is floating
    assert (tn.tensor([1, 2], dtype=tn.float64) / 2).dtype == F64
    for op in ("exp", "log", "sqrt", "sigmoid", "tanh"):
        assert getattr(tn.tensor([1, 2]), op)().dtype == F32, op


def test_gradient_flows_through_a_promoted_operand():
    """x (float64) * c (int64): the int operand is cast, x's gradient is c (in float64)."""
    x = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    y = (x * tn.tensor([3, 4])).sum()
    assert y.dtype == F64
    y.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 4.0])
    h = tn.tensor([1.0, 2.0], dtype=tn.float16, requires_grad=True)
    (h + tn.tensor([1.0, 1.0])).sum().backward()    # float16 + float32: float32, grad back in float16
    assert h.grad.dtype == F16


def test_python_numbers_become_pytorchs_dtypes():
    assert tn.tensor(1.5).dtype == F32 and tn.tensor([1, 2]).dtype == I64
    assert tn.tensor(True).dtype == B and tn.tensor([[True, False]]).dtype == B
    assert tn.tensor(np.ones(2, np.float64)).dtype == F64                 # ndarrays keep theirs


def test_default_dtype_is_float32_and_can_be_set():
    assert tn.get_default_dtype() == F32
    try:
        tn.set_default_dtype(tn.float64)
        assert tn.get_default_dtype() == F64
        assert tn.tensor(1.5).dtype == F64 and tn.zeros(2).dtype == F64 and tn.randn(2).dtype == F64
        assert (tn.tensor([1, 2]) / 2).dtype == F64
    finally:
        tn.set_default_dtype(tn.float32)
    assert tn.tensor(1.5).dtype == F32
    with pytest.raises(TypeError, match="set_default_dtype"):
        tn.set_default_dtype(tn.int64)


def test_dtype_aliases():
    assert (tn.float, tn.double, tn.half) == (F32, F64, F16)
    assert (tn.long, tn.int, tn.bool) == (I64, I32, B)


def test_conversions():
    x = tn.tensor([1.5, -2.5])
    assert x.double().dtype == F64 and x.half().dtype == F16 and x.float() is x
    np.testing.assert_array_equal(x.long().numpy(), [1, -2])                 # toward zero
    assert x.int().dtype == I32 and x.bool().dtype == B
    assert x.to(tn.float64).dtype == F64 and x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", tn.float64).dtype == F64 and x.to(tn.tensor([1])).dtype == I64
    assert x.type(tn.float64).dtype == F64
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")


def test_float_conversion_keeps_the_gradient():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3.0).sum().backward()
    assert x.grad.dtype == F32
    np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 3.0])


def test_a_cast_gradient_is_cast_back_under_create_graph_too():
    # y = sum((x as float64)^3): dy/dx = 3 x^2 and d2y/dx2 = 6 x, each in x's own float32
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    (g,) = tn.autograd.grad((x.double() ** 3).sum(), x, create_graph=True)
    assert g.dtype == F32 and g.requires_grad
    np.testing.assert_array_equal(np.asarray(g), [3.0, 12.0])
    g.sum().backward()
    assert x.grad.dtype == F32
    np.testing.assert_array_equal(np.asarray(x.grad), [6.0, -12.0])


def test_creation_functions_take_dtype_device_requires_grad():
    for make in (lambda **k: tn.zeros(2, 3, **k), lambda **k: tn.ones((2, 3), **k),
                 lambda **k: tn.empty(2, 3, **k), lambda **k: tn.full((2, 3), 7.0, **k),
                 lambda **k: tn.rand(2, 3, **k), lambda **k: tn.randn(2, 3, **k),
                 lambda **k: tn.eye(2, 3, **k),
                 lambda **k: tn.tensor(np.zeros((2, 3)), **k)):
        t = make(dtype=tn.float64, device="cpu", requires_grad=True)
        assert t.shape == (2, 3) and t.dtype == F64 and t.requires_grad and t.is_leaf
        with pytest.raises(RuntimeError, match="cuda"):
            make(device="cuda")


def test_creation_values():
    np.testing.assert_array_equal(tn.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(tn.full((2,), 7.0).numpy(), [7.0, 7.0])
    assert tn.full((2,), 7).dtype == I64 and tn.full((2,), 7.0).dtype == F32
    np.testing.assert_allclose(tn.linspace(-1, 1, 5).numpy(), [-1, -0.5, 0, 0.5, 1])
    assert tn.linspace(0, 1, 3, dtype=tn.float64, requires_grad=True).requires_grad
    np.testing.assert_allclose(tn.logspace(0, 3, 4).numpy(), [1, 10, 100, 1000])
    np.testing.assert_allclose(tn.logspace(0, 3, 4, base=2).numpy(), [1, 2, 4, 8])
    np.testing.assert_array_equal(tn.arange(1, 10, 3).numpy(), [1, 4, 7])
    assert tn.arange(1, 10, 3).dtype == I64 and tn.arange(0, 1, 0.25).dtype == F32
    np.testing.assert_allclose(tn.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    r = tn.randint(3, 7, (1000,))
    assert r.dtype == I64 and r.numpy().min() == 3 and r.numpy().max() == 6
    assert tn.randint(5, (4,)).shape == (4,)
    p = tn.randperm(10)
    assert p.dtype == I64 and sorted(p.tolist()) == list(range(10))
    u = tn.rand(10000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02     # U[0,1): mean 1/2
    n = tn.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_like_functions_keep_shape_and_dtype():
    x = tn.ones(2, 3, dtype=tn.float64)
    for like in (tn.zeros_like, tn.ones_like, tn.empty_like, tn.rand_like, tn.randn_like):
        assert like(x).shape == (2, 3) and like(x).dtype == F64
        assert like(x, dtype=tn.float32).dtype == F32
    assert tn.full_like(x, 5.0).numpy().sum() == 30
    assert tn.zeros_like(x).numpy().sum() == 0 and tn.ones_like(x).numpy().sum() == 6
    assert tn.randint_like(x, 10).shape == (2, 3) and tn.randint_like(x, 2, 3).numpy().min() == 2
    assert tn.ones_like(x, requires_grad=True).requires_grad


def test_from_numpy_and_as_tensor_share_memory():
    a = np.zeros(3, np.float64)
    t = tn.from_numpy(a)
    a[0] = 5.0
    assert t.dtype == F64 and t.tolist() == [5.0, 0.0, 0.0]
    s = tn.as_tensor(a)
    a[1] = 6.0
    assert s.tolist() == [5.0, 6.0, 0.0]
    assert tn.as_tensor(t) is t
    assert tn.as_tensor(a, dtype=tn.float32).dtype == F32
    assert tn.as_tensor([1, 2]).dtype == I64
    c = tn.tensor(a)                                   # tensor() copies
    a[2] = 7.0
    assert c.tolist() == [5.0, 6.0, 0.0]


def test_device():
    assert tn.ones(2).device == "cpu" and tn.ones(2).device.type == "cpu"
    assert tn.device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="cuda"):
        tn.device("cuda")
