"""F.unfold / F.fold (nn.Unfold / nn.Fold; the backend's im2col and col2im) and F.conv_transpose1d
(nn.ConvTranspose1d): forwards against hand-worked examples and loops over their defining sums, the
adjoint identities <unfold(x), y> = <x, fold(y)> and <conv1d(x, W), y> = <x, conv_transpose1d(y, W)>,
a convolution as unfold then a matrix product, PyTorch's shapes, reprs and errors; gradients and
gradients of gradients against central differences in float64 on both backends."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_more_layers import check_gradients, transposed_by_loops

few = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def unfold_by_loops(x, k, d, p, s):
    """The defining sum: column i Wo + j, row c kh kw + u kw + v holds x_pad[n, c, s_h i + d_h u, s_w j + d_w v]."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    ho = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    wo = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], ho * wo))
    for ch, u, v, i, j in np.ndindex(c, k[0], k[1], ho, wo):
        out[:, ch * k[0] * k[1] + u * k[1] + v, i * wo + j] = xp[:, ch, s[0] * i + d[0] * u, s[1] * j + d[1] * v]
    return out


@st.composite
def geometries(draw):
    """(N, C, (H, W), kernel, dilation, padding, stride) with at least one block along each axis."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    reach = [di * (ki - 1) + 1 for di, ki in zip(d, k)]
    hw = tuple(draw(st.integers(max(1, r - 2 * pi), r + 3)) for r, pi in zip(reach, p))
    return draw(st.integers(1, 2)), draw(st.integers(1, 2)), hw, k, d, p, s


def test_unfold_and_fold_by_hand():
    x = tn.arange(16.0).reshape(1, 1, 4, 4)
    expected = [[0, 2, 8, 10], [1, 3, 9, 11], [4, 6, 12, 14], [5, 7, 13, 15]]  # 2x2 blocks, stride 2
    np.testing.assert_array_equal(F.unfold(x, 2, stride=2).numpy(), [expected])
    # fold of ones counts the blocks covering each pixel: 2x2 blocks at stride 1 over a 3x3 image
    np.testing.assert_array_equal(F.fold(tn.ones(1, 4, 4), (3, 3), 2).numpy(),
                                  [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])
    # padding 1 with a 1x1 kernel: the corners of the padded 4x4 are zeros, unfold keeps them
    y = F.unfold(tn.ones(1, 1, 2, 2), 1, padding=1)
    np.testing.assert_array_equal(y.numpy().reshape(4, 4), np.pad(np.ones((2, 2)), 1))


@few
@given(geometries(), st.integers(0, 2**32 - 1))
def test_unfold_is_its_defining_sum_and_fold_its_adjoint(backend_name, g, seed):
    n, c, hw, k, d, p, s = g
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *hw))
    cols = F.unfold(tn.tensor(x), k, d, p, s)
    np.testing.assert_array_equal(cols.numpy(), unfold_by_loops(x, k, d, p, s))
    y = rng.standard_normal(cols.shape)
    back = F.fold(tn.tensor(y), hw, k, d, p, s)
    assert back.shape == x.shape and back.dtype == tn.float64
    np.testing.assert_allclose(np.vdot(cols.numpy(), y), np.vdot(x, back.numpy()), rtol=1e-12, atol=1e-12)
    # fold(unfold(x)) = x times the number of blocks covering each pixel
    cover = F.fold(F.unfold(tn.ones(1, 1, *hw), k, d, p, s), hw, k, d, p, s).numpy()
    np.testing.assert_allclose(F.fold(cols, hw, k, d, p, s).numpy(), x * cover, rtol=1e-12)


def test_a_convolution_is_unfold_then_a_matrix_product(backend_name):
    rng = np.random.default_rng(1)
    x, w = tn.tensor(rng.standard_normal((2, 3, 6, 5))), tn.tensor(rng.standard_normal((4, 3, 3, 2)))
    y = F.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2))
    cols = F.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    np.testing.assert_allclose((w.reshape(4, -1) @ cols).reshape(y.shape).numpy(), y.numpy(), atol=1e-12)


def test_unbatched_empty_batch_float32_and_special_values():
    x = tn.randn(2, 4, 3)
    np.testing.assert_array_equal(F.unfold(x, 2).numpy(), F.unfold(x.unsqueeze(0), 2)[0].numpy())
    cols = tn.randn(8, 6)
    np.testing.assert_array_equal(F.fold(cols, (4, 3), 2).numpy(), F.fold(cols.unsqueeze(0), (4, 3), 2)[0].numpy())
    assert F.unfold(tn.zeros(0, 2, 3, 3), 2).shape == (0, 8, 4)
    assert F.fold(tn.zeros(0, 8, 4), 3, 2).shape == (0, 2, 3, 3)
    assert F.unfold(tn.randn(1, 1, 3, 3), 2).dtype == tn.float32
    # a copy, not a product: inf and nan stay where they are
    y = F.unfold(tn.tensor([[[[np.inf, 1.0], [np.nan, 2.0]]]]), 1).numpy()
    assert np.isinf(y[0, 0, 0]) and np.isnan(y[0, 0, 2]) and y[0, 0, 1] == 1 and y[0, 0, 3] == 2


def test_modules_reprs_and_defaults():
    u, f = nn.Unfold(3, padding=1), nn.Fold((4, 5), 2)
    assert repr(u) == "Unfold(kernel_size=3, dilation=1, padding=1, stride=1)"
    assert repr(f) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"
    x = tn.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(u(x).numpy(), F.unfold(x, 3, 1, 1, 1).numpy())
    assert f(tn.randn(2, 12, 12)).shape == (2, 3, 4, 5)
    assert list(u.parameters()) == [] and u.state_dict() == {}


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.unfold(tn.ones(2, 3, 4), 2, stride=0), RuntimeError, "unfold: stride should be greater than zero"),
    (lambda: F.unfold(tn.ones(2, 3, 4), 0), RuntimeError, "unfold: kernel size should be greater than zero"),
    (lambda: F.unfold(tn.ones(2, 3, 4), 2, padding=-1), RuntimeError, "unfold: padding should be non-negative"),
    (lambda: F.unfold(tn.ones(2, 3, 4), 2, dilation=0), RuntimeError, "unfold: dilation should be greater"),
    (lambda: F.unfold(tn.ones(2, 3, 4), (2, 2, 2)), RuntimeError, "kernel_size equals to 2, but got size 3"),
    (lambda: F.unfold(tn.ones(2, 3, 4), 2.0), TypeError, "kernel_size must be an int"),
    (lambda: F.unfold(tn.ones(4, 4), 2), RuntimeError, r"3-D \(C, H, W\) or 4-D .* got shape \(4, 4\)"),
    (lambda: F.unfold(tn.ones(2, 0, 4, 4), 2), RuntimeError, r"got shape \(2, 0, 4, 4\)"),
    (lambda: F.unfold(tn.ones(1, 1, 4, 4), 5), RuntimeError, r"sliding blocks would be \(0, 0\)"),
    (lambda: F.unfold(tn.ones(1, 1, 4, 4, dtype=tn.int64), 2), TypeError, "unfold: expected a floating-point"),
    (lambda: F.fold(tn.ones(12), (4, 4), 2), RuntimeError, r"fold: expected a 2-D .* got shape \(12,\)"),
    (lambda: F.fold(tn.ones(2, 13, 9), (4, 4), 2), RuntimeError, "divisible by the product of kernel_size"),
    (lambda: F.fold(tn.ones(2, 12, 8), (4, 4), 2), RuntimeError, r"sliding blocks 3 \* 3 = 9, but got 8"),
    (lambda: F.fold(tn.ones(2, 12, 1), (1, 1), 2), RuntimeError, r"sliding blocks 0 \* 0 = 0, but got 1"),
    (lambda: F.fold(tn.ones(2, 12, 9), (4, 4, 4), 2), RuntimeError, "output_size equals to 2, but got size 3"),
])
def test_errors_name_the_op(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("args", [((2, 2), 1, 0, 1), ((2, 3), (2, 1), 1, (2, 1)), (1, 1, (1, 0), 2)])
def test_unfold_and_fold_gradients(backend_name, args):
    rng = np.random.default_rng(2)
    x = tn.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    check_gradients(lambda x: F.unfold(x, *args) ** 2, x)  # squared: the second derivative is not zero
    cols = tn.tensor(rng.standard_normal(F.unfold(x, *args).shape), requires_grad=True)
    check_gradients(lambda c: F.fold(c, (4, 5), *args) ** 2, cols)


# ---------------------------------------------------------------- conv_transpose1d
CONFIGS_1D = [  # (N, C_in, C_out, L, k, stride, padding, output_padding, groups, dilation)
    (2, 3, 4, 5, 3, 1, 0, 0, 1, 1),
    (1, 4, 6, 4, 3, 2, 1, 1, 2, 1),
    (2, 2, 2, 3, 2, 1, 1, 1, 1, 2),   # output_padding >= stride (< dilation)
    (1, 3, 3, 5, 1, 3, 1, 2, 3, 1),   # output_padding > padding: zeros after
]


@pytest.mark.parametrize("config", CONFIGS_1D)
def test_conv_transpose1d_is_the_defining_sum_and_conv1d_adjoint(config, backend_name):
    n, cin, cout, length, k, s, p, op, g, d = config
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((n, cin, length)), rng.standard_normal((cin, cout // g, k)), rng.standard_normal(cout)
    y = F.conv_transpose1d(tn.tensor(x), tn.tensor(w), tn.tensor(b), s, p, op, g, d)
    assert y.shape == (n, cout, (length - 1) * s - 2 * p + d * (k - 1) + op + 1)
    loops = transposed_by_loops(x[:, :, None], w[:, :, None], b, (1, s), (0, p), (0, op), g, (1, d))[:, :, 0]
    np.testing.assert_allclose(y.numpy(), loops, atol=1e-12)
    if op < s:  # <conv1d(z, W), x> = <z, conv_transpose1d(x, W)> (then conv1d's output is L long; W's roles swap)
        yt = F.conv_transpose1d(tn.tensor(x), tn.tensor(w), None, s, p, op, g, d).numpy()
        z = rng.standard_normal(yt.shape)
        conv = F.conv1d(tn.tensor(z), tn.tensor(w), None, s, p, d, g).numpy()
        np.testing.assert_allclose(np.vdot(conv, x), np.vdot(z, yt), rtol=1e-12)
    unbatched = F.conv_transpose1d(tn.tensor(x[0]), tn.tensor(w), tn.tensor(b), s, p, op, g, d)
    np.testing.assert_allclose(unbatched.numpy(), y.numpy()[0], atol=1e-12)


def test_conv_transpose1d_layer(backend_name):
    m = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    assert repr(m) == ("ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), "
                       "output_padding=(1,), groups=2)")
    assert repr(nn.ConvTranspose1d(2, 3, 3, bias=False)) == \
        "ConvTranspose1d(2, 3, kernel_size=(3,), stride=(1,), bias=False)"
    assert m.weight.shape == (4, 3, 3) and m.bias.shape == (6,) and list(m.state_dict()) == ["weight", "bias"]
    bound = 1 / np.sqrt(3 * 3)  # fan_in = C_out/groups * k
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    x = tn.randn(2, 4, 5)
    assert m(x).shape == (2, 6, 12) and m(x[0]).shape == (6, 12)
    assert m(x, output_size=[11]).shape == (2, 6, 11) and m(x, output_size=[2, 6, 12]).shape == (2, 6, 12)
    with pytest.raises(ValueError, match=r"valid sizes range from \[11\] to \[12\]"):
        m(x, output_size=[10])
    with pytest.raises(ValueError, match="ConvTranspose1D: for 2D input, output_size must have 1 or 2 elements"):
        m(x[0], output_size=[2, 6, 10])
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose1d'):
        nn.ConvTranspose1d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="conv_transpose1d: output_padding 2 must be smaller than either stride 2"):
        F.conv_transpose1d(x, tn.ones(4, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose1d: expected input \(N, C_in, L\)"):
        F.conv_transpose1d(x.unsqueeze(3), tn.ones(4, 3, 3))
    assert tn.conv_transpose1d is F.conv_transpose1d


def test_conv_transpose1d_gradients(backend_name):
    rng = np.random.default_rng(4)
    x, w, b = (tn.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 4, 3), (4, 1, 2), (2,)))
    check_gradients(lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1, 2, 1).tanh(), x, w, b)
