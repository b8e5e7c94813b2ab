"""LocalResponseNorm against its formula (a loop over the zero-padded channel window, the closed form of
size 1, a hand-worked example), and the 3-d and circular padding layers (ZeroPad3d, ConstantPad3d,
ReflectionPad3d, ReplicationPad3d, CircularPad1d/2d/3d) against hand-written outputs and NumPy's np.pad
("reflect", "edge", "wrap", "constant"); their reprs, PyTorch's input-dimension errors, and float64
gradcheck and gradgradcheck on both backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F

rng = np.random.default_rng(5)


def lrn_reference(a, size, alpha, beta, k):
    """b_c = a_c (k + alpha / n sum_{c' = c - n//2}^{c + (n-1)//2} a_{c'}^2)^(-beta), a_{c'} = 0 outside [0, C)."""
    out = np.empty_like(a)
    channels = a.shape[1]
    for c in range(channels):
        window = [j for j in range(c - size // 2, c + (size - 1) // 2 + 1) if 0 <= j < channels]
        total = sum(a[:, j] ** 2 for j in window)
        out[:, c] = a[:, c] * (k + alpha / size * total) ** -beta
    return out


def test_lrn_hand_worked_example():
    # size 2, alpha 1, beta 1, k 0: b_c = a_c / ((a_{c-1}^2 + a_c^2) / 2), a_{-1} = 0
    a = np.arange(1.0, 7.0).reshape(1, 6, 1)
    b = F.local_response_norm(tn.tensor(a), 2, alpha=1.0, beta=1.0, k=0.0).numpy().ravel()
    np.testing.assert_allclose(b, [1 / 0.5, 2 / 2.5, 3 / 6.5, 4 / 12.5, 5 / 20.5, 6 / 30.5], rtol=1e-15)


def test_lrn_size_one_closed_form():
    a = rng.normal(size=(2, 3, 4))
    b = F.local_response_norm(tn.tensor(a), 1, alpha=0.5, beta=0.75, k=2.0).numpy()
    np.testing.assert_allclose(b, a * (2.0 + 0.5 * a * a) ** -0.75, rtol=1e-14)


@pytest.mark.parametrize("shape", [(2, 5, 3), (1, 4, 2, 3), (2, 3, 2, 1, 2)])
@pytest.mark.parametrize("size", [2, 3, 4, 7])
def test_lrn_matches_the_formula(shape, size):
    a = rng.normal(size=shape)
    got = nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5)(tn.tensor(a))
    np.testing.assert_allclose(got.numpy(), lrn_reference(a, size, 0.3, 0.6, 1.5), rtol=1e-13)
    default = F.local_response_norm(tn.tensor(a.astype(np.float32)), size)
    assert default.dtype == np.float32
    np.testing.assert_allclose(default.numpy(), lrn_reference(a, size, 1e-4, 0.75, 1.0), rtol=1e-6)


def test_lrn_gradients_of_first_and_second_order(backend_name):
    x = tn.tensor(rng.normal(size=(2, 4, 3)), requires_grad=True)
    fn = lambda a: F.local_response_norm(a, 3, alpha=0.5, beta=0.75, k=1.0)  # noqa: E731
    assert tn.gradcheck(fn, x) and tn.gradgradcheck(fn, x)


def test_lrn_module_and_errors():
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    assert list(nn.LocalResponseNorm(2).state_dict()) == []
    empty = tn.zeros(0, 3, 2)
    assert F.local_response_norm(empty, 2) is empty
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(tn.ones(2, 3), 2)
    with pytest.raises(ValueError, match="size must be a positive int"):
        F.local_response_norm(tn.ones(1, 3, 2), 0)


def test_circular_padding_by_hand():
    x = tn.tensor([[[0.0, 1.0, 2.0]]])
    # y[i] = x[(i - left) mod W]: left 2, right 1
    np.testing.assert_array_equal(nn.CircularPad1d((2, 1))(x).numpy(), [[[1, 2, 0, 1, 2, 0]]])
    image = tn.tensor(np.arange(6.0).reshape(1, 2, 3))  # rows (0 1 2), (3 4 5)
    np.testing.assert_array_equal(nn.CircularPad2d((1, 0, 0, 1))(image).numpy(),
                                  [[[2, 0, 1, 2], [5, 3, 4, 5], [2, 0, 1, 2]]])


LAYERS = [  # (class, constructor arguments, np.pad mode and keywords, input shapes)
    (nn.CircularPad1d, ((1, 3),), ("wrap", {}), [(2, 4), (1, 2, 4)]),
    (nn.CircularPad2d, (2,), ("wrap", {}), [(2, 3, 4), (1, 2, 3, 4)]),
    (nn.CircularPad3d, ((1, 0, 2, 1, 0, 2),), ("wrap", {}), [(2, 2, 3, 4), (1, 2, 2, 3, 4)]),
    (nn.ReflectionPad3d, ((1, 2, 0, 1, 1, 0),), ("reflect", {}), [(2, 2, 3, 4), (1, 2, 2, 3, 4)]),
    (nn.ReplicationPad3d, (2,), ("edge", {}), [(2, 2, 3, 4), (1, 2, 2, 3, 4)]),
    (nn.ZeroPad3d, ((1, 2, 0, 1, 1, 0),), ("constant", {}), [(3, 4, 5), (1, 2, 2, 3, 4)]),
    (nn.ConstantPad3d, ((1, 2, 0, 1, 1, 0), 3.5), ("constant", {"constant_values": 3.5}), [(3, 4, 5), (2, 2, 3, 4)]),
]


@pytest.mark.parametrize("layer, args, mode, shapes", LAYERS, ids=[row[0].__name__ for row in LAYERS])
def test_padding_layers_match_numpy_pad(layer, args, mode, shapes):
    module = layer(*args)
    padding = module.padding
    for shape in shapes:
        x = rng.normal(size=shape)
        width = [(0, 0)] * x.ndim
        for i in range(len(padding) // 2):
            width[x.ndim - 1 - i] = (padding[2 * i], padding[2 * i + 1])
        np.testing.assert_array_equal(module(tn.tensor(x)).numpy(), np.pad(x, width, mode[0], **mode[1]))


@pytest.mark.parametrize("layer", [nn.CircularPad2d, nn.ReflectionPad3d, nn.ReplicationPad3d, nn.CircularPad3d])
def test_padding_gradients_of_first_and_second_order(layer, backend_name):
    sides = 2 if layer is nn.CircularPad2d else 3
    x = tn.tensor(rng.normal(size=(1, 1) + (2,) * sides), requires_grad=True)
    fn = lambda a: layer((1, 0, 0, 1, 1, 1)[:2 * sides])(a) ** 2  # noqa: E731
    assert tn.gradcheck(fn, x) and tn.gradgradcheck(fn, x)


def test_padding_reprs_and_errors():
    assert repr(nn.CircularPad1d(1)) == "CircularPad1d((1, 1))"
    assert repr(nn.CircularPad3d(1)) == "CircularPad3d((1, 1, 1, 1, 1, 1))"
    assert repr(nn.ZeroPad3d(1)) == "ZeroPad3d((1, 1, 1, 1, 1, 1))"
    assert repr(nn.ConstantPad3d(1, 2.5)) == "ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=2.5)"
    assert repr(nn.ReflectionPad3d((1, 0, 0, 1, 2, 2))) == "ReflectionPad3d((1, 0, 0, 1, 2, 2))"
    with pytest.raises(ValueError, match="CircularPad1d: expected a 2-D or 3-D input"):
        nn.CircularPad1d(1)(tn.ones(5))
    with pytest.raises(ValueError, match="ReplicationPad3d: expected a 4-D or 5-D input"):
        nn.ReplicationPad3d(1)(tn.ones(3, 4, 5))
    with pytest.raises(ValueError, match="must be smaller than the padded axis"):
        nn.CircularPad1d(4)(tn.ones(1, 3))   # wrapping around more than once
    with pytest.raises(ValueError, match="tuple of 6 ints"):
        nn.ConstantPad3d((1, 1), 0.0)
